// SPDX-License-Identifier: MIT
/*
 * counters.c - names and printing of per-worker statistics.
 */
#include "counters.h"

static const char *const drop_names[DROP_MAX] = {
	[DROP_FRAME_CHAIN]	= "frame_chain",
	[DROP_VNET_HDR]		= "vnet_hdr",
	[DROP_STREAM_LENGTH]	= "stream_length",
	[DROP_ETH_SHORT]	= "eth_short",
	[DROP_ETH_DEST]		= "eth_dest",
	[DROP_ETH_TYPE]		= "eth_type",
	[DROP_ARP_MALFORMED]	= "arp_malformed",
	[DROP_ARP_IGNORED]	= "arp_ignored",
	[DROP_IPV4_MALFORMED]	= "ipv4_malformed",
	[DROP_IPV4_CSUM]	= "ipv4_csum",
	[DROP_FRAG_OVERLAP]	= "frag_overlap",
	[DROP_FRAG_OVERSIZE]	= "frag_oversize",
	[DROP_FRAG_TIMEOUT]	= "frag_timeout",
	[DROP_FRAG_EVICTED]	= "frag_evicted",
	[DROP_IPV4_PROTO]	= "ipv4_proto",
	[DROP_IPV6_MALFORMED]	= "ipv6_malformed",
	[DROP_IPV6_EXTHDR]	= "ipv6_exthdr",
	[DROP_IPV6_PROTO]	= "ipv6_proto",
	[DROP_IPV6_OFF]		= "ipv6_off",
	[DROP_NDP_MALFORMED]	= "ndp_malformed",
	[DROP_NDP_IGNORED]	= "ndp_ignored",
	[DROP_MLD]		= "mld",
	[DROP_ICMP_MALFORMED]	= "icmp_malformed",
	[DROP_ICMP_CSUM]	= "icmp_csum",
	[DROP_ICMP_TYPE]	= "icmp_type",
	[DROP_ICMP_SEND]	= "icmp_send",
	[DROP_PING_DENIED]	= "ping_denied",
	[DROP_POLICY_BLOCKED]	= "policy_blocked",
	[DROP_POLICY_DENIED]	= "policy_denied",
	[DROP_TCP_MALFORMED]	= "tcp_malformed",
	[DROP_TCP_IGNORED]	= "tcp_ignored",
	[DROP_TCP_TABLE_FULL]	= "tcp_table_full",
	[DROP_UDP_MALFORMED]	= "udp_malformed",
	[DROP_DNS_OFF]		= "dns_off",
	[DROP_UDP_NO_SOCKET]	= "udp_no_socket",
	[DROP_UDP_SEND]		= "udp_send",
	[DROP_DNS_MALFORMED]	= "dns_malformed",
	[DROP_DHCP_OFF]		= "dhcp_off",
	[DROP_DHCP_MALFORMED]	= "dhcp_malformed",
	[DROP_DHCP_IGNORED]	= "dhcp_ignored",
	[DROP_DHCP6_MALFORMED]	= "dhcp6_malformed",
	[DROP_DHCP6_IGNORED]	= "dhcp6_ignored",
	[DROP_TX_TOO_BIG]	= "tx_too_big",
	[DROP_TX_WRITE]		= "tx_write",
	[DROP_TX_RING_FULL]	= "tx_ring_full",
	[DROP_TX_NO_FRAMES]	= "tx_no_frames",
	[DROP_TX_TEST_LOSS]	= "tx_test_loss",
	[DROP_TX_RATE_LIMITED]	= "tx_rate_limited",
	[DROP_HANDOFF_FULL]	= "handoff_full",
	[DROP_STEER_RACE]	= "steer_race",
	[DROP_PEER_TOO_BIG]	= "peer_too_big",
};

const char *drop_reason_name(enum drop_reason r)
{
	return r < DROP_MAX ? drop_names[r] : "?";
}

/*
 * One line of totals, one of the worker's time (its own, over every guest
 * it serves) and more counts, one line of non-zero drop reasons.  Each line leaves
 * with one fprintf(), one write() on unbuffered stderr, so that the lines
 * workers log meanwhile cannot land inside one.
 */
void counters_print(FILE *out, const char *who, const struct counters *c,
		    const struct worker_time *t)
{
	char reasons[DROP_MAX * 40] = "";
	uint64_t dropped = 0;
	size_t len = 0;

	for (int i = 0; i < DROP_MAX; i++) {
		uint64_t n = counter_read(&c->drop[i]);

		dropped += n;
		if (n && len < sizeof(reasons))
			len += (size_t)snprintf(reasons + len, sizeof(reasons) - len, " %s %llu",
						drop_names[i], (unsigned long long)n);
	}
	fprintf(out, "xdpslirp: %s: rx %llu frames %llu bytes, tx %llu frames %llu bytes, dropped %llu, evicted %llu\n",
		who, (unsigned long long)counter_read(&c->rx_frames),
		(unsigned long long)counter_read(&c->rx_bytes),
		(unsigned long long)counter_read(&c->tx_frames),
		(unsigned long long)counter_read(&c->tx_bytes),
		(unsigned long long)dropped,
		(unsigned long long)counter_read(&c->evicted));
	fprintf(out, "xdpslirp: %s: time working %llu ms, spinning %llu ms; handed off %llu frames; tcp fast retransmits %llu; switched %llu\n",
		who, (unsigned long long)(counter_read(&t->work_ns) / 1000000),
		(unsigned long long)(counter_read(&t->spin_ns) / 1000000),
		(unsigned long long)counter_read(&c->handed_off),
		(unsigned long long)counter_read(&c->tcp_fast_retransmits),
		(unsigned long long)counter_read(&c->switched));
	if (counter_read(&c->test_duplicated) || counter_read(&c->test_reordered))
		fprintf(out, "xdpslirp: %s: test faults: duplicated %llu, reordered %llu\n", who,
			(unsigned long long)counter_read(&c->test_duplicated),
			(unsigned long long)counter_read(&c->test_reordered));
	if (dropped)
		fprintf(out, "xdpslirp: %s: dropped:%s\n", who, reasons);
}
