/* SPDX-License-Identifier: MIT */
/*
 * tcp_int.h - what the three parts of the TCP code share: tcp.c (a
 * connection's life: opening, host socket events, timers, closing),
 * tcp_input.c (the guest's segments, guest -> host payload) and
 * tcp_output.c (segments to the guest, host -> guest payload, the window,
 * retransmission).  Not for anyone else: tcp.h is the interface.
 */
#ifndef XDPSLIRP_TCP_INT_H
#define XDPSLIRP_TCP_INT_H

#include <linux/tcp.h>

#include "ip.h"
#include "l4.h"
#include "tcp.h"

#define TCP_HDR_LEN	20
#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MAXSEG	2
#define TCPOPT_WINDOW	3
#define SYN_OPTS_LEN	8			/* MSS, NOP, window scale */
#define OUR_WSCALE	7			/* our window up to 8 MiB */
#define RTO_MIN_NS	(200ull * 1000 * 1000)
#define TX_STARVED_NS	(1000ull * 1000)	/* tcp_starved() */
#define RTO_MAX_RETRIES	12
#define WND_UPDATE_RESENDS	4	/* see tcp_resend_window() */
#define DEFAULT_MSS	536

/* TCP flags, as in byte 13 of the header */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10


/* Ethernet, IP and TCP headers of @fl's segments (no options). */
static inline uint32_t tcp_hdrs(const struct flow *fl)
{
	return ETH_HLEN + IP_HLEN(!inany_is_v4(&fl->key.guest)) + TCP_HDR_LEN;
}

/* The MSS the link carries for @fl's family. */
static inline uint16_t tcp_link_mss(const struct gw_ctx *ctx, const struct flow *fl)
{
	return (uint16_t)(ctx->gw->mtu - (tcp_hdrs(fl) - ETH_HLEN));
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_le(uint32_t a, uint32_t b)
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

/* tcp.c */
void tcp_flow_close(struct gw_ctx *ctx, struct flow *fl, bool abort);
void tcp_reset_guest(struct gw_ctx *ctx, struct flow *fl);
enum verdict tcp_admit(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
		       const struct flow_key *k, struct tcp_seg *s);
enum verdict tcp_syn_acked(struct gw_ctx *ctx, struct flow *fl, struct frame *f,
			   const struct ippkt *p, const struct tcp_seg *s);

/* tcp_input.c */
enum verdict tcp_rst_reply(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p,
			   const struct tcp_seg *s);

/* tcp_output.c */
void tcp_watch(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
void tcp_send_ctl(struct gw_ctx *ctx, struct flow *fl, uint8_t flags, uint32_t seq);
void tcp_send_data(struct gw_ctx *ctx, struct flow *fl, bool probe);
void tcp_discard_acked(struct flow *fl);
void arm_rto(struct gw_ctx *ctx, struct flow *fl);
void tcp_starved(struct gw_ctx *ctx, struct flow *fl);
uint32_t tcp_data_end(const struct flow *fl);
void tcp_retransmit_first(struct gw_ctx *ctx, struct flow *fl);
void tcp_rewind(struct flow *fl);

#endif
