// SPDX-License-Identifier: MIT
/*
 * ipv6.c - IPv6 input: header validation, the extension header chain, and
 * dispatch by upper-layer protocol; and the IPv6 header of what we send.
 *
 * Theory of operation: ipv6_input() checks the fixed header (version, a
 * payload length within the frame, no multicast source), trims Ethernet
 * padding, and walks the extension headers with the RFC 8200 rules:
 * Hop-by-Hop only right after the fixed header, Routing with no segments
 * left and never type 0 (RFC 5095), Destination Options, AH by its own
 * length rule (RFC 4302), Fragment.  ESP and unknown headers end the walk
 * as an upper layer we do not serve.  Options inside those headers are
 * skipped: the engine is the far end of every flow, and nothing it does
 * depends on them.
 *
 * A fragment goes to reassembly (frag.c): the first must hold the whole
 * header chain (RFC 7112), overlaps end the datagram (RFC 5722), and an
 * atomic fragment (offset 0, no more) is the datagram itself (RFC 6946).
 * The reassembled datagram comes back with a plain header and is walked
 * again, so what follows the Fragment header is checked like the rest.
 *
 * The datagram then goes, as a struct ippkt, to TCP, UDP (which serves
 * DHCPv6 and DNS too) or ICMPv6 (icmp6.c: NDP, echo, MLD), through the
 * steering of ip_dispatch().  One that would be forwarded with hop limit 1
 * ends here with Time Exceeded; one larger than the link MTU (a guest that
 * lies about its MTU) gets Packet Too Big.  Nothing is fragmented toward the
 * guest: what we send is sized to the MTU.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/icmpv6.h>

#include "eth.h"
#include "frag.h"
#include "icmp.h"
#include "icmp6.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"
#include "tcp.h"
#include "udp.h"

#define FRAG_HDR_LEN	8
#define IP6_MF		1	/* in the fragment header's offset word */
#define IP6_OFFSET	0xfff8
#define EXTHDR_MAX	16	/* headers walked at most */

/* Where the walk of the extension header chain ended. */
struct ip6_chain {
	uint8_t proto;		/* upper-layer protocol (or the fragment's next) */
	uint32_t off;		/* its header, from the frame's start */
	bool fragment;		/* stopped at a Fragment header */
	uint32_t frag_id;
	uint16_t frag_off;	/* offset word: offset and M flag */
};

bool ipv6_in_prefix(const struct gateway *gw, const struct inany *a)
{
	return !memcmp(a->b, gw->gw6.b, 8);
}

/* Records @a as the guest's address (struct guest_seen), if it is a new one. */
void ipv6_guest_seen_store(const struct gateway *gw, const struct inany *a)
{
	struct guest_seen *s = gw->seen;
	uint64_t w[2];

	if (!s || !ipv6_in_prefix(gw, a) || gw_is_local(gw, a) || !inany_is_unicast(a))
		return;
	memcpy(w, a->b, 16);
	if ((__atomic_load_n(&s->addr[0], __ATOMIC_RELAXED) == w[0] &&
	     __atomic_load_n(&s->addr[1], __ATOMIC_RELAXED) == w[1]) ||
	    __atomic_exchange_n(&s->busy, 1, __ATOMIC_ACQUIRE))
		return;		/* known, or another worker is writing it */
	/* a seqlock: the odd count is visible before the words (their
	 * release stores order it first), the even one after them */
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->addr[0], w[0], __ATOMIC_RELEASE);
	__atomic_store_n(&s->addr[1], w[1], __ATOMIC_RELEASE);
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
}

/* The guest's address as last seen; false if none was. */
bool ipv6_guest_seen_load(const struct guest_seen *s, struct inany *a)
{
	uint64_t w[2];
	uint32_t seq;

	if (!s)
		return false;
	do {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		/* acquire loads: the second look at the count comes after them */
		w[0] = __atomic_load_n(&s->addr[0], __ATOMIC_ACQUIRE);
		w[1] = __atomic_load_n(&s->addr[1], __ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&s->seq, __ATOMIC_RELAXED));
	memcpy(a->b, w, 16);
	return w[0] || w[1];
}

