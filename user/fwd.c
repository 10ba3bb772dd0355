// SPDX-License-Identifier: MIT
/*
 * fwd.c - the syntax of forwarded ports, shared by the command line and the
 * control API.
 *
 *   -p [tcp:|udp:][HOSTADDR:]HOSTPORT[-HOSTLAST]:GUESTPORT[-GUESTLAST]
 *   --forward-to-host [tcp:|udp:]GUESTPORT:HOSTADDR:HOSTPORT
 *
 * A range maps one to one and becomes one rule per port.
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
	uint32_t addr = INADDR_ANY;
	uint8_t proto;

	s = parse_proto(spec, &proto);
	guest = strrchr(s, ':');
	if (!guest)
		goto bad;
	hport = s;
	if (memchr(s, ':', (size_t)(guest - s))) {	/* HOSTADDR:HOSTPORT:GUEST */
		char a[INET_ADDRSTRLEN];
		const char *colon = memchr(s, ':', (size_t)(guest - s));
		size_t alen = (size_t)(colon - s);

		if (alen >= sizeof(a))
			goto bad;
		memcpy(a, s, alen);
		a[alen] = '\0';
		if (inet_pton(AF_INET, a, &addr) != 1)
			goto bad;
		hport = colon + 1;
	}
	if (!parse_range(hport, (size_t)(guest - hport), &h1, &h2) ||
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
	fprintf(err, "xdpslirp: --publish '%s': expected [tcp:|udp:][HOSTADDR:]HOSTPORT[-LAST]:GUESTPORT[-LAST], ports 1-65535\n",
		spec);
	return -EINVAL;
}

/* [tcp:|udp:]GUESTPORT:HOSTADDR:HOSTPORT */
bool fwd_parse_to_host(const char *spec, struct fwd_to_host *f)
{
	const char *s = parse_proto(spec, &f->proto), *c1, *c2;
	char a[INET_ADDRSTRLEN];
	uint16_t last;

	c1 = strchr(s, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || (size_t)(c2 - c1 - 1) >= sizeof(a))
		return false;
	memcpy(a, c1 + 1, (size_t)(c2 - c1 - 1));
	a[c2 - c1 - 1] = '\0';
	return parse_range(s, (size_t)(c1 - s), &f->guest_port, &last) &&
	       last == f->guest_port && inet_pton(AF_INET, a, &f->host_addr) == 1 &&
	       parse_range(c2 + 1, strlen(c2 + 1), &f->host_port, &last) &&
	       last == f->host_port;
}
