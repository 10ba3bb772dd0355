/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_L4_H
#define XDPSLIRP_L4_H

#include "gateway.h"

void l4_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
uint64_t l4_timers(struct gw_ctx *ctx);
void l4_close_all(struct gw_ctx *ctx);
void l4_socket_failed(struct gw_ctx *ctx, int err);

#endif
