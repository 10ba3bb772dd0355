// SPDX-License-Identifier: MIT
/*
 * engine.c - workers: one thread per queue, serving every guest's queue of
 * that index.
 *
 * Theory of operation: a worker serves its guests in turn, each round.  For
 * each it takes bursts of frames from the guest's port, runs each through
 * eth_input() and either transmits the reply built in place, releases the
 * frame, or holds it until the burst's UDP datagrams have gone out with
 * sendmmsg() (udp_flush()) and its TCP payload with one sendmsg() per flow
 * (tcp_flush(), which also acknowledges and sends once per flow).  Host
 * sockets of its flows (tcp.c) wake it through epoll, as do its guests'
 * AF_XDP sockets and hand-off eventfds and the engine's stop eventfd;
 * between rounds it runs due TCP timers, kicks transmission and refills the
 * fill rings.  Every guest has its own flow table in each worker (struct
 * gq); a frame that arrives on another worker's queue goes to the flow's
 * owner through the guest's hand-off ring (steer.c), which this loop drains
 * like a second receive ring.  Workers share only read-only data (struct
 * gateway, struct steer) and the rings; counters are per worker and guest.
 * Nothing on this path allocates or locks.
 *
 * Fair share: a round takes at most RX_BURSTS bursts from each guest, so a
 * guest flooding its link gets as many turns as any other, not more.
 * Descriptors carry their guest's slot in their epoll data (gateway.h).
 *
 * Guests come and go in engine_guest.c, between two rounds of each worker
 * (a command); this file is the loop and the workers' life.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture.h"
#include "engine_int.h"
#include "eth.h"
#include "log.h"
#include "ndp.h"
#include "l4.h"
#include "ping.h"
#include "sandbox.h"
#include "steer.h"
#include "tcp.h"
#include "udp.h"

#define RX_BURSTS	16	/* at most, per guest and round */
#define HANDOFF_BURSTS	16	/* RX_BURST frames each, per ring and round */

/* A reply built in a handed-off frame: copied into a frame of our port. */
static void gq_transmit_copy(struct gq *q, const struct frame *f)
{
	struct frame out;

	if (!port_alloc(q->port, &out, f->len)) {
		counter_add(&q->cnt.drop[DROP_TX_NO_FRAMES], 1);
		return;
	}
	frame_copy_in(&out, 0, f->seg[0].data, f->len);
	port_transmit(q->port, &out);
}

/*
 * Frames other workers handed over for guest @q, in bursts like received
 * ones, until each ring is empty or HANDOFF_BURSTS bursts were taken from
 * it: a ring fills as fast as another CPU copies, so one burst a round
 * would fall behind (and drop).  Returns how many.
 */
static unsigned gq_take_handoffs(struct worker *w, struct gq *q)
{
	const struct steer *st = &q->g->steer;
	unsigned total = 0;

	for (unsigned from = 0; from < st->nworkers; from++) {
		struct handoff_ring *r;
		unsigned n = RX_BURST;
		uint32_t end;

		if (from == w->index)
			continue;
		r = steer_ring(st, from, w->index);
		for (int b = 0; b < HANDOFF_BURSTS && n == RX_BURST; b++) {
			n = handoff_take(r, w->burst, RX_BURST, &end);
			for (unsigned i = 0; i < n; i++)
				if (eth_input(&q->ctx, &w->burst[i]) == VERDICT_REPLY)
					gq_transmit_copy(q, &w->burst[i]);
			udp_flush(&q->ctx);	/* held datagrams point into the ring */
			tcp_flush(&q->ctx);
			handoff_release(r, end);
			total += n;
		}
	}
	return total;
}

/* Serves one burst of guest @q's received frames; returns how many came. */
static unsigned gq_rx_burst(struct worker *w, struct gq *q)
{
	unsigned n = port_receive(q->port, w->burst, RX_BURST), nheld = 0;
	uint32_t bytes = 0;

	for (unsigned i = 0; i < n; i++) {
		struct frame *f = &w->burst[i];

		bytes += f->len;
		switch (eth_input(&q->ctx, f)) {
		case VERDICT_REPLY:
			port_transmit(q->port, f);
			break;
		case VERDICT_HELD:
			w->held[nheld++] = f;
			break;
		case VERDICT_DONE:
			port_release(q->port, f);
			break;
		}
	}
	udp_flush(&q->ctx);
	tcp_flush(&q->ctx);
	for (unsigned i = 0; i < nheld; i++)
		port_release(q->port, w->held[i]);
	if (q->ctx.shape_out)	/* once a burst: the bucket is shared */
		shaper_spend(q->ctx.shape_out, bytes);
	return n;
}

