/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_EGRESS_H
#define XDPSLIRP_EGRESS_H

#include "gateway.h"

struct ippkt;

enum drop_reason egress_check_to(struct gw_ctx *ctx, const struct ippkt *p, uint8_t proto,
				 const struct inany *to, uint16_t to_port);
enum drop_reason egress_check(struct gw_ctx *ctx, const struct ippkt *p, uint8_t proto,
			      uint16_t port);
void egress_reset_denied(struct gw_ctx *ctx);
enum verdict egress_refuse(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
			   enum drop_reason why);

#endif
