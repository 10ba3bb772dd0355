// SPDX-License-Identifier: MIT
/*
 * inany.c - addresses of either family (struct inany) and the host's socket
 * addresses they become.
 */
#include <arpa/inet.h>

#include "inany.h"

/*
 * True for an address a flow may have at either end: not unspecified,
 * multicast or broadcast, nor an IPv6 address that stands for IPv4
 * (::ffff:0:0/96 seen in an IPv6 header) or loopback.
 */
bool inany_is_unicast(const struct inany *a)
{
	static const uint8_t zero[16], loop6[16] = { [15] = 1 };

	if (inany_is_v4(a)) {
		uint32_t v4 = ntohl(inany_v4(a));

		return (v4 >> 24) != 0 && !IN_MULTICAST(v4) && v4 != INADDR_BROADCAST;
	}
	return !inany_is_v6_multicast(a) && memcmp(a->b, zero, 16) && memcmp(a->b, loop6, 16);
}

/* The address and port (network order) of a socket address of either family;
 * IPv4-mapped IPv6 addresses come out as IPv4.
 */
void inany_from_sockaddr(struct inany *a, uint16_t *port, const union sockaddr_inany *sa)
{
	if (sa->sa.sa_family == AF_INET6) {
		memcpy(a->b, &sa->in6.sin6_addr, 16);
		*port = sa->in6.sin6_port;
		return;
	}
	inany_from_v4(a, sa->in4.sin_addr.s_addr);
	*port = sa->in4.sin_port;
}

/**
 * inany_to_sockaddr() - the socket address of @a:@port for a socket of @family
 * @sa: filled in
 * @a: the address
 * @port: network order
 * @family: AF_INET, or AF_INET6 (an IPv4 address becomes IPv4-mapped, for a
 *	    dual-stack socket)
 *
 * Return: the length of @sa, or 0 if an IPv6 address is asked for AF_INET.
 */
socklen_t inany_to_sockaddr(union sockaddr_inany *sa, const struct inany *a, uint16_t port,
			    int family)
{
	if (family == AF_INET6) {
		sa->in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = port };
		memcpy(&sa->in6.sin6_addr, a->b, 16);
		return sizeof(sa->in6);
	}
	if (!inany_is_v4(a))
		return 0;
	sa->in4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = port,
					.sin_addr = { inany_v4(a) } };
	return sizeof(sa->in4);
}

/* Text form of @a, IPv4 dotted for IPv4. */
const char *inany_ntop(const struct inany *a, char *buf, size_t len)
{
	uint32_t v4 = inany_v4(a);

	if (inany_is_v4(a))
		return inet_ntop(AF_INET, &v4, buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}
