/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTSOCK_H
#define XDPSLIRP_HOSTSOCK_H

#include <stdint.h>
#include <netinet/in.h>

#include "gateway.h"

/* Send buffer asked for each host TCP socket (the kernel doubles it): the
 * largest window the guest is offered.
 */
#define HOSTSOCK_SNDBUF		(4 << 20)
#define HOSTSOCK_SNDBUF_MAX	(2 * HOSTSOCK_SNDBUF)

int hostsock_tcp_connect(const struct gateway *gw, uint32_t dst, uint16_t port);
int hostsock_tcp_prepare(int fd);
uint32_t hostsock_tcp_sndbuf(void);
int hostsock_udp_open(void);
int hostsock_ping_open(void);
int hostsock_icmp_raw_open(void);
int hostsock_listen(const struct fwd_rule *r);


#endif
