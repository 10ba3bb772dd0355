/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_IPV4_H
#define XDPSLIRP_IPV4_H

#include <linux/ip.h>

#include "gateway.h"

#define IPV4_DEFAULT_TTL	64
#define IPV4_DF		0x4000	/* don't fragment */
#define IPV4_MF		0x2000	/* more fragments */
#define IPV4_OFFSET	0x1fff	/* fragment offset, 8-byte units */

struct ippkt;

enum verdict ipv4_input(struct gw_ctx *ctx, struct frame *f);
enum verdict ip_dispatch(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
			 enum verdict (*deliver)(struct gw_ctx *, struct frame *,
						 const struct ippkt *));
void ipv4_fill_header(struct iphdr *ip, uint32_t saddr, uint32_t daddr, uint8_t proto,
		      uint32_t tot_len, uint16_t frag_off, uint16_t id);
void ipv4_send(struct gw_ctx *ctx, uint32_t saddr, uint32_t daddr, uint8_t proto,
	       const uint8_t *l4, uint32_t len);
void ipv4_reply_header(struct iphdr *ip);

#endif
