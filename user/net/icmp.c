// SPDX-License-Identifier: MIT
/*
 * icmp.c - ICMP echo for the gateway's IPv4 addresses, and the ICMP and
 * ICMPv6 errors the gateway sends the guest.
 *
 * An echo request to the gateway or DNS address is answered in place: the
 * request's buffers, all of them for a large multi-buffer ping, become the
 * reply.  ICMP checksums are not offloaded by the guest, so the request's is
 * verified over the whole message, and the reply's is derived from it with
 * an incremental update (only the type changes), never recomputed.
 *
 * Errors toward the guest (unreachable, time exceeded, packet too big) are
 * built anew by icmp_send_error(), quoting what failed (struct ip_quote) so
 * that the guest's stack finds the socket the error is for: the IPv4 header
 * and 8 bytes (RFC 792), or for IPv6 as much as fits in the minimum MTU
 * (RFC 4443 2.4 (c)).  They are rate-limited per worker (RFC 4443 2.4 (f),
 * RFC 1812 4.3.2.8), and never sent about an ICMP error, a multicast
 * destination or a source that is not unicast (RFC 4443 2.4 (e)).
 */
#include <string.h>
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>

#include "csum.h"
#include "eth.h"
#include "icmp.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"

/* Errors a worker may send: ICMP_RATE a second, in bursts of ICMP_BURST. */
#define ICMP_RATE	1000
#define ICMP_BURST	100
#define NS_PER_S	1000000000ull

/**
 * icmp_input() - answer an echo request to a gateway address
 * @ctx: protocol context
 * @f: the frame, trimmed to the datagram
 * @p: its validated IPv4 datagram
 *
 * Return: VERDICT_REPLY with @f rewritten into the echo reply, or VERDICT_DONE.
 */
enum verdict icmp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	struct icmphdr *icmp;
	uint16_t old, new;

	if (p->l4len < sizeof(*icmp) || p->l4off + sizeof(*icmp) > f->seg[0].len)
		return drop(ctx, DROP_ICMP_MALFORMED);
	if (csum_fold(frame_csum(f, p->l4off, p->l4len)))
		return drop(ctx, DROP_ICMP_CSUM);
	icmp = (struct icmphdr *)(f->seg[0].data + p->l4off);
	if (icmp->type != ICMP_ECHO || icmp->code != 0)
		return drop(ctx, DROP_ICMP_TYPE);
	if (!inany_is_unicast(&p->src))
		return drop(ctx, DROP_ICMP_MALFORMED);

	memcpy(&old, icmp, 2);
	icmp->type = ICMP_ECHOREPLY;
	memcpy(&new, icmp, 2);
	icmp->checksum = csum_replace16(icmp->checksum, old, new);
	ipv4_reply_header(p->hdr);
	eth_reply_header(ctx->gw, f);
	return VERDICT_REPLY;
}

/* True if the worker may send another error now (a token bucket); a RST
 * refusing a flow (egress.c) takes from it too.
 */
bool icmp_rate_ok(struct gw_ctx *ctx)
{
	uint64_t since = ctx->now - ctx->icmp_tokens_at;
	uint64_t fresh = !ctx->icmp_tokens_at || since >= NS_PER_S ? ICMP_BURST :
			 since * ICMP_RATE / NS_PER_S;

	if (fresh) {
		ctx->icmp_tokens = ctx->icmp_tokens + fresh > ICMP_BURST ? ICMP_BURST :
				   ctx->icmp_tokens + (uint32_t)fresh;
		ctx->icmp_tokens_at = ctx->now;
	}
	if (!ctx->icmp_tokens)
		return false;
	ctx->icmp_tokens--;
	return true;
}

/* RFC 4443 2.4 (e), RFC 1122 3.2.2: what no error may be sent about. */
static bool icmp_may_answer(const struct ip_quote *q)
{
	const uint8_t *l4 = q->l4;
	bool v6 = !inany_is_v4(&q->src);

	if (!inany_is_unicast(&q->src) || (v6 && inany_is_v6_multicast(&q->dst)) ||
	    (!v6 && !inany_is_unicast(&q->dst)))
		return false;
	if (q->proto == IPPROTO_ICMP && q->have)	/* only echo requests */
		return l4[0] == ICMP_ECHO;
	if (q->proto == IPPROTO_ICMPV6 && q->have)	/* informational: type >= 128 */
		return l4[0] & ICMPV6_INFOMSG_MASK;
	return true;
}

#define ICMP_QUOTE_L4	8	/* what ICMP quotes of the transport (RFC 792) */

