// SPDX-License-Identifier: MIT
/*
 * engine_switch.c - guest-to-guest switching: the daemon's guests of one
 * --peer-group reach each other's addresses frame to frame, inside the
 * engine, with no host socket.
 *
 * Theory of operation: every worker serves queue q of every guest, so a
 * datagram that guest A's queue q hands worker q for guest B's address
 * leaves on B's queue q: the same thread, no lock, no hand-off.  Each
 * worker keeps its own table, (group, address) -> guest, of the guests it
 * serves that have a group, rebuilt when one of them joins or leaves its
 * turns.  The gateway answers ARP and Neighbor Solicitations for a peer's
 * address with its own MAC, as for its own addresses (proxy ARP), so the
 * guests of one subnet reach each other as through a switch; ip_dispatch()
 * hands such a datagram here before anything else.  The frame is copied
 * into memory of B's port, its Ethernet addresses those of B's link, its
 * TTL or hop limit as it was (a switch, not a router), and its TCP or UDP
 * checksum completed, by B's port if it can (AF_XDP TX metadata), else in
 * software: A's veth may have left it to offload.  Guests
 * without a group are in no table: nothing reaches them this way, and
 * their frames never look.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "engine_int.h"
#include "ip.h"
#include "ipv4.h"

#define PEER_SLOTS	(4 * GUESTS_MAX)	/* two addresses a guest, half full */

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct peer_entry {
	struct inany addr;
	uint32_t group;
	struct gq *q;		/* NULL: a free slot */
};

static uint32_t peer_hash(uint32_t group, const struct inany *a)
{
	uint32_t h = group * 0x9e3779b1u;

	for (unsigned i = 0; i < 16; i += 4) {
		uint32_t w;

		memcpy(&w, a->b + i, 4);
		h = (h ^ w) * 0x01000193u;
	}
	return (h ^ (h >> 15)) & (PEER_SLOTS - 1);
}

static void peer_insert(struct peer_entry *t, struct gq *q, const struct inany *a)
{
	uint32_t i = peer_hash(q->g->peer_group, a);

	while (t[i].q)
		i = (i + 1) & (PEER_SLOTS - 1);
	t[i] = (struct peer_entry){ .addr = *a, .group = q->g->peer_group, .q = q };
}

/* The guest of @group that worker @w serves with address @a, or NULL. */
static struct gq *peer_find(const struct worker *w, uint32_t group, const struct inany *a)
{
	for (uint32_t i = peer_hash(group, a); w->peers && w->peers[i].q;
	     i = (i + 1) & (PEER_SLOTS - 1))
		if (w->peers[i].group == group && inany_equal(&w->peers[i].addr, a))
			return w->peers[i].q;
	return NULL;
}

/**
 * switch_rebuild() - worker @w's table of peers, anew from the guests it serves
 * @w: the worker, in its own thread
 *
 * Called when a guest of a group joins or leaves its turns.  Without memory
 * for the table, no guest is switched (each still reaches the host).
 */
void switch_rebuild(struct worker *w)
{
	if (!w->peers)
		w->peers = malloc(PEER_SLOTS * sizeof(*w->peers));
	if (!w->peers)
		return;
	memset(w->peers, 0, PEER_SLOTS * sizeof(*w->peers));
	for (unsigned i = 0; i < w->ngq; i++) {
		struct gq *q = w->gqs[i];
		struct inany a;

		if (!q->g->peer_group)
			continue;
		inany_from_v4(&a, q->g->gw->guest_addr);
		peer_insert(w->peers, q, &a);
		if (q->g->gw->ipv6)
			peer_insert(w->peers, q, &q->g->gw->guest6);
	}
}

void switch_fini(struct worker *w)
{
	free(w->peers);
	w->peers = NULL;
}

/* The guest that @ctx's may reach at @a, or NULL (none, or itself). */
static struct gq *peer_of(const struct gw_ctx *ctx, const struct inany *a)
{
	const struct gq *from = container_of(ctx, struct gq, ctx);
	struct gq *to = peer_find(from->w, from->g->peer_group, a);

	return to == from ? NULL : to;
}

static bool switch_is_peer(const struct gw_ctx *ctx, const struct inany *a)
{
	return peer_of(ctx, a) != NULL;
}

/*
 * Completes the TCP or UDP checksum of datagram @p, copied into @f: with
 * @offload, leaves it to the port (the pseudo-header's sum in place, @o
 * filled in, true), else in software (false).
 */
static bool switch_csum(struct frame *f, const struct ippkt *p, bool offload,
			struct tx_offload *o)
{
	size_t at = p->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) :
		    p->proto == IPPROTO_UDP ? offsetof(struct udphdr, check) : 0;
	uint8_t *l4 = f->seg[0].data + p->l4off;
	uint32_t pseudo;
	uint16_t check = 0;

	if (!at || p->l4len < at + 2 || p->l4off + at + 2 > f->seg[0].len)
		return false;	/* no checksum to complete, or not in the headers */
	if (!p->v6 && ((const struct iphdr *)p->hdr)->frag_off & htons(IPV4_MF | IPV4_OFFSET))
		return false;	/* a fragment: checksummed before it was cut */
	memcpy(&check, l4 + at, 2);
	if (p->proto == IPPROTO_UDP && !p->v6 && !check)
		return false;	/* IPv4 UDP without a checksum */
	pseudo = ip_pseudo_sum(&p->src, &p->dst, p->proto, p->l4len);
	if (offload) {
		check = (uint16_t)~csum_fold(pseudo);
		*o = (struct tx_offload){ .csum_start = (uint16_t)p->l4off,
					  .csum_offset = (uint16_t)at };
	} else {
		memset(l4 + at, 0, 2);
		check = csum_fold(csum_add(frame_csum(f, p->l4off, p->l4len), pseudo));
		if (p->proto == IPPROTO_UDP && !check)
			check = 0xffff;
	}
	memcpy(l4 + at, &check, 2);
	return offload;
}

/* Copies @src into @dst, a frame of the same length. */
static void frame_copy(struct frame *dst, const struct frame *src)
{
	uint32_t off = 0;

	for (uint32_t i = 0; i < src->nseg; i++) {
		frame_copy_in(dst, off, src->seg[i].data, src->seg[i].len);
		off += src->seg[i].len;
	}
}

static bool switch_forward(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	struct gq *to = peer_of(ctx, &p->dst);
	struct tx_offload o;
	struct ethhdr *eth;
	struct frame out;

	if (!to)
		return false;
	if (f->len - ETH_HLEN > to->g->gw->mtu) {
		drop(ctx, DROP_PEER_TOO_BIG);
		return true;
	}
	if (!port_alloc(to->port, &out, f->len)) {
		drop(ctx, DROP_TX_NO_FRAMES);
		return true;
	}
	frame_copy(&out, f);
	eth = (struct ethhdr *)out.seg[0].data;
	memcpy(eth->h_dest, to->ctx.guest_mac, ETH_ALEN);
	memcpy(eth->h_source, to->g->gw->mac, ETH_ALEN);
	counter_add(&ctx->cnt->switched, 1);
	if (switch_csum(&out, p, to->port->tx_offload, &o))
		port_transmit_offload(to->port, &out, &o);
	else
		port_transmit(to->port, &out);
	return true;
}

const struct peer_switch engine_peer_switch = {
	.is_peer = switch_is_peer,
	.forward = switch_forward,
};
