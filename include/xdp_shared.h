/* SPDX-License-Identifier: MIT */
/*
 * xdp_shared.h - definitions shared by the XDP program and the engine.
 *
 * Both sides include this file: the BPF object is compiled against it with
 * clang -target bpf, the engine with the host compiler.  Keep it to plain
 * fixed-width types.
 */
#ifndef XDPSLIRP_XDP_SHARED_H
#define XDPSLIRP_XDP_SHARED_H

/* Slots in the XSKMAP: one AF_XDP socket per receive queue. */
#define XDP_MAX_QUEUES 64

/* Per-CPU counters kept by the XDP program, indexed by enum xdp_counter. */
enum xdp_counter {
	XDP_CNT_REDIRECTED = 0,	/* handed to the queue's AF_XDP socket */
	XDP_CNT_NO_SOCKET,	/* no socket bound for the queue: dropped */
	XDP_CNT_MAX,
};

#endif /* XDPSLIRP_XDP_SHARED_H */
