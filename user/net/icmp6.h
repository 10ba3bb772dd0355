/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ICMP6_H
#define XDPSLIRP_ICMP6_H

#include "gateway.h"

struct ippkt;

enum verdict icmp6_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);

#endif
