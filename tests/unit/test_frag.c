// SPDX-License-Identifier: MIT
/*
 * Reassembly (frag.c) through its own interface: the datagram comes back
 * whole, and as a plain one.  Regression (make check-full, TSan build): the
 * frame handed back kept the flags of whatever the caller's stack held, so
 * FRAME_GSO_UDP left there had a reassembled UDP datagram cut into
 * segments, each sent to the host as a datagram of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "frag.h"
#include "frames.h"

static uint8_t fragment[ETH_HLEN + 40 + 1024];

static bool feed(struct gw_ctx *ctx, uint32_t off, uint32_t len, bool last, struct frame *whole)
{
	struct frag_desc d = { .id = 7, .proto = IPPROTO_UDP, .hops = 64, .last = last,
			       .off = off, .data_off = ETH_HLEN + 40, .len = len };
	struct frame f = { .len = ETH_HLEN + 40 + len, .nseg = 1 };

	memcpy(d.src.b, (const uint8_t[16]){ 0xfd, [14] = 1 }, 16);	/* fd00::100 */
	memcpy(d.dst.b, (const uint8_t[16]){ 0xfd, [15] = 2 }, 16);	/* fd00::2 */
	f.seg[0].data = fragment;
	f.seg[0].len = f.len;
	for (uint32_t i = 0; i < len; i++)
		fragment[ETH_HLEN + 40 + i] = (uint8_t)(off + i);
	return frag_input(ctx, &f, &d, whole);
}

static void whole_datagram_is_plain(void **state)
{
	struct gateway gw;
	struct counters cnt = { 0 };
	struct gw_ctx ctx;
	struct flow_table flows;
	struct frame whole;

	(void)state;
	test_env_init(&gw, &cnt, &ctx, &flows);
	memset(&whole, 0xff, sizeof(whole));	/* what a stack may hold */
	assert_false(feed(&ctx, 0, 1024, false, &whole));
	assert_true(feed(&ctx, 1024, 500, true, &whole));
	assert_int_equal(whole.flags, 0);
	assert_int_equal(whole.gso_size, 0);
	assert_int_equal(whole.nseg, 1);
	assert_int_equal(whole.len, ETH_HLEN + 40 + 1524);
	for (uint32_t i = 0; i < 1524; i++)
		assert_int_equal(whole.seg[0].data[ETH_HLEN + 40 + i], (uint8_t)i);
	test_env_fini(&ctx, &flows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_datagram_is_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
