/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_PLUMB_H
#define XDPSLIRP_PLUMB_H

#include <stdbool.h>

#include "config.h"
#include "netlink.h"
#include "netns.h"

/* The link xdpslirp serves, and what it created to get it. */
struct guest_link {
	char host_ifname[IF_NAMESIZE];
	struct link_info host;		/* the host end, where XDP runs */
	uint8_t guest_mac[ETH_ALEN];	/* the guest end's, when we created it */
	bool created;			/* veth pair created by us */
	struct reaper reaper;
};

int plumb_setup(struct guest_link *gl, const struct config *cfg, int netns_fd,
		uint32_t mtu);
void plumb_teardown(struct guest_link *gl);

#endif
