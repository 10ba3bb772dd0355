// SPDX-License-Identifier: MIT
/*
 * The XDP program's egress verdicts against the engine's (policy.c), by
 * running the real program (BPF_PROG_TEST_RUN) on frames built here: random
 * rule sets of both families, protocols and port ranges, with and without
 * --default-deny, and destinations drawn inside and around their prefixes.
 * A verdict is read from the program's counters (refused: denied, blocked
 * or passed on to answer; else only "no socket", as the test binds none).
 * Needs root (loading BPF); make check runs it as root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <string.h>

#include "gateway.h"
#include "policy.h"
#include "xdp.h"
#include "xdpslirp.skel.h"

static struct xdp_prog prog;
static const struct gateway gw = {
	.gw_addr = 0x0202000a,		/* 10.0.2.2, network order */
	.netmask = 0x00ffffff,		/* /24 */
	.ipv6 = true,
	.gw6 = { .b = { 0xfd, [15] = 2 } },
};
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static int setup(void **state)
{
	(void)state;
	return xdp_prog_load(&prog);
}

static int teardown(void **state)
{
	(void)state;
	xdp_prog_close(&prog);
	return 0;
}

/* A frame of a new flow: SYN, datagram or echo request, to @dst:@port. */
static size_t build_frame(uint8_t *f, const struct inany *dst, uint8_t proto, uint16_t port)
{
	bool v4 = inany_is_v4(dst);
	size_t l3 = v4 ? 20 : 40, l4 = proto == IPPROTO_TCP ? 20 : 8;
	uint8_t *ip = f + 14, *t = ip + l3;

	memset(f, 0, 14 + l3 + l4);
	f[12] = v4 ? 0x08 : 0x86;
	f[13] = v4 ? 0x00 : 0xdd;
	if (v4) {
		ip[0] = 0x45;
		ip[3] = (uint8_t)(l3 + l4);
		ip[8] = 64;
		ip[9] = proto == IPPROTO_ICMP ? IPPROTO_ICMP : proto;
		memcpy(ip + 12, (uint8_t[]){ 10, 0, 2, 100 }, 4);
		memcpy(ip + 16, dst->b + 12, 4);
	} else {
		ip[0] = 0x60;
		ip[5] = (uint8_t)l4;
		ip[6] = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 0x01;
		memcpy(ip + 24, dst->b, 16);
	}
	if (proto == IPPROTO_ICMP) {
		t[0] = v4 ? 8 : 128;
	} else {
		t[0] = 0x9c;	/* source port 40000 */
		t[1] = 0x40;
		t[2] = (uint8_t)(port >> 8);
		t[3] = (uint8_t)port;
		if (proto == IPPROTO_TCP) {
			t[12] = 5 << 4;
			t[13] = 0x02;	/* SYN */
		}
	}
	return 14 + l3 + l4;
}

/* Did the program refuse the frame? */
static bool xdp_refuses(const struct inany *dst, uint8_t proto, uint16_t port)
{
	uint64_t before[XDP_CNT_MAX], after[XDP_CNT_MAX];
	uint8_t frame[128];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (uint32_t)build_frame(frame, dst, proto, port));

	xdp_prog_counters(&prog, before);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog.skel->progs.xdpslirp_steer),
						&opts), 0);
	xdp_prog_counters(&prog, after);
	assert_int_equal(opts.retval, XDP_DROP);	/* either way: no socket here */
	return after[XDP_CNT_POLICY_DENIED] + after[XDP_CNT_POLICY_BLOCKED] +
	       after[XDP_CNT_POLICY_NOTICE] > before[XDP_CNT_POLICY_DENIED] +
	       before[XDP_CNT_POLICY_BLOCKED] + before[XDP_CNT_POLICY_NOTICE];
}

/* A random prefix in a few small spaces, so that rules overlap. */
static void random_prefix(struct policy_rule *r)
{
	memset(&r->prefix, 0, sizeof(r->prefix));
	if (rnd(2)) {
		r->prefix.b[10] = r->prefix.b[11] = 0xff;
		r->prefix.b[12] = 198;
		r->prefix.b[13] = 51;
		r->prefix.b[14] = (uint8_t)rnd(4);
		r->prefix.b[15] = (uint8_t)rnd(8);
		r->plen = (uint8_t)(96 + 16 + rnd(17));
	} else {
		r->prefix.b[0] = 0x20;
		r->prefix.b[1] = 0x01;
		r->prefix.b[2] = 0x0d;
		r->prefix.b[3] = 0xb8;
		r->prefix.b[15] = (uint8_t)rnd(8);
		r->plen = (uint8_t)(32 + rnd(97));
	}
	for (unsigned b = r->plen; b < 128; b++)
		r->prefix.b[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
}

static uint8_t random_proto(bool any)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 0 };

	return protos[rnd(any ? 4 : 3)];
}

