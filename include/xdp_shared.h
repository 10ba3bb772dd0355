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

#include <linux/types.h>

/* Slots in the XSKMAP: one AF_XDP socket per receive queue. */
#define XDP_MAX_QUEUES 64

/* Per-CPU counters kept by the XDP program, indexed by enum xdp_counter. */
enum xdp_counter {
	XDP_CNT_REDIRECTED = 0,	/* handed to the queue's AF_XDP socket */
	XDP_CNT_NO_SOCKET,	/* no socket bound for the queue: dropped */
	XDP_CNT_POLICY_DENIED,	/* a new flow the rules deny: dropped */
	XDP_CNT_POLICY_BLOCKED,	/* ...to an always-blocked address: dropped */
	XDP_CNT_POLICY_NOTICE,	/* a refused one passed on, for the engine to
				 * answer (RST, ICMP), within the notice rate */
	XDP_CNT_MAX,
};

/*
 * Egress policy in XDP (the engine's policy.c, compiled into a map by
 * user/port/xdp_policy.c).  One LPM trie over the 128 bits of struct inany
 * (IPv4 as ::ffff:a.b.c.d): the entry of the longest matching prefix lists
 * every rule whose prefix contains it, shortest first, so the program
 * decides exactly as policy_denies() does.  More rules than fit inline:
 * the entry says "punt" and the engine decides.
 */
#define XDP_POLICY_INLINE	16
#define XDP_POLICY_MAX_RULES	4096	/* = POLICY_MAX_RULES */
#define XDP_POLICY_PREFIXES	(XDP_POLICY_MAX_RULES + 32)
#define XDP_POLICY_DEFAULT	XDP_POLICY_MAX_RULES	/* rule_drops slot */
#define XDP_NOTICE_RATE		1000	/* refusals passed on per second per CPU */

#define XDP_RULE_DENY		0x1
#define XDP_RULE_BLOCKED	0x2	/* always blocked (no rule opens it) */
#define XDP_RULE_V6_ONLY	0x4	/* ...for IPv6 datagrams only */

struct xdp_policy_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct xdp_policy_rule {
	__u16 index;		/* in the engine's rule list: rule_drops slot */
	__u8 proto;		/* 6, 17, 1 (an echo of either family), 0: any */
	__u8 flags;		/* XDP_RULE_* */
	__u16 port_lo, port_hi;	/* host order */
};

struct xdp_policy_entry {
	__u8 n;
	__u8 punt;
	__u8 pad[6];
	struct xdp_policy_rule r[XDP_POLICY_INLINE];
};

/* What the program needs besides the rules; all zero: judge nothing. */
struct xdp_policy_cfg {
	__u32 enabled;
	__u32 default_deny;
	__u32 net4, mask4;	/* the guest's IPv4 prefix, network order */
	__u8 prefix6[8];	/* its IPv6 /64 */
	__u32 ipv6;
	__u32 pad;
};

#endif /* XDPSLIRP_XDP_SHARED_H */
