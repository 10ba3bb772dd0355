// SPDX-License-Identifier: MIT
/*
 * ndp.c - Neighbor Discovery (RFC 4861) for the gateway's IPv6 addresses,
 * and its Router Advertisements.
 *
 * Theory of operation: the link has two nodes, the guest and us.  A
 * Neighbor Solicitation for the gateway (fd00::2), the DNS address
 * (fd00::3) or the router's link-local address (fe80::2) is answered with
 * a Neighbor Advertisement (Router, Solicited and Override set, our MAC as
 * target link-layer address).  A DAD probe (source ::) for one of them is a
 * guest about to take our address: we defend it with an advertisement to
 * all nodes (RFC 4862 5.4.3).  Solicitations for any other address, the
 * guest's own above all, get no answer: its DAD must succeed, and no other
 * host is on the link.
 *
 * Advertisements come from their target address.  Router Advertisements
 * leave from fe80::2, every NDP message with hop limit 255: solicited
 * ones (a valid RS) to the soliciting address, or all nodes for an RS from
 * ::; unsolicited ones from worker 0, three at start two seconds apart
 * (RFC 4861 6.2.4 allows up to 16 s) and then at a random time in
 * [interval / 3, interval) (6.2.1; 600 s by default).  They carry the
 * guest's /64 (on-link, autonomous: SLAAC works), our MAC, the link MTU,
 * the DNS address (RDNSS) and the host's search list (DNSSL), each
 * lifetime in seconds within its RFC's bounds (RFC 8106 5.1: between the
 * advertisement interval and twice it).  The router lifetime is the RFC 8319
 * maximum, or 0 when the host has no IPv6 route out, so that the guest's
 * applications fail at once and fall back to IPv4.  M is clear and O set:
 * addresses by SLAAC (or stateful DHCPv6 if the guest asks), other
 * configuration from stateless DHCPv6 too.
 *
 * Solicitations also tell the guest's own address (struct guest_seen): the
 * target of its DAD probe, or the source it resolves us from.
 *
 * Every message is validated as RFC 4861 6.1 and 7.1 ask: hop limit 255,
 * code 0, length, options of non-zero length within the message, no
 * source link-layer option from the unspecified address, no multicast
 * target.  The checksum was verified by icmp6_input().
 */
#include <arpa/inet.h>

#include "csum.h"
#include "ip.h"
#include "ipv6.h"
#include "ndp.h"

#define OPT_SLLA	1
#define OPT_TLLA	2
#define OPT_PREFIX	3
#define OPT_MTU		5
#define OPT_RDNSS	25
#define OPT_DNSSL	31

#define NA_ROUTER	0x80
#define NA_SOLICITED	0x40
#define NA_OVERRIDE	0x20
#define RA_OTHER	0x40	/* O: other configuration by DHCPv6 */
#define PIO_ONLINK	0x80
#define PIO_AUTO	0x40

#define RS_LEN		8
#define NS_LEN		24
#define RA_HOPS		64	/* Cur Hop Limit for the guest's own packets */
#define RA_LIFETIME	65535	/* router lifetime, RFC 8319 */
#define LIFETIME_INF	0xffffffffu
#define INITIAL_RAS	3
#define INITIAL_GAP_NS	(2ull * 1000 * 1000 * 1000)
#define MS		1000000ull

static const struct inany all_nodes = { { 0xff, 0x02, [15] = 1 } };

static void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* Sends an NDP message of @len bytes at @m (checksum filled here). */
static void ndp_send(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
		     uint8_t *m, uint32_t len)
{
	uint16_t check;

	m[2] = m[3] = 0;
	check = csum_fold(csum_partial(m, len, ip_pseudo_sum(src, dst, IPPROTO_ICMPV6, len)));
	memcpy(m + 2, &check, 2);
	ipv6_send_hops(ctx, src, dst, IPPROTO_ICMPV6, m, len, NDP_HOP_LIMIT);
}

/* Appends a link-layer address option of @type (our MAC) at @o; returns its length. */
static uint32_t put_lla(const struct gateway *gw, uint8_t *o, uint8_t type)
{
	o[0] = type;
	o[1] = 1;
	memcpy(o + 2, gw->mac, ETH_ALEN);
	return 8;
}

/* The DNS options of an RA: RDNSS (if DNS is on) and DNSSL (if a search list). */
static uint32_t put_dns_options(const struct gateway *gw, uint8_t *o)
{
	uint32_t lifetime = 2 * gw->ra_interval_ms / 1000, n = 0;

	if (!gw->n_dns)
		return 0;
	o[0] = OPT_RDNSS;
	o[1] = 3;
	memset(o + 2, 0, 2);
	put32(o + 4, lifetime);
	memcpy(o + 8, gw->dns6.b, 16);
	n = 24;
	if (gw->dnssl_len) {
		uint32_t len = 8 + ((gw->dnssl_len + 7u) & ~7u);

		memset(o + n, 0, len);
		o[n] = OPT_DNSSL;
		o[n + 1] = (uint8_t)(len / 8);
		put32(o + n + 4, lifetime);
		memcpy(o + n + 8, gw->dnssl, gw->dnssl_len);
		n += len;
	}
	return n;
}

