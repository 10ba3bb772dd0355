// SPDX-License-Identifier: MIT
/*
 * fuzz_api.c - libFuzzer target for the control API (control.c, rules.c):
 * what a client writes to the API socket.
 *
 * Input: requests separated by NUL bytes, each sent on a connection of its
 * own (a socketpair in a client slot) the way control.c reads one: partial
 * reads, then EOF.  State carries from one request to the next within an
 * input (forwards added, then listed, removed; rules added, then removed),
 * and starts afresh with each input.  The engine is a stub here
 * (tests/unit/control_stub.c).
 * Invariants beyond "no crash" (ASan/UBSan): every request gets exactly
 * one answer, a JSON object holding "return", an "error" with a "desc",
 * or (list_hostfwd, as slirp4netns answers it) "entries";
 * the forwards the API lists are the ones control.c holds, and no
 * descriptor is left open.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_stub.h"
#include "frames.h"
#include "hostsock.h"
#include "rules.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* --- the harness --- */
#define API_MAX_REQUEST	65536	/* as control.c */

static struct engine engine = { .nworkers = 1 };
static struct guest guest = { .e = &engine };
static struct gateway gw;
static struct config cfg;
static char reqbuf[API_MAX_REQUEST];

/* Sends @req on a fresh connection in slot 0; returns the parsed answer. */
static json_t *request(struct control *c, const uint8_t *req, size_t len)
{
	static char answer[1 << 20];
	ssize_t n = control_stub_request(c, req, len, answer, sizeof(answer));
	json_t *j;

	check(n > 0);	/* answered, and closed */
	j = json_loadb(answer, (size_t)n, 0, NULL);
	check(json_is_object(j));
	check(json_object_get(j, "return") || json_is_array(json_object_get(j, "entries")) ||
	      json_is_string(json_object_get(json_object_get(j, "error"), "desc")));
	return j;
}

/* The forwards listed are the ones held. */
static void check_forwards(struct control *c)
{
	static const uint8_t list[] = "{\"execute\":\"list_hostfwd\"}";
	json_t *j = request(c, list, sizeof(list) - 1);

	check(json_array_size(json_object_get(j, "entries")) == c->n);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_set rs = { 0 };
	struct control c;
	size_t pos = 0;

	if (!gw.mtu)
		test_gateway(&gw);
	check(!control_init(&c, &guest, &gw, -1, NULL));
	check(!rules_init(&rs, &cfg));
	c.egress = &rs;
	c.clients[0].buf = reqbuf;
	while (pos < size) {
		const uint8_t *end = memchr(data + pos, 0, size - pos);
		size_t len = end ? (size_t)(end - (data + pos)) : size - pos;

		if (len)
			json_decref(request(&c, data + pos, len));
		pos += len + 1;
	}
	check_forwards(&c);
	c.clients[0].buf = NULL;	/* static: not control_fini()'s to free */
	control_fini(&c);
	rules_fini(&rs);
	return 0;
}
