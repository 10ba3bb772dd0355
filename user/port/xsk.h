/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_XSK_H
#define XDPSLIRP_XSK_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include "counters.h"
#include "port.h"
#include "umem.h"

/*
 * struct xsk_port - one AF_XDP socket with its own UMEM, serving one queue
 * of the guest's link: a struct port (port.h).  Owned and used by a single
 * worker: nothing in it is shared, so nothing is locked.
 */
enum { XSK_RING_FILL, XSK_RING_COMP, XSK_RING_RX, XSK_RING_TX, XSK_RINGS };

struct xsk_port {
	struct port base;	/* fd: the AF_XDP socket, valid while @open */
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
	uint32_t tx_unkicked;	/* descriptors submitted since the last kick */
	uint64_t tx_kick_errors;
};

int xsk_probe_multibuffer(void);
int xsk_port_open(struct xsk_port *p, const char *ifname, int ifindex, uint32_t queue,
		  bool multibuffer, bool tx_csum, struct counters *cnt);

#endif
