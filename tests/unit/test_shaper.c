// SPDX-License-Identifier: MIT
/* The bandwidth buckets (shaper.c): filling, paying, waiting, the floor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shaper.h"

#define MS	1000000ull
#define FLOOR	(2 * (65535 + 14))

/* 8 Mbit/s, 1 Mbit of burst: 1 MB/s, 125,000 bytes (raised to the floor). */
static void burst_floor_and_fill(void **state)
{
	struct shaper s;

	(void)state;
	shaper_init(&s, &(struct rate_limit){ 8000000, 1000000 }, 1000 * MS);
	assert_int_equal(s.rate, 1000000);
	assert_int_equal(shaper_room(&s, 1000 * MS), FLOOR);
	shaper_init(&s, &(struct rate_limit){ 8000000, 16000000 }, 1000 * MS);
	assert_int_equal(shaper_room(&s, 1000 * MS), 2000000);
	/* full stays full */
	assert_int_equal(shaper_room(&s, 5000 * MS), 2000000);
}

static void pay_refill_and_wait(void **state)
{
	struct shaper s;
	uint64_t t = 1000 * MS;

	(void)state;
	shaper_init(&s, &(struct rate_limit){ 8000000, 16000000 }, t);
	assert_true(shaper_pay(&s, 1500000, t));
	assert_false(shaper_pay(&s, 600000, t));	/* 500,000 left */
	assert_int_equal(shaper_room(&s, t), 500000);
	/* 100 ms at 1 MB/s: 100,000 more */
	assert_int_equal(shaper_room(&s, t + 100 * MS), 600000);
	assert_true(shaper_pay(&s, 600000, t + 100 * MS));
	/* overdrawn by what was sent: later ones wait for the debt */
	shaper_spend(&s, 250000);
	assert_int_equal(shaper_room(&s, t + 100 * MS), -250000);
	/* 250,000 + 1000 bytes at 1 MB/s: 251 ms, and a microsecond */
	assert_int_equal(shaper_wait_ns(&s, 1000), 251 * MS + 1000);
	assert_int_equal(shaper_room(&s, t + 100 * MS + 251 * MS), 1000);
	/* under a microsecond adds nothing, and loses nothing */
	assert_int_equal(shaper_room(&s, t + 351 * MS + 999), 1000);
	assert_int_equal(shaper_room(&s, t + 352 * MS), 2000);
}

/* Hours idle: the bucket fills to its burst, no more, and no overflow. */
static void long_idle(void **state)
{
	struct shaper s;

	(void)state;
	shaper_init(&s, &(struct rate_limit){ 1000000000000ull, 8000000000ull }, MS);
	shaper_spend(&s, 2000000000u);
	assert_int_equal(shaper_room(&s, 3600 * 1000 * MS), 1000000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_floor_and_fill),
		cmocka_unit_test(pay_refill_and_wait),
		cmocka_unit_test(long_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
