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
 *
 * The socket, its UMEM and rings are set up here with the raw socket
 * options rather than libxdp's xsk_umem__create(), which cannot register
 * TX metadata (libxdp 1.3.1).  With metadata, a frame can leave with only
 * the pseudo-header sum in its TCP checksum and a request to finish it
 * (XDP_TXMD_FLAGS_CHECKSUM); on veth the guest receives it as
 * CHECKSUM_PARTIAL and verifies nothing, so neither side reads the payload
 * for a checksum (see xsk_port_queue()).  The kernel then wants
 * TX_META_LEN bytes before every transmitted piece, in its own chunk.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "xsk.h"

/*
 * The UMEM is pinned whole when it is registered, so it cannot grow on
 * demand, and it is most of what an idle xdpslirp keeps resident.  Its
 * size, the chunk size and the rings' come in two geometries:
 *
 * Large (a gateway of its own, or any MTU over SMALL_MTU_MAX): with the
 * default two queues, 16 MiB in all: 5.5 MiB a queue, about 4.5 MiB of
 * everything else.  Its chunks go to the fill ring but for tx_reserve,
 * free for frames the engine builds (and a shortage there is made good by
 * a kick, see xsk_port_alloc()): 1,344 chunks, 74 frames at MTU 65520 (18
 * chunks each after the kernel's headroom), more than one NAPI poll of
 * veth brings (64).  Measured with 4 streams against 8,192 chunks: as fast
 * up and down.  With a reserve of 256 instead of 64 the fill ring ran dry
 * more often (4-36 frames dropped a run up at MTU 65520, against 0-12) and
 * dropped the guest's ACKs (down at MTU 1500: up to 4,898 in 3 s, against
 * none).  The rings cost little (112 KiB a socket), so they are large
 * enough for the fill ring to take every chunk it may.
 *
 * Small (a daemon's guest at an MTU of SMALL_MTU_MAX or less): 128
 * chunks of 2 KiB, 256 KiB a queue, with rings to match, so that another
 * guest costs under 1 MiB.  A fill ring of 96 frames is less than a
 * guest's TCP sends at once when its window opens, and what the ring
 * cannot take is dropped, costing a retransmission timeout (which also
 * moves the flow to another queue); so the port has TCP offer no larger a
 * window than 32 frames (rx_budget in struct port), leaving the rest for
 * the guest's ACKs and other flows: the guest waits instead.  (A window
 * of half the ring still lost hundreds of frames a run with two guests
 * each sending and receiving 32 MiB, and some runs stalled for 50 s.)
 *
 * Why not one UMEM each worker shares between guests (XDP_SHARED_UMEM):
 * chunks in a socket's fill ring cannot be taken back from the kernel, so
 * what a guest must be sure of while idle costs the same shared or not,
 * and a guest that was busy and fell idle keeps what it took, leaving the
 * busy ones too little (measured: two guests uploading at once took 25 s
 * for what separate UMEMs move in 0.15 s).  Separate UMEMs isolate guests
 * exactly (scripts/bench.md).
 */
struct xsk_geometry {
	uint32_t chunk_size;
	uint32_t nchunks;
	uint32_t ring_size;
	uint32_t tx_reserve;	/* free chunks the fill ring leaves alone */
	uint32_t rx_budget;	/* struct port's, 0: no limit */
};

static const struct xsk_geometry GEOMETRY_LARGE = {
	.chunk_size = 4096, .nchunks = 1408, .ring_size = 2048, .tx_reserve = 64,
};
static const struct xsk_geometry GEOMETRY_SMALL = {
	.chunk_size = 2048, .nchunks = 128, .ring_size = 256, .tx_reserve = 32,
	.rx_budget = 32,
};

/* the largest MTU whose frames fit a small chunk after both headrooms */
#define SMALL_MTU_MAX	(2048 - XDP_PACKET_HEADROOM - NET_IP_ALIGN - ETH_HLEN)
#define KICK_TRIES	1024
/*
 * Descriptors queued before a kick even within a burst: a burst can build
 * more frames than the TX ring holds (a large guest window), and chunks
 * waiting in the ring are missing from the pool; kicking at a quarter of the
 * ring keeps both from running out (which would drop frames already
 * taken from a host socket, and force retransmissions).
 */
