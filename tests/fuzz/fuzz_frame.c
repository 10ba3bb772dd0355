// SPDX-License-Identifier: MIT
/*
 * fuzz_frame.c - libFuzzer target for the frame-input path (eth_input()).
 *
 * Input: byte 0 chooses how the frame is cut into pieces (as AF_XDP
 * multi-buffer would cut it, but at any size), the rest is the frame.
 * Built with -DFUZZ_IPV6 (fuzz_ipv6), the rest is what follows an IPv6
 * header instead: byte 1 its next header, byte 2 its hop limit, byte 3 picks
 * the source (the guest's global or link-local address, ::) and byte 4 the
 * destination (the gateway's addresses, a remote host, the multicast groups
 * of NDP and DHCPv6); the harness writes Ethernet and IPv6 headers with a
 * true payload length, and completes the checksum of an ICMPv6 payload
 * unless byte 3 has its top bit set, so that inputs reach extension
 * headers, fragments, NDP, ICMPv6, DHCPv6 and the transports.
 * Built with -DFUZZ_VNET (fuzz_vnet), bytes 1-10 are the virtio-net header
 * a guest writes before the frame on a tap (vnet_rx_check()): a header it
 * accepts must describe the frame truthfully enough for what follows, and
 * its flags (partial checksum, TCP super-frame) go with the frame into
 * eth_input().
 * Built with -DFUZZ_UDP4 (fuzz_udp4), the rest is a UDP payload from the
 * guest: byte 1 picks where it goes (DHCP to the broadcast address, DNS to
 * the DNS address, or another port of the gateway's) and the harness writes
 * true Ethernet, IPv4 and UDP headers, so that inputs reach deep into the
 * DHCP server and the DNS forwarder's query checks.
 * Built with -DFUZZ_ARP (fuzz_arp), the rest is an ARP message from the
 * guest: byte 1 picks the Ethernet destination (broadcast or the gateway's
 * MAC) and the harness writes the Ethernet header with EtherType ARP; a
 * reply must come from the gateway's MAC, in 42 bytes.
 * Checked beyond "no crash" (ASan/UBSan do that): a dropped frame counts
 * exactly one reason; a reply is no longer than the request, its pieces add
 * up, and every checksum in it verifies (IPv4 and IPv6 alike).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"
#include "eth.h"
#include "frames.h"
#include "ip.h"
#include "tcp.h"
#include "vnet.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* + 2: frames start 2 bytes past a 4-byte boundary (see frame.h) */
static _Alignas(8) uint8_t raw[2 + FRAME_MAX_SEGS * 4096];
static uint8_t *const buf = raw + 2;

static void cut(struct frame *f, size_t len, size_t piece)
{
	size_t pos = 0;

	f->nseg = 0;
	while (pos < len || f->nseg == 0) {
		size_t n = len - pos;

		if (n > piece && f->nseg < FRAME_MAX_SEGS - 1)
			n = piece;
		f->seg[f->nseg].data = buf + pos;
		f->seg[f->nseg++].len = (uint32_t)n;
		pos += n;
	}
	f->len = (uint32_t)len;
}

/* A frame the gateway sends: its pieces add up, and every checksum verifies. */
static void check_frame(const struct frame *f)
{
	uint32_t sum = 0;
	const uint8_t *p = f->seg[0].data;

	check(f->len >= 42);
	for (uint32_t i = 0; i < f->nseg; i++)
		sum += f->seg[i].len;
	check(sum == f->len);
	check(!memcmp(p + 6, GW_MAC, 6));
	if (p[12] == 0x08 && p[13] == 0x00) {
		uint32_t ihl = (p[14] & 0xf) * 4u, l4len = f->len - 14 - ihl, sum = 0;
		uint32_t saddr, daddr;

		check(csum_ipv4_header(p + 14, ihl) == 0);
		memcpy(&saddr, p + 26, 4);
		memcpy(&daddr, p + 30, 4);
		sum = 0;
		if (p[23] == 6 || p[23] == 17)	/* TCP, UDP: the pseudo-header counts */
			sum = csum_pseudo_ipv4(saddr, daddr, p[23], (uint16_t)l4len);
		if (!(ntohs(*(const uint16_t *)(p + 20)) & 0x3fff))	/* fragments: no */
			check(csum_fold(csum_add(frame_csum(f, 14 + ihl, l4len), sum)) == 0);
	} else if (p[12] == 0x86 && p[13] == 0xdd) {
		struct inany src, dst;
		uint32_t plen = (uint32_t)(p[18] << 8 | p[19]);

		check(f->len == 14 + 40 + plen);	/* replies carry no extension headers */
		memcpy(src.b, p + 22, 16);
		memcpy(dst.b, p + 38, 16);
		check(csum_fold(csum_add(frame_csum(f, 54, plen),
					 ip_pseudo_sum(&src, &dst, p[20], plen))) == 0);
	} else {	/* ARP: a reply, from our MAC */
		check(f->len == 42 && f->seg[0].len == 42);
		check(p[20] == 0 && p[21] == 2 && !memcmp(p + 22, GW_MAC, 6));
	}
}

