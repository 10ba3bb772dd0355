// SPDX-License-Identifier: MIT
/*
 * bufpool.c - frame buffers for the ports that are not AF_XDP.
 *
 * Theory of operation: the tap and stream ports receive into buffers of
 * their own, where the AF_XDP port has its UMEM.  A buffer pool is one
 * anonymous mapping cut into power-of-two buffers, mapped without being
 * touched (only the pages frames use become memory), and owned through a
 * struct chunk_pool: a frame's buffer is found again from any pointer
 * into it, and releasing a buffer twice counts a violation instead of
 * corrupting the free stack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bufpool.h"
#include "log.h"

/**
 * bufpool_init() - map @nbufs buffers of @buf_size bytes
 * @b: zeroed pool
 * @nbufs: how many
 * @buf_size: a power of two, larger than the longest frame + BUF_IP_ALIGN
 *
 * Return: 0, or -ENOMEM (logged).  On error call bufpool_fini().
 */
int bufpool_init(struct buf_pool *b, uint32_t nbufs, uint32_t buf_size)
{
	b->buf_size = buf_size;
	b->area_size = (size_t)buf_size * nbufs;
	b->area = mmap(NULL, b->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->area == MAP_FAILED) {
		b->area = NULL;
		log_err("no memory for %u frame buffers of %u bytes", nbufs, buf_size);
		return -ENOMEM;
	}
	return pool_init(&b->chunks, nbufs, buf_size);
}

void bufpool_fini(struct buf_pool *b)
{
	if (b->area)
		munmap(b->area, b->area_size);
	pool_fini(&b->chunks);
	memset(b, 0, sizeof(*b));
}

/* A free buffer's frame start, or NULL if none is free. */
uint8_t *bufpool_take(struct buf_pool *b)
{
	uint64_t addr;

	if (!pool_take(&b->chunks, CHUNK_USER, &addr))
		return NULL;
	return b->area + addr + BUF_IP_ALIGN;
}

/* Gives back the buffer @data points into. */
void bufpool_release(struct buf_pool *b, const uint8_t *data)
{
	uint64_t addr = (uint64_t)(data - b->area) & ~(uint64_t)(b->buf_size - 1);

	pool_release(&b->chunks, addr, CHUNK_USER);
}

/* A frame of @len bytes in one buffer (a port's alloc()); false if none. */
bool bufpool_frame(struct buf_pool *b, struct frame *f, uint32_t len)
{
	uint8_t *data;

	if (len > BUF_FRAME_MAX(b->buf_size) || !(data = bufpool_take(b)))
		return false;
	*f = (struct frame){ .len = len, .nseg = 1 };
	f->seg[0] = (struct frame_seg){ .data = data, .len = len };
	return true;
}

/**
 * bufpool_audit() - print the census of @b's buffers at exit
 * @b: the pool
 * @kind: the port's kind, for the line
 * @queue: its queue
 *
 * Return: 0, or -EFAULT if a buffer leaked or a hand-over was wrong.
 */
int bufpool_audit(const struct buf_pool *b, const char *kind, uint32_t queue)
{
	uint32_t bufs[CHUNK_STATES];

	pool_census(&b->chunks, bufs);
	fprintf(stderr, "xdpslirp: queue %u: %s buffers: %u free, %u leaked, %llu ownership violations\n",
		queue, kind, bufs[CHUNK_FREE], bufs[CHUNK_USER],
		(unsigned long long)b->chunks.violations);
	return bufs[CHUNK_USER] || b->chunks.violations ? -EFAULT : 0;
}
