// SPDX-License-Identifier: MIT
/*
 * udp.c - the guest's UDP, through one host socket per guest port.
 *
 * Theory of operation: a guest (address, port) is mapped to one unconnected
 * host UDP socket, whatever it talks to (endpoint-independent mapping, as
 * STUN, QUIC and slirp4netns expect).  A datagram from the guest leaves
 * with sendmsg() to its destination (translated by hostaddr_target(): the
 * gateway is the host's loopback, the DNS address is the DNS upstream);
 * every datagram the socket receives, from any source, goes back to that
 * guest port, its source translated back (hostaddr_source()).  So a guest
 * port talking to many peers works, and replies carry the right source.
 *
 * Both families work alike.  A mapping's socket is IPv6 and dual-stack when
 * the guest's address is IPv6, or when its first destination is (an IPv4
 * guest's query to 10.0.2.3 with an IPv6 upstream): an IPv6 guest's query
 * to fd00::3 may then reach an IPv4 upstream through an IPv4-mapped address.
 * What comes back in a family the guest's side cannot carry is not
 * delivered.
 *
 * ICMP errors the host receives for a mapping's datagrams (IP_RECVERR,
 * IPV6_RECVERR) are relayed to the guest, quoting its datagram, so that a
 * connected socket in the guest sees ECONNREFUSED; a DNS query whose
 * upstream is unreachable is answered with SERVFAIL at once.
 *
 * Datagrams from one burst of guest frames leave with one sendmmsg() per
 * socket (udp_flush()), runs of one length to one destination joined into
UDP_SEGMENT sends; those from the host arrive with recvmmsg().  A
 * UDP super-frame from a tap (the guest's UDP_SEGMENT send, USO) is cut
 * back into its datagrams there (udp_queue_segments()).
 *
 * A mapping expires after --udp-timeout seconds without traffic either way.
 * Mappings may take at most half of the flow table; beyond that the one idle
 * the longest is evicted.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arp.h"
#include "csum.h"
#include "dhcp.h"
#include "dhcp6.h"
#include "dns.h"
#include "egress.h"
#include "eth.h"
#include "hostaddr.h"
#include "hostsock.h"
#include "icmp.h"
#include "ip.h"
#include "ipv4.h"
#include "ndp.h"
#include "shaper.h"
#include "steer.h"
#include "l4.h"
#include "udp.h"

#define NS_PER_S	1000000000ull
#define RX_BUDGET	64	/* datagrams read per socket event */

static uint64_t udp_expiry(const struct gw_ctx *ctx)
{
	return ctx->now + (uint64_t)ctx->gw->udp_timeout_s * NS_PER_S;
}

/* Closes a datagram flow (UDP mapping or ping socket) and its socket. */
void udp_close(struct gw_ctx *ctx, struct flow *fl)
{
	if (ctx->udp_out.n)
		udp_flush(ctx);		/* queued datagrams may be for this socket */
	if (fl->sock >= 0 && !(fl->flags & FLOW_INBOUND)) {	/* not a shared listener */
		epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, fl->sock, NULL);
		close(fl->sock);
	}
	ctx->flows->ndgram--;
	steer_flow_del(ctx, &fl->key);
	flow_remove(ctx->flows, fl);
}

/* A datagram flow's idle time is over (or it was refreshed since: re-arm). */
void udp_timer(struct gw_ctx *ctx, struct flow *fl)
{
	if (fl->last_used + (uint64_t)ctx->gw->udp_timeout_s * NS_PER_S > ctx->now) {
		l4_timer_arm(ctx, fl, fl->last_used + (uint64_t)ctx->gw->udp_timeout_s * NS_PER_S);
		return;
	}
	udp_close(ctx, fl);
}

