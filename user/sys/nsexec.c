// SPDX-License-Identifier: MIT
/*
 * nsexec.c - run a piece of set-up inside the guest's namespaces.
 *
 * Theory of operation: a tap is created in the network namespace of the
 * process that opens /dev/net/tun, and only by a process that holds
 * CAP_NET_ADMIN in the user namespace owning it.  Entering a user
 * namespace is for good and only for a single-threaded process, and an
 * unprivileged one must enter the user namespace before the network
 * namespace.  So ns_call() forks a helper that enters the user namespace
 * (if one is given and not ours), then the network namespace, runs the
 * job there, and sends back its result and the descriptors it opened over
 * a socket pair (SCM_RIGHTS); the engine itself never leaves its own
 * namespaces.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "nsexec.h"

/* The result, descriptors attached. */
static int send_result(int sock, const struct ns_result *res)
{
	char ctl[CMSG_SPACE(sizeof(int) * NS_MAX_FDS)] = { 0 };
	struct iovec iov = { .iov_base = (void *)res, .iov_len = sizeof(*res) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (res->nfds) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * res->nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * res->nfds);
		memcpy(CMSG_DATA(c), res->fds, sizeof(int) * res->nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*res) ? 0 : -errno;
}

static int recv_result(int sock, struct ns_result *res)
{
	char ctl[CMSG_SPACE(sizeof(int) * NS_MAX_FDS)];
	struct iovec iov = { .iov_base = res, .iov_len = sizeof(*res) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	unsigned got = 0;
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

	if (n != (ssize_t)sizeof(*res))
		return n < 0 ? -errno : -ECHILD;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			got = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(res->fds, CMSG_DATA(c), sizeof(int) * got);
		}
	if (got != res->nfds || (mh.msg_flags & MSG_CTRUNC)) {
		for (unsigned i = 0; i < got; i++)
			close(res->fds[i]);
		res->nfds = 0;
		return -EMFILE;
	}
	return 0;
}

/* Enters @t's namespaces: the user namespace first (EINVAL: it is ours). */
static int ns_enter(const struct ns_target *t)
{
	if (t->userns_fd >= 0 && setns(t->userns_fd, CLONE_NEWUSER) && errno != EINVAL)
		return -errno;
	if (t->netns_fd >= 0 && setns(t->netns_fd, CLONE_NEWNET))
		return -errno;
	return 0;
}

static void __attribute__((noreturn))
helper_main(int sock, const struct ns_target *t, ns_fn fn, void *arg)
{
	struct ns_result res = { 0 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	res.err = ns_enter(t);
	if (res.err)
		log_err("cannot enter the guest's namespaces: %s%s", strerror(-res.err),
			res.err == -EPERM ? " (is it another user's? see --userns-path)" : "");
	else
		res.err = fn(arg, &res);
	if (res.err)
		res.nfds = 0;
	_exit(send_result(sock, &res) ? 1 : 0);
}

/**
 * ns_call() - run @fn in a helper inside the namespaces of @t
 * @t: user namespace (or -1) and network namespace (or -1) to enter
 * @fn: the job; fills @res (descriptors, data), returns 0 or negative errno
 * @arg: passed to @fn
 * @res: the job's result, its descriptors now ours
 *
 * Return: 0, or negative errno (the job logged what it could not do).
 */
int ns_call(const struct ns_target *t, ns_fn fn, void *arg, struct ns_result *res)
{
	int sv[2], ret, status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], t, fn, arg);
	}
	close(sv[1]);
	ret = recv_result(sv[0], res);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret ? ret : res->err;
}
