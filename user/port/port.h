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
	const char *offloads;	/* their names, for the counters; NULL: none */
	struct capture *cap;	/* --pcap: its worker's buffers, or NULL */
	uint32_t test_loss;	/* per mille of transmissions dropped (tests) */
	uint64_t loss_rng;	/* xorshift state for test_loss */
};

static inline unsigned port_receive(struct port *p, struct frame *frames, unsigned max)
{
	unsigned n = p->ops->receive(p, frames, max);

	for (unsigned i = 0; p->cap && i < n; i++)
		capture_frame(p->cap, &frames[i], NULL);
	return n;
}

static inline void port_release(struct port *p, const struct frame *f)
{
	p->ops->release(p, f);
}

static inline void port_transmit(struct port *p, const struct frame *f)
{
	if (p->cap)
		capture_frame(p->cap, f, NULL);
	p->ops->transmit(p, f, NULL);
}

static inline bool port_alloc(struct port *p, struct frame *f, uint32_t len)
{
	return p->ops->alloc(p, f, len);
}

static inline void port_flush(struct port *p)
{
	p->ops->flush(p);
}

void port_frame_out(struct port *p, struct frame_out *out);
void port_set_test_loss(struct port *p, uint32_t per_mille);
bool port_test_loss_hit(struct port *p);

#endif
