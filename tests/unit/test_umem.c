// SPDX-License-Identifier: MIT
/* Chunk ownership: every hand-over checked, double use caught, census right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>

#include "umem.h"

static void take_all_then_empty(void **state)
{
	struct chunk_pool p;
	uint64_t addr, seen = 0;

	(void)state;
	assert_int_equal(pool_init(&p, 64, 4096), 0);
	for (int i = 0; i < 64; i++) {
		assert_true(pool_take(&p, CHUNK_FILL, &addr));
		assert_int_equal(addr % 4096, 0);
		assert_true(addr < 64 * 4096);
		seen |= 1ull << (addr / 4096);
	}
	assert_int_equal(seen, ~0ull);		/* each chunk exactly once */
	assert_false(pool_take(&p, CHUNK_FILL, &addr));
	pool_fini(&p);
}

static void lifecycle_and_census(void **state)
{
	uint32_t count[CHUNK_STATES];
	struct chunk_pool p;
	uint64_t a, b;

	(void)state;
	assert_int_equal(pool_init(&p, 8, 2048), 0);
	assert_true(pool_take(&p, CHUNK_FILL, &a));
	assert_true(pool_take(&p, CHUNK_FILL, &b));
	/* the kernel hands them back with the 256-byte copy-mode offset */
	assert_true(pool_move(&p, a + 256, CHUNK_FILL, CHUNK_USER));
	assert_true(pool_move(&p, b + 256, CHUNK_FILL, CHUNK_USER));
	assert_true(pool_move(&p, b + 300, CHUNK_USER, CHUNK_TX));
	pool_census(&p, count);
	assert_int_equal(count[CHUNK_FREE], 6);
	assert_int_equal(count[CHUNK_USER], 1);
	assert_int_equal(count[CHUNK_TX], 1);
	pool_release(&p, a + 256, CHUNK_USER);
	pool_release(&p, b, CHUNK_TX);
	pool_census(&p, count);
	assert_int_equal(count[CHUNK_FREE], 8);
	assert_int_equal(p.nfree, 8);
	assert_int_equal(p.violations, 0);
	pool_fini(&p);
}

static void double_release_is_caught(void **state)
{
	struct chunk_pool p;
	uint64_t a;

	(void)state;
	assert_int_equal(pool_init(&p, 4, 4096), 0);
	assert_true(pool_take(&p, CHUNK_USER, &a));
	pool_release(&p, a, CHUNK_USER);
	pool_release(&p, a, CHUNK_USER);	/* bug: second release */
	assert_int_equal(p.violations, 1);
	assert_int_equal(p.nfree, 4);		/* not pushed twice */
	assert_false(pool_move(&p, 4 * 4096, CHUNK_FREE, CHUNK_USER)); /* outside */
	assert_int_equal(p.violations, 2);
	pool_fini(&p);
}

static void bad_sizes(void **state)
{
	struct chunk_pool p;

	(void)state;
	assert_int_equal(pool_init(&p, 4, 3000), -EINVAL);
	assert_int_equal(pool_init(&p, 0, 4096), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(take_all_then_empty),
		cmocka_unit_test(lifecycle_and_census),
		cmocka_unit_test(double_release_is_caught),
		cmocka_unit_test(bad_sizes),
	};

	return cmocka_run_group_tests_name("umem", tests, NULL, NULL);
}
