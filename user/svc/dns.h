/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_DNS_H
#define XDPSLIRP_DNS_H

#include <stdbool.h>

#include "gateway.h"

bool dns_query_valid(const struct frame *f, uint32_t off, uint32_t len);
void dns_servfail(struct gw_ctx *ctx, const struct flow *fl, const struct inany *dns,
		  uint32_t len);
int dns_upstreams_from_resolv_conf(struct gateway *gw, const char *path);
size_t dns_search_from_resolv_conf(uint8_t *out, size_t room, const char *path);

#endif