/* Evicts the mapping idle the longest (a full table: O(flows), rare). */
static void udp_evict_oldest(struct gw_ctx *ctx)
{
	struct flow_table *t = ctx->flows;
	struct flow *oldest = NULL;

	for (uint32_t i = t->active; i != FLOW_NONE; i = t->flows[i].next) {
		struct flow *fl = &t->flows[i];

		if (fl->key.proto != IPPROTO_TCP &&
		    (!oldest || fl->last_used < oldest->last_used))
			oldest = fl;
	}
	if (oldest) {
		counter_add(&ctx->cnt->evicted, 1);
		udp_close(ctx, oldest);
	}
}

/**
 * dgram_mapping() - the datagram flow (UDP mapping, ping socket) for @k
 * @ctx: protocol context
 * @k: its key
 * @open_socket: makes its host socket of the family asked, or returns a
 *		 negative errno; NULL for a flow that shares a socket of the
 *		 worker's (raw ICMP)
 * @family: of that socket
 *
 * The one place datagram flows are admitted: found, or made, evicting the
 * flow idle the longest when they hold half the table.
 *
 * Return: the flow, or NULL (@ctx->cnt says why).
 */
struct flow *dgram_mapping(struct gw_ctx *ctx, const struct flow_key *k,
			   int (*open_socket)(const struct gateway *gw, int family),
			   int family)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct flow_table *t = ctx->flows;
	struct flow *fl = flow_lookup(t, k);

	if (fl)
		return fl;
	if (t->ndgram >= t->max / 2 || flow_table_full(t))
		udp_evict_oldest(ctx);
	if (flow_table_full(t) || !steer_flow_add(ctx, k))
		return NULL;
	fl = flow_insert(t, k);
	t->ndgram++;
	fl->state = FLOW_ESTABLISHED;
	if (family == AF_INET6)
		fl->flags |= FLOW_SOCK6;
	if (!open_socket)
		return fl;
	fl->sock = open_socket(ctx->gw, family);
	ev.data.u64 = ctx->ev_tag | (EPOLL_FLOW_BASE + flow_index(t, fl));
	if (fl->sock < 0 || epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fl->sock, &ev)) {
		if (fl->sock < 0)
			l4_socket_failed(ctx, -fl->sock);
		udp_close(ctx, fl);
		return NULL;
	}
	return fl;
}

/* Marks traffic on a datagram flow: its idle timer starts over. */
void dgram_used(struct gw_ctx *ctx, struct flow *fl)
{
	fl->last_used = ctx->now;
	if (!fl->timer_at)
		l4_timer_arm(ctx, fl, udp_expiry(ctx));
}

/* Payload of one UDP_SEGMENT send, at most (IPv6's limit, the lower one) */
#define UDP_GSO_BYTES (65535u - 40u - 8u)
/* As many datagrams as one UDP_SEGMENT send may carry (Linux's own
 * UDP_MAX_SEGMENTS); a guest's super-frame of more is dropped.
 */
#define UDP_GSO_MAX_SEGS 128

/*
 * How many datagrams from @i on (before @end) may leave as one UDP_SEGMENT
 * send: the same destination and length, the last one possibly shorter.
 */
static unsigned udp_gso_run(const struct udp_batch *b, unsigned i, unsigned end)
{
	uint32_t seg = b->len[i], total = seg;
	socklen_t salen = b->msg[i].msg_hdr.msg_namelen;
	unsigned n = 1;

	if (!seg)
		return 1;
	while (i + n < end && n < UDP_GSO_MAX_SEGS && b->len[i + n] <= seg &&
	       total + b->len[i + n] <= UDP_GSO_BYTES &&
	       b->msg[i + n].msg_hdr.msg_namelen == salen &&
	       !memcmp(&b->to[i + n], &b->to[i], salen)) {
		total += b->len[i + n];
		if (b->len[i + n++] < seg)
			break;
	}
	return n;
}

