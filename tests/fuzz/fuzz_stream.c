// SPDX-License-Identifier: MIT
/*
 * fuzz_stream.c - libFuzzer target for the stream port's framing (stream.c):
 * the bytes a peer of --socket sends, as a 32-bit big-endian length before
 * each frame, arriving in reads of any size.
 *
 * Input: byte 0 seeds the sizes of the reads; the rest is the stream.  The
 * harness replays it through stream_rx_room()/stream_rx_next() as the port
 * does and checks, against a plain parse of the whole input, that the same
 * frames come out in order with the same bytes, that nothing is read past
 * what arrived, and that a bad length is reported exactly where it is.
 * Frames are then queued for sending (stream_tx_queue()) and must come out
 * framed as they went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static uint8_t rxbuf[256 << 10], txbuf[1 << 20];

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_buf rx = { .buf = rxbuf, .size = sizeof(rxbuf) };
	struct stream_buf tx = { .buf = txbuf, .size = sizeof(txbuf) };
	size_t fed = 0, expect = 0;	/* bytes given, offset of the next frame */
	uint32_t rnd;

	if (size < 1)
		return 0;
	rnd = data[0] * 2654435761u + 1;
	data++;
	size--;
	for (;;) {
		const uint8_t *frame;
		uint32_t len, room;
		int got = stream_rx_next(&rx, &frame, &len);

		if (got > 0) {	/* the frame the plain parse finds here */
			check(expect + 4 + len <= fed);
			check(len == be32(data + expect) && len <= STREAM_FRAME_MAX);
			check(!memcmp(frame, data + expect + 4, len));
			if (len) {
				struct frame f = { .len = len, .nseg = 1 };
				uint32_t tail = tx.tail;

				f.seg[0] = (struct frame_seg){ .data = (uint8_t *)frame, .len = len };
				if (stream_tx_queue(&tx, &f)) {
					check(be32(tx.buf + tx.tail - 4 - len) == len);
					check(!memcmp(tx.buf + tx.tail - len, frame, len));
				} else {
					check(tx.tail == tail);
					tx.head = tx.tail;	/* as if all were sent */
				}
			}
			expect += 4 + len;
			continue;
		}
		if (got < 0) {
			check(fed - expect >= 4 && be32(data + expect) > STREAM_FRAME_MAX);
			return 0;
		}
		/* need more: the next read, of a pseudo-random size */
		check(fed - expect < 4 || be32(data + expect) > fed - expect - 4);
		if (fed == size)
			return 0;
		uint8_t *to = stream_rx_room(&rx, &room);
		size_t n;

		check(room >= 1 && rx.tail + room <= rx.size);
		rnd = rnd * 1103515245u + 12345u;
		n = 1 + (rnd >> 8) % 70000;
		if (n > room)
			n = room;
		if (n > size - fed)
			n = size - fed;
		memcpy(to, data + fed, n);
		rx.tail += (uint32_t)n;
		fed += n;
	}
}
