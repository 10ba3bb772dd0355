// SPDX-License-Identifier: MIT
/*
 * shaper.c - a guest's bandwidth limits (--ingress-rate, --egress-rate,
 * CNI's "bandwidth"): token buckets its workers share.
 *
 * Theory of operation: the kernel's shaping (tc, which CNI's bandwidth
 * plugin sets up on a veth) never sees a guest's frames: XDP takes them
 * before any qdisc, and ours reach the guest through AF_XDP.  So the engine
 * keeps a bucket per direction and guest, filled at RATE bytes a second up
 * to BURST, that every worker serving the guest draws from with atomics (a
 * guest's flows spread over the workers; a share per worker would hold one
 * flow to RATE / workers).  Whoever draws first adds the tokens earned
 * since the last addition.
 *
 *  - Egress (guest to host): a frame the bucket cannot pay for is dropped
 *    and counted, as tc's policer does; the guest's TCP backs off.
 *  - Ingress (host to guest): TCP sends no more than the bucket holds and,
 *    once it is empty, waits on the flow's timer until the bytes are there
 *    (tcp_output.c), so nothing is lost; a datagram it cannot pay for is
 *    dropped (udp.c).
 */
#include "shaper.h"

#define NS	1000000000ull
#define US	1000ull
#define REFILL_MAX_US	(10 * 1000000ull)	/* no more at once: no overflow */
#define BURST_MIN	(2 * (65535 + 14))	/* bytes: two of the largest frames */

/**
 * shaper_init() - a bucket for @l, full
 * @s: the bucket
 * @l: the limit as given (bits); a burst below BURST_MIN is raised to it,
 *     or the largest frames could never be paid for
 * @now: CLOCK_MONOTONIC ns
 */
void shaper_init(struct shaper *s, const struct rate_limit *l, uint64_t now)
{
	uint64_t burst = l->burst / 8;

	if (burst < BURST_MIN)
		burst = BURST_MIN;
	s->rate = l->rate / 8 ? l->rate / 8 : 1;
	s->burst = (int64_t)burst;
	s->tokens = s->burst;
	s->stamp = now;
}

/* Adds the tokens earned up to @now, in whole microseconds, once. */
static void shaper_refill(struct shaper *s, uint64_t now)
{
	uint64_t then = __atomic_load_n(&s->stamp, __ATOMIC_RELAXED), us;
	int64_t add, t;

	if (now < then + US)
		return;
	us = (now - then) / US;
	/* another worker may have moved the stamp meanwhile: it added them */
	if (!__atomic_compare_exchange_n(&s->stamp, &then, then + us * US, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	add = (int64_t)((us > REFILL_MAX_US ? REFILL_MAX_US : us) * s->rate / 1000000);
	t = __atomic_add_fetch(&s->tokens, add, __ATOMIC_RELAXED);
	if (t > s->burst)
		__atomic_sub_fetch(&s->tokens, t - s->burst, __ATOMIC_RELAXED);
}

/* The bytes the bucket holds at @now (0 or less: none). */
int64_t shaper_room(struct shaper *s, uint64_t now)
{
	shaper_refill(s, now);
	return __atomic_load_n(&s->tokens, __ATOMIC_RELAXED);
}

/* Takes @bytes if the bucket holds them at @now; false if not (drop). */
bool shaper_pay(struct shaper *s, uint32_t bytes, uint64_t now)
{
	if (shaper_room(s, now) < (int64_t)bytes)
		return false;
	shaper_spend(s, bytes);
	return true;
}

/* Takes @bytes already sent (the bucket may go below 0: later ones wait). */
void shaper_spend(struct shaper *s, uint32_t bytes)
{
	__atomic_sub_fetch(&s->tokens, (int64_t)bytes, __ATOMIC_RELAXED);
}

/* How long until the bucket holds @bytes, from its last refill. */
uint64_t shaper_wait_ns(const struct shaper *s, uint32_t bytes)
{
	int64_t need = (int64_t)bytes - __atomic_load_n(&s->tokens, __ATOMIC_RELAXED);

	return need <= 0 ? 0 : (uint64_t)need * NS / s->rate + US;
}
