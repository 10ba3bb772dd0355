// SPDX-License-Identifier: MIT
/*
 * tap.c - the tap port: one queue of a tap device whose fd the engine holds.
 *
 * Theory of operation: the tap was opened with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR (and IFF_MULTI_QUEUE, one fd per worker) inside the guest's
 * namespace (tapdev.c); no BPF and no privilege beyond owning that
 * namespace is needed.  Each read() returns one frame the guest sent,
 * after its virtio-net header (vnet.c), and each writev() gives one frame
 * to the guest.  With offloads negotiated the guest's kernel hands us TCP
 * super-frames of up to 64 KiB even at MTU 1500, and takes ours the same
 * way (gso_max), so the per-frame cost of a system call is paid per 64 KiB.
 * A tap has no batched read or write; frames waiting are read until the
 * burst is full or the queue is empty.
 *
 * Memory: a pool of buffers of TAP_BUF_SIZE bytes (struct chunk_pool, so
 * every hand-over is checked and a leak shows at exit).  A frame is read
 * straight into a buffer, 2 bytes in (the IPv4 header 4-byte aligned),
 * and a reply is built in place and written from there: payload is never
 * copied in user space.  Buffers are mapped without being touched; only
 * the pages frames use become memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "vnet.h"

#define TAP_BUF_SHIFT	17
#define TAP_BUF_SIZE	(1u << TAP_BUF_SHIFT)	/* > 64 KiB frame + header */
#define TAP_NBUFS	256	/* a burst held, plus frames being built */
#define NET_IP_ALIGN	2
#define TAP_FRAME_MAX	(TAP_BUF_SIZE - NET_IP_ALIGN)
/* Longest TCP super-frame we write: IP's 16-bit length, with room to spare */
#define TAP_GSO_MAX	(ETH_HLEN + 65535u - 64u)

static struct tap_port *tap(struct port *p)
{
	return (struct tap_port *)p;
}

static uint8_t *buf_data(const struct tap_port *t, uint64_t addr)
{
	return t->area + addr + NET_IP_ALIGN;
}

static uint64_t buf_addr(const struct tap_port *t, const uint8_t *data)
{
	return (uint64_t)(data - t->area) & ~(uint64_t)(TAP_BUF_SIZE - 1);
}

static void tap_release(struct port *port, const struct frame *f)
{
	struct tap_port *t = tap(port);

	pool_release(&t->pool, buf_addr(t, f->seg[0].data), CHUNK_USER);
}

/* Reads one frame into @f; 1 if read, 0 if none waits, -1 if dropped. */
static int tap_read_one(struct tap_port *t, struct frame *f)
{
	struct virtio_net_hdr h;
	struct iovec iov[2];
	uint64_t addr;
	ssize_t n;
	uint8_t *data;

	if (!pool_take(&t->pool, CHUNK_USER, &addr))
		return 0;
	data = buf_data(t, addr);
	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = VNET_HDR_LEN };
	iov[1] = (struct iovec){ .iov_base = data, .iov_len = TAP_FRAME_MAX };
	n = readv(t->base.fd, iov, 2);
	if (n <= (ssize_t)VNET_HDR_LEN) {
		pool_release(&t->pool, addr, CHUNK_USER);
		if (n < 0 && errno != EAGAIN && errno != EINTR && !t->read_errors++)
			log_warn("queue %u: reading the tap: %s", t->base.queue, strerror(errno));
		return n < 0 ? 0 : -1;
	}
	*f = (struct frame){ .len = (uint32_t)n - VNET_HDR_LEN, .nseg = 1 };
	f->seg[0] = (struct frame_seg){ .data = data, .len = f->len };
	if (!vnet_rx_check(&h, data, f->len, &f->flags)) {
		pool_release(&t->pool, addr, CHUNK_USER);
		counter_add(&t->base.cnt->drop[DROP_VNET_HDR], 1);
		return -1;
	}
	counter_add(&t->base.cnt->rx_frames, 1);
	counter_add(&t->base.cnt->rx_bytes, f->len);
	return 1;
}

