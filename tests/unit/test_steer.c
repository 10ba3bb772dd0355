// SPDX-License-Identifier: MIT
/* Flow ownership and the hand-off rings between workers (steer.c). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "steer.h"

#define BIG 60000u

static uint8_t src[2][BIG];

/* A frame of @len bytes in two pieces, every byte derived from @tag. */
static struct frame two_piece_frame(uint32_t len, uint8_t tag)
{
	uint32_t first = len / 3;
	struct frame f = {
		.len = len, .nseg = 2,
		.seg = { { src[0], first }, { src[1], len - first } },
	};

	for (uint32_t i = 0; i < len; i++)
		(i < first ? src[0] : src[1])[i < first ? i : i - first] = (uint8_t)(tag + i * 7);
	return f;
}

static void assert_frame_is(const struct frame *f, uint32_t len, uint8_t tag)
{
	assert_int_equal(f->nseg, 1);
	assert_int_equal(f->len, len);
	assert_int_equal((uintptr_t)f->seg[0].data % 4, 2);	/* IP header aligned */
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(f->seg[0].data[i], (uint8_t)(tag + i * 7));
}

static void frames_arrive_whole_and_in_order(void **state)
{
	static const uint32_t lens[] = { 1, 14, 60, 1514, 4097, BIG };
	struct frame got[8];
	struct steer s = { 0 };
	struct handoff_ring *r;
	uint32_t end;

	(void)state;
	assert_int_equal(steer_init(&s, 2), 0);
	r = steer_ring(&s, 0, 1);
	for (unsigned i = 0; i < 6; i++) {
		struct frame f = two_piece_frame(lens[i], (uint8_t)i);

		assert_true(handoff_push(r, &f));
	}
	assert_int_equal(handoff_take(r, got, 8, &end), 6);
	for (unsigned i = 0; i < 6; i++) {
		two_piece_frame(lens[i], (uint8_t)i);	/* refill the source pattern */
		assert_frame_is(&got[i], lens[i], (uint8_t)i);
	}
	handoff_release(r, end);
	assert_int_equal(handoff_take(r, got, 8, &end), 0);
	steer_fini(&s);
}

/* A full ring refuses; freed room is used again across the end of the buffer. */
static void full_ring_refuses_then_wraps(void **state)
{
	struct frame got[1];
	struct steer s = { 0 };
	struct handoff_ring *r;
	unsigned pushed = 0, taken = 0;
	uint32_t end;

	(void)state;
	assert_int_equal(steer_init(&s, 2), 0);
	r = steer_ring(&s, 1, 0);
	for (;; pushed++) {
		struct frame f = two_piece_frame(BIG, (uint8_t)pushed);

		if (!handoff_push(r, &f))
			break;
	}
	assert_true(pushed > 10 && pushed < 100);
	/* consume one at a time, pushing one more each time: the ring wraps */
	for (unsigned round = 0; round < 3 * pushed; round++, taken++) {
		struct frame f;

		assert_int_equal(handoff_take(r, got, 1, &end), 1);
		assert_int_equal(got[0].len, BIG);
		assert_int_equal(got[0].seg[0].data[0], (uint8_t)taken);
		handoff_release(r, end);
		f = two_piece_frame(BIG, (uint8_t)(pushed + round));
		assert_true(handoff_push(r, &f));
	}
	steer_fini(&s);
}

static struct flow_key key(uint8_t proto, uint16_t gport, uint32_t remote, uint16_t rport)
{
	struct flow_key k = { .proto = proto, .guest_port = htons(gport),
			      .remote_port = htons(rport) };

	inany_from_v4(&k.guest, htonl(0x0a000264));
	inany_from_v4(&k.remote, htonl(remote));
	return k;
}

static void owners_are_stable_and_spread(void **state)
{
	unsigned per_worker[4] = { 0 };
	struct steer one = { 0 }, four = { 0 };

	(void)state;
	assert_int_equal(steer_init(&one, 1), 0);
	assert_int_equal(steer_init(&four, 4), 0);
	for (uint16_t port = 1000; port < 2000; port++) {
		struct flow_key k = key(IPPROTO_TCP, port, 0x7f000001, 80);
		unsigned o = steer_owner(&four, &k);

		assert_true(o < 4);
		assert_int_equal(steer_owner(&four, &k), o);
		assert_int_equal(steer_owner(&one, &k), 0);
		per_worker[o]++;
	}
	for (int i = 0; i < 4; i++)
		assert_true(per_worker[i] > 150);	/* 250 expected each */
	/* UDP and ping: one owner for a guest port, whoever the peer */
	for (uint16_t port = 1000; port < 1100; port++) {
		struct flow_key a = key(IPPROTO_UDP, port, 0x7f000001, 53);
		struct flow_key b = key(IPPROTO_UDP, port, 0xc6336402, 4242);

		assert_int_equal(steer_owner(&four, &a), steer_owner(&four, &b));
	}
	steer_fini(&one);
	steer_fini(&four);
}

