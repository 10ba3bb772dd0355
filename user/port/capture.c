// SPDX-License-Identifier: MIT
/*
 * capture.c - --pcap: every frame between the guest and the engine, both
 * ways, in a pcap file with nanosecond timestamps.
 *
 * Theory of operation: the capture sits in the port interface (port.h):
 * each frame a port receives, and each it transmits, is copied as a pcap
 * record into its worker's current buffer; no system call per frame.  A
 * worker has a ring of CAPTURE_NBUF buffers of CAPTURE_BUF bytes.  When the
 * current one is full, or the worker is about to sleep, it hands that
 * buffer to the main thread (a release store of ->full, then one eventfd
 * write) and fills the next; if that one is still being written, frames
 * are counted as dropped instead of waiting.  The main thread writes a
 * worker's buffers in ring order, oldest first.  The main thread writes handed-over buffers
 * to the file (pcap_drain()) and gives them back.
 *
 * Records are what crossed the port: a transmitted frame whose checksum the
 * port (or the guest's kernel) would finish, and a received one the guest
 * left to offload (finish_rx_csum()), get their checksum finished in the
 * copy, so tools verify them; segmentation-offload super-frames appear as one record, as
 * tcpdump shows them on a tap.  Each worker's records are in order; two
 * workers' may interleave slightly out of time order.  Frames the XDP
 * program drops (egress policy) never reach a port and are not captured.
 *
 * --pcap-size: before a write would pass the limit, the oldest half of the
 * records is dropped: the newer half moves to the front of the file (by
 * whole buffers, which start at record boundaries) and the file is cut.
 * The file is always a valid capture of the latest traffic, at a path that
 * stays the same (the sandbox could not open a rotated one).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "csum.h"
#include "log.h"

#define PCAP_MAGIC_NS	0xa1b23c4du	/* nanosecond timestamps */
#define PCAP_SNAPLEN	262144u
#define PCAP_LINK_ETH	1u
#define PCAP_HDR	24u
#define PCAP_REC_HDR	16u

struct pcap_rec_hdr {
	uint32_t sec, nsec, incl_len, orig_len;
};

/* Finishes a transport checksum that holds the pseudo-header sum only:
 * the @len bytes from @l4 then sum to it complemented.
 */
static void finish_csum(uint8_t *l4, uint32_t len, uint32_t off)
{
	uint16_t sum;

	if (off + 2 > len)
		return;
	sum = csum_fold(csum_partial(l4, len, 0));
	if (!sum && off == 6)	/* UDP sends a zero sum as all ones */
		sum = 0xffff;
	memcpy(l4 + off, &sum, 2);
}

/*
 * A received TCP or UDP segment whose checksum field holds just the
 * pseudo-header sum, as a guest's kernel leaves it for offload (a veth
 * guest's, unmarked; a tap guest's, FRAME_CSUM_PARTIAL): finished in the
 * copy.  A field holding anything else, right or wrong, stays as it came.
 */
static void finish_rx_csum(uint8_t *pkt, uint32_t len)
{
	uint8_t tail[4] = { 0 };
	uint32_t start, l4len, pseudo;
	uint16_t field, want;
	uint32_t off;
	uint8_t proto;

	if (len < 54)
		return;
	if (pkt[12] == 0x08 && pkt[13] == 0x00) {
		start = 14 + (pkt[14] & 0xfu) * 4;
		l4len = (uint32_t)(pkt[16] << 8 | pkt[17]) - (start - 14);
		proto = pkt[23];
		pseudo = csum_partial(pkt + 26, 8, 0);
	} else if (pkt[12] == 0x86 && pkt[13] == 0xdd) {
		start = 54;
		l4len = (uint32_t)(pkt[18] << 8 | pkt[19]);
		proto = pkt[20];
		pseudo = csum_partial(pkt + 22, 32, 0);
	} else {
		return;
	}
	if ((proto != 6 && proto != 17) || start >= len || l4len > len - start)
		return;
	off = proto == 6 ? 16 : 6;
	tail[1] = proto;
	tail[2] = (uint8_t)(l4len >> 8);
	tail[3] = (uint8_t)l4len;
	pseudo = csum_partial(tail, 4, pseudo);
	if (off + 2 > l4len)
		return;
	memcpy(&field, pkt + start + off, 2);
	want = (uint16_t)~csum_fold(pseudo);
	if (field == want)
		finish_csum(pkt + start, l4len, off);
}

/*
 * The worker's current buffer, or NULL while the main thread still holds it
 * (the worker came round to it before it was written): its length is the
 * main thread's until ->full is clear.
 */
static struct capture_buf *cur_buf(struct capture *c)
{
	struct capture_buf *b = &c->buf[c->cur];

	return __atomic_load_n(&b->full, __ATOMIC_ACQUIRE) ? NULL : b;
}

