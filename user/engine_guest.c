// SPDX-License-Identifier: MIT
/*
 * engine_guest.c - guests joining and leaving the engine, and what it
 * counts for each.
 *
 * Theory of operation: a guest gets a slot in the engine and, in every
 * worker, a struct gq: its port on the guest's queue of that worker's
 * index, a flow table, counters and the context eth_input() runs in.  Its
 * descriptors join the worker's epoll tagged with the slot, so the worker
 * knows whose they are.  For the AF_XDP backend the guest has its own XDP
 * program: its sockets sit in that program's XSKMAP before the program is
 * attached, so no frame of the guest meets an empty slot; on the way out
 * the program is detached first, so none reaches a closing socket.
 *
 * Before engine_start(), guest_open() puts the guest in the workers' turns
 * itself; once they run, it sends each worker a command (GUEST_ADD) and
 * waits for it to answer, and guest_remove() does the same to take it out
 * (GUEST_REMOVE: the worker ends its flows and forgets it between two
 * rounds).  Only then is the guest's memory released, so no worker ever
 * holds a guest that is gone; an event still in hand for it finds the
 * worker's slot empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture.h"
#include "engine_int.h"
#include "frag.h"
#include "l4.h"
#include "udp.h"

/* Opens guest @q's port, of the guest's backend. */
static int gq_port_open(struct gq *q, const struct guest_params *p)
{
	unsigned index = q->w->index;
	struct xsk_link l = {
		.ifname = p->ifname, .ifindex = p->ifindex, .mtu = p->gw->mtu,
		.multibuffer = p->multibuffer, .tx_csum = p->tx_csum, .small = p->small_umem,
	};
	int ret;

	switch (p->backend) {
	case BACKEND_TAP:
		ret = tap_port_open(&q->pm.tap, p->tap_fds[index], index, p->tap_offloads,
				    &q->cnt);
		break;
	case BACKEND_STREAM:
		ret = stream_port_open(&q->pm.stream, p->stream_fd, &q->cnt);
		break;
	default:
		ret = xsk_port_open(&q->pm.xsk, &l, index, &q->cnt);
		break;
	}
	q->port = &q->pm.base;	/* its close() undoes even a partial open */
	return ret;
}

/* Guest @q's port and hand-off eventfd join its worker's epoll. */
static int gq_epoll(struct gq *q)
{
	struct epoll_event port = { .events = EPOLLIN, .data.u64 = q->ctx.ev_tag | EV_XSK };
	struct epoll_event handoff = { .events = EPOLLIN,
				       .data.u64 = q->ctx.ev_tag | EV_HANDOFF };
	int wake = q->g->steer.wake[q->w->index];

	if (epoll_ctl(q->w->epfd, EPOLL_CTL_ADD, q->port->fd, &port) ||
	    (wake >= 0 && epoll_ctl(q->w->epfd, EPOLL_CTL_ADD, wake, &handoff)))
		return -errno;
	return 0;
}

/* The context guest @q's frames are served in. */
static void gq_ctx_init(struct gq *q, const struct guest_params *p)
{
	struct gw_ctx *ctx = &q->ctx;

	ctx->worker = q->w->index;
	ctx->steer = &q->g->steer;
	ctx->gw = p->gw;
	ctx->policy = p->gw->policy;
	ctx->cnt = &q->cnt;
	ctx->flows = &q->flows;
	ctx->epfd = q->w->epfd;
	ctx->ev_tag = (uint64_t)(q->g->id + 1) << EPOLL_GUEST_SHIFT;
	ctx->icmp_raw = -1;
	ctx->icmp6_raw = -1;
	ctx->peers = p->peer_group ? &engine_peer_switch : NULL;
	ctx->shape_in = p->ingress.rate ? &q->g->shape_in : NULL;
	ctx->shape_out = p->egress.rate ? &q->g->shape_out : NULL;
	/* one stream of unsolicited RAs for the link: worker 0's */
	ctx->ra_at = q->w->index == 0 && p->gw->ipv6 ? now_ns() : 0;
	/* the guest end's MAC if we created it; else broadcast until the
	 * guest speaks (arp.c asks it when that matters) */
	if (p->guest_mac)
		memcpy(ctx->guest_mac, p->guest_mac, ETH_ALEN);
	else
		memset(ctx->guest_mac, 0xff, ETH_ALEN);
}

