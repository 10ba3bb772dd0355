// SPDX-License-Identifier: MIT
/*
 * ping.c - the guest's echo requests to other hosts, through ICMP and
 * ICMPv6 sockets.
 *
 * Theory of operation: an echo request to any address but the gateway's
 * own goes out through an unprivileged ICMP datagram socket ("ping
 * socket") of its family, one per (guest address, echo identifier,
 * destination): the kernel gives each socket an identifier of its own and
 * matches replies to it, so the engine only puts the guest's identifier
 * back into the reply (and its checksum, which for ICMPv6 covers the
 * addresses too).  Errors the socket receives (unreachable, time exceeded:
 * IP_RECVERR, IPV6_RECVERR) go to the guest quoting its echo request, so
 * ping reports them; nothing answers for a host that did not.  The gateway
 * counts as one hop: the guest's TTL or hop limit, less one, goes on with
 * the request, and one that ends at the gateway gets "time exceeded"
 * (ipv6.c does that for IPv6).  Ping sockets live like UDP mappings
 * (udp.c: dgram_mapping()) and expire the same way.
 *
 * The kernel allows ping sockets only to the groups of
 * net.ipv4.ping_group_range (for both families), which by default admits
 * nobody.  Then the worker opens one raw socket of the family instead (root
 * has CAP_NET_RAW): each ping flow gets an echo identifier of its own on
 * the wire (its flow index + 1), and replies and errors quoting it are
 * matched back to the flow.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ipv6.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "csum.h"
#include "egress.h"
#include "hostaddr.h"
#include "hostsock.h"
#include "icmp.h"
#include "ip.h"
#include "ipv4.h"
#include "log.h"
#include "ping.h"
#include "udp.h"

#define RX_BUDGET 64

/* What differs between ICMP and ICMPv6 echo. */
struct echo_family {
	int family;
	uint8_t proto, request, reply;
	int hops_level, hops_type;	/* control message for the TTL / hop limit */
	uint64_t raw_tag;		/* epoll data of the worker's raw socket */
};

static const struct echo_family echo4 = {
	AF_INET, IPPROTO_ICMP, ICMP_ECHO, ICMP_ECHOREPLY, IPPROTO_IP, IP_TTL, EPOLL_ICMP_RAW,
};
static const struct echo_family echo6 = {
	AF_INET6, IPPROTO_ICMPV6, ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY, IPPROTO_IPV6,
	IPV6_HOPLIMIT, EPOLL_ICMP6_RAW,
};

static const struct echo_family *echo_of(bool v6)
{
	return v6 ? &echo6 : &echo4;
}

static int *raw_fd(struct gw_ctx *ctx, bool v6)
{
	return v6 ? &ctx->icmp6_raw : &ctx->icmp_raw;
}

/* The echo header: type, code, checksum, identifier, sequence (both families). */
struct echo_hdr {
	uint8_t type, code;
	uint16_t check, id, seq;
};

/* Adds the TTL / hop limit control message for @hops to @mh, in @cbuf. */
static void hops_cmsg(const struct echo_family *ef, struct msghdr *mh,
		      char cbuf[CMSG_SPACE(sizeof(int))], int hops)
{
	struct cmsghdr *cm;

	mh->msg_control = cbuf;
	mh->msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = ef->hops_level;
	cm->cmsg_type = ef->hops_type;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &hops, sizeof(int));
}

/*
 * Sets an echo message's checksum, from @src to @dst (ICMPv6 sums the
 * pseudo-header too, RFC 4443 2.3).
 */
static void echo_checksum(struct echo_hdr *e, uint32_t len, const struct inany *src,
			  const struct inany *dst)
{
	uint32_t sum = inany_is_v4(src) ? 0 : ip_pseudo_sum(src, dst, IPPROTO_ICMPV6, len);

	e->check = 0;
	e->check = csum_fold(csum_partial(e, len, sum));
}

/* Opens the worker's raw socket of a family; 0 or negative errno (logged once). */
static int ping_raw_open(struct gw_ctx *ctx, bool v6)
{
	const struct echo_family *ef = echo_of(v6);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ctx->ev_tag | ef->raw_tag };
	int fd = hostsock_icmp_raw_open(ef->family);

	if (fd < 0 || epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		if (fd >= 0)
			close(fd);
		if (!ctx->cnt->drop[DROP_PING_DENIED])
			log_warn("guests cannot ping other hosts: no %s socket (net.ipv4.ping_group_range) and no raw socket (CAP_NET_RAW)",
				 v6 ? "ICMPv6" : "ICMP");
		return -EPERM;
	}
	log_info("ping to other hosts through a raw %s socket (ping sockets are not allowed for our group)",
		 v6 ? "ICMPv6" : "ICMP");
	*raw_fd(ctx, v6) = fd;
	return 0;
}

