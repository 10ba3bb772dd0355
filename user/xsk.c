// SPDX-License-Identifier: MIT
/*
 * xsk.c - the AF_XDP port: UMEM, the four rings, and frame ownership.
 *
 * Theory of operation: each worker owns one port, i.e. one AF_XDP socket
 * bound to one queue of the host end of the guest's link, with a UMEM of its
 * own.  Chunks cycle through the rings under the eye of a chunk_pool:
 *
 *   free --refill--> fill ring --kernel--> RX ring --receive--> engine
 *   engine --release--> free
 *   engine --transmit--> TX ring --kernel--> completion ring --reclaim--> free
 *
 * A reply is built in the very chunks of the request it answers, so the
 * common case copies nothing.  Frames larger than a chunk arrive as a chain
 * of descriptors marked XDP_PKT_CONTD (multi-buffer, bind flag XDP_USE_SG),
 * and leave the same way.
 *
 * On veth the socket runs in copy mode: the kernel copies each received
 * frame into our chunk (256 bytes into it), and transmission happens only
 * inside sendto(), which moves at most 32 descriptors per call (see
 * xsk_port_flush()).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "xsk.h"

#define CHUNK_SIZE	4096u
#define NUM_CHUNKS	4096u
#define RING_SIZE	2048u
#define KICK_TRIES	1024
#define BUSY_RETRIES	50
/*
 * Headroom before each received frame: with the kernel's 256 bytes it puts
 * the Ethernet header 2 bytes past a 4-byte boundary, so the IPv4 header
 * that follows is 4-byte aligned, as the protocol code assumes.
 */
#define NET_IP_ALIGN	2

/**
 * xsk_probe_multibuffer() - does the kernel accept XDP_USE_SG?
 *
 * A bind with an unknown flag fails with EINVAL before the device is looked
 * up; with a known flag and no device it fails with ENODEV.  So a bind to
 * ifindex 0 tells, without touching any link.
 *
 * Return: 1 if supported, 0 if not, negative errno if AF_XDP is unavailable.
 */
int xsk_probe_multibuffer(void)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = XDP_USE_SG | XDP_COPY,
		.sxdp_ifindex = 0,
	};
	int fd, ret;

	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) ? errno : 0;
	close(fd);
	return ret == ENODEV;
}

static uint64_t chunk_addr(const struct xsk_port *p, const uint8_t *data)
{
	return (uint64_t)(data - p->area);
}

/* Gives free chunks to the kernel until the fill ring is full. */
void xsk_port_refill(struct xsk_port *p)
{
	uint32_t want = xsk_prod_nb_free(&p->fill, RING_SIZE);
	uint32_t idx, n = 0;

	if (want > p->pool.nfree)
		want = p->pool.nfree;
	if (!want || xsk_ring_prod__reserve(&p->fill, want, &idx) != want)
		return;
	for (; n < want; n++) {
		uint64_t addr;

		if (!pool_take(&p->pool, CHUNK_FILL, &addr))
			break;
		*xsk_ring_prod__fill_addr(&p->fill, idx + n) = addr;
	}
	xsk_ring_prod__submit(&p->fill, n);
}

/* Returns the chunks of completed transmissions to the free stack. */
static void xsk_port_reclaim(struct xsk_port *p)
{
	uint32_t idx, n = xsk_ring_cons__peek(&p->comp, RING_SIZE, &idx);

	for (uint32_t i = 0; i < n; i++)
		pool_release(&p->pool, *xsk_ring_cons__comp_addr(&p->comp, idx + i),
			     CHUNK_TX);
	xsk_ring_cons__release(&p->comp, n);
}

static int umem_create(struct xsk_port *p)
{
	struct xsk_umem_config cfg = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = CHUNK_SIZE,
		.frame_headroom = NET_IP_ALIGN,
	};
	int ret;

	p->area_size = (uint64_t)CHUNK_SIZE * NUM_CHUNKS;
	p->area = mmap(NULL, p->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		return -errno;
	}
	ret = xsk_umem__create(&p->umem, p->area, p->area_size, &p->fill,
			       &p->comp, &cfg);
	if (ret)
		return ret;
	return pool_init(&p->pool, NUM_CHUNKS, CHUNK_SIZE);
}

