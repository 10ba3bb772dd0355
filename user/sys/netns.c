// SPDX-License-Identifier: MIT
/*
 * netns.c - namespaces and the processes that live around them.
 *
 * Theory of operation:
 * - netns_open() turns --netns PID|PATH into a namespace file descriptor.
 * - netns_nl_open() opens an rtnetlink socket inside another namespace: the
 *   calling thread enters it, opens the socket (which stays bound to that
 *   namespace) and returns.  Called before any worker thread exists.
 * - child_spawn() forks COMMAND's process, which unshares a new network
 *   namespace (and, when we are not root, first a user namespace in which
 *   our ids are root) and then waits until child_release(), so that COMMAND starts
 *   only when its network works.  The child dies with us (PR_SET_PDEATHSIG):
 *   with its last process gone, the namespace and the guest's link go too.
 * - The reaper is a tiny forked process that waits for the end of a pipe
 *   whose only writer is xdpslirp, then deletes the link xdpslirp created
 *   and unlinks its files (API socket, pid file, --socket): a sandboxed
 *   xdpslirp can do neither.  It covers SIGKILL and crashes, which no exit
 *   handler does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

/**
 * netns_open() - open a network namespace given as a PID or a path
 * @spec: decimal PID (its /proc/PID/ns/net), or a path such as /run/netns/X
 *
 * Return: file descriptor, or negative errno (logged).
 */
int netns_open(const char *spec)
{
	char path[PATH_MAX];
	size_t digits = strspn(spec, "0123456789");
	int fd;

	if (digits && !spec[digits])
		snprintf(path, sizeof(path), "/proc/%s/ns/net", spec);
	else
		snprintf(path, sizeof(path), "%s", spec);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int ret = -errno;

		log_err("--netns %s: cannot open %s: %s", spec, path, strerror(errno));
		return ret;
	}
	return fd;
}

/* Moves the calling thread into @netns_fd; *self keeps its own for netns_leave(). */
static int netns_enter(int netns_fd, int *self)
{
	*self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET)) {
		int ret = -errno;

		close(*self);
		return ret;
	}
	return 0;
}

/* Back to the namespace netns_enter() left. */
static void netns_leave(int self)
{
	if (setns(self, CLONE_NEWNET)) {
		/* Stuck in the guest's namespace: nothing after this is safe. */
		log_err("cannot return to our network namespace: %s", strerror(errno));
		abort();
	}
	close(self);
}

/* Opens @nl inside the namespace @netns_fd; the caller's stays unchanged. */
int netns_nl_open(struct nl *nl, int netns_fd)
{
	int self, ret = netns_enter(netns_fd, &self);

	if (ret)
		return ret;
	ret = nl_open(nl);
	netns_leave(self);
	return ret;
}

/*
 * Writes @val to the sysctl file @path as the namespace @netns_fd sees it
 * (/proc/sys/net resolves names in the opener's namespace).
 */
int netns_sysctl_write(int netns_fd, const char *path, const char *val)
{
	int self, fd, ret = netns_enter(netns_fd, &self);

	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ret = fd < 0 ? -errno : 0;
	netns_leave(self);
	if (ret)
		return ret;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Runs in the forked child: new namespace, report, wait, exec. */
static void __attribute__((noreturn))
child_main(int report_fd, int go_fd, char *const argv[], bool userns)
{
	sigset_t none;
	int err = 0;
	char go;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
		_exit(127);
	if (unshare(CLONE_NEWNET | (userns ? CLONE_NEWUSER : 0)))
		err = errno;
	if (write(report_fd, &err, sizeof(err)) != sizeof(err) || err)
		_exit(127);
	close(report_fd);
	if (read(go_fd, &go, 1) != 1)
		_exit(127);	/* xdpslirp gave up before starting us */
	close(go_fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "xdpslirp: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * Maps our uid and gid to root in the child's new user namespace, as
 * unshare -r does: the one mapping an unprivileged process may write.
 */
static int child_map_ids(pid_t pid)
{
	char path[64], map[64];
	static const char *const files[] = { "setgroups", "uid_map", "gid_map" };

	for (int i = 0; i < 3; i++) {
		int fd, ret = 0;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		if (i == 0)
			snprintf(map, sizeof(map), "deny");
		else
			snprintf(map, sizeof(map), "0 %u 1", i == 1 ? getuid() : getgid());
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0)
			ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret)
			return ret;
	}
	return 0;
}

/* The child's namespace @type ("net", "user") as a descriptor. */
static int child_ns_open(pid_t pid, const char *type)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, type);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/**
 * child_spawn() - fork COMMAND's process into a new network namespace
 * @c: filled in on success
 * @argv: COMMAND and its arguments
 * @userns: also a new user namespace, our ids mapped to root in it (when
 *	    we are not root: the network namespace is then that one's)
 *
 * The child is held before exec until child_release().
 *
 * Return: 0, or negative errno (logged).
 */
