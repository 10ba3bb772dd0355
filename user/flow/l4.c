// SPDX-License-Identifier: MIT
/*
 * l4.c - what happens to flows outside the guest's frames, by protocol:
 * events on their host sockets, their timers, and the end of the engine.
 */
#include <errno.h>
#include <netinet/in.h>

#include "l4.h"
#include "log.h"
#include "ping.h"
#include "tcp.h"
#include "udp.h"

/* Something happened on @fl's host socket (epoll @events). */
void l4_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	if (fl->state == FLOW_FREE)
		return;		/* closed earlier in this batch of events */
	if (fl->key.proto == IPPROTO_TCP)
		tcp_sock_event(ctx, fl, events);
	else if (fl->key.proto == IPPROTO_UDP)
		udp_sock_event(ctx, fl, events);
	else
		ping_sock_event(ctx, fl, events);
}

#define FD_WARN_INTERVAL_NS	(10 * 1000000000ull)

/**
 * l4_socket_failed() - a new flow's host socket could not be had
 * @ctx: worker context
 * @err: the errno
 *
 * Out of descriptors (the open-file limit, or the system's), the flow is
 * refused as any other that fails (RST, or the datagram dropped) and the
 * established ones go on; this says so, at most once per 10 s per worker.
 */
void l4_socket_failed(struct gw_ctx *ctx, int err)
{
	if ((err != EMFILE && err != ENFILE) ||
	    (ctx->fd_warned_at && ctx->now - ctx->fd_warned_at < FD_WARN_INTERVAL_NS))
		return;
	ctx->fd_warned_at = ctx->now ? ctx->now : 1;
	log_warn("out of file descriptors (%s): new flows are refused until some close; raise the open-file limit (ulimit -n)",
		 err == EMFILE ? "this process's limit" : "the system's");
}

/**
 * l4_timers() - run the timers that are due
 * @ctx: worker context (ctx->now is current)
 *
 * Return: the earliest deadline still pending, or 0 if none (also in
 * ctx->next_timer).
 */
uint64_t l4_timers(struct gw_ctx *ctx)
{
	struct flow_table *t = ctx->flows;

	ctx->next_timer = 0;	/* found anew: the handlers arm timers too */
	for (uint32_t i = t->active; i != FLOW_NONE;) {
		struct flow *fl = &t->flows[i];

		i = fl->next;	/* fl may be freed below */
		if (fl->timer_at && fl->timer_at <= ctx->now) {
			if (fl->key.proto == IPPROTO_TCP)
				tcp_timer(ctx, fl);
			else
				udp_timer(ctx, fl);
		}
		if (fl->state != FLOW_FREE && fl->timer_at &&
		    (!ctx->next_timer || fl->timer_at < ctx->next_timer))
			ctx->next_timer = fl->timer_at;
	}
	return ctx->next_timer;
}

/* At shutdown: end every flow (TCP connections are reset on both sides). */
void l4_close_all(struct gw_ctx *ctx)
{
	while (ctx->flows->active != FLOW_NONE) {
		struct flow *fl = &ctx->flows->flows[ctx->flows->active];

		if (fl->key.proto == IPPROTO_TCP)
			tcp_abort(ctx, fl);
		else
			udp_close(ctx, fl);
	}
}