/* Sends a Router Advertisement to @dst (RFC 4861 4.2). */
static void ndp_send_ra(struct gw_ctx *ctx, const struct inany *dst)
{
	const struct gateway *gw = ctx->gw;
	uint8_t m[16 + 8 + 8 + 32 + 24 + 8 + sizeof(gw->dnssl)] = { 0 };
	uint32_t n = 16;

	m[0] = NDP_RA;
	m[4] = RA_HOPS;
	m[5] = RA_OTHER;
	put16(m + 6, gw->ra_no_route ? 0 : RA_LIFETIME);
	n += put_lla(gw, m + n, OPT_SLLA);
	m[n] = OPT_MTU;
	m[n + 1] = 1;
	put32(m + n + 4, gw->mtu);
	n += 8;
	m[n] = OPT_PREFIX;
	m[n + 1] = 4;
	m[n + 2] = 64;
	m[n + 3] = PIO_ONLINK | PIO_AUTO;
	put32(m + n + 4, LIFETIME_INF);	/* valid */
	put32(m + n + 8, LIFETIME_INF);	/* preferred */
	memcpy(m + n + 16, gw->gw6.b, 8);
	n += 32;
	n += put_dns_options(gw, m + n);
	ndp_send(ctx, &gw->ll6, dst, m, n);
}

/*
 * Sends a Neighbor Advertisement for @target to @dst (RFC 4861 4.4), from
 * the target address itself, as hosts answer for their own addresses (and
 * tools such as ndisc6 expect).
 */
static void ndp_send_na(struct gw_ctx *ctx, const struct inany *dst, const struct inany *target,
			bool solicited)
{
	uint8_t m[NS_LEN + 8] = { NDP_NA };

	m[4] = NA_ROUTER | NA_OVERRIDE | (solicited ? NA_SOLICITED : 0);
	memcpy(m + 8, target->b, 16);
	ndp_send(ctx, target, dst, m, NS_LEN + put_lla(ctx->gw, m + NS_LEN, OPT_TLLA));
}

/**
 * ndp_ask_guest() - send a Neighbor Solicitation for the guest's address
 * @ctx: protocol context
 * @guest: the address, to its solicited-node group (RFC 4291 2.7.1)
 *
 * For when we must reach a guest that has not spoken yet: its answer (any
 * frame of it) teaches us its MAC.
 */
void ndp_ask_guest(struct gw_ctx *ctx, const struct inany *guest)
{
	struct inany group = { { 0xff, 0x02, [11] = 1, [12] = 0xff } };
	uint8_t m[NS_LEN + 8] = { NDP_NS };

	memcpy(group.b + 13, guest->b + 13, 3);
	memcpy(m + 8, guest->b, 16);
	ndp_send(ctx, &ctx->gw->ll6, &group, m, NS_LEN + put_lla(ctx->gw, m + NS_LEN, OPT_SLLA));
}

/* Options from @off to the end are well formed (RFC 4861 6.1.1, 7.1.1);
 * *slla tells whether a source link-layer address option is among them.
 */
static bool ndp_options_valid(const uint8_t *m, uint32_t off, uint32_t len, bool *slla)
{
	*slla = false;
	while (off < len) {
		if (off + 2 > len || !m[off + 1] || off + m[off + 1] * 8u > len)
			return false;
		*slla |= m[off] == OPT_SLLA;
		off += m[off + 1] * 8u;
	}
	return true;
}

/**
 * ndp_input() - a Router or Neighbor Solicitation from the guest
 * @ctx: protocol context
 * @f: the frame
 * @p: its validated IPv6 datagram; the ICMPv6 checksum was verified
 *
 * Return: VERDICT_DONE (answers are new frames).
 */
enum verdict ndp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	static const uint8_t zero[16];
	const uint8_t *m = f->seg[0].data + p->l4off;
	bool ns = m[0] == NDP_NS, from_dad = !memcmp(p->src.b, zero, 16), slla;
	uint32_t min = ns ? NS_LEN : RS_LEN;
	struct inany target;

	if (p->hops != NDP_HOP_LIMIT || m[1] || p->l4len < min ||
	    p->l4off + p->l4len > f->seg[0].len ||
	    !ndp_options_valid(m, min, p->l4len, &slla) || (from_dad && slla))
		return drop(ctx, DROP_NDP_MALFORMED);
	if (!ns) {
		ndp_send_ra(ctx, from_dad ? &all_nodes : &p->src);
		return VERDICT_DONE;
	}
	memcpy(target.b, m + 8, 16);
	if (inany_is_v6_multicast(&target) || (from_dad && !inany_is_v6_multicast(&p->dst)))
		return drop(ctx, DROP_NDP_MALFORMED);
	/* the guest's address: the one it probes, or the one it asks from */
	ipv6_guest_seen_store(ctx->gw, from_dad ? &target : &p->src);
	if (!gw_answers_for(ctx, &target))
		return drop(ctx, DROP_NDP_IGNORED);	/* the guest's own, or nobody's */
	if (from_dad)		/* someone wants our address: defend it */
		ndp_send_na(ctx, &all_nodes, &target, false);
	else
		ndp_send_na(ctx, &p->src, &target, true);
	return VERDICT_DONE;
}

/**
 * ndp_timer() - send the unsolicited Router Advertisement that is due
 * @ctx: worker context (worker 0 only: one RA stream for the link)
 *
 * Return: when the next one is due, 0 if never.
 */
uint64_t ndp_timer(struct gw_ctx *ctx)
{
	uint64_t max = ctx->gw->ra_interval_ms * MS, gap;

	if (!ctx->ra_at || ctx->ra_at > ctx->now)
		return ctx->ra_at;
	ndp_send_ra(ctx, &all_nodes);
	if (++ctx->ra_count < INITIAL_RAS) {
		gap = INITIAL_GAP_NS;
	} else {	/* uniform in [max / 3, max): not security-relevant */
		uint64_t r = (ctx->now ^ (ctx->now >> 29)) * 0x9e3779b97f4a7c15ull;

		gap = max / 3 + (r >> 11) % (max - max / 3);
	}
	ctx->ra_at = ctx->now + gap;
	return ctx->ra_at;
}