/* Joins the @count datagrams from @i into @mh, one UDP_SEGMENT send. */
static void udp_gso_join(struct udp_batch *b, struct msghdr *mh, unsigned i, unsigned count,
			 unsigned *niov, unsigned m)
{
	struct cmsghdr *c;

	mh->msg_iov = &b->gso_iov[*niov];
	mh->msg_iovlen = 0;
	for (unsigned k = i; k < i + count; k++) {
		size_t len = b->msg[k].msg_hdr.msg_iovlen;

		memcpy(&b->gso_iov[*niov], b->msg[k].msg_hdr.msg_iov, len * sizeof(struct iovec));
		*niov += (unsigned)len;
		mh->msg_iovlen += len;
	}
	mh->msg_control = b->gso_cmsg[m].buf;
	mh->msg_controllen = sizeof(b->gso_cmsg[m].buf);
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = IPPROTO_UDP;	/* SOL_UDP */
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	*(uint16_t *)CMSG_DATA(c) = (uint16_t)b->len[i];
}

/* Fills b->gso[] with the datagrams [@i, @end) joined where they may be. */
static unsigned udp_gso_pack(struct udp_batch *b, unsigned i, unsigned end)
{
	unsigned m = 0, niov = 0;

	for (unsigned count; i < end; i += count, m++) {
		count = udp_gso_run(b, i, end);
		b->gso[m].msg_hdr = b->msg[i].msg_hdr;
		b->gso_count[m] = count;
		if (count > 1)
			udp_gso_join(b, &b->gso[m].msg_hdr, i, count, &niov, m);
	}
	return m;
}

/*
 * Sends the @run datagrams from @i to @fl's socket joined into UDP_SEGMENT
 * sends; returns how many of them left.  The host's kernel then walks its
 * stack once per 64 KiB instead of once per datagram; the receiver gets
 * the very datagrams the guest sent.  A route that cannot segment (no
 * checksum offload, a path MTU below the datagram) refuses the first send;
 * the flow then sends plainly from then on.
 */
static unsigned udp_send_gso(struct udp_batch *b, struct flow *fl, unsigned i, unsigned run)
{
	unsigned m = udp_gso_pack(b, i, i + run), done = 0;
	int sent = sendmmsg(fl->sock, b->gso, m, MSG_DONTWAIT);

	if (sent < 0 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE ||
			 errno == ENOPROTOOPT))
		fl->flags |= FLOW_NO_GSO;
	for (int k = 0; k < sent; k++)
		done += b->gso_count[k];
	return done;
}

/* Sends the @run datagrams from @i, all to @fl's socket. */
static void udp_send_run(struct gw_ctx *ctx, struct flow *fl, unsigned i, unsigned run)
{
	struct udp_batch *b = &ctx->udp_out;
	unsigned sent = 0;

	if (run > 1 && !(fl->flags & FLOW_NO_GSO))
		sent = udp_send_gso(b, fl, i, run);
	if (sent < run) {
		int n = sendmmsg(fl->sock, &b->msg[i + sent], run - sent, MSG_DONTWAIT);

		sent += n > 0 ? (unsigned)n : 0;
	}
	if (sent < run)
		counter_add(&ctx->cnt->drop[DROP_UDP_SEND], run - sent);
	if (sent)
		dgram_used(ctx, fl);
}

/**
 * udp_flush() - send the datagrams queued by udp_input()
 * @ctx: protocol context
 *
 * One sendmmsg() for each run of datagrams to the same host socket, those
 * of one length to one destination joined (udp_send_gso()).  After this,
 * the frames they came in may be released.
 */
void udp_flush(struct gw_ctx *ctx)
{
	struct udp_batch *b = &ctx->udp_out;

	for (unsigned i = 0, run; i < b->n; i += run) {
		for (run = 1; i + run < b->n && b->flow[i + run] == b->flow[i]; run++)
			;
		udp_send_run(ctx, b->flow[i], i, run);
	}
	b->n = 0;
}

