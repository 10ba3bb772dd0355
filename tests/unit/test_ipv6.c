// SPDX-License-Identifier: MIT
/*
 * IPv6 from the guest: the fixed header, the extension header rules of RFC
 * 8200 (and 5095, 4302, 6946, 7112, 5722), NDP validation and answers (RFC
 * 4861), Router Advertisement contents (RFC 4861, 8106, 8319), ICMPv6 echo
 * and errors (RFC 4443) and DHCPv6 (RFC 8415).  Frames are built here byte
 * by byte; what the gateway sends is captured and checked field by field,
 * checksums recomputed independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dhcp6.h"
#include "eth.h"
#include "frames.h"
#include "ipv6.h"
#include "ndp.h"

#define MAX_SENT 4

struct fixture {
	struct gateway gw;
	struct counters cnt;
	struct gw_ctx ctx;
	struct flow_table flows;
	struct frame f;
	uint8_t *buf;
	_Alignas(8) uint8_t raw_buf[70002];
	unsigned nsent;
	uint32_t sent_len[MAX_SENT];
	_Alignas(8) uint8_t sent[MAX_SENT][4096 + 2];
};

static struct fixture *cur;

/* Frames sent are kept, the first MAX_SENT of them; the rest only counted. */
static bool cap_alloc(void *port, struct frame *f, uint32_t len)
{
	unsigned slot = cur->nsent < MAX_SENT ? cur->nsent : MAX_SENT - 1;

	(void)port;
	if (len > 4096)
		return false;
	frame_over(f, cur->sent[slot] + 2, len);
	return true;
}

static void cap_send(void *port, const struct frame *f)
{
	(void)port;
	cur->sent_len[cur->nsent < MAX_SENT ? cur->nsent : MAX_SENT - 1] = f->len;
	cur->nsent++;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->buf = fx->raw_buf + 2;
	test_env_init(&fx->gw, &fx->cnt, &fx->ctx, &fx->flows);
	fx->gw.n_dns = 1;
	fx->gw.dns[0].in4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(53),
						  .sin_addr = { htonl(0x7f000001) } };
	fx->ctx.out.alloc = cap_alloc;
	fx->ctx.out.send = cap_send;
	memcpy(fx->ctx.guest_mac, GUEST_MAC, 6);
	cur = fx;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	test_env_fini(&fx->ctx, &fx->flows);
	free(fx);
	return 0;
}

