/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ETH_H
#define XDPSLIRP_ETH_H

#include "gateway.h"

enum verdict eth_input(struct gw_ctx *ctx, struct frame *f);
void eth_reply_header(const struct gateway *gw, struct frame *f);
void eth_to_guest_header(const struct gw_ctx *ctx, struct frame *f, uint16_t ethertype);

#endif
