/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_XDP_H
#define XDPSLIRP_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include "xdp_shared.h"

struct xdpslirp_bpf;

/* The steering program, its maps, and the link that attaches it. */
struct xdp_prog {
	struct xdpslirp_bpf *skel;
	int link_fd;
	int ncpus;		/* per-CPU values per key, read at load: sysfs
				 * is out of reach once sandboxed */
};

int xdp_prog_probe(void);
int xdp_prog_load(struct xdp_prog *x);
int xdp_prog_add_socket(struct xdp_prog *x, uint32_t queue, int xsk_fd);
int xdp_prog_attach(struct xdp_prog *x, int ifindex, const char *ifname,
		    bool generic);
void xdp_prog_counters(const struct xdp_prog *x, uint64_t out[XDP_CNT_MAX]);
void xdp_prog_close(struct xdp_prog *x);

#endif
