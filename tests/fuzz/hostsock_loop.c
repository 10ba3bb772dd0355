// SPDX-License-Identifier: MIT
/*
 * hostsock_loop.c - host sockets for the TCP fuzz target: whatever the guest
 * asks for, the connection goes to a listener of our own on 127.0.0.1, so
 * the fuzzer never sends a byte anywhere else.  The accepted end of each
 * connection is the "server" the fuzzer drives (hostsock_loop_peer()).
 * UDP sockets are real, bound to the loopback device: the fuzzer's guest
 * sends to the gateway address only (the host's 127.0.0.1), and with
 * SO_BINDTODEVICE "lo" nothing could leave the machine if it did not.
 * Without the privilege for that, there is no UDP socket (-EACCES).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
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

/* A UDP socket for the engine, bound to the loopback device. */
int hostsock_udp_open(const struct gateway *gw, int family)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	(void)gw;
	if (fd < 0)
		return -errno;
	if (family != AF_INET || setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

/* The fuzzer's UDP server on 127.0.0.1 (made once); its port in @port. */
int hostsock_loop_udp_server(uint16_t *port)
{
	static int fd = -1;
	static uint16_t bound;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };
	socklen_t len = sizeof(sa);

	if (fd < 0) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    getsockname(fd, (struct sockaddr *)&sa, &len))
			return -1;
		bound = ntohs(sa.sin_port);
	}
	*port = bound;
	return fd;
}
