// SPDX-License-Identifier: MIT
/*
 * fwd.c - the syntax of forwarded ports, shared by the command line and the
 * control API.
 *
 *   -p [tcp:|udp:][HOSTADDR:]HOSTPORT[-HOSTLAST]:GUESTPORT[-GUESTLAST]
 *   --forward-to-host [tcp:|udp:]GUESTPORT:HOSTADDR:HOSTPORT
 *
 * HOSTADDR is A.B.C.D or [IPv6]; without it, every IPv4 address (0.0.0.0,
 * as slirp4netns); [::] is every address of both families.  A range maps
 * one to one and becomes one rule per port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

const char *fwd_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* An address of either family as text: A.B.C.D or an IPv6 address. */
bool fwd_addr_parse(const char *s, struct inany *a)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		inany_from_v4(a, v4.s_addr);
		return true;
	}
	return inet_pton(AF_INET6, s, a->b) == 1 && !inany_is_v4(a);
}

/* 0.0.0.0 or ::, the wildcard of its family. */
bool fwd_addr_is_any(const struct inany *a)
{
	static const uint8_t zero[16];

	return (inany_is_v4(a) && !inany_v4(a)) || !memcmp(a->b, zero, 16);
}

/* Whether listeners on @a and @b, same port, would take the same clients. */
bool fwd_addrs_overlap(const struct inany *a, const struct inany *b)
{
	static const uint8_t zero[16];
	bool dual_a = !memcmp(a->b, zero, 16), dual_b = !memcmp(b->b, zero, 16);

	if (inany_equal(a, b) || dual_a || dual_b)
		return true;
	return inany_is_v4(a) == inany_is_v4(b) && (fwd_addr_is_any(a) || fwd_addr_is_any(b));
}

/* ::, which in a rule's guest address means "none given". */
bool fwd_addr_unset(const struct inany *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->b, zero, 16);
}

/*
 * The HOSTADDR: before @end in @s: "A.B.C.D:" or "[IPv6]:"; returns where
 * the port starts, or NULL.  Without one, @a is 0.0.0.0 and @s is returned.
 */
static const char *parse_host_addr(const char *s, const char *end, struct inany *a)
{
	char buf[INET6_ADDRSTRLEN];
	const char *close, *colon;
	size_t n;

	inany_from_v4(a, INADDR_ANY);
	if (*s == '[') {
		close = memchr(s, ']', (size_t)(end - s));
		if (!close || close[1] != ':' || (n = (size_t)(close - s - 1)) >= sizeof(buf))
			return NULL;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		return inet_pton(AF_INET6, buf, a->b) == 1 && !inany_is_v4(a) ? close + 2 : NULL;
	}
	colon = memchr(s, ':', (size_t)(end - s));
	if (!colon)
		return s;
	n = (size_t)(colon - s);
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, a->b + 12) == 1 ? colon + 1 : NULL;
}

/* "tcp:" or "udp:" in front of @s, if any; sets *proto (TCP by default). */
static const char *parse_proto(const char *s, uint8_t *proto)
{
	*proto = IPPROTO_TCP;
	if (!strncmp(s, "tcp:", 4))
		return s + 4;
	if (!strncmp(s, "udp:", 4)) {
		*proto = IPPROTO_UDP;
		return s + 4;
	}
	return s;
}

/* PORT or PORT-LAST, 1..65535; returns false on anything else. */
static bool parse_range(const char *s, size_t len, uint16_t *first, uint16_t *last)
{
	char buf[16], *end, *dash;
	unsigned long a, b;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return false;
	a = strtoul(buf, &end, 10);
	if (*end || a < 1 || a > 65535)
		return false;
	b = a;
	if (dash) {
		if (dash[1] < '0' || dash[1] > '9')
			return false;
		b = strtoul(dash + 1, &end, 10);
		if (*end || b < a || b > 65535)
			return false;
	}
	*first = (uint16_t)a;
	*last = (uint16_t)b;
	return true;
}

/**
 * fwd_parse_publish() - parse one --publish specification
 * @spec: the text
 * @rules: filled with one rule per port (ids, guest address left 0)
 * @room: entries available in @rules
 * @err: where to say what is wrong
 *
 * Return: the number of rules, or -EINVAL (after a message).
 */
int fwd_parse_publish(const char *spec, struct fwd_rule *rules, unsigned room, FILE *err)
{
	const char *s, *guest, *hport;
	uint16_t h1, h2, g1, g2;
	struct inany addr;
	uint8_t proto;

	s = parse_proto(spec, &proto);
	guest = strrchr(s, ':');
	if (!guest)
		goto bad;
	hport = parse_host_addr(s, guest, &addr);
	if (!hport || hport > guest || !parse_range(hport, (size_t)(guest - hport), &h1, &h2) ||
	    !parse_range(guest + 1, strlen(guest + 1), &g1, &g2))
		goto bad;
	if (h2 - h1 != g2 - g1) {
		fprintf(err, "xdpslirp: --publish %s: the host and guest ranges differ in length\n", spec);
		return -EINVAL;
	}
	if ((unsigned)(h2 - h1) + 1 > room) {
		fprintf(err, "xdpslirp: --publish %s: more than %d forwarded ports in all\n", spec, FWD_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i <= (unsigned)(h2 - h1); i++)
		rules[i] = (struct fwd_rule){ .proto = proto, .host_addr = addr,
					      .host_port = (uint16_t)(h1 + i),
					      .guest_port = (uint16_t)(g1 + i) };
	return h2 - h1 + 1;
bad:
	fprintf(err, "xdpslirp: --publish '%s': expected [tcp:|udp:][HOSTADDR:]HOSTPORT[-LAST]:GUESTPORT[-LAST] (HOSTADDR A.B.C.D or [IPv6]), ports 1-65535\n",
		spec);
	return -EINVAL;
}

/* [tcp:|udp:]GUESTPORT:HOSTADDR:HOSTPORT, HOSTADDR A.B.C.D or [IPv6] */
bool fwd_parse_to_host(const char *spec, struct fwd_to_host *f)
{
	const char *s = parse_proto(spec, &f->proto), *c1, *hport;
	uint16_t last;

	c1 = strchr(s, ':');
	if (!c1 || !parse_range(s, (size_t)(c1 - s), &f->guest_port, &last) ||
	    last != f->guest_port)
		return false;
	hport = parse_host_addr(c1 + 1, c1 + 1 + strlen(c1 + 1), &f->host_addr);
	return hport && hport != c1 + 1 &&
	       parse_range(hport, strlen(hport), &f->host_port, &last) && last == f->host_port;
}