static const uint8_t GUEST_LL[16] = { 0xfe, 0x80, [8] = 0x02, [15] = 0x64 };
static const uint8_t GUEST6[16] = { 0xfd, [14] = 1 };
static const uint8_t GW6[16] = { 0xfd, [15] = 2 };
static const uint8_t DNS6[16] = { 0xfd, [15] = 3 };
static const uint8_t LL6[16] = { 0xfe, 0x80, [15] = 2 };
static const uint8_t REMOTE6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
static const uint8_t UNSPEC[16];
static const uint8_t ALL_NODES[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t SNM_GW[16] = { 0xff, 0x02, [11] = 1, 0xff, 0, 0, 2 };
static const uint8_t DHCP_SERVERS[16] = { 0xff, 0x02, [13] = 1, [15] = 2 };

/* The ICMPv6 (or any upper-layer) checksum over the pseudo-header, by the book. */
static uint16_t ref_csum6(const uint8_t *src, const uint8_t *dst, uint8_t nh, const uint8_t *l4,
			  uint32_t len)
{
	uint8_t buf[40 + 4096];

	memcpy(buf, src, 16);
	memcpy(buf + 16, dst, 16);
	memset(buf + 32, 0, 8);
	buf[34] = (uint8_t)(len >> 8);
	buf[35] = (uint8_t)len;
	buf[39] = nh;
	memcpy(buf + 40, l4, len);
	return ref_csum(buf, 40 + len);
}

/*
 * Writes Ethernet + IPv6 (+ @ext, extension headers, first next header
 * @nh0) + @l4 of upper-layer @proto; fills an ICMPv6 checksum at l4[2] when
 * @proto is 58.  Returns the frame length.
 */
static uint32_t build6(uint8_t *buf, const uint8_t *src, const uint8_t *dst, uint8_t hops,
		       uint8_t nh0, const uint8_t *ext, uint32_t extlen, uint8_t proto,
		       uint8_t *l4, uint32_t l4len)
{
	uint8_t *ip = buf + 14;

	put_eth_from_guest(buf, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(extlen + l4len));
	ip[6] = extlen ? nh0 : proto;
	ip[7] = hops;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	if (extlen)
		memcpy(ip + 40, ext, extlen);
	if (proto == 58) {
		put16(l4 + 2, 0);
		put16(l4 + 2, ref_csum6(src, dst, 58, l4, l4len));
	}
	memcpy(ip + 40 + extlen, l4, l4len);
	return 14 + 40 + extlen + l4len;
}

static uint32_t build_simple(uint8_t *buf, const uint8_t *src, const uint8_t *dst,
			     uint8_t hops, uint8_t proto, uint8_t *l4, uint32_t l4len)
{
	return build6(buf, src, dst, hops, 0, NULL, 0, proto, l4, l4len);
}

static enum verdict run(struct fixture *fx, uint32_t len)
{
	memset(&fx->cnt, 0, sizeof(fx->cnt));
	fx->nsent = 0;
	frame_over(&fx->f, fx->buf, len);
	return eth_input(&fx->ctx, &fx->f);
}

/* Runs the frame; checks it was dropped for @why alone and nothing was sent. */
static void assert_dropped(struct fixture *fx, uint32_t len, enum drop_reason why)
{
	uint64_t total = 0;

	assert_int_equal(run(fx, len), VERDICT_DONE);
	for (int i = 0; i < DROP_MAX; i++)
		total += fx->cnt.drop[i];
	if (fx->cnt.drop[why] != 1)
		fail_msg("expected drop %s, got %s", drop_reason_name(why),
			 total ? "another" : "none");
	assert_int_equal(total, 1);
	assert_int_equal(fx->nsent, 0);
}

/* The one frame sent: checks its IPv6 header and upper-layer checksum; returns its payload. */
static const uint8_t *sent6(struct fixture *fx, const uint8_t *src, const uint8_t *dst,
			    uint8_t hops, uint8_t nh, uint32_t *plen)
{
	const uint8_t *p = fx->sent[0] + 2, *ip = p + 14;

	assert_int_equal(fx->nsent, 1);
	assert_memory_equal(p + 6, GW_MAC, 6);
	assert_int_equal(p[12] << 8 | p[13], 0x86dd);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(ip[6], nh);
	assert_int_equal(ip[7], hops);
	assert_memory_equal(ip + 8, src, 16);
	assert_memory_equal(ip + 24, dst, 16);
	*plen = (uint32_t)(ip[4] << 8 | ip[5]);
	assert_int_equal(fx->sent_len[0], 14 + 40 + *plen);
	if (dst[0] == 0xff)	/* RFC 2464: 33:33 + low 32 bits */
		assert_memory_equal(p, ((uint8_t[]){ 0x33, 0x33, dst[12], dst[13], dst[14],
						     dst[15] }), 6);
	else
		assert_memory_equal(p, GUEST_MAC, 6);
	assert_int_equal(ref_csum6(src, dst, nh, ip + 40, *plen), 0);
	return ip + 40;
}

/* Finds NDP option @type in @o (@len bytes). */
static const uint8_t *ndp_opt(const uint8_t *o, uint32_t len, uint8_t type)
{
	for (uint32_t i = 0; i + 2 <= len && o[i + 1]; i += o[i + 1] * 8u)
		if (o[i] == type)
			return o + i;
	return NULL;
}

static uint32_t ns(uint8_t *m, const uint8_t *target, bool slla)
{
	memset(m, 0, 32);
	m[0] = 135;
	memcpy(m + 8, target, 16);
	if (!slla)
		return 24;
	m[24] = 1;
	m[25] = 1;
	memcpy(m + 26, GUEST_MAC, 6);
	return 32;
}

static void ns_for_each_gateway_address(void **state)
{
	struct fixture *fx = *state;
	const uint8_t *targets[] = { GW6, DNS6, LL6 };
	uint8_t m[32];

	for (unsigned i = 0; i < 3; i++) {
		uint32_t plen, len = build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m,
						  ns(m, targets[i], true));
		const uint8_t *na;

		assert_int_equal(run(fx, len), VERDICT_DONE);
		na = sent6(fx, targets[i], GUEST_LL, 255, 58, &plen);
		assert_int_equal(plen, 32);
		assert_int_equal(na[0], 136);
		assert_int_equal(na[1], 0);
		assert_int_equal(na[4], 0x80 | 0x40 | 0x20);	/* R, S, O */
		assert_memory_equal(na + 8, targets[i], 16);
		assert_int_equal(na[24], 2);			/* target link-layer */
		assert_int_equal(na[25], 1);
		assert_memory_equal(na + 26, GW_MAC, 6);
	}
}

static void dad_probe_for_gateway_is_defended(void **state)
{
	struct fixture *fx = *state;
	uint8_t m[32];
	uint32_t plen, len = build_simple(fx->buf, UNSPEC, SNM_GW, 255, 58, m, ns(m, GW6, false));
	const uint8_t *na;

	assert_int_equal(run(fx, len), VERDICT_DONE);
	na = sent6(fx, GW6, ALL_NODES, 255, 58, &plen);
	assert_int_equal(na[4], 0x80 | 0x20);		/* not solicited */
}

