// SPDX-License-Identifier: MIT
/*
 * dns.c - the DNS address: what is not plain UDP or TCP forwarding.
 *
 * Queries to the DNS address travel like any UDP datagram or TCP connection
 * (udp.c, tcp.c), to the first upstream resolver (hostaddr_target()); the
 * answers come back from the DNS address (hostaddr_source()).  Here: which
 * queries are worth forwarding, the SERVFAIL the guest gets at once when
 * the upstream is unreachable, and the upstreams of /etc/resolv.conf.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "udp.h"

#define DNS_HDR_LEN	12
#define DNS_QR		0x80	/* byte 2: response */
#define DNS_OPCODE	0x78	/* byte 2 */
#define DNS_RA		0x80	/* byte 3: recursion available */
#define DNS_SERVFAIL	2

/* A query worth forwarding: a whole header, a question, not a response. */
bool dns_query_valid(const struct frame *f, uint32_t off, uint32_t len)
{
	const uint8_t *h = f->seg[0].data + off;

	if (len < DNS_HDR_LEN || off + DNS_HDR_LEN > f->seg[0].len)
		return false;
	return !(h[2] & DNS_QR) && h[4] == 0 && h[5] >= 1;
}

/* Length of the question section at @q (@len bytes), 0 if it is broken. */
static uint32_t question_len(const uint8_t *q, uint32_t len)
{
	uint32_t i = 0;

	while (i < len && q[i]) {
		if (q[i] & 0xc0)
			return 0;	/* no compression in a question */
		i += q[i] + 1u;
	}
	return i + 5 <= len ? i + 5 : 0;	/* root label, type, class */
}

/**
 * dns_servfail() - answer a query with SERVFAIL, from the DNS address
 * @ctx: protocol context; the query is at ctx->scratch + 8, as it was sent
 * @fl: the guest port's UDP mapping
 * @dns: the DNS address the query went to (of the guest's family)
 * @len: the query's length
 */
void dns_servfail(struct gw_ctx *ctx, const struct flow *fl, const struct inany *dns,
		  uint32_t len)
{
	uint8_t *m = ctx->scratch + 8;
	uint32_t q;

	if (len < DNS_HDR_LEN)
		return;
	q = m[5] == 1 && !m[4] ? question_len(m + DNS_HDR_LEN, len - DNS_HDR_LEN) : 0;
	m[2] = (uint8_t)((m[2] & DNS_OPCODE) | DNS_QR | (m[2] & 1));	/* keep RD */
	m[3] = DNS_RA | DNS_SERVFAIL;
	m[4] = 0;
	m[5] = q ? 1 : 0;
	memset(m + 6, 0, 6);	/* no answers, authority or additional records */
	udp_send(ctx, ctx->scratch, dns, htons(53), &fl->key.guest, fl->key.guest_port,
		 DNS_HDR_LEN + q);
}

/**
 * dns_upstreams_from_resolv_conf() - take the name servers of @path
 * @gw: where to add them (up to GW_MAX_DNS in all)
 * @path: usually /etc/resolv.conf
 *
 * Either family serves both of the guest's DNS addresses.  A loopback stub
 * (127.0.0.53, ::1) is fine: the engine's sockets are the host's.  A
 * link-local server (with a %scope) is skipped: it cannot be reached
 * without its interface.
 *
 * Return: the number added.
 */
int dns_upstreams_from_resolv_conf(struct gateway *gw, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[256], addr[64];
	int added = 0;

	if (!f)
		return 0;
	while (gw->n_dns < GW_MAX_DNS && fgets(line, sizeof(line), f)) {
		union sockaddr_inany *sa = &gw->dns[gw->n_dns];

		if (sscanf(line, " nameserver %63s", addr) != 1)
			continue;
		if (inet_pton(AF_INET, addr, &sa->in4.sin_addr) == 1) {
			sa->in4.sin_family = AF_INET;
			sa->in4.sin_port = htons(53);
		} else if (inet_pton(AF_INET6, addr, &sa->in6.sin6_addr) == 1) {
			sa->in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
							 .sin6_port = htons(53),
							 .sin6_addr = sa->in6.sin6_addr };
		} else {
			continue;
		}
		gw->n_dns++;
		added++;
	}
	fclose(f);
	return added;
}

/* Writes @name as labels at @out (at most @room bytes); returns the length or 0. */
static size_t dns_name_encode(const char *name, uint8_t *out, size_t room)
{
	size_t n = 0, len = strlen(name);

	if (len && name[len - 1] == '.')
		len--;		/* a trailing dot names the root already */
	if (!len || len + 2 > room || len > 253)
		return 0;
	while (len) {
		const char *dot = memchr(name, '.', len);
		size_t l = dot ? (size_t)(dot - name) : len;

		if (!l || l > 63)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
		len -= l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

/**
 * dns_search_from_resolv_conf() - the search list of @path in DNS wire form
 * @out: where the names go, each as RFC 1035 labels (for RA DNSSL, RFC 8106,
 *	 and DHCPv6 option 24, RFC 3646)
 * @room: bytes at @out
 * @path: usually /etc/resolv.conf
 *
 * Names that do not fit, or are not valid host names' labels, are skipped.
 *
 * Return: the bytes written.
 */
size_t dns_search_from_resolv_conf(uint8_t *out, size_t room, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *save, *name;

		if (strncmp(line, "search", 6) || (line[6] != ' ' && line[6] != '\t'))
			continue;
		n = 0;		/* the last search line counts, as for the resolver */
		for (name = strtok_r(line + 6, " \t\n", &save); name;
		     name = strtok_r(NULL, " \t\n", &save))
			n += dns_name_encode(name, out + n, room - n);
	}
	fclose(f);
	return n;
}