/* The current buffer (the worker's) goes to the main thread; the worker
 * takes the next. */
static void hand_over(struct capture *c)
{
	struct capture_buf *b = &c->buf[c->cur];

	if (!b->len)
		return;
	b->seq = ++c->handed;	/* the order the main thread writes them in */
	__atomic_store_n(&b->full, 1, __ATOMIC_RELEASE);
	eventfd_write(c->pcap->wake_fd, 1);
	c->cur = (c->cur + 1) % CAPTURE_NBUF;
}

/**
 * capture_frame() - copy a frame into the worker's capture buffer
 * @c: the worker's capture
 * @f: the frame, received or to be sent
 * @o: the offload the port finishes on a frame to be sent, or NULL
 */
void capture_frame(struct capture *c, const struct frame *f, const struct tx_offload *o)
{
	uint32_t need = PCAP_REC_HDR + f->len, off = 0;
	struct pcap_rec_hdr h;
	struct capture_buf *b;
	struct timespec ts;
	uint8_t *pkt;

	if (!__atomic_load_n(&c->pcap->enabled, __ATOMIC_RELAXED))
		return;
	b = cur_buf(c);
	if (b && b->len + need > CAPTURE_BUF) {
		hand_over(c);
		b = cur_buf(c);
	}
	if (!b || b->len + need > CAPTURE_BUF) {
		__atomic_store_n(&c->dropped, c->dropped + 1, __ATOMIC_RELAXED);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	h.sec = (uint32_t)ts.tv_sec;
	h.nsec = (uint32_t)ts.tv_nsec;
	h.incl_len = h.orig_len = f->len;
	memcpy(b->data + b->len, &h, sizeof(h));
	pkt = b->data + b->len + sizeof(h);
	for (uint32_t s = 0; s < f->nseg; off += f->seg[s++].len)
		memcpy(pkt + off, f->seg[s].data, f->seg[s].len);
	if (o && o->csum_start < f->len)
		finish_csum(pkt + o->csum_start, f->len - o->csum_start, o->csum_offset);
	else if (!o)
		finish_rx_csum(pkt, f->len);
	b->len += need;
	__atomic_store_n(&c->frames, c->frames + 1, __ATOMIC_RELAXED);
}

/* The worker is about to sleep: what it captured goes to the file now. */
void capture_idle(struct capture *c)
{
	struct capture_buf *b = cur_buf(c);

	if (b && b->len &&
	    !__atomic_load_n(&c->buf[(c->cur + 1) % CAPTURE_NBUF].full, __ATOMIC_ACQUIRE))
		hand_over(c);
}

static int pwrite_all(int fd, const uint8_t *data, size_t len, uint64_t at)
{
	while (len) {
		ssize_t n = pwrite(fd, data, len, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		data += n;
		len -= (size_t)n;
		at += (uint64_t)n;
	}
	return 0;
}

/*
 * --pcap-size: drops the records before the first buffer that starts in
 * the newer half of the file, moving the rest to the front.
 */
static int pcap_halve(struct pcap *p)
{
	uint64_t half = PCAP_HDR + (p->size - PCAP_HDR) / 2, from, shift;
	unsigned i = 0;

	while (i < p->nchunks && p->chunk[i] < half)
		i++;
	from = i < p->nchunks ? p->chunk[i] : p->size;
	shift = from - PCAP_HDR;
	for (uint64_t at = from; at < p->size;) {
		size_t n = p->size - at < CAPTURE_BUF ? (size_t)(p->size - at) : CAPTURE_BUF;
		ssize_t got = pread(p->fd, p->bounce, n, (off_t)at);

		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		if (pwrite_all(p->fd, p->bounce, (size_t)got, at - shift))
			return -errno;
		at += (uint64_t)got;
	}
	p->size -= shift;
	if (ftruncate(p->fd, (off_t)p->size))
		return -errno;
	for (unsigned j = i; j < p->nchunks; j++)
		p->chunk[j - i] = p->chunk[j] - shift;
	p->nchunks -= i;
	p->halvings++;
	return 0;
}

/* Appends one buffer's records; 0 or negative errno. */
static int pcap_append(struct pcap *p, const uint8_t *data, uint32_t len)
{
	int ret;

	while (p->limit && p->size + len > p->limit && p->size > PCAP_HDR) {
		ret = pcap_halve(p);
		if (ret)
			return ret;
	}
	if (p->nchunks == PCAP_MAX_CHUNKS) {	/* keep every other: coarser halving */
		for (unsigned j = 0; j < PCAP_MAX_CHUNKS / 2; j++)
			p->chunk[j] = p->chunk[2 * j];
		p->nchunks = PCAP_MAX_CHUNKS / 2;
	}
	ret = pwrite_all(p->fd, data, len, p->size);
	if (ret)
		return ret;
	p->chunk[p->nchunks++] = p->size;
	p->size += len;
	return 0;
}

/* Writes @b out (counting its records) and gives it back to its worker. */
static void pcap_write_buf(struct pcap *p, struct capture_buf *b)
{
	int ret = 0;

	if (p->fd >= 0 && b->len)
		ret = pcap_append(p, b->data, b->len);
	for (uint32_t at = 0; !ret && at < b->len;) {
		struct pcap_rec_hdr h;

		memcpy(&h, b->data + at, sizeof(h));
		at += PCAP_REC_HDR + h.incl_len;
		p->written++;
	}
	if (ret) {
		log_err("--pcap: cannot write: %s; capture stopped", strerror(-ret));
		pcap_enable(p, false);
		close(p->fd);
		p->fd = -1;
	}
	b->len = 0;
	__atomic_store_n(&b->full, 0, __ATOMIC_RELEASE);
}

/*
 * Writes @c's handed-over buffers in the order they were handed over
 * (their ->seq, set before the release store of ->full that we acquire).
 */
static void pcap_write_handed(struct pcap *p, struct capture *c)
{
	struct capture_buf *full[CAPTURE_NBUF];
	unsigned n = 0;

	for (unsigned i = 0; i < CAPTURE_NBUF; i++)
		if (__atomic_load_n(&c->buf[i].full, __ATOMIC_ACQUIRE))
			full[n++] = &c->buf[i];
	for (unsigned i = 1; i < n; i++)	/* insertion sort: a handful */
		for (unsigned j = i; j > 0 && full[j - 1]->seq > full[j]->seq; j--) {
			struct capture_buf *t = full[j];

			full[j] = full[j - 1];
			full[j - 1] = t;
		}
	for (unsigned i = 0; i < n; i++)
		pcap_write_buf(p, full[i]);
}

/**
 * pcap_open() - create the capture file and each worker's buffers
 * @p: zeroed
 * @path: --pcap (created 0600, or truncated), opened now: the sandbox
 *	  leaves no path to open later
 * @limit: --pcap-size in bytes, or 0
 * @nworkers: one capture each (struct pcap's @workers)
 *
 * Capturing starts at once; pcap_enable() pauses and resumes it.
 *
 * Return: 0, or negative errno (logged).
 */
int pcap_open(struct pcap *p, const char *path, uint64_t limit, unsigned nworkers)
{
	const uint32_t hdr[6] = { PCAP_MAGIC_NS, 2 | 4u << 16, 0, 0, PCAP_SNAPLEN, PCAP_LINK_ETH };

	p->wake_fd = -1;
	p->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (p->fd < 0) {
		log_err("--pcap %s: %s", path, strerror(errno));
		return -errno;
	}
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->bounce = malloc(CAPTURE_BUF);
	p->workers = calloc(nworkers, sizeof(*p->workers));
	if (p->wake_fd < 0 || !p->bounce || !p->workers)
		return -ENOMEM;
	p->nworkers = nworkers;
	for (unsigned q = 0; q < nworkers; q++) {
		p->workers[q].pcap = p;
		for (int b = 0; b < CAPTURE_NBUF; b++) {
			p->workers[q].buf[b].data = malloc(CAPTURE_BUF);
			if (!p->workers[q].buf[b].data)
				return -ENOMEM;
		}
	}
	p->limit = limit;
	p->size = PCAP_HDR;
	if (pwrite_all(p->fd, (const uint8_t *)hdr, sizeof(hdr), 0)) {
		log_err("--pcap %s: %s", path, strerror(errno));
		return -errno;
	}
	pcap_enable(p, true);
	return 0;
}

/* Capturing on or off (the API's capture command); any thread. */
void pcap_enable(struct pcap *p, bool on)
{
	__atomic_store_n(&p->enabled, on && p->fd >= 0, __ATOMIC_RELAXED);
}

/* Main thread, its eventfd readable: writes every handed-over buffer. */
void pcap_drain(struct pcap *p)
{
	eventfd_t n;

	eventfd_read(p->wake_fd, &n);
	for (unsigned q = 0; q < p->nworkers; q++)
		pcap_write_handed(p, &p->workers[q]);
}

/* Once the workers stopped: writes what they hold, in order, and closes. */
void pcap_close(struct pcap *p)
{
	for (unsigned q = 0; q < p->nworkers; q++) {
		struct capture *c = &p->workers[q];

		pcap_write_handed(p, c);
		pcap_write_buf(p, &c->buf[c->cur]);	/* the one it was filling */
		for (int b = 0; b < CAPTURE_NBUF; b++)
			free(c->buf[b].data);
	}
	free(p->workers);
	free(p->bounce);
	if (p->fd >= 0)
		close(p->fd);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	memset(p, 0, sizeof(*p));
	p->fd = p->wake_fd = -1;
}