static void ns_rules(void **state)
{
	struct fixture *fx = *state;
	uint8_t m[40];
	uint32_t n;

	n = ns(m, GUEST6, true);		/* the guest's own: never answered */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, n), DROP_NDP_IGNORED);
	n = ns(m, REMOTE6, true);		/* nobody's */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, n), DROP_NDP_IGNORED);
	n = ns(m, GW6, true);			/* hop limit 254: from off the link */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 254, 58, m, n),
		       DROP_NDP_MALFORMED);
	m[1] = 1;				/* code 1 */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, n),
		       DROP_NDP_MALFORMED);
	n = ns(m, GW6, true);
	m[25] = 0;				/* option of length 0 */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, n),
		       DROP_NDP_MALFORMED);
	n = ns(m, GW6, true);
	m[25] = 2;				/* option past the end */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, n),
		       DROP_NDP_MALFORMED);
	n = ns(m, ALL_NODES, true);		/* multicast target */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, n),
		       DROP_NDP_MALFORMED);
	n = ns(m, GW6, true);			/* DAD with a source link-layer option */
	assert_dropped(fx, build_simple(fx->buf, UNSPEC, SNM_GW, 255, 58, m, n),
		       DROP_NDP_MALFORMED);
	n = ns(m, GW6, false);			/* DAD to a unicast address */
	assert_dropped(fx, build_simple(fx->buf, UNSPEC, GW6, 255, 58, m, n), DROP_NDP_MALFORMED);
	n = ns(m, GW6, true);			/* too short */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, 20),
		       DROP_NDP_MALFORMED);
	n = build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, ns(m, GW6, true));
	fx->buf[14 + 40 + 2] ^= 1;		/* checksum */
	assert_dropped(fx, n, DROP_ICMP_CSUM);
	m[0] = 134;				/* an RA from the guest */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, ALL_NODES, 255, 58, m, 16),
		       DROP_NDP_IGNORED);
	m[0] = 137;				/* a Redirect */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, ALL_NODES, 255, 58, m, 40),
		       DROP_NDP_IGNORED);
	m[0] = 143;				/* MLDv2 report: quietly */
	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, ALL_NODES, 1, 58, m, 8), DROP_MLD);
}

static const uint8_t *ra_for(struct fixture *fx, const uint8_t *src, const uint8_t *want_dst,
			     uint32_t *plen)
{
	uint8_t rs[16] = { 133 };
	uint32_t len = build_simple(fx->buf, src, ALL_NODES, 255, 58, rs, 8);

	assert_int_equal(run(fx, len), VERDICT_DONE);
	return sent6(fx, LL6, want_dst, 255, 58, plen);
}

static void guest_address_learnt_from_solicitations(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t slaac[16] = { 0xfd, [8] = 0x12, 0x34, [15] = 0x56 };
	struct guest_seen seen = { 0 };
	struct inany a;
	uint8_t m[32];

	assert_false(ipv6_guest_seen_load(&seen, &a));
	fx->gw.seen = &seen;
	/* a DAD probe names the address the guest takes */
	run(fx, build_simple(fx->buf, UNSPEC, SNM_GW, 255, 58, m, ns(m, slaac, false)));
	assert_true(ipv6_guest_seen_load(&seen, &a));
	assert_memory_equal(a.b, slaac, 16);
	/* resolving us from its static address; a link-local source is not one */
	run(fx, build_simple(fx->buf, GUEST6, SNM_GW, 255, 58, m, ns(m, GW6, true)));
	assert_true(ipv6_guest_seen_load(&seen, &a));
	assert_memory_equal(a.b, GUEST6, 16);
	run(fx, build_simple(fx->buf, GUEST_LL, SNM_GW, 255, 58, m, ns(m, GW6, true)));
	assert_memory_equal(a.b, GUEST6, 16);
	/* our own addresses, and anything outside the prefix, never */
	run(fx, build_simple(fx->buf, UNSPEC, SNM_GW, 255, 58, m, ns(m, GW6, false)));
	run(fx, build_simple(fx->buf, UNSPEC, SNM_GW, 255, 58, m, ns(m, REMOTE6, false)));
	assert_true(ipv6_guest_seen_load(&seen, &a));
	assert_memory_equal(a.b, GUEST6, 16);
	fx->gw.seen = NULL;
}