/* The first claim of a free slot names its owner, until the last hold goes. */
static void claims_keep_an_owner_until_released(void **state)
{
	struct flow_key tcp = key(IPPROTO_TCP, 1000, 0x7f000001, 80);
	struct flow_key u1 = key(IPPROTO_UDP, 5000, 0x7f000001, 53);
	struct flow_key u2 = key(IPPROTO_UDP, 5000, 0xc6336402, 4242);
	struct steer one = { 0 }, four = { 0 };

	(void)state;
	assert_int_equal(steer_init(&four, 4), 0);
	assert_int_equal(steer_claim(&four, &tcp, 2), 2);
	assert_int_equal(steer_claim(&four, &tcp, 1), 2);	/* held: stays */
	steer_unclaim(&four, &tcp);
	assert_int_equal(steer_slots_held(&four), 1);
	steer_unclaim(&four, &tcp);
	assert_int_equal(steer_slots_held(&four), 0);
	assert_int_equal(steer_claim(&four, &tcp, 1), 1);	/* free: anyone's */
	steer_unclaim(&four, &tcp);
	/* a guest UDP port has one owner whoever the peer */
	assert_int_equal(steer_claim(&four, &u1, 3), 3);
	assert_int_equal(steer_claim(&four, &u2, 0), 3);
	steer_unclaim(&four, &u1);
	steer_unclaim(&four, &u2);
	assert_int_equal(steer_slots_held(&four), 0);
	/* one worker: no table, always worker 0 */
	assert_int_equal(steer_init(&one, 1), 0);
	assert_int_equal(steer_claim(&one, &tcp, 0), 0);
	steer_unclaim(&one, &tcp);
	assert_int_equal(steer_slots_held(&one), 0);
	steer_fini(&one);
	steer_fini(&four);
}

struct racer {
	struct steer *s;
	unsigned me;
	unsigned owned;		/* rounds this worker won */
	bool moved;		/* an owner changed while held */
};

/* Racers that have won the slot at least once, one bit each. */
static unsigned racers_won;

/*
 * 200,000 rounds, and on until both racers have won once (at most 100
 * times as many): a racer preempted while it holds the slot would otherwise
 * let the other run all its rounds against a held slot, on a loaded machine.
 */
static void *race_for_one_slot(void *arg)
{
	struct racer *r = arg;
	struct flow_key k = key(IPPROTO_TCP, 4242, 0x7f000001, 80);

	for (int i = 0; i < 200000 || (__atomic_load_n(&racers_won, __ATOMIC_RELAXED) != 3 &&
				       i < 20000000); i++) {
		unsigned o = steer_claim(r->s, &k, r->me);

		if (steer_claim(r->s, &k, r->me) != o)
			r->moved = true;
		if (o == r->me && !r->owned++)
			__atomic_fetch_or(&racers_won, 1u << r->me, __ATOMIC_RELAXED);
		steer_unclaim(r->s, &k);
		steer_unclaim(r->s, &k);
	}
	return NULL;
}

/* Two workers claiming and releasing one slot: a held slot never changes
 * owner, both win it sometimes, nothing stays held.
 */
static void racing_claims_keep_the_owner(void **state)
{
	struct racer r[2];
	pthread_t t[2];
	struct steer s = { 0 };

	(void)state;
	racers_won = 0;
	assert_int_equal(steer_init(&s, 2), 0);
	for (unsigned i = 0; i < 2; i++) {
		r[i] = (struct racer){ .s = &s, .me = i };
		assert_int_equal(pthread_create(&t[i], NULL, race_for_one_slot, &r[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_false(r[i].moved);
		assert_true(r[i].owned > 0);
	}
	assert_int_equal(steer_slots_held(&s), 0);
	steer_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_arrive_whole_and_in_order),
		cmocka_unit_test(full_ring_refuses_then_wraps),
		cmocka_unit_test(owners_are_stable_and_spread),
		cmocka_unit_test(claims_keep_an_owner_until_released),
		cmocka_unit_test(racing_claims_keep_the_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
