// SPDX-License-Identifier: MIT
/*
 * The frame-input path: Ethernet, ARP, IPv4 and ICMP on valid and malformed
 * frames.  Replies are compared byte for byte with frames built by the test
 * itself (frames.h), drops by their counted reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eth.h"
#include "frames.h"

struct fixture {
	struct gateway gw;
	struct counters cnt;
	struct gw_ctx ctx;
	struct flow_table flows;
	struct frame f;
	uint8_t *buf;		/* 2 bytes past alignment, see frame.h */
	uint8_t *want;
	_Alignas(8) uint8_t raw_buf[70002];
	_Alignas(8) uint8_t raw_want[70002];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->buf = fx->raw_buf + 2;
	fx->want = fx->raw_want + 2;
	test_env_init(&fx->gw, &fx->cnt, &fx->ctx, &fx->flows);
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

/* Runs the frame in fx->buf and checks it was dropped for @why alone. */
static void assert_dropped(struct fixture *fx, uint32_t len, enum drop_reason why)
{
	uint64_t total = 0;

	frame_over(&fx->f, fx->buf, len);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_DONE);
	for (int i = 0; i < DROP_MAX; i++)
		total += fx->cnt.drop[i];
	assert_int_equal(fx->cnt.drop[why], 1);
	assert_int_equal(total, 1);
}

static const uint8_t arp_request[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x64, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
	0x02, 0, 0, 0, 0, 0x64, 10, 0, 2, 100,
	0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
};

static const uint8_t arp_reply[42] = {
	0x02, 0, 0, 0, 0, 0x64, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
	0x02, 0, 0, 0, 0, 0x02, 10, 0, 2, 2,
	0x02, 0, 0, 0, 0, 0x64, 10, 0, 2, 100,
};

static void arp_request_for_gateway(void **state)
{
	struct fixture *fx = *state;

	/* with Ethernet padding to 60 bytes, as a NIC would send it */
	memset(fx->buf, 0xee, 60);
	memcpy(fx->buf, arp_request, sizeof(arp_request));
	frame_over(&fx->f, fx->buf, 60);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_REPLY);
	assert_int_equal(fx->f.len, sizeof(arp_reply));
	assert_memory_equal(fx->buf, arp_reply, sizeof(arp_reply));
}

static void arp_request_for_dns(void **state)
{
	struct fixture *fx = *state;

	memcpy(fx->buf, arp_request, sizeof(arp_request));
	fx->buf[41] = 3;
	frame_over(&fx->f, fx->buf, sizeof(arp_request));
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_REPLY);
	assert_int_equal(fx->buf[31], 3);		/* sender IP: .3 */
	assert_memory_equal(fx->buf + 22, GW_MAC, 6);	/* sender MAC */
}

static void arp_ignored(void **state)
{
	struct fixture *fx = *state;

	memcpy(fx->buf, arp_request, sizeof(arp_request));
	fx->buf[41] = 7;		/* another host */
	assert_dropped(fx, sizeof(arp_request), DROP_ARP_IGNORED);
}

static void arp_reply_ignored(void **state)
{
	struct fixture *fx = *state;

	memcpy(fx->buf, arp_request, sizeof(arp_request));
	fx->buf[21] = 2;		/* a reply, not a request */
	assert_dropped(fx, sizeof(arp_request), DROP_ARP_IGNORED);
}

static void arp_malformed(void **state)
{
	struct fixture *fx = *state;
	static const struct { size_t at; uint8_t v; } bad[] = {
		{ 15, 6 },	/* hardware type */
		{ 16, 0x86 },	/* protocol type */
		{ 18, 8 },	/* hardware length */
		{ 19, 16 },	/* protocol length */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&fx->cnt, 0, sizeof(fx->cnt));
		memcpy(fx->buf, arp_request, sizeof(arp_request));
		fx->buf[bad[i].at] = bad[i].v;
		assert_dropped(fx, sizeof(arp_request), DROP_ARP_MALFORMED);
	}
	for (uint32_t len = 14; len < sizeof(arp_request); len++) {
		memset(&fx->cnt, 0, sizeof(fx->cnt));
		memcpy(fx->buf, arp_request, sizeof(arp_request));
		assert_dropped(fx, len, DROP_ARP_MALFORMED);
	}
}

static void echo_request_answered(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 56);

	memcpy(fx->want, fx->buf, len);
	expected_echo_reply(fx->want, len);
	frame_over(&fx->f, fx->buf, len);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_REPLY);
	assert_int_equal(fx->f.len, len);
	assert_memory_equal(fx->buf, fx->want, len);
}