static void rs_gets_the_advertised_values(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t corp[] = "\4corp\7example\0";
	uint32_t plen;
	const uint8_t *ra, *o;

	memcpy(fx->gw.dnssl, corp, sizeof(corp));
	fx->gw.dnssl_len = sizeof(corp);
	ra = ra_for(fx, GUEST_LL, GUEST_LL, &plen);
	assert_int_equal(ra[0], 134);
	assert_int_equal(ra[4], 64);			/* Cur Hop Limit */
	assert_int_equal(ra[5], 0x40);			/* M clear, O set */
	assert_int_equal(ra[6] << 8 | ra[7], 65535);	/* RFC 8319 */
	o = ndp_opt(ra + 16, plen - 16, 1);		/* source link-layer */
	assert_non_null(o);
	assert_memory_equal(o + 2, GW_MAC, 6);
	o = ndp_opt(ra + 16, plen - 16, 5);		/* MTU */
	assert_non_null(o);
	assert_int_equal(o[4] << 24 | o[5] << 16 | o[6] << 8 | o[7], 65520);
	o = ndp_opt(ra + 16, plen - 16, 3);		/* prefix */
	assert_non_null(o);
	assert_int_equal(o[1], 4);
	assert_int_equal(o[2], 64);
	assert_int_equal(o[3], 0xc0);			/* on-link, autonomous */
	assert_memory_equal(o + 16, GW6, 8);
	assert_memory_equal(o + 4, ((uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }),
			    8);				/* valid, preferred: infinite */
	o = ndp_opt(ra + 16, plen - 16, 25);		/* RDNSS */
	assert_non_null(o);
	assert_int_equal(o[1], 3);
	/* in seconds: between the interval (600 s) and twice it (RFC 8106 5.1) */
	assert_int_equal(o[4] << 24 | o[5] << 16 | o[6] << 8 | o[7], 1200);
	assert_memory_equal(o + 8, DNS6, 16);
	o = ndp_opt(ra + 16, plen - 16, 31);		/* DNSSL */
	assert_non_null(o);
	assert_int_equal(o[4] << 24 | o[5] << 16 | o[6] << 8 | o[7], 1200);
	assert_memory_equal(o + 8, corp, sizeof(corp));
	assert_int_equal(o[1] * 8 % 8, 0);

	/* no route out of the host: router lifetime 0; from ::, to all nodes */
	fx->gw.ra_no_route = true;
	ra = ra_for(fx, UNSPEC, ALL_NODES, &plen);
	assert_int_equal(ra[6] << 8 | ra[7], 0);
	/* no DNS: no RDNSS */
	fx->gw.n_dns = 0;
	ra = ra_for(fx, GUEST_LL, GUEST_LL, &plen);
	assert_null(ndp_opt(ra + 16, plen - 16, 25));
}

static void rs_rules(void **state)
{
	struct fixture *fx = *state;
	uint8_t rs[16] = { 133 };

	assert_dropped(fx, build_simple(fx->buf, GUEST_LL, ALL_NODES, 64, 58, rs, 8),
		       DROP_NDP_MALFORMED);
	rs[8] = 1;
	rs[9] = 1;				/* source link-layer option from :: */
	assert_dropped(fx, build_simple(fx->buf, UNSPEC, ALL_NODES, 255, 58, rs, 16),
		       DROP_NDP_MALFORMED);
}

static void unsolicited_ras(void **state)
{
	struct fixture *fx = *state;

	fx->ctx.ra_at = 1000;
	for (int i = 0; i < 8; i++) {
		uint64_t next, gap;
		uint32_t plen;

		fx->nsent = 0;
		fx->ctx.now = fx->ctx.ra_at - 1;	/* not yet due */
		assert_int_equal(ndp_timer(&fx->ctx), fx->ctx.ra_at);
		assert_int_equal(fx->nsent, 0);
		fx->ctx.now = fx->ctx.ra_at;
		next = ndp_timer(&fx->ctx);
		sent6(fx, LL6, ALL_NODES, 255, 58, &plen);
		gap = next - fx->ctx.now;
		if (i < 2)	/* the initial burst: RFC 4861 6.2.4 */
			assert_true(gap <= 16ull * 1000000000);
		else		/* then [interval / 3, interval) */
			assert_true(gap >= 200ull * 1000000000 && gap < 600ull * 1000000000);
	}
}

static void malformed_ipv6(void **state)
{
	struct fixture *fx = *state;
	uint8_t l4[8] = { 128 };
	static const uint8_t mapped[16] = { [10] = 0xff, 0xff, 10, 0, 2, 100 };
	uint32_t len;

	len = build_simple(fx->buf, GUEST6, GW6, 64, 58, l4, 8);
	fx->buf[14] = 0x40;			/* version 4 */
	assert_dropped(fx, len, DROP_IPV6_MALFORMED);
	len = build_simple(fx->buf, GUEST6, GW6, 64, 58, l4, 8);
	put16(fx->buf + 18, 9);			/* payload past the frame */
	assert_dropped(fx, len, DROP_IPV6_MALFORMED);
	put16(fx->buf + 18, 0);			/* a jumbogram */
	assert_dropped(fx, len, DROP_IPV6_MALFORMED);
	assert_dropped(fx, build_simple(fx->buf, ALL_NODES, GW6, 64, 58, l4, 8),
		       DROP_IPV6_MALFORMED);	/* multicast source */
	assert_dropped(fx, build_simple(fx->buf, mapped, GW6, 64, 58, l4, 8),
		       DROP_IPV6_MALFORMED);	/* IPv4-mapped source */
	assert_dropped(fx, build_simple(fx->buf, GUEST6, mapped, 64, 58, l4, 8),
		       DROP_IPV6_MALFORMED);
	assert_dropped(fx, 14 + 39, DROP_IPV6_MALFORMED);
	fx->gw.ipv6 = false;
	assert_dropped(fx, build_simple(fx->buf, GUEST6, GW6, 64, 58, l4, 8), DROP_IPV6_OFF);
}

