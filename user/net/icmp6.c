// SPDX-License-Identifier: MIT
/*
 * icmp6.c - ICMPv6 from the guest (RFC 4443): where each type goes.
 *
 * Theory of operation: every message's checksum is verified first (the
 * guest computes ICMPv6 checksums in full; nothing offloads them).  Echo
 * requests to the gateway's addresses (fd00::2, fd00::3, fe80::2) are
 * answered in place, like IPv4's (icmp.c); to any other unicast address
 * they go out through a ping socket (ping.c).  Router and Neighbor
 * Solicitations go to ndp.c.  Router Advertisements and Redirects from the
 * guest are counted and ignored (a guest is no router of ours), as are its
 * Neighbor Advertisements (its MAC is learnt from every frame anyway) and
 * its MLD reports (there is no multicast to deliver).  Errors the guest
 * sends are dropped: no flow of ours waits for one.
 */
#include <arpa/inet.h>
#include <linux/icmpv6.h>

#include "csum.h"
#include "eth.h"
#include "icmp6.h"
#include "ip.h"
#include "ipv6.h"
#include "ndp.h"
#include "ping.h"
#include "udp.h"

#define MLD_QUERY	130
#define MLD_REPORT	131
#define MLD_DONE	132
#define MLD2_REPORT	143

/*
 * Echo reply in place: type 128 becomes 129 (an incremental checksum
 * update: swapping the addresses leaves the pseudo-header sum as it was),
 * addresses swapped.  A request behind extension headers is answered by a
 * copy without them.
 */
static enum verdict icmp6_echo_reply(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	struct icmp6hdr *icmp = (struct icmp6hdr *)(f->seg[0].data + p->l4off);
	struct ipv6hdr *ip6 = p->hdr;
	uint16_t old, new;

	memcpy(&old, icmp, 2);
	icmp->icmp6_type = ICMPV6_ECHO_REPLY;
	memcpy(&new, icmp, 2);
	icmp->icmp6_cksum = csum_replace16(icmp->icmp6_cksum, old, new);
	if (p->l4off != ETH_HLEN + sizeof(*ip6)) {
		if (p->l4len > UDP_SCRATCH)
			return drop(ctx, DROP_IPV6_EXTHDR);
		frame_copy_out(f, p->l4off, ctx->scratch, p->l4len);
		ipv6_send(ctx, &p->dst, &p->src, IPPROTO_ICMPV6, ctx->scratch, p->l4len);
		return VERDICT_DONE;
	}
	memcpy(&ip6->daddr, p->src.b, 16);
	memcpy(&ip6->saddr, p->dst.b, 16);
	ip6->hop_limit = IP_DEFAULT_HOPS;
	ip6->flow_lbl[0] = ip6->flow_lbl[1] = ip6->flow_lbl[2] = 0;
	eth_reply_header(ctx->gw, f);
	return VERDICT_REPLY;
}

/**
 * icmp6_input() - an ICMPv6 message from the guest
 * @ctx: protocol context
 * @f: the frame (or reassembled datagram)
 * @p: its validated IPv6 datagram
 *
 * Return: VERDICT_REPLY for an echo reply built in place, else VERDICT_DONE.
 */
enum verdict icmp6_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	const struct icmp6hdr *icmp;

	if (p->l4len < sizeof(*icmp) || p->l4off + sizeof(*icmp) > f->seg[0].len)
		return drop(ctx, DROP_ICMP_MALFORMED);
	if (csum_fold(csum_add(frame_csum(f, p->l4off, p->l4len),
			       ip_pseudo_sum(&p->src, &p->dst, IPPROTO_ICMPV6, p->l4len))))
		return drop(ctx, DROP_ICMP_CSUM);
	icmp = (const struct icmp6hdr *)(f->seg[0].data + p->l4off);
	switch (icmp->icmp6_type) {
	case ICMPV6_ECHO_REQUEST:
		if (icmp->icmp6_code || !inany_is_unicast(&p->src))
			return drop(ctx, DROP_ICMP_MALFORMED);
		if (gw_is_local(ctx->gw, &p->dst))
			return icmp6_echo_reply(ctx, f, p);
		if (!inany_is_unicast(&p->dst))
			return drop(ctx, DROP_ICMP_TYPE);
		return ping_input(ctx, f, p);
	case NDP_RS:
	case NDP_NS:
		return ndp_input(ctx, f, p);
	case NDP_RA:
	case NDP_NA:
	case NDP_REDIRECT:
		return drop(ctx, DROP_NDP_IGNORED);
	case MLD_QUERY:
	case MLD_REPORT:
	case MLD_DONE:
	case MLD2_REPORT:
		return drop(ctx, DROP_MLD);
	default:
		return drop(ctx, DROP_ICMP_TYPE);
	}
}