/* A 60,000-byte ping in 16 pieces, as AF_XDP multi-buffer delivers it. */
static void echo_request_in_pieces(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.dns_addr, 60000), pos = 0;

	memcpy(fx->want, fx->buf, len);
	expected_echo_reply(fx->want, len);
	fx->f.nseg = 0;
	while (pos < len) {
		uint32_t n = len - pos < 3841 ? len - pos : 3841;	/* odd */

		fx->f.seg[fx->f.nseg].data = fx->buf + pos;
		fx->f.seg[fx->f.nseg++].len = n;
		pos += n;
	}
	fx->f.len = len;
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_REPLY);
	assert_memory_equal(fx->buf, fx->want, len);
}

static void echo_padding_trimmed(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 0);	/* 42 bytes */

	memset(fx->buf + len, 0, 60 - len);
	frame_over(&fx->f, fx->buf, 60);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_REPLY);
	assert_int_equal(fx->f.len, len);
}

static void icmp_bad_checksum(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 56);

	fx->buf[len - 1] ^= 1;
	assert_dropped(fx, len, DROP_ICMP_CSUM);
}

static void icmp_not_echo(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 8);
	uint8_t *icmp = fx->buf + 34;

	icmp[0] = 13;			/* timestamp request */
	put16(icmp + 2, 0);
	put16(icmp + 2, ref_csum(icmp, len - 34));
	assert_dropped(fx, len, DROP_ICMP_TYPE);
}

static void icmp_truncated(void **state)
{
	struct fixture *fx = *state;
	uint8_t *ip = fx->buf + 14;

	build_echo(fx->buf, fx->gw.gw_addr, 0);
	put16(ip + 2, 24);		/* 4 bytes of ICMP */
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 20));
	assert_dropped(fx, 38, DROP_ICMP_MALFORMED);
}

/* Rewrites one IPv4 header byte and fixes the header checksum. */
static uint32_t echo_with_ip_byte(struct fixture *fx, size_t at, uint8_t v)
{
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 16);
	uint8_t *ip = fx->buf + 14;

	ip[at] = v;
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 20));
	return len;
}

static void ipv4_malformed(void **state)
{
	struct fixture *fx = *state;
	static const struct { size_t at; uint8_t v; enum drop_reason why; } bad[] = {
		{ 0, 0x65, DROP_IPV4_MALFORMED },	/* version 6 */
		{ 0, 0x44, DROP_IPV4_MALFORMED },	/* IHL 4 */
		{ 0, 0x4f, DROP_IPV4_MALFORMED },	/* IHL past the datagram */
		{ 2, 0x10, DROP_IPV4_MALFORMED },	/* total length > frame */
		{ 3, 0x10, DROP_IPV4_MALFORMED },	/* total length < header */
		{ 9, 47, DROP_IPV4_PROTO },		/* GRE */
		{ 16, 198, DROP_PING_DENIED },	/* 198.0.2.x: the stub has no ping sockets */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t len = echo_with_ip_byte(fx, bad[i].at, bad[i].v);

		if (bad[i].at == 3)
			fx->buf[14 + 2] = 0;
		if (bad[i].at == 3 || bad[i].at == 2) {
			put16(fx->buf + 24, 0);
			put16(fx->buf + 24, ref_csum(fx->buf + 14, 20));
		}
		memset(&fx->cnt, 0, sizeof(fx->cnt));
		assert_dropped(fx, len, bad[i].why);
	}
}

/* A fragment is held for reassembly: no reply, no drop. */
static void ipv4_fragment_is_held(void **state)
{
	struct fixture *fx = *state;
	static const struct { size_t at; uint8_t v; } frags[] = {
		{ 6, 0x20 },	/* MF */
		{ 7, 0x01 },	/* offset 8, last */
	};

	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		uint32_t len = echo_with_ip_byte(fx, frags[i].at, frags[i].v);
		uint64_t total = 0;

		if (frags[i].at == 6)
			fx->buf[14 + 6] = 0x20;		/* clear DF: MF alone */
		put16(fx->buf + 14 + 4, (uint16_t)(0x1000 + i));	/* own datagram */
		put16(fx->buf + 24, 0);
		put16(fx->buf + 24, ref_csum(fx->buf + 14, 20));
		memset(&fx->cnt, 0, sizeof(fx->cnt));
		frame_over(&fx->f, fx->buf, len);
		assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_DONE);
		for (int d = 0; d < DROP_MAX; d++)
			total += fx->cnt.drop[d];
		assert_int_equal(total, 0);
	}
}

