// SPDX-License-Identifier: MIT
/*
 * ipv4.c - IPv4 input: header validation and dispatch by protocol.
 *
 * Theory of operation: ipv4_input() checks everything the later stages rely
 * on (version, header length, total length within the frame, header
 * checksum), trims Ethernet padding, reassembles fragments (frag.c), and
 * passes the datagram to the protocol's input function as a struct ippkt
 * (ip.h), the family-neutral view the transport code works with: TCP and UDP to any destination (tcp.c, udp.c, which also
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
#include "ip.h"
#include "ipv4.h"
#include "ping.h"
#include "steer.h"
#include "tcp.h"
#include "udp.h"


/* Hands a whole datagram of a flow this worker owns to its protocol. */
static enum verdict ipv4_deliver(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	if (p->proto == IPPROTO_TCP)
		return tcp_input(ctx, f, p);
	if (p->proto == IPPROTO_UDP)
		return udp_input(ctx, f, p);
	if (p->proto != IPPROTO_ICMP)
		return drop(ctx, DROP_IPV4_PROTO);
	if (gw_is_local(ctx->gw, &p->dst))
		return icmp_input(ctx, f, p);
	return ping_input(ctx, f, p);
}

/*
 * A whole datagram, of either family: to a peer guest whose address it is
 * (engine_switch.c), to the worker that owns its flow (steer.c), or served
 * here by @deliver.
 */
enum verdict ip_dispatch(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
			 enum verdict (*deliver)(struct gw_ctx *, struct frame *,
						 const struct ippkt *))
{
	uint32_t *reserved;
	enum verdict v;

	if (ctx->peers && ctx->peers->forward(ctx, f, p))	/* another guest's */
		return VERDICT_DONE;
	if (steer_frame(ctx, f, p, &reserved))	/* another worker's flow */
		return VERDICT_DONE;
	v = deliver(ctx, f, p);
	steer_frame_done(reserved);
	return v;
}

/* What the transport code needs of a validated IPv4 header at @ip. */
static void ipv4_pkt(struct ippkt *p, struct iphdr *ip)
{
	uint32_t hlen = ip->ihl * 4u;

	p->hdr = ip;
	p->v6 = false;
	p->proto = ip->protocol;
	p->hops = ip->ttl;
	p->l4off = ETH_HLEN + hlen;
	p->l4len = ntohs(ip->tot_len) - hlen;
	inany_from_v4(&p->src, ip->saddr);
	inany_from_v4(&p->dst, ip->daddr);
}

/*
 * A fragment: once its datagram is complete, the datagram goes to its
 * protocol; a reply built in the reassembly buffer is sent from there,
 * fragmented again as the link needs.
 */
static enum verdict ipv4_fragment(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip)
{
	uint32_t hlen = ip->ihl * 4u;
	struct frag_desc d = {
		.id = ntohs(ip->id), .proto = ip->protocol, .hops = ip->ttl,
		.last = !(ip->frag_off & htons(IPV4_MF)),
		.off = (ntohs(ip->frag_off) & IPV4_OFFSET) * 8u,
		.data_off = ETH_HLEN + hlen, .len = ntohs(ip->tot_len) - hlen,
	};
	struct frame whole;
	struct iphdr *wip;
	struct ippkt p;

	inany_from_v4(&d.src, ip->saddr);
	inany_from_v4(&d.dst, ip->daddr);
	if (!frag_input(ctx, f, &d, &whole))
		return VERDICT_DONE;
	wip = (struct iphdr *)(whole.seg[0].data + ETH_HLEN);
	ipv4_pkt(&p, wip);
	ip_reassembled_done(ctx, &whole, ip_dispatch(ctx, &whole, &p, ipv4_deliver));
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
	struct ippkt p;

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
	ipv4_pkt(&p, ip);
	return ip_dispatch(ctx, f, &p, ipv4_deliver);
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
		eth_to_guest_header(ctx, &f, ETH_P_IP);
		ipv4_fill_header((struct iphdr *)(f.seg[0].data + ETH_HLEN), saddr, daddr,
				 proto, sizeof(struct iphdr) + n, frag, id);
		frame_copy_in(&f, ETH_HLEN + sizeof(struct iphdr), l4 + off, n);
		ctx->out.send(ctx->out.port, &f);
		off += n;
	} while (off < len);
}
