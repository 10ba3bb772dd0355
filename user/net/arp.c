// SPDX-License-Identifier: MIT
/*
 * arp.c - ARP responder for the gateway's addresses.
 *
 * The guest resolves the gateway (and the DNS address, which it may use
 * on-link) with ARP.  Requests for those addresses are answered with the
 * gateway's MAC, rewriting the request in place.  Everything else (replies,
 * gratuitous announcements, requests for other hosts) is counted and
 * dropped: the link has no other hosts.  The gateway also asks for the
 * guest's address when it must reach a guest that has not spoken yet.
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
	struct inany target;

	if (f->seg[0].len < ARP_FRAME_LEN)
		return drop(ctx, DROP_ARP_MALFORMED);
	arp = (struct arp_eth_ipv4 *)(f->seg[0].data + ETH_HLEN);
	if (!arp_is_eth_ipv4(&arp->hdr))
		return drop(ctx, DROP_ARP_MALFORMED);

	inany_from_v4(&target, 0);
	memcpy(target.b + 12, arp->tpa, 4);
	if (arp->hdr.ar_op != htons(ARPOP_REQUEST) || !gw_answers_for(ctx, &target))
		return drop(ctx, DROP_ARP_IGNORED);

	arp->hdr.ar_op = htons(ARPOP_REPLY);
	memcpy(arp->tha, arp->sha, ETH_ALEN);
	memcpy(arp->tpa, arp->spa, 4);
	memcpy(arp->sha, ctx->gw->mac, ETH_ALEN);
	memcpy(arp->spa, target.b + 12, 4);
	eth_reply_header(ctx->gw, f);
	frame_trim(f, ARP_FRAME_LEN);
	return VERDICT_REPLY;
}

/* True while the guest's MAC address is not known (frames go to broadcast). */
bool arp_guest_unknown(const struct gw_ctx *ctx)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return !memcmp(ctx->guest_mac, bcast, ETH_ALEN);
}

/*
 * Asks the guest for its MAC address (ARP request from the gateway): TCP
 * drops frames not addressed to its own MAC, so a connection to a guest
 * that never spoke (a forwarded port) needs it.  The reply teaches
 * eth_input() the address; the SYN's retransmission then gets through.
 */
void arp_ask_guest(struct gw_ctx *ctx)
{
	struct arp_eth_ipv4 *arp;
	struct ethhdr *eth;
	struct frame f;

	if (!ctx->out.alloc(ctx->out.port, &f, ARP_FRAME_LEN)) {
		counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
		return;
	}
	eth = (struct ethhdr *)f.seg[0].data;
	memset(eth->h_dest, 0xff, ETH_ALEN);
	memcpy(eth->h_source, ctx->gw->mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_ARP);
	arp = (struct arp_eth_ipv4 *)(eth + 1);
	arp->hdr = (struct arphdr){ .ar_hrd = htons(ARPHRD_ETHER), .ar_pro = htons(ETH_P_IP),
				    .ar_hln = ETH_ALEN, .ar_pln = 4, .ar_op = htons(ARPOP_REQUEST) };
	memcpy(arp->sha, ctx->gw->mac, ETH_ALEN);
	memcpy(arp->spa, &ctx->gw->gw_addr, 4);
	memset(arp->tha, 0, ETH_ALEN);
	memcpy(arp->tpa, &ctx->gw->guest_addr, 4);
	ctx->out.send(ctx->out.port, &f);
}
