/* SPDX-License-Identifier: MIT */
/*
 * engine_int.h - what engine.c (the workers' loop) and engine_cmd.c (the
 * main thread's commands to the workers) share: the worker itself.
 */
#ifndef XDPSLIRP_ENGINE_INT_H
#define XDPSLIRP_ENGINE_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <time.h>

#include "engine.h"
#include "gateway.h"
#include "stream.h"
#include "tap.h"
#include "xsk.h"

#define RX_BURST	64
#define EPOLL_BATCH	64

/* epoll data of the worker's own descriptors (guest bits 0) and of a
 * guest's (see also gateway.h) */
enum { EV_XSK, EV_STOP, EV_ICMP_RAW = EPOLL_ICMP_RAW, EV_CMD, EV_HANDOFF,
       EV_ICMP6_RAW = EPOLL_ICMP6_RAW };

/*
 * The main thread opens the sockets of forwarded ports (so that a taken
 * port is an error it can report) and hands each over through a worker's
 * command pipe, which keeps every forwarding structure the worker's own,
 * without a lock.  A UDP port goes to the worker owning its guest port's
 * flows (steer.c); TCP listeners to worker 0, which passes each accepted
 * connection on to the owner of its flow the same way (FWD_ACCEPTED).
 */
struct flow_list {
	struct flow_info *out;
	unsigned cap, n;
};

struct fwd_cmd {
	enum { FWD_ADD, FWD_REMOVE, FWD_ACCEPTED, FLOW_LIST, POLICY_SET, GUEST_ADD,
	       GUEST_REMOVE } op;
	struct gq *gq;			/* the guest it is for, in this worker */
	int fd;				/* POLICY_SET, GUEST_*: the eventfd to
					 * answer on */
	bool reset;			/* POLICY_SET: end the flows it denies */
	const struct policy *policy;	/* POLICY_SET */
	struct fwd_rule rule;
	struct flow_key key;		/* FWD_ACCEPTED: the client's flow */
	struct flow_list *list;
	const struct guest_params *params;	/* GUEST_ADD */
	int *status;			/* GUEST_*: the first error, if any */
};

struct fwd_listener {
	bool used;		/* false: slot free */
	int fd;
	struct fwd_rule rule;
};

/* The worker's port, of the engine's backend. */
union port_mem {
	struct port base;
	struct xsk_port xsk;
	struct tap_port tap;
	struct stream_port stream;
};

/*
 * struct gq - a guest in one worker: the guest's queue of that worker's
 * index, and everything of the guest the worker alone touches.
 */
struct gq {
	struct guest *g;
	struct worker *w;
	union port_mem pm;
	struct port *port;		/* &pm.base once open */
	struct counters cnt;
	struct flow_table flows;
	struct gw_ctx ctx;
	struct fwd_listener *fwd;	/* FWD_MAX slots */
	uint64_t rx_held_until;		/* --egress-rate spent: its RX ring waits
					 * (out of the epoll) until then; 0: not */
};

struct worker {
	struct engine *e;
	unsigned index;
	pthread_t thread;
	bool running;
	int stop_fd;
	int epfd;			/* every guest's descriptors, tagged */
	struct gq *gqs[GUESTS_MAX];	/* the guests it serves, in turn */
	unsigned ngq;
	struct gq *slot[GUESTS_MAX];	/* the same by guest slot: NULL for
					 * one that left (its events still
					 * in hand are dropped) */
	struct frame burst[RX_BURST];
	struct frame *held[RX_BURST];	/* frames udp_flush() still reads */
	enum poll_mode poll;
	uint64_t spin_ns;		/* adaptive: spin this long after work */
	struct worker_time time;	/* how its rounds went (counters.h) */
	int cmd_fd;			/* command pipe from the main thread */
	int cmd_wr;			/* ...its write end */
	struct epoll_event events[EPOLL_BATCH];
	struct peer_entry *peers;	/* engine_switch.c: PEER_SLOTS, or NULL
					 * while it serves no guest of a group */
	bool seccomp, seccomp_log;	/* engine_params' worker_seccomp */
	sem_t started;			/* posted once the filter is in */
	int start_ret;			/* ...with seccomp_install()'s result */
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* engine_switch.c */
extern const struct peer_switch engine_peer_switch;
void switch_rebuild(struct worker *w);
void switch_fini(struct worker *w);

/* engine_cmd.c */
int engine_commands_init(struct engine *e);
int gq_forwards_init(struct gq *q);
void gq_forwards_fini(struct gq *q);
void worker_commands(struct worker *w);
void gq_fwd_event(struct gq *q, struct fwd_listener *l);
int guest_command_wait(struct guest *g, struct fwd_cmd *c, int wait_ms);

/* engine_guest.c */
void worker_add_gq(struct worker *w, struct gq *q);
int gq_attach(struct gq *q, const struct guest_params *p);
int gq_detach(struct gq *q);

#endif
