/* SPDX-License-Identifier: MIT */
/*
 * engine_int.h - what engine.c (the workers' loop) and engine_cmd.c (the
 * main thread's commands to the workers) share: the worker itself.
 */
#ifndef XDPSLIRP_ENGINE_INT_H
#define XDPSLIRP_ENGINE_INT_H

#include <pthread.h>
#include <sys/epoll.h>

#include "engine.h"
#include "gateway.h"
#include "stream.h"
#include "tap.h"
#include "xsk.h"

#define RX_BURST	64
#define EPOLL_BATCH	64

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
	int done_fd;		/* eventfd the worker writes when done */
};

struct fwd_cmd {
	enum { FWD_ADD, FWD_REMOVE, FWD_ACCEPTED, FLOW_LIST, POLICY_SET } op;
	int fd;				/* POLICY_SET: the eventfd to answer on */
	bool reset;			/* POLICY_SET: end the flows it denies */
	const struct policy *policy;	/* POLICY_SET */
	struct fwd_rule rule;
	struct flow_key key;		/* FWD_ACCEPTED: the client's flow */
	struct flow_list *list;
};

struct fwd_listener {
	int fd;			/* -1: slot free */
	struct fwd_rule rule;
};

/* The worker's port, of the engine's backend (port.h). */
union port_mem {
	struct port base;
	struct xsk_port xsk;
	struct tap_port tap;
	struct stream_port stream;
};

struct worker {
	struct engine *e;
	union port_mem pm;
	struct port *port;		/* &pm.base once open */
	struct counters cnt;
	struct flow_table flows;
	struct gw_ctx ctx;
	pthread_t thread;
	bool running;
	int stop_fd;
	struct frame burst[RX_BURST];
	struct frame *held[RX_BURST];	/* frames udp_flush() still reads */
	enum poll_mode poll;
	uint64_t spin_ns;		/* adaptive: spin this long after work */
	int cmd_fd;			/* command pipe from the main thread */
	int cmd_wr;			/* ...its write end */
	struct fwd_listener *fwd;	/* FWD_MAX slots */
	struct epoll_event events[EPOLL_BATCH];
};

/* engine_cmd.c */
int engine_commands_init(struct engine *e);
void worker_commands_fini(struct worker *w);
void worker_commands(struct worker *w);
void worker_fwd_event(struct worker *w, struct fwd_listener *l);

#endif
