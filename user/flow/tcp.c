// SPDX-License-Identifier: MIT
/*
 * tcp.c - the guest's TCP connections, terminated and re-originated: how a
 * connection is opened either way, lives with its host socket, and ends.
 *
 * Theory of operation (the design of pasta, see the TCP issue):
 * - A guest SYN becomes a non-blocking connect() from the host
 *   (hostsock.c).  The SYN-ACK goes to the guest only once that connect
 *   succeeded, so refusals and timeouts look real: refused -> RST.
 * - Guest -> host: payload in sequence goes straight into the host socket
 *   with sendmsg(); only the bytes the socket accepted are acknowledged, and
 *   the window advertised to the guest is what the socket will take: its
 *   free send space, and at most HOSTSOCK_NOTSENT_LOWAT bytes not yet sent
 *   (at most TCP_WINDOW_SEGS segments either way).  The guest retransmits
 *   what was not accepted, and what came after a hole: nothing out of order
 *   is kept.
 * - Host -> guest: bytes are read with MSG_PEEK at the socket's peek offset
 *   (SO_PEEK_OFF) straight into frames, so the socket's receive queue is the
 *   retransmission buffer; they are removed from it (MSG_TRUNC) only when
 *   the guest acknowledges them.  Three duplicate ACKs send the segment at
 *   the hole again (tcp_retransmit_first()); a timeout rewinds the peek
 *   offset and sends everything again (tcp_rewind()).
 * - The engine keeps no payload, only sequence numbers (struct flow).
 *
 * The code is in three parts, as the kernel's: this file (opening, host
 * socket events, timers, closing), tcp_input.c (what the guest sends) and
 * tcp_output.c (what goes to the guest).
 *
 * Sequence numbers toward the guest start at a random ISS; the guest's own
 * are taken from its SYN.  Both families run the same code: a flow's
 * family is its key's (struct inany), which sets its header length and
 * MSS (the MTU less 40 or 60); the host socket's is its destination's.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "arp.h"
#include "csum.h"
#include "eth.h"
#include "hostaddr.h"
#include "hostsock.h"
#include "l4.h"
#include "icmp.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"
#include "log.h"
#include "ndp.h"
#include "sock.h"
#include "steer.h"
#include "tcp_int.h"

/*
 * Frees a flow; the socket is closed (with RST to the peer if @abort).
 * Closing a flow that is already closed does nothing: a segment's handling
 * may reset the flow half-way (host error while sending), and its callers
 * then see FLOW_FREE.
 */
void tcp_flow_close(struct gw_ctx *ctx, struct flow *fl, bool abort)
{
	if (fl->state == FLOW_FREE)
		return;
	if (ctx->tcp_out.len && ctx->tcp_out.flow == flow_index(ctx->flows, fl))
		ctx->tcp_out.len = ctx->tcp_out.niov = 0;	/* never written */
	if (fl->sock >= 0) {
		epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, fl->sock, NULL);
		if (abort) {
			sock_abort(fl->sock);
		} else {
			tcp_discard_acked(fl);	/* unread bytes would make it a reset */
			close(fl->sock);
		}
	}
	steer_flow_del(ctx, &fl->key);
	flow_remove(ctx->flows, fl);
}

/* Resets the guest's side and forgets the flow. */
void tcp_reset_guest(struct gw_ctx *ctx, struct flow *fl)
{
	tcp_send_ctl(ctx, fl, F_RST | F_ACK, fl->snd_nxt);
	tcp_flow_close(ctx, fl, true);
}

/*
 * Tells the guest its connect failed the way a network would: refused ->
 * RST; unreachable or timed out -> ICMP or ICMPv6 destination unreachable
 * (no route, or host / address unreachable), quoting the guest's SYN
 * (ports and sequence number) so that its stack aborts the connect.
 */
