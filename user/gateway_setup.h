/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_GATEWAY_SETUP_H
#define XDPSLIRP_GATEWAY_SETUP_H

#include "config.h"
#include "gateway.h"
#include "plumb.h"

void gateway_setup(struct gateway *gw, const struct config *cfg, const struct link_info *host);
void gateway_log_serving(const struct guest_link *gl, const struct gateway *gw,
			 const struct config *cfg, int backend);

#endif
