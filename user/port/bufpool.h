/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_BUFPOOL_H
#define XDPSLIRP_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "umem.h"

/*
 * struct buf_pool - frame buffers of one size in one anonymous mapping, for
 * the ports that read frames into memory of their own (tap, stream).  Each
 * buffer is a chunk of a struct chunk_pool, so every hand-over is checked
 * and a leak shows in the audit at exit.
 */
struct buf_pool {
	struct chunk_pool chunks;
	uint8_t *area;
	size_t area_size;
	uint32_t buf_size;	/* a power of two */
};

/* A frame starts this far into its buffer: the IP header is 4-byte aligned. */
#define BUF_IP_ALIGN	2u
/* The longest frame a buffer of @size holds */
#define BUF_FRAME_MAX(size)	((size) - BUF_IP_ALIGN)

int bufpool_init(struct buf_pool *b, uint32_t nbufs, uint32_t buf_size);
void bufpool_fini(struct buf_pool *b);
uint8_t *bufpool_take(struct buf_pool *b);
void bufpool_release(struct buf_pool *b, const uint8_t *data);
bool bufpool_frame(struct buf_pool *b, struct frame *f, uint32_t len);
int bufpool_audit(const struct buf_pool *b, const char *kind, uint32_t queue);

#endif