static unsigned tap_receive(struct port *port, struct frame *frames, unsigned max)
{
	struct tap_port *t = tap(port);
	unsigned n = 0;

	while (n < max) {
		int got = tap_read_one(t, &frames[n]);

		if (!got)
			break;
		n += got > 0;
	}
	return n;
}

static void tap_transmit(struct port *port, const struct frame *f, const struct tx_offload *o)
{
	struct iovec iov[1 + FRAME_MAX_SEGS];
	struct virtio_net_hdr h;
	unsigned niov = 1;

	if (port_test_loss_hit(port)) {
		counter_add(&port->cnt->drop[DROP_TX_TEST_LOSS], 1);
		tap_release(port, f);
		return;
	}
	vnet_tx_header(&h, f->seg[0].data, o);
	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = VNET_HDR_LEN };
	for (uint32_t i = 0; i < f->nseg; i++)
		if (f->seg[i].len)
			iov[niov++] = (struct iovec){ .iov_base = f->seg[i].data,
						      .iov_len = f->seg[i].len };
	if (writev(port->fd, iov, (int)niov) < 0) {
		counter_add(&port->cnt->drop[DROP_TX_WRITE], 1);
	} else {
		counter_add(&port->cnt->tx_frames, 1);
		counter_add(&port->cnt->tx_bytes, f->len);
	}
	tap_release(port, f);
}

static bool tap_alloc(struct port *port, struct frame *f, uint32_t len)
{
	struct tap_port *t = tap(port);
	uint64_t addr;

	if (len > TAP_FRAME_MAX || !pool_take(&t->pool, CHUNK_USER, &addr))
		return false;
	*f = (struct frame){ .len = len, .nseg = 1 };
	f->seg[0] = (struct frame_seg){ .data = buf_data(t, addr), .len = len };
	return true;
}

/* Frames are written as they are sent: nothing waits for a flush. */
static void tap_flush(struct port *port)
{
	(void)port;
}

static int tap_audit(struct port *port)
{
	struct tap_port *t = tap(port);
	uint32_t bufs[CHUNK_STATES];

	pool_census(&t->pool, bufs);
	fprintf(stderr, "xdpslirp: queue %u: tap buffers: %u free, %u leaked, %llu ownership violations\n",
		port->queue, bufs[CHUNK_FREE], bufs[CHUNK_USER],
		(unsigned long long)t->pool.violations);
	return bufs[CHUNK_USER] || t->pool.violations ? -EFAULT : 0;
}

static void tap_close(struct port *port)
{
	struct tap_port *t = tap(port);

	if (t->area)
		munmap(t->area, t->area_size);
	pool_fini(&t->pool);
	memset(t, 0, sizeof(*t));
}

static const struct port_ops tap_ops = {
	.receive = tap_receive,
	.release = tap_release,
	.transmit = tap_transmit,
	.alloc = tap_alloc,
	.flush = tap_flush,
	.audit = tap_audit,
	.close = tap_close,
};

/**
 * tap_port_open() - serve one queue of a tap
 * @t: zeroed port
 * @fd: the queue's fd (IFF_VNET_HDR, non-blocking); it stays the caller's
 * @queue: the worker's index
 * @offload: the tap took TUNSETOFFLOAD (checksum, TSO4, TSO6)
 * @cnt: the worker's counters
 *
 * Return: 0, or negative errno (logged).  On error call the port's close().
 */
int tap_port_open(struct tap_port *t, int fd, uint32_t queue, bool offload,
		  struct counters *cnt)
{
	t->base = (struct port){ .ops = &tap_ops, .kind = "tap", .fd = fd, .queue = queue,
				 .cnt = cnt, .tx_offload = offload,
				 .gso_max = offload ? TAP_GSO_MAX : 0 };
	t->area_size = (size_t)TAP_BUF_SIZE * TAP_NBUFS;
	t->area = mmap(NULL, t->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->area == MAP_FAILED) {
		t->area = NULL;
		log_err("queue %u: no memory for tap buffers", queue);
		return -ENOMEM;
	}
	return pool_init(&t->pool, TAP_NBUFS, TAP_BUF_SIZE);
}