/* UDP to a remote host: no socket can be had in unit tests, so reaching UDP
 * shows as udp_no_socket.
 */
static uint32_t udp_behind(struct fixture *fx, uint8_t nh0, const uint8_t *ext, uint32_t extlen)
{
	uint8_t udp[16] = { 0x30, 0x39, 0, 53, 0, 16 };

	return build6(fx->buf, GUEST6, REMOTE6, 64, nh0, ext, extlen, 17, udp, sizeof(udp));
}

static void extension_header_rules(void **state)
{
	struct fixture *fx = *state;
	uint8_t ext[17 * 8] = { 0 };

	/* Hop-by-Hop, then Destination Options, then UDP: delivered */
	ext[0] = 60;
	ext[8] = 17;
	assert_dropped(fx, udp_behind(fx, 0, ext, 16), DROP_UDP_NO_SOCKET);
	/* Hop-by-Hop after another header */
	ext[0] = 0;
	ext[8] = 17;
	assert_dropped(fx, udp_behind(fx, 60, ext, 16), DROP_IPV6_EXTHDR);
	/* Routing type 0 (RFC 5095), and any with segments left */
	memset(ext, 0, sizeof(ext));
	ext[0] = 17;
	assert_dropped(fx, udp_behind(fx, 43, ext, 8), DROP_IPV6_EXTHDR);
	ext[2] = 4;
	ext[3] = 1;
	assert_dropped(fx, udp_behind(fx, 43, ext, 8), DROP_IPV6_EXTHDR);
	ext[3] = 0;			/* type 4, nothing left to route: delivered */
	assert_dropped(fx, udp_behind(fx, 43, ext, 8), DROP_UDP_NO_SOCKET);
	/* AH: length in 4-octet units, minus 2 (RFC 4302): 16 bytes here */
	memset(ext, 0, sizeof(ext));
	ext[0] = 17;
	ext[1] = 2;
	assert_dropped(fx, udp_behind(fx, 51, ext, 16), DROP_UDP_NO_SOCKET);
	/* ESP: nothing to parse behind it */
	assert_dropped(fx, udp_behind(fx, 50, ext, 16), DROP_IPV6_EXTHDR);
	/* a header longer than the datagram */
	ext[0] = 17;
	ext[1] = 9;
	assert_dropped(fx, udp_behind(fx, 60, ext, 16), DROP_IPV6_EXTHDR);
	/* 17 Destination Options headers: past the walk's bound */
	memset(ext, 0, sizeof(ext));
	for (int i = 0; i < 17; i++)
		ext[i * 8] = i == 16 ? 17 : 60;
	assert_dropped(fx, udp_behind(fx, 60, ext, sizeof(ext)), DROP_IPV6_EXTHDR);
	/* an atomic fragment (RFC 6946) is the datagram */
	memset(ext, 0, sizeof(ext));
	ext[0] = 17;
	assert_dropped(fx, udp_behind(fx, 44, ext, 8), DROP_UDP_NO_SOCKET);
	/* an upper layer we do not serve */
	memset(ext, 0, sizeof(ext));
	ext[0] = 132;		/* SCTP */
	assert_dropped(fx, udp_behind(fx, 60, ext, 8), DROP_IPV6_PROTO);
}

/* A fragment of a UDP datagram (8 + 24 bytes) from the guest. */
static uint32_t udp_fragment(struct fixture *fx, uint32_t off, bool more, uint32_t id,
			     const uint8_t *data, uint32_t len, uint8_t first_nh)
{
	uint8_t fh[8] = { first_nh, 0 };

	put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	memcpy(fh + 4, &id, 4);
	return build6(fx->buf, GUEST6, REMOTE6, 64, 44, fh, 8, 17, (uint8_t *)data, len);
}

