/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_L4_H
#define XDPSLIRP_L4_H

#include "gateway.h"

/*
 * Sets @fl's timer to @at.  Every timer is armed here: the worker sleeps
 * until ctx->next_timer, and a timer earlier than it (an RTO among idle
 * UDP mappings' minute-long ones) must wake it sooner.
 */
static inline void l4_timer_arm(struct gw_ctx *ctx, struct flow *fl, uint64_t at)
{
	fl->timer_at = at;
	if (!ctx->next_timer || at < ctx->next_timer)
		ctx->next_timer = at;
}

void l4_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
uint64_t l4_timers(struct gw_ctx *ctx);
void l4_close_all(struct gw_ctx *ctx);
void l4_socket_failed(struct gw_ctx *ctx, int err);

#endif