#define TX_KICK_AFTER(p)	((p)->geo->ring_size / 4)
#define BUSY_RETRIES	50
/*
 * Headroom before each received frame: with the kernel's 256 bytes it puts
 * the Ethernet header 2 bytes past a 4-byte boundary, so the IPv4 header
 * that follows is 4-byte aligned, as the protocol code assumes.
 */
#define NET_IP_ALIGN	2
#define TX_META_LEN	((uint32_t)sizeof(struct xsk_tx_metadata_v2))
/* where a frame built in free chunks starts: metadata room, then aligned */
#define TX_FIRST_OFF	(TX_META_LEN + NET_IP_ALIGN)

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

static struct xsk_port *xsk(struct port *p)
{
	return (struct xsk_port *)p;
}

static uint64_t chunk_addr(const struct xsk_port *p, const uint8_t *data)
{
	return (uint64_t)(data - p->area);
}

/*
 * Gives free chunks to the kernel until the fill ring is full, keeping
 * the tx_reserve for transmission: chunks the kernel filled wait in the RX ring
 * until the worker takes them, and a guest that answers every segment of a
 * download with an ACK can hold a whole RX ring of them; without the reserve
 * the fill ring would then take the chunks the segments need.
 */
static void xsk_port_refill(struct xsk_port *p)
{
	uint32_t want = xsk_prod_nb_free(&p->fill, p->geo->ring_size);
	uint32_t reserve = p->geo->tx_reserve, idx, n = 0;

	if (p->pool.nfree <= reserve)
		return;
	if (want > p->pool.nfree - reserve)
		want = p->pool.nfree - reserve;
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
	uint32_t idx, n = xsk_ring_cons__peek(&p->comp, p->geo->ring_size, &idx);

	for (uint32_t i = 0; i < n; i++)
		pool_release(&p->pool, *xsk_ring_cons__comp_addr(&p->comp, idx + i),
			     CHUNK_TX);
	xsk_ring_cons__release(&p->comp, n);
}

/*
 * Registers the UMEM on the socket, with TX metadata where the kernel has
 * it (older kernels reject the flag or the longer structure: EINVAL).
 */
static int umem_register(struct xsk_port *p, bool tx_csum)
{
	struct xdp_umem_reg_v2 mr = {
		.addr = (uint64_t)(uintptr_t)p->area, .len = p->area_size,
		.chunk_size = p->geo->chunk_size, .headroom = NET_IP_ALIGN,
	};
	socklen_t len = sizeof(struct xdp_umem_reg);

	if (tx_csum) {
		mr.flags = XDP_UMEM_TX_METADATA_LEN;
		mr.tx_metadata_len = TX_META_LEN;
		len = sizeof(mr);
	}
	if (setsockopt(p->base.fd, SOL_XDP, XDP_UMEM_REG, &mr, len))
		return -errno;
	p->tx_csum = tx_csum;
	return 0;
}

static int umem_create(struct xsk_port *p, bool tx_csum)
{
	int ret;

	p->area_size = (uint64_t)p->geo->chunk_size * p->geo->nchunks;
	p->area = mmap(NULL, p->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		return -errno;
	}
	ret = tx_csum ? umem_register(p, true) : -EINVAL;
	if (ret == -EINVAL)
		ret = umem_register(p, false);
	if (ret)
		return ret;
	return pool_init(&p->pool, p->geo->nchunks, p->geo->chunk_size);
}

/*
 * Maps one ring and points @r (an xsk_ring_prod or xsk_ring_cons: the same
 * layout) at it, as libxdp's helpers expect: a producer ring starts with
 * all of it free.
 */
static int ring_map(struct xsk_port *p, int which, uint64_t pgoff,
		    const struct xdp_ring_offset *off, size_t entry, bool producer,
		    struct xsk_ring_cons *r)
{
	uint32_t size = p->geo->ring_size;
	uint8_t *m;

