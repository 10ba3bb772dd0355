// SPDX-License-Identifier: MIT
/*
 * icmp.c - ICMP echo for the gateway's own addresses.
 *
 * An echo request to the gateway or DNS address is answered in place: the
 * request's buffers, all of them for a large multi-buffer ping, become the
 * reply.  ICMP checksums are not offloaded by the guest, so the request's is
 * verified over the whole message, and the reply's is derived from it with
 * an incremental update (only the type changes), never recomputed.
 *
 * Errors toward the guest (destination unreachable) are built anew by
 * icmp_send_unreach(), quoting the header of what failed, so that the
 * guest's stack finds the socket the error is for.
 */
#include <string.h>
#include <arpa/inet.h>
#include <linux/icmp.h>

#include "csum.h"
#include "eth.h"
#include "icmp.h"
#include "ipv4.h"

/**
 * icmp_input() - answer an echo request to a gateway address
 * @ctx: protocol context
 * @f: the frame, trimmed to the datagram
 * @ip: its validated IPv4 header, in f->seg[0]
 *
 * Return: VERDICT_REPLY with @f rewritten into the echo reply, or VERDICT_DONE.
 */
enum verdict icmp_input(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip)
{
	uint32_t off = ETH_HLEN + ip->ihl * 4u;
	uint32_t len = ntohs(ip->tot_len) - ip->ihl * 4u;
	struct icmphdr *icmp;
	uint16_t old, new;

	if (len < sizeof(*icmp) || off + sizeof(*icmp) > f->seg[0].len)
		return drop(ctx, DROP_ICMP_MALFORMED);
	if (csum_fold(frame_csum(f, off, len)))
		return drop(ctx, DROP_ICMP_CSUM);
	icmp = (struct icmphdr *)(f->seg[0].data + off);
	if (icmp->type != ICMP_ECHO || icmp->code != 0)
		return drop(ctx, DROP_ICMP_TYPE);
	if (!ipv4_is_unicast(ip->saddr))
		return drop(ctx, DROP_ICMP_MALFORMED);

	memcpy(&old, icmp, 2);
	icmp->type = ICMP_ECHOREPLY;
	memcpy(&new, icmp, 2);
	icmp->checksum = csum_replace16(icmp->checksum, old, new);
	ipv4_reply_header(ip);
	eth_reply_header(ctx->gw, f);
	return VERDICT_REPLY;
}

/* What an ICMP error quotes of the datagram it is about (RFC 792). */
#define ICMP_QUOTE_L4	8

/**
 * icmp_send_unreach() - tell the guest a destination is unreachable
 * @ctx: protocol context
 * @code: ICMP_NET_UNREACH, ICMP_HOST_UNREACH, ...
 * @quote_ip: IPv4 header (20 bytes, no options) of the guest's datagram
 * @quote_l4: first 8 bytes of its transport header
 *
 * Sent from the gateway address: the gateway is the router that gives up.
 */
void icmp_send_unreach(struct gw_ctx *ctx, uint8_t code, const struct iphdr *quote_ip,
		       const void *quote_l4)
{
	uint32_t icmp_len = sizeof(struct icmphdr) + sizeof(*quote_ip) + ICMP_QUOTE_L4;
	uint32_t len = ETH_HLEN + sizeof(struct iphdr) + icmp_len;
	struct ethhdr *eth;
	struct icmphdr *icmp;
	struct iphdr *ip;
	struct frame f;
	uint8_t *p;

	if (!ctx->out.alloc(ctx->out.port, &f, len)) {
		counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
		return;
	}
	p = f.seg[0].data;
	eth = (struct ethhdr *)p;
	memcpy(eth->h_dest, ctx->guest_mac, ETH_ALEN);
	memcpy(eth->h_source, ctx->gw->mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip = (struct iphdr *)(p + ETH_HLEN);
	*ip = (struct iphdr){
		.version = 4, .ihl = 5, .tot_len = htons((uint16_t)(len - ETH_HLEN)),
		.ttl = 64, .protocol = IPPROTO_ICMP,
		.saddr = ctx->gw->gw_addr, .daddr = quote_ip->saddr,
	};
	ip->check = csum_ipv4_header(ip, sizeof(*ip));
	icmp = (struct icmphdr *)(ip + 1);
	memset(icmp, 0, sizeof(*icmp));
	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = code;
	memcpy(icmp + 1, quote_ip, sizeof(*quote_ip));
	memcpy((uint8_t *)(icmp + 1) + sizeof(*quote_ip), quote_l4, ICMP_QUOTE_L4);
	icmp->checksum = csum_fold(csum_partial(icmp, icmp_len, 0));
	ctx->out.send(ctx->out.port, &f);
}
