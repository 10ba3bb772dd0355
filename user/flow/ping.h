/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_PING_H
#define XDPSLIRP_PING_H

#include "gateway.h"

struct ippkt;

enum verdict ping_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);
void ping_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
void ping_raw_event(struct gw_ctx *ctx, bool v6);

#endif
