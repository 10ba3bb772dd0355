// SPDX-License-Identifier: MIT
/*
 * hostsock.c - the host side of a flow: ordinary sockets.
 *
 * Where they connect or send is decided by hostaddr.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostaddr.h"
#include "hostsock.h"

/**
 * hostsock_tcp_connect() - start a non-blocking connect() for a guest's SYN
 * @gw: gateway identity (for the gateway-to-loopback mapping)
 * @dst: destination the guest asked for, network order
 * @port: destination port, network order
 *
 * Return: socket descriptor (connect in progress or done), or negative errno.
 */
int hostsock_tcp_connect(const struct gateway *gw, uint32_t dst, uint16_t port)
{
	struct sockaddr_in sa;
	int fd;

	fd = hostaddr_target(gw, IPPROTO_TCP, dst, port, &sa);
	if (fd)
		return fd;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (hostsock_tcp_prepare(fd) ||
	    (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/**
 * hostsock_tcp_prepare() - make a TCP socket fit to carry a guest's connection
 * @fd: connecting, or accepted on a forwarded port
 *
 * The socket peeks from an offset (SO_PEEK_OFF): its receive queue is the
 * retransmission buffer for data toward the guest.  Its send buffer is set
 * large: the window the guest gets is that buffer's free space, and a small
 * autotuned buffer would never grow, as the engine never overfills it.  What
 * it holds unsent is limited (HOSTSOCK_NOTSENT_LOWAT, see hostsock.h).
 *
 * Return: 0 or -errno.
 */
int hostsock_tcp_prepare(int fd)
{
	int zero = 0, one = 1, sndbuf = HOSTSOCK_SNDBUF, lowat = HOSTSOCK_NOTSENT_LOWAT;

	/* above net.core.wmem_max only with CAP_NET_ADMIN: best effort */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat)))
		return -errno;
	return 0;
}

/* A datagram socket of @proto with ICMP errors reported (IP_RECVERR). */
static int dgram_open(int proto)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* A UDP socket for one guest address and port: any destination, bound to
 * an ephemeral port of the host when it first sends.
 */
int hostsock_udp_open(void)
{
	return dgram_open(IPPROTO_UDP);
}

/* An ICMP echo ("ping") socket; -EACCES outside net.ipv4.ping_group_range. */
int hostsock_ping_open(void)
{
	return dgram_open(IPPROTO_ICMP);
}

/* A raw ICMP socket: sends echo requests, sees every ICMP message. */
int hostsock_icmp_raw_open(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);

	return fd < 0 ? -errno : fd;
}

/**
 * hostsock_listen() - the host socket of a forwarded port
 * @r: the rule (protocol, host address and port)
 *
 * Return: a non-blocking listening TCP socket or bound UDP socket, or
 * negative errno (-EADDRINUSE when the port is taken).
 */
int hostsock_listen(const struct fwd_rule *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(r->host_port),
				  .sin_addr = { r->host_addr } };
	int type = r->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, one = 1;
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	if ((type == SOCK_STREAM &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(fd, SOMAXCONN))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* The send buffer hostsock_tcp_prepare() gives every TCP socket, as the
 * kernel reports it (doubled, and capped without CAP_NET_ADMIN).
 */
uint32_t hostsock_tcp_sndbuf(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), val = HOSTSOCK_SNDBUF_MAX;
	socklen_t len = sizeof(val);

	if (fd >= 0) {
		if (hostsock_tcp_prepare(fd) || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, &len))
			val = HOSTSOCK_SNDBUF_MAX;
		close(fd);
	}
	return (uint32_t)val;
}
