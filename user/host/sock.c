// SPDX-License-Identifier: MIT
/*
 * sock.c - small helpers on host sockets, whatever protocol they serve.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sock.h"

/* Pending error of a socket (SO_ERROR), as a positive errno or 0. */
int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

/*
 * Outcome of a non-blocking connect(): 0 once connected, -EINPROGRESS while
 * pending (a stale event, e.g. for an earlier flow in a reused slot), else
 * the negative errno it failed with.
 */
int sock_connect_result(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int err = sock_error(fd);

	if (err)
		return -err;
	if (getpeername(fd, (struct sockaddr *)&ss, &len))
		return errno == ENOTCONN ? -EINPROGRESS : -errno;
	return 0;
}

/* Closes with a RST to the peer (linger 0), as the guest's RST asks. */
void sock_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/**
 * sock_discard() - drop the first @len bytes of a stream socket's receive
 *		    queue, copying nothing
 * @fd: the socket
 * @len: bytes to drop
 *
 * recvfrom() with MSG_TRUNC and no buffer, made through syscall(): the
 * sanitizers' recv() interceptors take NULL..@len for memory the kernel
 * wrote, which ThreadSanitizer checks byte range by byte range for races
 * between workers: with megabytes acknowledged at a time, that slowed its
 * build's workers past any deadline.
 *
 * Return: bytes dropped, or -1 with errno set.
 */
ssize_t sock_discard(int fd, size_t len)
{
	return syscall(SYS_recvfrom, fd, NULL, len, MSG_TRUNC | MSG_DONTWAIT, NULL, NULL);
}
