// SPDX-License-Identifier: MIT
/*
 * engine_cmd.c - the main thread's commands to the workers: forwarded ports,
 * flow listings and policies, each for one guest, and guests joining and
 * leaving.
 *
 * Theory of operation: the main thread opens a forwarded port's socket
 * (so that a port in use is an error it can report) and hands it to a worker
 * through that worker's command pipe; every forwarding structure stays the
 * worker's own, without a lock.  A UDP port goes to the worker owning its
 * guest port's flows (steer.c claims); TCP listeners to worker 0, which
 * passes each accepted connection, with its flow's key made once, to the
 * owner of that key's slot (FWD_ACCEPTED).  A flow listing asks each worker
 * in turn to copy its flows out and waits on an eventfd for it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "egress.h"
#include "eth.h"
#include "log.h"
#include "ndp.h"
#include "frag.h"
#include "hostaddr.h"
#include "l4.h"
#include "ping.h"
#include "steer.h"
#include "tcp.h"
#include "udp.h"
#include "xsk.h"

static int worker_command(struct worker *w, const struct fwd_cmd *c)
{
	return write(w->cmd_wr, c, sizeof(*c)) == sizeof(*c) ? 0 : -errno;
}

/* A client accepted for this worker: connect to the guest, then drop the
 * claim gq_accepted() took for the flow on its way here.
 */
static void gq_inbound(struct gq *q, int fd, const struct flow_key *k)
{
	tcp_inbound(&q->ctx, fd, k);
	steer_unclaim(&q->g->steer, k);
}

/*
 * A client of a forwarded TCP port: its flow's owner connects to the guest.
 * The flow's key is made once, here: the guest's address it reaches may be
 * learnt anew meanwhile (struct guest_seen).
 */
static void gq_accepted(struct gq *q, int fd, const union sockaddr_inany *client,
			const struct fwd_rule *r)
{
	const struct steer *st = &q->g->steer;
	struct fwd_cmd c = { .op = FWD_ACCEPTED, .fd = fd };
	unsigned owner;

	tcp_inbound_key(q->ctx.gw, client, r, &c.key);
	owner = steer_claim(st, &c.key, steer_owner(st, &c.key));
	c.gq = &q->g->q[owner];
	if (owner == q->w->index) {
		gq_inbound(q, fd, &c.key);
	} else if (worker_command(c.gq->w, &c)) {
		close(fd);	/* its command pipe is full: the client sees a reset */
		steer_unclaim(st, &c.key);
	}
}

