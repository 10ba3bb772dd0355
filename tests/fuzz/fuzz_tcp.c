// SPDX-License-Identifier: MIT
/*
 * fuzz_tcp.c - libFuzzer target for whole TCP and UDP conversations: the
 * flow state machines with live host sockets.
 *
 * The input is a program of small operations on connections between the
 * guest and servers of our own on 127.0.0.1 (hostsock_loop.c): guest
 * segments whose sequence and acknowledgement numbers are chosen near the
 * ones the engine last used (so established and half-open flows are really
 * reached), host events, host data and closes; guest datagrams to the
 * host's UDP server (or to a closed port), the server's answers and socket
 * errors; and timer runs.  Every frame the engine builds is checked for
 * valid IPv4, TCP, UDP and ICMP checksums.  After every operation the flow
 * table must be consistent (the active and pending lists, the free stack
 * and the counts agree) and every TCP flow's sequence space sane (nothing
 * acknowledged that was not sent, no more in flight than a socket buffer
 * holds); at the end every flow is closed and the table must be empty.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "csum.h"
#include "eth.h"
#include "frames.h"
#include "hostsock_loop.h"
#include "hostsock.h"
#include "l4.h"
#include "tcp.h"
#include "tcp_int.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static _Alignas(8) uint8_t tx_raw[2 + FRAME_MAX_SEGS * 4096];
static _Alignas(8) uint8_t rx_raw[2 + 70000];
static uint32_t last_seq, last_ack;	/* of the engine's last segment */

static bool fz_alloc(void *port, struct frame *f, uint32_t len)
{
	(void)port;
	if (len > sizeof(tx_raw) - 2)
		return false;
	f->nseg = 1;
	f->len = len;
	f->seg[0].data = tx_raw + 2;
	f->seg[0].len = len;
	return true;
}

/* Checks a frame the engine sends, and remembers its numbers. */
static void fz_send(void *port, const struct frame *f)
{
	const uint8_t *p = f->seg[0].data;
	uint32_t ihl, l4len, s, d;

	(void)port;
	check(f->len >= 34 && p[12] == 0x08 && p[13] == 0x00);
	ihl = (p[14] & 0xf) * 4u;
	check(csum_ipv4_header(p + 14, ihl) == 0);
	l4len = f->len - 14 - ihl;
	memcpy(&s, p + 26, 4);
	memcpy(&d, p + 30, 4);
	if (p[23] == IPPROTO_UDP && (p[14 + ihl + 6] | p[14 + ihl + 7]))
		check(csum_fold(csum_add(frame_csum(f, 14 + ihl, l4len),
					 csum_pseudo_ipv4(s, d, IPPROTO_UDP, (uint16_t)l4len))) == 0);
	if (p[23] == IPPROTO_ICMP)
		check(csum_fold(frame_csum(f, 14 + ihl, l4len)) == 0);
	if (p[23] != IPPROTO_TCP)
		return;
	check(csum_fold(csum_add(frame_csum(f, 14 + ihl, l4len),
				 csum_pseudo_ipv4(s, d, IPPROTO_TCP, (uint16_t)l4len))) == 0);
	memcpy(&last_seq, p + 14 + ihl + 4, 4);
	memcpy(&last_ack, p + 14 + ihl + 8, 4);
	last_seq = ntohl(last_seq);
	last_ack = ntohl(last_ack);
}

static void fz_discard(void *port, const struct frame *f)
{
	(void)port;
	(void)f;
}

