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

struct xsk_geometry;

struct xsk_port {
	struct port base;	/* fd: the AF_XDP socket, valid while @open */
	const struct xsk_geometry *geo;	/* its UMEM's and rings' sizes */
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

/* What every queue's socket of one guest's link is opened with. */
struct xsk_link {
	const char *ifname;	/* host end of the guest's link, in the current namespace */
	int ifindex;
	uint32_t mtu;		/* the link's IP MTU */
	bool multibuffer;	/* bind with XDP_USE_SG (frames larger than a chunk) */
	bool tx_csum;		/* ask for TX metadata (checksum offload) if the kernel has it */
	bool small;		/* a small UMEM where the MTU allows (one of many guests) */
};

int xsk_probe_multibuffer(void);
int xsk_port_open(struct xsk_port *p, const struct xsk_link *l, uint32_t queue,
		  struct counters *cnt);

#endif
