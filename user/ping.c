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
 * the guest quoting its echo request, so ping reports them.  Ping sockets
 * live like UDP mappings (udp.c: dgram_mapping()) and expire the same way.
 *
 * The kernel allows ping sockets to the groups of net.ipv4.ping_group_range;
 * without that, echo requests to other hosts are dropped (counted) and the
 * log says what to change.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "csum.h"
#include "hostaddr.h"
#include "hostsock.h"
#include "icmp.h"
#include "ipv4.h"
#include "log.h"
#include "ping.h"
#include "udp.h"

#define RX_BUDGET 64

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
	ret = hostaddr_target(ctx->gw, ip->daddr, 0, &sa);
	if (ret)
		return drop(ctx, DROP_ICMP_TYPE);

	inany_from_v4(&k.guest, ip->saddr);
	inany_from_v4(&k.remote, ip->daddr);
	k.guest_port = icmp->un.echo.id;
	fl = dgram_mapping(ctx, &k, hostsock_ping_open);
	if (!fl) {
		if (!ctx->cnt->drop[DROP_PING_DENIED])
			log_warn("no ICMP socket for a guest's ping: allow gid 0 in net.ipv4.ping_group_range (sysctl)");
		return drop(ctx, DROP_PING_DENIED);
	}
	memcpy(ctx->guest_mac, ((struct ethhdr *)f->seg[0].data)->h_source, ETH_ALEN);
	mh.msg_iovlen = frame_iov(f, off, len, iov);
	if (sendmsg(fl->sock, &mh, MSG_DONTWAIT) < 0) {
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
	hostaddr_source(ctx->gw, offender, &from, &unused);
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
