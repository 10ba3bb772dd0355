// SPDX-License-Identifier: MIT
/*
 * tcp.c - the guest's TCP connections, terminated and re-originated.
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
#include "icmp.h"
#include "ip.h"
#include "ipv4.h"
#include "ipv6.h"
#include "log.h"
#include "ndp.h"
#include "sock.h"
#include "steer.h"
#include "tcp.h"

#define TCP_HDR_LEN	20
#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MAXSEG	2
#define TCPOPT_WINDOW	3
#define SYN_OPTS_LEN	8			/* MSS, NOP, window scale */
#define OUR_WSCALE	7			/* our window up to 8 MiB */
#define RTO_MIN_NS	(200ull * 1000 * 1000)
#define RTO_MAX_RETRIES	12
#define DEFAULT_MSS	536

/* TCP flags, as in byte 13 of the header */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10


/* Ethernet, IP and TCP headers of @fl's segments (no options). */
static uint32_t tcp_hdrs(const struct flow *fl)
{
	return ETH_HLEN + IP_HLEN(!inany_is_v4(&fl->key.guest)) + TCP_HDR_LEN;
}

/* The MSS the link carries for @fl's family. */
static uint16_t tcp_link_mss(const struct gw_ctx *ctx, const struct flow *fl)
{
	return (uint16_t)(ctx->gw->mtu - (tcp_hdrs(fl) - ETH_HLEN));
}

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* What tcp_input() learnt from a segment's header. */
struct tcp_seg {
	struct tcphdr *th;
	uint32_t seq, ack;
	uint32_t off;		/* payload offset in the frame */
	uint32_t len;		/* payload length */
	uint16_t mss;		/* from the SYN's options, 0 if absent */
	int8_t wscale;		/* from the SYN's options, -1 if absent */
};

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

static void tcp_watch(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	struct epoll_event ev = {
		.events = events | EPOLLET | EPOLLRDHUP,
		.data.u64 = EPOLL_FLOW_BASE + flow_index(ctx->flows, fl),
	};

	epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, fl->sock, &ev);
}

/*
 * At most this many of the guest's segments in flight.  The engine keeps no
 * payload, so it drops a segment that comes after a hole, and without SACK
 * the guest recovers a hole per round trip: one lost frame in a window of
 * thousands (MTU 1500, megabytes of room) cost the guest every segment after
 * it, and the veth ring towards XDP (256 frames a queue) drops the bursts
 * such a window allows.  Measured (MTU 1500, 3 x 4 s each): one upload 6.3-7.5
 * Gbit/s capped, 6.0, 6.5 and 0.02 uncapped; four uploads no collapse in 6
 * runs capped, 3 of 6 under 1.3 Gbit/s uncapped.  At MTU 65520 the cap is
 * above the largest window anyway.
 */
#define TCP_WINDOW_SEGS	256u

/*
 * Window to advertise: what the host socket will take, scaled.  Two limits
 * apply.  Its send buffer is fixed (hostsock_tcp_prepare() sets it, which
 * turns autotuning off) and known (gateway.tcp_sndbuf); the kernel doubled
 * the size asked for to cover its per-segment overhead, so only half of it
 * counts as room for payload.  And its queue of bytes not sent yet stops at
 * HOSTSOCK_NOTSENT_LOWAT (TCP_NOTSENT_LOWAT).  Advertising more than either
 * allows would have sendmsg() refuse bytes the guest then must retransmit.
 * The queues are asked (SIOCOUTQ, SIOCOUTQNSD) only when they may fill half
 * the not-sent room: in between, @fl->outq adds what we wrote to the last
 * answer, at least what is still queued as the host drains it (and at least
 * what is not sent), so the window is never too large, and a small exchange
 * costs no ioctl() per segment (a syscall is a microsecond here).
 *
 * When the room runs low, the socket's next "writable" edge must bring a
 * window update, or the guest would wait for its persist timer: below half
 * the not-sent room (the kernel reports "writable" again when less than
 * half of it is used) or below a segment of buffer space.
 */
