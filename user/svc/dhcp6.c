// SPDX-License-Identifier: MIT
/*
 * dhcp6.c - a DHCPv6 server (RFC 8415) for the one guest of the link.
 *
 * Theory of operation: messages from the guest to port 547, sent to
 * All_DHCP_Relay_Agents_and_Servers (ff02::1:2) or to one of our addresses,
 * are answered from fe80::2 to the client's own address and port 546.
 * Stateless: an Information-Request gets the DNS address (option 23) and the
 * host's search list (24).  Stateful: Solicit is answered with an Advertise,
 * or with a Reply at once if the client asks for Rapid Commit; Request,
 * Renew and Rebind with a Reply; each assigns the one address there is,
 * fd00::100, in the client's first IA_NA.  Confirm says whether the
 * client's addresses are on our link (Success or NotOnLink); Release and
 * Decline are acknowledged with Success (the address stays the guest's: no
 * other client exists).  Every answer carries our DUID (DUID-LL of the
 * gateway's MAC) and echoes the client's.
 *
 * Validation (RFC 8415 16): a Client ID where one is required, a Server ID
 * only where one is allowed and then ours, options within the message;
 * anything else is dropped and counted.  Relay messages are not served: no
 * relay stands between us and the guest.
 */
#include <arpa/inet.h>

#include "dhcp6.h"
#include "ip.h"
#include "ipv6.h"
#include "udp.h"

enum {
	SOLICIT = 1, ADVERTISE, REQUEST, CONFIRM, RENEW, REBIND, REPLY, RELEASE, DECLINE,
	INFORMATION_REQUEST = 11,
};

enum {
	OPT_CLIENTID = 1, OPT_SERVERID = 2, OPT_IA_NA = 3, OPT_IAADDR = 5, OPT_STATUS = 13,
	OPT_RAPID_COMMIT = 14, OPT_DNS_SERVERS = 23, OPT_DOMAIN_LIST = 24,
};

#define STATUS_SUCCESS		0
#define STATUS_NOTONLINK	4
#define DUID_LL			3
#define LIFETIME_VALID		86400
#define LIFETIME_PREFERRED	14400
#define IA_T1			(LIFETIME_PREFERRED / 2)
#define IA_T2			(LIFETIME_PREFERRED * 4 / 5)
#define MSG_MAX			1024