/* A destination near the rules: one of theirs with its host bits varied. */
static struct inany random_dst(const struct policy_rule *rules, unsigned n)
{
	struct inany a = rules[rnd(n)].prefix;

	a.b[15] ^= (uint8_t)rnd(16);
	if (!rnd(8))
		a.b[14] ^= 1;
	return a;
}

static void verdicts_match_the_engine(void **state)
{
	static struct policy_rule rules[12];

	(void)state;
	for (int round = 0; round < 60; round++) {
		unsigned n = 1 + rnd(12);
		bool dd = rnd(3) == 0;
		struct policy *p;

		for (unsigned i = 0; i < n; i++) {
			random_prefix(&rules[i]);
			rules[i].proto = random_proto(true);
			rules[i].deny = rnd(2);
			rules[i].port_lo = rnd(3) ? (uint16_t)(1000 + rnd(20)) : 0;
			rules[i].port_hi = rules[i].port_lo ? (uint16_t)(rules[i].port_lo + rnd(10)) :
				65535;
			rules[i].id = i + 1;
		}
		p = policy_build(rules, n, dd);
		assert_non_null(p);
		assert_int_equal(xdp_policy_write(&prog, p, &gw), 0);
		for (int k = 0; k < 200; k++) {
			struct inany dst = random_dst(rules, n);
			uint8_t proto = random_proto(false);
			uint16_t port = proto == IPPROTO_ICMP ? 0 : (uint16_t)(995 + rnd(40));
			int rule;
			bool want = policy_always_blocked(&dst, !inany_is_v4(&dst)) ||
				    policy_denies(p, proto, &dst, port, &rule);

			if (xdp_refuses(&dst, proto, port) != want)
				fail_msg("round %d: proto %u port %u: XDP %s, the engine %s", round,
					 proto, port, want ? "passes" : "refuses",
					 want ? "refuses" : "passes");
		}
		policy_free(p);
	}
}

/* The guest's own prefixes and link-local are the engine's to judge. */
static void own_prefixes_left_to_the_engine(void **state)
{
	struct policy_rule all = { .plen = 0, .deny = true, .port_hi = 65535, .id = 1 };
	struct policy *p = policy_build(&all, 1, true);
	struct inany gw4 = { .b = { [10] = 0xff, [11] = 0xff, 10, 0, 2, 2 } };
	struct inany gw6 = gw.gw6, ll = { .b = { 0xfe, 0x80, [15] = 2 } };
	struct inany out = { .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 } };

	(void)state;
	assert_int_equal(xdp_policy_write(&prog, p, &gw), 0);
	assert_false(xdp_refuses(&gw4, IPPROTO_TCP, 22));
	assert_false(xdp_refuses(&gw6, IPPROTO_UDP, 53));
	assert_false(xdp_refuses(&ll, IPPROTO_ICMP, 0));
	assert_true(xdp_refuses(&out, IPPROTO_TCP, 443));
	policy_free(p);
}

/* More rules covering one prefix than an entry holds: the engine decides. */
static void crowded_prefix_punted(void **state)
{
	static struct policy_rule rules[XDP_POLICY_INLINE + 2];
	struct inany dst = { .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct policy *p;

	(void)state;
	for (unsigned i = 0; i < XDP_POLICY_INLINE + 2; i++) {
		rules[i] = (struct policy_rule){ .plen = (uint8_t)(32 + i), .deny = true,
						 .port_lo = 0, .port_hi = 65535, .id = i + 1 };
		memcpy(rules[i].prefix.b, dst.b, 4);
	}
	p = policy_build(rules, XDP_POLICY_INLINE + 2, false);
	assert_int_equal(xdp_policy_write(&prog, p, &gw), 0);
	assert_false(xdp_refuses(&dst, IPPROTO_TCP, 80));
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdicts_match_the_engine),
		cmocka_unit_test(own_prefixes_left_to_the_engine),
		cmocka_unit_test(crowded_prefix_punted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