/* The frames the gateway builds (NDP, DHCP, errors) go here and are checked. */
static _Alignas(8) uint8_t out_raw[2 + 70000];

static bool fz_alloc(void *port, struct frame *f, uint32_t len)
{
	(void)port;
	if (len > sizeof(out_raw) - 2)
		return false;
	frame_over(f, out_raw + 2, len);
	return true;
}

static void fz_send(void *port, const struct frame *f)
{
	(void)port;
	check_frame(f);
}

static void fz_discard(void *port, const struct frame *f)
{
	(void)port;
	(void)f;
}

#ifdef FUZZ_IPV6
#define IN_SKIP	4	/* header bytes of the input after byte 0 */

static const uint8_t addrs[][16] = {
	{ 0xfd, [14] = 1 },				/* fd00::100, the guest */
	{ 0xfe, 0x80, [8] = 2, [15] = 0x64 },		/* its link-local address */
	{ 0 },						/* :: */
	{ 0xfd, [15] = 2 }, { 0xfd, [15] = 3 },		/* fd00::2, fd00::3 */
	{ 0xfe, 0x80, [15] = 2 },			/* fe80::2 */
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 9 },		/* a remote host */
	{ 0xff, 0x02, [11] = 1, 0xff, 0, 0, 2 },	/* solicited-node of ::2 */
	{ 0xff, 0x02, [15] = 2 },			/* all routers */
	{ 0xff, 0x02, [13] = 1, [15] = 2 },		/* DHCPv6 servers */
};

/* Ethernet and IPv6 headers before the payload @p, from the input's bytes. */
static size_t frame_from_input(const uint8_t *in, size_t n)
{
	size_t len = 54 + n - IN_SKIP;

	memcpy(buf, GW_MAC, 6);
	memcpy(buf + 6, GUEST_MAC, 6);
	buf[12] = 0x86;
	buf[13] = 0xdd;
	memset(buf + 14, 0, 8);
	buf[14] = 0x60;
	buf[18] = (uint8_t)((n - IN_SKIP) >> 8);
	buf[19] = (uint8_t)(n - IN_SKIP);
	buf[20] = in[0];
	buf[21] = in[1];
	memcpy(buf + 22, addrs[in[2] % 3], 16);
	memcpy(buf + 38, addrs[in[3] % (sizeof(addrs) / 16)], 16);
	memcpy(buf + 54, in + IN_SKIP, n - IN_SKIP);
	if (in[0] == IPPROTO_ICMPV6 && n - IN_SKIP >= 4 && !(in[2] & 0x80)) {
		struct inany src, dst;
		uint16_t c;

		memcpy(src.b, buf + 22, 16);
		memcpy(dst.b, buf + 38, 16);
		buf[56] = buf[57] = 0;
		c = csum_fold(csum_partial(buf + 54, n - IN_SKIP,
					   ip_pseudo_sum(&src, &dst, IPPROTO_ICMPV6,
							 (uint32_t)(n - IN_SKIP))));
		memcpy(buf + 56, &c, 2);
	}
	return len;
}
#elif defined(FUZZ_UDP4)
#define IN_SKIP	1

