// SPDX-License-Identifier: MIT
/*
 * eth.c - Ethernet: the entry point of every frame from the guest.
 *
 * Theory of operation: eth_input() is called by a worker for each frame it
 * receives.  It checks the Ethernet header and hands the frame to the
 * protocol named by the EtherType: arp_input(), ipv4_input() or
 * ipv6_input().  The source address of the guest's frames is where the
 * engine's own frames go.  Those answer in place (the request's buffers
 * become the reply, see enum verdict) or drop the frame with a counted
 * reason.  Nothing here keeps state: the path of a frame is a chain of
 * calls that ends in a verdict.
 */
#include <string.h>
#include <arpa/inet.h>

#include "arp.h"
#include "eth.h"
#include "ipv4.h"
#include "ipv6.h"

static bool eth_addressed_to_us(const struct gateway *gw, const uint8_t *dst)
{
	return (dst[0] & 1) || !memcmp(dst, gw->mac, ETH_ALEN);
}

/**
 * eth_input() - handle one frame from the guest
 * @ctx: the calling worker's protocol context
 * @f: the frame, owned by the caller's backend
 *
 * Return: VERDICT_REPLY if @f now holds a reply to transmit, else VERDICT_DONE.
 */
enum verdict eth_input(struct gw_ctx *ctx, struct frame *f)
{
	const struct ethhdr *eth;

	if (f->nseg == 0 || f->seg[0].len < ETH_HLEN)
		return drop(ctx, DROP_ETH_SHORT);
	eth = (const struct ethhdr *)f->seg[0].data;
	if (!eth_addressed_to_us(ctx->gw, eth->h_dest))
		return drop(ctx, DROP_ETH_DEST);
	if (!(eth->h_source[0] & 1))	/* the guest: where our frames go */
		memcpy(ctx->guest_mac, eth->h_source, ETH_ALEN);

	switch (ntohs(eth->h_proto)) {
	case ETH_P_ARP:
		return arp_input(ctx, f);
	case ETH_P_IP:
		return ipv4_input(ctx, f);
	case ETH_P_IPV6:
		return ipv6_input(ctx, f);
	default:
		return drop(ctx, DROP_ETH_TYPE);
	}
}

/* Turns the Ethernet header of a received frame into that of its reply. */
void eth_reply_header(const struct gateway *gw, struct frame *f)
{
	struct ethhdr *eth = (struct ethhdr *)f->seg[0].data;

	memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	memcpy(eth->h_source, gw->mac, ETH_ALEN);
}

/* Writes the Ethernet header of a frame the gateway sends to the guest. */
void eth_to_guest_header(const struct gw_ctx *ctx, struct frame *f, uint16_t ethertype)
{
	struct ethhdr *eth = (struct ethhdr *)f->seg[0].data;

	memcpy(eth->h_dest, ctx->guest_mac, ETH_ALEN);
	memcpy(eth->h_source, ctx->gw->mac, ETH_ALEN);
	eth->h_proto = htons(ethertype);
}
