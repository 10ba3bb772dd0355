// SPDX-License-Identifier: MIT
/*
 * frame.c - operations on frames spread over several buffers.
 */
#include <string.h>
#include <sys/uio.h>

#include "csum.h"
#include "frame.h"

/**
 * frame_trim() - cut a frame to @len bytes (e.g. drop Ethernet padding)
 * @f: the frame
 * @len: new length, not more than f->len
 *
 * Pieces past the new end keep their place with length 0; the backend
 * releases them instead of transmitting them.
 */
void frame_trim(struct frame *f, uint32_t len)
{
	uint32_t left = len;

	for (uint32_t i = 0; i < f->nseg; i++) {
		if (f->seg[i].len > left)
			f->seg[i].len = left;
		left -= f->seg[i].len;
	}
	f->len = len;
}

/* Swaps the bytes of a 16-bit folded sum: what a sum begun at an odd offset
 * contributes to a sum begun at an even one.
 */
static uint32_t fold_swap(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ((sum & 0xff) << 8) | (sum >> 8);
}

/**
 * frame_csum() - unfolded Internet checksum over bytes of a frame
 * @f: the frame
 * @off: first byte, counted from the start of the frame
 * @len: bytes to sum; the caller guarantees off + len <= f->len
 *
 * Pieces may have odd lengths: a piece that starts at an odd offset of the
 * summed range is summed alone and byte-swapped into the total.
 */
uint32_t frame_csum(const struct frame *f, uint32_t off, uint32_t len)
{
	uint64_t acc = 0;
	uint32_t done = 0;

	for (uint32_t i = 0; i < f->nseg && done < len; i++) {
		const struct frame_seg *s = &f->seg[i];
		uint32_t n, part;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		part = csum_partial(s->data + off, n, 0);
		acc += (done & 1) ? fold_swap(part) : part;
		done += n;
		off = 0;
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

/**
 * frame_iov() - describe @len bytes of a frame from offset @off as an iovec
 * @f: the frame
 * @off: first byte
 * @len: bytes; the caller guarantees off + len <= f->len
 * @iov: FRAME_MAX_SEGS entries
 *
 * Return: the number of entries used.
 */
unsigned frame_iov(const struct frame *f, uint32_t off, uint32_t len, struct iovec *iov)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < f->nseg && len; i++) {
		uint32_t here;

		if (off >= f->seg[i].len) {
			off -= f->seg[i].len;
			continue;
		}
		here = f->seg[i].len - off < len ? f->seg[i].len - off : len;
		iov[n].iov_base = f->seg[i].data + off;
		iov[n++].iov_len = here;
		len -= here;
		off = 0;
	}
	return n;
}

/* Copies @len bytes into the frame at offset @off, across its pieces. */
void frame_copy_in(struct frame *f, uint32_t off, const uint8_t *src, uint32_t len)
{
	struct iovec iov[FRAME_MAX_SEGS];
	unsigned n = frame_iov(f, off, len, iov);

	for (unsigned i = 0; i < n; src += iov[i].iov_len, i++)
		memcpy(iov[i].iov_base, src, iov[i].iov_len);
}

/* Copies @len bytes out of the frame from offset @off, across its pieces. */
void frame_copy_out(const struct frame *f, uint32_t off, uint8_t *dst, uint32_t len)
{
	struct iovec iov[FRAME_MAX_SEGS];
	unsigned n = frame_iov(f, off, len, iov);

	for (unsigned i = 0; i < n; dst += iov[i].iov_len, i++)
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
}
