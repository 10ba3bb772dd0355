/* SPDX-License-Identifier: MIT */
/*
 * daemon_int.h - what daemon.c (the API, the state file, the daemon's
 * life) and daemon_guest.c (a guest's options, set-up and end) share.
 */
#ifndef XDPSLIRP_DAEMON_INT_H
#define XDPSLIRP_DAEMON_INT_H

#include <jansson.h>

#include "capture.h"
#include "config.h"
#include "control.h"
#include "engine.h"
#include "gateway.h"
#include "hostnets.h"
#include "netlink.h"
#include "netns.h"
#include "nswatch.h"
#include "sandbox.h"
#include "plumb.h"
#include "rules.h"

#define GUEST_NAME_MAX	32
#define GUEST_OPTS_MAX	256	/* add_guest's "options", at most */

/* epoll tags: the API's are CONTROL_TAG_*; a guest's capture is
 * TAG_PCAP + its link number, what named a tap guest's namespace
 * TAG_NETNS + the same */
enum { TAG_SIGNAL = 1, TAG_LINK, TAG_HOSTNETS, TAG_PCAP = 1 << 20, TAG_NETNS = 1 << 21 };

/* One guest: what main.c's run() holds for its one, and how it was asked for. */
struct dguest {
	char name[GUEST_NAME_MAX + 1];
	json_t *spec;			/* its add_guest arguments */
	/* its options and their config, while it is set up (the config
	 * points into them; large, so it is not kept) */
	char **argv;
	struct config *cfg;
	struct ns_target ns;
	struct guest_link gl;
	struct guest_seen seen;
	struct gateway gw;
	struct rule_set rules;
	struct control ctl;		/* its forwards and rules */
	struct guest g;
	uint32_t group;			/* --peer-group, hashed; 0: none */
	int backend;			/* BACKEND_XDP, or BACKEND_TAP */
	struct nswatch nsw;		/* a tap guest: what named its namespace */
	bool block_host_networks;
	struct pcap pcap;		/* --pcap: its own file */
};

struct daemon {
	struct engine e;
	struct control api;		/* the socket; requests go to guests */
	struct control_router router;
	struct reaper reaper;		/* deletes every guest's link at our end */
	bool reaped[GUESTS_MAX];	/* the reaper knows link xsl<pid>-<n> */
	struct dguest *guests[GUESTS_MAX];	/* by link number <n> */
	const char *state_path;
	bool multibuffer;
	unsigned queues;
	int epfd;
	int sfd;
	struct nl link_mon;
	struct hostnets hostnets;	/* opened for the first guest that asks */
	struct sandbox_state sandbox;	/* what sandbox_daemon() did */
	/* the standalone gateway's defaults (config_defaults()): what a
	 * guest's options are compared with, and how the workers wait */
	const struct config *defaults;
};

/* daemon_guest.c */
struct dguest *guest_find(struct daemon *d, const char *name);
const char *guest_parse(const struct daemon *d, struct dguest *dg, json_t *spec, char *why,
			size_t len);
const char *guest_start(struct daemon *d, struct dguest *dg, unsigned n, char *why, size_t len);
void guest_options_free(struct dguest *dg);
void guest_free(struct dguest *dg);
void guests_hostnets_changed(struct daemon *d);
json_t *guest_addresses(const struct dguest *dg);
unsigned guest_flows(const struct dguest *dg);

#endif
