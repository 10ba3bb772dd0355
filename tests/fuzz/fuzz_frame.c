// SPDX-License-Identifier: MIT
/*
 * fuzz_frame.c - libFuzzer target for the frame-input path (eth_input()).
 *
 * Input: byte 0 chooses how the frame is cut into pieces (as AF_XDP
 * multi-buffer would cut it, but at any size), the rest is the frame.
 * Checked beyond "no crash" (ASan/UBSan do that): a dropped frame counts
 * exactly one reason; a reply is no longer than the request, its pieces add
 * up, and every checksum in it verifies (IPv4 and IPv6 alike).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"
#include "eth.h"
#include "frames.h"
#include "ip.h"
#include "tcp.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* + 2: frames start 2 bytes past a 4-byte boundary (see frame.h) */
static _Alignas(8) uint8_t raw[2 + FRAME_MAX_SEGS * 4096];
static uint8_t *const buf = raw + 2;

static void cut(struct frame *f, size_t len, size_t piece)
{
	size_t pos = 0;

	f->nseg = 0;
	while (pos < len || f->nseg == 0) {
		size_t n = len - pos;

		if (n > piece && f->nseg < FRAME_MAX_SEGS - 1)
			n = piece;
		f->seg[f->nseg].data = buf + pos;
		f->seg[f->nseg++].len = (uint32_t)n;
		pos += n;
	}
	f->len = (uint32_t)len;
}

/* A frame the gateway sends: its pieces add up, and every checksum verifies. */
static void check_frame(const struct frame *f)
{
	uint32_t sum = 0;
	const uint8_t *p = f->seg[0].data;

	check(f->len >= 42);
	for (uint32_t i = 0; i < f->nseg; i++)
		sum += f->seg[i].len;
	check(sum == f->len);
	check(!memcmp(p + 6, GW_MAC, 6));
	if (p[12] == 0x08 && p[13] == 0x00) {
		uint32_t ihl = (p[14] & 0xf) * 4u, l4len = f->len - 14 - ihl, sum = 0;
		uint32_t saddr, daddr;

		check(csum_ipv4_header(p + 14, ihl) == 0);
		memcpy(&saddr, p + 26, 4);
		memcpy(&daddr, p + 30, 4);
		sum = 0;
		if (p[23] == 6 || p[23] == 17)	/* TCP, UDP: the pseudo-header counts */
			sum = csum_pseudo_ipv4(saddr, daddr, p[23], (uint16_t)l4len);
		if (!(ntohs(*(const uint16_t *)(p + 20)) & 0x3fff))	/* fragments: no */
			check(csum_fold(csum_add(frame_csum(f, 14 + ihl, l4len), sum)) == 0);
	} else if (p[12] == 0x86 && p[13] == 0xdd) {
		struct inany src, dst;
		uint32_t plen = (uint32_t)(p[18] << 8 | p[19]);

		check(f->len == 14 + 40 + plen);	/* replies carry no extension headers */
		memcpy(src.b, p + 22, 16);
		memcpy(dst.b, p + 38, 16);
		check(csum_fold(csum_add(frame_csum(f, 54, plen),
					 ip_pseudo_sum(&src, &dst, p[20], plen))) == 0);
	} else {
		check(f->len == 42);
	}
}

/* The frames the gateway builds (NDP, DHCP, errors) go here and are checked. */
static _Alignas(8) uint8_t out_raw[2 + 70000];

static bool fz_alloc(void *port, struct frame *f, uint32_t len)
{
	(void)port;
	if (len > sizeof(out_raw) - 2)
		return false;
	frame_over(f, out_raw + 2, len);
	return true;
}

static void fz_send(void *port, const struct frame *f)
{
	(void)port;
	check_frame(f);
}

static void fz_discard(void *port, const struct frame *f)
{
	(void)port;
	(void)f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_table flows;
	static struct frag_table *frags;
	struct gateway gw;
	struct counters cnt = { 0 };
	struct gw_ctx ctx;
	struct frame f;
	uint64_t drops = 0;

	if (size < 1 || size - 1 > sizeof(raw) - 2)
		return 0;
	test_gateway(&gw);
	if (!flows.max) {
		flow_table_init(&flows, 16);
		frags = frag_table_new();
	}
	frag_table_clear(frags);	/* no state across inputs */
	test_ctx(&ctx, &gw, &cnt, &flows, frags);
	ctx.out.alloc = fz_alloc;
	ctx.out.send = fz_send;
	ctx.out.discard = fz_discard;
	memcpy(buf, data + 1, size - 1);
	cut(&f, size - 1, 1 + (size_t)data[0] * 17);

	switch (eth_input(&ctx, &f)) {
	case VERDICT_REPLY:
		check(f.len <= size - 1);	/* no longer than the request */
		check_frame(&f);
		return 0;
	case VERDICT_HELD:
		udp_flush(&ctx);
		tcp_flush(&ctx);
		return 0;
	case VERDICT_DONE:
		tcp_flush(&ctx);
		break;
	}
	for (int i = 0; i < DROP_MAX; i++)
		drops += cnt.drop[i];
	check(drops <= 1);	/* TCP segments may be consumed without a drop */
	return 0;
}
