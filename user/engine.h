/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_ENGINE_H
#define XDPSLIRP_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include "gateway.h"
#include "fwd.h"
#include "port.h"
#include "shaper.h"
#include "steer.h"
#include "xdp.h"

struct worker;

/* How a worker waits for work (--poll). */
enum poll_mode {
	POLL_ADAPTIVE,	/* spin a while after work, then sleep in epoll */
	POLL_BUSY,	/* never sleep: for a dedicated core */
	POLL_BLOCKING,	/* never spin */
};

/* What carries the guest's frames (--backend). */
enum backend {
	BACKEND_XDP,	/* AF_XDP on the host end of a veth, or a VM's tap */
	BACKEND_TAP,	/* a tap whose queues the engine holds */
	BACKEND_STREAM,	/* a VM on a Unix stream socket (one queue) */
};

struct pcap;
struct policy;
struct gq;

/* The workers, whoever they serve. */
struct engine_params {
	unsigned queues;	/* workers: one per queue of every guest's link */
	enum poll_mode poll;
	uint32_t spin_us;
	unsigned ncpus;		/* pin worker q to cpus[q % ncpus]; 0: no pinning */
	const uint16_t *cpus;
	bool worker_seccomp;	/* each worker installs the filter (seccomp.c) */
	bool seccomp_log;	/* ...logging a call outside it, not fatal */
};

/* One guest's link and gateway. */
struct guest_params {
	enum backend backend;
	const int *tap_fds;	/* BACKEND_TAP: one per queue, owned from now */
	unsigned tap_offloads;	/* ...TUN_F_* taken (checksum, TSO, USO) */
	int stream_fd;		/* BACKEND_STREAM: the listening socket */
	const char *ifname;	/* host end of the guest's link */
	int ifindex;
	uint32_t max_flows;	/* per worker */
	struct port_faults faults;	/* --test-tx-loss and the like: tests */
	bool multibuffer;
	bool xdp_generic;
	bool tx_csum;		/* checksum offload through AF_XDP TX metadata */
	const struct gateway *gw;
	const uint8_t *guest_mac;	/* if known at start, else NULL */
	struct pcap *pcap;		/* --pcap (pcap_open() done), or NULL */
	uint32_t peer_group;	/* --peer-group, hashed: guests of one group
				 * are switched to each other; 0: none */
	bool small_umem;	/* AF_XDP: small UMEMs where the MTU allows
				 * (a daemon's guests, see xsk.c) */
	struct rate_limit ingress, egress;	/* --ingress-rate, --egress-rate */
};

/*
 * Guests have slots: a descriptor's epoll data carries its guest's slot
 * above EPOLL_GUEST_SHIFT (gateway.h), so that a worker serving many finds
 * whose socket woke it.
 */
#define GUESTS_MAX	1024

/*
 * struct guest - one guest as the engine serves it: its gateway, its XDP
 * program (the XSKMAP of its link) and, in each worker, a struct gq with
 * its port, flows and counters.  Flows never move between guests; frames
 * hand off between workers on the guest's own rings (@steer).
 */
struct guest {
	struct engine *e;
	unsigned id;		/* slot in e->guests */
	const struct gateway *gw;
	struct xdp_prog prog;
	struct steer steer;	/* flow ownership, hand-off rings */
	struct gq *q;		/* one per worker */
	uint32_t peer_group;	/* guest_params' */
	bool joined;		/* the workers attached it (GUEST_ADD) */
	struct shaper shape_in, shape_out;	/* used if its limit is set */
};

/* The workers, and the guests they serve. */
struct engine {
	struct worker *workers;
	unsigned nworkers;
	int stop_fd;		/* eventfd: readable once the engine stops */
	unsigned ncpus;		/* --cpus, for engine_start() */
	const uint16_t *cpus;
	struct guest *guests[GUESTS_MAX];
	unsigned last_slot;	/* the slot guest_open() took last */
};

int engine_open(struct engine *e, const struct engine_params *p);
int engine_start(struct engine *e);
void engine_print_counters(const struct engine *e, FILE *out);
int engine_stop(struct engine *e);
int guest_open(struct engine *e, struct guest *g, const struct guest_params *p);
int guest_close(struct guest *g);
int guest_remove(struct guest *g);
void guest_print_counters(const struct guest *g, FILE *out);
int engine_forward_add(struct guest *g, const struct fwd_rule *r, int fd);

/* A worker's counters and flow counts, for the control API. */
struct engine_stats {
	struct counters cnt;
	uint32_t flows, half_open, datagram;
};

/* One flow, for the control API (addresses and ports in network order). */
struct flow_info {
	struct inany guest_addr, remote_addr;
	uint16_t guest_port, remote_port;
	uint8_t proto, state, queue;
};

void engine_worker_stats(const struct guest *g, unsigned q, struct engine_stats *st);
unsigned engine_list_flows(struct guest *g, struct flow_info *out, unsigned cap);
int engine_policy_set(struct guest *g, const struct policy *p, bool reset);
int engine_forward_remove(struct guest *g, const struct fwd_rule *r);
void engine_xdp_policy(struct guest *g, struct policy *old, const struct policy *p);
uint64_t engine_xdp_rule_drops(const struct guest *g, unsigned i);

#endif