static void fragments(void **state)
{
	struct fixture *fx = *state;
	uint8_t dgram[32] = { 0x30, 0x39, 0, 53, 0, 32 };

	for (int i = 8; i < 32; i++)
		dgram[i] = (uint8_t)i;
	/* in order: the second completes it, and UDP sees it */
	assert_int_equal(run(fx, udp_fragment(fx, 0, true, 7, dgram, 16, 17)), VERDICT_DONE);
	assert_int_equal(fx->cnt.drop[DROP_UDP_NO_SOCKET], 0);
	assert_dropped(fx, udp_fragment(fx, 16, false, 7, dgram + 16, 16, 17), DROP_UDP_NO_SOCKET);
	/* reversed */
	run(fx, udp_fragment(fx, 16, false, 8, dgram + 16, 16, 17));
	assert_dropped(fx, udp_fragment(fx, 0, true, 8, dgram, 16, 17), DROP_UDP_NO_SOCKET);
	/* overlapping (RFC 5722): the datagram is given up */
	run(fx, udp_fragment(fx, 0, true, 9, dgram, 16, 17));
	assert_dropped(fx, udp_fragment(fx, 8, false, 9, dgram + 8, 24, 17), DROP_FRAG_OVERLAP);
	/* a first fragment without the whole header chain (RFC 7112) */
	{
		uint8_t dst_opts[8] = { 17, 1 };	/* 16 bytes, only 8 here */

		assert_dropped(fx, udp_fragment(fx, 0, true, 10, dst_opts, 8, 60),
			       DROP_IPV6_EXTHDR);
	}
	/* a middle fragment whose length is not a multiple of 8 */
	assert_dropped(fx, udp_fragment(fx, 8, true, 11, dgram, 12, 17), DROP_IPV6_MALFORMED);
}

static void echo_to_gateway_answered_in_place(void **state)
{
	struct fixture *fx = *state;
	const uint8_t *dsts[] = { GW6, DNS6, LL6 };

	for (unsigned i = 0; i < 3; i++) {
		uint8_t e[64] = { 128, 0, 0, 0, 0x12, 0x34, 0, 1 };
		const uint8_t *src = dsts[i] == LL6 ? GUEST_LL : GUEST6;
		uint32_t len = build_simple(fx->buf, src, dsts[i], 64, 58, e, sizeof(e));
		uint8_t *ip = fx->buf + 14;

		assert_int_equal(run(fx, len), VERDICT_REPLY);
		assert_memory_equal(fx->buf, GUEST_MAC, 6);
		assert_memory_equal(ip + 8, dsts[i], 16);
		assert_memory_equal(ip + 24, src, 16);
		assert_int_equal(ip[40], 129);
		assert_int_equal(ref_csum6(dsts[i], src, 58, ip + 40, sizeof(e)), 0);
	}
}

static void hop_limit_one_ends_at_the_gateway(void **state)
{
	struct fixture *fx = *state;
	uint8_t udp[16] = { 0x30, 0x39, 0, 53, 0, 16 };
	uint32_t plen, len = build_simple(fx->buf, GUEST6, REMOTE6, 1, 17, udp, sizeof(udp));
	const uint8_t *err;

	assert_int_equal(run(fx, len), VERDICT_DONE);
	err = sent6(fx, GW6, GUEST6, 64, 58, &plen);
	assert_int_equal(err[0], 3);			/* Time Exceeded */
	assert_int_equal(err[1], 0);
	assert_int_equal(plen, 8 + 40 + sizeof(udp));	/* the whole datagram quoted */
	assert_memory_equal(err + 8 + 8, GUEST6, 16);
	assert_memory_equal(err + 8 + 40, udp, sizeof(udp));
}

static void too_big_for_the_link(void **state)
{
	struct fixture *fx = *state;
	static uint8_t udp[1500] = { 0x30, 0x39, 0, 53, 0x05, 0xdc };
	uint32_t plen, len;
	const uint8_t *err;

	fx->gw.mtu = 1280;
	len = build_simple(fx->buf, GUEST6, REMOTE6, 64, 17, udp, sizeof(udp));
	assert_int_equal(run(fx, len), VERDICT_DONE);
	err = sent6(fx, GW6, GUEST6, 64, 58, &plen);
	assert_int_equal(err[0], 2);			/* Packet Too Big */
	assert_int_equal(err[4] << 24 | err[5] << 16 | err[6] << 8 | err[7], 1280);
	assert_true(40 + plen <= 1280);			/* RFC 4443 2.4 (c) */
}

static void errors_are_rate_limited(void **state)
{
	struct fixture *fx = *state;
	uint8_t udp[16] = { 0x30, 0x39, 0, 53, 0, 16 };
	unsigned sent = 0;

	fx->ctx.now = 5000000000ull;
	for (int i = 0; i < 150; i++) {
		run(fx, build_simple(fx->buf, GUEST6, REMOTE6, 1, 17, udp, sizeof(udp)));
		sent += fx->nsent;
	}
	assert_int_equal(sent, 100);		/* a burst, then nothing */
	fx->ctx.now += 10000000;		/* 10 ms: 10 more */
	for (int i = 0; i < 50; i++) {
		run(fx, build_simple(fx->buf, GUEST6, REMOTE6, 1, 17, udp, sizeof(udp)));
		sent += fx->nsent;
	}
	assert_int_equal(sent, 110);
	/* never about an ICMPv6 error */
	fx->ctx.now += 1000000000;
	{
		uint8_t err[16] = { 1, 4 };	/* port unreachable, to a remote host */

		run(fx, build_simple(fx->buf, GUEST6, REMOTE6, 1, 58, err, sizeof(err)));
		assert_int_equal(fx->nsent, 0);
	}
}

