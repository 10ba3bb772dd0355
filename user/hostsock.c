// SPDX-License-Identifier: MIT
/*
 * hostsock.c - the host side of a flow: ordinary sockets.
 *
 * The gateway address stands for the host itself: connections to it go to
 * the host's loopback, as with slirp4netns.  Every other destination is
 * connected to as it is.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostsock.h"

/**
 * hostsock_tcp_connect() - start a non-blocking connect() for a guest's SYN
 * @gw: gateway identity (for the gateway-to-loopback mapping)
 * @dst: destination the guest asked for, network order
 * @port: destination port, network order
 *
 * The socket peeks from an offset (SO_PEEK_OFF): its receive queue is the
 * retransmission buffer for data toward the guest.  Its send buffer is set
 * large: the window the guest gets is that buffer's free space, and a small
 * autotuned buffer would never grow, as the engine never overfills it.
 *
 * Return: socket descriptor (connect in progress or done), or negative errno.
 */
int hostsock_tcp_connect(const struct gateway *gw, uint32_t dst, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = port, .sin_addr = { dst } };
	int fd, zero = 0, one = 1, sndbuf = HOSTSOCK_SNDBUF;

	if (dst == gw->gw_addr) {
		if (gw->no_host_loopback)
			return -ENETUNREACH;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* above net.core.wmem_max only with CAP_NET_ADMIN: best effort */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}
