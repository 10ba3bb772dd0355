// SPDX-License-Identifier: MIT
/*
 * frag.c - reassembly of the datagrams the guest sends in fragments, IPv4
 * (RFC 791) and IPv6 (RFC 8200 4.5).
 *
 * Theory of operation: a worker has FRAG_SLOTS reassembly slots, each with
 * a buffer for the largest datagram and a bitmap of the 8-byte units it has
 * received, all allocated at start-up: memory is bounded whatever the guest
 * sends.  A fragment that overlaps one already received, or reaches past
 * 65,535 bytes, ends the whole datagram (counted).  A slot lives at most
 * FRAG_TIMEOUT_NS; when all are busy, the oldest is given up (counted).
 * The same rules serve IPv6, where RFC 5722 forbids overlaps outright.
 * A completed datagram is handed back as a frame with a plain IPv4 or IPv6
 * header (no options, no extension headers), for the protocol code to treat
 * like any other.  The IP layers find the fragments' identity and offsets
 * (struct frag_desc); this file knows neither header.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "frag.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"

#define FRAG_SLOTS	16
#define FRAG_TIMEOUT_NS	(10ull * 1000 * 1000 * 1000)
#define MAX_PAYLOAD	(65535 - 20)
#define UNITS		((MAX_PAYLOAD + 7) / 8)

struct frag_slot {
	struct inany src, dst;
	uint32_t id;
	uint8_t proto;
	bool used;
	uint64_t started;
	uint32_t total;		/* payload length, known once the last fragment came */
	uint32_t received;	/* payload bytes in */
	uint8_t seen[(UNITS + 7) / 8];
	uint8_t buf[2 + ETH_HLEN + 40 + MAX_PAYLOAD];	/* 2: IP header alignment */
};

struct frag_table {
	struct frag_slot slot[FRAG_SLOTS];
};

struct frag_table *frag_table_new(void)
{
	return calloc(1, sizeof(struct frag_table));
}

void frag_table_free(struct frag_table *t)
{
	free(t);
}

/* Forgets every datagram in progress. */
void frag_table_clear(struct frag_table *t)
{
	for (int i = 0; i < FRAG_SLOTS; i++)
		t->slot[i].used = false;
}

static bool slot_matches(const struct frag_slot *s, const struct frag_desc *d)
{
	return s->used && inany_equal(&s->src, &d->src) && inany_equal(&s->dst, &d->dst) &&
	       s->id == d->id && s->proto == d->proto;
}

/* The slot of @d's datagram: found, free, or the oldest one given up. */
static struct frag_slot *slot_for(struct gw_ctx *ctx, const struct frag_desc *d)
{
	struct frag_slot *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < FRAG_SLOTS; i++) {
		struct frag_slot *s = &ctx->frags->slot[i];

		if (s->used && s->started + FRAG_TIMEOUT_NS < ctx->now) {
			s->used = false;	/* timed out */
			counter_add(&ctx->cnt->drop[DROP_FRAG_TIMEOUT], 1);
		}
		if (slot_matches(s, d))
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
		if (s->used && (!oldest || s->started < oldest->started))
			oldest = s;
	}
	if (!free_slot) {
		counter_add(&ctx->cnt->drop[DROP_FRAG_EVICTED], 1);
		free_slot = oldest;
	}
	memset(free_slot->seen, 0, sizeof(free_slot->seen));
	free_slot->src = d->src;
	free_slot->dst = d->dst;
	free_slot->id = d->id;
	free_slot->proto = d->proto;
	free_slot->used = true;
	free_slot->started = ctx->now;
	free_slot->total = 0;
	free_slot->received = 0;
	return free_slot;
}

/* Marks units [first, first + n) as seen; false if any already was. */
static bool mark_units(struct frag_slot *s, uint32_t first, uint32_t n)
{
	for (uint32_t u = first; u < first + n; u++) {
		if (s->seen[u / 8] & (1u << (u % 8)))
			return false;
		s->seen[u / 8] |= (uint8_t)(1u << (u % 8));
	}
	return true;
}

/* Gives the datagram up and counts why. */
static bool frag_fail(struct gw_ctx *ctx, struct frag_slot *s, enum drop_reason why)
{
	if (s)
		s->used = false;
	counter_add(&ctx->cnt->drop[why], 1);
	return false;
}

/**
 * frag_input() - take in one fragment
 * @ctx: protocol context
 * @f: the fragment's frame
 * @d: what its IP header says of it
 * @whole: set to the reassembled datagram once it is complete
 *
 * The returned frame points into the slot, which stays reserved only until
 * the next call: handle it at once.
 *
 * Return: true when @whole holds a complete datagram.
 */
bool frag_input(struct gw_ctx *ctx, const struct frame *f, const struct frag_desc *d,
		struct frame *whole)
{
	bool v6 = !inany_is_v4(&d->src);
	uint32_t off = d->off, len = d->len, hlen = IP_HLEN(v6);
	struct frag_slot *s;
	uint8_t *out, *l3;

	if (!len || (!d->last && len % 8))
		return frag_fail(ctx, NULL, v6 ? DROP_IPV6_MALFORMED : DROP_IPV4_MALFORMED);
	s = slot_for(ctx, d);
	if (off + len > MAX_PAYLOAD)
		return frag_fail(ctx, s, DROP_FRAG_OVERSIZE);
	if ((d->last && s->total) || (s->total && off + len > s->total) ||
	    (d->last && off + len < s->received) || !mark_units(s, off / 8, (len + 7) / 8))
		return frag_fail(ctx, s, DROP_FRAG_OVERLAP);
	if (d->last)
		s->total = off + len;
	out = s->buf + 2 + ETH_HLEN + hlen;
	frame_copy_out(f, d->data_off, out + off, len);
	s->received += len;
	if (!s->total || s->received != s->total)
		return false;

	/* complete: Ethernet header of this fragment, a plain IP header */
	memcpy(s->buf + 2, f->seg[0].data, ETH_HLEN);
	l3 = s->buf + 2 + ETH_HLEN;
	if (v6)
		ipv6_fill_header((struct ipv6hdr *)l3, &d->src, &d->dst, d->proto, s->total,
				 d->hops);
	else
		ipv4_fill_header((struct iphdr *)l3, inany_v4(&d->src), inany_v4(&d->dst),
				 d->proto, 20 + s->total, 0, (uint16_t)d->id);
	s->used = false;
	/* all of it: flags left from the caller's stack (FRAME_GSO_UDP) had a
	 * reassembled datagram cut into segments (seen under TSan) */
	*whole = (struct frame){ .len = ETH_HLEN + hlen + s->total, .nseg = 1 };
	whole->seg[0].data = s->buf + 2;
	whole->seg[0].len = whole->len;
	return true;
}
