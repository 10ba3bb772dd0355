// SPDX-License-Identifier: MIT
/*
 * nswatch.c - notice that the guest's network namespace has gone away.
 *
 * With the AF_XDP backend the host end of the veth disappears with the
 * namespace, and the link monitor sees it.  A tap gives no such sign: each
 * of its fds holds a reference to its namespace (the tun socket's), so the
 * namespace lives as long as we serve it.  What ends instead is what named
 * it: the process of --netns PID (a pidfd becomes readable when it exits),
 * or the file of --netns PATH (`ip netns del` unlinks it: an inotify watch
 * on its directory reports the deletion).  A path under /proc/PID/ is the
 * process's, and watched through its pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "nswatch.h"

/* The pid of "PID" or "/proc/PID/...", else 0. */
static long netns_pid(const char *netns)
{
	const char *p = netns;
	char *end;
	long pid;

	if (!strncmp(p, "/proc/", 6))
		p += 6;
	else if (p[0] == '/')
		return 0;
	pid = strtol(p, &end, 10);
	return end != p && (*end == '\0' || *end == '/') && pid > 0 ? pid : 0;
}

static int watch_pid(struct nswatch *w, long pid)
{
	w->fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	return w->fd < 0 ? -errno : 0;
}

static int watch_path(struct nswatch *w, const char *path)
{
	char dir[PATH_MAX], base[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	snprintf(w->name, sizeof(w->name), "%s", basename(base));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (inotify_add_watch(w->fd, dirname(dir),
			      IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF) < 0)
		return -errno;
	/* gone between our opening it and the watch? */
	return access(path, F_OK) ? -errno : 0;
}

/**
 * nswatch_open() - start watching the namespace named by @netns
 * @w: the watch; @w->fd is what to poll (readable: call nswatch_gone())
 * @netns: --netns's argument, a PID or a path
 *
 * Return: 0, or negative errno (logged; @w->fd is then -1).
 */
int nswatch_open(struct nswatch *w, const char *netns)
{
	long pid = netns_pid(netns);
	int ret;

	w->name[0] = '\0';
	ret = pid ? watch_pid(w, pid) : watch_path(w, netns);
	if (ret) {
		log_warn("cannot watch namespace %s: %s", netns, strerror(-ret));
		nswatch_close(w);
	}
	return ret;
}

/* @w->fd is readable: is the namespace gone (or just a neighbour file)? */
bool nswatch_gone(struct nswatch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool gone = false;
	ssize_t n;

	if (!w->name[0])	/* a pidfd: readable once the process exited */
		return true;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & (IN_DELETE_SELF | IN_IGNORED) ||
			    (ev->len && !strcmp(ev->name, w->name)))
				gone = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return gone;
}

void nswatch_close(struct nswatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
