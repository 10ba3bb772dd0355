/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_TCP_H
#define XDPSLIRP_TCP_H

#include <netinet/in.h>

#include "gateway.h"

struct ippkt;

enum verdict tcp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);
void tcp_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
void tcp_timer(struct gw_ctx *ctx, struct flow *fl);
void tcp_flush(struct gw_ctx *ctx);
void tcp_abort(struct gw_ctx *ctx, struct flow *fl);
void tcp_inbound_key(const struct gateway *gw, const union sockaddr_inany *client,
		     const struct fwd_rule *r, struct flow_key *k);
void tcp_inbound(struct gw_ctx *ctx, int sock, const struct flow_key *k);

#endif