static void tcp_connect_failed(struct gw_ctx *ctx, struct flow *fl, int err)
{
	uint8_t l4[8];
	uint32_t iss = htonl(fl->rcv_nxt - 1);
	struct ip_quote q = { .src = fl->key.guest, .dst = fl->key.remote,
			      .proto = IPPROTO_TCP, .l4len = TCP_HDR_LEN, .l4 = l4,
			      .have = sizeof(l4) };
	bool noroute = err == ENETUNREACH;

	if (err != ENETUNREACH && err != EHOSTUNREACH && err != ETIMEDOUT) {
		tcp_reset_guest(ctx, fl);
		return;
	}
	memcpy(l4, &fl->key.guest_port, 2);
	memcpy(l4 + 2, &fl->key.remote_port, 2);
	memcpy(l4 + 4, &iss, 4);
	if (inany_is_v4(&q.src))
		icmp_send_error(ctx, NULL, ICMP_DEST_UNREACH,
				noroute ? ICMP_NET_UNREACH : ICMP_HOST_UNREACH, 0, &q);
	else
		icmp_send_error(ctx, NULL, ICMPV6_DEST_UNREACH,
				noroute ? ICMPV6_NOROUTE : ICMPV6_ADDR_UNREACH, 0, &q);
	tcp_flow_close(ctx, fl, true);
}

/* Half-open flows allowed at once: a quarter of the table. */
static uint32_t tcp_pending_max(const struct flow_table *t)
{
	return t->max / 4 ? t->max / 4 : 1;
}

/*
 * A SYN for a new connection: the one place where TCP flows are admitted.
 * When a quarter of the table is half-open (a SYN flood toward a black
 * hole), or the table is full, the oldest half-open flow makes room.
 */
/*
 * The one place where TCP flows are admitted, either way.  When a quarter
 * of the table is half-open (a SYN flood toward a black hole), or the table
 * is full, the oldest half-open flow makes room.  The new flow starts
 * half-open with a random initial sequence number: our SYN takes iss.
 */
static struct flow *tcp_flow_new(struct gw_ctx *ctx, const struct flow_key *k,
				 uint8_t state)
{
	struct flow_table *t = ctx->flows;
	struct flow *fl;
	uint32_t iss;

	if (t->npending >= tcp_pending_max(t) || flow_table_full(t)) {
		struct flow *old = flow_pending_oldest(t);

		if (!old) {
			counter_add(&ctx->cnt->drop[DROP_TCP_TABLE_FULL], 1);
			return NULL;
		}
		counter_add(&ctx->cnt->evicted, 1);
		tcp_reset_guest(ctx, old);
	}
	if (!steer_flow_add(ctx, k))
		return NULL;
	fl = flow_insert(t, k);
	if (getrandom(&iss, sizeof(iss), GRND_NONBLOCK) != sizeof(iss))
		iss = (uint32_t)ctx->now;
	fl->state = state;
	fl->snd_una = iss + 1;
	fl->snd_nxt = iss + 1;
	flow_pending_add(t, fl);
	return fl;
}

/* Takes the guest's SYN options: MSS, and window scaling if offered. */
static void tcp_syn_options(struct gw_ctx *ctx, struct flow *fl, const struct tcp_seg *s)
{
	fl->guest_mss = s->mss ? s->mss : DEFAULT_MSS;
	if (fl->guest_mss > tcp_link_mss(ctx, fl))
		fl->guest_mss = tcp_link_mss(ctx, fl);
	/* no window scaling on either side unless the guest offers it (RFC 7323) */
	fl->guest_wscale = s->wscale < 0 ? 0 : (uint8_t)s->wscale;
	fl->our_wscale = s->wscale < 0 ? 0 : OUR_WSCALE;
	fl->guest_wnd = ntohs(s->th->window);	/* never scaled in a SYN */
	fl->rcv_nxt = s->seq + 1;
}

static int tcp_watch_new(struct gw_ctx *ctx, struct flow *fl)
{
	struct epoll_event ev = {
		.events = EPOLLOUT | EPOLLIN | EPOLLET | EPOLLRDHUP,
		.data.u64 = ctx->ev_tag | (EPOLL_FLOW_BASE + flow_index(ctx->flows, fl)),
	};

	return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fl->sock, &ev);
}

/*
 * A SYN from the guest for a new connection: connect() from the host.  With
 * no slot for it (the table full of established flows), a RST refuses it at
 * once, as for a host that refuses it (@f becomes the answer).
 */
