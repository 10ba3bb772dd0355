// SPDX-License-Identifier: MIT
/*
 * The control API (control.c, rules.c) with the engine stubbed
 * (control_stub.c).  Regression (found by fuzz_api): control_init() left
 * the egress rules, sandbox and capture unset, and get_stats' sandbox
 * section leaked when there was no sandbox; run under ASan, a leak fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "control_stub.h"
#include "frames.h"
#include "rules.h"

#define API_MAX_REQUEST	65536	/* as control.c */

struct fixture {
	struct engine engine;
	struct guest guest;
	struct gateway gw;
	struct control c;
	char req[API_MAX_REQUEST];
	char answer[1 << 16];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->engine.nworkers = 2;
	fx->guest.e = &fx->engine;
	test_gateway(&fx->gw);
	assert_int_equal(control_init(&fx->c, &fx->guest, &fx->gw, -1, NULL), 0);
	fx->c.clients[0].buf = fx->req;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fx->c.clients[0].buf = NULL;	/* the fixture's: not control_fini()'s */
	control_fini(&fx->c);
	free(fx);
	return 0;
}

/* The answer to @req, parsed; fails the test if there is none. */
static json_t *ask(struct fixture *fx, const char *req)
{
	ssize_t n = control_stub_request(&fx->c, req, strlen(req), fx->answer,
					 sizeof(fx->answer));
	json_t *j;

	assert_true(n > 0);
	j = json_loadb(fx->answer, (size_t)n, 0, NULL);
	assert_non_null(j);
	return j;
}

static void stats_with_nothing_set(void **state)
{
	struct fixture *fx = *state;
	json_t *j = ask(fx, "{\"execute\":\"get_stats\"}");
	json_t *r = json_object_get(j, "return");

	assert_int_equal(json_array_size(json_object_get(r, "workers")), 2);
	assert_true(json_is_object(json_object_get(r, "policy")));
	assert_true(json_is_false(json_object_get(json_object_get(r, "sandbox"), "seccomp")));
	assert_true(json_is_false(json_object_get(json_object_get(r, "capture"), "enabled")));
	json_decref(j);
}

static void capture_needs_a_file(void **state)
{
	struct fixture *fx = *state;
	json_t *j = ask(fx, "{\"execute\":\"start_capture\"}");
	const char *desc = json_string_value(json_object_get(json_object_get(j, "error"), "desc"));

	assert_non_null(desc);
	assert_non_null(strstr(desc, "--pcap"));
	json_decref(j);
}

static void forwards_added_listed_removed(void **state)
{
	struct fixture *fx = *state;
	json_t *j = ask(fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
			    "\"host_port\":8080,\"guest_port\":80}}");

	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "return"), "id")),
			 1);
	json_decref(j);
	j = ask(fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
		    "\"host_port\":8081,\"guest_port\":80}}");	/* odd: in use */
	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
	j = ask(fx, "{\"execute\":\"list_hostfwd\"}");
	assert_int_equal(json_array_size(json_object_get(j, "entries")), 1);
	json_decref(j);
	j = ask(fx, "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":1}}");
	assert_non_null(json_object_get(j, "return"));
	json_decref(j);
	j = ask(fx, "{\"execute\":\"list_hostfwd\"}");
	assert_int_equal(json_array_size(json_object_get(j, "entries")), 0);
	json_decref(j);
}

static void rules_without_egress_are_refused(void **state)
{
	struct fixture *fx = *state;
	json_t *j = ask(fx, "{\"execute\":\"list_rules\"}");

	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stats_with_nothing_set, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_needs_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(forwards_added_listed_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(rules_without_egress_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