	p->ring_len[which] = off->desc + size * entry;
	m = mmap(NULL, p->ring_len[which], PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 p->base.fd, (off_t)pgoff);
	if (m == MAP_FAILED)
		return -errno;
	p->ring_map[which] = m;
	r->mask = size - 1;
	r->size = size;
	r->producer = (uint32_t *)(m + off->producer);
	r->consumer = (uint32_t *)(m + off->consumer);
	r->ring = m + off->desc;
	r->flags = (uint32_t *)(m + off->flags);
	r->cached_prod = *r->producer;
	r->cached_cons = *r->consumer + (producer ? size : 0);
	return 0;
}

/* Sizes and maps the four rings. */
static int rings_create(struct xsk_port *p)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	int size = (int)p->geo->ring_size, ret;

	int fd = p->base.fd;

	if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_XDP, XDP_TX_RING, &size, sizeof(size)) ||
	    getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len))
		return -errno;
	ret = ring_map(p, XSK_RING_FILL, XDP_UMEM_PGOFF_FILL_RING, &off.fr, sizeof(uint64_t),
		       true, (struct xsk_ring_cons *)&p->fill);
	if (!ret)
		ret = ring_map(p, XSK_RING_COMP, XDP_UMEM_PGOFF_COMPLETION_RING, &off.cr,
			       sizeof(uint64_t), false, &p->comp);
	if (!ret)
		ret = ring_map(p, XSK_RING_RX, XDP_PGOFF_RX_RING, &off.rx,
			       sizeof(struct xdp_desc), false, &p->rx);
	if (!ret)
		ret = ring_map(p, XSK_RING_TX, XDP_PGOFF_TX_RING, &off.tx,
			       sizeof(struct xdp_desc), true, (struct xsk_ring_cons *)&p->tx);
	return ret;
}

/*
 * Binds the socket to its queue.  A queue stays busy for a moment after the
 * socket of a killed process closes (the kernel releases the binding from a
 * work queue), so a quick restart retries EBUSY for up to a second.
 */
static int bind_socket(struct xsk_port *p, int ifindex, bool multibuffer)
{
	const struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP | (multibuffer ? XDP_USE_SG : 0),
		.sxdp_ifindex = (uint32_t)ifindex,
		.sxdp_queue_id = p->base.queue,
	};
	int ret = 0;

	for (int tries = 0; tries < BUSY_RETRIES; tries++) {
		ret = bind(p->base.fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) ? -errno : 0;
		if (ret != -EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	return ret;
}

static const struct port_ops xsk_ops;

/**
 * xsk_port_open() - create the socket and UMEM serving one queue
 * @p: zeroed port
 * @l: the guest's link
 * @queue: receive queue to bind to
 * @cnt: the guest's counters in the worker
 *
 * Return: 0, or negative errno (logged).  On error call the port's close().
 */
int xsk_port_open(struct xsk_port *p, const struct xsk_link *l, uint32_t queue,
		  struct counters *cnt)
{
	int ret;

	p->geo = l->small && l->mtu <= SMALL_MTU_MAX ? &GEOMETRY_SMALL : &GEOMETRY_LARGE;
	p->base = (struct port){ .ops = &xsk_ops, .kind = "AF_XDP", .queue = queue, .cnt = cnt,
				 .rx_budget = p->geo->rx_budget };
	p->base.fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->base.fd < 0) {
		log_err("queue %u: cannot create an AF_XDP socket: %s", queue, strerror(errno));
		return -errno;
	}
	p->open = true;
	ret = umem_create(p, l->tx_csum);
	if (!ret)
		ret = rings_create(p);
	if (ret) {
		log_err("queue %u: cannot create the UMEM: %s%s", queue, strerror(-ret),
			ret == -ENOBUFS ? " (RLIMIT_MEMLOCK too low? run as root)" : "");
		return ret;
	}
	ret = bind_socket(p, l->ifindex, l->multibuffer);
	if (ret) {
		if (ret == -EBUSY)
			log_err("queue %u of %s is already served by another AF_XDP socket (another xdpslirp?)",
				queue, l->ifname);
		else
			log_err("queue %u: cannot bind an AF_XDP socket to %s: %s", queue,
				l->ifname, strerror(-ret));
		return ret;
	}
	p->base.tx_offload = p->tx_csum;
	xsk_port_refill(p);
	return 0;
}

