// SPDX-License-Identifier: MIT
/* Checksums against known vectors and against a naive reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "csum.h"
#include "frames.h"

/* RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2. */
static void rfc1071_example(void **state)
{
	const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t check = csum_fold(csum_partial(data, sizeof(data), 0));

	(void)state;
	assert_int_equal(ntohs(check), 0x220d);	/* ~0xddf2 */
}

/* A classic IPv4 header whose checksum is b861. */
static void ipv4_header_vector(void **state)
{
	uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40,
			    0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
			    0x00, 0xc7 };
	uint16_t check = csum_ipv4_header(hdr, sizeof(hdr));

	(void)state;
	assert_int_equal(ntohs(check), 0xb861);
	memcpy(hdr + 10, &check, 2);
	assert_int_equal(csum_ipv4_header(hdr, sizeof(hdr)), 0);
}

static void odd_lengths_match_reference(void **state)
{
	uint8_t buf[1501];

	(void)state;
	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t len = 0; len <= sizeof(buf); len += 7) {
		uint16_t c = csum_fold(csum_partial(buf, len, 0));

		assert_int_equal(ntohs(c), ref_csum(buf, len));
	}
	/* nearly all ones: nearly every 64-bit addition carries */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = i % 97 ? 0xff : (uint8_t)i;
	for (size_t len = 0; len <= sizeof(buf); len += 13)
		assert_int_equal(ntohs(csum_fold(csum_partial(buf, len, 0))), ref_csum(buf, len));
}

/* UDP pseudo-header + header of a known datagram (checksum computed by hand
 * with the naive reference over the explicit pseudo-header bytes).
 */
static void pseudo_header(void **state)
{
	uint8_t ph_and_udp[12 + 8 + 4] = {
		10, 0, 2, 100, 10, 0, 2, 3, 0, 17, 0, 12,	/* pseudo */
		0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00,	/* UDP */
		'a', 'b', 'c', 'd',
	};
	uint32_t s, d;
	uint16_t c;

	(void)state;
	memcpy(&s, ph_and_udp, 4);
	memcpy(&d, ph_and_udp + 4, 4);
	c = csum_fold(csum_partial(ph_and_udp + 12, 12, csum_pseudo_ipv4(s, d, 17, 12)));
	assert_int_equal(ntohs(c), ref_csum(ph_and_udp, sizeof(ph_and_udp)));
}

/* RFC 1624: the incremental update equals a full recomputation. */
static void incremental_update(void **state)
{
	uint8_t buf[64];

	(void)state;
	srand(2);
	for (int round = 0; round < 1000; round++) {
		uint16_t before, after, old, new;
		size_t at = (size_t)(rand() % 32) * 2;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rand();
		before = csum_fold(csum_partial(buf, sizeof(buf), 0));
		memcpy(&old, buf + at, 2);
		new = (uint16_t)rand();
		memcpy(buf + at, &new, 2);
		after = csum_fold(csum_partial(buf, sizeof(buf), 0));
		assert_int_equal(csum_replace16(before, old, new), after);
	}
}

/* A frame cut in pieces of odd sizes sums like the whole buffer. */
static void frame_pieces(void **state)
{
	uint8_t buf[4000];
	struct frame f;

	(void)state;
	srand(3);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (int round = 0; round < 200; round++) {
		uint32_t pos = 0, off, len;

		f.nseg = 0;
		f.len = 0;
		while (pos < sizeof(buf) && f.nseg < FRAME_MAX_SEGS) {
			uint32_t n = 1 + (uint32_t)rand() % 700;

			if (n > sizeof(buf) - pos || f.nseg == FRAME_MAX_SEGS - 1)
				n = sizeof(buf) - pos;
			f.seg[f.nseg].data = buf + pos;
			f.seg[f.nseg++].len = n;
			pos += n;
		}
		f.len = pos;
		off = (uint32_t)rand() % 100;
		len = (uint32_t)rand() % (f.len - off);
		assert_int_equal(ntohs(csum_fold(frame_csum(&f, off, len))),
				 ref_csum(buf + off, len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1071_example),
		cmocka_unit_test(ipv4_header_vector),
		cmocka_unit_test(odd_lengths_match_reference),
		cmocka_unit_test(pseudo_header),
		cmocka_unit_test(incremental_update),
		cmocka_unit_test(frame_pieces),
	};

	return cmocka_run_group_tests_name("csum", tests, NULL, NULL);
}
