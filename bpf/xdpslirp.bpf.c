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
 * Egress policy comes first (policy_verdict()): the first frame of a new
 * flow (a TCP SYN, a UDP datagram, an echo request) to a destination
 * outside the guest's own prefixes is judged against the rules the engine
 * wrote (xdp_shared.h).  A refused one is dropped here and counted per
 * rule, except for XDP_NOTICE_RATE a second per CPU, which go on to the
 * engine: it refuses them again and answers (RST, ICMP "administratively
 * prohibited"), so applications fail at once while a flood costs the
 * engine nothing beyond that rate.  What the program cannot decide goes to
 * the engine as any frame does: the guest's own prefixes (the gateway's
 * mapped addresses), link-local and multicast, fragments, IP options and
 * extension headers, UDP from a forwarded port (replies to its clients),
 * and entries with more rules than fit ("punt").
 *
 * The program is built as "xdp.frags" so that the link may carry frames
 * larger than a page (the engine binds its sockets with XDP_USE_SG).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
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

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XDP_POLICY_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdp_policy_key);
	__type(value, struct xdp_policy_entry);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_policy_cfg);
} policy_cfg SEC(".maps");

/* Frames dropped per rule (slot XDP_POLICY_DEFAULT: by --default-deny). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_POLICY_MAX_RULES + 1);
	__type(key, __u32);
	__type(value, __u64);
} rule_drops SEC(".maps");

/* Guest ports of UDP forwards (network order): their datagrams are replies. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u8);
} fwd_udp SEC(".maps");

/* The notice rate's token bucket, per CPU. */
struct bucket {
	__u64 last_ns;
	__u64 tokens;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bucket);
} notice SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		(*c)++;
}

/* A new flow's identity, as the rules see it. */
struct flow_first {
	struct xdp_policy_key key;
	__u16 port;		/* destination, host order; 0 for an echo */
	__u8 proto;		/* 6, 17, or 1 for an echo request */
	__u8 v6;
};

/* IPv4: a whole datagram (no options) to a destination we may judge. */
static __always_inline void *parse_ipv4(void *p, void *end, const struct xdp_policy_cfg *cfg,
					struct flow_first *ff, __u8 *l4proto)
{
	struct iphdr *ip = p;

	if ((void *)(ip + 1) > end || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return 0;
	if ((ip->daddr & cfg->mask4) == cfg->net4)
		return 0;	/* the guest's prefix: the gateway's addresses */
	ff->key.addr[10] = ff->key.addr[11] = 0xff;
	__builtin_memcpy(&ff->key.addr[12], &ip->daddr, 4);
	*l4proto = ip->protocol;
	return ip + 1;
}

/* IPv6: no extension header, not link-local, multicast or the guest's /64. */
static __always_inline void *parse_ipv6(void *p, void *end, const struct xdp_policy_cfg *cfg,
					struct flow_first *ff, __u8 *l4proto)
{
	struct ipv6hdr *ip = p;
	__u64 net, ours;
	const __u8 *d;

	if ((void *)(ip + 1) > end)
		return 0;
	d = ip->daddr.in6_u.u6_addr8;
	if (d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80))
		return 0;
	__builtin_memcpy(&net, d, 8);
	__builtin_memcpy(&ours, cfg->prefix6, 8);
	if (cfg->ipv6 && net == ours)
		return 0;
	__builtin_memcpy(ff->key.addr, d, 16);
	ff->v6 = 1;
	*l4proto = ip->nexthdr;
	return ip + 1;
}

/* Is the frame the first of a new flow we may judge?  Fills @ff if so. */
static __always_inline int flow_first(struct xdp_md *ctx, const struct xdp_policy_cfg *cfg,
				      struct flow_first *ff)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 l4proto = 0;
	void *l4 = 0;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		l4 = parse_ipv4(eth + 1, end, cfg, ff, &l4proto);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		l4 = parse_ipv6(eth + 1, end, cfg, ff, &l4proto);
	if (!l4)
		return 0;
	if (l4proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end || !th->syn || th->ack)
			return 0;
		ff->port = bpf_ntohs(th->dest);
	} else if (l4proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end || bpf_map_lookup_elem(&fwd_udp, &uh->source))
			return 0;
		ff->port = bpf_ntohs(uh->dest);
	} else if (l4proto == (ff->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		__u8 *type = l4;

		if ((void *)(type + 1) > end || *type != (ff->v6 ? 128 : 8))
			return 0;
		l4proto = IPPROTO_ICMP;
	} else {
		return 0;
	}
	ff->proto = l4proto;
	ff->key.prefixlen = 128;
	return 1;
}

