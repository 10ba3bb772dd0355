// SPDX-License-Identifier: MIT
/*
 * stream.c - the stream port: a VM's frames over a Unix stream socket, as
 * QEMU's "-netdev stream,addr.type=unix,addr.path=PATH" exchanges them
 * (passt serves the same framing).
 *
 * Theory of operation: we listen on --socket PATH; QEMU connects and each
 * frame, both ways, is a 32-bit big-endian length then that many bytes of
 * Ethernet frame.  One guest at a time: when it disconnects, the next
 * connection is accepted.  A stream is one queue, so one worker serves it.
 *
 * Receiving: recv() fills a staging buffer with as many frames as the
 * socket holds (one system call for many frames); each complete frame is
 * copied once into a buffer of our pool (bufpool.c, where the IP header
 * is aligned) and handed up like any port's.  A length beyond the largest
 * frame means the stream cannot be trusted to stay framed: it is counted
 * (stream_length) and the connection closed.  Shorter frames than an
 * Ethernet header pass up and are dropped, counted, by eth.c.
 *
 * Sending: each frame is copied after its length into a send buffer,
 * written out at the end of the round (or sooner if it fills); a partial
 * write keeps the rest, and the connection is then watched for room.  A
 * frame that finds no room is dropped (tx_write), as a full NIC ring
 * would drop it.  No offloads: frames go out complete.
 *
 * The port's fd, which the worker polls, is an epoll set of its own
 * holding the listening socket until a guest connects, then the
 * connection (for reading, and for writing while frames wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"

#define STREAM_HDR	4u
#define STREAM_RX_SIZE	(256u << 10)	/* >= 2 frames: one fits after any compaction */
#define STREAM_TX_SIZE	(4u << 20)
#define STREAM_BUF_SIZE	(128u << 10)	/* a pool buffer: > STREAM_FRAME_MAX + 2 */
#define STREAM_NBUFS	128

/**
 * stream_rx_next() - the next complete frame in @rx
 * @rx: staged bytes
 * @frame: set to the frame's first byte (valid until @rx is next changed)
 * @len: set to its length
 *
 * A frame returned is consumed.
 *
 * Return: 1 with a frame, 0 if more bytes are needed, -EMSGSIZE if the
 * next length is beyond STREAM_FRAME_MAX (the stream is then unusable).
 */
int stream_rx_next(struct stream_buf *rx, const uint8_t **frame, uint32_t *len)
{
	uint32_t have = rx->tail - rx->head, n;
	const uint8_t *p = rx->buf + rx->head;

	if (have < STREAM_HDR)
		return 0;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (n > STREAM_FRAME_MAX)
		return -EMSGSIZE;
	if (have - STREAM_HDR < n)
		return 0;
	*frame = p + STREAM_HDR;
	*len = n;
	rx->head += STREAM_HDR + n;
	return 1;
}

/**
 * stream_rx_room() - where the next bytes read go
 * @rx: staged bytes, moved to the buffer's start first if that makes room
 * @room: set to how many bytes fit there (never 0: a whole frame fits)
 *
 * Return: the place to read into.
 */
uint8_t *stream_rx_room(struct stream_buf *rx, uint32_t *room)
{
	if (rx->head && rx->size - rx->tail < STREAM_HDR + STREAM_FRAME_MAX) {
		memmove(rx->buf, rx->buf + rx->head, rx->tail - rx->head);
		rx->tail -= rx->head;
		rx->head = 0;
	}
	*room = rx->size - rx->tail;
	return rx->buf + rx->tail;
}

/* Queues @f after its length; false if it does not fit. */
bool stream_tx_queue(struct stream_buf *tx, const struct frame *f)
{
	uint8_t *p;

	if (tx->head == tx->tail)
		tx->head = tx->tail = 0;
	if (tx->size - tx->tail < STREAM_HDR + f->len)
		return false;
	p = tx->buf + tx->tail;
	p[0] = (uint8_t)(f->len >> 24);
	p[1] = (uint8_t)(f->len >> 16);
	p[2] = (uint8_t)(f->len >> 8);
	p[3] = (uint8_t)f->len;
	p += STREAM_HDR;
	for (uint32_t i = 0; i < f->nseg; i++) {
		memcpy(p, f->seg[i].data, f->seg[i].len);
		p += f->seg[i].len;
	}
	tx->tail += STREAM_HDR + f->len;
	return true;
}

static struct stream_port *stream(struct port *p)
{
	return (struct stream_port *)p;
}

static void stream_release(struct port *port, const struct frame *f)
{
	bufpool_release(&stream(port)->bufs, f->seg[0].data);
}

static void watch(struct stream_port *s, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (epoll_ctl(s->base.fd, op, fd, &ev))
		log_warn("stream: epoll_ctl: %s", strerror(errno));
}

/* The guest is gone (or broke the framing): wait for the next one. */
static void stream_disconnect(struct stream_port *s, const char *why)
{
	log_info("stream: %s; waiting for the next guest", why);
	close(s->conn_fd);
	s->conn_fd = -1;
	s->rx.head = s->rx.tail = s->tx.head = s->tx.tail = 0;
	s->tx_waiting = false;
	watch(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN);
}

static bool stream_accept(struct stream_port *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return false;
	s->conn_fd = fd;
	watch(s, EPOLL_CTL_DEL, s->listen_fd, 0);
	watch(s, EPOLL_CTL_ADD, fd, EPOLLIN);
	log_info("stream: a guest connected");
	return true;
}

