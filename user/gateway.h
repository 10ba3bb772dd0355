/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_GATEWAY_H
#define XDPSLIRP_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "counters.h"
#include "flow.h"
#include "fwd.h"
#include "frame.h"

#define GW_MAX_DNS	4

/*
 * struct gateway - who the engine is on the guest's link.  Filled once at
 * start-up and shared read-only by all workers.  Addresses are in network
 * byte order, as they appear in headers.
 */
struct gateway {
	uint8_t mac[ETH_ALEN];	/* the gateway's MAC: the link's host end */
	uint32_t gw_addr;	/* the gateway: stands for the host (hostaddr.c) */
	uint32_t dns_addr;	/* the DNS forwarder */
	uint32_t guest_addr;	/* what the guest is given */
	uint32_t dhcp_addr;	/* what DHCP leases: the guest address, or
				 * as slirp4netns, network + 15 */
	uint32_t netmask;
	uint32_t mtu;		/* IP MTU of the link */
	bool ipv6;		/* IPv6 served (not --disable-ipv6) */
	struct inany gw6;	/* fd00::2: the gateway, stands for the host's ::1 */
	struct inany dns6;	/* fd00::3 */
	struct inany guest6;	/* fd00::100: what the guest is given */
	struct inany ll6;	/* fe80::2: the router's link-local address */
	bool ra_no_route;	/* the host has no IPv6 route out: RAs say
				 * router lifetime 0, so the guest falls back
				 * to IPv4 at once */
	uint32_t ra_interval_ms; /* unsolicited RAs: at a random time in
				 * [interval / 3, interval) (RFC 4861 6.2.1) */
	uint16_t dnssl_len;	/* the host's search list, RFC 1035 names */
	uint8_t dnssl[256];
	struct guest_seen *seen; /* the guest's own IPv6 address (mutable, see
				 * struct guest_seen); NULL: not learnt */
	bool no_host_loopback;	/* the gateway address does not reach the host */
	struct inany outbound4;	/* host sockets bind to these (all zero: */
	struct inany outbound6;	/* the kernel chooses) */
	bool no_dhcp;
	uint32_t udp_timeout_s;	/* idle time before a UDP mapping expires */
	uint32_t tcp_sndbuf;	/* SO_SNDBUF of every host TCP socket */
	unsigned n_dns;		/* DNS upstreams; 0: the DNS address is silent */
	union sockaddr_inany dns[GW_MAX_DNS];	/* either family */
	unsigned n_to_host;	/* --forward-to-host */
	struct fwd_to_host to_host[FWD_TO_HOST_MAX];
	const struct policy *policy;	/* --allow, --deny at start (policy.c);
					 * each worker then holds its own */
};

struct frag_table;
struct policy;
struct shaper;
struct steer;

/*
 * struct guest_seen - the guest's own global IPv6 address, as its Neighbor
 * Solicitations show it (its DAD probes name the address it takes, SLAAC
 * picking its own interface identifier; its address resolution comes from
 * it).  Forwarded ports reach the guest there.  Shared by the workers, so a
 * sequence lock: written only when the address changes (any worker may see
 * that first, so writers take turns through @busy), read when a forwarded
 * port opens a flow.  Not on the per-frame path.
 */
struct guest_seen {
	uint32_t seq;		/* odd while written */
	uint32_t busy;		/* a writer is at work */
	uint64_t addr[2];	/* all zero: nothing seen yet */
};

/* epoll data: the guest's raw ICMP sockets, and flows' host sockets (their
 * index, above the worker's own descriptors); ORed with the guest's tag,
 * its slot + 1 above EPOLL_GUEST_SHIFT (0 there: the worker's own)
 */
#define EPOLL_ICMP_RAW	2
#define EPOLL_ICMP6_RAW	5
#define EPOLL_FLOW_BASE	16
#define EPOLL_FWD_BASE	(1ull << 32)	/* forwarded ports: + listener slot */
#define EPOLL_GUEST_SHIFT 48

/*
 * struct udp_batch - datagrams from one burst of guest frames, sent with
 * one sendmmsg() per host socket at the burst's end.  They point into the
 * guest's frames, which stay held (VERDICT_HELD) until then.
 */
#define UDP_TX_BATCH 64
#define TCP_FLUSH_BATCH 64

struct udp_batch {
	unsigned n;
	struct flow *flow[UDP_TX_BATCH];
	struct mmsghdr msg[UDP_TX_BATCH];
	uint32_t len[UDP_TX_BATCH];		/* each datagram's payload */
	union sockaddr_inany to[UDP_TX_BATCH];
	struct iovec iov[UDP_TX_BATCH][FRAME_MAX_SEGS];
	/* the same datagrams joined into UDP_SEGMENT sends (udp_gso_pack()) */
	struct mmsghdr gso[UDP_TX_BATCH];
	unsigned gso_count[UDP_TX_BATCH];	/* datagrams in each */
	struct iovec gso_iov[UDP_TX_BATCH * FRAME_MAX_SEGS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} gso_cmsg[UDP_TX_BATCH];
};