/* Guest @q's port in its worker's epoll (@on) or out of it. */
static void gq_watch_rx(struct gq *q, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0,
				  .data.u64 = q->ctx.ev_tag | EV_XSK };

	epoll_ctl(q->w->epfd, EPOLL_CTL_MOD, q->port->fd, &ev);
}

/*
 * --egress-rate: while the guest's bucket is in debt, its frames wait in
 * its RX ring, the queue tc's shaper would keep them in, and its socket
 * leaves the epoll (readable, it would wake the worker for nothing) until
 * the tokens are there: worker_next_timer() wakes the worker then.  TCP
 * offers the guest no more window than the burst (tcp_window()), so what
 * waits fits the ring.  True while held.
 */
static bool gq_rx_held(struct gq *q)
{
	struct shaper *s = q->ctx.shape_out;

	if (!s)
		return false;
	if (shaper_room(s, q->ctx.now) >= 0) {
		if (q->rx_held_until)
			gq_watch_rx(q, true);
		q->rx_held_until = 0;
		return false;
	}
	if (!q->rx_held_until)
		gq_watch_rx(q, false);
	q->rx_held_until = q->ctx.now + shaper_wait_ns(s, 0);
	return true;
}

/*
 * Serves guest @q's RX ring, up to RX_BURSTS bursts (the guest may queue
 * ACKs for a whole ring of our segments at once: a burst a round would
 * leave its chunks, and those the fill ring gets back, missing for
 * transmission), then its hand-off rings.  Returns the number of frames
 * received, and adds to @own those served here (not handed to their
 * owner), which is what makes an adaptive worker keep spinning: a worker
 * that only passes frames on would spin for nothing, on a CPU the guest or
 * the owner could use.
 */
static unsigned gq_poll_once(struct worker *w, struct gq *q, unsigned *own)
{
	uint64_t handed = q->cnt.handed_off;
	unsigned n = 0, got = RX_BURST;

	for (int b = 0; b < RX_BURSTS && got == RX_BURST && !gq_rx_held(q); b++) {
		got = gq_rx_burst(w, q);
		n += got;
		port_flush(q->port);
	}
	*own += n - (unsigned)(q->cnt.handed_off - handed);
	if (q->g->steer.nworkers > 1) {
		unsigned taken = gq_take_handoffs(w, q);

		n += taken;
		*own += taken;
	}
	steer_wake(&q->ctx);
	return n;
}

/* One turn for each guest; returns the frames received, @own as above. */
static unsigned worker_poll_once(struct worker *w, unsigned *own)
{
	unsigned n = 0;

	*own = 0;
	for (unsigned i = 0; i < w->ngq; i++)
		n += gq_poll_once(w, w->gqs[i], own);
	return n;
}

/* Milliseconds until the next timer, for epoll_wait(): -1 if none. */
static int timer_wait_ms(uint64_t next, uint64_t now)
{
	if (!next)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now) / 1000000) + 1;
}

/* The earliest timer of any guest, or end of a held RX ring; 0 if none. */
static uint64_t worker_next_timer(const struct worker *w)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < w->ngq; i++) {
		uint64_t t = w->gqs[i]->ctx.next_timer, held = w->gqs[i]->rx_held_until;

		if (t && (!next || t < next))
			next = t;
		if (held && (!next || held < next))
			next = held;
	}
	return next;
}

/* A guest's descriptor woke the worker: @id says which (gateway.h). */
static void gq_event(struct gq *q, uint64_t id, uint32_t events)
{
	if (id == EV_ICMP_RAW || id == EV_ICMP6_RAW)
		ping_raw_event(&q->ctx, id == EV_ICMP6_RAW);
	else if (id == EV_HANDOFF)	/* the rings are drained every round */
		eventfd_read(q->g->steer.wake[q->w->index], &(eventfd_t){ 0 });
	else if (id >= EPOLL_FWD_BASE && id - EPOLL_FWD_BASE < FWD_MAX)
		gq_fwd_event(q, &q->fwd[id - EPOLL_FWD_BASE]);
	else if (id >= EPOLL_FLOW_BASE && id - EPOLL_FLOW_BASE < q->flows.max)
		l4_sock_event(&q->ctx, &q->flows.flows[id - EPOLL_FLOW_BASE], events);
}

/*
 * Dispatches epoll events; returns how many were work (host sockets,
 * commands), not mere wake-ups for frames, or -1 once told to stop.
 */
static int worker_events(struct worker *w, int n)
{
	int work = 0;

	for (int i = 0; i < n; i++) {
		uint64_t tag = w->events[i].data.u64;
		uint64_t id = tag & ((1ull << EPOLL_GUEST_SHIFT) - 1);
		unsigned slot = (unsigned)(tag >> EPOLL_GUEST_SHIFT);

		work += id != EV_XSK && id != EV_HANDOFF;
		if (slot) {
			if (w->slot[slot - 1])	/* else it left meanwhile */
				gq_event(w->slot[slot - 1], id, w->events[i].events);
		} else if (id == EV_STOP)
			return -1;
		else if (id == EV_CMD)
			worker_commands(w);
	}
	return work;
}