static void xsk_port_close(struct port *port)
{
	struct xsk_port *p = xsk(port);

	for (int i = 0; i < XSK_RINGS; i++)
		if (p->ring_map[i])
			munmap(p->ring_map[i], p->ring_len[i]);
	if (p->open)
		close(p->base.fd);
	if (p->area)
		munmap(p->area, p->area_size);
	pool_fini(&p->pool);
	memset(p, 0, sizeof(*p));
}

/* Gives a received or allocated frame's chunks back to the pool. */
static void xsk_port_release(struct port *port, const struct frame *f)
{
	struct xsk_port *p = xsk(port);

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
	f->flags = 0;
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
		xsk_port_release(&p->base, f);
	return whole;
}


/**
 * xsk_port_receive() - take received frames from the RX ring
 * @port: the port
 * @frames: where to store them
 * @max: room in @frames
 *
 * Each returned frame must go back through the port's release() or
 * transmit().  Broken chains are dropped and counted here.
 *
 * Return: number of frames stored.
 */
static unsigned xsk_port_receive(struct port *port, struct frame *frames, unsigned max)
{
	struct xsk_port *p = xsk(port);
	uint32_t idx, avail, used = 0;
	unsigned nframes = 0;

	avail = xsk_ring_cons__peek(&p->rx, max, &idx);
	while (used < avail && nframes < max) {
		struct frame *f = &frames[nframes];
		uint32_t n = chain_length(p, idx + used, avail - used);

		if (!n)
			break;
		if (collect_chain(p, idx + used, n, f)) {
			counter_add(&port->cnt->rx_frames, 1);
			counter_add(&port->cnt->rx_bytes, f->len);
			nframes++;
		} else {
			counter_add(&port->cnt->drop[DROP_FRAME_CHAIN], 1);
		}
		used += n;
	}
	/* An unfinished chain stays in the ring for the next call. */
	xsk_ring_cons__cancel(&p->rx, avail - used);
	xsk_ring_cons__release(&p->rx, used);
	return nframes;
}

/* Asks the kernel to complete the checksum of the frame starting at @data. */
static void tx_csum_request(uint8_t *data, const struct tx_offload *o)
{
	struct xsk_tx_metadata_v2 meta = {
		.flags = XDP_TXMD_FLAGS_CHECKSUM,
		.csum_start = o->csum_start, .csum_offset = o->csum_offset,
	};

	memcpy(data - TX_META_LEN, &meta, sizeof(meta));	/* may be unaligned */
}

static void xsk_port_flush(struct port *port);

/**
 * xsk_port_transmit() - queue a frame for the guest
 * @port: the port whose chunks hold the frame (received or allocated)
 * @f: the frame; pieces of length 0 are released, not sent
 * @o: with @o, the first descriptor asks the kernel to complete the
 *     transport checksum (TX metadata: only for ports with tx_csum; no
 *     segmentation, gso_max is 0)
 *
 * The frame is gone after the call either way: queued, or dropped and
 * counted when the TX ring is full.  The port's flush() sends.
 */
static void xsk_port_transmit(struct port *port, const struct frame *f,
			      const struct tx_offload *o)
{
	struct xsk_port *p = xsk(port);
	uint32_t idx, nsend = 0, last = 0, k = 0;

	for (uint32_t i = 0; i < f->nseg; i++)
		if (f->seg[i].len) {
			nsend++;
			last = i;
		}
	if (!nsend || xsk_ring_prod__reserve(&p->tx, nsend, &idx) != nsend) {
		xsk_port_release(port, f);
		counter_add(&port->cnt->drop[DROP_TX_RING_FULL], 1);
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
		d = xsk_ring_prod__tx_desc(&p->tx, idx + k);
		d->addr = addr;
		d->len = f->seg[i].len;
		d->options = i == last ? 0 : XDP_PKT_CONTD;
		if (!k++ && o) {
			tx_csum_request(f->seg[i].data, o);
			d->options |= XDP_TX_METADATA;
		}
	}
	xsk_ring_prod__submit(&p->tx, nsend);
	p->tx_unkicked += nsend;
	counter_add(&port->cnt->tx_frames, 1);
	counter_add(&port->cnt->tx_bytes, f->len);
	if (p->tx_unkicked >= TX_KICK_AFTER(p))
		xsk_port_flush(port);
}