/*
 * struct tcp_write - in-sequence payload of one flow from a burst of guest
 * segments, written with one sendmsg() when a segment of another kind or
 * flow comes, or at the burst's end (tcp_flush()).  The frames stay held
 * until then.  Nothing is pending while @len is 0.
 */
#define TCP_WRITE_IOV 1024	/* UIO_MAXIOV */

struct tcp_write {
	uint32_t flow;		/* index of the flow in the worker's table */
	uint32_t len;
	unsigned niov;
	struct iovec iov[TCP_WRITE_IOV];
};

/*
 * struct gw_ctx - what protocol input functions work with: the shared
 * identity and the calling worker's own state.
 */
struct gw_ctx;
struct ippkt;

/*
 * struct peer_switch - guest-to-guest switching (engine_switch.c), for a
 * daemon's guest with a --peer-group; the context's @peers is NULL for
 * every other guest.
 */
struct peer_switch {
	/* @a is the address of another guest of the group */
	bool (*is_peer)(const struct gw_ctx *ctx, const struct inany *a);
	/* @f, datagram @p, is for another guest of the group: sent (or
	 * dropped, counted) there, and true; false if @p is for nobody's */
	bool (*forward)(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);
};

struct gw_ctx {
	const struct gateway *gw;
	struct counters *cnt;
	struct frame_out out;		/* for frames not answering one in hand */
	struct flow_table *flows;
	int epfd;			/* the worker's epoll: host sockets */
	uint64_t ev_tag;		/* the guest's bits of their epoll data */
	uint64_t now;			/* CLOCK_MONOTONIC ns, per burst */
	uint64_t next_timer;		/* the earliest flow timer, at most: the
					 * worker sleeps no longer (l4_timer_arm()) */
	uint64_t fd_warned_at;		/* l4_socket_failed()'s last warning */
	uint16_t ip_id;			/* next IPv4 identification */
	uint8_t *scratch;		/* UDP_SCRATCH bytes for datagrams from the host */
	struct frag_table *frags;	/* reassembly of the guest's fragments */
	struct udp_batch udp_out;	/* datagrams waiting for udp_flush() */
	int icmp_raw;			/* raw ICMP socket when ping sockets are denied */
	int icmp6_raw;			/* the same for ICMPv6 */
	uint32_t icmp_tokens;		/* ICMP errors we may send now (icmp.c) */
	uint64_t icmp_tokens_at;	/* when they were last refilled */
	const struct policy *policy;	/* egress rules: gw->policy at start,
					 * then what the API last sent (rules.c) */
	uint64_t ra_at;			/* next unsolicited RA (ndp.c, worker 0), 0: none */
	unsigned ra_count;		/* unsolicited RAs sent */
	struct tcp_write tcp_out;	/* guest payload waiting for tcp_flush() */
	unsigned n_flush;		/* flows tcp_flush() finishes: an ACK owed,
					 * acknowledged bytes to drop, data to send */
	uint32_t flush_list[TCP_FLUSH_BATCH];
	uint8_t guest_mac[ETH_ALEN];	/* learnt from the guest's frames, or
					 * broadcast until then (arp.c asks) */
	unsigned worker;		/* the calling worker's index */
	const struct steer *steer;	/* flow ownership (steer.c) */
	const struct peer_switch *peers; /* other guests it may reach, or NULL */
	uint64_t handoff_wake;		/* workers handed frames since the last
					 * steer_wake(), one bit each */
	struct shaper *shape_in;	/* the guest's --ingress-rate, or NULL */
	struct shaper *shape_out;	/* ...--egress-rate (shaper.c) */
};

/* Counts a dropped frame; the caller releases it. */
static inline enum verdict drop(struct gw_ctx *ctx, enum drop_reason why)
{
	counter_add(&ctx->cnt->drop[why], 1);
	return VERDICT_DONE;
}

/* True for the addresses the engine itself answers on, either family. */
static inline bool gw_is_local(const struct gateway *gw, const struct inany *a)
{
	if (inany_is_v4(a))
		return inany_v4(a) == gw->gw_addr || inany_v4(a) == gw->dns_addr;
	return inany_equal(a, &gw->gw6) || inany_equal(a, &gw->dns6) ||
	       inany_equal(a, &gw->ll6);
}

/* The gateway answers ARP and NDP for @a: one of its own addresses, or a
 * peer's (proxy ARP, for guests switched to each other). */
static inline bool gw_answers_for(const struct gw_ctx *ctx, const struct inany *a)
{
	return gw_is_local(ctx->gw, a) || (ctx->peers && ctx->peers->is_peer(ctx, a));
}

#endif