static uint16_t tcp_window(struct gw_ctx *ctx, struct flow *fl)
{
	uint32_t buf_room = ctx->gw->tcp_sndbuf / 2, lowat = HOSTSOCK_NOTSENT_LOWAT;
	uint32_t outq = fl->outq, notsent = fl->outq, buf_free, unsent_free, free_space;

	if (fl->sock < 0)
		return 0;
	if (lowat > buf_room)
		lowat = buf_room;
	if (fl->outq > lowat / 2) {
		int q, nsd;

		if (ioctl(fl->sock, SIOCOUTQ, &q) || ioctl(fl->sock, SIOCOUTQNSD, &nsd))
			return 0;
		fl->outq = outq = (uint32_t)q;
		notsent = (uint32_t)nsd;
	}
	buf_free = buf_room > outq ? buf_room - outq : 0;
	unsent_free = lowat > notsent ? lowat - notsent : 0;
	free_space = buf_free < unsent_free ? buf_free : unsent_free;
	if ((unsent_free < lowat / 2 || buf_free < fl->guest_mss) &&
	    !(fl->flags & FLOW_WAIT_WRITABLE)) {
		fl->flags |= FLOW_WAIT_WRITABLE;
		tcp_watch(ctx, fl, EPOLLIN | EPOLLOUT);
	}
	if (free_space > TCP_WINDOW_SEGS * fl->guest_mss)
		free_space = TCP_WINDOW_SEGS * fl->guest_mss;
	free_space >>= fl->our_wscale;
	return free_space > 0xffff ? 0xffff : (uint16_t)free_space;
}

/**
 * tcp_fill_headers() - write Ethernet, IP and TCP headers and checksums
 *			(the TCP one left to the port with checksum offload)
 * @ctx: worker context
 * @fl: the flow (addresses, ports, ack number)
 * @f: frame of tcp_hdrs() + @optlen + payload bytes, payload already in place
 * @flags: TCP flags byte (F_*)
 * @seq: sequence number
 * @optlen: bytes of options already written after the header (multiple of 4)
 * @window: the window field (tcp_window()), once per batch of segments
 */
static void tcp_fill_headers(struct gw_ctx *ctx, struct flow *fl, struct frame *f,
			     uint8_t flags, uint32_t seq, uint32_t optlen, uint16_t window)
{
	uint32_t l4off = tcp_hdrs(fl) - TCP_HDR_LEN, l4len = f->len - l4off;
	struct tcphdr *th = (struct tcphdr *)(f->seg[0].data + l4off);
	uint32_t pseudo;

	ip_fill_headers(ctx, f, &fl->key.remote, &fl->key.guest, IPPROTO_TCP, l4len);
	memset(th, 0, TCP_HDR_LEN);
	th->source = fl->key.remote_port;
	th->dest = fl->key.guest_port;
	th->seq = htonl(seq);
	th->ack_seq = (flags & F_ACK) ? htonl(fl->rcv_nxt) : 0;
	th->doff = (uint16_t)((TCP_HDR_LEN + optlen) / 4);
	((uint8_t *)th)[13] = flags;
	th->window = htons(window);
	pseudo = ip_pseudo_sum(&fl->key.remote, &fl->key.guest, IPPROTO_TCP, l4len);
	if (ctx->out.send_csum)	/* completed by tcp_send_frame()'s port */
		th->check = (uint16_t)~csum_fold(pseudo);
	else
		th->check = csum_fold(csum_add(frame_csum(f, l4off, l4len), pseudo));
}

/* Queues a segment tcp_fill_headers() wrote, asking for its checksum. */
static void tcp_send_frame(struct gw_ctx *ctx, const struct flow *fl, const struct frame *f)
{
	if (ctx->out.send_csum)
		ctx->out.send_csum(ctx->out.port, f, (uint16_t)(tcp_hdrs(fl) - TCP_HDR_LEN),
				   (uint16_t)offsetof(struct tcphdr, check));
	else
		ctx->out.send(ctx->out.port, f);
}


/* Sends a segment without payload (SYN-ACK carries MSS and window scale). */
static void tcp_send_ctl(struct gw_ctx *ctx, struct flow *fl, uint8_t flags,
			 uint32_t seq)
{
	uint32_t optlen = (flags & F_SYN) ? SYN_OPTS_LEN : 0, hdrs = tcp_hdrs(fl);
	struct frame f;

	if (!ctx->out.alloc(ctx->out.port, &f, hdrs + optlen)) {
		counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
		return;
	}
	if (optlen) {
		uint8_t *o = f.seg[0].data + hdrs;
		uint16_t mss = tcp_link_mss(ctx, fl);

		o[0] = TCPOPT_MAXSEG;
		o[1] = 4;
		o[2] = (uint8_t)(mss >> 8);
		o[3] = (uint8_t)mss;
		memset(o + 4, TCPOPT_NOP, 4);	/* no SACK, no timestamps */
		if (fl->our_wscale) {
			o[5] = TCPOPT_WINDOW;
			o[6] = 3;
			o[7] = fl->our_wscale;
		}
	}
	tcp_fill_headers(ctx, fl, &f, flags, seq, optlen,
			 (flags & F_RST) ? 0 : tcp_window(ctx, fl));
	tcp_send_frame(ctx, fl, &f);
	fl->flags &= (uint16_t)~FLOW_ACK_LATER;	/* this one carries the ACK */
}

