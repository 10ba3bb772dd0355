/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_PING_H
#define XDPSLIRP_PING_H

#include <linux/ip.h>

#include "gateway.h"

enum verdict ping_input(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip);
void ping_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
void ping_raw_event(struct gw_ctx *ctx);

#endif
