/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_XSK_H
#define XDPSLIRP_XSK_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include "counters.h"
#include "frame.h"
#include "umem.h"

/*
 * struct xsk_port - one AF_XDP socket with its own UMEM, serving one queue
 * of the guest's link.  Owned and used by a single worker: nothing in it is
 * shared, so nothing is locked.
 *
 * The frame I/O interface the engine uses is: xsk_port_receive(),
 * xsk_port_release(), xsk_port_transmit(), xsk_port_flush() and
 * xsk_port_fd() for sleeping.  A tap-fd backend will offer the same calls.
 */
enum { XSK_RING_FILL, XSK_RING_COMP, XSK_RING_RX, XSK_RING_TX, XSK_RINGS };

struct xsk_port {
	int fd;			/* the AF_XDP socket, valid while @open */
	bool open;
	bool tx_csum;		/* the UMEM has TX metadata: checksum requests */
	void *ring_map[XSK_RINGS];
	size_t ring_len[XSK_RINGS];
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint8_t *area;
	uint64_t area_size;
	struct chunk_pool pool;
	struct counters *cnt;
	uint32_t queue;
	uint32_t tx_unkicked;	/* descriptors submitted since the last kick */
	uint64_t tx_kick_errors;
	uint32_t test_loss;	/* per mille of transmissions dropped (tests) */
	uint64_t loss_rng;	/* xorshift state for test_loss */
};

struct xsk_port_stats {
	uint32_t chunks[CHUNK_STATES];
	uint64_t violations;
	uint64_t kernel_rx_dropped;
	uint64_t kernel_rx_ring_full;
	uint64_t kernel_fill_empty;
	uint64_t kernel_tx_invalid;
};

int xsk_probe_multibuffer(void);
int xsk_port_open(struct xsk_port *p, const char *ifname, int ifindex, uint32_t queue,
		  bool multibuffer, bool tx_csum, struct counters *cnt);
void xsk_port_set_test_loss(struct xsk_port *p, uint32_t per_mille);
void xsk_port_close(struct xsk_port *p);
int xsk_port_fd(const struct xsk_port *p);
unsigned xsk_port_receive(struct xsk_port *p, struct frame *frames, unsigned max);
void xsk_port_release(struct xsk_port *p, const struct frame *f);
void xsk_port_transmit(struct xsk_port *p, const struct frame *f);
void xsk_port_flush(struct xsk_port *p);
bool xsk_port_alloc(struct xsk_port *p, struct frame *f, uint32_t len);
void xsk_port_frame_out(struct xsk_port *p, struct frame_out *out);
void xsk_port_refill(struct xsk_port *p);
void xsk_port_stats(struct xsk_port *p, struct xsk_port_stats *st);

#endif
