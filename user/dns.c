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
 * @len: the query's length
 */
void dns_servfail(struct gw_ctx *ctx, const struct flow *fl, uint32_t len)
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
	udp_send(ctx, ctx->scratch, ctx->gw->dns_addr, htons(53), inany_v4(&fl->key.guest),
		 fl->key.guest_port, DNS_HDR_LEN + q);
}

/**
 * dns_upstreams_from_resolv_conf() - take the IPv4 name servers of @path
 * @gw: where to add them (up to GW_MAX_DNS in all)
 * @path: usually /etc/resolv.conf
 *
 * A loopback stub (127.0.0.53) is fine: the engine's sockets are the host's.
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
		struct in_addr a;

		if (sscanf(line, " nameserver %63s", addr) != 1 || inet_pton(AF_INET, addr, &a) != 1)
			continue;
		gw->dns[gw->n_dns++] = (struct sockaddr_in){ .sin_family = AF_INET,
							     .sin_port = htons(53),
							     .sin_addr = a };
		added++;
	}
	fclose(f);
	return added;
}