/* Ethernet, IPv4 and UDP headers before the payload, to where byte 0 says. */
static size_t frame_from_input(const uint8_t *in, size_t n)
{
	static const struct { uint8_t dst[4]; uint16_t sport, dport; } to[] = {
		{ { 255, 255, 255, 255 }, 68, 67 },	/* DHCP */
		{ { 10, 0, 2, 3 }, 40000, 53 },		/* DNS */
		{ { 10, 0, 2, 2 }, 40000, 7 },		/* the gateway: the host */
	};
	size_t plen = n - IN_SKIP, len = 42 + plen;
	unsigned w = in[0] % 3;
	uint16_t c;

	memcpy(buf, w ? GW_MAC : (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 6);
	memcpy(buf + 6, GUEST_MAC, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	memset(buf + 14, 0, 28);
	buf[14] = 0x45;
	buf[16] = (uint8_t)((28 + plen) >> 8);
	buf[17] = (uint8_t)(28 + plen);
	buf[22] = 64;
	buf[23] = IPPROTO_UDP;
	if (w)
		memcpy(buf + 26, (const uint8_t[]){ 10, 0, 2, 100 }, 4);
	memcpy(buf + 30, to[w].dst, 4);
	c = csum_ipv4_header(buf + 14, 20);
	memcpy(buf + 24, &c, 2);
	buf[34] = (uint8_t)(to[w].sport >> 8);
	buf[35] = (uint8_t)to[w].sport;
	buf[36] = (uint8_t)(to[w].dport >> 8);
	buf[37] = (uint8_t)to[w].dport;
	buf[38] = (uint8_t)((8 + plen) >> 8);
	buf[39] = (uint8_t)(8 + plen);
	memcpy(buf + 42, in + IN_SKIP, plen);	/* UDP checksum 0: none */
	return len;
}
#elif defined(FUZZ_ARP)
#define IN_SKIP	1

/* An Ethernet header with EtherType ARP before the input's message. */
static size_t frame_from_input(const uint8_t *in, size_t n)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memcpy(buf, in[0] & 1 ? GW_MAC : bcast, 6);
	memcpy(buf + 6, GUEST_MAC, 6);
	buf[12] = 0x08;
	buf[13] = 0x06;
	memcpy(buf + 14, in + IN_SKIP, n - IN_SKIP);
	return 14 + n - IN_SKIP;
}
#else
#ifdef FUZZ_VNET
#define IN_SKIP	VNET_HDR_LEN
#else
#define IN_SKIP	0
#endif

static size_t frame_from_input(const uint8_t *in, size_t n)
{
	memcpy(buf, in + IN_SKIP, n - IN_SKIP);
	return n - IN_SKIP;
}
#endif

/* The flags (and segment size) the input's virtio-net header earns @f;
 * false: dropped.
 */
static bool vnet_flags(const uint8_t *in, size_t len, struct frame *f)
{
	f->flags = 0;
	f->gso_size = 0;
#ifdef FUZZ_VNET
	struct virtio_net_hdr h;

	memcpy(&h, in, sizeof(h));
	f->gso_size = h.gso_size;
	if (!vnet_rx_check(&h, buf, (uint32_t)len, true, &f->flags))
		return false;
	if (f->flags & FRAME_CSUM_PARTIAL)
		check((uint32_t)h.csum_start + h.csum_offset + 2 <= len);
	if (f->flags & FRAME_GSO)
		check(f->flags & FRAME_CSUM_PARTIAL && h.gso_size);
	if (f->flags & FRAME_GSO_UDP)
		check(f->flags & FRAME_GSO && h.csum_offset == 6);
#else
	(void)in;
	(void)len;
#endif
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_table flows;
	static struct frag_table *frags;
	struct gateway gw;
	struct counters cnt = { 0 };
	struct gw_ctx ctx;
	struct frame f;
	uint64_t drops = 0;

	size_t len;

	if (size < 1 + IN_SKIP || size - 1 > sizeof(raw) - 2 - 54 || size - 1 - IN_SKIP > 65535)
		return 0;
	test_gateway(&gw);
	if (!flows.max) {
		flow_table_init(&flows, 16);
		frags = frag_table_new();
	}
	frag_table_clear(frags);	/* no state across inputs */
	test_ctx(&ctx, &gw, &cnt, &flows, frags);
	ctx.out.alloc = fz_alloc;
	ctx.out.send = fz_send;
	ctx.out.discard = fz_discard;
	len = frame_from_input(data + 1, size - 1);
	cut(&f, len, 1 + (size_t)data[0] * 17);
	if (!vnet_flags(data + 1, len, &f))
		return 0;

	switch (eth_input(&ctx, &f)) {
	case VERDICT_REPLY:
		check(f.len <= len);	/* no longer than the request */
		check_frame(&f);
		return 0;
	case VERDICT_HELD:
		udp_flush(&ctx);
		tcp_flush(&ctx);
		return 0;
	case VERDICT_DONE:
		tcp_flush(&ctx);
		break;
	}
	for (int i = 0; i < DROP_MAX; i++)
		drops += cnt.drop[i];
	check(drops <= 1);	/* TCP segments may be consumed without a drop */
	return 0;
}
