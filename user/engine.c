// SPDX-License-Identifier: MIT
/*
 * engine.c - workers: one thread per queue, each with its own AF_XDP port.
 *
 * Theory of operation: a worker takes a burst of frames from its port, runs
 * each through eth_input() and either transmits the reply built in place or
 * releases the frame.  After a burst it kicks transmission and refills the
 * fill ring; with nothing to do it sleeps in poll() on its socket and on the
 * engine's stop eventfd.  Workers share only read-only data (struct
 * gateway); counters are per worker.  Nothing on this path allocates or
 * locks.
 *
 * Start-up order matters: sockets exist and sit in the XSKMAP before the
 * program is attached, so no guest frame meets an empty slot.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine.h"
#include "eth.h"
#include "log.h"
#include "xsk.h"

#define RX_BURST 64

struct worker {
	struct xsk_port port;
	struct counters cnt;
	struct gw_ctx ctx;
	pthread_t thread;
	bool running;
	int stop_fd;
	struct frame burst[RX_BURST];
};

/* Handles one burst; returns the number of frames received. */
static unsigned worker_poll_once(struct worker *w)
{
	unsigned n = xsk_port_receive(&w->port, w->burst, RX_BURST);

	for (unsigned i = 0; i < n; i++) {
		struct frame *f = &w->burst[i];

		if (eth_input(&w->ctx, f) == VERDICT_REPLY)
			xsk_port_transmit(&w->port, f);
		else
			xsk_port_release(&w->port, f);
	}
	xsk_port_flush(&w->port);
	xsk_port_refill(&w->port);
	return n;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[2] = {
		{ .fd = xsk_port_fd(&w->port), .events = POLLIN },
		{ .fd = w->stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (worker_poll_once(w))
			continue;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			log_err("queue %u: poll: %s", w->port.queue, strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
	}
	return NULL;
}

static int engine_open_ports(struct engine *e, const struct engine_params *p)
{
	for (unsigned q = 0; q < e->nworkers; q++) {
		struct worker *w = &e->workers[q];
		int ret;

		w->ctx.gw = p->gw;
		w->ctx.cnt = &w->cnt;
		w->stop_fd = e->stop_fd;
		ret = xsk_port_open(&w->port, p->ifname, q, p->multibuffer, &w->cnt);
		if (!ret)
			ret = xdp_prog_add_socket(&e->prog, q, xsk_port_fd(&w->port));
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * engine_start() - load and attach the XDP program, start one worker per queue
 * @e: zeroed engine
 * @p: link and gateway parameters
 *
 * Return: 0, or negative errno (logged).  Call engine_stop() either way.
 */
int engine_start(struct engine *e, const struct engine_params *p)
{
	int ret;

	e->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->prog.link_fd = -1;
	e->workers = calloc(p->queues, sizeof(*e->workers));
	if (e->stop_fd < 0 || !e->workers)
		return -ENOMEM;
	e->nworkers = p->queues;

	ret = xdp_prog_load(&e->prog);
	if (!ret)
		ret = engine_open_ports(e, p);
	if (!ret)
		ret = xdp_prog_attach(&e->prog, p->ifindex, p->ifname, p->xdp_generic);
	for (unsigned q = 0; !ret && q < e->nworkers; q++) {
		ret = -pthread_create(&e->workers[q].thread, NULL, worker_run,
				      &e->workers[q]);
		e->workers[q].running = !ret;
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
	}
	xdp_prog_counters(&e->prog, xdp);
	fprintf(out, "xdpslirp: xdp: redirected %llu, no socket %llu\n",
		(unsigned long long)xdp[XDP_CNT_REDIRECTED],
		(unsigned long long)xdp[XDP_CNT_NO_SOCKET]);
	fflush(out);
}

/* After the workers stopped: did every chunk come back to its owner? */
static int audit_port(struct xsk_port *port)
{
	struct xsk_port_stats st;

	xsk_port_stats(port, &st);
	fprintf(stderr, "xdpslirp: queue %u: frames: %u free, %u fill, %u tx, %u leaked, %llu ownership violations; kernel: rx_dropped %llu, rx_ring_full %llu, fill_empty %llu, tx_invalid %llu\n",
		port->queue, st.chunks[CHUNK_FREE], st.chunks[CHUNK_FILL],
		st.chunks[CHUNK_TX], st.chunks[CHUNK_USER],
		(unsigned long long)st.violations,
		(unsigned long long)st.kernel_rx_dropped,
		(unsigned long long)st.kernel_rx_ring_full,
		(unsigned long long)st.kernel_fill_empty,
		(unsigned long long)st.kernel_tx_invalid);
	return st.chunks[CHUNK_USER] || st.violations ? -EFAULT : 0;
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
		struct xsk_port *port = &e->workers[q].port;

		if (port->xsk && audit_port(port))
			ret = -EFAULT;
		xsk_port_close(port);
	}
	xdp_prog_close(&e->prog);
	free(e->workers);
	e->workers = NULL;
	e->nworkers = 0;
	if (e->stop_fd >= 0)
		close(e->stop_fd);
	e->stop_fd = -1;
	return ret;
}
