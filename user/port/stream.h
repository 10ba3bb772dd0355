/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_STREAM_H
#define XDPSLIRP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "port.h"
#include "bufpool.h"

/* Longest frame in the stream: the largest MTU's, with its Ethernet header */
#define STREAM_FRAME_MAX	(65535u + 14u)

/*
 * struct stream_buf - bytes between the socket and frames: what was read
 * and not yet taken as frames (rx), or frames queued and not yet written
 * (tx).  Valid bytes are [head, tail).
 */
struct stream_buf {
	uint8_t *buf;
	uint32_t size, head, tail;
};

int stream_rx_next(struct stream_buf *rx, const uint8_t **frame, uint32_t *len);
uint8_t *stream_rx_room(struct stream_buf *rx, uint32_t *room);
bool stream_tx_queue(struct stream_buf *tx, const struct frame *f);

/* struct stream_port - a QEMU -netdev stream connection (stream.c) */
struct stream_port {
	struct port base;	/* fd: an epoll of listen_fd or conn_fd */
	int listen_fd;		/* the caller's; we accept on it */
	int conn_fd;		/* the guest's connection, or -1 */
	struct stream_buf rx, tx;
	bool tx_waiting;	/* conn_fd watched for EPOLLOUT */
	struct buf_pool bufs;	/* received frames */
};

int stream_port_open(struct stream_port *s, int listen_fd, struct counters *cnt);
int stream_listen(const char *path);

#endif
