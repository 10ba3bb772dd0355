/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_IPV4_H
#define XDPSLIRP_IPV4_H

#include <linux/ip.h>

#include "gateway.h"

enum verdict ipv4_input(struct gw_ctx *ctx, struct frame *f);
void ipv4_reply_header(struct iphdr *ip);
bool ipv4_is_unicast(uint32_t addr);

#endif
