/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_NDP_H
#define XDPSLIRP_NDP_H

#include "gateway.h"

/* ICMPv6 types of Neighbor Discovery (RFC 4861 4) */
#define NDP_RS		133
#define NDP_RA		134
#define NDP_NS		135
#define NDP_NA		136
#define NDP_REDIRECT	137

#define NDP_HOP_LIMIT	255

struct ippkt;

enum verdict ndp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);
uint64_t ndp_timer(struct gw_ctx *ctx);
void ndp_ask_guest(struct gw_ctx *ctx, const struct inany *guest);

#endif