/* Drops the bytes the guest acknowledged from the host socket. */
static void tcp_discard_acked(struct flow *fl)
{
	if (fl->acked_unread &&
	    recv(fl->sock, NULL, fl->acked_unread, MSG_TRUNC | MSG_DONTWAIT) < 0)
		log_debug("tcp: discarding %u acknowledged bytes: %s", fl->acked_unread,
			  strerror(errno));
	fl->acked_unread = 0;
}

/*
 * Frees a flow; the socket is closed (with RST to the peer if @abort).
 * Closing a flow that is already closed does nothing: a segment's handling
 * may reset the flow half-way (host error while sending), and its callers
 * then see FLOW_FREE.
 */
static void tcp_flow_close(struct gw_ctx *ctx, struct flow *fl, bool abort)
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
static void tcp_reset_guest(struct gw_ctx *ctx, struct flow *fl)
{
	tcp_send_ctl(ctx, fl, F_RST | F_ACK, fl->snd_nxt);
	tcp_flow_close(ctx, fl, true);
}

static void arm_rto(struct gw_ctx *ctx, struct flow *fl)
{
	if (!fl->timer_at)
		fl->timer_at = ctx->now + (RTO_MIN_NS << (fl->retries > 8 ? 8 : fl->retries));
}

/* Sends our FIN once everything before it went out. */
static void tcp_send_fin(struct gw_ctx *ctx, struct flow *fl)
{
	tcp_send_ctl(ctx, fl, F_FIN | F_ACK, fl->snd_nxt);
	fl->snd_nxt++;
	fl->flags |= FLOW_FIN_SENT;
	arm_rto(ctx, fl);
}

#define PEEK_FRAMES	32	/* segments read with one recvmsg() */
#define PEEK_IOV	256

/*
 * Reads up to @want bytes at the peek offset with one recvmsg(), straight
 * into frames of at most @mss payload bytes: f[0..n) hold data.  Returns n,
 * 0 at end of stream, or negative errno.  Fewer bytes than asked mean the
 * socket had no more: FLOW_HOST_DRAINED spares the next calls a recvmsg()
 * that would fail until new data comes (epoll says so, edge-triggered) --
 * unless the end of the stream already came, which the next call must see.
 */
static int peek_segments(struct gw_ctx *ctx, struct flow *fl, struct frame *f,
			 uint32_t mss, uint32_t want)
{
	struct iovec iov[PEEK_IOV];
	struct msghdr mh = { .msg_iov = iov };
	unsigned nf = 0, used = 0;
	uint32_t left, asked = want, hdrs = tcp_hdrs(fl);
	ssize_t n;
	int err;

	while (want && nf < PEEK_FRAMES && mh.msg_iovlen + FRAME_MAX_SEGS <= PEEK_IOV) {
		uint32_t len = want < mss ? want : mss;

		if (!ctx->out.alloc(ctx->out.port, &f[nf], hdrs + len))
			break;
		mh.msg_iovlen += frame_iov(&f[nf++], hdrs, len, iov + mh.msg_iovlen);
		want -= len;
	}
	if (!nf)
		return -ENOBUFS;
	asked -= want;		/* what the frames have room for */
	n = recvmsg(fl->sock, &mh, MSG_PEEK | MSG_DONTWAIT);
	err = n < 0 ? -errno : 0;
	left = n > 0 ? (uint32_t)n : 0;
	if (err == -EAGAIN || (n > 0 && left < asked && !(fl->flags & FLOW_HOST_HUP)))
		fl->flags |= FLOW_HOST_DRAINED;
	for (unsigned i = 0; i < nf; i++) {
		uint32_t room = f[i].len - hdrs;

		if (!left) {
			ctx->out.discard(ctx->out.port, &f[i]);
			continue;
		}
		frame_trim(&f[i], hdrs + (left < room ? left : room));
		left -= left < room ? left : room;
		used++;
	}
	return err ? err : (int)used;
}

/**
 * tcp_send_data() - move host data to the guest as far as its window allows
 * @ctx: worker context
 * @fl: established flow
 * @probe: allow one byte into a zero window (persist timer)
 */
