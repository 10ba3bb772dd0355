/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ICMP_H
#define XDPSLIRP_ICMP_H

#include <linux/ip.h>

#include "gateway.h"

enum verdict icmp_input(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip);
void icmp_send_unreach(struct gw_ctx *ctx, uint8_t code, const struct iphdr *quote_ip,
		       const void *quote_l4);

#endif
