/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTNETS_H
#define XDPSLIRP_HOSTNETS_H

#include "netlink.h"
#include "policy.h"

/* --block-host-networks: the host's addresses and on-link prefixes. */
struct hostnets {
	struct nl mon;		/* address and route events */
	struct nl req;		/* dumps */
};

int hostnets_open(struct hostnets *h);
int hostnets_fd(const struct hostnets *h);
int hostnets_read(struct hostnets *h, struct policy_rule *out, unsigned max);
void hostnets_close(struct hostnets *h);
struct rule_set;
int hostnets_refresh(struct hostnets *h, struct rule_set *const *sets, unsigned n);

#endif