/* True for the extension headers the walk passes (RFC 8200 4, RFC 4302). */
static bool is_exthdr(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_AH || nh == IPPROTO_FRAGMENT;
}

/* The length of extension header @nh at @h (8 bytes present). */
static uint32_t exthdr_len(uint8_t nh, const uint8_t *h)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
		return (h[1] + 1u) * 8;
	case IPPROTO_AH:
		return (h[1] + 2u) * 4;	/* RFC 4302: 4-octet units, minus 2 */
	case IPPROTO_FRAGMENT:
		return FRAG_HDR_LEN;
	default:
		return 0;
	}
}

/**
 * ipv6_walk() - follow the extension headers from @nh at @off up to @end
 * @f: the frame (headers must lie in seg[0])
 * @nh: the fixed header's next header
 * @off: where the first extension header would start
 * @end: end of the datagram, from the frame's start
 * @c: where the walk ended
 *
 * Return: 0, or the drop reason.
 */
static int ipv6_walk(const struct frame *f, uint8_t nh, uint32_t off, uint32_t end,
		     struct ip6_chain *c)
{
	const uint8_t *p = f->seg[0].data;

	*c = (struct ip6_chain){ 0 };
	for (int n = 0; n < EXTHDR_MAX; n++) {
		uint32_t len;

		if (nh == IPPROTO_ESP || nh == IPPROTO_NONE)
			return DROP_IPV6_EXTHDR;
		if (!is_exthdr(nh))
			break;
		if (off + 8 > end || off + 8 > f->seg[0].len)
			return DROP_IPV6_EXTHDR;	/* chain past the data */
		len = exthdr_len(nh, p + off);
		if ((nh == IPPROTO_HOPOPTS && n) || off + len > end || off + len > f->seg[0].len)
			return DROP_IPV6_EXTHDR;
		if (nh == IPPROTO_ROUTING && (p[off + 2] == 0 || p[off + 3] != 0))
			return DROP_IPV6_EXTHDR;	/* type 0, or to be routed on */
		if (nh == IPPROTO_FRAGMENT) {
			uint16_t fo;

			memcpy(&fo, p + off + 2, 2);
			fo = ntohs(fo);
			if (fo & (IP6_OFFSET | IP6_MF)) {
				c->fragment = true;
				c->frag_off = fo;
				memcpy(&c->frag_id, p + off + 4, 4);
				c->proto = p[off];
				c->off = off + FRAG_HDR_LEN;
				return 0;
			}
			/* an atomic fragment is the whole datagram (RFC 6946) */
		}
		nh = p[off];
		off += len;
	}
	if (is_exthdr(nh))
		return DROP_IPV6_EXTHDR;	/* more than EXTHDR_MAX */
	c->proto = nh;
	c->off = off;
	return 0;
}

/* Hands a whole datagram of a flow this worker owns to its protocol. */
static enum verdict ipv6_deliver(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
		return tcp_input(ctx, f, p);
	case IPPROTO_UDP:
		return udp_input(ctx, f, p);
	case IPPROTO_ICMPV6:
		return icmp6_input(ctx, f, p);
	default:
		return drop(ctx, DROP_IPV6_PROTO);
	}
}

/*
 * The network layer's own errors, before a datagram reaches its upper
 * layer: a frame the link could not have carried (Packet Too Big; a
 * reassembled datagram or a tap's super-frame may be larger), one whose hop limit ends at the
 * gateway (Time Exceeded; not for the gateway's own addresses, nor for
 * link-scoped traffic such as NDP).  True if handled.
 */
