/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ICMP_H
#define XDPSLIRP_ICMP_H

#include "gateway.h"

struct ippkt;
struct ip_quote;

bool icmp_rate_ok(struct gw_ctx *ctx);
void icmp_unreachable(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
		      uint8_t code4, uint8_t code6);
enum verdict icmp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);
void icmp_send_error(struct gw_ctx *ctx, const struct inany *from, uint8_t type, uint8_t code,
		     uint32_t info, const struct ip_quote *q);

#endif
