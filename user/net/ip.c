// SPDX-License-Identifier: MIT
/*
 * ip.c - what the transport code asks of the network layer, whatever the
 * family: the pseudo-header sum, the headers of a frame to the guest, and
 * sending a datagram built apart.  Each call goes to ipv4.c or ipv6.c by the
 * family of the addresses (struct inany); the transport code never asks.
 */
#include <arpa/inet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "csum.h"
#include "eth.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"
#include "tcp.h"
#include "udp.h"

/* Unfolded pseudo-header sum of a transport segment (RFC 768/793, RFC 8200 8.1). */
uint32_t ip_pseudo_sum(const struct inany *src, const struct inany *dst, uint8_t proto,
		       uint32_t l4len)
{
	uint32_t tail[2] = { htonl(l4len), htonl(proto) };

	if (inany_is_v4(src))
		return csum_pseudo_ipv4(inany_v4(src), inany_v4(dst), proto, (uint16_t)l4len);
	return csum_partial(tail, sizeof(tail),
			    csum_partial(dst->b, 16, csum_partial(src->b, 16, 0)));
}

/**
 * ip_fill_headers() - write the Ethernet and IP headers of a frame to the guest
 * @ctx: worker context
 * @f: the frame; its transport header starts after the returned length
 * @src: source address (the guest's peer)
 * @dst: destination (the guest)
 * @proto: transport protocol
 * @l4len: transport header and payload
 *
 * IPv4 leaves with DF (we size segments to the link, never fragment them).
 *
 * Return: the length of both headers.
 */
uint32_t ip_fill_headers(const struct gw_ctx *ctx, struct frame *f, const struct inany *src,
			 const struct inany *dst, uint8_t proto, uint32_t l4len)
{
	uint8_t *l3 = f->seg[0].data + ETH_HLEN;

	if (inany_is_v4(src)) {
		eth_to_guest_header(ctx, f, ETH_P_IP);
		ipv4_fill_header((struct iphdr *)l3, inany_v4(src), inany_v4(dst), proto,
				 IP_HLEN(false) + l4len, IPV4_DF, 0);
		return ETH_HLEN + IP_HLEN(false);
	}
	ipv6_fill_headers(ctx, f, src, dst, proto, l4len, IP_DEFAULT_HOPS);
	return ETH_HLEN + IP_HLEN(true);
}

/**
 * ip_send() - send a datagram built apart to the guest
 * @ctx: protocol context
 * @src: source
 * @dst: destination (the guest, or a multicast group of the link)
 * @proto: transport protocol
 * @l4: transport header and payload, checksum filled
 * @len: their length
 *
 * IPv4 is fragmented to the link's MTU; IPv6 never is (its senders size
 * what they send), so a larger IPv6 datagram is dropped and counted.
 */
void ip_send(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
	     uint8_t proto, const uint8_t *l4, uint32_t len)
{
	if (inany_is_v4(src))
		ipv4_send(ctx, inany_v4(src), inany_v4(dst), proto, l4, len);
	else
		ipv6_send(ctx, src, dst, proto, l4, len);
}

/**
 * ip_reassembled_done() - finish with a datagram reassembled from fragments
 * @ctx: protocol context
 * @whole: the datagram, in a reassembly slot that the next fragment reuses
 * @v: what its protocol did with it
 *
 * A reply built in place (an echo reply) is sent from the slot, as a new
 * frame (IPv4 fragmented as the link needs); held payload is written now.
 */
void ip_reassembled_done(struct gw_ctx *ctx, const struct frame *whole, enum verdict v)
{
	const uint8_t *l3 = whole->seg[0].data + ETH_HLEN;

	if (v == VERDICT_HELD) {
		udp_flush(ctx);
		tcp_flush(ctx);
	} else if (v == VERDICT_REPLY && (l3[0] >> 4) == 4) {
		const struct iphdr *ip = (const struct iphdr *)l3;

		ipv4_send(ctx, ip->saddr, ip->daddr, ip->protocol, l3 + ip->ihl * 4u,
			  ntohs(ip->tot_len) - ip->ihl * 4u);
	} else if (v == VERDICT_REPLY) {
		const struct ipv6hdr *ip6 = (const struct ipv6hdr *)l3;

		ipv6_send(ctx, (const struct inany *)&ip6->saddr, (const struct inany *)&ip6->daddr,
			  ip6->nexthdr, l3 + sizeof(*ip6), ntohs(ip6->payload_len));
	}
}

/* The quote of an ICMP error about the guest's datagram @p, in @f. */
void ip_quote_of(struct ip_quote *q, const struct ippkt *p, const struct frame *f)
{
	uint32_t in_seg = f->seg[0].len - p->l4off;

	*q = (struct ip_quote){ .src = p->src, .dst = p->dst, .proto = p->proto,
				.l4len = p->l4len, .l4 = f->seg[0].data + p->l4off,
				.have = p->l4len < in_seg ? p->l4len : in_seg };
}