/* Queues @len payload bytes at @off of @f for @fl's socket, toward @to:@port. */
static enum verdict udp_queue(struct gw_ctx *ctx, struct flow *fl, const struct inany *to,
			      uint16_t port, const struct frame *f, uint32_t off, uint32_t len)
{
	struct udp_batch *b = &ctx->udp_out;
	socklen_t salen;
	unsigned i;

	if (b->n == UDP_TX_BATCH)
		udp_flush(ctx);
	i = b->n;
	salen = inany_to_sockaddr(&b->to[i], to, port,
				  (fl->flags & FLOW_SOCK6) ? AF_INET6 : AF_INET);
	if (!salen)		/* an IPv6 destination for an IPv4 socket */
		return drop(ctx, DROP_UDP_SEND);
	b->n++;
	b->flow[i] = fl;
	b->msg[i].msg_hdr = (struct msghdr){
		.msg_name = &b->to[i], .msg_namelen = salen,
		.msg_iov = b->iov[i], .msg_iovlen = frame_iov(f, off, len, b->iov[i]),
	};
	b->len[i] = len;
	return VERDICT_HELD;
}

/**
 * udp_queue_segments() - queue the datagrams of a UDP super-frame (USO)
 * @ctx: protocol context
 * @fl: the guest port's flow
 * @to: destination
 * @port: its port, network order
 * @f: the super-frame: @f->gso_size bytes of payload a datagram
 * @off: where the payload starts
 * @len: the payload of all of them
 *
 * Each becomes the datagram the guest's application sent, as if the
 * guest's kernel had cut them: one sendmmsg() entry each.
 *
 * Return: VERDICT_HELD, or VERDICT_DONE if dropped.
 */
static enum verdict udp_queue_segments(struct gw_ctx *ctx, struct flow *fl,
				       const struct inany *to, uint16_t port,
				       const struct frame *f, uint32_t off, uint32_t len)
{
	uint32_t seg = f->gso_size;

	if (!seg || len > seg * UDP_GSO_MAX_SEGS)
		return drop(ctx, DROP_UDP_MALFORMED);
	for (uint32_t done = 0; done < len; done += seg) {
		uint32_t n = len - done < seg ? len - done : seg;

		if (udp_queue(ctx, fl, to, port, f, off + done, n) != VERDICT_HELD)
			return done ? VERDICT_HELD : VERDICT_DONE;
	}
	return VERDICT_HELD;
}

/*
 * Reads up to UDP_RX_BATCH datagrams from @fd with one recvmmsg(), into the
 * scratch slots (payload at slot + 8); returns how many, 0 on none.
 */
static int udp_recv_batch(struct gw_ctx *ctx, int fd, struct mmsghdr *msgs,
			  union sockaddr_inany *sa, struct iovec *iov)
{
	int n;

