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
 * guest_open() runs before engine_start(); guest_close() once the workers
 * stopped (engine_stop()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "capture.h"
#include "engine_int.h"
#include "frag.h"
#include "udp.h"

/* Opens guest @q's port, of the guest's backend. */
static int gq_port_open(struct gq *q, const struct guest_params *p)
{
	unsigned index = q->w->index;
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
		ret = xsk_port_open(&q->pm.xsk, p->ifname, p->ifindex, index, p->multibuffer,
				    p->tx_csum, &q->cnt);
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
	/* one stream of unsolicited RAs for the link: worker 0's */
	ctx->ra_at = q->w->index == 0 && p->gw->ipv6 ? now_ns() : 0;
	/* the guest end's MAC if we created it; else broadcast until the
	 * guest speaks (arp.c asks it when that matters) */
	if (p->guest_mac)
		memcpy(ctx->guest_mac, p->guest_mac, ETH_ALEN);
	else
		memset(ctx->guest_mac, 0xff, ETH_ALEN);
}

/* Guest @g's state in worker @index; 0 or negative errno. */
static int gq_open(struct guest *g, unsigned index, const struct guest_params *p)
{
	struct gq *q = &g->q[index];
	int ret;

	q->g = g;
	q->w = &g->e->workers[index];
	gq_ctx_init(q, p);
	q->ctx.scratch = malloc(UDP_SCRATCH);
	q->ctx.frags = frag_table_new();
	ret = q->ctx.scratch && q->ctx.frags ? flow_table_init(&q->flows, p->max_flows) :
					       -ENOMEM;
	if (!ret)
		ret = gq_forwards_init(q);
	if (!ret)
		ret = gq_port_open(q, p);
	if (!ret)
		ret = gq_epoll(q);
	if (!ret && p->backend == BACKEND_XDP)
		ret = xdp_prog_add_socket(&g->prog, index, q->port->fd);
	if (ret)
		return ret;
	port_frame_out(q->port, &q->ctx.out);
	if (port_set_faults(q->port, &p->faults))
		return -ENOMEM;
	q->port->cap = p->pcap ? &p->pcap->workers[index] : NULL;
	return 0;
}

/**
 * guest_open() - serve a guest, on every worker
 * @e: the engine, its workers not started yet
 * @g: zeroed; the caller keeps it until guest_close()
 * @p: its link and gateway
 *
 * Return: 0, or negative errno (logged by what failed).  Either way the
 * engine holds @g now, and engine_stop() closes it.
 */
int guest_open(struct engine *e, struct guest *g, const struct guest_params *p)
{
	unsigned slot = 0;
	int ret;

	while (slot < GUESTS_MAX && e->guests[slot])
		slot++;
	if (slot == GUESTS_MAX)
		return -ENOSPC;
	g->e = e;
	g->id = slot;
	g->gw = p->gw;
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
	if (!ret && p->backend == BACKEND_XDP)
		ret = xdp_prog_attach(&g->prog, p->ifindex, p->ifname, p->xdp_generic);
	if (!ret && p->backend == BACKEND_XDP)	/* failing, the engine judges alone */
		xdp_policy_write(&g->prog, p->gw->policy, p->gw);
	for (unsigned i = 0; !ret && i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		w->gqs[w->ngq++] = &g->q[i];
	}
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
	for (int d = 0; d < DROP_MAX; d++)
		st->cnt.drop[d] = counter_read(&gq->cnt.drop[d]);
	st->flows = __atomic_load_n(&gq->flows.count, __ATOMIC_RELAXED);
	st->half_open = __atomic_load_n(&gq->flows.npending, __ATOMIC_RELAXED);
	st->datagram = __atomic_load_n(&gq->flows.ndgram, __ATOMIC_RELAXED);
}

/* Prints guest @g's counters, queue by queue; safe while workers run. */
void guest_print_counters(const struct guest *g, FILE *out)
{
	uint64_t xdp[XDP_CNT_MAX];
	unsigned n = g->e->nworkers;

	for (unsigned q = 0; q < n; q++) {
		char who[32];

		snprintf(who, sizeof(who), "queue %u", q);
		counters_print(out, who, &g->q[q].cnt);
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

/* After the workers stopped: did every frame come back to the port, and
 * every flow (and its host socket) end?  Then guest @q's state goes.
 */
static int gq_close(struct gq *q)
{
	int ret = 0;

	if (q->port) {
		port_fini_faults(q->port);
		ret = q->port->ops->audit(q->port);
		fprintf(stderr, "xdpslirp: queue %u: %u flows left\n", q->w->index,
			q->flows.count);
		if (ret || q->flows.count)
			ret = -EFAULT;
		q->port->ops->close(q->port);
	}
	gq_forwards_fini(q);
	flow_table_fini(&q->flows);
	free(q->ctx.scratch);
	frag_table_free(q->ctx.frags);
	if (q->ctx.icmp_raw >= 0)
		close(q->ctx.icmp_raw);
	if (q->ctx.icmp6_raw >= 0)
		close(q->ctx.icmp6_raw);
	return ret;
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

/* Guest @g leaves worker @w's turns. */
static void worker_drop_guest(struct worker *w, const struct guest *g)
{
	for (unsigned i = 0; i < w->ngq; i++)
		if (w->gqs[i]->g == g) {
			w->gqs[i] = w->gqs[--w->ngq];
			return;
		}
}

/**
 * guest_close() - stop serving a guest, print its counters, release it
 * @g: a guest guest_open() took, its workers stopped
 *
 * Return: 0, or -EFAULT if a port lost track of a frame or a flow was left
 * (a bug: the audit says which).
 */
int guest_close(struct guest *g)
{
	struct engine *e = g->e;
	int ret = 0;

	/* Detach first: no frame may reach a closing socket's queue. */
	if (g->prog.link_fd >= 0) {
		close(g->prog.link_fd);
		g->prog.link_fd = -1;
	}
	if (g->q)
		guest_print_counters(g, stderr);
	for (unsigned i = 0; g->q && i < e->nworkers; i++) {
		worker_drop_guest(&e->workers[i], g);
		if (g->q[i].w && gq_close(&g->q[i]))
			ret = -EFAULT;
	}
	if (audit_steer(&g->steer))
		ret = -EFAULT;
	xdp_prog_close(&g->prog);
	steer_fini(&g->steer);
	free(g->q);
	g->q = NULL;
	e->guests[g->id] = NULL;
	return ret;
}
