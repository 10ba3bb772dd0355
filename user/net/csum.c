// SPDX-License-Identifier: MIT
/*
 * csum.c - Internet checksum: full sums, pseudo-headers, incremental updates.
 *
 * The one's complement sum does not depend on the byte order it is computed
 * in (RFC 1071, section 2(B)): summing 32-bit words in host order and folding
 * gives the checksum already in network order once stored from memory.  All
 * values passed in and out are in network order, as in the headers.
 */
#include <string.h>

#include "csum.h"

/**
 * csum_partial() - add @len bytes at @buf to an unfolded sum
 * @buf: data, any alignment
 * @len: bytes; an odd length pads the last byte with zero
 * @sum: running sum from an earlier call, or 0
 *
 * Return: the new unfolded sum.  Chaining calls is only valid when every
 * call but the last covers an even number of bytes.
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t a0 = sum, a1 = 0, c0 = 0, c1 = 0, acc;

	/*
	 * Two 64-bit sums with their carries counted apart, 16 bytes a round:
	 * 2^64 is 1 modulo 2^32 - 1, so a carry out of bit 63 adds 1.
	 */
	while (len >= 16) {
		uint64_t w0, w1;

		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		a0 += w0;
		c0 += a0 < w0;
		a1 += w1;
		c1 += a1 < w1;
		p += 16;
		len -= 16;
	}
	acc = (a0 & 0xffffffff) + (a0 >> 32) + (a1 & 0xffffffff) + (a1 >> 32) + c0 + c1;
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		acc += w;
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

/* Folds an unfolded sum to 16 bits and complements it: the checksum field. */
uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Checksum of an IPv4 header whose check field is zero (or, to verify, set:
 * a valid header then gives 0).
 */
uint16_t csum_ipv4_header(const void *iph, size_t ihl_bytes)
{
	return csum_fold(csum_partial(iph, ihl_bytes, 0));
}

/* Unfolded sum of the IPv4 pseudo-header for TCP and UDP (RFC 793, 768). */
uint32_t csum_pseudo_ipv4(uint32_t saddr, uint32_t daddr, uint8_t proto,
			  uint16_t l4_len)
{
	uint8_t ph[12];
	uint16_t be_len = (uint16_t)((l4_len >> 8) | (l4_len << 8));

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	memcpy(ph + 10, &be_len, 2);
	return csum_partial(ph, sizeof(ph), 0);
}

/**
 * csum_replace16() - update a checksum for one changed 16-bit word (RFC 1624)
 * @check: current checksum field
 * @old: the word's old value, as stored
 * @new: the word's new value, as stored
 *
 * Return: the new checksum field, HC' = ~(~HC + ~m + m').
 */
uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old;
	sum += new;
	return csum_fold(sum);
}
