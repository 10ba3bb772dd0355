// SPDX-License-Identifier: MIT
/*
 * tcp_output.c - TCP segments to the guest.
 *
 * Theory of operation: data from the host is read with MSG_PEEK at the
 * socket's peek offset (SO_PEEK_OFF) straight into frames of up to the
 * guest's MSS (peek_segments()), as far as the guest's window allows
 * (tcp_send_data()); the socket's receive queue is the retransmission
 * buffer, and bytes leave it (MSG_TRUNC) only once acknowledged
 * (tcp_discard_acked()).  Fast retransmit peeks the segment at the hole
 * from the start of the queue (tcp_retransmit_first()); a timeout rewinds
 * the peek offset to the oldest unacknowledged byte (tcp_rewind()).  Every
 * segment gets the headers of its flow's family and the window the host
 * socket can take (tcp_window()); its checksum is left to the port where
 * the port offloads it.
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
#include "l4.h"
#include "ipv4.h"
#include "ipv6.h"
#include "log.h"
#include "ndp.h"
#include "shaper.h"
#include "sock.h"
#include "steer.h"
#include "tcp_int.h"

void tcp_watch(struct gw_ctx *ctx, struct flow *fl, uint32_t events)
{
	struct epoll_event ev = {
		.events = events | EPOLLET | EPOLLRDHUP,
		.data.u64 = ctx->ev_tag | (EPOLL_FLOW_BASE + flow_index(ctx->flows, fl)),
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
	uint32_t budget = ctx->out.rx_budget;

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
	if (budget && free_space > budget * fl->guest_mss)
		free_space = budget * fl->guest_mss;
	/* what the guest sends past its --egress-rate waits in the RX ring */
	if (ctx->shape_out && free_space > (uint64_t)ctx->shape_out->burst)
		free_space = (uint32_t)ctx->shape_out->burst;
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
	if (ctx->out.send_offload)	/* completed by tcp_send_frame()'s port */
		th->check = (uint16_t)~csum_fold(pseudo);
	else
		th->check = csum_fold(csum_add(frame_csum(f, l4off, l4len), pseudo));
}

/*
 * Queues a segment tcp_fill_headers() wrote, asking for its checksum, and
 * with @gso_size non-zero for its cutting into segments of that size.
 */
static void tcp_send_frame(struct gw_ctx *ctx, const struct flow *fl, const struct frame *f,
			   uint32_t gso_size)
{
	struct tx_offload o = {
		.csum_start = (uint16_t)(tcp_hdrs(fl) - TCP_HDR_LEN),
		.csum_offset = (uint16_t)offsetof(struct tcphdr, check),
		.gso_size = (uint16_t)gso_size,
	};

	if (ctx->out.send_offload)
		ctx->out.send_offload(ctx->out.port, f, &o);
	else
		ctx->out.send(ctx->out.port, f);
}

/*
 * Payload bytes per frame toward the guest: its MSS, or as many whole
 * MSS-sized segments as one super-frame of the port holds (the port or the
 * guest's kernel cuts it).
 */
static uint32_t tcp_frame_payload(const struct gw_ctx *ctx, const struct flow *fl, uint32_t mss)
{
	uint32_t room = ctx->out.gso_max > tcp_hdrs(fl) ? ctx->out.gso_max - tcp_hdrs(fl) : 0;

	return room > mss ? room / mss * mss : mss;
}

/* Sends a segment without payload (SYN-ACK carries MSS and window scale). */
void tcp_send_ctl(struct gw_ctx *ctx, struct flow *fl, uint8_t flags,
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
	tcp_send_frame(ctx, fl, &f, 0);
	fl->flags &= (uint16_t)~FLOW_ACK_LATER;	/* this one carries the ACK */
}

/* Drops the bytes the guest acknowledged from the host socket. */
void tcp_discard_acked(struct flow *fl)
{
	if (fl->acked_unread && sock_discard(fl->sock, fl->acked_unread) < 0)
		log_debug("tcp: discarding %u acknowledged bytes: %s", fl->acked_unread,
			  strerror(errno));
	fl->acked_unread = 0;
}

/*
 * @fl's data waits @ns for something of ours, not for the guest: this
 * counts as no retransmission timeout (a shortage of ours must not back a
 * connection off, or reset it).
 */
static void tcp_send_later(struct gw_ctx *ctx, struct flow *fl, uint64_t ns)
{
	fl->flags |= FLOW_TX_STARVED;
	if (!fl->timer_at || fl->timer_at > ctx->now + ns)
		l4_timer_arm(ctx, fl, ctx->now + ns);
}

/*
 * The port had no free frame for @fl's data: frames come back within a
 * round (sent ones at the kick, received ones once served), so it tries
 * again soon.
 */
void tcp_starved(struct gw_ctx *ctx, struct flow *fl)
{
	tcp_send_later(ctx, fl, TX_STARVED_NS);
}

