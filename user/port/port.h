/* SPDX-License-Identifier: MIT */
/*
 * port.h - how a worker moves frames to and from the guest, whatever
 * carries them.
 *
 * A port is one queue of the guest's link, owned by one worker: an AF_XDP
 * socket (xsk.c), a tap queue the engine holds (tap.c), or a QEMU stream
 * socket (stream.c).  The worker sees only this interface: it receives
 * bursts of frames whose memory the port owns, hands each back (released,
 * or transmitted as a reply built in place), builds frames in memory it
 * allocates from the port, and flushes at the end of a round.  Each port's
 * own file explains how it does that; the protocol code above only sees
 * struct frame and struct frame_out.  With --pcap, every frame received or
 * transmitted here is also copied to the capture (capture.c).
 */
#ifndef XDPSLIRP_PORT_H
#define XDPSLIRP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "counters.h"
#include "frame.h"

struct port;

struct port_ops {
	/* Up to @max frames received; their memory stays the port's. */
	unsigned (*receive)(struct port *p, struct frame *frames, unsigned max);
	/* Gives back a received or allocated frame that will not be sent. */
	void (*release)(struct port *p, const struct frame *f);
	/* Sends @f (received or allocated here), finishing @o if not NULL. */
	void (*transmit)(struct port *p, const struct frame *f, const struct tx_offload *o);
	/* Room for a @len-byte frame; false if none is free. */
	bool (*alloc)(struct port *p, struct frame *f, uint32_t len);
	/* End of a round: push out what is queued, rearm reception. */
	void (*flush)(struct port *p);
	/* After the workers stopped: logs what the port holds; -EFAULT if a
	 * frame was lost track of (a bug). */
	int (*audit)(struct port *p);
	void (*close)(struct port *p);
};

/* Faults a test asks for (--test-tx-loss and the like), per mille of the
 * frames each way: what a lossy, duplicating, reordering link would do. */
struct port_faults {
	uint32_t tx_loss, tx_dup, tx_reorder;	/* toward the guest */
	uint32_t rx_dup, rx_reorder;		/* from the guest */
};

/* The state of fault injection (port.c): only tests have it. */
struct port_fault_state {
	struct port_faults rate;
	uint64_t rng;		/* xorshift */
	bool held;		/* a frame kept back, to follow the next one */
	bool held_has_o;
	struct tx_offload held_o;
	struct frame held_f;
};

/*
 * struct port - what every port has.  Embedded first in each port's own
 * structure.
 */
struct port {
	const struct port_ops *ops;
	const char *kind;	/* "AF_XDP", "tap", "stream" */
	int fd;			/* readable when frames wait (epoll) */
	uint32_t queue;
	struct counters *cnt;
	bool tx_offload;	/* transmit() takes a struct tx_offload */
	uint32_t gso_max;	/* longest TCP super-frame it takes, 0: none */
	uint32_t rx_budget;	/* frames of the largest size it is sure to
				 * take at once, 0: no limit (see frame_out) */
	const char *offloads;	/* their names, for the counters; NULL: none */
	struct capture *cap;	/* --pcap: its worker's buffers, or NULL */
	struct port_fault_state *faults;	/* tests only, else NULL */
};

unsigned port_faulty_receive(struct port *p, struct frame *frames, unsigned n,
			     unsigned max);
void port_faulty_transmit(struct port *p, const struct frame *f, const struct tx_offload *o);
void port_faulty_flush(struct port *p);

static inline unsigned port_receive(struct port *p, struct frame *frames, unsigned max)
{
	unsigned n = p->ops->receive(p, frames, max);

	if (p->faults)
		n = port_faulty_receive(p, frames, n, max);
	for (unsigned i = 0; p->cap && i < n; i++)
		capture_frame(p->cap, &frames[i], NULL);
	return n;
}

static inline void port_release(struct port *p, const struct frame *f)
{
	p->ops->release(p, f);
}

/* Sends @f, finishing @o if not NULL (ports with tx_offload only). */
static inline void port_transmit_offload(struct port *p, const struct frame *f,
					 const struct tx_offload *o)
{
	if (p->faults) {
		port_faulty_transmit(p, f, o);
		return;
	}
	if (p->cap)
		capture_frame(p->cap, f, o);
	p->ops->transmit(p, f, o);
}

static inline void port_transmit(struct port *p, const struct frame *f)
{
	port_transmit_offload(p, f, NULL);
}

static inline bool port_alloc(struct port *p, struct frame *f, uint32_t len)
{
	return p->ops->alloc(p, f, len);
}

static inline void port_flush(struct port *p)
{
	if (p->faults)
		port_faulty_flush(p);
	p->ops->flush(p);
}

void port_frame_out(struct port *p, struct frame_out *out);
int port_set_faults(struct port *p, const struct port_faults *rate);
void port_fini_faults(struct port *p);

#endif
