// SPDX-License-Identifier: MIT
/*
 * dhcp.c - a DHCPv4 server for the one guest on the link (RFC 2131).
 *
 * Theory of operation: there is one address to give, the guest's (.100),
 * so there is no pool and no lease table.  DISCOVER gets an OFFER, a
 * REQUEST for that address an ACK (a REQUEST for any other a NAK), INFORM
 * an ACK without address.  Every answer carries the netmask, the gateway as
 * router, the DNS address (when DNS is on) and the link MTU (option 26), so
 * a guest xdpslirp did not configure can bring itself up.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dhcp.h"
#include "udp.h"

#define BOOTREQUEST	1
#define BOOTREPLY	2
#define DHCP_MAGIC	0x63825363
#define DHCP_MIN_LEN	240	/* fixed part and magic cookie */
#define DHCP_REPLY_MIN	300	/* BOOTP's minimum, some clients insist */
#define BROADCAST_FLAG	0x8000
#define LEASE_SECONDS	86400

enum {
	OPT_PAD = 0, OPT_NETMASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_MTU = 26,
	OPT_REQUESTED_IP = 50, OPT_LEASE = 51, OPT_MSG_TYPE = 53, OPT_SERVER_ID = 54,
	OPT_END = 255,
};

enum {
	DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK,
	DHCPRELEASE, DHCPINFORM,
};

struct bootp {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	uint32_t magic;
	uint8_t options[];
};
_Static_assert(sizeof(struct bootp) == DHCP_MIN_LEN, "BOOTP layout");

/* What the client's options say. */
struct dhcp_req {
	uint8_t type;
	uint32_t requested;	/* option 50, network order, 0 if absent */
};

static bool parse_options(const uint8_t *o, uint32_t len, struct dhcp_req *r)
{
	uint32_t i = 0;

	while (i < len && o[i] != OPT_END) {
		uint8_t code = o[i], olen;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2u + o[i + 1] > len)
			return false;
		olen = o[i + 1];
		if (code == OPT_MSG_TYPE && olen == 1)
			r->type = o[i + 2];
		else if (code == OPT_REQUESTED_IP && olen == 4)
			memcpy(&r->requested, o + i + 2, 4);
		i += 2u + olen;
	}
	return r->type != 0;
}

static uint8_t *put_opt(uint8_t *o, uint8_t code, const void *val, uint8_t len)
{
	o[0] = code;
	o[1] = len;
	memcpy(o + 2, val, len);
	return o + 2 + len;
}

/* Writes the reply's options; returns the end. */
static uint8_t *reply_options(const struct gw_ctx *ctx, uint8_t *o, uint8_t type)
{
	const struct gateway *gw = ctx->gw;
	uint32_t lease = htonl(LEASE_SECONDS);
	uint16_t mtu = htons((uint16_t)gw->mtu);

	o = put_opt(o, OPT_MSG_TYPE, &type, 1);
	o = put_opt(o, OPT_SERVER_ID, &gw->gw_addr, 4);
	if (type == DHCPNAK)
		return o;
	o = put_opt(o, OPT_LEASE, &lease, 4);
	o = put_opt(o, OPT_NETMASK, &gw->netmask, 4);
	o = put_opt(o, OPT_ROUTER, &gw->gw_addr, 4);
	if (gw->n_dns)
		o = put_opt(o, OPT_DNS, &gw->dns_addr, 4);
	return put_opt(o, OPT_MTU, &mtu, 2);
}

/* The answer to a request of @type, or 0 for none. */
static uint8_t answer_type(const struct gateway *gw, const struct bootp *b,
			   const struct dhcp_req *r)
{
	uint32_t wanted = r->requested ? r->requested : b->ciaddr;

	switch (r->type) {
	case DHCPDISCOVER:
		return DHCPOFFER;
	case DHCPREQUEST:
		return wanted == gw->dhcp_addr ? DHCPACK : DHCPNAK;
	case DHCPINFORM:
		return DHCPACK;
	default:
		return 0;	/* DECLINE, RELEASE: nothing to do, nothing to say */
	}
}

/**
 * dhcp_input() - a datagram from the guest to the DHCP server port
 * @ctx: protocol context
 * @f: the frame
 * @uh: its UDP header, in f->seg[0]
 *
 * Return: VERDICT_DONE; the answer, if any, is a new frame.
 */
enum verdict dhcp_input(struct gw_ctx *ctx, struct frame *f, struct udphdr *uh)
{
	uint32_t len = ntohs(uh->len) - sizeof(*uh), dst;
	const uint8_t *in = (const uint8_t *)(uh + 1);
	struct bootp *out = (struct bootp *)(ctx->scratch + sizeof(*uh));
	const struct bootp *b = (const struct bootp *)in;
	struct dhcp_req req = { 0 };
	struct inany from, to;
	uint8_t type, *end;

	if (ctx->gw->no_dhcp)
		return drop(ctx, DROP_DHCP_OFF);
	if (len < DHCP_MIN_LEN || in + len > f->seg[0].data + f->seg[0].len ||
	    b->op != BOOTREQUEST || b->htype != 1 || b->hlen != ETH_ALEN ||
	    b->magic != htonl(DHCP_MAGIC) || !parse_options(b->options, len - DHCP_MIN_LEN, &req))
		return drop(ctx, DROP_DHCP_MALFORMED);
	type = answer_type(ctx->gw, b, &req);
	if (!type)
		return drop(ctx, DROP_DHCP_IGNORED);

	memset(out, 0, DHCP_REPLY_MIN);
	out->op = BOOTREPLY;
	out->htype = 1;
	out->hlen = ETH_ALEN;
	out->xid = b->xid;
	out->flags = b->flags;
	out->giaddr = b->giaddr;
	memcpy(out->chaddr, b->chaddr, sizeof(out->chaddr));
	out->magic = htonl(DHCP_MAGIC);
	if (type == DHCPOFFER || (type == DHCPACK && req.type == DHCPREQUEST))
		out->yiaddr = ctx->gw->dhcp_addr;
	out->ciaddr = req.type == DHCPINFORM ? b->ciaddr : 0;
	end = reply_options(ctx, out->options, type);
	*end++ = OPT_END;
	len = (uint32_t)(end - (uint8_t *)out);

	/* to the client's MAC; by IP broadcast until it has its address */
	memcpy(ctx->guest_mac, b->chaddr, ETH_ALEN);
	dst = (b->flags & htons(BROADCAST_FLAG)) || !out->yiaddr || type == DHCPNAK ?
	      htonl(INADDR_BROADCAST) : out->yiaddr;
	if (req.type == DHCPINFORM && b->ciaddr)
		dst = b->ciaddr;
	inany_from_v4(&from, ctx->gw->gw_addr);
	inany_from_v4(&to, dst);
	udp_send(ctx, ctx->scratch, &from, htons(DHCP_SERVER_PORT), &to, htons(DHCP_CLIENT_PORT),
		 len < DHCP_REPLY_MIN ? DHCP_REPLY_MIN : len);
	return VERDICT_DONE;
}
