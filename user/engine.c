// SPDX-License-Identifier: MIT
/*
 * engine.c - workers: one thread per queue, each with its own port.
 *
 * Theory of operation: a worker takes bursts of frames from its port, runs
 * each through eth_input() and either transmits the reply built in place,
 * releases the frame, or holds it until the burst's UDP datagrams have gone
 * out with sendmmsg() (udp_flush()) and its TCP payload with one sendmsg()
 * per flow (tcp_flush(), which also acknowledges and sends once per flow).
 * Host sockets of its flows (tcp.c) wake it through epoll, as do its AF_XDP
 * socket, its hand-off eventfd and the engine's stop eventfd; between rounds
 * it runs due TCP timers, kicks transmission and refills the fill ring.
 * Each worker has its own flow table; a frame that arrives on
 * another worker's queue goes to the flow's owner through a hand-off ring
 * (steer.c), which this loop drains like a second receive ring.  Workers
 * share only read-only data (struct gateway, struct steer) and the rings;
 * counters are per worker.  Nothing on this path allocates or locks.
 *
 * Start-up order matters: sockets exist and sit in the XSKMAP before the
 * program is attached, so no guest frame meets an empty slot.
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

#define RX_BURSTS	16	/* at most, per round */
#define HANDOFF_BURSTS	16	/* RX_BURST frames each, per ring and round */

/* epoll data of a worker's own descriptors (see also gateway.h) */
enum { EV_XSK, EV_STOP, EV_ICMP_RAW = EPOLL_ICMP_RAW, EV_CMD, EV_HANDOFF,
       EV_ICMP6_RAW = EPOLL_ICMP6_RAW };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A reply built in a handed-off frame: copied into a frame of our port. */
static void worker_transmit_copy(struct worker *w, const struct frame *f)
{
	struct frame out;

	if (!port_alloc(w->port, &out, f->len)) {
		counter_add(&w->cnt.drop[DROP_TX_NO_FRAMES], 1);
		return;
	}
	frame_copy_in(&out, 0, f->seg[0].data, f->len);
	port_transmit(w->port, &out);
}

/*
 * Frames other workers handed over, in bursts like received ones, until
 * each ring is empty or HANDOFF_BURSTS bursts were taken from it: a ring
 * fills as fast as another CPU copies, so one burst a round would fall
 * behind (and drop).  Returns how many.
 */
static unsigned worker_take_handoffs(struct worker *w)
{
	const struct steer *st = &w->e->steer;
	unsigned total = 0;

	for (unsigned from = 0; from < st->nworkers; from++) {
		struct handoff_ring *r;
		unsigned n = RX_BURST;
		uint32_t end;

		if (from == w->ctx.worker)
			continue;
		r = steer_ring(st, from, w->ctx.worker);
		for (int b = 0; b < HANDOFF_BURSTS && n == RX_BURST; b++) {
			n = handoff_take(r, w->burst, RX_BURST, &end);
			for (unsigned i = 0; i < n; i++)
				if (eth_input(&w->ctx, &w->burst[i]) == VERDICT_REPLY)
					worker_transmit_copy(w, &w->burst[i]);
			udp_flush(&w->ctx);	/* held datagrams point into the ring */
			tcp_flush(&w->ctx);
			handoff_release(r, end);
			total += n;
		}
	}
	return total;
}

/* Serves one burst of received frames; returns how many came. */
static unsigned worker_rx_burst(struct worker *w)
{
	unsigned n = port_receive(w->port, w->burst, RX_BURST), nheld = 0;

	for (unsigned i = 0; i < n; i++) {
		struct frame *f = &w->burst[i];

		switch (eth_input(&w->ctx, f)) {
		case VERDICT_REPLY:
			port_transmit(w->port, f);
			break;
		case VERDICT_HELD:
			w->held[nheld++] = f;
			break;
		case VERDICT_DONE:
			port_release(w->port, f);
			break;
		}
	}
	udp_flush(&w->ctx);
	tcp_flush(&w->ctx);
	for (unsigned i = 0; i < nheld; i++)
		port_release(w->port, w->held[i]);
	return n;
}