/* The raw-mode ping flow whose wire identifier is @id, with @remote. */
static struct flow *raw_flow(struct gw_ctx *ctx, uint16_t id, const struct inany *remote)
{
	uint32_t idx = (uint32_t)ntohs(id) - 1;
	struct flow *fl;

	if (idx >= ctx->flows->max)
		return NULL;
	fl = &ctx->flows->flows[idx];
	if (fl->state == FLOW_FREE || (fl->key.proto != IPPROTO_ICMP &&
				       fl->key.proto != IPPROTO_ICMPV6) ||
	    fl->sock >= 0 || !inany_equal(&fl->key.remote, remote))
		return NULL;
	return fl;
}

/*
 * An error the raw socket saw, from @reporter: @icmp, @len bytes, quotes
 * @inner_len bytes of our datagram at @inner, whose echo header is @sent.
 * For one of our echo requests, it goes to the guest.
 */
static void raw_error(struct gw_ctx *ctx, const struct inany *reporter, const uint8_t *icmp,
		      const struct inany *inner_dst, struct echo_hdr *sent, uint32_t have)
{
	bool v6 = !inany_is_v4(reporter);
	const struct echo_family *ef = echo_of(v6);
	struct ip_quote q;
	struct inany from;
	uint32_t info;
	uint16_t unused;
	struct flow *fl;

	fl = sent->type == ef->request ? raw_flow(ctx, sent->id, inner_dst) : NULL;
	if (!fl)
		return;
	sent->id = fl->key.guest_port;
	sent->check = 0;
	q = (struct ip_quote){ .src = fl->key.guest, .dst = fl->key.remote, .proto = ef->proto,
			       .l4len = have, .l4 = sent, .have = have };
	hostaddr_source(ctx->gw, ef->proto, reporter, 0, v6, &from, &unused);
	memcpy(&info, icmp + 4, 4);	/* the MTU of "too big", else nothing */
	info = ntohl(info);
	if (!v6)
		info &= 0xffff;		/* next-hop MTU: the low half (RFC 1191) */
	if (v6 ? icmp[0] != ICMPV6_PKT_TOOBIG : icmp[1] != ICMP_FRAG_NEEDED)
		info = 0;
	icmp_send_error(ctx, &from, icmp[0], icmp[1], info, &q);
}

/* An echo reply for raw-mode flow @fl: to the guest with its identifier. */
static void raw_reply(struct gw_ctx *ctx, struct flow *fl, struct echo_hdr *e, uint32_t len)
{
	e->id = fl->key.guest_port;
	echo_checksum(e, len, &fl->key.remote, &fl->key.guest);
	ip_send(ctx, &fl->key.remote, &fl->key.guest, fl->key.proto, (uint8_t *)e, len);
	dgram_used(ctx, fl);
}

/* One message from the raw ICMP socket (IPv4 header included). */
static void raw4_message(struct gw_ctx *ctx, uint8_t *buf, uint32_t n)
{
	struct iphdr *ip = (struct iphdr *)buf, *inner;
	struct echo_hdr *e;
	struct inany from, dst;
	struct flow *fl;
	uint32_t len;

	if (n < sizeof(*ip) || n < ip->ihl * 4u + sizeof(*e))
		return;
	e = (struct echo_hdr *)(buf + ip->ihl * 4u);
	len = n - ip->ihl * 4u;
	inany_from_v4(&from, ip->saddr);
	if (e->type == ICMP_DEST_UNREACH || e->type == ICMP_TIME_EXCEEDED) {
		inner = (struct iphdr *)(e + 1);
		if (len < sizeof(*e) + sizeof(*inner) || inner->ihl < 5 ||
		    len < sizeof(*e) + inner->ihl * 4u + sizeof(*e) ||
		    inner->protocol != IPPROTO_ICMP)
			return;
		inany_from_v4(&dst, inner->daddr);
		raw_error(ctx, &from, (uint8_t *)e, &dst,
			  (struct echo_hdr *)((uint8_t *)inner + inner->ihl * 4u),
			  len - sizeof(*e) - inner->ihl * 4u);
		return;
	}
	fl = e->type == ICMP_ECHOREPLY ? raw_flow(ctx, e->id, &from) : NULL;
	if (fl)
		raw_reply(ctx, fl, e, len);
}

