// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xdpslirp.bpf.c - steer every guest frame into the engine's AF_XDP sockets.
 *
 * Theory of operation: the program runs on the host end of the guest's link.
 * Nothing the guest sends is meant for the host kernel, so every frame is
 * redirected to the AF_XDP socket bound to the queue it arrived on.  A queue
 * without a socket (engine starting or stopping) drops the frame: the host
 * stack of this namespace must never see guest traffic.
 *
 * The program is built as "xdp.frags" so that the link may carry frames
 * larger than a page (the engine binds its sockets with XDP_USE_SG).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdp_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		(*c)++;
}

SEC("xdp.frags")
int xdpslirp_steer(struct xdp_md *ctx)
{
	long ret = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);

	count(ret == XDP_REDIRECT ? XDP_CNT_REDIRECTED : XDP_CNT_NO_SOCKET);
	return ret;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