enum { PASS, DENIED, BLOCKED };

/*
 * The rules' verdict on @ff, as policy_denies() and policy_always_blocked()
 * give it; @slot is set to the rule_drops slot of a denial.
 */
static __always_inline int policy_verdict(const struct xdp_policy_cfg *cfg,
					  const struct flow_first *ff, __u32 *slot)
{
	const struct xdp_policy_entry *v = bpf_map_lookup_elem(&policy, &ff->key);
	int deny = -1, allow = -1;

	if (!v || v->punt)
		return PASS;
	for (int i = 0; i < XDP_POLICY_INLINE; i++) {
		const struct xdp_policy_rule *r = &v->r[i];

		if (i >= v->n)
			break;
		if (r->flags & XDP_RULE_BLOCKED) {
			if (!(r->flags & XDP_RULE_V6_ONLY) || ff->v6)
				return BLOCKED;
			continue;
		}
		if (r->proto && r->proto != ff->proto)
			continue;
		if (ff->proto == IPPROTO_ICMP ? r->port_lo || r->port_hi != 65535 :
		    ff->port < r->port_lo || ff->port > r->port_hi)
			continue;
		if (r->flags & XDP_RULE_DENY)
			deny = r->index;
		else
			allow = r->index;
	}
	if (deny >= 0) {
		*slot = (__u32)deny;
		return DENIED;
	}
	if (allow < 0 && cfg->default_deny) {
		*slot = XDP_POLICY_DEFAULT;
		return DENIED;
	}
	return PASS;
}

/* May one more refusal go on to the engine this second (per CPU)? */
static __always_inline int notice_ok(void)
{
	__u32 zero = 0;
	struct bucket *b = bpf_map_lookup_elem(&notice, &zero);
	__u64 now = bpf_ktime_get_ns(), add;

	if (!b)
		return 0;
	add = (now - b->last_ns) / (1000000000ull / XDP_NOTICE_RATE);
	if (add) {
		b->tokens = b->tokens + add > XDP_NOTICE_RATE ? XDP_NOTICE_RATE : b->tokens + add;
		b->last_ns = now;
	}
	if (!b->tokens)
		return 0;
	b->tokens--;
	return 1;
}

/* XDP_DROP for a refused flow past the notice rate, else -1 (steer it). */
static __always_inline int police(struct xdp_md *ctx)
{
	__u32 zero = 0, slot = 0;
	const struct xdp_policy_cfg *cfg = bpf_map_lookup_elem(&policy_cfg, &zero);
	struct flow_first ff = { 0 };
	__u64 *drops;
	int verdict;

	if (!cfg || !cfg->enabled || !flow_first(ctx, cfg, &ff))
		return -1;
	verdict = policy_verdict(cfg, &ff, &slot);
	if (verdict == PASS)
		return -1;
	if (notice_ok()) {
		count(XDP_CNT_POLICY_NOTICE);
		return -1;
	}
	if (verdict == BLOCKED) {
		count(XDP_CNT_POLICY_BLOCKED);
		return XDP_DROP;
	}
	count(XDP_CNT_POLICY_DENIED);
	drops = bpf_map_lookup_elem(&rule_drops, &slot);
	if (drops)
		(*drops)++;
	return XDP_DROP;
}

SEC("xdp.frags")
int xdpslirp_steer(struct xdp_md *ctx)
{
	long ret = police(ctx);

	if (ret == XDP_DROP)
		return XDP_DROP;
	ret = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);

	count(ret == XDP_REDIRECT ? XDP_CNT_REDIRECTED : XDP_CNT_NO_SOCKET);
	return ret;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
