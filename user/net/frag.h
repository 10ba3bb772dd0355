/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_FRAG_H
#define XDPSLIRP_FRAG_H

#include "gateway.h"

struct frag_table;

/* One fragment, as its IP header describes it (either family). */
struct frag_desc {
	struct inany src, dst;
	uint32_t id;		/* identification, as in the header */
	uint8_t proto;		/* the datagram's upper layer */
	uint8_t hops;		/* TTL or hop limit of this fragment */
	bool last;		/* no more fragments after this one */
	uint32_t off;		/* of this fragment's data in the datagram */
	uint32_t data_off;	/* of its data in the frame */
	uint32_t len;		/* of its data */
};

struct frag_table *frag_table_new(void);
void frag_table_free(struct frag_table *t);
void frag_table_clear(struct frag_table *t);
bool frag_input(struct gw_ctx *ctx, const struct frame *f, const struct frag_desc *d,
		struct frame *whole);

#endif
