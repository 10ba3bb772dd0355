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
 * Memory: a pool of buffers of TAP_BUF_SIZE bytes (bufpool.c).  A frame
 * is read straight into a buffer, and a reply is built in place and
 * written from there: payload is never copied in user space.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "tap.h"
#include "vnet.h"

#define TAP_BUF_SHIFT	17
#define TAP_BUF_SIZE	(1u << TAP_BUF_SHIFT)	/* > 64 KiB frame + header */
#define TAP_NBUFS	256	/* a burst held, plus frames being built */
#define TAP_FRAME_MAX	BUF_FRAME_MAX(TAP_BUF_SIZE)
/* Longest TCP super-frame we write: IP's 16-bit length, with room to spare */
#define TAP_GSO_MAX	(ETH_HLEN + 65535u - 64u)

static struct tap_port *tap(struct port *p)
{
	return (struct tap_port *)p;
}

static void tap_release(struct port *port, const struct frame *f)
{
	bufpool_release(&tap(port)->bufs, f->seg[0].data);
}

/* Reads one frame into @f; 1 if read, 0 if none waits, -1 if dropped. */
static int tap_read_one(struct tap_port *t, struct frame *f)
{
	struct virtio_net_hdr h;
	struct iovec iov[2];
	uint8_t *data = bufpool_take(&t->bufs);
	ssize_t n;

	if (!data)
		return 0;
	iov[0] = (struct iovec){ .iov_base = &h, .iov_len = VNET_HDR_LEN };
	iov[1] = (struct iovec){ .iov_base = data, .iov_len = TAP_FRAME_MAX };
	n = readv(t->base.fd, iov, 2);
	if (n <= (ssize_t)VNET_HDR_LEN) {
		bufpool_release(&t->bufs, data);
		if (n < 0 && errno != EAGAIN && errno != EINTR && !t->read_errors++)
			log_warn("queue %u: reading the tap: %s", t->base.queue, strerror(errno));
		return n < 0 ? 0 : -1;
	}
	*f = (struct frame){ .len = (uint32_t)n - VNET_HDR_LEN, .nseg = 1 };
	f->seg[0] = (struct frame_seg){ .data = data, .len = f->len };
	f->gso_size = h.gso_size;
	if (!vnet_rx_check(&h, data, f->len, t->uso, &f->flags)) {
		bufpool_release(&t->bufs, data);
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
	return bufpool_frame(&tap(port)->bufs, f, len);
}

/* Frames are written as they are sent: nothing waits for a flush. */
static void tap_flush(struct port *port)
{
	(void)port;
}

static int tap_audit(struct port *port)
{
	return bufpool_audit(&tap(port)->bufs, "tap", port->queue);
}

static void tap_close(struct port *port)
{
	struct tap_port *t = tap(port);

	bufpool_fini(&t->bufs);
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
 * @offloads: the TUN_F_* offloads the tap took (checksum, TSO4, TSO6, USO), or 0
 * @cnt: the worker's counters
 *
 * Return: 0, or negative errno (logged).  On error call the port's close().
 */
int tap_port_open(struct tap_port *t, int fd, uint32_t queue, unsigned offloads,
		  struct counters *cnt)
{
	bool offload = offloads != 0;

	t->base = (struct port){ .ops = &tap_ops, .kind = "tap", .fd = fd, .queue = queue,
				 .cnt = cnt, .tx_offload = offload,
				 .gso_max = offload ? TAP_GSO_MAX : 0,
				 .offloads = !offload ? "none" : offloads & TUN_F_USO4 ?
					     "csum tso4 tso6 uso4 uso6" : "csum tso4 tso6" };
	t->uso = offloads & TUN_F_USO4;
	return bufpool_init(&t->bufs, TAP_NBUFS, TAP_BUF_SIZE);
}