/*
 * How much of @want bytes the guest's --ingress-rate lets @fl send now: all,
 * what the bucket holds if that is a segment (@seg) or more, else nothing,
 * and @fl waits for the tokens (shaper.c).
 */
static uint32_t tcp_rate_allows(struct gw_ctx *ctx, struct flow *fl, uint32_t want,
				uint32_t seg)
{
	int64_t room = shaper_room(ctx->shape_in, ctx->now);
	uint32_t least = want < seg ? want : seg;

	if (room >= (int64_t)least)
		return room < (int64_t)want ? (uint32_t)room : want;
	tcp_send_later(ctx, fl, shaper_wait_ns(ctx->shape_in, least));
	return 0;
}

void arm_rto(struct gw_ctx *ctx, struct flow *fl)
{
	if (!fl->timer_at)
		l4_timer_arm(ctx, fl, ctx->now + (RTO_MIN_NS << (fl->retries > 8 ? 8 : fl->retries)));
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
void tcp_send_data(struct gw_ctx *ctx, struct flow *fl, bool probe)
{
	uint32_t mss = fl->guest_mss ? fl->guest_mss : DEFAULT_MSS;
	uint32_t seg = tcp_frame_payload(ctx, fl, mss);

	if (fl->state != FLOW_ESTABLISHED)
		return;
	while (!(fl->flags & (FLOW_HOST_EOF | FLOW_FIN_SENT | FLOW_HOST_DRAINED))) {
		uint32_t in_flight = fl->snd_nxt - fl->snd_una;
		uint32_t wnd = fl->guest_wnd ? fl->guest_wnd : (probe ? 1 : 0);
		struct frame f[PEEK_FRAMES];
		uint32_t want, sent = 0;
		uint16_t window;
		int n;

		if (in_flight >= wnd) {
			if (!fl->guest_wnd)
				arm_rto(ctx, fl);	/* persist: probe later */
			return;
		}
		want = wnd - in_flight;
		if (want > PEEK_FRAMES * seg)
			want = PEEK_FRAMES * seg;
		if (ctx->shape_in && !(want = tcp_rate_allows(ctx, fl, want, seg)))
			return;
		n = peek_segments(ctx, fl, f, seg, want);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			fl->flags |= FLOW_HOST_EOF;
			break;
		}
		if (n < 0) {
			if (n == -ENOBUFS) {
				counter_add(&ctx->cnt->drop[DROP_TX_NO_FRAMES], 1);
				tcp_starved(ctx, fl);
				return;
			}
			tcp_reset_guest(ctx, fl);
			return;
		}
		window = tcp_window(ctx, fl);
		for (int i = 0; i < n; i++) {
			uint32_t len = f[i].len - tcp_hdrs(fl);

			tcp_fill_headers(ctx, fl, &f[i], F_ACK | F_PSH, fl->snd_nxt, 0, window);
			sent += f[i].len;
			fl->snd_nxt += len;
			tcp_send_frame(ctx, fl, &f[i], len > mss ? mss : 0);
			fl->flags &= (uint16_t)~FLOW_ACK_LATER;	/* data carries the ACK */
		}
		if (ctx->shape_in)	/* once a batch: the bucket is shared */
			shaper_spend(ctx->shape_in, sent);
		arm_rto(ctx, fl);
	}
	if ((fl->flags & FLOW_HOST_EOF) && !(fl->flags & FLOW_FIN_SENT))
		tcp_send_fin(ctx, fl);
}

/* Sequence number just past the data sent (our FIN, if out, excluded). */
uint32_t tcp_data_end(const struct flow *fl)
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
void tcp_retransmit_first(struct gw_ctx *ctx, struct flow *fl)
{
	uint32_t mss = fl->guest_mss, len = tcp_data_end(fl) - fl->snd_una;
	struct frame f;

	if (tcp_peek_from_una(fl, 0) || !len)
		return;			/* only our FIN is out: the timer resends it */
	if (peek_segments(ctx, fl, &f, mss, len < mss ? len : mss) == 1) {
		tcp_fill_headers(ctx, fl, &f, F_ACK | F_PSH, fl->snd_una, 0, tcp_window(ctx, fl));
		tcp_send_frame(ctx, fl, &f, 0);
		counter_add(&ctx->cnt->tcp_fast_retransmits, 1);
	}
	tcp_peek_from_una(fl, len);
}

/* Rewinds to the oldest unacknowledged byte: the peek offset goes back. */
void tcp_rewind(struct flow *fl)
{
	if (fl->flags & FLOW_FIN_SENT && !(fl->flags & FLOW_FIN_ACKED))
		fl->flags &= (uint16_t)~FLOW_FIN_SENT;
	fl->flags &= (uint16_t)~(FLOW_HOST_EOF | FLOW_HOST_DRAINED);
	fl->snd_nxt = fl->snd_una;
	fl->dup_acks = 0;		/* a fast recovery ends here */
	tcp_peek_from_una(fl, 0);
}
