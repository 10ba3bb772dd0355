/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ICMP_H
#define XDPSLIRP_ICMP_H

#include <linux/ip.h>

#include "gateway.h"

enum verdict icmp_input(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip);
void icmp_send_error(struct gw_ctx *ctx, uint32_t saddr, uint8_t type, uint8_t code,
		     uint32_t info, const struct iphdr *quote_ip, const void *quote_l4);

#endif
