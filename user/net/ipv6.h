/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_IPV6_H
#define XDPSLIRP_IPV6_H

#include <linux/ipv6.h>

#include "gateway.h"

/* ICMPv6 messages must fit the IPv6 minimum MTU (RFC 4443 2.4 (c)). */
#define IPV6_MIN_MTU	1280

enum verdict ipv6_input(struct gw_ctx *ctx, struct frame *f);
void ipv6_fill_header(struct ipv6hdr *ip6, const struct inany *src, const struct inany *dst,
		      uint8_t proto, uint32_t plen, uint8_t hops);
void ipv6_fill_headers(const struct gw_ctx *ctx, struct frame *f, const struct inany *src,
		       const struct inany *dst, uint8_t proto, uint32_t l4len, uint8_t hops);
void ipv6_send(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
	       uint8_t proto, const uint8_t *l4, uint32_t len);
void ipv6_send_hops(struct gw_ctx *ctx, const struct inany *src, const struct inany *dst,
		    uint8_t proto, const uint8_t *l4, uint32_t len, uint8_t hops);
bool ipv6_in_prefix(const struct gateway *gw, const struct inany *a);
void ipv6_guest_seen_store(const struct gateway *gw, const struct inany *a);
bool ipv6_guest_seen_load(const struct guest_seen *s, struct inany *a);

#endif
