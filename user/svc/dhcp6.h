/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_DHCP6_H
#define XDPSLIRP_DHCP6_H

#include <linux/udp.h>

#include "gateway.h"

#define DHCP6_CLIENT_PORT	546
#define DHCP6_SERVER_PORT	547

struct ippkt;

enum verdict dhcp6_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
			 const struct udphdr *uh);

#endif