enum verdict tcp_admit(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
		       const struct flow_key *k, struct tcp_seg *s)
{
	struct flow *fl = tcp_flow_new(ctx, k, FLOW_CONNECTING);

	if (!fl)
		return icmp_rate_ok(ctx) ? tcp_rst_reply(ctx, f, p, s) : VERDICT_DONE;
	tcp_syn_options(ctx, fl, s);
	fl->sock = hostsock_tcp_connect(ctx->gw, &p->dst, s->th->dest);
	if (fl->sock == -EADDRNOTAVAIL) {	/* the DNS address, DNS off */
		tcp_flow_close(ctx, fl, false);
		return drop(ctx, DROP_DNS_OFF);
	}
	if (fl->sock < 0) {
		l4_socket_failed(ctx, -fl->sock);
		tcp_connect_failed(ctx, fl, -fl->sock);
		return VERDICT_DONE;
	}
	if (tcp_watch_new(ctx, fl))
		tcp_reset_guest(ctx, fl);
	return VERDICT_DONE;
}

/* The key of the flow for @client of forwarded port @r: the guest, at its
 * address of the client's family, sees the client's address (the gateway's
 * for the host's loopback, hostaddr_fwd_source()).
 */
void tcp_inbound_key(const struct gateway *gw, const union sockaddr_inany *client,
		     const struct fwd_rule *r, struct flow_key *k)
{
	*k = (struct flow_key){ .proto = IPPROTO_TCP, .guest_port = htons(r->guest_port) };
	hostaddr_fwd_target(gw, r, client, gw->seen, &k->guest);
	hostaddr_fwd_source(gw, IPPROTO_TCP, client, &k->guest, &k->remote, &k->remote_port);
}

/**
 * tcp_inbound() - a client connected to a forwarded port: connect to the guest
 * @ctx: worker context
 * @sock: the accepted socket (the flow owns it from now on)
 * @k: its flow's key (tcp_inbound_key(), made once where it was accepted)
 *
 * The engine sends the SYN; the guest's SYN-ACK completes the connection.
 * The guest sees the client's address, the host's loopback as the gateway.
 */
void tcp_inbound(struct gw_ctx *ctx, int sock, const struct flow_key *k)
{
	struct flow *fl;

	fl = flow_lookup(ctx->flows, k) || hostsock_tcp_prepare(sock) ? NULL :
	     tcp_flow_new(ctx, k, FLOW_SYN_SENT);
	if (!fl) {
		sock_abort(sock);
		return;
	}
	fl->sock = sock;
	fl->flags |= FLOW_FWD;
	fl->guest_mss = DEFAULT_MSS;	/* until the SYN-ACK says */
	fl->our_wscale = OUR_WSCALE;
	if (tcp_watch_new(ctx, fl)) {
		tcp_flow_close(ctx, fl, true);
		return;
	}
	if (arp_guest_unknown(ctx) && inany_is_v4(&k->guest))
		arp_ask_guest(ctx);
	else if (arp_guest_unknown(ctx))
		ndp_ask_guest(ctx, &k->guest);
	tcp_send_ctl(ctx, fl, F_SYN, fl->snd_una - 1);
	arm_rto(ctx, fl);
}

/* The guest's SYN-ACK for a connection we opened (tcp_inbound()). */
enum verdict tcp_syn_acked(struct gw_ctx *ctx, struct flow *fl, struct frame *f,
				  const struct ippkt *p, const struct tcp_seg *s)
{
	if (!s->th->syn || !s->th->ack || s->ack != fl->snd_nxt)
		return s->th->syn ? VERDICT_DONE : tcp_rst_reply(ctx, f, p, s);
	tcp_syn_options(ctx, fl, s);
	if (s->wscale < 0)
		fl->our_wscale = 0;
	fl->state = FLOW_ESTABLISHED;
	flow_pending_del(ctx->flows, fl);
	fl->timer_at = 0;
	fl->retries = 0;
	tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);
	tcp_send_data(ctx, fl, false);	/* the client may have spoken first */
	return VERDICT_DONE;
}