/* One message from the raw ICMPv6 socket (no IPv6 header: @from says who). */
static void raw6_message(struct gw_ctx *ctx, uint8_t *buf, uint32_t n,
			 const struct inany *from)
{
	struct echo_hdr *e = (struct echo_hdr *)buf;
	struct ipv6hdr *inner = (struct ipv6hdr *)(e + 1);
	struct flow *fl;

	if (n < sizeof(*e))
		return;
	if (e->type == ICMPV6_DEST_UNREACH || e->type == ICMPV6_PKT_TOOBIG ||
	    e->type == ICMPV6_TIME_EXCEED || e->type == ICMPV6_PARAMPROB) {
		if (n < sizeof(*e) + sizeof(*inner) + sizeof(*e) ||
		    inner->nexthdr != IPPROTO_ICMPV6)
			return;
		raw_error(ctx, from, buf, (struct inany *)&inner->daddr,
			  (struct echo_hdr *)(inner + 1), n - sizeof(*e) - sizeof(*inner));
		return;
	}
	fl = e->type == ICMPV6_ECHO_REPLY ? raw_flow(ctx, e->id, from) : NULL;
	if (fl)
		raw_reply(ctx, fl, e, n);
}

/**
 * ping_raw_event() - one of the worker's raw sockets is readable
 * @ctx: worker context
 * @v6: the ICMPv6 one
 *
 * It sees every ICMP message the host receives: only echo replies and errors
 * that match a raw-mode ping flow are used.
 */
void ping_raw_event(struct gw_ctx *ctx, bool v6)
{
	for (int i = 0; i < RX_BUDGET; i++) {
		union sockaddr_inany sa;
		socklen_t salen = sizeof(sa);
		ssize_t n = recvfrom(*raw_fd(ctx, v6), ctx->scratch, UDP_SLOT, MSG_DONTWAIT,
				     &sa.sa, &salen);
		struct inany from;
		uint16_t unused;

		if (n < 0)
			break;
		if (!v6) {
			raw4_message(ctx, ctx->scratch, (uint32_t)n);
			continue;
		}
		inany_from_sockaddr(&from, &unused, &sa);
		raw6_message(ctx, ctx->scratch, (uint32_t)n, &from);
	}
}

/* The request goes out on a raw socket: our identifier on the wire. */
static void ping_raw_request(struct gw_ctx *ctx, const struct flow *fl, const struct frame *f,
			     const struct ippkt *p, struct msghdr *mh)
{
	struct echo_hdr *out = (struct echo_hdr *)ctx->scratch;

	frame_copy_out(f, p->l4off, ctx->scratch, p->l4len);
	out->id = htons((uint16_t)(flow_index(ctx->flows, fl) + 1));
	echo_checksum(out, p->l4len, &p->src, &p->dst);	/* the kernel redoes ICMPv6's */
	mh->msg_iov[0] = (struct iovec){ ctx->scratch, p->l4len };
	mh->msg_iovlen = 1;
}

/* The host could not send @p: no route, says the gateway. */
static void ping_unreachable(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
			     int err)
{
	bool noroute = err == ENETUNREACH;

	icmp_unreachable(ctx, f, p, noroute ? ICMP_NET_UNREACH : ICMP_HOST_UNREACH,
			 noroute ? ICMPV6_NOROUTE : ICMPV6_ADDR_UNREACH);
}

/* The ping flow for @p's request: a ping socket, else the raw socket. */
static struct flow *ping_flow(struct gw_ctx *ctx, const struct ippkt *p, uint16_t id)
{
	const struct echo_family *ef = echo_of(p->v6);
	struct flow_key k = { .proto = p->proto, .guest = p->src, .remote = p->dst,
			      .guest_port = id };
	int *raw = raw_fd(ctx, p->v6);
	struct flow *fl = dgram_mapping(ctx, &k, *raw < 0 ? hostsock_ping_open : NULL,
					ef->family);

	if (!fl && *raw < 0 && !ping_raw_open(ctx, p->v6))
		fl = dgram_mapping(ctx, &k, NULL, ef->family);
	return fl;
}

/**
 * ping_input() - an echo request from the guest to another host
 * @ctx: protocol context
 * @f: the frame (or reassembled datagram)
 * @p: its validated datagram (an ICMPv6 one's checksum and type are checked)
 *
 * Return: VERDICT_DONE.
 */
