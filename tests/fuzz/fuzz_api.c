// SPDX-License-Identifier: MIT
/*
 * fuzz_api.c - libFuzzer target for the control API (control.c, rules.c):
 * what a client writes to the API socket.
 *
 * Input: requests separated by NUL bytes, each sent on a connection of its
 * own (a socketpair in a client slot) the way control.c reads one: partial
 * reads, then EOF.  State carries from one request to the next within an
 * input (forwards added, then listed, removed; rules added, then removed),
 * and starts afresh with each input.  The engine is a stub here: it takes
 * every forward, has one worker and no flows; a forward's host socket is
 * /dev/null (nothing listens on the host), or "in use" for odd ports.
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

#include "control.h"
#include "frames.h"
#include "hostsock.h"
#include "rules.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* --- the engine, stubbed: control.c and rules.c call only these --- */
int engine_forward_add(struct engine *e, const struct fwd_rule *r, int fd)
{
	(void)e;
	(void)r;
	close(fd);		/* the engine owns the socket from here */
	return 0;
}

int engine_forward_remove(struct engine *e, const struct fwd_rule *r)
{
	(void)e;
	(void)r;
	return 0;
}

void engine_worker_stats(const struct engine *e, unsigned q, struct engine_stats *st)
{
	(void)e;
	(void)q;
	memset(st, 0, sizeof(*st));
	st->cnt.drop[DROP_ETH_SHORT] = 1;	/* a "dropped" to list */
}

unsigned engine_list_flows(struct engine *e, struct flow_info *out, unsigned cap)
{
	(void)e;
	(void)out;
	(void)cap;
	return 0;
}

int engine_policy_set(struct engine *e, const struct policy *p, bool reset)
{
	(void)e;
	(void)p;
	(void)reset;
	return 0;
}

void engine_xdp_policy(struct engine *e, struct policy *old, const struct policy *p)
{
	(void)e;
	(void)old;
	(void)p;
}

uint64_t engine_xdp_rule_drops(const struct engine *e, unsigned i)
{
	(void)e;
	(void)i;
	return 0;
}

void xdp_prog_counters(const struct xdp_prog *x, uint64_t out[XDP_CNT_MAX])
{
	(void)x;
	memset(out, 0, XDP_CNT_MAX * sizeof(*out));
}

int hostsock_listen(const struct fwd_rule *r)
{
	if (r->host_port & 1)
		return -EADDRINUSE;
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* --- the harness --- */
#define API_MAX_REQUEST	65536	/* as control.c */

static struct engine engine = { .nworkers = 1 };
static struct gateway gw;
static struct config cfg;
static char reqbuf[API_MAX_REQUEST];

/* Sends @req on a fresh connection in slot 0; returns the parsed answer. */
static json_t *request(struct control *c, const uint8_t *req, size_t len)
{
	char answer[1 << 20];
	json_t *j;
	int sv[2];
	ssize_t n;

	check(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	c->clients[0].fd = sv[0];
	c->clients[0].len = 0;
	/* in two pieces: the first read sees a premature end */
	if (len > 1)
		check(send(sv[1], req, len / 2, 0) == (ssize_t)(len / 2));
	control_event(c, CONTROL_TAG_CLIENT);
	if (c->clients[0].fd >= 0) {
		check(send(sv[1], req + len / 2, len - len / 2, 0) == (ssize_t)(len - len / 2));
		shutdown(sv[1], SHUT_WR);
		control_event(c, CONTROL_TAG_CLIENT);
		if (c->clients[0].fd >= 0)	/* EOF after a prefix: answered now */
			control_event(c, CONTROL_TAG_CLIENT);
	}
	check(c->clients[0].fd == -1);	/* answered, and closed */
	n = recv(sv[1], answer, sizeof(answer) - 1, 0);
	close(sv[1]);
	check(n > 0);
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
	check(!control_init(&c, &engine, &gw, -1, NULL));
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
