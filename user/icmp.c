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
 * icmp_send_error() - send the guest an ICMP error about one of its datagrams
 * @ctx: protocol context
 * @saddr: who reports it (a router, the destination, or the gateway)
 * @type: ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ...
 * @code: the type's code
 * @info: the header's second word, host order (next-hop MTU for "fragmentation
 *	  needed"), else 0
 * @quote_ip: IPv4 header (20 bytes, no options) of the guest's datagram
 * @quote_l4: first 8 bytes of its transport header
 *
 * The quote is what lets the guest's stack find the socket the error is for.
 */
void icmp_send_error(struct gw_ctx *ctx, uint32_t saddr, uint8_t type, uint8_t code,
		     uint32_t info, const struct iphdr *quote_ip, const void *quote_l4)
{
	uint8_t msg[sizeof(struct icmphdr) + sizeof(struct iphdr) + ICMP_QUOTE_L4];
	struct icmphdr *icmp = (struct icmphdr *)msg;

	memset(icmp, 0, sizeof(*icmp));
	icmp->type = type;
	icmp->code = code;
	icmp->un.gateway = htonl(info);
	memcpy(msg + sizeof(*icmp), quote_ip, sizeof(*quote_ip));
	memcpy(msg + sizeof(*icmp) + sizeof(*quote_ip), quote_l4, ICMP_QUOTE_L4);
	icmp->checksum = csum_fold(csum_partial(msg, sizeof(msg), 0));
	ipv4_send(ctx, saddr, quote_ip->saddr, IPPROTO_ICMP, msg, sizeof(msg));
}