/*
 * Creates and binds the socket.  A queue stays busy for a moment after the
 * socket of a killed process closes (the kernel releases the binding from a
 * work queue), so a quick restart retries EBUSY for up to a second.
 */
static int bind_socket(struct xsk_port *p, const char *ifname,
		       const struct xsk_socket_config *cfg)
{
	const struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	int ret;

	for (int tries = 0; tries < BUSY_RETRIES; tries++) {
		ret = xsk_socket__create(&p->xsk, ifname, p->queue, p->umem,
					 &p->rx, &p->tx, cfg);
		if (ret != -EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	return ret;
}

/*
 * Lets one sendto() move a whole TX ring instead of 32 descriptors, which
 * saves a kick per 32 frames on a busy link.  Kernels before 6.17 lack the
 * option and keep 32: not an error.
 */
static void xsk_port_raise_tx_budget(struct xsk_port *p)
{
	int budget = RING_SIZE;

	if (setsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
		       sizeof(budget)))
		log_debug("queue %u: TX budget stays 32: %s", p->queue, strerror(errno));
}

/**
 * xsk_port_open() - create the socket and UMEM serving one queue
 * @p: zeroed port
 * @ifname: host end of the guest's link, in the current namespace
 * @queue: receive queue to bind to
 * @multibuffer: bind with XDP_USE_SG (frames larger than a chunk)
 * @cnt: the worker's counters
 *
 * Return: 0, or negative errno (logged).  On error call xsk_port_close().
 */
int xsk_port_open(struct xsk_port *p, const char *ifname, uint32_t queue,
		  bool multibuffer, struct counters *cnt)
{
	struct xsk_socket_config cfg = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP |
			      (multibuffer ? XDP_USE_SG : 0),
	};
	int ret;

	p->queue = queue;
	p->cnt = cnt;
	ret = umem_create(p);
	if (ret) {
		log_err("queue %u: cannot create the UMEM: %s%s", queue, strerror(-ret),
			ret == -ENOBUFS ? " (RLIMIT_MEMLOCK too low? run as root)" : "");
		return ret;
	}
	ret = bind_socket(p, ifname, &cfg);
	if (ret) {
		if (ret == -EBUSY)
			log_err("queue %u of %s is already served by another AF_XDP socket (another xdpslirp?)",
				queue, ifname);
		else
			log_err("queue %u: cannot bind an AF_XDP socket to %s: %s", queue,
				ifname, strerror(-ret));
		return ret;
	}
	xsk_port_raise_tx_budget(p);
	xsk_port_refill(p);
	return 0;
}

void xsk_port_close(struct xsk_port *p)
{
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, p->area_size);
	pool_fini(&p->pool);
	memset(p, 0, sizeof(*p));
}

int xsk_port_fd(const struct xsk_port *p)
{
	return xsk_socket__fd(p->xsk);
}

/* Gives a received frame's chunks back to the pool. */
void xsk_port_release(struct xsk_port *p, const struct frame *f)
{
	for (uint32_t i = 0; i < f->nseg; i++)
		pool_release(&p->pool, chunk_addr(p, f->seg[i].data), CHUNK_USER);
}

/* Length of the descriptor chain starting at @idx, 0 if not all in yet. */
static uint32_t chain_length(struct xsk_port *p, uint32_t idx, uint32_t avail)
{
	for (uint32_t n = 0; n < avail; n++)
		if (!(xsk_ring_cons__rx_desc(&p->rx, idx + n)->options & XDP_PKT_CONTD))
			return n + 1;
	return 0;
}

/*
 * Takes ownership of the @n chunks of the chain at @idx and describes them
 * in @f.  Returns false, with every chunk it took released, if the chain
 * cannot be a frame: too long, or a chunk the kernel did not own (counted
 * as an ownership violation by the pool).
 */
