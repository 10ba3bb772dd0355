/* SPDX-License-Identifier: MIT */
/*
 * frames.h - test helpers: a gateway fixture, frame builders, and a naive
 * reference checksum that shares no code with user/net/csum.c.
 */
#ifndef XDPSLIRP_TEST_FRAMES_H
#define XDPSLIRP_TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "frag.h"
#include "frame.h"
#include "gateway.h"
#include "udp.h"

static const uint8_t GW_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t GUEST_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x64 };

static inline void test_gateway(struct gateway *gw)
{
	memset(gw, 0, sizeof(*gw));
	memcpy(gw->mac, GW_MAC, 6);
	gw->gw_addr = htonl(0x0a000202);
	gw->dns_addr = htonl(0x0a000203);
	gw->guest_addr = htonl(0x0a000264);
	gw->dhcp_addr = gw->guest_addr;
	gw->netmask = htonl(0xffffff00);
	gw->mtu = 65520;
	gw->udp_timeout_s = 60;
	gw->tcp_sndbuf = 8 << 20;
	gw->ipv6 = true;	/* fd00::2, fd00::3, fd00::100, fe80::2 */
	gw->gw6 = (struct inany){ { 0xfd, [15] = 2 } };
	gw->dns6 = (struct inany){ { 0xfd, [15] = 3 } };
	gw->guest6 = (struct inany){ { 0xfd, [14] = 1 } };
	gw->ll6 = (struct inany){ { 0xfe, 0x80, [15] = 2 } };
	gw->ra_interval_ms = 600000;
}

static bool no_alloc(void *port, struct frame *f, uint32_t len)
{
	(void)port;
	(void)f;
	(void)len;
	return false;
}

static void no_send(void *port, const struct frame *f)
{
	(void)port;
	(void)f;
}

static uint8_t test_scratch[UDP_SCRATCH];

/* Protocol context over @gw, @cnt, @flows and @frags (all made by the
 * caller); frames the code would build itself cannot be allocated
 * (tx_no_frames).
 */
static inline void test_ctx(struct gw_ctx *ctx, const struct gateway *gw,
			    struct counters *cnt, struct flow_table *flows,
			    struct frag_table *frags)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->gw = gw;
	ctx->cnt = cnt;
	ctx->flows = flows;
	ctx->epfd = -1;
	ctx->out.alloc = no_alloc;
	ctx->out.send = no_send;
	ctx->out.discard = no_send;
	ctx->scratch = test_scratch;
	ctx->icmp_raw = -1;
	ctx->icmp6_raw = -1;
	ctx->frags = frags;
}

/* A protocol test's gateway, worker context and flow table: made, and freed. */
static inline void test_env_init(struct gateway *gw, struct counters *cnt, struct gw_ctx *ctx,
				 struct flow_table *flows)
{
	test_gateway(gw);
	test_ctx(ctx, gw, cnt, flows, frag_table_new());
	flow_table_init(flows, 16);
}

static inline void test_env_fini(struct gw_ctx *ctx, struct flow_table *flows)
{
	flow_table_fini(flows);
	frag_table_free(ctx->frags);
}

/* Naive RFC 1071: big-endian 16-bit words, folded, complemented. */
static inline uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Single-piece frame over @buf. */
static inline void frame_over(struct frame *f, uint8_t *buf, uint32_t len)
{
	f->nseg = 1;
	f->len = len;
	f->seg[0].data = buf;
	f->seg[0].len = len;
}

/* Writes the Ethernet header of a frame from the guest to the gateway. */
static inline void put_eth_from_guest(uint8_t *buf, uint16_t ethertype)
{
	memcpy(buf, GW_MAC, 6);
	memcpy(buf + 6, GUEST_MAC, 6);
	put16(buf + 12, ethertype);
}

/*
 * Writes the Ethernet and IPv4 headers (20 bytes, DF, TTL 17: replies must
 * rewrite it) of a datagram from the guest (10.0.2.100) to @dst with @l4len
 * bytes of @proto after them.  Returns the IPv4 header.
 */
static inline uint8_t *build_ipv4(uint8_t *buf, uint32_t dst, uint8_t proto,
				  size_t l4len)
{
	uint8_t *ip = buf + 14;

	put_eth_from_guest(buf, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);
	ip[8] = 17;
	ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 2, 100 }, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, ref_csum(ip, 20));
	return ip;
}

/*
 * Writes an Ethernet + IPv4 + ICMP echo request from the guest to @dst with
 * @plen payload bytes (pattern i & 0xff) into @buf; returns the frame length.
 */
static inline uint32_t build_echo(uint8_t *buf, uint32_t dst, size_t plen)
{
	uint8_t *icmp = build_ipv4(buf, dst, 1, 8 + plen) + 20;

	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x0042);
	put16(icmp + 6, 0x0007);
	for (size_t i = 0; i < plen; i++)
		icmp[8 + i] = (uint8_t)i;
	put16(icmp + 2, ref_csum(icmp, 8 + plen));
	return (uint32_t)(14 + 20 + 8 + plen);
}

/* What the gateway must answer to build_echo(): built independently. */
static inline void expected_echo_reply(uint8_t *buf, uint32_t len)
{
	uint8_t *ip = buf + 14, *icmp = ip + 20, tmp[4];

	memcpy(buf, GUEST_MAC, 6);
	memcpy(buf + 6, GW_MAC, 6);
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	ip[8] = 64;
	put16(ip + 10, 0);
	put16(ip + 10, ref_csum(ip, 20));
	icmp[0] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, ref_csum(icmp, len - 34));
}

#endif
