/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_FRAG_H
#define XDPSLIRP_FRAG_H

#include <linux/ip.h>

#include "gateway.h"

struct frag_table;

struct frag_table *frag_table_new(void);
void frag_table_free(struct frag_table *t);
void frag_table_clear(struct frag_table *t);
bool frag_input(struct gw_ctx *ctx, const struct frame *f, const struct iphdr *ip,
		struct frame *whole);

#endif