/* Builds a guest segment for connection @conn from 8 input bytes. */
static uint32_t guest_segment(uint8_t *buf, uint8_t conn, const uint8_t *in,
			      const uint8_t *payload, uint32_t plen)
{
	uint8_t *th = build_ipv4(buf, htonl(0x0a000202), IPPROTO_TCP, 28 + plen) + 20;
	uint8_t flags = in[0];
	uint32_t seq = last_ack + (uint32_t)(int8_t)in[1] * (in[2] & 7);
	uint32_t ack = last_seq + (uint32_t)(int8_t)in[3] * (in[4] & 7);

	if (in[2] & 0x80)
		seq = (uint32_t)in[5] << 24 | (uint32_t)in[6] << 16;	/* wild */
	put16(th, (uint16_t)(40000 + (conn & 3)));
	put16(th + 2, 80);
	put16(th + 4, (uint16_t)(seq >> 16));
	put16(th + 6, (uint16_t)seq);
	put16(th + 8, (uint16_t)(ack >> 16));
	put16(th + 10, (uint16_t)ack);
	th[12] = (uint8_t)(7 << 4);	/* 28 bytes: options follow */
	th[13] = flags;
	put16(th + 14, (uint16_t)(in[7] << 8 | in[5]));
	put16(th + 16, 0);		/* offloaded: the engine must not care */
	put16(th + 18, 0);
	memcpy(th + 20, (uint8_t[]){ 2, 4, in[6], in[7], 1, 3, 3, in[5] & 15 }, 8);
	memcpy(th + 28, payload, plen);
	return 14 + 20 + 28 + plen;
}

/*
 * A guest datagram for connection @conn to the host's UDP server, or with
 * bit 2 of @conn to the port after it (closed: ICMP comes back), or with
 * bit 3 a DNS query to the DNS address (the same server is the upstream
 * resolver: its answers are the upstream's).  The UDP checksum is 0 (none,
 * as IPv4 allows).
 */
static uint32_t guest_datagram(uint8_t *buf, uint8_t conn, const uint8_t *payload,
			       uint32_t plen)
{
	bool dns = conn & 8;
	uint8_t *uh = build_ipv4(buf, htonl(dns ? 0x0a000203 : 0x0a000202), IPPROTO_UDP,
				 8 + plen) + 20;
	uint16_t port;

	if (hostsock_loop_udp_server(&port) < 0)
		port = 9;
	put16(uh, (uint16_t)(50000 + (conn & 3)));
	put16(uh + 2, dns ? 53 : (uint16_t)(port + !!(conn & 4)));
	put16(uh + 4, (uint16_t)(8 + plen));
	put16(uh + 6, 0);
	memcpy(uh + 8, payload, plen);
	return 14 + 20 + 8 + plen;
}

/* The UDP server answers what it got, @arg picks the size; then a socket
 * event (with bit 7, an error too) on the UDP flows @arg's low bits pick. */
static void udp_host_op(struct gw_ctx *ctx, uint8_t arg)
{
	struct flow_table *t = ctx->flows;
	static uint8_t junk[2048];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	uint16_t port;
	int srv = hostsock_loop_udp_server(&port);

	if (srv >= 0 && recvfrom(srv, junk, sizeof(junk), MSG_DONTWAIT,
				 (struct sockaddr *)&from, &len) >= 0)
		sendto(srv, junk, (size_t)arg * 7, MSG_DONTWAIT, (struct sockaddr *)&from, len);
	for (uint32_t i = t->active; i != FLOW_NONE; i = t->flows[i].next) {
		struct flow *fl = &t->flows[i];

		if (fl->key.proto == IPPROTO_UDP && (i & 3) == (arg & 3)) {
			l4_sock_event(ctx, fl, EPOLLIN | (arg & 0x80 ? EPOLLERR : 0));
			return;
		}
	}
}

/* The flow table agrees with itself, and every TCP flow's numbers are sane. */
static void check_flows(const struct flow_table *t)
{
	uint32_t active = 0, pending = 0, dgram = 0;

	for (uint32_t i = t->active; i != FLOW_NONE; i = t->flows[i].next) {
		const struct flow *fl = &t->flows[i];

		check(i < t->max && fl->state != FLOW_FREE && ++active <= t->max);
		if (fl->key.proto != IPPROTO_TCP) {
			dgram++;
			continue;
		}
		check(fl->state != FLOW_ESTABLISHED ||
		      (seq_le(fl->snd_una, fl->snd_nxt) &&
		       fl->snd_nxt - fl->snd_una <= HOSTSOCK_SNDBUF_MAX * 2));
	}
	for (uint32_t i = t->pend_head; i != FLOW_NONE; i = t->flows[i].pend_next)
		check(i < t->max && (t->flows[i].flags & FLOW_PENDING) && ++pending <= t->max);
	check(active == t->count && pending == t->npending && dgram == t->ndgram);
	check(t->count + t->nstack + (t->max - t->fresh) == t->max);
}

