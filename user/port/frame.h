/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_FRAME_H
#define XDPSLIRP_FRAME_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A frame as the protocol code sees it: the bytes of one Ethernet frame in up
 * to FRAME_MAX_SEGS pieces (AF_XDP multi-buffer: MAX_SKB_FRAGS + 1).  The
 * first piece holds at least the first chunk's worth of bytes, so all headers
 * the engine parses are contiguous in seg[0]; parsers still check that.
 * seg[0].data sits 2 bytes past a 4-byte boundary (the backend's job), so
 * the IPv4 header and what follows it are naturally aligned.
 *
 * The port (port.h: AF_XDP, a tap fd, a stream socket) owns the memory.  The
 * protocol code may rewrite bytes and shrink lengths, then hand the frame
 * back as a reply (see enum verdict), never keep a pointer into it.
 */
#define FRAME_MAX_SEGS 18

struct frame_seg {
	uint8_t *data;
	uint32_t len;
};

/* What the port knows of a received frame (struct frame's @flags). */
#define FRAME_CSUM_PARTIAL	0x1	/* the guest left its transport checksum
					 * to offload: not to be verified */
#define FRAME_GSO		0x2	/* a segmentation-offload super-frame:
					 * may be longer than the link's MTU */
#define FRAME_GSO_UDP		0x4	/* ...of UDP datagrams of @gso_size bytes
					 * of payload each (the last shorter) */

struct frame {
	uint32_t len;		/* sum of seg[].len */
	uint32_t nseg;
	uint32_t flags;		/* FRAME_*, received frames only */
	uint32_t gso_size;	/* with FRAME_GSO: the guest's segment size */
	struct frame_seg seg[FRAME_MAX_SEGS];
};

/*
 * struct tx_offload - what a port finishes on a frame it sends: the
 * transport checksum at @csum_start + @csum_offset holds only the
 * pseudo-header sum (not complemented); with @gso_size non-zero the frame
 * is a TCP super-frame whose payload the port (or the guest's kernel)
 * cuts into segments of @gso_size bytes.
 */
struct tx_offload {
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t gso_size;
};

/* What the protocol code did with a frame it was given. */
enum verdict {
	VERDICT_DONE,		/* consumed or dropped: release the memory */
	VERDICT_REPLY,		/* rewritten in place: transmit to the guest */
	VERDICT_HELD,		/* still referenced: release after udp_flush()
				 * and tcp_flush() */
};

/*
 * struct frame_out - how protocol code sends frames it builds itself (data
 * and segments not answering a frame in hand).  One per worker; the
 * backend behind it is the worker's port.
 */
struct frame_out {
	void *port;
	/* Gets room for a @len-byte frame; false if no buffers are free. */
	bool (*alloc)(void *port, struct frame *f, uint32_t len);
	/* Queues @f for the guest (pieces of length 0 are released). */
	void (*send)(void *port, const struct frame *f);
	/* Gives back a frame that will not be sent. */
	void (*discard)(void *port, const struct frame *f);
	/*
	 * Where the port offloads checksums (else NULL): like send(), with
	 * the checksum completed on the way (or never needed: the guest takes
	 * the frame as CHECKSUM_PARTIAL), and segmentation if @gso_max says.
	 */
	void (*send_offload)(void *port, const struct frame *f, const struct tx_offload *o);
	/* Longest super-frame send_offload() takes (0: no segmentation). */
	uint32_t gso_max;
	/*
	 * Frames of the largest size the port is sure to take from the guest
	 * at once, 0: no limit.  A port with little room (an AF_XDP socket
	 * with a small UMEM) has TCP offer the guest no larger a window, so
	 * the guest waits for room instead of sending frames to be dropped.
	 */
	uint32_t rx_budget;
};

void frame_trim(struct frame *f, uint32_t len);
uint32_t frame_csum(const struct frame *f, uint32_t off, uint32_t len);
struct iovec;
unsigned frame_iov(const struct frame *f, uint32_t off, uint32_t len, struct iovec *iov);
void frame_copy_in(struct frame *f, uint32_t off, const uint8_t *src, uint32_t len);
void frame_copy_out(const struct frame *f, uint32_t off, uint8_t *dst, uint32_t len);

#endif