	for (int i = 0; i < UDP_RX_BATCH; i++) {
		iov[i].iov_base = ctx->scratch + i * UDP_SLOT + sizeof(struct udphdr);
		iov[i].iov_len = UDP_SLOT - sizeof(struct udphdr);
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &sa[i], .msg_namelen = sizeof(sa[i]),
						   .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	n = recvmmsg(fd, msgs, UDP_RX_BATCH, MSG_DONTWAIT, NULL);
	return n < 0 ? 0 : n;
}

/* The inbound flow (forwarded port) that a datagram to @daddr:@dport from
 * the guest's @k answers, if any.
 */
static struct flow *udp_inbound_reply(struct gw_ctx *ctx, const struct flow_key *k,
				      const struct inany *daddr, uint16_t dport)
{
	struct flow_key full = *k;
	struct flow *fl;

	full.remote = *daddr;
	full.remote_port = dport;
	fl = flow_lookup(ctx->flows, &full);
	return fl && (fl->flags & FLOW_INBOUND) ? fl : NULL;
}

/**
 * udp_inbound() - datagrams from clients of a forwarded UDP port
 * @ctx: worker context
 * @fd: the port's socket
 * @r: its rule
 *
 * Each client (address, port) gets a flow that shares @fd, so the guest's
 * replies leave from the forwarded port; it expires like any mapping.
 */
void udp_inbound(struct gw_ctx *ctx, int fd, const struct fwd_rule *r)
{
	struct mmsghdr msgs[UDP_RX_BATCH];
	union sockaddr_inany sa[UDP_RX_BATCH];
	struct iovec iov[UDP_RX_BATCH];
	int n = udp_recv_batch(ctx, fd, msgs, sa, iov);

	for (int i = 0; i < n; i++) {
		struct flow_key k = { .proto = IPPROTO_UDP, .guest_port = htons(r->guest_port) };
		struct flow *fl;

		hostaddr_fwd_target(ctx->gw, r, &sa[i], ctx->gw->seen, &k.guest);
		hostaddr_fwd_source(ctx->gw, IPPROTO_UDP, &sa[i], &k.guest, &k.remote,
				    &k.remote_port);
		fl = flow_lookup(ctx->flows, &k);
		if (!fl) {
			fl = dgram_mapping(ctx, &k, NULL, sa[i].sa.sa_family);
			if (!fl)
				continue;
			fl->sock = fd;
			fl->flags |= FLOW_INBOUND;
		}
		if (arp_guest_unknown(ctx) && inany_is_v4(&k.guest))
			arp_ask_guest(ctx);	/* this one may be lost: UDP */
		else if (arp_guest_unknown(ctx))
			ndp_ask_guest(ctx, &k.guest);
		udp_send(ctx, ctx->scratch + i * UDP_SLOT, &k.remote, k.remote_port, &k.guest,
			 k.guest_port, msgs[i].msg_len);
		dgram_used(ctx, fl);
	}
}

/**
 * udp_input() - a UDP datagram from the guest
 * @ctx: protocol context
 * @f: the frame (or a reassembled datagram)
 * @p: its validated datagram, either family
 *
 * Return: VERDICT_HELD when the datagram is queued for udp_flush(), else
 * VERDICT_DONE (answers, if any, are new frames).
 */
enum verdict udp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	uint32_t off = p->l4off;
	struct flow_key k = { .proto = IPPROTO_UDP };
	struct inany to;
	uint16_t to_port;
	struct udphdr *uh;
	struct flow *fl;
	uint32_t ulen;
	int ret;

	if (p->l4len < sizeof(*uh) || off + sizeof(*uh) > f->seg[0].len)
		return drop(ctx, DROP_UDP_MALFORMED);
	uh = (struct udphdr *)(f->seg[0].data + off);
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > p->l4len)
		return drop(ctx, DROP_UDP_MALFORMED);
	if (!p->v6 && uh->dest == htons(DHCP_SERVER_PORT))
		return dhcp_input(ctx, f, uh);
	if (p->v6 && uh->dest == htons(DHCP6_SERVER_PORT))
		return dhcp6_input(ctx, f, p, uh);
	if (!inany_is_unicast(&p->src) || !inany_is_unicast(&p->dst))
		return drop(ctx, DROP_UDP_MALFORMED);
	if (gw_is_local(ctx->gw, &p->dst) && uh->dest == htons(53) &&
	    !dns_query_valid(f, off + sizeof(*uh), ulen - sizeof(*uh)))
		return drop(ctx, DROP_DNS_MALFORMED);

	ret = hostaddr_target(ctx->gw, IPPROTO_UDP, &p->dst, uh->dest, &to, &to_port);
	if (ret == -ENETUNREACH) {
		/* no route at the gateway (--disable-host-loopback) */
		icmp_unreachable(ctx, f, p, ICMP_NET_UNREACH, ICMPV6_NOROUTE);
		return VERDICT_DONE;
	}
	if (ret)
		return drop(ctx, DROP_DNS_OFF);
	k.guest_port = uh->source;
	k.guest = p->src;
	fl = udp_inbound_reply(ctx, &k, &p->dst, uh->dest);
	if (!fl) {	/* else a reply to a client of a forwarded port: from its socket */
		enum drop_reason why = egress_check_to(ctx, p, IPPROTO_UDP, &to, to_port);

		if (why != DROP_MAX)
			return egress_refuse(ctx, f, p, why);
		fl = dgram_mapping(ctx, &k, hostsock_udp_open,
				   p->v6 || !inany_is_v4(&to) ? AF_INET6 : AF_INET);
	}
	if (!fl)
		return drop(ctx, DROP_UDP_NO_SOCKET);
	if (f->flags & FRAME_GSO_UDP)
		return udp_queue_segments(ctx, fl, &to, to_port, f, off + sizeof(*uh),
					  ulen - sizeof(*uh));
	return udp_queue(ctx, fl, &to, to_port, f, off + sizeof(*uh), ulen - sizeof(*uh));
}