/* Guest @g's state in worker @index but its port; 0 or negative errno. */
static int gq_open(struct guest *g, unsigned index, const struct guest_params *p)
{
	struct gq *q = &g->q[index];

	q->g = g;
	q->w = &g->e->workers[index];
	gq_ctx_init(q, p);
	q->ctx.scratch = malloc(UDP_SCRATCH);
	q->ctx.frags = frag_table_new();
	if (!q->ctx.scratch || !q->ctx.frags)
		return -ENOMEM;
	return flow_table_init(&q->flows, p->max_flows) ?: gq_forwards_init(q);
}

/*
 * Guest @q's port opens and joins its worker's turns: in the worker, once
 * it runs (the port is the worker's alone).  0 or negative errno.
 */
int gq_attach(struct gq *q, const struct guest_params *p)
{
	int ret = gq_port_open(q, p);

	if (!ret)
		ret = gq_epoll(q);
	if (!ret && p->backend == BACKEND_XDP)
		ret = xdp_prog_add_socket(&q->g->prog, q->w->index, q->port->fd);
	if (!ret && port_set_faults(q->port, &p->faults))
		ret = -ENOMEM;
	if (ret)
		return ret;
	port_frame_out(q->port, &q->ctx.out);
	q->port->cap = p->pcap ? &p->pcap->workers[q->w->index] : NULL;
	worker_add_gq(q->w, q);
	return 0;
}

/* Guest @q joins worker @w's turns: in the worker, once it runs. */
void worker_add_gq(struct worker *w, struct gq *q)
{
	w->gqs[w->ngq++] = q;
	w->slot[q->g->id] = q;
	if (q->g->peer_group)
		switch_rebuild(w);
	q->ctx.now = now_ns();
	q->ctx.next_timer = q->ctx.now;	/* the first round runs its timers */
}

/* Guest @q leaves worker @w's turns (no more of its events are served). */
static void worker_drop_gq(struct worker *w, struct gq *q)
{
	w->slot[q->g->id] = NULL;
	for (unsigned i = 0; i < w->ngq; i++)
		if (w->gqs[i] == q) {
			w->gqs[i] = w->gqs[--w->ngq];
			break;
		}
	if (q->g->peer_group)
		switch_rebuild(w);
}

/*
 * Guest @q leaves its worker, in the worker once it runs: its flows end
 * (TCP connections are reset on both sides), its forwarded ports close,
 * its descriptors leave the worker's epoll, and its port closes after the
 * audit: did every frame come back, and every flow (and its host socket)
 * end?  Returns 0, or -EFAULT if not.
 */
int gq_detach(struct gq *q)
{
	int wake = q->g->steer.wake[q->w->index], ret;

	worker_drop_gq(q->w, q);
	if (q->flows.flows)	/* its table was made */
		l4_close_all(&q->ctx);
	gq_forwards_fini(q);
	if (wake >= 0)
		epoll_ctl(q->w->epfd, EPOLL_CTL_DEL, wake, NULL);
	if (!q->port)
		return 0;
	port_flush(q->port);
	epoll_ctl(q->w->epfd, EPOLL_CTL_DEL, q->port->fd, NULL);
	port_fini_faults(q->port);
	ret = q->port->ops->audit(q->port);
	fprintf(stderr, "xdpslirp: queue %u: %u flows left\n", q->w->index, q->flows.count);
	q->port->ops->close(q->port);
	q->port = NULL;
	return ret || q->flows.count ? -EFAULT : 0;
}

static bool engine_running(const struct engine *e)
{
	return e->nworkers && e->workers[0].running;
}

/* A worker opening a port may retry a busy queue for a second (xsk.c). */
#define GUEST_WAIT_MS	5000

/*
 * Tells each worker, worker 0 first, to attach guest @g's queue (GUEST_ADD,
 * with @p) or detach it (GUEST_REMOVE), and waits for each: worker 0
 * holds the guest's TCP listeners, so once it let go none accepts a client
 * for a worker the guest already left.  Returns the first error a worker
 * met, or -ETIMEDOUT if one did not answer.
 */
static int guest_tell_workers(struct guest *g, int op, const struct guest_params *p)
{
	static int status;	/* a worker that answers late writes here */
	struct fwd_cmd c = { .op = op, .params = p, .status = &status };

	status = 0;
	return guest_command_wait(g, &c, GUEST_WAIT_MS) ?: status;
}

/* Slot for a new guest: the next free one after the last taken, so a
 * slot comes back to use as late as can be (a worker may still hold an
 * event of the guest that had it). */