/* The host connect() finished: SYN-ACK to the guest, or a failure. */
static void tcp_connected(struct gw_ctx *ctx, struct flow *fl)
{
	int ret = sock_connect_result(fl->sock);

	if (ret == -EINPROGRESS)
		return;
	if (ret) {
		log_debug("tcp: connect failed: %s", strerror(-ret));
		tcp_connect_failed(ctx, fl, -ret);
		return;
	}
	fl->state = FLOW_SYN_ACK_SENT;
	tcp_send_ctl(ctx, fl, F_SYN | F_ACK, fl->snd_una - 1);
	arm_rto(ctx, fl);
}

/**
 * tcp_sock_event() - something happened on a flow's host socket
 * @ctx: worker context
 * @fl: the flow
 * @events: epoll events
 */
void tcp_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	if (fl->state == FLOW_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			tcp_connected(ctx, fl);
		return;
	}
	if ((events & EPOLLERR) && sock_error(fl->sock)) {
		tcp_reset_guest(ctx, fl);
		return;
	}
	if ((events & EPOLLOUT) && (fl->flags & FLOW_WAIT_WRITABLE)) {
		fl->flags &= (uint16_t)~FLOW_WAIT_WRITABLE;
		tcp_watch(ctx, fl, EPOLLIN);
		tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);	/* window update */
		fl->flags |= FLOW_WND_UPDATE;
		arm_rto(ctx, fl);
	}
	if (events & (EPOLLRDHUP | EPOLLHUP))
		fl->flags |= FLOW_HOST_HUP;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
		fl->flags &= (uint16_t)~FLOW_HOST_DRAINED;
		tcp_send_data(ctx, fl, false);
	}
}

/*
 * The window update sent when the host socket drained carries nothing the
 * guest acknowledges: if it is lost and none of our data is in flight to
 * carry the window again, the guest waits for its persist timer, which may
 * have backed off to seconds or minutes by then.  So it goes again on the
 * retransmission timer, backing off, until the guest sends (which clears
 * FLOW_WND_UPDATE) or WND_UPDATE_RESENDS times: a guest with nothing more
 * to send is not reset for its silence.  Returns false if data of ours is
 * in flight (its retransmission carries the window).
 */
static bool tcp_resend_window(struct gw_ctx *ctx, struct flow *fl)
{
	fl->flags &= (uint16_t)~FLOW_WND_UPDATE;
	if (fl->snd_una != fl->snd_nxt)
		return false;
	tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);
	if (++fl->retries < WND_UPDATE_RESENDS) {
		fl->flags |= FLOW_WND_UPDATE;
		arm_rto(ctx, fl);
	} else {
		fl->retries = 0;
	}
	return true;
}

/* @fl's timer expired: retransmission timeout, a zero-window probe, or a
 * window update to repeat. */
void tcp_timer(struct gw_ctx *ctx, struct flow *fl)
{
	fl->timer_at = 0;
	if (fl->flags & FLOW_HOST_ERR) {	/* tcp_host_failed() */
		tcp_reset_guest(ctx, fl);
		return;
	}
	if (fl->flags & FLOW_TX_STARVED) {	/* frames may be free again */
		fl->flags &= (uint16_t)~FLOW_TX_STARVED;
		tcp_send_data(ctx, fl, false);
		if (!fl->timer_at && fl->snd_nxt != fl->snd_una)
			arm_rto(ctx, fl);
		return;
	}
	if ((fl->flags & FLOW_WND_UPDATE) && fl->state == FLOW_ESTABLISHED &&
	    tcp_resend_window(ctx, fl))
		return;
	if (++fl->retries > RTO_MAX_RETRIES) {
		tcp_reset_guest(ctx, fl);
		return;
	}
	if (fl->state == FLOW_SYN_ACK_SENT || fl->state == FLOW_SYN_SENT) {
		tcp_send_ctl(ctx, fl, fl->state == FLOW_SYN_SENT ? F_SYN : F_SYN | F_ACK,
			     fl->snd_una - 1);
		arm_rto(ctx, fl);
		return;
	}
	if (fl->state != FLOW_ESTABLISHED)
		return;
	tcp_rewind(fl);
	tcp_send_data(ctx, fl, true);
}

/* At shutdown: reset the connection on both sides. */
void tcp_abort(struct gw_ctx *ctx, struct flow *fl)
{
	tcp_reset_guest(ctx, fl);
}