/* Reads what the socket has; false once the connection is gone. */
static bool stream_fill(struct stream_port *s)
{
	uint32_t room;
	uint8_t *to = stream_rx_room(&s->rx, &room);
	ssize_t n = recv(s->conn_fd, to, room, MSG_DONTWAIT);

	if (n > 0) {
		s->rx.tail += (uint32_t)n;
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	stream_disconnect(s, n ? strerror(errno) : "the guest disconnected");
	return false;
}

static unsigned stream_receive(struct port *port, struct frame *frames, unsigned max)
{
	struct stream_port *s = stream(port);
	unsigned n = 0;
	bool filled = false;

	if (s->conn_fd < 0 && !stream_accept(s))
		return 0;
	while (n < max) {
		const uint8_t *data;
		uint32_t len;
		int got = stream_rx_next(&s->rx, &data, &len);

		if (got < 0) {
			counter_add(&port->cnt->drop[DROP_STREAM_LENGTH], 1);
			stream_disconnect(s, "a frame length beyond any frame's");
			break;
		}
		if (!got) {	/* read once per call: then the next round */
			if (filled || !stream_fill(s))
				break;
			filled = true;
			continue;
		}
		if (!bufpool_frame(&s->bufs, &frames[n], len)) {
			s->rx.head -= STREAM_HDR + len;	/* stays staged */
			break;
		}
		memcpy(frames[n].seg[0].data, data, len);
		counter_add(&port->cnt->rx_frames, 1);
		counter_add(&port->cnt->rx_bytes, len);
		n++;
	}
	return n;
}

/* Writes out what is queued; watches for room if some must wait. */
static void stream_flush(struct port *port)
{
	struct stream_port *s = stream(port);
	bool waiting;

	if (s->conn_fd < 0)
		return;
	while (s->tx.head < s->tx.tail) {
		ssize_t n = send(s->conn_fd, s->tx.buf + s->tx.head, s->tx.tail - s->tx.head,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* full (EAGAIN), or gone: receive() sees that */
		s->tx.head += (uint32_t)n;
	}
	waiting = s->tx.head < s->tx.tail;
	if (waiting != s->tx_waiting)
		watch(s, EPOLL_CTL_MOD, s->conn_fd, EPOLLIN | (waiting ? EPOLLOUT : 0));
	s->tx_waiting = waiting;
}

static void stream_transmit(struct port *port, const struct frame *f, const struct tx_offload *o)
{
	struct stream_port *s = stream(port);
	bool queued;

	(void)o;	/* never set: the port offers no offloads */
	queued = s->conn_fd >= 0 && stream_tx_queue(&s->tx, f);
	if (!queued && s->conn_fd >= 0) {	/* full: make room, once */
		stream_flush(port);
		queued = stream_tx_queue(&s->tx, f);
	}
	if (queued) {
		counter_add(&port->cnt->tx_frames, 1);
		counter_add(&port->cnt->tx_bytes, f->len);
	} else {
		counter_add(&port->cnt->drop[DROP_TX_WRITE], 1);
	}
	stream_release(port, f);
}

static bool stream_alloc(struct port *port, struct frame *f, uint32_t len)
{
	return len <= STREAM_FRAME_MAX && bufpool_frame(&stream(port)->bufs, f, len);
}

static int stream_audit(struct port *port)
{
	return bufpool_audit(&stream(port)->bufs, "stream", port->queue);
}

static void stream_close(struct port *port)
{
	struct stream_port *s = stream(port);

	if (s->conn_fd >= 0)
		close(s->conn_fd);
	if (s->base.fd >= 0)
		close(s->base.fd);
	bufpool_fini(&s->bufs);
	free(s->rx.buf);
	free(s->tx.buf);
	memset(s, 0, sizeof(*s));
}

static const struct port_ops stream_ops = {
	.receive = stream_receive,
	.release = stream_release,
	.transmit = stream_transmit,
	.alloc = stream_alloc,
	.flush = stream_flush,
	.audit = stream_audit,
	.close = stream_close,
};

/**
 * stream_port_open() - serve the guests that connect to @listen_fd
 * @s: zeroed port
 * @listen_fd: a listening Unix stream socket (stream_listen()); stays the caller's
 * @cnt: the worker's counters
 *
 * Return: 0, or negative errno (logged).  On error call the port's close().
 */
int stream_port_open(struct stream_port *s, int listen_fd, struct counters *cnt)
{
	s->base = (struct port){ .ops = &stream_ops, .kind = "stream",
				 .fd = epoll_create1(EPOLL_CLOEXEC), .cnt = cnt };
	s->listen_fd = listen_fd;
	s->conn_fd = -1;
	s->rx = (struct stream_buf){ .buf = malloc(STREAM_RX_SIZE), .size = STREAM_RX_SIZE };
	s->tx = (struct stream_buf){ .buf = malloc(STREAM_TX_SIZE), .size = STREAM_TX_SIZE };
	if (s->base.fd < 0 || !s->rx.buf || !s->tx.buf) {
		log_err("stream: no memory for its buffers");
		return -ENOMEM;
	}
	watch(s, EPOLL_CTL_ADD, listen_fd, EPOLLIN);
	return bufpool_init(&s->bufs, STREAM_NBUFS, STREAM_BUF_SIZE);
}

/**
 * stream_listen() - the socket QEMU connects to, at @path
 * @path: --socket; a stale socket file there is replaced
 *
 * Return: the listening fd (non-blocking), or negative errno (logged).
 */
int stream_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("--socket %s: path too long (at most %zu bytes)", path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		ret = -errno;
		log_err("--socket %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}