/**
 * udp_send() - send a datagram to the guest, with a complete UDP checksum
 * @ctx: protocol context
 * @dgram: 8 bytes of room for the UDP header, then the payload
 * @src: source address
 * @sport: source port, network order
 * @dst: destination address (the guest's, or broadcast), of @src's family
 * @dport: destination port, network order
 * @len: payload length
 *
 * A datagram past the guest's --ingress-rate is dropped (shaper.c).
 */
void udp_send(struct gw_ctx *ctx, uint8_t *dgram, const struct inany *src, uint16_t sport,
	      const struct inany *dst, uint16_t dport, uint32_t len)
{
	struct udphdr *uh = (struct udphdr *)dgram;
	uint32_t ulen = len + sizeof(*uh);
	uint16_t check;

	if (ctx->shape_in && !shaper_pay(ctx->shape_in, ulen, ctx->now)) {
		counter_add(&ctx->cnt->drop[DROP_TX_RATE_LIMITED], 1);
		return;
	}
	uh->source = sport;
	uh->dest = dport;
	uh->len = htons((uint16_t)ulen);
	uh->check = 0;
	check = csum_fold(csum_partial(uh, ulen, ip_pseudo_sum(src, dst, IPPROTO_UDP, ulen)));
	uh->check = check ? check : 0xffff;	/* 0 means "none" in UDP */
	ip_send(ctx, src, dst, IPPROTO_UDP, dgram, ulen);
}

/*
 * Relays an ICMP error the host got for one of @fl's datagrams; @payload is
 * the datagram's payload as sent (the kernel gives it back).
 */
static void udp_relay_error(struct gw_ctx *ctx, struct flow *fl, const struct inany *to,
			    uint16_t to_port, const struct sock_extended_err *ee,
			    uint32_t payload_len)
{
	bool v6 = !inany_is_v4(&fl->key.guest);
	uint8_t *l4 = ctx->scratch;	/* the payload is at + 8: a UDP header first */
	struct udphdr *uh = (struct udphdr *)l4;
	struct ip_quote q = { .src = fl->key.guest, .proto = IPPROTO_UDP,
			      .l4len = payload_len + sizeof(*uh), .l4 = l4,
			      .have = payload_len + sizeof(*uh) };
	struct inany from;
	uint16_t dport;

	hostaddr_source(ctx->gw, IPPROTO_UDP, to, to_port, v6, &q.dst, &dport);
	if (gw_is_local(ctx->gw, &q.dst) && dport == htons(53)) {
		dns_servfail(ctx, fl, &q.dst, payload_len);
		return;
	}
	if (inany_is_v4(&q.dst) == v6 || (ee->ee_origin == SO_EE_ORIGIN_ICMP6) != v6)
		return;		/* not in the guest's family: nothing to say */
	*uh = (struct udphdr){ .source = fl->key.guest_port, .dest = dport,
			       .len = htons((uint16_t)q.l4len) };
	dgram_offender(ctx, ee, v6, &from);
	icmp_send_error(ctx, &from, ee->ee_type, ee->ee_code, dgram_error_info(ee), &q);
}

