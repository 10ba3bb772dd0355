// SPDX-License-Identifier: MIT
/*
 * icmp.c - ICMP echo for the gateway's own addresses.
 *
 * An echo request to the gateway or DNS address is answered in place: the
 * request's buffers, all of them for a large multi-buffer ping, become the
 * reply.  ICMP checksums are not offloaded by the guest, so the request's is
 * verified over the whole message, and the reply's is derived from it with
 * an incremental update (only the type changes), never recomputed.
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
