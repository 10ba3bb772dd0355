// SPDX-License-Identifier: MIT
/*
 * tcp_input.c - TCP segments from the guest.
 *
 * Theory of operation: tcp_input() parses a segment (header length, SYN
 * options), finds its flow and runs the state machine: a SYN with no flow
 * is admitted (tcp.c: tcp_admit()), a segment for no flow is answered with
 * a RST built in place (tcp_rst_reply()), RSTs are taken only within the
 * window (RFC 5961).  In an established flow, an ACK releases acknowledged
 * bytes from the host socket's receive queue at the burst's end
 * (tcp_acked(), tcp_flush()), three duplicate ACKs (RFC 5681: a window
 * update is not one) and partial ACKs (RFC 6582) retransmit the hole
 * (tcp_output.c), and in-sequence payload is gathered across the burst's
 * segments of the flow and written with one sendmsg() (tcp_write_queue(),
 * tcp_write_flush()); only what the socket took is acknowledged, once per
 * burst.  Anything else (a duplicate, data out of order) is acknowledged
 * at once, so the guest's fast retransmit sees every duplicate ACK.
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
#include "egress.h"
#include "eth.h"
#include "hostaddr.h"
#include "hostsock.h"
#include "icmp.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"
#include "log.h"
#include "ndp.h"
#include "sock.h"
#include "steer.h"
#include "tcp_int.h"

static void parse_syn_options(const uint8_t *o, uint32_t len, struct tcp_seg *s)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t kind = o[i];

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			break;
		if (kind == TCPOPT_MAXSEG && o[i + 1] == 4)
			s->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		else if (kind == TCPOPT_WINDOW && o[i + 1] == 3)
			s->wscale = (int8_t)(o[i + 2] > 14 ? 14 : o[i + 2]);
		i += o[i + 1];
	}
}

/*
 * Puts @fl, once, on the list of flows tcp_flush() finishes at the burst's
 * end; false if the list is full (the caller then acts at once).
 */
static bool tcp_flush_later(struct gw_ctx *ctx, struct flow *fl)
{
	if (fl->flags & FLOW_FLUSH)
		return true;
	if (ctx->n_flush == TCP_FLUSH_BATCH)
		return false;
	fl->flags |= FLOW_FLUSH;
	ctx->flush_list[ctx->n_flush++] = flow_index(ctx->flows, fl);
	return true;
}

/*
 * Acknowledges what the guest sent.  In-order data is acknowledged once per
 * burst of frames (tcp_flush()), not once per segment; anything else (a
 * duplicate, data out of order, a refused segment) at once, so that the
 * guest's fast retransmit sees every duplicate ACK.
 */
static void tcp_ack_later(struct gw_ctx *ctx, struct flow *fl, bool in_order)
{
	if (!in_order || !tcp_flush_later(ctx, fl)) {
		tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);
		return;
	}
	fl->flags |= FLOW_ACK_LATER;
}

/*
 * What the guest acknowledged leaves the socket at the burst's end, in one
 * recv() however many ACKs came, and what they made room for goes out then
 * too, in one batch (tcp_flush()).
 */
static void tcp_acked(struct gw_ctx *ctx, struct flow *fl, uint32_t ack)
{
	uint32_t data_end = tcp_data_end(fl);
	uint32_t bytes = (seq_lt(data_end, ack) ? data_end : ack) - fl->snd_una;

	fl->acked_unread += bytes;
	if (bytes && !tcp_flush_later(ctx, fl))
		tcp_discard_acked(fl);
	if ((fl->flags & FLOW_FIN_SENT) && ack == fl->snd_nxt)
		fl->flags |= FLOW_FIN_ACKED;
	fl->snd_una = ack;
	fl->retries = 0;
	fl->dup_acks = 0;
	fl->timer_at = 0;
	if (fl->snd_una != fl->snd_nxt)
		arm_rto(ctx, fl);
}

/* The guest sends again: our window update arrived (tcp_resend_window()). */
static void tcp_window_heard(struct flow *fl)
{
	fl->flags &= (uint16_t)~FLOW_WND_UPDATE;
	if (fl->snd_una == fl->snd_nxt) {
		fl->timer_at = 0;	/* the timer was the update's */
		fl->retries = 0;
	}
}

/* Bytes of @fl's payload gathered for the next sendmsg(). */
static uint32_t tcp_pending(const struct gw_ctx *ctx, const struct flow *fl)
{
	const struct tcp_write *w = &ctx->tcp_out;

	return w->len && w->flow == flow_index(ctx->flows, fl) ? w->len : 0;
}

/*
 * The host connection failed under a send (ECONNRESET, EPIPE).  The send
 * took the socket's pending error, so the EPOLLERR that follows finds none
 * and would leave the flow to wait for the guest's timeout: the guest is
 * reset at the burst's end instead (or, the flush list full, at once by the
 * timer), not here, where the callers still use the flow.
 */