static int engine_guest_slot(struct engine *e)
{
	for (unsigned n = 0; n < GUESTS_MAX; n++) {
		unsigned slot = (e->last_slot + 1 + n) % GUESTS_MAX;

		if (!e->guests[slot]) {
			e->last_slot = slot;
			return (int)slot;
		}
	}
	return -ENOSPC;
}

/* Guest @g's buckets, full, for the limits it has (shaper.c). */
static void guest_shapers_init(struct guest *g, const struct guest_params *p)
{
	uint64_t now = now_ns();

	if (p->ingress.rate)
		shaper_init(&g->shape_in, &p->ingress, now);
	if (p->egress.rate)
		shaper_init(&g->shape_out, &p->egress, now);
}

/**
 * guest_open() - serve a guest, on every worker
 * @e: the engine, its workers started or not
 * @g: zeroed; the caller keeps it until guest_close() or guest_remove()
 * @p: its link and gateway
 *
 * Once the workers run, each opens the guest's port itself (GUEST_ADD):
 * the port is its worker's alone.
 *
 * Return: 0, or negative errno (logged by what failed).  Either way the
 * engine holds @g now: guest_remove() (or engine_stop()) closes it.
 */
int guest_open(struct engine *e, struct guest *g, const struct guest_params *p)
{
	int slot = engine_guest_slot(e);
	int ret;

	if (slot < 0)
		return slot;
	g->e = e;
	g->id = (unsigned)slot;
	g->gw = p->gw;
	g->peer_group = p->peer_group;
	guest_shapers_init(g, p);
	g->prog.link_fd = -1;
	e->guests[slot] = g;
	ret = steer_init(&g->steer, e->nworkers);
	g->q = calloc(e->nworkers, sizeof(*g->q));
	if (!ret && !g->q)
		ret = -ENOMEM;
	if (!ret && p->backend == BACKEND_XDP)
		ret = xdp_prog_load(&g->prog);
	for (unsigned i = 0; !ret && i < e->nworkers; i++)
		ret = gq_open(g, i, p);
	if (!ret && engine_running(e)) {
		g->joined = true;
		ret = guest_tell_workers(g, GUEST_ADD, p);
	}
	for (unsigned i = 0; !ret && !g->joined && i < e->nworkers; i++)
		ret = gq_attach(&g->q[i], p);
	/* its sockets are in the XSKMAP: the program may go */
	if (!ret && p->backend == BACKEND_XDP)
		ret = xdp_prog_attach(&g->prog, p->ifindex, p->ifname, p->xdp_generic);
	if (!ret && p->backend == BACKEND_XDP)	/* failing, the engine judges alone */
		xdp_policy_write(&g->prog, p->gw->policy, p->gw);
	return ret;
}

/* Counters and flow counts of guest @g in worker @q; safe while it runs. */
void engine_worker_stats(const struct guest *g, unsigned q, struct engine_stats *st)
{
	const struct gq *gq = &g->q[q];

	memset(st, 0, sizeof(*st));
	st->cnt.rx_frames = counter_read(&gq->cnt.rx_frames);
	st->cnt.rx_bytes = counter_read(&gq->cnt.rx_bytes);
	st->cnt.tx_frames = counter_read(&gq->cnt.tx_frames);
	st->cnt.tx_bytes = counter_read(&gq->cnt.tx_bytes);
	st->cnt.evicted = counter_read(&gq->cnt.evicted);
	st->cnt.handed_off = counter_read(&gq->cnt.handed_off);
	st->cnt.tcp_fast_retransmits = counter_read(&gq->cnt.tcp_fast_retransmits);
	st->cnt.switched = counter_read(&gq->cnt.switched);
	for (int d = 0; d < DROP_MAX; d++)
		st->cnt.drop[d] = counter_read(&gq->cnt.drop[d]);
	st->flows = __atomic_load_n(&gq->flows.count, __ATOMIC_RELAXED);
	st->half_open = __atomic_load_n(&gq->flows.npending, __ATOMIC_RELAXED);
	st->datagram = __atomic_load_n(&gq->flows.ndgram, __ATOMIC_RELAXED);
}

/* Prints guest @g's counters, queue by queue, with the time of the worker
 * of each queue (every guest it serves shares it); safe while workers run. */
