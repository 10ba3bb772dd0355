/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTSOCK_H
#define XDPSLIRP_HOSTSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "gateway.h"

/*
 * Send buffer asked for each host TCP socket (the kernel doubles it; half
 * of that is room for payload): the window the guest is offered is what of
 * the room its send queue leaves.  The host side stalls now and then (on
 * loopback, segments sent from two CPUs arrive reordered and its sender
 * enters recovery), and the room must absorb that or the guest's window
 * closes: one upload at MTU 65520 moved 4.2, 6.3, 8.9 and 10.6 Gbit/s with
 * 4, 8, 16 and 32 MiB asked (2026-11-22, 2 vCPUs, 3 x 4 s each).  It is
 * memory only while the host is slower than the guest; the kernel's
 * tcp_mem limits still bound all sockets together.
 */
#define HOSTSOCK_SNDBUF		(16 << 20)
#define HOSTSOCK_SNDBUF_MAX	(2 * HOSTSOCK_SNDBUF)

/*
 * Bytes a host TCP socket may hold that it has not sent yet
 * (TCP_NOTSENT_LOWAT).  The rest of the send buffer is only for bytes in
 * flight.  Without this limit, megabytes wait in the socket until the peer's
 * acknowledgements open its window, and those acknowledgements are
 * processed, and the segments they release sent, on whichever CPU the peer's
 * side runs: on loopback a third of the segments then left from the other
 * CPU than the worker's, arrived out of order, and the host retransmitted 5%
 * of them for nothing (24929 DSACKed retransmissions in a 20 s upload at MTU
 * 65520, against 153 for the kernel's own path), and each such recovery cut
 * its sending rate: seconds ranged from 5.3 to 12 Gbit/s.
 */
#define HOSTSOCK_NOTSENT_LOWAT	(4 << 20)

int hostsock_tcp_connect(const struct gateway *gw, const struct inany *dst, uint16_t port);
int hostsock_tcp_prepare(int fd);
uint32_t hostsock_tcp_sndbuf(void);
int hostsock_udp_open(const struct gateway *gw, int family);
int hostsock_ping_open(const struct gateway *gw, int family);
int hostsock_icmp_raw_open(int family);
int hostsock_listen(const struct fwd_rule *r);
bool hostsock_default_route6(void);


#endif
