/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_TAP_H
#define XDPSLIRP_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "port.h"
#include "bufpool.h"

/* struct tap_port - one queue of a tap device (tap.c): a struct port. */
struct tap_port {
	struct port base;	/* fd: the tap queue */
	struct buf_pool bufs;
	bool uso;		/* the guest may send UDP super-frames */
	uint64_t read_errors;
};

int tap_port_open(struct tap_port *t, int fd, uint32_t queue, unsigned offloads,
		  struct counters *cnt);

#endif
