// SPDX-License-Identifier: MIT
/*
 * process.c - what a process serving guests sets up for itself, the
 * standalone gateway (main.c) and the daemon (daemon.c) alike: its open
 * file limit, its signals (taken through a signalfd, blocked in every
 * thread so workers are never interrupted), and the readiness it reports.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "process.h"

/* Each flow holds a host socket: allow as many as the hard limit does
 * (COMMAND inherits the raised soft limit, as with a shell's ulimit -n).
 */
void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			log_warn("cannot raise the open-file limit: %s", strerror(errno));
	}
}

/* --ready-fd: "1" once the guest is served (or the daemon listens). */
void signal_ready(int fd)
{
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		log_warn("--ready-fd %d: %s", fd, strerror(errno));
	close(fd);
}

/*
 * SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGCHLD blocked (threads made later
 * inherit it), SIGPIPE ignored; returns a signalfd for them, or negative
 * errno.
 */
int block_signals(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/*
 * epoll_watch() - add @fd to @epfd for input, its event tagged @tag; a
 * hang-up (EPOLLRDHUP: --exit-fd's writer gone) counts as input too.
 *
 * Return: 0 or negative errno.
 */
int epoll_watch(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}