static bool ipv6_hop_errors(struct gw_ctx *ctx, const struct ippkt *p, const struct frame *f,
			    bool reassembled)
{
	struct ip_quote q;

	if (!reassembled && !(f->flags & FRAME_GSO) &&
	    p->l4off - ETH_HLEN + p->l4len > ctx->gw->mtu) {
		ip_quote_of(&q, p, f);
		icmp_send_error(ctx, NULL, ICMPV6_PKT_TOOBIG, 0, ctx->gw->mtu, &q);
		return true;
	}
	if (p->hops > 1 || gw_is_local(ctx->gw, &p->dst) || inany_is_v6_multicast(&p->dst) ||
	    inany_is_v6_linklocal(&p->dst))
		return false;
	ip_quote_of(&q, p, f);
	icmp_send_error(ctx, NULL, ICMPV6_TIME_EXCEED, ICMPV6_EXC_HOPLIMIT, 0, &q);
	return true;
}

/* Fills @p from the fixed header at @ip6 and the walk @c. */
static void ipv6_pkt(struct ippkt *p, struct ipv6hdr *ip6, const struct ip6_chain *c)
{
	p->hdr = ip6;
	p->v6 = true;
	p->proto = c->proto;
	p->hops = ip6->hop_limit;
	p->l4off = c->off;
	p->l4len = ETH_HLEN + sizeof(*ip6) + ntohs(ip6->payload_len) - c->off;
	memcpy(p->src.b, &ip6->saddr, 16);
	memcpy(p->dst.b, &ip6->daddr, 16);
}

static enum verdict ipv6_datagram(struct gw_ctx *ctx, struct frame *f, bool reassembled);

/*
 * A fragment: reassembled (frag.c) and the whole datagram walked again.  A
 * reply built in the reassembly buffer (an echo reply) is sent from there.
 */
static enum verdict ipv6_fragment(struct gw_ctx *ctx, struct frame *f, struct ipv6hdr *ip6,
				  const struct ip6_chain *c)
{
	uint32_t end = ETH_HLEN + sizeof(*ip6) + ntohs(ip6->payload_len);
	struct frag_desc d = {
		.id = c->frag_id, .proto = c->proto, .hops = ip6->hop_limit,
		.last = !(c->frag_off & IP6_MF), .off = c->frag_off & IP6_OFFSET,
		.data_off = c->off, .len = end - c->off,
	};
	struct ip6_chain first;
	struct frame whole;

	memcpy(d.src.b, &ip6->saddr, 16);
	memcpy(d.dst.b, &ip6->daddr, 16);
	/* RFC 7112: the first fragment holds every header up to the upper layer's */
	if (!d.off && (ipv6_walk(f, c->proto, c->off, end, &first) || first.fragment ||
		       first.off + 8 > end))
		return drop(ctx, DROP_IPV6_EXTHDR);
	if (!frag_input(ctx, f, &d, &whole))
		return VERDICT_DONE;
	ip_reassembled_done(ctx, &whole, ipv6_datagram(ctx, &whole, true));
	return VERDICT_DONE;
}

/* A datagram whose fixed header is valid: its chain, then its upper layer. */
static enum verdict ipv6_datagram(struct gw_ctx *ctx, struct frame *f, bool reassembled)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(f->seg[0].data + ETH_HLEN);
	uint32_t end = ETH_HLEN + sizeof(*ip6) + ntohs(ip6->payload_len);
	struct ip6_chain c;
	struct ippkt p;
	int why = ipv6_walk(f, ip6->nexthdr, ETH_HLEN + sizeof(*ip6), end, &c);

	if (why)
		return drop(ctx, (enum drop_reason)why);
	if (c.fragment)
		return reassembled ? drop(ctx, DROP_IPV6_EXTHDR) : ipv6_fragment(ctx, f, ip6, &c);
	ipv6_pkt(&p, ip6, &c);
	if (ipv6_hop_errors(ctx, &p, f, reassembled))
		return VERDICT_DONE;
	return ip_dispatch(ctx, f, &p, ipv6_deliver);
}

/**
 * ipv6_input() - validate an IPv6 datagram from the guest and dispatch it
 * @ctx: protocol context
 * @f: frame whose EtherType is IPv6
 *
 * Return: the verdict of the protocol handler, or VERDICT_DONE on a drop.
 */