static bool collect_chain(struct xsk_port *p, uint32_t idx, uint32_t n,
			  struct frame *f)
{
	bool whole = n <= FRAME_MAX_SEGS;

	f->len = 0;
	f->nseg = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);

		if (!pool_move(&p->pool, d->addr, CHUNK_FILL, CHUNK_USER)) {
			whole = false;
			continue;
		}
		if (!whole) {
			pool_release(&p->pool, d->addr, CHUNK_USER);
			continue;
		}
		f->seg[f->nseg].data = xsk_umem__get_data(p->area, d->addr);
		f->seg[f->nseg++].len = d->len;
		f->len += d->len;
	}
	if (!whole)
		xsk_port_release(p, f);
	return whole;
}

/**
 * xsk_port_receive() - take received frames from the RX ring
 * @p: the port
 * @frames: where to store them
 * @max: room in @frames
 *
 * Each returned frame must go back through xsk_port_release() or
 * xsk_port_transmit().  Broken chains are dropped and counted here.
 *
 * Return: number of frames stored.
 */
unsigned xsk_port_receive(struct xsk_port *p, struct frame *frames, unsigned max)
{
	uint32_t idx, avail, used = 0;
	unsigned nframes = 0;

	avail = xsk_ring_cons__peek(&p->rx, max, &idx);
	while (used < avail && nframes < max) {
		struct frame *f = &frames[nframes];
		uint32_t n = chain_length(p, idx + used, avail - used);

		if (!n)
			break;
		if (collect_chain(p, idx + used, n, f)) {
			counter_add(&p->cnt->rx_frames, 1);
			counter_add(&p->cnt->rx_bytes, f->len);
			nframes++;
		} else {
			counter_add(&p->cnt->drop[DROP_FRAME_CHAIN], 1);
		}
		used += n;
	}
	/* An unfinished chain stays in the ring for the next call. */
	xsk_ring_cons__cancel(&p->rx, avail - used);
	xsk_ring_cons__release(&p->rx, used);
	return nframes;
}

/* Loss injection for tests: drops @per_mille of all frames sent. */
void xsk_port_set_test_loss(struct xsk_port *p, uint32_t per_mille)
{
	p->test_loss = per_mille;
	p->loss_rng = 0x9e3779b97f4a7c15ULL ^ p->queue;
}

static bool test_loss_hit(struct xsk_port *p)
{
	uint64_t x = p->loss_rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	p->loss_rng = x;
	return x % 1000 < p->test_loss;
}

/**
 * xsk_port_transmit() - queue a frame, built in received chunks, for the guest
 * @p: the port that received the chunks
 * @f: the frame; pieces of length 0 are released, not sent
 *
 * The frame is gone after the call either way: queued, or dropped and
 * counted when the TX ring is full.  Call xsk_port_flush() to send.
 */
void xsk_port_transmit(struct xsk_port *p, const struct frame *f)
{
	uint32_t idx, nsend = 0, last = 0, k = 0;

	for (uint32_t i = 0; i < f->nseg; i++)
		if (f->seg[i].len) {
			nsend++;
			last = i;
		}
	if (p->test_loss && test_loss_hit(p)) {
		xsk_port_release(p, f);
		counter_add(&p->cnt->drop[DROP_TX_TEST_LOSS], 1);
		return;
	}
	if (!nsend || xsk_ring_prod__reserve(&p->tx, nsend, &idx) != nsend) {
		xsk_port_release(p, f);
		counter_add(&p->cnt->drop[DROP_TX_RING_FULL], 1);
		return;
	}
	for (uint32_t i = 0; i < f->nseg; i++) {
		uint64_t addr = chunk_addr(p, f->seg[i].data);
		struct xdp_desc *d;

		if (!f->seg[i].len) {
			pool_release(&p->pool, addr, CHUNK_USER);
			continue;
		}
		pool_move(&p->pool, addr, CHUNK_USER, CHUNK_TX);
		d = xsk_ring_prod__tx_desc(&p->tx, idx + k++);
		d->addr = addr;
		d->len = f->seg[i].len;
		d->options = i == last ? 0 : XDP_PKT_CONTD;
	}
	xsk_ring_prod__submit(&p->tx, nsend);
	p->tx_unkicked += nsend;
	counter_add(&p->cnt->tx_frames, 1);
	counter_add(&p->cnt->tx_bytes, f->len);
}