/*
 * Serves the RX ring, up to RX_BURSTS bursts (the guest may queue ACKs for
 * a whole ring of our segments at once: a burst a round would leave its
 * chunks, and those the fill ring gets back, missing for transmission),
 * then the hand-off rings.  Returns the number of frames received, and in
 * @own those served here (not handed to their owner), which is what makes
 * an adaptive worker keep spinning: a worker that only passes frames on
 * would spin for nothing, on a CPU the guest or the owner could use.
 */
static unsigned worker_poll_once(struct worker *w, unsigned *own)
{
	uint64_t handed = w->cnt.handed_off;
	unsigned n = 0, got = RX_BURST;

	for (int b = 0; b < RX_BURSTS && got == RX_BURST; b++) {
		got = worker_rx_burst(w);
		n += got;
		port_flush(w->port);
	}
	*own = n - (unsigned)(w->cnt.handed_off - handed);
	if (w->e->steer.nworkers > 1) {
		unsigned taken = worker_take_handoffs(w);

		n += taken;
		*own += taken;
	}
	steer_wake(&w->ctx);
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

/*
 * Dispatches epoll events; returns how many were work (host sockets,
 * commands), not mere wake-ups for frames, or -1 once told to stop.
 */
static int worker_events(struct worker *w, int n)
{
	int work = 0;

	for (int i = 0; i < n; i++) {
		uint64_t id = w->events[i].data.u64;

		if (id == EV_STOP)
			return -1;
		work += id != EV_XSK && id != EV_HANDOFF;
		if (id == EV_ICMP_RAW || id == EV_ICMP6_RAW)
			ping_raw_event(&w->ctx, id == EV_ICMP6_RAW);
		if (id == EV_CMD)
			worker_commands(w);
		if (id == EV_HANDOFF)	/* the rings are drained every round */
			eventfd_read(w->e->steer.wake[w->ctx.worker], &(eventfd_t){ 0 });
		if (id >= EPOLL_FWD_BASE && id - EPOLL_FWD_BASE < FWD_MAX)
			worker_fwd_event(w, &w->fwd[id - EPOLL_FWD_BASE]);
		else if (id >= EPOLL_FLOW_BASE && id - EPOLL_FLOW_BASE < w->flows.max)
			l4_sock_event(&w->ctx, &w->flows.flows[id - EPOLL_FLOW_BASE],
				      w->events[i].events);
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
static int worker_wait_ms(const struct worker *w, bool worked, uint64_t spin_until,
			  uint64_t next_timer)
{
	if (worked || w->poll == POLL_BUSY ||
	    (w->poll == POLL_ADAPTIVE && w->ctx.now < spin_until))
		return 0;
	return timer_wait_ms(next_timer, w->ctx.now);
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
	if (!wait || !steer_may_sleep(&w->e->steer, w->ctx.worker))
		return epoll_wait(w->ctx.epfd, w->events, EPOLL_BATCH, 0);
	if (w->port->cap)	/* what it captured must not wait for more */
		capture_idle(w->port->cap);
	start = now_ns();
	n = epoll_wait(w->ctx.epfd, w->events, EPOLL_BATCH, wait);
	steer_awake(&w->e->steer, w->ctx.worker);
	*asleep = now_ns() - start;
	return n;
}

/*
 * Runs the timers that are due, if any is: flows', and worker 0's Router
 * Advertisements; ctx->next_timer is the earliest deadline after that.  A
 * timer armed meanwhile lowers it (l4_timer_arm()); one that is stopped
 * leaves it, and the worker wakes up early once, for nothing.
 */
static void worker_timers(struct gw_ctx *ctx)
{
	uint64_t ra;

	if (!ctx->next_timer || ctx->next_timer > ctx->now)
		return;
	l4_timers(ctx);
	ra = ndp_timer(ctx);
	if (ra && (!ctx->next_timer || ra < ctx->next_timer))
		ctx->next_timer = ra;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t spin_until = 0;
	bool worked = false;

	w->ctx.next_timer = now_ns();	/* the first round runs them */

	for (;;) {
		uint64_t start = now_ns(), asleep;
		unsigned rx, own;
		int n, work = 0;

		w->ctx.now = start;
		rx = worker_poll_once(w, &own);
		worked = worked || own;
		if (worked)
			spin_until = start + w->spin_ns;
		n = worker_epoll_wait(w, worker_wait_ms(w, rx, spin_until, w->ctx.next_timer),
				      &asleep);
		if (n < 0 && errno != EINTR) {
			log_err("queue %u: epoll_wait: %s", w->ctx.worker, strerror(errno));
			break;
		}
		w->ctx.now = now_ns();
		if (n > 0 && (work = worker_events(w, n)) < 0)
			break;
		worker_timers(&w->ctx);
		port_flush(w->port);
		/* a round with frames served or events is work; an empty one
		 * that did not sleep is spinning (the time asleep counts as
		 * neither) */
		worked = own || work;
		if (rx || n > 0)
			counter_add(&w->cnt.work_ns, now_ns() - start - asleep);
		else if (!asleep)
			counter_add(&w->cnt.spin_ns, now_ns() - start);
	}
	l4_close_all(&w->ctx);
	port_flush(w->port);
	return NULL;
}

static int worker_epoll(struct worker *w)
{
	struct epoll_event xsk = { .events = EPOLLIN, .data.u64 = EV_XSK };
	struct epoll_event stop = { .events = EPOLLIN, .data.u64 = EV_STOP };
	struct epoll_event cmd = { .events = EPOLLIN, .data.u64 = EV_CMD };
	struct epoll_event handoff = { .events = EPOLLIN, .data.u64 = EV_HANDOFF };
	int wake = w->e->steer.wake[w->ctx.worker];

	w->ctx.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->ctx.epfd < 0 ||
	    epoll_ctl(w->ctx.epfd, EPOLL_CTL_ADD, w->port->fd, &xsk) ||
	    epoll_ctl(w->ctx.epfd, EPOLL_CTL_ADD, w->stop_fd, &stop) ||
	    (w->cmd_fd >= 0 && epoll_ctl(w->ctx.epfd, EPOLL_CTL_ADD, w->cmd_fd, &cmd)) ||
	    (wake >= 0 && epoll_ctl(w->ctx.epfd, EPOLL_CTL_ADD, wake, &handoff)))
		return -errno;
	return 0;
}

/* Counters and flow counts of worker @q; safe while it runs. */
void engine_worker_stats(const struct engine *e, unsigned q, struct engine_stats *st)
{
	const struct worker *w = &e->workers[q];

	memset(st, 0, sizeof(*st));
	st->cnt.rx_frames = counter_read(&w->cnt.rx_frames);
	st->cnt.rx_bytes = counter_read(&w->cnt.rx_bytes);
	st->cnt.tx_frames = counter_read(&w->cnt.tx_frames);
	st->cnt.tx_bytes = counter_read(&w->cnt.tx_bytes);
	st->cnt.evicted = counter_read(&w->cnt.evicted);
	st->cnt.handed_off = counter_read(&w->cnt.handed_off);
	st->cnt.tcp_fast_retransmits = counter_read(&w->cnt.tcp_fast_retransmits);
	for (int d = 0; d < DROP_MAX; d++)
		st->cnt.drop[d] = counter_read(&w->cnt.drop[d]);
	st->flows = __atomic_load_n(&w->flows.count, __ATOMIC_RELAXED);
	st->half_open = __atomic_load_n(&w->flows.npending, __ATOMIC_RELAXED);
	st->datagram = __atomic_load_n(&w->flows.ndgram, __ATOMIC_RELAXED);
}

/* Opens worker @w's port, of the engine's backend. */
static int worker_port_open(struct worker *w, const struct engine_params *p)
{
	unsigned q = w->ctx.worker;
	int ret;

	switch (p->backend) {
	case BACKEND_TAP:
		ret = tap_port_open(&w->pm.tap, p->tap_fds[q], q, p->tap_offloads, &w->cnt);
		break;
	case BACKEND_STREAM:
		ret = stream_port_open(&w->pm.stream, p->stream_fd, &w->cnt);
		break;
	default:
		ret = xsk_port_open(&w->pm.xsk, p->ifname, p->ifindex, q, p->multibuffer,
				    p->tx_csum, &w->cnt);
		break;
	}
	w->port = &w->pm.base;	/* its close() undoes even a partial open */
	return ret;
}

static int engine_open_ports(struct engine *e, const struct engine_params *p)
{
	for (unsigned q = 0; q < e->nworkers; q++) {
		struct worker *w = &e->workers[q];
		int ret;

		w->e = e;
		w->ctx.worker = q;
		w->ctx.steer = &e->steer;
		w->ctx.gw = p->gw;
		w->ctx.policy = p->gw->policy;
		w->ctx.cnt = &w->cnt;
		w->ctx.flows = &w->flows;
		w->ctx.epfd = -1;
		w->ctx.icmp_raw = -1;
		w->ctx.icmp6_raw = -1;
		/* one stream of unsolicited RAs for the link: worker 0's */
		w->ctx.ra_at = q == 0 && p->gw->ipv6 ? now_ns() : 0;
		/* the guest end's MAC if we created it; else broadcast until
		 * the guest speaks (arp.c asks it when that matters) */
		if (p->guest_mac)
			memcpy(w->ctx.guest_mac, p->guest_mac, ETH_ALEN);
		else
			memset(w->ctx.guest_mac, 0xff, ETH_ALEN);
		w->stop_fd = e->stop_fd;
		w->poll = p->poll;
		w->spin_ns = (uint64_t)p->spin_us * 1000;
		w->ctx.scratch = malloc(UDP_SCRATCH);
		w->ctx.frags = frag_table_new();
		ret = w->ctx.scratch && w->ctx.frags ? flow_table_init(&w->flows, p->max_flows) :
						       -ENOMEM;
		if (!ret)
			ret = worker_port_open(w, p);
		if (!ret)
			ret = worker_epoll(w);
		if (!ret && p->backend == BACKEND_XDP)
			ret = xdp_prog_add_socket(&e->prog, q, w->port->fd);
		if (ret)
			return ret;
		port_frame_out(w->port, &w->ctx.out);
		if (port_set_faults(w->port, &p->faults))
			return -ENOMEM;
		w->port->cap = p->pcap ? &p->pcap->workers[q] : NULL;
	}
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
		log_err("queue %u: cannot run on CPU %u: %s", w->ctx.worker, cpu, strerror(ret));
	return -ret;
}

/**
 * engine_open() - load and attach the XDP program, open every queue's port
 * @e: zeroed engine
 * @p: link and gateway parameters
 *
 * No thread runs yet: the caller may still confine the process
 * (sandbox.c), then engine_start() starts the workers.  Commands
 * (forwarded ports) may be queued in between.
 *
 * Return: 0, or negative errno (logged).  Call engine_stop() either way.
 */
int engine_open(struct engine *e, const struct engine_params *p)
{
	int ret;

	e->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->prog.link_fd = -1;
	e->workers = calloc(p->queues, sizeof(*e->workers));
	if (e->stop_fd < 0 || !e->workers)
		return -ENOMEM;
	e->nworkers = p->queues;
	e->ncpus = p->ncpus;
	e->cpus = p->cpus;
	for (unsigned q = 0; q < e->nworkers; q++)
		e->workers[q].cmd_fd = e->workers[q].cmd_wr = -1;
	ret = engine_commands_init(e);
	if (!ret)
		ret = steer_init(&e->steer, e->nworkers);
	if (ret)
		return ret;

	if (p->backend == BACKEND_XDP)
		ret = xdp_prog_load(&e->prog);
	if (!ret)
		ret = engine_open_ports(e, p);
	if (!ret && p->backend == BACKEND_XDP)
		ret = xdp_prog_attach(&e->prog, p->ifindex, p->ifname, p->xdp_generic);
	if (!ret && p->backend == BACKEND_XDP)	/* failing, the engine judges alone */
		xdp_policy_write(&e->prog, p->gw->policy, p->gw);
	return ret;
}

/* Starts one worker per queue (pinned as --cpus says); 0 or negative errno. */
int engine_start(struct engine *e)
{
	int ret = 0;

	for (unsigned q = 0; !ret && q < e->nworkers; q++) {
		ret = -pthread_create(&e->workers[q].thread, NULL, worker_run,
				      &e->workers[q]);
		e->workers[q].running = !ret;
		if (!ret && e->ncpus)
			ret = worker_pin(&e->workers[q], e->cpus[q % e->ncpus]);
	}
	return ret;
}

/* Prints each worker's counters; safe while workers run. */
void engine_print_counters(const struct engine *e, FILE *out)
{
	uint64_t xdp[XDP_CNT_MAX];

	for (unsigned q = 0; q < e->nworkers; q++) {
		char who[32];

		snprintf(who, sizeof(who), "queue %u", q);
		counters_print(out, who, &e->workers[q].cnt);
		/* the worker writes these; a relaxed read may be a burst late */
		fprintf(out, "xdpslirp: %s: flows %u, half-open %u\n", who,
			__atomic_load_n(&e->workers[q].flows.count, __ATOMIC_RELAXED),
			__atomic_load_n(&e->workers[q].flows.npending, __ATOMIC_RELAXED));
	}
	if (e->prog.skel) {
		xdp_prog_counters(&e->prog, xdp);
		fprintf(out, "xdpslirp: xdp: redirected %llu, no socket %llu; policy: denied %llu, blocked %llu, passed on to answer %llu\n",
			(unsigned long long)xdp[XDP_CNT_REDIRECTED],
			(unsigned long long)xdp[XDP_CNT_NO_SOCKET],
			(unsigned long long)xdp[XDP_CNT_POLICY_DENIED],
			(unsigned long long)xdp[XDP_CNT_POLICY_BLOCKED],
			(unsigned long long)xdp[XDP_CNT_POLICY_NOTICE]);
	} else if (e->nworkers) {
		const struct port *port = e->workers[0].port;

		fprintf(out, "xdpslirp: %s: %u queues, offloads %s\n", port->kind, e->nworkers,
			port->offloads ? port->offloads : "none");
	}
	fflush(out);
}

/* After the workers stopped: did every frame come back to the port, and
 * every flow (and its host socket) end?
 */
static int audit_worker(struct worker *w)
{
	int ret = w->port->ops->audit(w->port);

	fprintf(stderr, "xdpslirp: queue %u: %u flows left\n", w->ctx.worker, w->flows.count);
	return ret || w->flows.count ? -EFAULT : 0;
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

/**
 * engine_stop() - stop the workers, print counters, release everything
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
	/* Detach first: no frame may reach a closing socket's queue. */
	if (e->prog.link_fd >= 0) {
		close(e->prog.link_fd);
		e->prog.link_fd = -1;
	}
	if (e->workers)
		engine_print_counters(e, stderr);
	for (unsigned q = 0; q < e->nworkers; q++) {
		struct port *port = e->workers[q].port;

		if (port) {
			port_fini_faults(port);
			if (audit_worker(&e->workers[q]))
				ret = -EFAULT;
			port->ops->close(port);
		}
		flow_table_fini(&e->workers[q].flows);
		free(e->workers[q].ctx.scratch);
		frag_table_free(e->workers[q].ctx.frags);
		worker_commands_fini(&e->workers[q]);
		if (e->workers[q].ctx.epfd >= 0)
			close(e->workers[q].ctx.epfd);
		if (e->workers[q].ctx.icmp_raw >= 0)
			close(e->workers[q].ctx.icmp_raw);
		if (e->workers[q].ctx.icmp6_raw >= 0)
			close(e->workers[q].ctx.icmp6_raw);
		if (e->workers[q].cmd_fd >= 0)
			close(e->workers[q].cmd_fd);
		if (e->workers[q].cmd_wr >= 0)
			close(e->workers[q].cmd_wr);
	}
	if (audit_steer(&e->steer))
		ret = -EFAULT;
	xdp_prog_close(&e->prog);
	steer_fini(&e->steer);
	free(e->workers);
	e->workers = NULL;
	e->nworkers = 0;
	if (e->stop_fd >= 0)
		close(e->stop_fd);
	e->stop_fd = -1;

	return ret;
}
