/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_IP_H
#define XDPSLIRP_IP_H

#include "gateway.h"

#define IP_HLEN(v6)	((v6) ? 40u : 20u)	/* the headers we write */
#define IP_DEFAULT_HOPS	64

/*
 * struct ippkt - a validated datagram from the guest, of either family:
 * what the transport input functions (tcp.c, udp.c, ping.c) need of its
 * network layer.  ipv4_input() and ipv6_input() fill it once; nothing past
 * them looks at an IP header of the guest's again.
 */
struct ippkt {
	void *hdr;		/* struct iphdr or struct ipv6hdr, in seg[0] */
	struct inany src, dst;
	uint32_t l4off;		/* transport header, from the frame's start */
	uint32_t l4len;		/* transport header and payload */
	uint8_t proto;		/* the upper-layer protocol */
	uint8_t hops;		/* TTL or hop limit, as received */
	bool v6;
};

/*
 * struct ip_quote - the guest's datagram an ICMP error is about, as the
 * error quotes it: addresses as the guest sent them, and the first bytes
 * of the transport header (the ports or echo identifier that let the
 * guest's stack find the socket).
 */
struct ip_quote {
	struct inany src, dst;
	uint8_t proto;
	uint32_t l4len;		/* transport length of the original */
	const void *l4;
	uint32_t have;		/* bytes at @l4 */
};

uint32_t ip_pseudo_sum(const struct inany *src, const struct inany *dst, uint8_t proto,
		       uint32_t l4len);
uint32_t ip_fill_headers(const struct gw_ctx *ctx, struct frame *f, const struct inany *src,
			 const struct inany *dst, uint8_t proto, uint32_t l4len);
void ip_send(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
	     uint8_t proto, const uint8_t *l4, uint32_t len);
void ip_quote_of(struct ip_quote *q, const struct ippkt *p, const struct frame *f);
void ip_reassembled_done(struct gw_ctx *ctx, const struct frame *whole, enum verdict v);

#endif
