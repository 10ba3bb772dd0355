/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_INANY_H
#define XDPSLIRP_INANY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

/*
 * struct inany - an address of either family, as 16 bytes in network order.
 * IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so that flow keys, hashes
 * and comparisons are the same code for both families, and a test of the
 * family is one compare of 12 bytes.
 */
struct inany {
	uint8_t b[16];
};

/* A host socket address of either family. */
union sockaddr_inany {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

static const uint8_t inany_v4mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static inline void inany_from_v4(struct inany *a, uint32_t v4)
{
	memcpy(a->b, inany_v4mapped_prefix, 12);
	memcpy(a->b + 12, &v4, 4);
}

static inline uint32_t inany_v4(const struct inany *a)
{
	uint32_t v4;

	memcpy(&v4, a->b + 12, 4);
	return v4;
}

static inline bool inany_is_v4(const struct inany *a)
{
	return !memcmp(a->b, inany_v4mapped_prefix, 12);
}

static inline bool inany_equal(const struct inany *a, const struct inany *b)
{
	return !memcmp(a->b, b->b, 16);
}

/* All sixteen bytes zero: "no address" (not even 0.0.0.0, which is mapped). */
static inline bool inany_is_zero(const struct inany *a)
{
	static const struct inany zero;

	return inany_equal(a, &zero);
}

static inline bool inany_is_v6_multicast(const struct inany *a)
{
	return a->b[0] == 0xff;
}

static inline bool inany_is_v6_linklocal(const struct inany *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

bool inany_is_unicast(const struct inany *a);
void inany_from_sockaddr(struct inany *a, uint16_t *port, const union sockaddr_inany *sa);
socklen_t inany_to_sockaddr(union sockaddr_inany *sa, const struct inany *a, uint16_t port,
			    int family);
const char *inany_ntop(const struct inany *a, char *buf, size_t len);

#endif
