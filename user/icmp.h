/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ICMP_H
#define XDPSLIRP_ICMP_H

#include <linux/ip.h>

#include "gateway.h"

enum verdict icmp_input(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip);

#endif
