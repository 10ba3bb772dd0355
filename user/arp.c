// SPDX-License-Identifier: MIT
/*
 * arp.c - ARP responder for the gateway's addresses.
 *
 * The guest resolves the gateway (and the DNS address, which it may use
 * on-link) with ARP.  Requests for those addresses are answered with the
 * gateway's MAC, rewriting the request in place.  Everything else (replies,
 * gratuitous announcements, requests for other hosts) is counted and
 * dropped: the link has no other hosts.
 */
#include <string.h>
#include <arpa/inet.h>
#include <net/if_arp.h>

#include "arp.h"
#include "eth.h"

/* ARP for IPv4 over Ethernet (RFC 826); byte arrays need no packing. */
struct arp_eth_ipv4 {
	struct arphdr hdr;
	uint8_t sha[ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[ETH_ALEN];
	uint8_t tpa[4];
};
_Static_assert(sizeof(struct arp_eth_ipv4) == 28, "ARP layout");

#define ARP_FRAME_LEN (ETH_HLEN + sizeof(struct arp_eth_ipv4))

static bool arp_is_eth_ipv4(const struct arphdr *h)
{
	return h->ar_hrd == htons(ARPHRD_ETHER) && h->ar_pro == htons(ETH_P_IP) &&
	       h->ar_hln == ETH_ALEN && h->ar_pln == 4;
}

/**
 * arp_input() - answer an ARP request for a gateway address
 * @ctx: protocol context
 * @f: frame whose EtherType is ARP
 *
 * Return: VERDICT_REPLY with @f rewritten into the reply, or VERDICT_DONE.
 */
enum verdict arp_input(struct gw_ctx *ctx, struct frame *f)
{
	struct arp_eth_ipv4 *arp;
	uint32_t target;

	if (f->seg[0].len < ARP_FRAME_LEN)
		return drop(ctx, DROP_ARP_MALFORMED);
	arp = (struct arp_eth_ipv4 *)(f->seg[0].data + ETH_HLEN);
	if (!arp_is_eth_ipv4(&arp->hdr))
		return drop(ctx, DROP_ARP_MALFORMED);

	memcpy(&target, arp->tpa, 4);
	if (arp->hdr.ar_op != htons(ARPOP_REQUEST) || !gw_is_local(ctx->gw, target))
		return drop(ctx, DROP_ARP_IGNORED);

	arp->hdr.ar_op = htons(ARPOP_REPLY);
	memcpy(arp->tha, arp->sha, ETH_ALEN);
	memcpy(arp->tpa, arp->spa, 4);
	memcpy(arp->sha, ctx->gw->mac, ETH_ALEN);
	memcpy(arp->spa, &target, 4);
	eth_reply_header(ctx->gw, f);
	frame_trim(f, ARP_FRAME_LEN);
	return VERDICT_REPLY;
}
