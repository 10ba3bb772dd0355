// SPDX-License-Identifier: MIT
/*
 * hostsock_loop.c - host sockets for the TCP fuzz target: whatever the guest
 * asks for, the connection goes to a listener of our own on 127.0.0.1, so
 * the fuzzer never sends a byte anywhere else.  The accepted end of each
 * connection is the "server" the fuzzer drives (hostsock_loop_peer()).
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostsock.h"
#include "hostsock_loop.h"
#include "sock.h"

static int listener = -1;
static int peer_of[HOSTSOCK_LOOP_MAX_FD];

static int listen_loopback(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };

	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(listener, 64))
		return -errno;
	return 0;
}

int hostsock_tcp_connect(const struct gateway *gw, const struct inany *dst, uint16_t port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, peer, zero = 0;

	(void)gw;
	(void)dst;
	(void)port;
	if (listener < 0 && listen_loopback())
		return -ENETUNREACH;
	if (getsockname(listener, (struct sockaddr *)&sa, &len))
		return -errno;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fd >= HOSTSOCK_LOOP_MAX_FD || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -ECONNREFUSED;
	}
	peer = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (peer < 0) {
		close(fd);
		return -ECONNREFUSED;
	}
	if (peer_of[fd])	/* @fd was closed by the engine since */
		sock_abort(peer_of[fd] - 1);
	peer_of[fd] = peer + 1;
	setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
	return fd;
}

/* The server end of the connection whose engine end is @fd, or -1. */
int hostsock_loop_peer(int fd)
{
	return fd >= 0 && fd < HOSTSOCK_LOOP_MAX_FD ? peer_of[fd] - 1 : -1;
}

/* Closes every server end (between fuzz inputs). */
void hostsock_loop_reset(void)
{
	for (int i = 0; i < HOSTSOCK_LOOP_MAX_FD; i++)
		if (peer_of[i]) {
			sock_abort(peer_of[i] - 1);
			peer_of[i] = 0;
		}
}