void guest_print_counters(const struct guest *g, FILE *out)
{
	uint64_t xdp[XDP_CNT_MAX];
	unsigned n = g->e->nworkers;

	for (unsigned q = 0; q < n; q++) {
		char who[32];

		snprintf(who, sizeof(who), "queue %u", q);
		counters_print(out, who, &g->q[q].cnt, &g->e->workers[q].time);
		/* the worker writes these; a relaxed read may be a burst late */
		fprintf(out, "xdpslirp: %s: flows %u, half-open %u\n", who,
			__atomic_load_n(&g->q[q].flows.count, __ATOMIC_RELAXED),
			__atomic_load_n(&g->q[q].flows.npending, __ATOMIC_RELAXED));
	}
	if (g->prog.skel) {
		xdp_prog_counters(&g->prog, xdp);
		fprintf(out, "xdpslirp: xdp: redirected %llu, no socket %llu; policy: denied %llu, blocked %llu, passed on to answer %llu\n",
			(unsigned long long)xdp[XDP_CNT_REDIRECTED],
			(unsigned long long)xdp[XDP_CNT_NO_SOCKET],
			(unsigned long long)xdp[XDP_CNT_POLICY_DENIED],
			(unsigned long long)xdp[XDP_CNT_POLICY_BLOCKED],
			(unsigned long long)xdp[XDP_CNT_POLICY_NOTICE]);
	} else if (n && g->q[0].port) {
		const struct port *port = g->q[0].port;

		fprintf(out, "xdpslirp: %s: %u queues, offloads %s\n", port->kind, n,
			port->offloads ? port->offloads : "none");
	}
	fflush(out);
}

/* Guest @q's tables and sockets but its port (gq_detach()). */
static void gq_free(struct gq *q)
{
	gq_forwards_fini(q);
	flow_table_fini(&q->flows);
	free(q->ctx.scratch);
	frag_table_free(q->ctx.frags);
	if (q->ctx.icmp_raw >= 0)
		close(q->ctx.icmp_raw);
	if (q->ctx.icmp6_raw >= 0)
		close(q->ctx.icmp6_raw);
}

/* After every flow and forwarded port ended: is every slot of the flow
 * owners' table free again?
 */
static int audit_steer(const struct steer *s)
{
	unsigned held = steer_slots_held(s);

	if (s->nworkers > 1)
		fprintf(stderr, "xdpslirp: steering: %u slots held\n", held);
	return held ? -EFAULT : 0;
}

/*
 * Guest @g's program stops, and its counters are printed: the last of it
 * any worker serves.  Detached first: no frame may reach a closing socket.
 */
static void guest_stop_prog(struct guest *g)
{
	if (g->prog.link_fd >= 0) {
		close(g->prog.link_fd);
		g->prog.link_fd = -1;
	}
	if (g->q)
		guest_print_counters(g, stderr);
}

/* What is left of guest @g once no worker serves it; 0, or -EFAULT if a
 * claim on a flow's owner was left. */
static int guest_release(struct guest *g)
{
	int ret = audit_steer(&g->steer);

	for (unsigned i = 0; g->q && i < g->e->nworkers; i++)
		if (g->q[i].w)
			gq_free(&g->q[i]);
	xdp_prog_close(&g->prog);
	steer_fini(&g->steer);
	free(g->q);
	g->q = NULL;
	g->e->guests[g->id] = NULL;
	return ret;
}

/**
 * guest_close() - release a guest once the workers stopped, printing its
 *		   counters and auditing its ports
 * @g: a guest guest_open() took
 *
 * Return: 0, or -EFAULT if a port lost track of a frame or a flow was left
 * (a bug: the audit says which).
 */
int guest_close(struct guest *g)
{
	int ret = 0;

	guest_stop_prog(g);
	for (unsigned i = 0; g->q && i < g->e->nworkers; i++)
		if (g->q[i].w && gq_detach(&g->q[i]))
			ret = -EFAULT;
	return guest_release(g) ?: ret;
}

/**
 * guest_remove() - stop serving a guest, the engine running or not
 * @g: a guest guest_open() took
 *
 * Its XDP program is detached first, so no frame reaches a closing
 * socket; then each worker ends its flows, audits and closes its port and
 * forgets it (GUEST_REMOVE), and the rest is released.
 *
 * Return: 0; -EFAULT as guest_close(); or -ETIMEDOUT if a worker did not
 * answer: the guest stays held (it may still be in use), and
 * engine_stop() releases it.
 */
int guest_remove(struct guest *g)
{
	int ret;

	if (!g->joined || !engine_running(g->e))
		return guest_close(g);
	guest_stop_prog(g);
	ret = guest_tell_workers(g, GUEST_REMOVE, NULL);
	if (ret == -ETIMEDOUT)
		return ret;
	return guest_release(g) ?: ret;
}