static void tcp_host_failed(struct gw_ctx *ctx, struct flow *fl)
{
	fl->flags |= FLOW_HOST_ERR;
	if (!tcp_flush_later(ctx, fl))
		l4_timer_arm(ctx, fl, ctx->now);
}

/*
 * Writes the gathered payload to its flow's host socket.  What the socket
 * took is acknowledged at the burst's end; if it took less (its buffer is
 * full), the guest gets an ACK at once and sends the rest again.
 */
static void tcp_write_flush(struct gw_ctx *ctx)
{
	struct tcp_write *w = &ctx->tcp_out;
	struct msghdr mh = { .msg_iov = w->iov, .msg_iovlen = w->niov };
	struct flow *fl = &ctx->flows->flows[w->flow];
	uint32_t len = w->len;
	ssize_t n;

	if (!len)
		return;
	n = sendmsg(fl->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	w->len = w->niov = 0;
	if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != ENOMEM) {
		tcp_host_failed(ctx, fl);
		return;
	}
	fl->rcv_nxt += n > 0 ? (uint32_t)n : 0;
	fl->outq += n > 0 ? (uint32_t)n : 0;
	tcp_ack_later(ctx, fl, n == (ssize_t)len);
}

/* Gathers in-sequence payload of @fl for tcp_write_flush(). */
static void tcp_write_queue(struct gw_ctx *ctx, struct flow *fl, const struct frame *f,
			    uint32_t off, uint32_t len)
{
	struct tcp_write *w = &ctx->tcp_out;

	if (w->len && (w->flow != flow_index(ctx->flows, fl) ||
		       w->niov + FRAME_MAX_SEGS > TCP_WRITE_IOV))
		tcp_write_flush(ctx);
	w->flow = flow_index(ctx->flows, fl);
	w->niov += frame_iov(f, off, len, w->iov + w->niov);
	w->len += len;
}

/* True if @s only continues the payload gathered for @fl. */
static bool tcp_continues(const struct gw_ctx *ctx, const struct flow *fl,
			  const struct tcp_seg *s)
{
	uint8_t flags = ((const uint8_t *)s->th)[13];

	return s->len && !(flags & ~(F_ACK | F_PSH)) &&
	       s->seq == fl->rcv_nxt + tcp_pending(ctx, fl);
}

/**
 * tcp_flush() - finish the flows a burst of frames touched: write the guest
 *		 payload left pending, drop what the guest acknowledged from
 *		 the host sockets, send what that made room for, and the
 *		 acknowledgements no data segment carried
 * @ctx: worker context
 */
void tcp_flush(struct gw_ctx *ctx)
{
	tcp_write_flush(ctx);
	for (unsigned i = 0; i < ctx->n_flush; i++) {
		struct flow *fl = &ctx->flows->flows[ctx->flush_list[i]];

		if (fl->state == FLOW_FREE || !(fl->flags & FLOW_FLUSH))
			continue;	/* closed since (the slot may be reused) */
		fl->flags &= (uint16_t)~FLOW_FLUSH;
		if (fl->flags & FLOW_HOST_ERR) {
			tcp_reset_guest(ctx, fl);
			continue;
		}
		tcp_discard_acked(fl);
		tcp_send_data(ctx, fl, false);
		if (fl->state == FLOW_FREE || !(fl->flags & FLOW_ACK_LATER))
			continue;	/* reset, or data carried the ACK */
		fl->flags &= (uint16_t)~FLOW_ACK_LATER;
		tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);
	}
	ctx->n_flush = 0;
}

/*
 * A duplicate ACK (RFC 5681, 2): nothing new acknowledged while data is
 * out, no payload, and the same window.  A window update is not one: the
 * guest sends them as its application reads, while our segments are still
 * on their way, and three of them would send the whole window again.
 */
static bool tcp_dup_ack(const struct flow *fl, const struct tcp_seg *s, uint32_t wnd)
{
	return s->ack == fl->snd_una && !s->len && fl->snd_una != fl->snd_nxt &&
	       wnd == fl->guest_wnd;
}

/*
 * Processes a segment of an established (or about to be) flow; returns
 * VERDICT_HELD if its payload waits in ctx->tcp_out, else VERDICT_DONE.
 */
static enum verdict tcp_established_input(struct gw_ctx *ctx, struct flow *fl,
					  struct frame *f, const struct tcp_seg *s)
{
	uint8_t flags = ((uint8_t *)s->th)[13];
	enum verdict v = VERDICT_DONE;

