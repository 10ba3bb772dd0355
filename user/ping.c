// SPDX-License-Identifier: MIT
/*
 * ping.c - the guest's echo requests to other hosts, through ICMP sockets.
 *
 * Theory of operation: an echo request to any address but the gateway's
 * own goes out through an unprivileged ICMP datagram socket ("ping
 * socket"), one per (guest address, echo identifier, destination): the
 * kernel gives each socket an identifier of its own and matches replies to
 * it, so the engine only puts the guest's identifier back into the reply.
 * Errors the socket receives (unreachable, TTL exceeded: IP_RECVERR) go to
 * the guest quoting its echo request, so ping reports them.  The gateway
 * counts as one hop: the guest's TTL, less one, goes on with the request,
 * and a TTL of 1 ends at the gateway with "time exceeded".  Ping sockets
 * live like UDP mappings (udp.c: dgram_mapping()) and expire the same way.
 *
 * The kernel allows ping sockets only to the groups of
 * net.ipv4.ping_group_range, which by default admits nobody.  Then the
 * worker opens one raw ICMP socket instead (root has CAP_NET_RAW): each
 * ping flow gets an echo identifier of its own on the wire (its flow index
 * + 1), and replies and errors quoting it are matched back to the flow.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "csum.h"
#include "hostaddr.h"
#include "hostsock.h"
#include "icmp.h"
#include "ipv4.h"
#include "log.h"
#include "ping.h"
#include "udp.h"

#define RX_BUDGET 64

/* Adds an IP_TTL control message for @ttl to @mh, in @cbuf. */
static void ttl_cmsg(struct msghdr *mh, char cbuf[CMSG_SPACE(sizeof(int))], int ttl)
{
	struct cmsghdr *cm;

	mh->msg_control = cbuf;
	mh->msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_TTL;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &ttl, sizeof(int));
}

/* Opens the worker's raw ICMP socket; 0 or negative errno (logged once). */
static int ping_raw_open(struct gw_ctx *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EPOLL_ICMP_RAW };
	int fd = hostsock_icmp_raw_open();

	if (fd < 0 || epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		if (fd >= 0)
			close(fd);
		if (!ctx->cnt->drop[DROP_PING_DENIED])
			log_warn("guests cannot ping other hosts: no ICMP socket (net.ipv4.ping_group_range) and no raw socket (CAP_NET_RAW)");
		return -EPERM;
	}
	log_info("ping to other hosts through a raw ICMP socket (ping sockets are not allowed for our group)");
	ctx->icmp_raw = fd;
	return 0;
}

/* The raw-mode ping flow whose wire identifier is @id, from @remote. */
static struct flow *raw_flow(struct gw_ctx *ctx, uint16_t id, uint32_t remote)
{
	uint32_t idx = (uint32_t)ntohs(id) - 1;
	struct flow *fl;

	if (idx >= ctx->flows->max)
		return NULL;
	fl = &ctx->flows->flows[idx];
	if (fl->state == FLOW_FREE || fl->key.proto != IPPROTO_ICMP || fl->sock >= 0 ||
	    inany_v4(&fl->key.remote) != remote)
		return NULL;
	return fl;
}

/* An ICMP error the raw socket saw: for one of our echo requests? */
static void raw_error(struct gw_ctx *ctx, const struct iphdr *outer, struct icmphdr *icmp,
		      uint32_t len)
{
	struct iphdr *inner = (struct iphdr *)(icmp + 1);
	struct icmphdr *sent;
	struct flow *fl;
	uint32_t from;
	uint16_t unused;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = { outer->saddr } };

	if (len < sizeof(*icmp) + sizeof(*inner) || inner->ihl < 5 ||
	    len < sizeof(*icmp) + inner->ihl * 4u + sizeof(*sent) || inner->protocol != IPPROTO_ICMP)
		return;
	sent = (struct icmphdr *)((uint8_t *)inner + inner->ihl * 4u);
	fl = sent->type == ICMP_ECHO ? raw_flow(ctx, sent->un.echo.id, inner->daddr) : NULL;
	if (!fl)
		return;
	sent->un.echo.id = fl->key.guest_port;
	sent->checksum = 0;
	ipv4_fill_header(inner, inany_v4(&fl->key.guest), inany_v4(&fl->key.remote),
			 IPPROTO_ICMP, ntohs(inner->tot_len), 0, ntohs(inner->id));
	hostaddr_source(ctx->gw, IPPROTO_ICMP, &sa, &from, &unused);
	icmp_send_error(ctx, from, icmp->type, icmp->code,
			icmp->code == ICMP_FRAG_NEEDED ? ntohs(icmp->un.frag.mtu) : 0, inner, sent);
}

