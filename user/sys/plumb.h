/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_PLUMB_H
#define XDPSLIRP_PLUMB_H

#include <stdbool.h>

#include "config.h"
#include "netlink.h"
#include "netns.h"
#include "nsexec.h"

/* The link xdpslirp serves, and what it created to get it. */
struct guest_link {
	char host_ifname[IF_NAMESIZE];	/* preset: the name to create */
	struct link_info host;		/* the host end, where XDP runs; for a
					 * tap: our MAC and the link's MTU */
	uint8_t guest_mac[ETH_ALEN];	/* the guest end's, when we created it */
	bool created;			/* veth pair created by us */
	struct reaper *reaper;		/* the standalone gateway's, told of
					 * what we create: it deletes it at our
					 * end; NULL for a daemon's guest (the
					 * daemon names links to its reaper
					 * once; teardown deletes the link) */
	unsigned ntap;			/* tap backend: its queues' fds */
	int tap_fds[NS_MAX_FDS];
	unsigned tap_offloads;		/* ...the TUN_F_* offloads it took */
	bool tap_existed;		/* served a tap made by someone else */
	int stream_fd;			/* --socket: listening, or -1 */
};

int plumb_setup(struct guest_link *gl, const struct config *cfg, int netns_fd,
		uint32_t mtu);
int plumb_setup_tap(struct guest_link *gl, const struct config *cfg,
		    const struct ns_target *ns, uint32_t mtu);
int plumb_choose_backend(const struct config *cfg, int afxdp);
int plumb_tap_exists(const struct config *cfg, const struct ns_target *ns);
int plumb_setup_stream(struct guest_link *gl, const struct config *cfg, uint32_t mtu);
void plumb_teardown(struct guest_link *gl);

#endif