	if (flags & F_ACK) {
		uint32_t wnd = (uint32_t)ntohs(s->th->window) << fl->guest_wscale;

		if (seq_lt(fl->snd_una, s->ack) && seq_le(s->ack, fl->snd_nxt)) {
			bool recovering = fl->dup_acks >= 3;

			tcp_acked(ctx, fl, s->ack);
			if (recovering && seq_lt(s->ack, fl->recover)) {
				fl->dup_acks = 3;	/* a partial ACK: the next hole */
				tcp_retransmit_first(ctx, fl);
			}
		} else if (tcp_dup_ack(fl, s, wnd) && ++fl->dup_acks == 3) {
			fl->recover = fl->snd_nxt;
			tcp_retransmit_first(ctx, fl);
		}
		fl->guest_wnd = wnd;
		if (!fl->guest_wnd)
			fl->retries = 0;	/* the guest answers our probes: keep probing */
	}

	if (s->len && (fl->flags & FLOW_WND_UPDATE))
		tcp_window_heard(fl);
	if (s->len || (flags & F_FIN)) {
		/* a retransmission may overlap bytes already taken: skip them */
		uint32_t expect = fl->rcv_nxt + tcp_pending(ctx, fl), skip = expect - s->seq;

		if (seq_le(s->seq, expect) && skip <= s->len && !(fl->flags & FLOW_GUEST_FIN)) {
			if (s->len > skip) {
				tcp_write_queue(ctx, fl, f, s->off + skip, s->len - skip);
				v = VERDICT_HELD;	/* acknowledged once written */
			} else if (s->len) {
				/* all taken already: our ACK was lost, send it again */
				tcp_ack_later(ctx, fl, false);
			}
			if (flags & F_FIN) {
				tcp_write_flush(ctx);
				if (fl->rcv_nxt == s->seq + s->len) {
					shutdown(fl->sock, SHUT_WR);
					fl->rcv_nxt++;
					fl->flags |= FLOW_GUEST_FIN;
					tcp_ack_later(ctx, fl, true);
				}
			}
		} else {
			tcp_ack_later(ctx, fl, false);	/* a duplicate: ACK at once */
		}
	}
	if (!(fl->flags & FLOW_FLUSH))	/* else tcp_flush() sends */
		tcp_send_data(ctx, fl, false);
	if (fl->state != FLOW_FREE && (fl->flags & FLOW_GUEST_FIN) &&
	    (fl->flags & FLOW_FIN_ACKED))
		tcp_flow_close(ctx, fl, false);
	return v;
}

/*
 * RFC 5961: a RST is taken only if its sequence number is within what we
 * could receive; before the handshake completes, any RST ends the flow.
 */
static bool tcp_rst_acceptable(const struct flow *fl, uint32_t seq)
{
	if (fl->state != FLOW_ESTABLISHED)
		return true;
	return seq_le(fl->rcv_nxt, seq) &&
	       seq_lt(seq, fl->rcv_nxt + (HOSTSOCK_SNDBUF_MAX >> 1));
}

static bool tcp_parse(struct frame *f, const struct ippkt *p, struct tcp_seg *s)
{
	uint32_t l4len = p->l4len, off = p->l4off, doff;

	if (l4len < TCP_HDR_LEN || off + TCP_HDR_LEN > f->seg[0].len)
		return false;
	s->th = (struct tcphdr *)(f->seg[0].data + off);
	doff = s->th->doff * 4u;
	if (doff < TCP_HDR_LEN || doff > l4len || off + doff > f->seg[0].len)
		return false;
	s->seq = ntohl(s->th->seq);
	s->ack = ntohl(s->th->ack_seq);
	s->off = off + doff;
	s->len = l4len - doff;
	s->mss = 0;
	s->wscale = -1;
	if (s->th->syn)
		parse_syn_options((uint8_t *)s->th + TCP_HDR_LEN, doff - TCP_HDR_LEN, s);
	return !(s->th->syn && s->th->fin) && !(s->th->syn && s->th->rst);
}

/* A SYN for no flow: admitted, or refused by the egress policy with a RST. */
static enum verdict tcp_syn_new(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
				const struct flow_key *k, struct tcp_seg *s)
{
	enum drop_reason why = egress_check(ctx, p, IPPROTO_TCP, s->th->dest);

	if (why == DROP_MAX)
		return tcp_admit(ctx, f, p, k, s);
	counter_add(&ctx->cnt->drop[why], 1);
	return icmp_rate_ok(ctx) ? tcp_rst_reply(ctx, f, p, s) : VERDICT_DONE;
}

/**
 * tcp_input() - a TCP segment from the guest
 * @ctx: worker context
 * @f: the frame
 * @p: its validated datagram, either family
 *
 * Return: VERDICT_REPLY when @f was turned into a RST, VERDICT_HELD when its
 * payload waits to be written (tcp_flush()), else VERDICT_DONE.
 */