/*
 * How long epoll_wait() may sleep: not at all while there is work, or while
 * spinning (busy mode always; adaptive mode for spin_ns after the last
 * work), else until the next timer.  Every spin round still checks the
 * rings and sockets, so a frame that arrives while spinning is served
 * without a wake-up.
 */
static int worker_wait_ms(const struct worker *w, bool worked, uint64_t now,
			  uint64_t spin_until)
{
	if (worked || w->poll == POLL_BUSY || (w->poll == POLL_ADAPTIVE && now < spin_until))
		return 0;
	return timer_wait_ms(worker_next_timer(w), now);
}

/*
 * Before blocking: no guest may have frames handed over meanwhile, and
 * what each captured must not wait for more.  False if one has frames.
 */
static bool worker_may_sleep(struct worker *w)
{
	for (unsigned i = 0; i < w->ngq; i++) {
		struct gq *q = w->gqs[i];

		if (!steer_may_sleep(&q->g->steer, w->index)) {
			while (i--)
				steer_awake(&w->gqs[i]->g->steer, w->index);
			return false;
		}
	}
	for (unsigned i = 0; i < w->ngq; i++)
		if (w->gqs[i]->port->cap)
			capture_idle(w->gqs[i]->port->cap);
	return true;
}

/*
 * epoll_wait() for up to @wait ms, unless frames were handed over meanwhile;
 * sets @asleep to the time it may have slept (0 if it only polled).
 */
static int worker_epoll_wait(struct worker *w, int wait, uint64_t *asleep)
{
	uint64_t start;
	int n;

	*asleep = 0;
	if (!wait || !worker_may_sleep(w))
		return epoll_wait(w->epfd, w->events, EPOLL_BATCH, 0);
	start = now_ns();
	n = epoll_wait(w->epfd, w->events, EPOLL_BATCH, wait);
	for (unsigned i = 0; i < w->ngq; i++)
		steer_awake(&w->gqs[i]->g->steer, w->index);
	*asleep = now_ns() - start;
	return n;
}

/*
 * Runs the timers that are due, if any is: flows', and worker 0's Router
 * Advertisements; ctx->next_timer is the earliest deadline after that.  A
 * timer armed meanwhile lowers it (l4_timer_arm()); one that is stopped
 * leaves it, and the worker wakes up early once, for nothing.
 */
static void gq_timers(struct gw_ctx *ctx)
{
	uint64_t ra;

	if (!ctx->next_timer || ctx->next_timer > ctx->now)
		return;
	l4_timers(ctx);
	ra = ndp_timer(ctx);
	if (ra && (!ctx->next_timer || ra < ctx->next_timer))
		ctx->next_timer = ra;
}

/* The time of this round, for every guest's flows. */
static uint64_t worker_clock(struct worker *w)
{
	uint64_t now = now_ns();

	for (unsigned i = 0; i < w->ngq; i++)
		w->gqs[i]->ctx.now = now;
	return now;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t spin_until = 0;
	bool worked = false;

	if (w->seccomp)
		w->start_ret = seccomp_install(w->seccomp_log, true);
	sem_post(&w->started);
	if (w->start_ret)
		return NULL;
	for (;;) {
		uint64_t start = worker_clock(w), asleep;
		unsigned rx, own;
		int n, work = 0;

		rx = worker_poll_once(w, &own);
		worked = worked || own;
		if (worked)
			spin_until = start + w->spin_ns;
		n = worker_epoll_wait(w, worker_wait_ms(w, rx, start, spin_until), &asleep);
		if (n < 0 && errno != EINTR) {
			log_err("queue %u: epoll_wait: %s", w->index, strerror(errno));
			break;
		}
		worker_clock(w);
		if (n > 0 && (work = worker_events(w, n)) < 0)
			break;
		for (unsigned i = 0; i < w->ngq; i++) {
			gq_timers(&w->gqs[i]->ctx);
			port_flush(w->gqs[i]->port);
		}
		/* a round with frames served or events is work; an empty one
		 * that did not sleep is spinning (the time asleep counts as
		 * neither) */
		worked = own || work;
		if (rx || n > 0)
			counter_add(&w->time.work_ns, now_ns() - start - asleep);
		else if (!asleep)
			counter_add(&w->time.spin_ns, now_ns() - start);
	}
	for (unsigned i = 0; i < w->ngq; i++) {
		l4_close_all(&w->gqs[i]->ctx);
		port_flush(w->gqs[i]->port);
	}
	return NULL;
}

