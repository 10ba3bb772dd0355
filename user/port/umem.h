/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_UMEM_H
#define XDPSLIRP_UMEM_H

#include <stdbool.h>
#include <stdint.h>

/* Where a UMEM chunk is: exactly one owner at any time. */
enum chunk_state {
	CHUNK_FREE,	/* on the pool's free stack */
	CHUNK_FILL,	/* given to the kernel for receiving */
	CHUNK_USER,	/* holds a received frame the engine works on */
	CHUNK_TX,	/* submitted for transmission, not yet completed */
	CHUNK_STATES,
};

/*
 * struct chunk_pool - ownership of the chunks of one UMEM.
 *
 * Every chunk has a state; every hand-over checks the state it expects and
 * counts a violation instead of acting when the chunk is elsewhere, so a
 * bug cannot put one chunk in two rings.  At shutdown a census of states
 * tells whether the engine leaked chunks (any left in CHUNK_USER).
 */
struct chunk_pool {
	uint32_t nchunks;
	uint32_t nfree;
	uint32_t shift;		/* log2 of the chunk size */
	uint32_t *free;		/* stack of free chunk indices */
	uint8_t *state;		/* enum chunk_state of each chunk */
	uint64_t violations;
};

int pool_init(struct chunk_pool *p, uint32_t nchunks, uint32_t chunk_size);
void pool_fini(struct chunk_pool *p);
bool pool_take(struct chunk_pool *p, enum chunk_state to, uint64_t *addr);
bool pool_move(struct chunk_pool *p, uint64_t addr, enum chunk_state from,
	       enum chunk_state to);
void pool_release(struct chunk_pool *p, uint64_t addr, enum chunk_state from);
void pool_census(const struct chunk_pool *p, uint32_t count[CHUNK_STATES]);

#endif