/* DHCPv6: a message of @type with @opts (already encoded) to ff02::1:2. */
static uint32_t dhcp6(struct fixture *fx, uint8_t type, const uint8_t *opts, uint32_t olen)
{
	uint8_t udp[8 + 4 + 256] = { 0x02, 0x22, 0x02, 0x23 };
	uint32_t len = 8 + 4 + olen;

	put16(udp + 4, (uint16_t)len);
	udp[8] = type;
	udp[9] = 0xab;
	udp[10] = 0xcd;
	udp[11] = 0xef;
	if (olen)
		memcpy(udp + 12, opts, olen);
	return build_simple(fx->buf, GUEST_LL, DHCP_SERVERS, 1, 17, udp, len);
}

/* Finds DHCPv6 option @code in @o (@len bytes); its data length in *olen. */
static const uint8_t *dhcp6_opt(const uint8_t *o, uint32_t len, uint16_t code, uint32_t *olen)
{
	for (uint32_t i = 0; i + 4 <= len; i += 4u + (o[i + 2] << 8 | o[i + 3])) {
		if ((o[i] << 8 | o[i + 1]) == code) {
			*olen = (uint32_t)(o[i + 2] << 8 | o[i + 3]);
			return o + i + 4;
		}
	}
	return NULL;
}

