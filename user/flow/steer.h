/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_STEER_H
#define XDPSLIRP_STEER_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "frame.h"

#define STEER_MAX_WORKERS 64

/*
 * struct handoff_ring - frames one worker hands to another: a ring of
 * bytes with exactly one producer and one consumer, so no lock.  @head and
 * @tail count bytes and only grow; records are 8-byte aligned.
 */
struct handoff_ring {
	uint32_t head;		/* producer: end of the last record */
	uint8_t pad0[60];
	uint32_t tail;		/* consumer: start of the first unread record */
	uint8_t pad1[60];
	uint32_t size;		/* a power of two */
	uint8_t *buf;
};

/*
 * Claims: which worker owns the flows whose keys hash to a slot.  A slot is
 * 0 when free, else (holds << STEER_HOLD_SHIFT) | (owner + 1); see steer.c.
 */
#define STEER_SLOTS		(1u << 17)
#define STEER_HOLD_SHIFT	8

/*
 * struct steer - which worker owns which flow, and the rings that take
 * frames to it.  Shared by all workers: @slots are changed with atomic
 * operations (only when a flow comes or goes), each ring has one writer
 * per index, the rest is read-only once the engine runs.
 */
struct steer {
	unsigned nworkers;
	uint64_t seed;
	uint32_t *slots;		/* [STEER_SLOTS] */
	struct handoff_ring *rings;	/* [from * nworkers + to] */
	int wake[STEER_MAX_WORKERS];	/* eventfd in each worker's epoll */
	/* set while a worker may block in epoll_wait(): only then is it woken */
	struct { bool asleep; uint8_t pad[63]; } state[STEER_MAX_WORKERS];
	uint32_t *order;		/* the word steer_order() updates */
};

struct gw_ctx;
struct ippkt;

int steer_init(struct steer *s, unsigned nworkers);
void steer_fini(struct steer *s);
unsigned steer_owner(const struct steer *s, const struct flow_key *k);
unsigned steer_claim(const struct steer *s, const struct flow_key *k, unsigned want);
void steer_unclaim(const struct steer *s, const struct flow_key *k);
unsigned steer_slots_held(const struct steer *s);
bool steer_flow_add(struct gw_ctx *ctx, const struct flow_key *k);
void steer_flow_del(struct gw_ctx *ctx, const struct flow_key *k);
struct handoff_ring *steer_ring(const struct steer *s, unsigned from, unsigned to);

bool steer_frame(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
		 uint32_t **reserved);
void steer_frame_done(uint32_t *reserved);
void steer_wake(struct gw_ctx *ctx);
bool steer_may_sleep(struct steer *s, unsigned worker);
void steer_awake(struct steer *s, unsigned worker);

bool handoff_push(struct handoff_ring *r, const struct frame *f);
unsigned handoff_take(struct handoff_ring *r, struct frame *frames, unsigned max,
		      uint32_t *end);
void handoff_release(struct handoff_ring *r, uint32_t end);

#endif