/* Accepts the clients of a forwarded port, or reads its datagrams. */
void gq_fwd_event(struct gq *q, struct fwd_listener *l)
{
	if (l->rule.proto == IPPROTO_UDP) {
		udp_inbound(&q->ctx, l->fd, &l->rule);
		return;
	}
	for (int i = 0; i < 64; i++) {
		union sockaddr_inany client;
		socklen_t len = sizeof(client);
		int fd = accept4(l->fd, &client.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		gq_accepted(q, fd, &client, &l->rule);
	}
}

/*
 * The keys of a forwarded UDP port's slots (steer.c): the guest's address
 * and port, which its clients' flows share; two for a dual-stack port whose
 * clients of each family reach the guest's address of their own.  The
 * worker serving the port holds the slots while it does.
 */
static unsigned fwd_udp_keys(const struct gateway *gw, const struct fwd_rule *r,
			     struct flow_key k[2])
{
	union sockaddr_inany v4 = { .in4 = { .sin_family = AF_INET } };
	union sockaddr_inany v6 = { .in6 = { .sin6_family = AF_INET6,
					     .sin6_addr = IN6ADDR_LOOPBACK_INIT } };
	bool any = fwd_addr_is_any(&r->host_addr), on6 = !inany_is_v4(&r->host_addr);
	unsigned n = 0;

	/* the plan's addresses (NULL): what is claimed is released the same */
	if (!on6 || any)
		hostaddr_fwd_target(gw, r, &v4, NULL, &k[n++].guest);
	if (on6 && (!n || !inany_equal(&k[0].guest, &k[n].guest)))
		hostaddr_fwd_target(gw, r, &v6, NULL, &k[n++].guest);
	if (n == 2 && inany_equal(&k[0].guest, &k[1].guest))
		n = 1;
	for (unsigned i = 0; i < n; i++) {
		k[i].proto = IPPROTO_UDP;
		k[i].guest_port = htons(r->guest_port);
	}
	return n;
}

/* The worker no longer serves forwarded port @r: a UDP port's slots are released. */
static void gq_fwd_release(struct gq *q, const struct fwd_rule *r)
{
	struct flow_key k[2] = { 0 };
	unsigned n = r->proto == IPPROTO_UDP ? fwd_udp_keys(q->ctx.gw, r, k) : 0;

	for (unsigned i = 0; i < n; i++)
		steer_unclaim(&q->g->steer, &k[i]);
}

/* Stops serving a forwarded port this worker listens on. */
static void gq_fwd_close(struct gq *q, struct fwd_listener *l)
{
	epoll_ctl(q->ctx.epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	l->used = false;
	gq_fwd_release(q, &l->rule);
}

/* Stops serving a forwarded port; its UDP clients' flows go with it. */
static void gq_fwd_remove(struct gq *q, uint32_t id)
{
	for (unsigned i = 0; i < FWD_MAX; i++) {
		struct fwd_listener *l = &q->fwd[i];

		if (!l->used || l->rule.id != id)
			continue;
		for (uint32_t f = q->flows.active; f != FLOW_NONE;) {
			struct flow *fl = &q->flows.flows[f];

			f = fl->next;
			if ((fl->flags & FLOW_INBOUND) && fl->sock == l->fd)
				udp_close(&q->ctx, fl);
		}
		gq_fwd_close(q, l);
	}
}

static void gq_fwd_add(struct gq *q, const struct fwd_cmd *c)
{
	for (unsigned i = 0; i < FWD_MAX; i++) {
		struct fwd_listener *l = &q->fwd[i];
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u64 = q->ctx.ev_tag | (EPOLL_FWD_BASE + i) };

		if (l->used)
			continue;
		if (epoll_ctl(q->ctx.epfd, EPOLL_CTL_ADD, c->fd, &ev))
			break;
		l->used = true;
		l->fd = c->fd;
		l->rule = c->rule;
		return;
	}
	log_err("forward %u: no room (at most %d forwarded ports)", c->rule.id, FWD_MAX);
	close(c->fd);
	gq_fwd_release(q, &c->rule);
}

/* Copies the guest's flows in this worker out for the control API. */
static void gq_list_flows(struct gq *q, struct flow_list *l, int done_fd)
{
	for (uint32_t i = q->flows.active; i != FLOW_NONE && l->n < l->cap;
	     i = q->flows.flows[i].next) {
		const struct flow *fl = &q->flows.flows[i];

		l->out[l->n++] = (struct flow_info){
			.guest_addr = fl->key.guest,
			.remote_addr = fl->key.remote,
			.guest_port = fl->key.guest_port, .remote_port = fl->key.remote_port,
			.proto = fl->key.proto, .state = fl->state, .queue = (uint8_t)q->w->index,
		};
	}
	eventfd_write(done_fd, 1);
}

/* A new egress policy from the main thread, which frees the old one once
 * every worker has answered.
 */
static void gq_policy_set(struct gq *q, const struct fwd_cmd *c)
{
	q->ctx.policy = c->policy;
	if (c->reset)
		egress_reset_denied(&q->ctx);
	eventfd_write(c->fd, 1);
}

/* A guest joins the worker's turns, or leaves them (guest_join(),
 * guest_remove()). */
static void gq_join_or_leave(struct gq *q, const struct fwd_cmd *c)
{
	int ret = c->op == GUEST_ADD ? gq_attach(q, c->params) : gq_detach(q);

	if (!*c->status)
		*c->status = ret;
	eventfd_write(c->fd, 1);
}

/* Commands from the main thread: forwarded ports, flow listings, policies,
 * guests coming and going. */
void worker_commands(struct worker *w)
{
	struct fwd_cmd c;

	while (read(w->cmd_fd, &c, sizeof(c)) == sizeof(c)) {
		if (c.op == FWD_ADD)
			gq_fwd_add(c.gq, &c);
		else if (c.op == FWD_REMOVE)
			gq_fwd_remove(c.gq, c.rule.id);
		else if (c.op == FWD_ACCEPTED)
			gq_inbound(c.gq, c.fd, &c.key);
		else if (c.op == POLICY_SET)
			gq_policy_set(c.gq, &c);
		else if (c.op == GUEST_ADD || c.op == GUEST_REMOVE)
			gq_join_or_leave(c.gq, &c);
		else
			gq_list_flows(c.gq, c.list, c.fd);
	}
}

/* Every worker's command pipe. */
int engine_commands_init(struct engine *e)
{
	for (unsigned q = 0; q < e->nworkers; q++) {
		struct worker *w = &e->workers[q];
		int p[2];

		if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
			return -errno;
		w->cmd_fd = p[0];
		w->cmd_wr = p[1];
	}
	return 0;
}

/* A guest's forwarding slots in one worker, all free (zero: pages of
 * them the guest never uses stay untouched); 0 or -ENOMEM. */
int gq_forwards_init(struct gq *q)
{
	q->fwd = calloc(FWD_MAX, sizeof(*q->fwd));
	return q->fwd ? 0 : -ENOMEM;
}

/* Its forwarded ports there are closed (UDP ports' slots released). */
void gq_forwards_fini(struct gq *q)
{
	for (unsigned i = 0; q->fwd && i < FWD_MAX; i++)
		if (q->fwd[i].used)
			gq_fwd_close(q, &q->fwd[i]);
	free(q->fwd);
	q->fwd = NULL;
}

/**
 * guest_command_wait() - send a command to each worker for a guest, and
 *			  wait for each to answer
 * @g: the guest
 * @c: the command; its eventfd (@c->fd) is made here
 * @wait_ms: how long each worker is given
 *
 * Worker 0 first, then the others in turn.
 *
 * Return: 0, -errno, or -ETIMEDOUT if one did not answer: it may still, so
 * its eventfd stays open, and what @c points to must stay valid.
 */
int guest_command_wait(struct guest *g, struct fwd_cmd *c, int wait_ms)
{
	c->fd = eventfd(0, EFD_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	for (unsigned q = 0; q < g->e->nworkers; q++) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		eventfd_t done;

		c->gq = &g->q[q];
		if (worker_command(c->gq->w, c) || poll(&pfd, 1, wait_ms) != 1 ||
		    eventfd_read(c->fd, &done)) {
			log_warn("queue %u did not answer the main thread", q);
			return -ETIMEDOUT;
		}
	}
	close(c->fd);
	return 0;
}

/**
 * engine_list_flows() - ask every worker for a guest's flows
 * @g: the guest, its engine running
 * @out: where to put them
 * @cap: room in @out
 *
 * Each worker copies its own flows between two bursts; this waits for it
 * (at most a second each: a worker that does not answer is skipped).
 *
 * Return: the number of flows in @out.
 */
unsigned engine_list_flows(struct guest *g, struct flow_info *out, unsigned cap)
{
	/* static: a worker that answers late still writes here (main
	 * thread only) */
	static struct flow_list l;
	struct fwd_cmd c = { .op = FLOW_LIST, .list = &l };

	l = (struct flow_list){ .out = out, .cap = cap };
	guest_command_wait(g, &c, 1000);	/* one that did not answer: stop there */
	return l.n;
}

/**
 * engine_policy_set() - give a guest's flows in every worker a new egress
 *			 policy
 * @g: the guest, its engine running
 * @p: the policy; the caller keeps it alive while the engine runs
 * @reset: end the flows it denies (egress_reset_denied())
 *
 * Return: 0 once no worker uses the policy it had, or -ETIMEDOUT: one did
 * not answer, and may still use the old one (which must then be kept).
 */
int engine_policy_set(struct guest *g, const struct policy *p, bool reset)
{
	struct fwd_cmd c = { .op = POLICY_SET, .policy = p, .reset = reset };

	return guest_command_wait(g, &c, 1000);
}

/**
 * engine_xdp_policy() - the guest's XDP program judges by @p from now on
 * @g: the guest, its workers already using @p (engine_policy_set())
 * @old: the policy @p replaces: what the program dropped under it counts
 *	 as its hits (before policy_carry_hits()); NULL at start
 * @p: the new policy
 */
void engine_xdp_policy(struct guest *g, struct policy *old, const struct policy *p)
{
	if (!g->prog.skel)
		return;
	xdp_policy_fold_drops(&g->prog, old);
	xdp_policy_write(&g->prog, p, g->gw);
}

/* What the guest's XDP program dropped for rule @i of the policy in force. */
uint64_t engine_xdp_rule_drops(const struct guest *g, unsigned i)
{
	return xdp_policy_drops(&g->prog, i);
}

/**
 * engine_forward_add() - serve a forwarded port of a guest
 * @g: the guest (its engine started or starting)
 * @r: the rule, with its id
 * @fd: its socket (hostsock_listen()); the engine owns it from now on
 *
 * Return: 0, or negative errno (the socket is closed).
 */
int engine_forward_add(struct guest *g, const struct fwd_rule *r, int fd)
{
	struct fwd_cmd c = { .op = FWD_ADD, .fd = fd, .rule = *r };
	struct flow_key k[2] = { 0 };
	unsigned owner = 0, n = r->proto == IPPROTO_UDP ? fwd_udp_keys(g->gw, r, k) : 0;
	int ret;

	/* its clients' flows live with it (a second family's, if another
	 * worker already owns that slot, with that worker) */
	for (unsigned i = 0; i < n; i++) {
		unsigned o = steer_claim(&g->steer, &k[i], i ? owner : steer_owner(&g->steer, &k[i]));

		if (!i)
			owner = o;
	}
	c.gq = &g->q[owner];
	ret = worker_command(c.gq->w, &c);
	if (ret) {
		close(fd);
		gq_fwd_release(c.gq, r);
	} else if (r->proto == IPPROTO_UDP) {	/* its replies are no new flows */
		xdp_policy_fwd_udp(&g->prog, r->guest_port, true);
	}
	return ret;
}

/* Stops serving the forwarded port of guest @g's rule @r. */
int engine_forward_remove(struct guest *g, const struct fwd_rule *r)
{
	struct fwd_cmd c = { .op = FWD_REMOVE, .rule.id = r->id };
	int ret = 0;

	if (r->proto == IPPROTO_UDP)
		xdp_policy_fwd_udp(&g->prog, r->guest_port, false);

	for (unsigned q = 0; q < g->e->nworkers; q++) {
		c.gq = &g->q[q];
		ret = worker_command(c.gq->w, &c) ?: ret;
	}
	return ret;
}
