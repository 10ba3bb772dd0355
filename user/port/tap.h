/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_TAP_H
#define XDPSLIRP_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "port.h"
#include "umem.h"

/* struct tap_port - one queue of a tap device (tap.c): a struct port. */
struct tap_port {
	struct port base;	/* fd: the tap queue */
	uint8_t *area;		/* the buffers */
	size_t area_size;
	struct chunk_pool pool;
	uint64_t read_errors;
};

int tap_port_open(struct tap_port *t, int fd, uint32_t queue, bool offload,
		  struct counters *cnt);

#endif
