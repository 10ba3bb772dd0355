// SPDX-License-Identifier: MIT
/*
 * The worker's timer deadline (l4.h, l4.c): the worker sleeps until
 * ctx->next_timer, so a timer armed earlier than it must lower it at once.
 * Regression: an RTO armed among idle UDP mappings (60 s timers) was
 * noticed only at the next minute, stalling the connection that long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "frames.h"
#include "l4.h"

#define S	(1000ull * 1000 * 1000)

struct fixture {
	struct gateway gw;
	struct counters cnt;
	struct gw_ctx ctx;
	struct flow_table flows;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	test_env_init(&fx->gw, &fx->cnt, &fx->ctx, &fx->flows);
	fx->ctx.now = 1000 * S;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	test_env_fini(&fx->ctx, &fx->flows);
	free(fx);
	return 0;
}

static struct flow *flow_of(struct fixture *fx, uint8_t proto, uint16_t port)
{
	struct flow_key k = { .proto = proto, .guest_port = port };
	struct flow *fl = flow_insert(&fx->flows, &k);

	assert_non_null(fl);
	fl->state = FLOW_ESTABLISHED;
	fl->sock = -1;
	return fl;
}

static void earlier_timer_lowers_deadline(void **state)
{
	struct fixture *fx = *state;
	struct flow *udp = flow_of(fx, IPPROTO_UDP, 1), *tcp = flow_of(fx, IPPROTO_TCP, 2);

	l4_timer_arm(&fx->ctx, udp, fx->ctx.now + 60 * S);
	assert_int_equal(fx->ctx.next_timer, fx->ctx.now + 60 * S);
	l4_timer_arm(&fx->ctx, tcp, fx->ctx.now + S / 5);	/* an RTO, later on */
	assert_int_equal(fx->ctx.next_timer, fx->ctx.now + S / 5);
	l4_timer_arm(&fx->ctx, udp, fx->ctx.now + 90 * S);	/* later: kept */
	assert_int_equal(fx->ctx.next_timer, fx->ctx.now + S / 5);
}

static void timers_find_the_earliest_again(void **state)
{
	struct fixture *fx = *state;
	struct flow *a = flow_of(fx, IPPROTO_UDP, 1), *b = flow_of(fx, IPPROTO_UDP, 2);

	l4_timer_arm(&fx->ctx, a, fx->ctx.now + 60 * S);
	l4_timer_arm(&fx->ctx, b, fx->ctx.now + 30 * S);
	b->timer_at = 0;			/* stopped: the deadline may stay early */
	assert_int_equal(l4_timers(&fx->ctx), fx->ctx.now + 60 * S);
	assert_int_equal(fx->ctx.next_timer, fx->ctx.now + 60 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(earlier_timer_lowers_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(timers_find_the_earliest_again, setup, teardown),
	};

	return cmocka_run_group_tests_name("timers", tests, NULL, NULL);
}