/* Two fragments make an echo request; the reply leaves as new frames. */
static void ipv4_fragments_reassembled(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->want, fx->gw.gw_addr, 1000);
	uint8_t *ip = fx->buf + 14;
	uint32_t l4 = len - 34, first = 512;

	/* first fragment: 512 bytes of ICMP, MF */
	memcpy(fx->buf, fx->want, 34 + first);
	put16(ip + 2, (uint16_t)(20 + first));
	put16(ip + 6, 0x2000);
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 20));
	frame_over(&fx->f, fx->buf, 34 + first);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_DONE);
	/* second: the rest, offset 512 / 8 */
	memcpy(fx->buf + 34, fx->want + 34 + first, l4 - first);
	put16(ip + 2, (uint16_t)(20 + l4 - first));
	put16(ip + 6, first / 8);
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 20));
	frame_over(&fx->f, fx->buf, 34 + l4 - first);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_DONE);
	/* the reply could not be allocated in this fixture: counted, not lost */
	assert_int_equal(fx->cnt.drop[DROP_TX_NO_FRAMES], 1);
	assert_int_equal(fx->cnt.drop[DROP_ICMP_CSUM], 0);
}

/* The same fragment twice: overlap, the datagram is given up. */
static void ipv4_fragment_overlap(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 1000);
	uint8_t *ip = fx->buf + 14;

	put16(ip + 4, 0x4321);		/* a datagram of its own */
	put16(ip + 6, 0x2000);
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 20));
	frame_over(&fx->f, fx->buf, len);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_DONE);
	frame_over(&fx->f, fx->buf, len);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_DONE);
	assert_int_equal(fx->cnt.drop[DROP_FRAG_OVERLAP], 1);
}

static void ipv4_bad_header_checksum(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 16);

	fx->buf[14 + 8] = 1;		/* TTL changed, checksum not */
	assert_dropped(fx, len, DROP_IPV4_CSUM);
}

static void ipv4_options_kept(void **state)
{
	struct fixture *fx = *state;
	uint8_t plain[128], *ip = fx->buf + 14;
	uint32_t len = build_echo(plain, fx->gw.gw_addr, 16);

	/* Same echo with a 4-byte NOP option block: IHL 6. */
	memcpy(fx->buf, plain, 34);
	memset(fx->buf + 34, 1, 4);
	memcpy(fx->buf + 38, plain + 34, len - 34);
	ip[0] = 0x46;
	put16(ip + 2, (uint16_t)(len - 14 + 4));
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 24));
	frame_over(&fx->f, fx->buf, len + 4);
	assert_int_equal(eth_input(&fx->ctx, &fx->f), VERDICT_REPLY);
	assert_int_equal(fx->buf[38], 0);	/* ICMP echo reply */
	assert_int_equal(ref_csum(ip, 24), 0);
	assert_int_equal(ref_csum(fx->buf + 38, len - 34), 0);
}

static void ethernet_drops(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = build_echo(fx->buf, fx->gw.gw_addr, 16);

	assert_dropped(fx, 13, DROP_ETH_SHORT);
	memset(&fx->cnt, 0, sizeof(fx->cnt));
	fx->buf[5] = 0x99;		/* unicast to someone else */
	assert_dropped(fx, len, DROP_ETH_DEST);
	memset(&fx->cnt, 0, sizeof(fx->cnt));
	fx->buf[5] = GW_MAC[5];
	put16(fx->buf + 12, 0x88cc);	/* LLDP: not ours */
	assert_dropped(fx, len, DROP_ETH_TYPE);
	memset(&fx->cnt, 0, sizeof(fx->cnt));
	put16(fx->buf + 12, 0x0800);
	assert_dropped(fx, 20, DROP_IPV4_MALFORMED);
}

static void broadcast_source_not_answered(void **state)
{
	struct fixture *fx = *state;
	uint32_t len = echo_with_ip_byte(fx, 12, 224);	/* 224.0.2.100 */

	assert_dropped(fx, len, DROP_ICMP_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(arp_request_for_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_request_for_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_reply_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(echo_request_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(echo_request_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(echo_padding_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_bad_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_not_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv4_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv4_bad_header_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv4_fragment_is_held, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv4_fragments_reassembled, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv4_fragment_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv4_options_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(ethernet_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(broadcast_source_not_answered, setup, teardown),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
