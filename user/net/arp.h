/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ARP_H
#define XDPSLIRP_ARP_H

#include "gateway.h"

enum verdict arp_input(struct gw_ctx *ctx, struct frame *f);
bool arp_guest_unknown(const struct gw_ctx *ctx);
void arp_ask_guest(struct gw_ctx *ctx);

#endif