enum verdict tcp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p)
{
	struct flow_key k = { .proto = IPPROTO_TCP };
	struct tcp_seg s;
	struct flow *fl;

	if (!tcp_parse(f, p, &s) || !inany_is_unicast(&p->src) || !inany_is_unicast(&p->dst))
		return drop(ctx, DROP_TCP_MALFORMED);
	k.guest = p->src;
	k.remote = p->dst;
	k.guest_port = s.th->source;
	k.remote_port = s.th->dest;

	fl = flow_lookup(ctx->flows, &k);
	if (fl && tcp_pending(ctx, fl) && !tcp_continues(ctx, fl, &s))
		tcp_write_flush(ctx);	/* keep the order of what the guest sent */
	if (!fl) {
		if (s.th->rst)
			return drop(ctx, DROP_TCP_IGNORED);
		if (s.th->syn && !s.th->ack)
			return tcp_syn_new(ctx, f, p, &k, &s);
		return tcp_rst_reply(ctx, f, p, &s);
	}
	if (s.th->rst) {
		if (tcp_rst_acceptable(fl, s.seq))
			tcp_flow_close(ctx, fl, true);
		else
			tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);	/* challenge ACK */
		return VERDICT_DONE;
	}
	switch (fl->state) {
	case FLOW_CONNECTING:
		break;			/* SYN retransmission: still connecting */
	case FLOW_SYN_SENT:
		return tcp_syn_acked(ctx, fl, f, p, &s);
	case FLOW_SYN_ACK_SENT:
		if (s.th->syn) {
			tcp_send_ctl(ctx, fl, F_SYN | F_ACK, fl->snd_una - 1);
			break;
		}
		if (!s.th->ack || s.ack != fl->snd_nxt)
			return tcp_rst_reply(ctx, f, p, &s);
		fl->state = FLOW_ESTABLISHED;
		flow_pending_del(ctx->flows, fl);
		fl->timer_at = 0;
		fl->retries = 0;
		return tcp_established_input(ctx, fl, f, &s);
	default:
		if (s.th->syn) {
			tcp_send_ctl(ctx, fl, F_ACK, fl->snd_nxt);	/* challenge ACK */
			break;
		}
		return tcp_established_input(ctx, fl, f, &s);
	}
	return VERDICT_DONE;
}

/* Writes the IP header of tcp_rst_reply()'s answer at @l3: addresses swapped. */
static uint32_t tcp_rst_ip_header(const struct ippkt *p, uint8_t *l3, uint32_t l4len)
{
	if (p->v6) {
		ipv6_fill_header((struct ipv6hdr *)l3, &p->dst, &p->src, IPPROTO_TCP, l4len,
				 IP_DEFAULT_HOPS);
		return IP_HLEN(true);
	}
	ipv4_fill_header((struct iphdr *)l3, inany_v4(&p->dst), inany_v4(&p->src), IPPROTO_TCP,
			 IP_HLEN(false) + l4len, IPV4_DF, 0);
	return IP_HLEN(false);
}

/*
 * Answers a segment that has no connection with a RST, in place, as a real
 * stack does (RFC 793: seq from the ACK field, or ACK of what it carried).
 * The answer has a plain IP header: options and extension headers of the
 * segment are not echoed.
 */
enum verdict tcp_rst_reply(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
				  const struct tcp_seg *s)
{
	uint8_t *l3 = f->seg[0].data + ETH_HLEN, *l4 = l3 + IP_HLEN(p->v6);
	struct tcphdr *th = s->th;
	uint32_t acked = s->seq + s->len + th->syn + th->fin;
	uint16_t port = th->source;
	bool had_ack = th->ack;
	uint32_t l4len = TCP_HDR_LEN, hlen;

	if (th->rst)
		return drop(ctx, DROP_TCP_IGNORED);
	memmove(l4, th, TCP_HDR_LEN);
	th = (struct tcphdr *)l4;
	th->source = th->dest;
	th->dest = port;
	th->seq = had_ack ? htonl(s->ack) : 0;
	th->ack_seq = had_ack ? 0 : htonl(acked);
	th->doff = 5;
	((uint8_t *)th)[13] = had_ack ? F_RST : (F_RST | F_ACK);
	th->window = 0;
	th->urg_ptr = 0;
	hlen = tcp_rst_ip_header(p, l3, l4len);
	frame_trim(f, ETH_HLEN + hlen + l4len);
	th->check = 0;
	th->check = csum_fold(csum_partial(th, l4len, ip_pseudo_sum(&p->dst, &p->src,
								    IPPROTO_TCP, l4len)));
	eth_reply_header(ctx->gw, f);
	return VERDICT_REPLY;
}
