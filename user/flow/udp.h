/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_UDP_H
#define XDPSLIRP_UDP_H

#include "gateway.h"

/*
 * gw_ctx.scratch holds UDP_RX_BATCH slots of UDP_SLOT bytes: a UDP header
 * and the largest IPv4 payload each, so that one recvmmsg() fills them all.
 */
#define UDP_RX_BATCH	16
#define UDP_SLOT	(8 + 65536)
#define UDP_SCRATCH	(UDP_RX_BATCH * UDP_SLOT)

struct ippkt;

enum verdict udp_input(struct gw_ctx *ctx, struct frame *f, const struct ippkt *p);
void udp_flush(struct gw_ctx *ctx);
void udp_inbound(struct gw_ctx *ctx, int fd, const struct fwd_rule *r);
void udp_send(struct gw_ctx *ctx, uint8_t *dgram, const struct inany *src, uint16_t sport,
	      const struct inany *dst, uint16_t dport, uint32_t len);
void udp_sock_event(struct gw_ctx *ctx, struct flow *fl, uint32_t events);
void udp_timer(struct gw_ctx *ctx, struct flow *fl);
void udp_close(struct gw_ctx *ctx, struct flow *fl);
struct flow *dgram_mapping(struct gw_ctx *ctx, const struct flow_key *k,
			   int (*open_socket)(const struct gateway *gw, int family),
			   int family);
void dgram_used(struct gw_ctx *ctx, struct flow *fl);

struct sock_extended_err;
typedef void (*dgram_relay_fn)(struct gw_ctx *ctx, struct flow *fl, const struct inany *to,
			       uint16_t to_port, const struct sock_extended_err *ee,
			       uint32_t payload_len);
void dgram_errors(struct gw_ctx *ctx, struct flow *fl, dgram_relay_fn relay);
void dgram_offender(struct gw_ctx *ctx, const struct sock_extended_err *ee, bool v6,
		    struct inany *from);
uint32_t dgram_error_info(const struct sock_extended_err *ee);

#endif
