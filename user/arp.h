/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ARP_H
#define XDPSLIRP_ARP_H

#include "gateway.h"

enum verdict arp_input(struct gw_ctx *ctx, struct frame *f);

#endif
