// SPDX-License-Identifier: MIT
/*
 * The flow table's slots (flow.c): taken from the freed ones first, else
 * the next never used, so that an idle table writes none of its memory;
 * full means NULL; every flow stays found by its key through it all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"

#define MAX	16u

static struct flow *add(struct flow_table *t, uint16_t port)
{
	struct flow_key k = { .proto = IPPROTO_TCP, .guest_port = port };

	return flow_insert(t, &k);
}

static struct flow *find(struct flow_table *t, uint16_t port)
{
	struct flow_key k = { .proto = IPPROTO_TCP, .guest_port = port };

	return flow_lookup(t, &k);
}

static void check_counts(const struct flow_table *t)
{
	/* every slot is in use, on the free stack, or never used */
	assert_int_equal(t->count + t->nstack + (t->max - t->fresh), t->max);
}

static void slots_fresh_then_reused(void **state)
{
	struct flow_table t;
	struct flow *f[MAX];

	(void)state;
	assert_int_equal(flow_table_init(&t, MAX), 0);
	assert_int_equal(t.fresh, 0);			/* nothing written yet */
	for (uint16_t i = 0; i < MAX; i++) {
		f[i] = add(&t, i + 1);
		assert_non_null(f[i]);
		assert_int_equal(flow_index(&t, f[i]), i);	/* in order */
		check_counts(&t);
	}
	assert_true(flow_table_full(&t));
	assert_null(add(&t, 100));			/* full */
	flow_remove(&t, f[3]);
	assert_false(flow_table_full(&t));
	flow_remove(&t, f[9]);
	check_counts(&t);
	assert_null(find(&t, 4));
	assert_ptr_equal(find(&t, 11), f[10]);		/* still found past the hole */
	assert_int_equal(flow_index(&t, add(&t, 200)), 9);	/* the last freed first */
	assert_int_equal(flow_index(&t, add(&t, 201)), 3);
	assert_true(flow_table_full(&t));
	assert_null(add(&t, 202));
	check_counts(&t);
	for (uint16_t i = 0; i < MAX; i++)
		if (i != 3 && i != 9)
			assert_ptr_equal(find(&t, i + 1), f[i]);
	assert_non_null(find(&t, 200));
	assert_non_null(find(&t, 201));
	flow_table_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slots_fresh_then_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