enum verdict ipv6_input(struct gw_ctx *ctx, struct frame *f)
{
	uint32_t avail = f->seg[0].len - ETH_HLEN;
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(f->seg[0].data + ETH_HLEN);
	uint32_t plen;

	if (!ctx->gw->ipv6)
		return drop(ctx, DROP_IPV6_OFF);
	if (avail < sizeof(*ip6) || ip6->version != 6)
		return drop(ctx, DROP_IPV6_MALFORMED);
	plen = ntohs(ip6->payload_len);
	/* no jumbograms (RFC 2675); IPv4-mapped addresses never appear on the
	 * wire (RFC 4291 2.5.5.2), and here they would pass for IPv4 */
	if (!plen || plen > f->len - ETH_HLEN - sizeof(*ip6) ||
	    inany_is_v6_multicast((struct inany *)&ip6->saddr) ||
	    inany_is_v4((struct inany *)&ip6->saddr) || inany_is_v4((struct inany *)&ip6->daddr))
		return drop(ctx, DROP_IPV6_MALFORMED);
	frame_trim(f, ETH_HLEN + sizeof(*ip6) + plen);
	return ipv6_datagram(ctx, f, false);
}

/* Writes a 40-byte IPv6 header (no traffic class, no flow label). */
void ipv6_fill_header(struct ipv6hdr *ip6, const struct inany *src, const struct inany *dst,
		      uint8_t proto, uint32_t plen, uint8_t hops)
{
	*ip6 = (struct ipv6hdr){ .version = 6, .payload_len = htons((uint16_t)plen),
				 .nexthdr = proto, .hop_limit = hops };
	memcpy(&ip6->saddr, src->b, 16);
	memcpy(&ip6->daddr, dst->b, 16);
}

/*
 * Writes the Ethernet and IPv6 headers of a frame to the guest: to its MAC,
 * or a multicast destination's (RFC 2464 7: 33:33 and its last 32 bits).
 */
void ipv6_fill_headers(const struct gw_ctx *ctx, struct frame *f, const struct inany *src,
		       const struct inany *dst, uint8_t proto, uint32_t l4len, uint8_t hops)
{
	struct ethhdr *eth = (struct ethhdr *)f->seg[0].data;

	eth_to_guest_header(ctx, f, ETH_P_IPV6);
	if (inany_is_v6_multicast(dst)) {
		eth->h_dest[0] = 0x33;
		eth->h_dest[1] = 0x33;
		memcpy(eth->h_dest + 2, dst->b + 12, 4);
	}
	ipv6_fill_header((struct ipv6hdr *)(f->seg[0].data + ETH_HLEN), src, dst, proto, l4len,
			 hops);
}

/**
 * ipv6_send_hops() - send a datagram built apart to the guest
 * @ctx: protocol context
 * @src: source
 * @dst: the guest, or a multicast group
 * @proto: upper-layer protocol
 * @l4: upper-layer header and payload, checksum filled
 * @len: their length; above the link MTU the datagram is dropped (counted)
 * @hops: hop limit (255 for NDP, RFC 4861)
 */
void ipv6_send_hops(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
		    uint8_t proto, const uint8_t *l4, uint32_t len, uint8_t hops)
{
	uint32_t hdrs = ETH_HLEN + sizeof(struct ipv6hdr);
	struct frame f;

	if (sizeof(struct ipv6hdr) + len > ctx->gw->mtu) {
		counter_add(&ctx->cnt->drop[DROP_TX_TOO_BIG], 1);
		return;
	}
	if (!ctx->out.alloc(ctx->out.port, &f, hdrs + len)) {
		counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
		return;
	}
	ipv6_fill_headers(ctx, &f, src, dst, proto, len, hops);
	frame_copy_in(&f, hdrs, l4, len);
	ctx->out.send(ctx->out.port, &f);
}

void ipv6_send(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
	       uint8_t proto, const uint8_t *l4, uint32_t len)
{
	ipv6_send_hops(ctx, src, dst, proto, l4, len, IP_DEFAULT_HOPS);
}
