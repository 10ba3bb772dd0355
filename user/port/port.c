// SPDX-License-Identifier: MIT
/*
 * port.c - what every port shares: the protocol code's view of it (struct
 * frame_out) and loss injection for tests.
 */
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
	struct port *p = port;

	if (p->cap)
		capture_frame(p->cap, f, o);
	p->ops->transmit(p, f, o);
}

/* The port as the protocol code's frame_out. */
void port_frame_out(struct port *p, struct frame_out *out)
{
	out->port = p;
	out->alloc = out_alloc;
	out->send = out_send;
	out->discard = out_discard;
	out->send_offload = p->tx_offload ? out_send_offload : NULL;
	out->gso_max = p->tx_offload ? p->gso_max : 0;
}

/* Loss injection for tests: drops @per_mille of all frames sent. */
void port_set_test_loss(struct port *p, uint32_t per_mille)
{
	p->test_loss = per_mille;
	p->loss_rng = 0x9e3779b97f4a7c15ULL ^ p->queue;
}

/* True if the frame about to be sent is one of the test's losses. */
bool port_test_loss_hit(struct port *p)
{
	uint64_t x = p->loss_rng;

	if (!p->test_loss)
		return false;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	p->loss_rng = x;
	return x % 1000 < p->test_loss;
}