static void tcp_send_data(struct gw_ctx *ctx, struct flow *fl, bool probe)
{
	uint32_t mss = fl->guest_mss ? fl->guest_mss : DEFAULT_MSS;

	if (fl->state != FLOW_ESTABLISHED)
		return;
	while (!(fl->flags & (FLOW_HOST_EOF | FLOW_FIN_SENT | FLOW_HOST_DRAINED))) {
		uint32_t in_flight = fl->snd_nxt - fl->snd_una;
		uint32_t wnd = fl->guest_wnd ? fl->guest_wnd : (probe ? 1 : 0);
		struct frame f[PEEK_FRAMES];
		uint32_t want;
		uint16_t window;
		int n;

		if (in_flight >= wnd) {
			if (!fl->guest_wnd)
				arm_rto(ctx, fl);	/* persist: probe later */
			return;
		}
		want = wnd - in_flight;
		if (want > PEEK_FRAMES * mss)
			want = PEEK_FRAMES * mss;
		n = peek_segments(ctx, fl, f, mss, want);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			fl->flags |= FLOW_HOST_EOF;
			break;
		}
		if (n < 0) {
			if (n == -ENOBUFS) {
				counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
				arm_rto(ctx, fl);
				return;
			}
			tcp_reset_guest(ctx, fl);
			return;
		}
		window = tcp_window(ctx, fl);
		for (int i = 0; i < n; i++) {
			tcp_fill_headers(ctx, fl, &f[i], F_ACK | F_PSH, fl->snd_nxt, 0, window);
			fl->snd_nxt += f[i].len - tcp_hdrs(fl);
			tcp_send_frame(ctx, fl, &f[i]);
			fl->flags &= (uint16_t)~FLOW_ACK_LATER;	/* data carries the ACK */
		}
		arm_rto(ctx, fl);
	}
	if ((fl->flags & FLOW_HOST_EOF) && !(fl->flags & FLOW_FIN_SENT))
		tcp_send_fin(ctx, fl);
}

/* Sequence number just past the data sent (our FIN, if out, excluded). */
static uint32_t tcp_data_end(const struct flow *fl)
{
	return fl->snd_nxt - ((fl->flags & FLOW_FIN_SENT) ? 1 : 0);
}

/*
 * The next peek reads from @off bytes past snd_una: what the guest
 * acknowledged is dropped first, so that the socket's queue starts there.
 */
static int tcp_peek_from_una(struct flow *fl, uint32_t off)
{
	int v = (int)off;

	tcp_discard_acked(fl);
	return setsockopt(fl->sock, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v));
}

/*
 * Fast retransmit (RFC 6582, without a congestion window to inflate): the
 * segment at snd_una again, peeked from the start of the socket's queue,
 * then the peek offset goes back to where new data starts.  The guest keeps
 * what came after the hole, so sending the whole window again (go-back-N,
 * which the retransmission timeout still does) would only repeat it.
 */
