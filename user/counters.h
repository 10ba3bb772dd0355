/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_COUNTERS_H
#define XDPSLIRP_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

/* Why a frame from the guest was dropped.  Names are in counters.c. */
enum drop_reason {
	DROP_FRAME_CHAIN,	/* multi-buffer chain broken or too long */
	DROP_VNET_HDR,		/* virtio-net header that lies: flags, checksum
				 * offsets, segmentation we did not offer */
	DROP_STREAM_LENGTH,	/* stream socket: a frame length out of range */
	DROP_ETH_SHORT,		/* shorter than an Ethernet header */
	DROP_ETH_DEST,		/* unicast to a MAC address that is not ours */
	DROP_ETH_TYPE,		/* EtherType we do not serve (yet) */
	DROP_ARP_MALFORMED,
	DROP_ARP_IGNORED,	/* not a request for one of our addresses */
	DROP_IPV4_MALFORMED,	/* version, lengths or header in pieces */
	DROP_IPV4_CSUM,		/* bad IPv4 header checksum */
	DROP_FRAG_OVERLAP,	/* datagram given up: overlapping fragments */
	DROP_FRAG_OVERSIZE,	/* datagram given up: past 65,535 bytes */
	DROP_FRAG_TIMEOUT,	/* datagram given up: not complete in time */
	DROP_FRAG_EVICTED,	/* datagram given up: slots all busy */
	DROP_IPV4_PROTO,	/* transport we do not serve (yet) */
	DROP_IPV6_MALFORMED,	/* version, lengths, source address */
	DROP_IPV6_EXTHDR,	/* extension headers we cannot pass: Hop-by-Hop
				 * not first, routing type 0 or segments left,
				 * ESP, a chain past the first piece */
	DROP_IPV6_PROTO,	/* upper layer we do not serve */
	DROP_IPV6_OFF,		/* IPv6 frame while IPv6 is off (--disable-ipv6) */
	DROP_NDP_MALFORMED,	/* hop limit, code, lengths or options (RFC 4861 6.1, 7.1) */
	DROP_NDP_IGNORED,	/* RA or Redirect from the guest, NS for another address */
	DROP_MLD,		/* multicast listener reports: nothing to do */
	DROP_ICMP_MALFORMED,
	DROP_ICMP_CSUM,
	DROP_ICMP_TYPE,		/* not an echo request */
	DROP_ICMP_SEND,		/* echo request the host could not send */
	DROP_PING_DENIED,	/* no ICMP socket: net.ipv4.ping_group_range */
	DROP_POLICY_BLOCKED,	/* new flow to a destination no rule opens (policy.c) */
	DROP_POLICY_DENIED,	/* new flow a --deny rule, or --default-deny, refuses */
	DROP_TCP_MALFORMED,	/* header length, flags that make no sense */
	DROP_TCP_IGNORED,	/* no flow and nothing to answer (e.g. RST) */
	DROP_TCP_TABLE_FULL,	/* SYN while every flow slot is taken */
	DROP_UDP_MALFORMED,	/* lengths, or broadcast/multicast addresses */
	DROP_DNS_OFF,		/* to the DNS address: DNS off, or not port 53 */
	DROP_UDP_NO_SOCKET,	/* no host socket could be had */
	DROP_UDP_SEND,		/* the host refused to send it */
	DROP_DNS_MALFORMED,	/* not a DNS query worth forwarding */
	DROP_DHCP_OFF,		/* --no-dhcp */
	DROP_DHCP_MALFORMED,
	DROP_DHCP_IGNORED,	/* DECLINE, RELEASE and other types */
	DROP_DHCP6_MALFORMED,
	DROP_DHCP6_IGNORED,	/* not for us, or a type servers ignore */
	DROP_TX_TOO_BIG,	/* IPv6 datagram to the guest above the MTU */
	DROP_TX_RING_FULL,	/* reply lost: no room in the TX ring */
	DROP_TX_WRITE,		/* the tap or stream socket refused the frame */
	DROP_TX_NO_FRAMES,	/* frame to the guest not built: no free chunk */
	DROP_TX_TEST_LOSS,	/* dropped on purpose: --test-tx-loss */
	DROP_TX_RATE_LIMITED,	/* datagram to the guest past its --ingress-rate */
	DROP_HANDOFF_FULL,	/* owning worker's hand-off ring full */
	DROP_STEER_RACE,	/* new flow: its slot went to another worker meanwhile */
	DROP_PEER_TOO_BIG,	/* for a peer guest, longer than its link's MTU */
	DROP_MAX,
};

/*
 * struct counters - statistics of one worker.
 *
 * Each worker is the only writer of its counters; other threads read them
 * (SIGUSR1, the control API).  counter_add() is a relaxed atomic store, a
 * plain move on x86, so readers never see torn values and the writer pays
 * no locked instruction.
 */
struct counters {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t evicted;	/* half-open TCP or idle UDP flows evicted for new ones */
	uint64_t handed_off;	/* frames passed to the worker owning their flow */
	uint64_t tcp_fast_retransmits;	/* segments sent again on duplicate ACKs */
	uint64_t switched;	/* frames switched to a peer guest */
	uint64_t test_duplicated;	/* frames --test-*-dup sent or served twice */
	uint64_t test_reordered;	/* frames --test-*-reorder moved */
	uint64_t drop[DROP_MAX];
};

static inline void counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline uint64_t counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

const char *drop_reason_name(enum drop_reason r);
/* A worker's time, over all the guests it serves. */
struct worker_time {
	uint64_t work_ns;	/* in rounds that found frames or events */
	uint64_t spin_ns;	/* in rounds that found nothing, spinning */
};

void counters_print(FILE *out, const char *who, const struct counters *c,
		    const struct worker_time *t);

#endif