static void icmp4_send_error(struct gw_ctx *ctx, const struct inany *from, uint8_t type,
			     uint8_t code, uint32_t info, const struct ip_quote *q)
{
	uint8_t msg[sizeof(struct icmphdr) + sizeof(struct iphdr) + ICMP_QUOTE_L4] = { 0 };
	struct icmphdr *icmp = (struct icmphdr *)msg;
	uint32_t guest = inany_v4(&q->src), src = from ? inany_v4(from) : ctx->gw->gw_addr;

	icmp->type = type;
	icmp->code = code;
	icmp->un.gateway = htonl(info);
	ipv4_fill_header((struct iphdr *)(icmp + 1), guest, inany_v4(&q->dst), q->proto,
			 sizeof(struct iphdr) + q->l4len, 0, 0);
	memcpy(msg + sizeof(*icmp) + sizeof(struct iphdr), q->l4,
	       q->have < ICMP_QUOTE_L4 ? q->have : ICMP_QUOTE_L4);
	icmp->checksum = csum_fold(csum_partial(msg, sizeof(msg), 0));
	ipv4_send(ctx, src, guest, IPPROTO_ICMP, msg, sizeof(msg));
}

/* Room for the quote: the whole error within the IPv6 minimum MTU. */
#define ICMP6_QUOTE_MAX	(IPV6_MIN_MTU - sizeof(struct ipv6hdr) - sizeof(struct icmp6hdr) - \
			 sizeof(struct ipv6hdr))

static void icmp6_send_error(struct gw_ctx *ctx, const struct inany *from, uint8_t type,
			     uint8_t code, uint32_t info, const struct ip_quote *q)
{
	uint8_t msg[IPV6_MIN_MTU - sizeof(struct ipv6hdr)];
	struct icmp6hdr *icmp = (struct icmp6hdr *)msg;
	uint32_t have = q->have < ICMP6_QUOTE_MAX ? q->have : (uint32_t)ICMP6_QUOTE_MAX;
	uint32_t len = sizeof(*icmp) + sizeof(struct ipv6hdr) + have;
	const struct inany *src = from ? from : &ctx->gw->gw6;

	memset(icmp, 0, sizeof(*icmp));
	icmp->icmp6_type = type;
	icmp->icmp6_code = code;
	icmp->icmp6_dataun.un_data32[0] = htonl(info);
	ipv6_fill_header((struct ipv6hdr *)(icmp + 1), &q->src, &q->dst, q->proto, q->l4len,
			 IP_DEFAULT_HOPS);
	memcpy(msg + sizeof(*icmp) + sizeof(struct ipv6hdr), q->l4, have);
	icmp->icmp6_cksum = csum_fold(csum_partial(msg, len, ip_pseudo_sum(src, &q->src,
									 IPPROTO_ICMPV6, len)));
	ipv6_send(ctx, src, &q->src, IPPROTO_ICMPV6, msg, len);
}

/**
 * icmp_send_error() - send the guest an ICMP or ICMPv6 error about one of
 *		       its datagrams
 * @ctx: protocol context
 * @from: who reports it (a router or the destination); NULL for the gateway
 * @type: the error's type, of the quote's family (ICMP_DEST_UNREACH,
 *	  ICMPV6_DEST_UNREACH, ...)
 * @code: the type's code
 * @info: the header's second word, host order: next-hop MTU (IPv4
 *	  "fragmentation needed", ICMPv6 Packet Too Big), the pointer of a
 *	  Parameter Problem, else 0
 * @q: the datagram it is about
 */
void icmp_send_error(struct gw_ctx *ctx, const struct inany *from, uint8_t type, uint8_t code,
		     uint32_t info, const struct ip_quote *q)
{
	if (!icmp_may_answer(q) || !icmp_rate_ok(ctx))
		return;
	if (inany_is_v4(&q->src))
		icmp4_send_error(ctx, from, type, code, info, q);
	else
		icmp6_send_error(ctx, from, type, code, info, q);
}

/**
 * icmp_unreachable() - "destination unreachable" to the guest about @p
 * @ctx: worker context
 * @f: the frame @p came in
 * @p: the guest's datagram, quoted
 * @code4: the code if @p is IPv4 (ICMP_NET_UNREACH, ...)
 * @code6: the code if it is IPv6 (ICMPV6_NOROUTE, ...)
 */
void icmp_unreachable(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
		      uint8_t code4, uint8_t code6)
{
	struct ip_quote q;

	ip_quote_of(&q, p, f);
	if (p->v6)
		icmp_send_error(ctx, NULL, ICMPV6_DEST_UNREACH, code6, 0, &q);
	else
		icmp_send_error(ctx, NULL, ICMP_DEST_UNREACH, code4, 0, &q);
}