/**
 * xsk_port_alloc() - take free chunks for a frame the engine builds
 * @port: the port
 * @f: described on success: the first piece starts TX_FIRST_OFF into its
 *     chunk (metadata room, then aligned like received frames), the others
 *     TX_META_LEN into theirs
 * @len: frame length, at most FRAME_MAX_SEGS chunks' worth
 *
 * Return: false, taking nothing, if too few chunks are free even after a
 * kick (which brings back the chunks of sent frames).
 */
static bool xsk_port_alloc(struct port *port, struct frame *f, uint32_t len)
{
	struct xsk_port *p = xsk(port);
	uint32_t chunk = p->geo->chunk_size, room = chunk - TX_META_LEN;
	uint32_t need = (len + NET_IP_ALIGN + room - 1) / room;
	uint32_t left = len;

	if (!need)
		need = 1;
	if (need > FRAME_MAX_SEGS)
		return false;
	/* frames sent but not yet kicked give their chunks back with a kick */
	if (need > p->pool.nfree && p->tx_unkicked)
		xsk_port_flush(port);
	if (need > p->pool.nfree)
		return false;
	f->len = len;
	f->nseg = need;
	f->flags = 0;
	for (uint32_t i = 0; i < need; i++) {
		uint32_t off = i ? TX_META_LEN : TX_FIRST_OFF, n = chunk - off;
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

/**
 * xsk_port_flush() - make the kernel transmit what is queued, reclaim
 *		      chunks, refill the fill ring
 * @port: the port
 *
 * In copy mode the TX ring is only serviced inside sendto().  Each call moves
 * at most 32 descriptors and fails with EAGAIN while
 * more are queued, or with EBUSY while the completion ring is full: drain the
 * completion ring and call again.  Veth transmits synchronously, so when
 * sendto() returns 0 the ring is empty.
 */
static void xsk_port_flush(struct port *port)
{
	struct xsk_port *p = xsk(port);
	int fd = port->fd;

	for (int tries = 0; p->tx_unkicked && tries < KICK_TRIES; tries++) {
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			p->tx_unkicked = 0;
			break;
		}
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
			if (!p->tx_kick_errors++)
				log_warn("queue %u: transmit failed: %s", port->queue,
					 strerror(errno));
			p->tx_unkicked = 0;
			break;
		}
		xsk_port_reclaim(p);
	}
	xsk_port_reclaim(p);
	xsk_port_refill(p);
}

/*
 * After the workers stopped: did every chunk come back to its owner?  Logs
 * the chunk census and the kernel's socket statistics.
 */
static int xsk_port_audit(struct port *port)
{
	struct xsk_port *p = xsk(port);
	struct xdp_statistics ks = { 0 };
	socklen_t len = sizeof(ks);
	uint32_t chunks[CHUNK_STATES];

	if (!p->open)
		return 0;
	pool_census(&p->pool, chunks);
	getsockopt(port->fd, SOL_XDP, XDP_STATISTICS, &ks, &len);
	fprintf(stderr, "xdpslirp: queue %u: frames: %u free, %u fill, %u tx, %u leaked, %llu ownership violations; kernel: rx_dropped %llu, rx_ring_full %llu, fill_empty %llu, tx_invalid %llu\n",
		port->queue, chunks[CHUNK_FREE], chunks[CHUNK_FILL], chunks[CHUNK_TX],
		chunks[CHUNK_USER], (unsigned long long)p->pool.violations,
		(unsigned long long)ks.rx_dropped, (unsigned long long)ks.rx_ring_full,
		(unsigned long long)ks.rx_fill_ring_empty_descs,
		(unsigned long long)ks.tx_invalid_descs);
	return chunks[CHUNK_USER] || p->pool.violations ? -EFAULT : 0;
}

static const struct port_ops xsk_ops = {
	.receive = xsk_port_receive,
	.release = xsk_port_release,
	.transmit = xsk_port_transmit,
	.alloc = xsk_port_alloc,
	.flush = xsk_port_flush,
	.audit = xsk_port_audit,
	.close = xsk_port_close,
};