/**
 * ping_raw_event() - the worker's raw ICMP socket is readable
 * @ctx: worker context
 *
 * It sees every ICMP message the host receives: only echo replies and errors
 * that match a raw-mode ping flow are used.
 */
void ping_raw_event(struct gw_ctx *ctx)
{
	for (int i = 0; i < RX_BUDGET; i++) {
		ssize_t n = recv(ctx->icmp_raw, ctx->scratch, UDP_SLOT, MSG_DONTWAIT);
		struct iphdr *ip = (struct iphdr *)ctx->scratch;
		struct icmphdr *icmp;
		struct flow *fl;
		uint32_t len;

		if (n < (ssize_t)sizeof(*ip) || n < ip->ihl * 4 + (ssize_t)sizeof(*icmp))
			break;
		icmp = (struct icmphdr *)(ctx->scratch + ip->ihl * 4u);
		len = (uint32_t)n - ip->ihl * 4u;
		if (icmp->type == ICMP_DEST_UNREACH || icmp->type == ICMP_TIME_EXCEEDED) {
			raw_error(ctx, ip, icmp, len);
			continue;
		}
		fl = icmp->type == ICMP_ECHOREPLY ? raw_flow(ctx, icmp->un.echo.id, ip->saddr) : NULL;
		if (!fl)
			continue;
		icmp->un.echo.id = fl->key.guest_port;
		icmp->checksum = 0;
		icmp->checksum = csum_fold(csum_partial(icmp, len, 0));
		ipv4_send(ctx, ip->saddr, inany_v4(&fl->key.guest), IPPROTO_ICMP,
			  (uint8_t *)icmp, len);
		dgram_used(ctx, fl);
	}
}

/**
 * ping_input() - an echo request from the guest to another host
 * @ctx: protocol context
 * @f: the frame (or reassembled datagram)
 * @ip: its validated IPv4 header
 *
 * Return: VERDICT_DONE.
 */
enum verdict ping_input(struct gw_ctx *ctx, struct frame *f, struct iphdr *ip)
{
	uint32_t off = ETH_HLEN + ip->ihl * 4u, len = ntohs(ip->tot_len) - ip->ihl * 4u;
	struct flow_key k = { .proto = IPPROTO_ICMP };
	struct iovec iov[FRAME_MAX_SEGS];
	struct sockaddr_in sa;
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct icmphdr *icmp;
	struct flow *fl;
	int ret;

	if (len < sizeof(*icmp) || off + sizeof(*icmp) > f->seg[0].len ||
	    csum_fold(frame_csum(f, off, len)))
		return drop(ctx, DROP_ICMP_MALFORMED);
	icmp = (struct icmphdr *)(f->seg[0].data + off);
	if (icmp->type != ICMP_ECHO || icmp->code || !ipv4_is_unicast(ip->saddr) ||
	    !ipv4_is_unicast(ip->daddr))
		return drop(ctx, DROP_ICMP_TYPE);
	ret = hostaddr_target(ctx->gw, IPPROTO_ICMP, ip->daddr, 0, &sa);
	if (ret)
		return drop(ctx, DROP_ICMP_TYPE);
	if (ip->ttl <= 1) {	/* the gateway is the hop where it ends */
		icmp_send_error(ctx, ctx->gw->gw_addr, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, ip, icmp);
		return VERDICT_DONE;
	}