/* The options of a client's message that matter here. */
struct dhcp6_req {
	const uint8_t *clientid, *serverid, *ia_na;	/* option data */
	uint16_t clientid_len, serverid_len, ia_na_len;
	bool rapid_commit;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Parses options at @o (@len bytes); false if one runs past the end. */
static bool parse_options(const uint8_t *o, uint32_t len, struct dhcp6_req *r)
{
	while (len) {
		uint16_t code, olen;

		if (len < 4 || (olen = get16(o + 2)) > len - 4)
			return false;
		code = get16(o);
		if (code == OPT_CLIENTID && !r->clientid) {
			r->clientid = o + 4;
			r->clientid_len = olen;
		} else if (code == OPT_SERVERID && !r->serverid) {
			r->serverid = o + 4;
			r->serverid_len = olen;
		} else if (code == OPT_IA_NA && !r->ia_na && olen >= 12) {
			r->ia_na = o + 4;
			r->ia_na_len = olen;
		} else if (code == OPT_RAPID_COMMIT) {
			r->rapid_commit = true;
		}
		o += 4 + olen;
		len -= 4 + olen;
	}
	return true;
}

/* Our DUID: DUID-LL (RFC 8415 11.4) of the gateway's MAC. */
static uint32_t put_duid(const struct gateway *gw, uint8_t *p)
{
	p[0] = 0;
	p[1] = DUID_LL;
	p[2] = 0;
	p[3] = 1;	/* Ethernet */
	memcpy(p + 4, gw->mac, ETH_ALEN);
	return 4 + ETH_ALEN;
}

static uint8_t *put_opt(uint8_t *o, uint16_t code, const void *data, uint16_t len)
{
	o[0] = (uint8_t)(code >> 8);
	o[1] = (uint8_t)code;
	o[2] = (uint8_t)(len >> 8);
	o[3] = (uint8_t)len;
	if (len)
		memcpy(o + 4, data, len);
	return o + 4 + len;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* True if the Server ID in @r, if any, is ours. */
static bool serverid_ours(const struct gateway *gw, const struct dhcp6_req *r)
{
	uint8_t duid[16];
	uint32_t n = put_duid(gw, duid);

	return r->serverid_len == n && !memcmp(r->serverid, duid, n);
}

/*
 * RFC 8415 16: which messages we answer.  Returns the answer's type, or 0
 * to drop the message.
 */
static uint8_t answer_type(const struct gateway *gw, uint8_t type, const struct dhcp6_req *r)
{
	switch (type) {
	case SOLICIT:
		if (!r->clientid || r->serverid)
			return 0;
		return r->rapid_commit ? REPLY : ADVERTISE;
	case REQUEST:
	case RENEW:
	case RELEASE:
	case DECLINE:
		return r->clientid && r->serverid && serverid_ours(gw, r) ? REPLY : 0;
	case REBIND:
	case CONFIRM:
		return r->clientid && !r->serverid ? REPLY : 0;
	case INFORMATION_REQUEST:
		return !r->serverid || serverid_ours(gw, r) ? REPLY : 0;
	default:
		return 0;	/* ADVERTISE, REPLY, relay messages: not for a server */
	}
}

/* Whether every address in the client's IA_NA is on our link (Confirm). */
static bool ia_on_link(const struct gateway *gw, const struct dhcp6_req *r)
{
	const uint8_t *o = r->ia_na + 12;
	uint32_t left = r->ia_na_len - 12u;

	while (left >= 4) {
		uint16_t code = get16(o), len = get16(o + 2);
		struct inany a;

		if (len > left - 4)
			return false;
		if (code == OPT_IAADDR && len >= 24) {
			memcpy(a.b, o + 4, 16);
			if (!ipv6_in_prefix(gw, &a))
				return false;
		}
		o += 4 + len;
		left -= 4 + len;
	}
	return true;
}

/* The IA_NA of a Reply or Advertise: the client's IAID, our one address. */
static uint8_t *put_ia_na(const struct gateway *gw, uint8_t *o, const struct dhcp6_req *r)
{
	uint8_t ia[12 + 4 + 24], *a = ia + 16;

	memcpy(ia, r->ia_na, 4);	/* IAID */
	put32(ia + 4, IA_T1);
	put32(ia + 8, IA_T2);
	ia[12] = 0;
	ia[13] = OPT_IAADDR;
	ia[14] = 0;
	ia[15] = 24;
	memcpy(a, gw->guest6.b, 16);
	put32(a + 16, LIFETIME_PREFERRED);
	put32(a + 20, LIFETIME_VALID);
	return put_opt(o, OPT_IA_NA, ia, sizeof(ia));
}

static uint8_t *put_status(uint8_t *o, uint16_t status)
{
	uint8_t s[2] = { (uint8_t)(status >> 8), (uint8_t)status };

	return put_opt(o, OPT_STATUS, s, sizeof(s));
}

/* The options of our answer of @type to a message of @in_type. */
static uint8_t *put_answer_options(const struct gateway *gw, uint8_t *o, uint8_t in_type,
				   uint8_t type, const struct dhcp6_req *r)
{
	uint8_t duid[16];

	o = put_opt(o, OPT_SERVERID, duid, (uint16_t)put_duid(gw, duid));
	if (r->clientid)
		o = put_opt(o, OPT_CLIENTID, r->clientid, r->clientid_len);
	if (in_type == SOLICIT && type == REPLY)
		o = put_opt(o, OPT_RAPID_COMMIT, NULL, 0);
	if (in_type == CONFIRM)
		o = put_status(o, r->ia_na && !ia_on_link(gw, r) ? STATUS_NOTONLINK :
				  STATUS_SUCCESS);
	else if (in_type == RELEASE || in_type == DECLINE)
		o = put_status(o, STATUS_SUCCESS);
	else if (r->ia_na && in_type != INFORMATION_REQUEST)
		o = put_ia_na(gw, o, r);
	if (gw->n_dns)
		o = put_opt(o, OPT_DNS_SERVERS, gw->dns6.b, 16);
	if (gw->dnssl_len)
		o = put_opt(o, OPT_DOMAIN_LIST, gw->dnssl, gw->dnssl_len);
	return o;
}

/**
 * dhcp6_input() - a datagram from the guest to the DHCPv6 server port
 * @ctx: protocol context
 * @f: the frame
 * @p: its IPv6 datagram
 * @uh: its UDP header, in f->seg[0]
 *
 * Return: VERDICT_DONE; the answer, if any, is a new frame.
 */
enum verdict dhcp6_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
			 const struct udphdr *uh)
{
	static const struct inany all_servers = { { 0xff, 0x02, [13] = 1, [15] = 2 } };
	const struct gateway *gw = ctx->gw;
	uint32_t len = ntohs(uh->len) - sizeof(*uh);
	const uint8_t *in = (const uint8_t *)(uh + 1);
	uint8_t *out = ctx->scratch + sizeof(struct udphdr), *end, type;
	struct dhcp6_req req = { 0 };

	if (gw->no_dhcp)
		return drop(ctx, DROP_DHCP_OFF);
	if (!inany_equal(&p->dst, &all_servers) && !gw_is_local(gw, &p->dst))
		return drop(ctx, DROP_DHCP6_IGNORED);
	if (len < 4 || len > MSG_MAX || in + len > f->seg[0].data + f->seg[0].len ||
	    !inany_is_unicast(&p->src) || !parse_options(in + 4, len - 4, &req))
		return drop(ctx, DROP_DHCP6_MALFORMED);
	type = answer_type(gw, in[0], &req);
	if (!type)
		return drop(ctx, DROP_DHCP6_IGNORED);
	out[0] = type;
	memcpy(out + 1, in + 1, 3);	/* transaction id */
	end = put_answer_options(gw, out + 4, in[0], type, &req);
	udp_send(ctx, ctx->scratch, &gw->ll6, htons(DHCP6_SERVER_PORT), &p->src, uh->source,
		 (uint32_t)(end - out));
	return VERDICT_DONE;
}
