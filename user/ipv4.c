// SPDX-License-Identifier: MIT
/*
 * ipv4.c - IPv4 input: header validation and dispatch by protocol.
 *
 * Theory of operation: ipv4_input() checks everything the later stages rely
 * on (version, header length, total length within the frame, header
 * checksum), trims Ethernet padding, recognises fragments, and passes the
 * datagram to the protocol's input function with the header already
 * validated: TCP to any destination (tcp.c), ICMP to the gateway's own
 * addresses.  The guest's header checksum is always complete (only L4
 * checksums are offloaded on veth), so a bad one means a broken or hostile
 * guest.  Options are accepted and skipped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "csum.h"
#include "eth.h"
#include "icmp.h"
#include "ipv4.h"
#include "tcp.h"

#define IPV4_DEFAULT_TTL 64
#define IPV4_MF		0x2000	/* more fragments */
#define IPV4_OFFSET	0x1fff	/* fragment offset, 8-byte units */

/* True unless @addr is 0.0.0.0/8, multicast, or the limited broadcast. */
bool ipv4_is_unicast(uint32_t addr)
{
	uint32_t a = ntohl(addr);

	return (a >> 24) != 0 && !IN_MULTICAST(a) && a != INADDR_BROADCAST;
}

/**
 * ipv4_input() - validate an IPv4 datagram from the guest and dispatch it
 * @ctx: protocol context
 * @f: frame whose EtherType is IPv4
 *
 * Return: the verdict of the protocol handler, or VERDICT_DONE on a drop.
 */
enum verdict ipv4_input(struct gw_ctx *ctx, struct frame *f)
{
	uint32_t avail = f->seg[0].len - ETH_HLEN;
	struct iphdr *ip = (struct iphdr *)(f->seg[0].data + ETH_HLEN);
	uint32_t hlen, tot;

	if (avail < sizeof(*ip) || ip->version != 4 || ip->ihl < 5)
		return drop(ctx, DROP_IPV4_MALFORMED);
	hlen = ip->ihl * 4u;
	tot = ntohs(ip->tot_len);
	if (hlen > avail || tot < hlen || tot > f->len - ETH_HLEN)
		return drop(ctx, DROP_IPV4_MALFORMED);
	if (csum_ipv4_header(ip, hlen))
		return drop(ctx, DROP_IPV4_CSUM);
	frame_trim(f, ETH_HLEN + tot);

	if (ip->frag_off & htons(IPV4_MF | IPV4_OFFSET))
		return drop(ctx, DROP_IPV4_FRAGMENT);
	if (ip->protocol == IPPROTO_TCP)
		return tcp_input(ctx, f, ip);
	if (!gw_is_local(ctx->gw, ip->daddr))
		return drop(ctx, DROP_IPV4_NOT_LOCAL);

	switch (ip->protocol) {
	case IPPROTO_ICMP:
		return icmp_input(ctx, f, ip);
	default:
		return drop(ctx, DROP_IPV4_PROTO);
	}
}

/* Turns a received header into its reply's: addresses swapped, fresh TTL. */
void ipv4_reply_header(struct iphdr *ip)
{
	uint32_t src = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = src;
	ip->ttl = IPV4_DEFAULT_TTL;
	ip->check = 0;
	ip->check = csum_ipv4_header(ip, ip->ihl * 4u);
}
