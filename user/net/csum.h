/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CSUM_H
#define XDPSLIRP_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Internet checksum (RFC 1071) helpers.  Sums are kept unfolded in a 32-bit
 * accumulator in the byte order of the data in memory, so a folded result
 * can be stored into a header as is (no byte swapping).
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
uint16_t csum_ipv4_header(const void *iph, size_t ihl_bytes);
uint32_t csum_pseudo_ipv4(uint32_t saddr, uint32_t daddr, uint8_t proto,
			  uint16_t l4_len);
/* Adds two unfolded sums with end-around carry. */
static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < a);
}

uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new);

#endif