/* The worker's own descriptors: the engine's stop eventfd, its commands. */
static int worker_epoll(struct worker *w)
{
	struct epoll_event stop = { .events = EPOLLIN, .data.u64 = EV_STOP };
	struct epoll_event cmd = { .events = EPOLLIN, .data.u64 = EV_CMD };

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stop_fd, &stop) ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cmd_fd, &cmd))
		return -errno;
	return 0;
}

/* Runs worker @w on CPU @cpu only (--cpus). */
static int worker_pin(struct worker *w, unsigned cpu)
{
	cpu_set_t set;
	int ret;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ret = pthread_setaffinity_np(w->thread, sizeof(set), &set);
	if (ret)
		log_err("queue %u: cannot run on CPU %u: %s", w->index, cpu, strerror(ret));
	return -ret;
}

/**
 * engine_open() - make the workers, not running yet
 * @e: zeroed engine
 * @p: how many, and how they wait
 *
 * Guests are added with guest_open(); the caller may still confine the
 * process (sandbox.c), then engine_start() starts the workers.  Commands
 * (forwarded ports) may be queued in between.
 *
 * Return: 0, or negative errno (logged).  Call engine_stop() either way.
 */
int engine_open(struct engine *e, const struct engine_params *p)
{
	int ret;

	e->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->workers = calloc(p->queues, sizeof(*e->workers));
	if (e->stop_fd < 0 || !e->workers)
		return -ENOMEM;
	e->nworkers = p->queues;
	e->ncpus = p->ncpus;
	e->cpus = p->cpus;
	for (unsigned q = 0; q < e->nworkers; q++) {
		struct worker *w = &e->workers[q];

		w->e = e;
		w->index = q;
		w->epfd = w->cmd_fd = w->cmd_wr = -1;
		w->stop_fd = e->stop_fd;
		w->poll = p->poll;
		w->spin_ns = (uint64_t)p->spin_us * 1000;
		w->seccomp = p->worker_seccomp;
		w->seccomp_log = p->seccomp_log;
	}
	ret = engine_commands_init(e);
	for (unsigned q = 0; !ret && q < e->nworkers; q++)
		ret = worker_epoll(&e->workers[q]);
	if (ret)
		log_err("cannot set up the workers: %s", strerror(-ret));
	return ret;
}

/*
 * Starts worker @w and waits until it runs, under its filter if it has one:
 * 0, or negative errno (logged).
 */
static int worker_start(struct worker *w)
{
	int ret;

	if (sem_init(&w->started, 0, 0))
		return -errno;
	ret = -pthread_create(&w->thread, NULL, worker_run, w);
	w->running = !ret;
	if (!ret)
		while (sem_wait(&w->started) && errno == EINTR)
			;
	sem_destroy(&w->started);
	if (ret)
		log_err("queue %u: cannot start its worker: %s", w->index, strerror(-ret));
	return ret ?: w->start_ret;
}

/* Starts one worker per queue (pinned as --cpus says); 0 or negative errno. */
int engine_start(struct engine *e)
{
	int ret = 0;

	for (unsigned q = 0; !ret && q < e->nworkers; q++) {
		ret = worker_start(&e->workers[q]);
		if (!ret && e->ncpus)
			ret = worker_pin(&e->workers[q], e->cpus[q % e->ncpus]);
	}
	return ret;
}

/* Prints each guest's counters; safe while workers run. */
void engine_print_counters(const struct engine *e, FILE *out)
{
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (e->guests[i])
			guest_print_counters(e->guests[i], out);
}

/**
 * engine_stop() - stop the workers, close every guest (printing its
 *		   counters), release everything
 * @e: engine, started or partly started
 *
 * Return: 0, or -EFAULT if a port lost track of a frame (a bug).
 */
int engine_stop(struct engine *e)
{
	int ret = 0;

	if (e->stop_fd >= 0 && eventfd_write(e->stop_fd, 1))
		log_err("cannot signal the workers: %s", strerror(errno));
	for (unsigned q = 0; q < e->nworkers; q++)
		if (e->workers[q].running)
			pthread_join(e->workers[q].thread, NULL);
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (e->guests[i] && guest_close(e->guests[i]))
			ret = -EFAULT;
	for (unsigned q = 0; q < e->nworkers; q++) {
		struct worker *w = &e->workers[q];

		if (w->epfd >= 0)
			close(w->epfd);
		if (w->cmd_fd >= 0)
			close(w->cmd_fd);
		if (w->cmd_wr >= 0)
			close(w->cmd_wr);
		switch_fini(w);
	}
	free(e->workers);
	e->workers = NULL;
	e->nworkers = 0;
	if (e->stop_fd >= 0)
		close(e->stop_fd);
	e->stop_fd = -1;
	return ret;
}