int child_spawn(struct child *c, char *const argv[], bool userns)
{
	int report[2], go[2], err = 0;

	if (pipe2(report, O_CLOEXEC))
		return -errno;
	if (pipe2(go, O_CLOEXEC)) {
		err = -errno;
		goto out_report;
	}
	c->pid = fork();
	if (c->pid < 0) {
		err = -errno;
		close(go[1]);
		goto out_go;
	}
	if (c->pid == 0) {
		close(report[0]);
		close(go[1]);
		child_main(report[1], go[0], argv, userns);
	}
	c->go_fd = go[1];
	if (read(report[0], &err, sizeof(err)) != sizeof(err))
		err = ECHILD;
	if (err) {
		log_err("cannot create a %snetwork namespace: %s", userns ? "user and " : "",
			strerror(err));
		err = -err;
		goto out_go;
	}
	c->userns_fd = -1;
	if (userns) {
		err = child_map_ids(c->pid);
		if (err) {
			log_err("cannot map our ids into the new user namespace: %s",
				strerror(-err));
			goto out_go;
		}
		c->userns_fd = err = child_ns_open(c->pid, "user");
		if (err < 0)
			goto out_go;
	}
	c->netns_fd = err = child_ns_open(c->pid, "net");
	err = err < 0 ? err : 0;
out_go:
	close(go[0]);
out_report:
	close(report[0]);
	close(report[1]);
	return err;
}

/* Lets the held child exec COMMAND. */
int child_release(struct child *c)
{
	int ret = write(c->go_fd, "g", 1) == 1 ? 0 : -errno;

	close(c->go_fd);
	c->go_fd = -1;
	return ret;
}

/* What the reaper is told: "L<ifname>\0", "P<path>\0", then "S". */
#define REAP_LINK	'L'
#define REAP_PATH	'P'
#define REAP_SEAL	'S'
#define REAP_ROOM	32768	/* what it takes before the seal: a daemon's
				 * links, one name per guest slot */

/* Runs in the reaper at our end: deletes and unlinks what it was told. */
static void reap(const char *msgs, size_t len)
{
	struct nl nl = { 0 };
	bool nl_ok = false;

	for (const char *m = msgs; m < msgs + len; m += strlen(m) + 1) {
		if (*m == REAP_PATH) {
			unlink(m + 1);
		} else if (*m == REAP_LINK) {
			if (!nl_ok)
				nl_ok = !nl_open(&nl);
			if (nl_ok)
				nl_link_delete(&nl, m + 1);
		}
	}
	if (nl_ok)
		nl_close(&nl);
}

/*
 * Runs in the reaper: collect what to clean until the seal (what comes
 * after it, perhaps from a compromised sandboxed parent, is ignored), then
 * wait for our parent's end and clean.
 */
static void __attribute__((noreturn)) reaper_main(int fd)
{
	static char msgs[REAP_ROOM];
	size_t len = 0, done = 0;
	bool sealed = false;
	char buf[512];
	ssize_t n;

	/* Hold no other descriptor: no socket, link or pipe of the parent's. */
	if (dup2(fd, 3) < 0)
		_exit(1);
	fd = 3;
	close_range(4, ~0u, 0);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (ssize_t i = 0; i < n && !sealed; i++) {
			if (len == done && buf[i] == REAP_SEAL)
				sealed = true;
			else if (len < sizeof(msgs) - 1 && (msgs[len++] = buf[i]) == '\0')
				done = len;	/* a whole message */
		}
	}
	reap(msgs, done);
	_exit(0);
}

/**
 * reaper_start() - fork the process that cleans up when xdpslirp ends
 * @r: filled in on success
 *
 * It holds no descriptor but its pipe and keeps the signal mask it
 * inherits, so a terminal's ^C does not stop it before its parent has
 * cleaned up.  reaper_add() tells it what to clean, reaper_seal() ends that.
 *
 * Return: 0 or negative errno.
 */
int reaper_start(struct reaper *r)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	r->pid = fork();
	if (r->pid < 0) {
		int ret = -errno;

		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (r->pid == 0) {
		close(p[1]);
		reaper_main(p[0]);
	}
	close(p[0]);
	r->fd = p[1];
	return 0;
}

static int reaper_say(struct reaper *r, char kind, const char *what)
{
	char msg[PIPE_BUF];
	int len = snprintf(msg, sizeof(msg), "%c%s", kind, what);

	if (r->pid <= 0 || len < 0 || (size_t)len >= sizeof(msg))
		return -ENAMETOOLONG;
	return write(r->fd, msg, (size_t)len + 1) == len + 1 ? 0 : -errno;
}

/* At our end, whatever it is, @ifname (in this namespace) is deleted. */
int reaper_add_link(struct reaper *r, const char *ifname)
{
	return reaper_say(r, REAP_LINK, ifname);
}

/* At our end, @path is unlinked (a relative one from the start's directory). */
int reaper_add_path(struct reaper *r, const char *path)
{
	int ret = reaper_say(r, REAP_PATH, path);

	if (ret)
		log_warn("%s will not be removed at exit: %s", path, strerror(-ret));
	return ret;
}

/* Nothing more is added: the sandbox is about to start. */
void reaper_seal(struct reaper *r)
{
	if (r->pid > 0 && write(r->fd, "S", 1) != 1)
		log_warn("cannot seal the reaper's list: %s", strerror(errno));
}

/* Lets the reaper run now and waits for it. */
void reaper_stop(struct reaper *r)
{
	if (r->pid <= 0)
		return;
	close(r->fd);
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
}
