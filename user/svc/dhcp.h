/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_DHCP_H
#define XDPSLIRP_DHCP_H

#include <linux/ip.h>
#include <linux/udp.h>

#include "gateway.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

enum verdict dhcp_input(struct gw_ctx *ctx, struct frame *f, struct udphdr *uh);

#endif