enum verdict ping_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	const struct echo_family *ef = echo_of(p->v6);
	struct iovec iov[FRAME_MAX_SEGS];
	union sockaddr_inany sa;
	struct msghdr mh = { .msg_name = &sa, .msg_iov = iov };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct echo_hdr *e;
	struct inany to;
	uint16_t to_port;
	enum drop_reason why;
	struct flow *fl;
	struct ip_quote q;

	if (p->l4len < sizeof(*e) || p->l4off + sizeof(*e) > f->seg[0].len ||
	    (!p->v6 && csum_fold(frame_csum(f, p->l4off, p->l4len))))
		return drop(ctx, DROP_ICMP_MALFORMED);
	e = (struct echo_hdr *)(f->seg[0].data + p->l4off);
	if (e->type != ef->request || e->code || !inany_is_unicast(&p->src) ||
	    !inany_is_unicast(&p->dst))
		return drop(ctx, DROP_ICMP_TYPE);
	if (hostaddr_target(ctx->gw, p->proto, &p->dst, 0, &to, &to_port))
		return drop(ctx, DROP_ICMP_TYPE);
	if (!p->v6 && p->hops <= 1) {	/* the gateway is the hop where it ends */
		ip_quote_of(&q, p, f);
		icmp_send_error(ctx, NULL, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, &q);
		return VERDICT_DONE;
	}
	why = egress_check_to(ctx, p, IPPROTO_ICMP, &to, to_port);
	if (why != DROP_MAX)
		return egress_refuse(ctx, f, p, why);
	fl = ping_flow(ctx, p, e->id);
	if (!fl)
		return drop(ctx, DROP_PING_DENIED);
	mh.msg_namelen = inany_to_sockaddr(&sa, &to, 0, ef->family);
	if (fl->sock < 0)
		ping_raw_request(ctx, fl, f, p, &mh);
	else
		mh.msg_iovlen = frame_iov(f, p->l4off, p->l4len, iov);
	/* the gateway is one hop: the rest of the guest's TTL goes on */
	hops_cmsg(ef, &mh, cbuf, p->hops - 1);
	if (sendmsg(fl->sock < 0 ? *raw_fd(ctx, p->v6) : fl->sock, &mh, MSG_DONTWAIT) < 0) {
		if (errno == ENETUNREACH || errno == EHOSTUNREACH)
			ping_unreachable(ctx, f, p, errno);
		return drop(ctx, DROP_ICMP_SEND);
	}
	dgram_used(ctx, fl);
	return VERDICT_DONE;
}

/* An ICMP error for one of our echo requests: to the guest, quoting its own. */
static void ping_relay_error(struct gw_ctx *ctx, struct flow *fl, const struct inany *to,
			     uint16_t to_port, const struct sock_extended_err *ee,
			     uint32_t payload_len)
{
	struct echo_hdr *sent = (struct echo_hdr *)(ctx->scratch + 8);
	bool v6 = !inany_is_v4(&fl->key.guest);
	struct ip_quote q = { .src = fl->key.guest, .dst = fl->key.remote,
			      .proto = fl->key.proto, .l4len = payload_len, .l4 = sent,
			      .have = payload_len };
	struct inany from;

	(void)to;
	(void)to_port;
	if (payload_len < sizeof(*sent))
		return;
	sent->id = fl->key.guest_port;
	sent->check = 0;
	dgram_offender(ctx, ee, v6, &from);
	icmp_send_error(ctx, &from, ee->ee_type, ee->ee_code, dgram_error_info(ee), &q);
}

/**
 * ping_sock_event() - echo replies (or errors) arrived on a ping socket
 * @ctx: worker context
 * @fl: the ping flow
 * @events: epoll events
 */
void ping_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	const struct echo_family *ef = echo_of(!inany_is_v4(&fl->key.guest));

	if (events & EPOLLERR)
		dgram_errors(ctx, fl, ping_relay_error);
	for (int i = 0; (events & EPOLLIN) && i < RX_BUDGET; i++) {
		struct echo_hdr *e = (struct echo_hdr *)ctx->scratch;
		ssize_t n = recv(fl->sock, e, UDP_SLOT, MSG_DONTWAIT);

		if (n < (ssize_t)sizeof(*e))
			break;
		if (e->type != ef->reply)
			continue;
		e->id = fl->key.guest_port;
		echo_checksum(e, (uint32_t)n, &fl->key.remote, &fl->key.guest);
		ip_send(ctx, &fl->key.remote, &fl->key.guest, fl->key.proto, ctx->scratch,
			(uint32_t)n);
		dgram_used(ctx, fl);
	}
}