	inany_from_v4(&k.guest, ip->saddr);
	inany_from_v4(&k.remote, ip->daddr);
	k.guest_port = icmp->un.echo.id;
	fl = dgram_mapping(ctx, &k, ctx->icmp_raw < 0 ? hostsock_ping_open : NULL);
	if (!fl && ctx->icmp_raw < 0 && !ping_raw_open(ctx))
		fl = dgram_mapping(ctx, &k, NULL);
	if (!fl)
		return drop(ctx, DROP_PING_DENIED);
	if (fl->sock < 0) {
		/* raw: our own identifier on the wire, and the checksum to match */
		struct icmphdr *out = (struct icmphdr *)ctx->scratch;

		frame_copy_out(f, off, ctx->scratch, len);
		out->un.echo.id = htons((uint16_t)(flow_index(ctx->flows, fl) + 1));
		out->checksum = 0;
		out->checksum = csum_fold(csum_partial(out, len, 0));
		iov[0] = (struct iovec){ ctx->scratch, len };
		mh.msg_iovlen = 1;
	} else {
		mh.msg_iovlen = frame_iov(f, off, len, iov);
	}
	/* the gateway is one hop: the rest of the guest's TTL goes on */
	ttl_cmsg(&mh, cbuf, ip->ttl - 1);
	if (sendmsg(fl->sock < 0 ? ctx->icmp_raw : fl->sock, &mh, MSG_DONTWAIT) < 0) {
		/* no route from the host: the gateway says so */
		if (errno == ENETUNREACH || errno == EHOSTUNREACH)
			icmp_send_error(ctx, ctx->gw->gw_addr, ICMP_DEST_UNREACH,
					errno == ENETUNREACH ? ICMP_NET_UNREACH :
					ICMP_HOST_UNREACH, 0, ip, icmp);
		return drop(ctx, DROP_ICMP_SEND);
	}
	dgram_used(ctx, fl);
	return VERDICT_DONE;
}

/* An ICMP error for one of our echo requests: to the guest, quoting its own. */
static void ping_relay_error(struct gw_ctx *ctx, struct flow *fl, const struct sockaddr_in *to,
			     const struct sock_extended_err *ee, uint32_t payload_len)
{
	const struct sockaddr_in *offender = (const struct sockaddr_in *)SO_EE_OFFENDER(ee);
	struct icmphdr *sent = (struct icmphdr *)(ctx->scratch + 8);
	uint32_t from;
	uint16_t unused;
	struct iphdr ip;

	(void)to;
	if (payload_len < sizeof(*sent))
		return;
	sent->un.echo.id = fl->key.guest_port;
	sent->checksum = 0;
	ipv4_fill_header(&ip, inany_v4(&fl->key.guest), inany_v4(&fl->key.remote),
			 IPPROTO_ICMP, sizeof(ip) + payload_len, 0, 0);
	hostaddr_source(ctx->gw, IPPROTO_ICMP, offender, &from, &unused);
	icmp_send_error(ctx, from, ee->ee_type, ee->ee_code, 0, &ip, sent);
}

/**
 * ping_sock_event() - echo replies (or errors) arrived on a ping socket
 * @ctx: worker context
 * @fl: the ping flow
 * @events: epoll events
 */
void ping_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	if (events & EPOLLERR)
		dgram_errors(ctx, fl, ping_relay_error);
	for (int i = 0; (events & EPOLLIN) && i < RX_BUDGET; i++) {
		struct icmphdr *icmp = (struct icmphdr *)ctx->scratch;
		ssize_t n = recv(fl->sock, icmp, UDP_SLOT, MSG_DONTWAIT);

		if (n < (ssize_t)sizeof(*icmp))
			break;
		if (icmp->type != ICMP_ECHOREPLY)
			continue;
		icmp->un.echo.id = fl->key.guest_port;
		icmp->checksum = 0;
		icmp->checksum = csum_fold(csum_partial(icmp, (size_t)n, 0));
		ipv4_send(ctx, inany_v4(&fl->key.remote), inany_v4(&fl->key.guest),
			  IPPROTO_ICMP, ctx->scratch, (uint32_t)n);
		dgram_used(ctx, fl);
	}
}