static const uint8_t CLIENT_ID[] = { 0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0x64 };
static const uint8_t IA_NA[] = { 0, 3, 0, 12, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t RAPID[] = { 0, 14, 0, 0 };
static const uint8_t SERVER_ID[] = { 0, 2, 0, 10, 0, 3, 0, 1, 0x02, 0, 0, 0, 0, 0x02 };

static const uint8_t *dhcp6_answer(struct fixture *fx, uint32_t len, uint8_t type,
				   uint32_t *olen)
{
	uint32_t plen;
	const uint8_t *udp;

	assert_int_equal(run(fx, len), VERDICT_DONE);
	udp = sent6(fx, LL6, GUEST_LL, 64, 17, &plen);
	assert_int_equal(udp[0] << 8 | udp[1], 547);
	assert_int_equal(udp[2] << 8 | udp[3], 546);
	assert_int_equal(udp[8], type);
	assert_memory_equal(udp + 9, ((uint8_t[]){ 0xab, 0xcd, 0xef }), 3);
	*olen = plen - 12;
	return udp + 12;
}

static void dhcpv6_stateful(void **state)
{
	struct fixture *fx = *state;
	uint8_t opts[128];
	uint32_t n = 0, olen, l;
	const uint8_t *o, *v;

	memcpy(opts, CLIENT_ID, sizeof(CLIENT_ID));
	n = sizeof(CLIENT_ID);
	memcpy(opts + n, IA_NA, sizeof(IA_NA));
	n += sizeof(IA_NA);
	o = dhcp6_answer(fx, dhcp6(fx, 1, opts, n), 2, &olen);	/* Solicit -> Advertise */
	v = dhcp6_opt(o, olen, 2, &l);
	assert_non_null(v);
	assert_int_equal(l, 10);
	assert_memory_equal(v, SERVER_ID + 4, 10);		/* DUID-LL of our MAC */
	v = dhcp6_opt(o, olen, 1, &l);
	assert_non_null(v);
	assert_memory_equal(v, CLIENT_ID + 4, 10);
	v = dhcp6_opt(o, olen, 3, &l);
	assert_non_null(v);
	assert_memory_equal(v, IA_NA + 4, 4);			/* IAID echoed */
	assert_int_equal((v[12] << 8 | v[13]), 5);		/* IAADDR */
	assert_memory_equal(v + 16, GUEST6, 16);
	v = dhcp6_opt(o, olen, 23, &l);
	assert_non_null(v);
	assert_memory_equal(v, DNS6, 16);

	memcpy(opts + n, RAPID, sizeof(RAPID));		/* Rapid Commit: Reply */
	o = dhcp6_answer(fx, dhcp6(fx, 1, opts, n + sizeof(RAPID)), 7, &olen);
	assert_non_null(dhcp6_opt(o, olen, 14, &l));
	assert_non_null(dhcp6_opt(o, olen, 3, &l));

	memcpy(opts + n, SERVER_ID, sizeof(SERVER_ID));	/* Request, Renew: Reply */
	o = dhcp6_answer(fx, dhcp6(fx, 3, opts, n + sizeof(SERVER_ID)), 7, &olen);
	assert_non_null(dhcp6_opt(o, olen, 3, &l));
	o = dhcp6_answer(fx, dhcp6(fx, 5, opts, n + sizeof(SERVER_ID)), 7, &olen);
	assert_non_null(dhcp6_opt(o, olen, 3, &l));
	o = dhcp6_answer(fx, dhcp6(fx, 8, opts, n + sizeof(SERVER_ID)), 7, &olen);
	v = dhcp6_opt(o, olen, 13, &l);				/* Release: Success */
	assert_non_null(v);
	assert_int_equal(v[0] << 8 | v[1], 0);
	o = dhcp6_answer(fx, dhcp6(fx, 6, opts, n), 7, &olen);	/* Rebind */
	assert_non_null(dhcp6_opt(o, olen, 3, &l));
}

static void dhcpv6_confirm_and_stateless(void **state)
{
	struct fixture *fx = *state;
	uint8_t opts[128], ia[16 + 28];
	uint32_t n, olen, l;
	const uint8_t *o, *v;

	memcpy(ia, IA_NA, sizeof(IA_NA));
	put16(ia + 2, 12 + 28);
	put16(ia + 16, 5);
	put16(ia + 18, 24);
	memcpy(ia + 20, REMOTE6, 16);			/* not on our link */
	memset(ia + 36, 0, 8);
	memcpy(opts, CLIENT_ID, sizeof(CLIENT_ID));
	memcpy(opts + sizeof(CLIENT_ID), ia, sizeof(ia));
	n = sizeof(CLIENT_ID) + sizeof(ia);
	o = dhcp6_answer(fx, dhcp6(fx, 4, opts, n), 7, &olen);
	v = dhcp6_opt(o, olen, 13, &l);
	assert_non_null(v);
	assert_int_equal(v[0] << 8 | v[1], 4);			/* NotOnLink */
	memcpy(ia + 20, GUEST6, 16);
	memcpy(opts + sizeof(CLIENT_ID), ia, sizeof(ia));
	o = dhcp6_answer(fx, dhcp6(fx, 4, opts, n), 7, &olen);
	v = dhcp6_opt(o, olen, 13, &l);
	assert_int_equal(v[0] << 8 | v[1], 0);			/* Success */

	o = dhcp6_answer(fx, dhcp6(fx, 11, NULL, 0), 7, &olen);	/* Information-Request */
	assert_non_null(dhcp6_opt(o, olen, 23, &l));
	assert_null(dhcp6_opt(o, olen, 3, &l));
}

static void dhcpv6_rules(void **state)
{
	struct fixture *fx = *state;
	uint8_t opts[64], bad_server[sizeof(SERVER_ID)];

	assert_dropped(fx, dhcp6(fx, 1, IA_NA, sizeof(IA_NA)), DROP_DHCP6_IGNORED);	/* no client ID */
	memcpy(opts, CLIENT_ID, sizeof(CLIENT_ID));
	memcpy(bad_server, SERVER_ID, sizeof(SERVER_ID));
	bad_server[13] ^= 1;
	memcpy(opts + sizeof(CLIENT_ID), bad_server, sizeof(bad_server));
	assert_dropped(fx, dhcp6(fx, 3, opts, sizeof(CLIENT_ID) + sizeof(bad_server)),
		       DROP_DHCP6_IGNORED);				/* someone else's */
	memcpy(opts + sizeof(CLIENT_ID), SERVER_ID, sizeof(SERVER_ID));
	assert_dropped(fx, dhcp6(fx, 1, opts, sizeof(CLIENT_ID) + sizeof(SERVER_ID)),
		       DROP_DHCP6_IGNORED);				/* Solicit with one */
	opts[3] = 60;							/* past the end */
	assert_dropped(fx, dhcp6(fx, 11, opts, sizeof(CLIENT_ID)), DROP_DHCP6_MALFORMED);
	assert_dropped(fx, dhcp6(fx, 2, NULL, 0), DROP_DHCP6_IGNORED);	/* an Advertise */
	fx->gw.no_dhcp = true;
	assert_dropped(fx, dhcp6(fx, 11, NULL, 0), DROP_DHCP_OFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ns_for_each_gateway_address, setup, teardown),
		cmocka_unit_test_setup_teardown(dad_probe_for_gateway_is_defended, setup, teardown),
		cmocka_unit_test_setup_teardown(ns_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_address_learnt_from_solicitations, setup, teardown),
		cmocka_unit_test_setup_teardown(rs_gets_the_advertised_values, setup, teardown),
		cmocka_unit_test_setup_teardown(rs_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(unsolicited_ras, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(extension_header_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(echo_to_gateway_answered_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(hop_limit_one_ends_at_the_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(too_big_for_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_are_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(dhcpv6_stateful, setup, teardown),
		cmocka_unit_test_setup_teardown(dhcpv6_confirm_and_stateless, setup, teardown),
		cmocka_unit_test_setup_teardown(dhcpv6_rules, setup, teardown),
	};

	return cmocka_run_group_tests_name("ipv6", tests, NULL, NULL);
}