/**
 * xsk_port_alloc() - take free chunks for a frame the engine builds
 * @p: the port
 * @f: described on success: the first piece starts NET_IP_ALIGN into its
 *     chunk (like received frames), the others at their chunk's start
 * @len: frame length, at most FRAME_MAX_SEGS chunks' worth
 *
 * Return: false, taking nothing, if too few chunks are free.
 */
bool xsk_port_alloc(struct xsk_port *p, struct frame *f, uint32_t len)
{
	uint32_t need = (len + NET_IP_ALIGN + CHUNK_SIZE - 1) / CHUNK_SIZE;
	uint32_t left = len;

	if (!need)
		need = 1;
	if (need > FRAME_MAX_SEGS || need > p->pool.nfree)
		return false;
	f->len = len;
	f->nseg = need;
	for (uint32_t i = 0; i < need; i++) {
		uint32_t off = i ? 0 : NET_IP_ALIGN, n = CHUNK_SIZE - off;
		uint64_t addr;

		pool_take(&p->pool, CHUNK_USER, &addr);
		if (n > left)
			n = left;
		f->seg[i].data = p->area + addr + off;
		f->seg[i].len = n;
		left -= n;
	}
	return true;
}

static bool out_alloc(void *port, struct frame *f, uint32_t len)
{
	return xsk_port_alloc(port, f, len);
}

static void out_send(void *port, const struct frame *f)
{
	xsk_port_transmit(port, f);
}

static void out_discard(void *port, const struct frame *f)
{
	xsk_port_release(port, f);
}

/* The port as the protocol code's frame_out. */
void xsk_port_frame_out(struct xsk_port *p, struct frame_out *out)
{
	out->port = p;
	out->alloc = out_alloc;
	out->send = out_send;
	out->discard = out_discard;
}

/**
 * xsk_port_flush() - make the kernel transmit what is queued, reclaim chunks
 * @p: the port
 *
 * In copy mode the TX ring is only serviced inside sendto().  Each call moves
 * at most a budget of descriptors (32, or the ring with
 * xsk_port_raise_tx_budget()) and fails with EAGAIN while
 * more are queued, or with EBUSY while the completion ring is full: drain the
 * completion ring and call again.  Veth transmits synchronously, so when
 * sendto() returns 0 the ring is empty.
 */
void xsk_port_flush(struct xsk_port *p)
{
	int fd = xsk_socket__fd(p->xsk);

	for (int tries = 0; p->tx_unkicked && tries < KICK_TRIES; tries++) {
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			p->tx_unkicked = 0;
			break;
		}
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
			if (!p->tx_kick_errors++)
				log_warn("queue %u: transmit failed: %s", p->queue,
					 strerror(errno));
			p->tx_unkicked = 0;
			break;
		}
		xsk_port_reclaim(p);
	}
	xsk_port_reclaim(p);
}

/* Snapshot of the chunk census and the kernel's socket statistics. */
void xsk_port_stats(struct xsk_port *p, struct xsk_port_stats *st)
{
	struct xdp_statistics ks = { 0 };
	socklen_t len = sizeof(ks);

	memset(st, 0, sizeof(*st));
	pool_census(&p->pool, st->chunks);
	st->violations = p->pool.violations;
	if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &ks, &len))
		return;
	st->kernel_rx_dropped = ks.rx_dropped;
	st->kernel_rx_ring_full = ks.rx_ring_full;
	st->kernel_fill_empty = ks.rx_fill_ring_empty_descs;
	st->kernel_tx_invalid = ks.tx_invalid_descs;
}
