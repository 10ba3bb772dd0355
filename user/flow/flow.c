// SPDX-License-Identifier: MIT
/*
 * flow.c - the flow table: where a connection's state lives.
 *
 * Theory of operation: every worker owns one table (no locks).  A flow is
 * found by its key through an open-addressing hash of flow indices; flows in
 * use are also linked in a list so that timers visit only them, and flows
 * not yet established in a FIFO "pending" list, so that the oldest can be
 * evicted when a guest floods SYNs.  Insertion fails when the table is
 * full; the caller decides what to evict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flow.h"

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Keyed hash of a flow key: its 5 words mixed with @seed. */
uint32_t flow_key_hash(uint64_t seed, const struct flow_key *k)
{
	uint64_t w[5], h = seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++)
		h = mix(h ^ w[i]) + (uint64_t)i;
	return (uint32_t)h;
}

static uint32_t flow_hash(const struct flow_table *t, const struct flow_key *k)
{
	return flow_key_hash(t->seed, k) & t->mask;
}

/* A secret for keyed hashes, so that a guest cannot aim at one bucket. */
uint64_t flow_random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ULL;
	return seed;
}

int flow_table_init(struct flow_table *t, uint32_t max)
{
	uint32_t nb = 2;

	memset(t, 0, sizeof(*t));
	while (nb < 2 * (uint64_t)max)
		nb <<= 1;
	t->flows = calloc(max, sizeof(*t->flows));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	t->free = calloc(max, sizeof(*t->free));
	if (!t->flows || !t->buckets || !t->free) {
		flow_table_fini(t);
		return -ENOMEM;
	}
	t->seed = flow_random_seed();
	t->max = max;
	t->mask = nb - 1;
	t->active = FLOW_NONE;
	t->pend_head = t->pend_tail = FLOW_NONE;
	return 0;
}

void flow_table_fini(struct flow_table *t)
{
	free(t->flows);
	free(t->buckets);
	free(t->free);
	memset(t, 0, sizeof(*t));
}

uint32_t flow_index(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - t->flows);
}

struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k)
{
	for (uint32_t b = flow_hash(t, k);; b = (b + 1) & t->mask) {
		uint32_t v = t->buckets[b];

		if (!v)
			return NULL;
		if (!memcmp(&t->flows[v - 1].key, k, sizeof(*k)))
			return &t->flows[v - 1];
	}
}

/* The owner updates a count the main thread reads (engine_print_counters()). */
static void flow_count_set(uint32_t *count, uint32_t v)
{
	__atomic_store_n(count, v, __ATOMIC_RELAXED);
}

/* Takes a free slot for @k (not present); NULL when the table is full. */
struct flow *flow_insert(struct flow_table *t, const struct flow_key *k)
{
	struct flow *f;
	uint32_t idx, b;

	if (flow_table_full(t))
		return NULL;
	idx = t->nstack ? t->free[--t->nstack] : t->fresh++;
	f = &t->flows[idx];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->sock = -1;
	for (b = flow_hash(t, k); t->buckets[b]; b = (b + 1) & t->mask)
		;
	t->buckets[b] = idx + 1;
	f->prev = FLOW_NONE;
	f->next = t->active;
	if (t->active != FLOW_NONE)
		t->flows[t->active].prev = idx;
	t->active = idx;
	flow_count_set(&t->count, t->count + 1);
	return f;
}

/* Frees @f's slot; later entries of its probe run move back (no tombstones). */
void flow_remove(struct flow_table *t, struct flow *f)
{
	uint32_t idx = flow_index(t, f), b = flow_hash(t, &f->key), next;

	while (t->buckets[b] != idx + 1)
		b = (b + 1) & t->mask;
	for (next = (b + 1) & t->mask; t->buckets[next]; next = (next + 1) & t->mask) {
		uint32_t home = flow_hash(t, &t->flows[t->buckets[next] - 1].key);

		/* move next into the hole at b unless its home lies in (b, next] */
		if (((next - home) & t->mask) >= ((next - b) & t->mask)) {
			t->buckets[b] = t->buckets[next];
			b = next;
		}
	}
	t->buckets[b] = 0;

	flow_pending_del(t, f);
	if (f->prev != FLOW_NONE)
		t->flows[f->prev].next = f->next;
	else
		t->active = f->next;
	if (f->next != FLOW_NONE)
		t->flows[f->next].prev = f->prev;
	f->state = FLOW_FREE;
	t->free[t->nstack++] = idx;
	flow_count_set(&t->count, t->count - 1);
}

/* Appends @f to the pending list (newest last). */
void flow_pending_add(struct flow_table *t, struct flow *f)
{
	uint32_t idx = flow_index(t, f);

	f->pend_prev = t->pend_tail;
	f->pend_next = FLOW_NONE;
	if (t->pend_tail != FLOW_NONE)
		t->flows[t->pend_tail].pend_next = idx;
	else
		t->pend_head = idx;
	t->pend_tail = idx;
	f->flags |= FLOW_PENDING;
	flow_count_set(&t->npending, t->npending + 1);
}

/* Takes @f off the pending list, if it is on it. */
void flow_pending_del(struct flow_table *t, struct flow *f)
{
	if (!(f->flags & FLOW_PENDING))
		return;
	if (f->pend_prev != FLOW_NONE)
		t->flows[f->pend_prev].pend_next = f->pend_next;
	else
		t->pend_head = f->pend_next;
	if (f->pend_next != FLOW_NONE)
		t->flows[f->pend_next].pend_prev = f->pend_prev;
	else
		t->pend_tail = f->pend_prev;
	f->flags &= (uint16_t)~FLOW_PENDING;
	flow_count_set(&t->npending, t->npending - 1);
}

struct flow *flow_pending_oldest(struct flow_table *t)
{
	return t->pend_head == FLOW_NONE ? NULL : &t->flows[t->pend_head];
}
