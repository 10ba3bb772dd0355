/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_XDP_H
#define XDPSLIRP_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include "xdp_shared.h"

struct xdpslirp_bpf;
struct gateway;
struct policy;

/* The steering program, its maps, and the link that attaches it. */
struct xdp_prog {
	struct xdpslirp_bpf *skel;
	int link_fd;
	int ncpus;		/* per-CPU values per key, read at load: sysfs
				 * is out of reach once sandboxed */
	struct xdp_policy_key *policy_keys;	/* the policy entries written */
	unsigned npolicy_keys;
};

int xdp_prog_probe(void);
int xdp_prog_load(struct xdp_prog *x);
int xdp_prog_add_socket(struct xdp_prog *x, uint32_t queue, int xsk_fd);
int xdp_prog_attach(struct xdp_prog *x, int ifindex, const char *ifname,
		    bool generic);
void xdp_prog_counters(const struct xdp_prog *x, uint64_t out[XDP_CNT_MAX]);
void xdp_prog_close(struct xdp_prog *x);

/* xdp_policy.c */
int xdp_policy_write(struct xdp_prog *x, const struct policy *p, const struct gateway *gw);
uint64_t xdp_policy_drops(const struct xdp_prog *x, unsigned slot);
void xdp_policy_fold_drops(struct xdp_prog *x, struct policy *p);
void xdp_policy_fwd_udp(struct xdp_prog *x, uint16_t guest_port, bool add);

#endif