static void tcp_retransmit_first(struct gw_ctx *ctx, struct flow *fl)
{
	uint32_t mss = fl->guest_mss, len = tcp_data_end(fl) - fl->snd_una;
	struct frame f;

	if (tcp_peek_from_una(fl, 0) || !len)
		return;			/* only our FIN is out: the timer resends it */
	if (peek_segments(ctx, fl, &f, mss, len < mss ? len : mss) == 1) {
		tcp_fill_headers(ctx, fl, &f, F_ACK | F_PSH, fl->snd_una, 0, tcp_window(ctx, fl));
		tcp_send_frame(ctx, fl, &f);
		counter_add(&ctx->cnt->tcp_fast_retransmits, 1);
	}
	tcp_peek_from_una(fl, len);
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

/* Rewinds to the oldest unacknowledged byte: the peek offset goes back. */
static void tcp_rewind(struct flow *fl)
{
	if (fl->flags & FLOW_FIN_SENT && !(fl->flags & FLOW_FIN_ACKED))
		fl->flags &= (uint16_t)~FLOW_FIN_SENT;
	fl->flags &= (uint16_t)~(FLOW_HOST_EOF | FLOW_HOST_DRAINED);
	fl->snd_nxt = fl->snd_una;
	fl->dup_acks = 0;		/* a fast recovery ends here */
	tcp_peek_from_una(fl, 0);
}

static void tcp_ack_later(struct gw_ctx *ctx, struct flow *fl, bool in_order);

/* Bytes of @fl's payload gathered for the next sendmsg(). */
static uint32_t tcp_pending(const struct gw_ctx *ctx, const struct flow *fl)
{
	const struct tcp_write *w = &ctx->tcp_out;

	return w->len && w->flow == flow_index(ctx->flows, fl) ? w->len : 0;
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
	ssize_t n;

	if (!w->len)
		return;
	n = sendmsg(fl->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	fl->rcv_nxt += n > 0 ? (uint32_t)n : 0;
	fl->outq += n > 0 ? (uint32_t)n : 0;
	tcp_ack_later(ctx, fl, n == (ssize_t)w->len);
	w->len = w->niov = 0;
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

static enum verdict tcp_admit(struct gw_ctx *ctx, const struct flow_key *k,
			      const struct tcp_seg *s, const struct ippkt *p);

static enum verdict tcp_rst_reply(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
				  const struct tcp_seg *s);
static enum verdict tcp_syn_acked(struct gw_ctx *ctx, struct flow *fl, struct frame *f,
				  const struct ippkt *p, const struct tcp_seg *s);

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

	if (s->len || (flags & F_FIN)) {
		/* a retransmission may overlap bytes already taken: skip them */
		uint32_t expect = fl->rcv_nxt + tcp_pending(ctx, fl), skip = expect - s->seq;

		if (seq_le(s->seq, expect) && skip <= s->len && !(fl->flags & FLOW_GUEST_FIN)) {
			if (s->len > skip) {
				tcp_write_queue(ctx, fl, f, s->off + skip, s->len - skip);
				v = VERDICT_HELD;	/* acknowledged once written */
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
			return tcp_admit(ctx, &k, &s, p);
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

	if (t->npending >= tcp_pending_max(t) || !t->nfree) {
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
		.data.u64 = EPOLL_FLOW_BASE + flow_index(ctx->flows, fl),
	};

	return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fl->sock, &ev);
}

/* A SYN from the guest for a new connection: connect() from the host. */
static enum verdict tcp_admit(struct gw_ctx *ctx, const struct flow_key *k,
			      const struct tcp_seg *s, const struct ippkt *p)
{
	struct flow *fl = tcp_flow_new(ctx, k, FLOW_CONNECTING);

	if (!fl)
		return VERDICT_DONE;
	tcp_syn_options(ctx, fl, s);
	fl->sock = hostsock_tcp_connect(ctx->gw, &p->dst, s->th->dest);
	if (fl->sock == -EADDRNOTAVAIL) {	/* the DNS address, DNS off */
		tcp_flow_close(ctx, fl, false);
		return drop(ctx, DROP_DNS_OFF);
	}
	if (fl->sock < 0) {
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
	hostaddr_fwd_target(gw, r, client, &k->guest);
	hostaddr_fwd_source(gw, IPPROTO_TCP, client, &k->guest, &k->remote, &k->remote_port);
}

/**
 * tcp_inbound() - a client connected to a forwarded port: connect to the guest
 * @ctx: worker context
 * @sock: the accepted socket (the flow owns it from now on)
 * @client: the client's address
 * @r: the forwarding rule
 *
 * The engine sends the SYN; the guest's SYN-ACK completes the connection.
 * The guest sees the client's address, the host's loopback as the gateway.
 */
void tcp_inbound(struct gw_ctx *ctx, int sock, const union sockaddr_inany *client,
		 const struct fwd_rule *r)
{
	struct flow_key k;
	struct flow *fl;

	tcp_inbound_key(ctx->gw, client, r, &k);
	fl = flow_lookup(ctx->flows, &k) || hostsock_tcp_prepare(sock) ? NULL :
	     tcp_flow_new(ctx, &k, FLOW_SYN_SENT);
	if (!fl) {
		sock_abort(sock);
		return;
	}
	fl->sock = sock;
	fl->guest_mss = DEFAULT_MSS;	/* until the SYN-ACK says */
	fl->our_wscale = OUR_WSCALE;
	if (tcp_watch_new(ctx, fl)) {
		tcp_flow_close(ctx, fl, true);
		return;
	}
	if (arp_guest_unknown(ctx) && inany_is_v4(&k.guest))
		arp_ask_guest(ctx);
	else if (arp_guest_unknown(ctx))
		ndp_ask_guest(ctx, &k.guest);
	tcp_send_ctl(ctx, fl, F_SYN, fl->snd_una - 1);
	arm_rto(ctx, fl);
}

/* The guest's SYN-ACK for a connection we opened (tcp_inbound()). */
static enum verdict tcp_syn_acked(struct gw_ctx *ctx, struct flow *fl, struct frame *f,
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
static enum verdict tcp_rst_reply(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
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
	}
	if (events & (EPOLLRDHUP | EPOLLHUP))
		fl->flags |= FLOW_HOST_HUP;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
		fl->flags &= (uint16_t)~FLOW_HOST_DRAINED;
		tcp_send_data(ctx, fl, false);
	}
}

/* @fl's timer expired: retransmission timeout, or a zero-window probe. */
void tcp_timer(struct gw_ctx *ctx, struct flow *fl)
{
	fl->timer_at = 0;
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
