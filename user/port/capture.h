/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CAPTURE_H
#define XDPSLIRP_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

#define CAPTURE_BUF	(2u << 20)	/* per buffer... */
#define CAPTURE_NBUF	4		/* ...and buffers per worker */
#define PCAP_MAX_CHUNKS	8192		/* buffer writes remembered for halving */

struct pcap;

/* One capture buffer: the worker fills it, the main thread writes it out. */
struct capture_buf {
	uint8_t *data;
	uint32_t len;
	uint32_t seq;		/* when it was handed over */
	int full;		/* atomic: 1 while the main thread's */
};

/* One worker's side of the capture: a ring of buffers, one filling. */
struct capture {
	struct pcap *pcap;
	struct capture_buf buf[CAPTURE_NBUF];
	unsigned cur;
	uint32_t handed;	/* buffers handed over so far */
	uint64_t frames;	/* captured; the worker writes, others read */
	uint64_t dropped;	/* no room: the next buffer not written yet */
};

/* The capture file, the main thread's. */
struct pcap {
	int fd;			/* -1: no --pcap */
	int wake_fd;		/* eventfd: a worker handed over a buffer */
	int enabled;		/* atomic: workers capture while set */
	uint64_t limit;		/* --pcap-size in bytes, 0: none */
	uint64_t size;		/* bytes in the file now */
	uint64_t halvings;	/* times the oldest half was dropped */
	uint64_t written;	/* frames written, over all halvings */
	unsigned nchunks;
	uint64_t chunk[PCAP_MAX_CHUNKS];	/* where each buffer's records start */
	uint8_t *bounce;	/* CAPTURE_BUF, for moving the newer half */
	struct capture *workers;
	unsigned nworkers;
};

int pcap_open(struct pcap *p, const char *path, uint64_t limit, unsigned nworkers);
void pcap_enable(struct pcap *p, bool on);
void pcap_drain(struct pcap *p);
void pcap_close(struct pcap *p);
void capture_frame(struct capture *c, const struct frame *f, const struct tx_offload *o);
void capture_idle(struct capture *c);

#endif
