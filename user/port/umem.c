// SPDX-License-Identifier: MIT
/*
 * umem.c - chunk ownership for an AF_XDP UMEM.
 *
 * A UMEM is cut into equal chunks; a chunk's address is its byte offset in
 * the UMEM, possibly plus an offset inside the chunk.  The pool keeps a stack
 * of free chunks (LIFO, so recently used chunks are still in cache) and one
 * state byte per chunk.  All memory is allocated once at start-up.
 */
#include <errno.h>
#include <stdlib.h>

#include "umem.h"

int pool_init(struct chunk_pool *p, uint32_t nchunks, uint32_t chunk_size)
{
	if (!nchunks || !chunk_size || (chunk_size & (chunk_size - 1)))
		return -EINVAL;
	p->free = calloc(nchunks, sizeof(*p->free));
	p->state = calloc(nchunks, sizeof(*p->state));
	if (!p->free || !p->state) {
		pool_fini(p);
		return -ENOMEM;
	}
	p->nchunks = nchunks;
	p->shift = (uint32_t)__builtin_ctz(chunk_size);
	p->violations = 0;
	for (uint32_t i = 0; i < nchunks; i++)
		p->free[i] = nchunks - 1 - i;
	p->nfree = nchunks;
	return 0;
}

void pool_fini(struct chunk_pool *p)
{
	free(p->free);
	free(p->state);
	p->free = NULL;
	p->state = NULL;
	p->nchunks = p->nfree = 0;
}

/* Takes a free chunk into state @to; stores its base address in @addr. */
bool pool_take(struct chunk_pool *p, enum chunk_state to, uint64_t *addr)
{
	uint32_t idx;

	if (!p->nfree)
		return false;
	idx = p->free[--p->nfree];
	p->state[idx] = to;
	*addr = (uint64_t)idx << p->shift;
	return true;
}

/**
 * pool_move() - hand a chunk from one owner to another
 * @p: the pool
 * @addr: any address inside the chunk
 * @from: the state the chunk must be in
 * @to: its new state
 *
 * Return: true if moved; false, counting a violation, if @addr is outside
 * the UMEM or the chunk was not in @from.
 */
bool pool_move(struct chunk_pool *p, uint64_t addr, enum chunk_state from,
	       enum chunk_state to)
{
	uint64_t idx = addr >> p->shift;

	if (idx >= p->nchunks || p->state[idx] != from) {
		p->violations++;
		return false;
	}
	p->state[idx] = to;
	return true;
}

/* Returns a chunk in state @from to the free stack. */
void pool_release(struct chunk_pool *p, uint64_t addr, enum chunk_state from)
{
	if (pool_move(p, addr, from, CHUNK_FREE))
		p->free[p->nfree++] = (uint32_t)(addr >> p->shift);
}

/* Counts the chunks in each state. */
void pool_census(const struct chunk_pool *p, uint32_t count[CHUNK_STATES])
{
	for (int s = 0; s < CHUNK_STATES; s++)
		count[s] = 0;
	for (uint32_t i = 0; i < p->nchunks; i++)
		count[p->state[i]]++;
}