static void host_op(struct gw_ctx *ctx, uint8_t op, uint8_t arg)
{
	struct flow_table *t = ctx->flows;
	static uint8_t junk[65536];

	for (uint32_t i = t->active; i != FLOW_NONE; i = t->flows[i].next) {
		struct flow *fl = &t->flows[i];
		int peer = hostsock_loop_peer(fl->sock);

		if ((i & 3) != (arg & 3))
			continue;
		switch (op) {
		case 1:
			l4_sock_event(ctx, fl, EPOLLIN | EPOLLOUT);
			return;
		case 2:
			if (peer >= 0 && send(peer, junk, (size_t)arg * 257, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				return;
			l4_sock_event(ctx, fl, EPOLLIN);
			return;
		case 3:
			if (peer >= 0)
				shutdown(peer, SHUT_WR);
			l4_sock_event(ctx, fl, EPOLLIN | EPOLLRDHUP);
			return;
		case 4:
			if (peer >= 0 && recv(peer, junk, sizeof(junk), MSG_DONTWAIT) < 0)
				return;
			l4_sock_event(ctx, fl, EPOLLOUT);
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_table flows;
	static struct frag_table *frags;
	static int epfd = -1;
	struct gateway gw;
	struct counters cnt = { 0 };
	struct gw_ctx ctx;
	size_t pos = 0;
	uint16_t port;

	if (!flows.max) {
		flow_table_init(&flows, 16);
		frags = frag_table_new();
		epfd = epoll_create1(EPOLL_CLOEXEC);
	}
	test_gateway(&gw);
	if (hostsock_loop_udp_server(&port) >= 0) {	/* the upstream resolver */
		gw.n_dns = 1;
		gw.dns[0].in4 = (struct sockaddr_in){ .sin_family = AF_INET,
			.sin_port = htons(port), .sin_addr = { htonl(INADDR_LOOPBACK) } };
	}
	test_ctx(&ctx, &gw, &cnt, &flows, frags);
	ctx.epfd = epfd;
	ctx.out.alloc = fz_alloc;
	ctx.out.send = fz_send;
	ctx.out.discard = fz_discard;
	ctx.now = 1000000000ull;
	memcpy(ctx.guest_mac, GUEST_MAC, 6);
	last_seq = last_ack = 0;

	while (pos + 10 <= size) {
		uint8_t op = data[pos] & 7, conn = data[pos + 1];

		if (op == 0) {
			uint32_t plen = data[pos + 9] % 64 * 23;
			const uint8_t *payload = data + pos + 10;
			struct frame f;

			if (plen > size - pos - 10)
				plen = (uint32_t)(size - pos - 10);
			frame_over(&f, rx_raw + 2,
				   guest_segment(rx_raw + 2, conn, data + pos + 2, payload, plen));
			if (eth_input(&ctx, &f) == VERDICT_REPLY)
				fz_send(NULL, &f);
			tcp_flush(&ctx);
			pos += plen;
		} else if (op <= 4) {
			host_op(&ctx, op, conn);
		} else if (op == 5) {
			uint32_t plen = data[pos + 9] % 64 * 23;
			struct frame f;

			if (plen > size - pos - 10)
				plen = (uint32_t)(size - pos - 10);
			frame_over(&f, rx_raw + 2,
				   guest_datagram(rx_raw + 2, conn, data + pos + 10, plen));
			if (eth_input(&ctx, &f) == VERDICT_REPLY)
				fz_send(NULL, &f);
			pos += plen;
		} else if (op == 6) {
			udp_host_op(&ctx, conn);
		} else {
			ctx.now += (uint64_t)data[pos + 2] << 24;	/* up to 4 s */
			l4_timers(&ctx);
		}
		pos += 10;
		check_flows(&flows);
	}
	l4_close_all(&ctx);
	check_flows(&flows);
	check(flows.count == 0 && flows.npending == 0);
	hostsock_loop_reset();
	return 0;
}