/* Who reported the error @ee, as the guest may see it (the gateway if
 * what the host saw maps to nothing of the guest's family).
 */
void dgram_offender(struct gw_ctx *ctx, const struct sock_extended_err *ee, bool v6,
		    struct inany *from)
{
	const union sockaddr_inany *sa = (const union sockaddr_inany *)SO_EE_OFFENDER(ee);
	struct inany a;
	uint16_t port, unused;

	inany_from_sockaddr(&a, &port, sa);
	hostaddr_source(ctx->gw, IPPROTO_ICMP, &a, 0, v6, from, &unused);
	if (inany_is_v4(from) == v6 || (sa->sa.sa_family != AF_INET && sa->sa.sa_family != AF_INET6))
		hostaddr_gateway(ctx->gw, v6, from);
}

/* The second word of the error to relay: the MTU of "too big", else 0. */
uint32_t dgram_error_info(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6)
		return ee->ee_type == ICMPV6_PKT_TOOBIG ? ee->ee_info : 0;
	return ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code == ICMP_FRAG_NEEDED ?
	       ee->ee_info : 0;
}

/**
 * dgram_errors() - read a datagram flow's error queue (IP_RECVERR)
 * @ctx: protocol context; each datagram's payload lands at ctx->scratch + 8
 * @fl: the flow
 * @relay: called for each ICMP error with its destination and payload length
 */
void dgram_errors(struct gw_ctx *ctx, struct flow *fl, dgram_relay_fn relay)
{
	for (int i = 0; i < RX_BUDGET; i++) {
		char cbuf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				     sizeof(struct sockaddr_in6))];
		union sockaddr_inany to;
		struct iovec iov = { ctx->scratch + sizeof(struct udphdr),
				     UDP_SLOT - sizeof(struct udphdr) };
		struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fl->sock, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);

		if (n < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(cm);
			struct inany dst;
			uint16_t port;

			if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR &&
			       ee->ee_origin == SO_EE_ORIGIN_ICMP) ||
			      (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR &&
			       ee->ee_origin == SO_EE_ORIGIN_ICMP6)))
				continue;
			inany_from_sockaddr(&dst, &port, &to);
			relay(ctx, fl, &dst, port, ee, (uint32_t)n);
		}
	}
}

/**
 * udp_sock_event() - datagrams (or errors) arrived for a mapping
 * @ctx: worker context
 * @fl: the mapping
 * @events: epoll events
 */
void udp_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	if (events & EPOLLERR)
		dgram_errors(ctx, fl, udp_relay_error);
	for (int round = 0; (events & EPOLLIN) && round < RX_BUDGET / UDP_RX_BATCH; round++) {
		struct mmsghdr msgs[UDP_RX_BATCH];
		union sockaddr_inany sa[UDP_RX_BATCH];
		struct iovec iov[UDP_RX_BATCH];
		int n = udp_recv_batch(ctx, fl->sock, msgs, sa, iov);
		bool v6 = !inany_is_v4(&fl->key.guest);

		for (int i = 0; i < n; i++) {
			struct inany from, src;
			uint16_t from_port, sport;

			inany_from_sockaddr(&from, &from_port, &sa[i]);
			hostaddr_source(ctx->gw, IPPROTO_UDP, &from, from_port, v6, &src, &sport);
			if (inany_is_v4(&src) == v6)
				continue;	/* the guest's side cannot carry it */
			udp_send(ctx, ctx->scratch + i * UDP_SLOT, &src, sport, &fl->key.guest,
				 fl->key.guest_port, msgs[i].msg_len);
		}
		if (n > 0)
			dgram_used(ctx, fl);
		if (n < UDP_RX_BATCH)
			break;
	}
}
