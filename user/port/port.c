// SPDX-License-Identifier: MIT
/*
 * port.c - what every port shares: the protocol code's view of it (struct
 * frame_out) and fault injection for tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

static bool out_alloc(void *port, struct frame *f, uint32_t len)
{
	return port_alloc(port, f, len);
}

static void out_send(void *port, const struct frame *f)
{
	port_transmit(port, f);
}

static void out_discard(void *port, const struct frame *f)
{
	port_release(port, f);
}

static void out_send_offload(void *port, const struct frame *f, const struct tx_offload *o)
{
	port_transmit_offload(port, f, o);
}

/* The protocol code's view of the port (struct frame_out). */
void port_frame_out(struct port *p, struct frame_out *out)
{
	out->port = p;
	out->alloc = out_alloc;
	out->send = out_send;
	out->discard = out_discard;
	out->send_offload = p->tx_offload ? out_send_offload : NULL;
	out->gso_max = p->tx_offload ? p->gso_max : 0;
	out->rx_budget = p->rx_budget;
}

/*
 * Fault injection, for tests: --test-tx-loss, --test-tx-dup,
 * --test-tx-reorder toward the guest, --test-rx-dup, --test-rx-reorder
 * from it (loss from the guest is the guest's to make: nftables).  A
 * duplicate is a copy in a frame of the port's own, sent (or served) right
 * after the original; a reordered frame toward the guest is kept back in
 * such a copy and follows the next one sent, or goes at the round's end
 * (port_flush()); one from the guest swaps places with the next one of
 * its burst.  Only a port with faults pays for any of this: one pointer
 * test per frame.
 */

/* True for @per_mille of the calls. */
static bool fault_hit(struct port_fault_state *s, uint32_t per_mille)
{
	uint64_t x = s->rng;

	if (!per_mille)
		return false;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return x % 1000 < per_mille;
}

/* A copy of @f, flags and all, in a frame of @p's own; false if none is free. */
static bool frame_dup(struct port *p, const struct frame *f, struct frame *copy)
{
	uint32_t off = 0;

	if (!p->ops->alloc(p, copy, f->len))
		return false;
	for (uint32_t i = 0; i < f->nseg; i++) {
		frame_copy_in(copy, off, f->seg[i].data, f->seg[i].len);
		off += f->seg[i].len;
	}
	copy->flags = f->flags;
	copy->gso_size = f->gso_size;
	return true;
}

static void fault_send(struct port *p, const struct frame *f, const struct tx_offload *o)
{
	if (p->cap)
		capture_frame(p->cap, f, o);
	p->ops->transmit(p, f, o);
}

/* Frames from the guest: some served twice, some out of order. */
unsigned port_faulty_receive(struct port *p, struct frame *frames, unsigned n, unsigned max)
{
	struct port_fault_state *s = p->faults;

	for (unsigned i = 0; i + 1 < n; i++)
		if (fault_hit(s, s->rate.rx_reorder)) {
			struct frame t = frames[i];

			frames[i] = frames[i + 1];
			frames[++i] = t;
			counter_add(&p->cnt->test_reordered, 1);
		}
	for (unsigned i = 0, end = n; i < end && n < max; i++)
		if (fault_hit(s, s->rate.rx_dup) && frame_dup(p, &frames[i], &frames[n])) {
			n++;
			counter_add(&p->cnt->test_duplicated, 1);
		}
	return n;
}

/* A frame toward the guest: lost, duplicated, kept back, or just sent. */
void port_faulty_transmit(struct port *p, const struct frame *f, const struct tx_offload *o)
{
	struct port_fault_state *s = p->faults;
	struct frame copy;

	if (fault_hit(s, s->rate.tx_loss)) {
		p->ops->release(p, f);
		counter_add(&p->cnt->drop[DROP_TX_TEST_LOSS], 1);
		return;
	}
	if (!s->held && fault_hit(s, s->rate.tx_reorder) && frame_dup(p, f, &s->held_f)) {
		p->ops->release(p, f);
		s->held = true;
		s->held_has_o = o;
		if (o)
			s->held_o = *o;
		counter_add(&p->cnt->test_reordered, 1);
		return;
	}
	if (fault_hit(s, s->rate.tx_dup) && frame_dup(p, f, &copy)) {
		fault_send(p, &copy, o);
		counter_add(&p->cnt->test_duplicated, 1);
	}
	fault_send(p, f, o);
	port_faulty_flush(p);
}

/* The frame kept back goes now. */
void port_faulty_flush(struct port *p)
{
	struct port_fault_state *s = p->faults;

	if (s->held) {
		s->held = false;
		fault_send(p, &s->held_f, s->held_has_o ? &s->held_o : NULL);
	}
}

/**
 * port_set_faults() - make @p lose, duplicate and reorder frames (tests)
 * @p: the port, before its worker runs
 * @rate: per mille of frames each way; all 0: none (the default)
 *
 * Return: 0, or -ENOMEM.
 */
int port_set_faults(struct port *p, const struct port_faults *rate)
{
	static const struct port_faults none;

	if (!memcmp(rate, &none, sizeof(none)))
		return 0;
	p->faults = calloc(1, sizeof(*p->faults));
	if (!p->faults)
		return -ENOMEM;
	p->faults->rate = *rate;
	p->faults->rng = 0x9e3779b97f4a7c15ULL ^ p->queue;
	return 0;
}

/* Gives back the frame kept back, if any; before the port closes. */
void port_fini_faults(struct port *p)
{
	if (p->faults && p->faults->held)
		p->ops->release(p, &p->faults->held_f);
	free(p->faults);
	p->faults = NULL;
}
