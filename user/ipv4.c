// SPDX-License-Identifier: MIT
/*
 * ipv4.c - IPv4 input: header validation and dispatch by protocol.
 *
 * Theory of operation: ipv4_input() checks everything the later stages rely
 * on (version, header length, total length within the frame, header
 * checksum), trims Ethernet padding, reassembles fragments (frag.c), and
 * passes the datagram to the protocol's input function with the header already
 * validated: TCP and UDP to any destination (tcp.c, udp.c, which also
 * serves DHCP and DNS), ICMP echo to the gateway's own addresses (icmp.c)
 * or to others (ping.c).  A datagram of a flow another worker owns goes
 * to that worker first (steer.c).  The guest's header checksum is always complete (only L4
 * checksums are offloaded on veth), so a bad one means a broken or hostile
 * guest.  Options are accepted and skipped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "csum.h"
#include "eth.h"
#include "frag.h"
#include "icmp.h"
#include "ipv4.h"
#include "ping.h"
#include "steer.h"
#include "tcp.h"
#include "udp.h"


/* True unless @addr is 0.0.0.0/8, multicast, or the limited broadcast. */
bool ipv4_is_unicast(uint32_t addr)
{
	uint32_t a = ntohl(addr);

	return (a >> 24) != 0 && !IN_MULTICAST(a) && a != INADDR_BROADCAST;
}

/* Hands a whole datagram of a flow this worker owns to its protocol. */
static enum verdict ipv4_deliver(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip)
{
	if (ip->protocol == IPPROTO_TCP)
		return tcp_input(ctx, f, ip);
	if (ip->protocol == IPPROTO_UDP)
		return udp_input(ctx, f, ip);
	if (ip->protocol != IPPROTO_ICMP)
		return drop(ctx, DROP_IPV4_PROTO);
	if (gw_is_local(ctx->gw, ip->daddr))
		return icmp_input(ctx, f, ip);
	return ping_input(ctx, f, ip);
}

/* A whole datagram: to the worker that owns its flow (steer.c), or served here. */
static enum verdict ipv4_dispatch(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip)
{
	uint32_t *reserved;
	enum verdict v;

	if (steer_frame(ctx, f, ip, &reserved))	/* another worker's flow */
		return VERDICT_DONE;
	v = ipv4_deliver(ctx, f, ip);
	steer_frame_done(reserved);
	return v;
}

/*
 * A fragment: once its datagram is complete, the datagram goes to its
 * protocol; a reply built in the reassembly buffer is sent from there,
 * fragmented again as the link needs.
 */
static enum verdict ipv4_fragment(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip)
{
	struct frame whole;
	struct iphdr *wip;

	if (!frag_input(ctx, f, ip, &whole))
		return VERDICT_DONE;
	wip = (struct iphdr *)(whole.seg[0].data + ETH_HLEN);
	switch (ipv4_dispatch(ctx, &whole, wip)) {
	case VERDICT_REPLY:
		ipv4_send(ctx, wip->saddr, wip->daddr, wip->protocol,
			  whole.seg[0].data + ETH_HLEN + wip->ihl * 4u,
			  ntohs(wip->tot_len) - wip->ihl * 4u);
		break;
	case VERDICT_HELD:		/* the reassembly slot is reused next */
		udp_flush(ctx);
		tcp_flush(ctx);
		break;
	case VERDICT_DONE:
		break;
	}
	return VERDICT_DONE;
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
		return ipv4_fragment(ctx, f, ip);
	return ipv4_dispatch(ctx, f, ip);
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

/**
 * ipv4_fill_header() - write a 20-byte IPv4 header with its checksum
 * @ip: where
 * @saddr: source, network order
 * @daddr: destination, network order
 * @proto: transport protocol
 * @tot_len: datagram (or fragment) length, header included
 * @frag_off: flags and offset field, host order (IPV4_DF, IPV4_MF | offset)
 * @id: identification, host order
 */
void ipv4_fill_header(struct iphdr *ip, uint32_t saddr, uint32_t daddr, uint8_t proto,
		      uint32_t tot_len, uint16_t frag_off, uint16_t id)
{
	*ip = (struct iphdr){
		.version = 4, .ihl = 5, .tot_len = htons((uint16_t)tot_len),
		.id = htons(id), .frag_off = htons(frag_off), .ttl = IPV4_DEFAULT_TTL,
		.protocol = proto, .saddr = saddr, .daddr = daddr,
	};
	ip->check = csum_ipv4_header(ip, sizeof(*ip));
}

/**
 * ipv4_send() - send a datagram to the guest, in fragments if it is larger
 *		 than the link MTU
 * @ctx: protocol context
 * @saddr: source, network order
 * @daddr: destination (the guest), network order
 * @proto: transport protocol
 * @l4: transport header and payload, checksum already filled
 * @len: their length, at most 65515
 */
void ipv4_send(struct gw_ctx *ctx, uint32_t saddr, uint32_t daddr, uint8_t proto,
	       const uint8_t *l4, uint32_t len)
{
	uint32_t max = (ctx->gw->mtu - sizeof(struct iphdr)) & ~7u;
	uint16_t id = ctx->ip_id++;
	uint32_t off = 0;

	do {
		uint32_t n = len - off < max ? len - off : max;
		bool more = off + n < len;
		uint16_t frag = (uint16_t)((more || off ? 0 : IPV4_DF) |
					   (more ? IPV4_MF : 0) | (off / 8));
		struct frame f;

		if (!ctx->out.alloc(ctx->out.port, &f, ETH_HLEN + sizeof(struct iphdr) + n)) {
			counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
			return;
		}
		eth_to_guest_header(ctx, &f);
		ipv4_fill_header((struct iphdr *)(f.seg[0].data + ETH_HLEN), saddr, daddr,
				 proto, sizeof(struct iphdr) + n, frag, id);
		frame_copy_in(&f, ETH_HLEN + sizeof(struct iphdr), l4 + off, n);
		ctx->out.send(ctx->out.port, &f);
		off += n;
	} while (off < len);
}
