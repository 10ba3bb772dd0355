// SPDX-License-Identifier: MIT
/*
 * hostsock.c - the host side of a flow: ordinary sockets.
 *
 * Where they connect or send is decided by hostaddr.c.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostaddr.h"
#include "hostsock.h"

static int bind_outbound(const struct gateway *gw, int fd, int family);

/**
 * hostsock_tcp_connect() - start a non-blocking connect() for a guest's SYN
 * @gw: gateway identity (for the gateway-to-loopback mapping)
 * @dst: destination the guest asked for
 * @port: destination port, network order
 *
 * The socket's family is the destination's, as hostaddr_target() maps it
 * (an IPv6 guest's query to fd00::3 may reach an IPv4 upstream).
 *
 * Return: socket descriptor (connect in progress or done), or negative errno.
 */
int hostsock_tcp_connect(const struct gateway *gw, const struct inany *dst, uint16_t port)
{
	union sockaddr_inany sa;
	struct inany to;
	uint16_t to_port;
	socklen_t len;
	int fd, family;

	fd = hostaddr_target(gw, IPPROTO_TCP, dst, port, &to, &to_port);
	if (fd)
		return fd;
	family = inany_is_v4(&to) ? AF_INET : AF_INET6;
	len = inany_to_sockaddr(&sa, &to, to_port, family);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (hostsock_tcp_prepare(fd) || bind_outbound(gw, fd, family) ||
	    (connect(fd, &sa.sa, len) && errno != EINPROGRESS)) {
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

/*
 * A datagram socket of @family and @proto with ICMP errors reported
 * (IP_RECVERR, IPV6_RECVERR).  An IPv6 one is dual-stack (IPV6_V6ONLY
 * cleared explicitly, whatever net.ipv6.bindv6only says): it reaches
 * IPv4 destinations too, through IPv4-mapped addresses.
 */
static int dgram_open(int family, int proto)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), one = 1;
	int zero = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) ||
	    (family == AF_INET6 &&
	     (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)) ||
	      (proto == IPPROTO_UDP &&
	       setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Binds @fd to the outbound address of its family, if one was given
 * (--outbound-addr, --outbound-addr6), port 0: the host's sockets then
 * leave from that address.  0 or negative errno.
 */
static int bind_outbound(const struct gateway *gw, int fd, int family)
{
	const struct inany *a = family == AF_INET ? &gw->outbound4 : &gw->outbound6;
	union sockaddr_inany sa;
	socklen_t len;

	if (inany_is_zero(a))
		return 0;
	len = inany_to_sockaddr(&sa, a, 0, family);
	return bind(fd, &sa.sa, len) ? -errno : 0;
}

/* Closes @fd if @ret is an error; returns @fd or @ret. */
static int fd_or_error(int fd, int ret)
{
	if (fd >= 0 && ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* A UDP socket for one guest address and port: any destination, bound to
 * an ephemeral port of the host when it first sends.
 */
int hostsock_udp_open(const struct gateway *gw, int family)
{
	int fd = dgram_open(family, IPPROTO_UDP);

	return fd < 0 ? fd : fd_or_error(fd, bind_outbound(gw, fd, family));
}

/* An ICMP or ICMPv6 echo ("ping") socket; -EACCES outside
 * net.ipv4.ping_group_range (which rules both families).
 */
int hostsock_ping_open(const struct gateway *gw, int family)
{
	int fd = dgram_open(family, family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);

	return fd < 0 ? fd : fd_or_error(fd, bind_outbound(gw, fd, family));
}

/* A raw ICMP or ICMPv6 socket: sends echo requests, sees every message. */
int hostsock_icmp_raw_open(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);

	return fd < 0 ? -errno : fd;
}

/**
 * hostsock_listen() - the host socket of a forwarded port
 * @r: the rule (protocol, host address and port)
 *
 * An IPv6 address gets an IPv6 socket: dual-stack for :: and IPv6 only
 * otherwise, IPV6_V6ONLY set explicitly whatever net.ipv6.bindv6only says.
 *
 * Return: a non-blocking listening TCP socket or bound UDP socket, or
 * negative errno (-EADDRINUSE when the port is taken).
 */
int hostsock_listen(const struct fwd_rule *r)
{
	int family = inany_is_v4(&r->host_addr) ? AF_INET : AF_INET6;
	int type = r->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, one = 1;
	int v6only = !fwd_addr_is_any(&r->host_addr);
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ret;
	union sockaddr_inany sa;
	socklen_t len = inany_to_sockaddr(&sa, &r->host_addr, htons(r->host_port), family);

	if (fd < 0)
		return -errno;
	if ((family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only))) ||
	    (type == SOCK_STREAM &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
	    bind(fd, &sa.sa, len) ||
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

/*
 * True if the host has a route for IPv6 destinations outside its own
 * networks.  A UDP connect() only looks the route up: no packet leaves.
 * 2001:db8::/32 is the documentation prefix (RFC 3849), nobody's address.
 */
bool hostsock_default_route6(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(9),
				   .sin6_addr = { { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } } } };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return false;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return !ret;
}
