// SPDX-License-Identifier: MIT
/*
 * hostaddr.c - the guest's addresses and the host's, translated in one place:
 * hostaddr_target() on the way out, hostaddr_source() on the way back.
 *
 * - A --forward-to-host port on the gateway address goes to its host
 *   service, even with --disable-host-loopback; answers come back from it.
 * - The gateway address stands for the host itself: its loopback, as with
 *   slirp4netns (unless --disable-host-loopback).  Datagrams from anywhere
 *   in 127.0.0.0/8 come back from the gateway address.
 * - The DNS address stands for the first DNS upstream, and answers from any
 *   upstream come back from the DNS address, port 53.
 * - Every other address is itself.
 */
#include <errno.h>
#include <arpa/inet.h>

#include "hostaddr.h"

/**
 * hostaddr_target() - where the host sends what the guest sent to @dst:@port
 * @gw: gateway identity
 * @proto: IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP (port 0)
 * @dst: destination address the guest used, network order
 * @port: destination port, network order
 * @sa: filled with the host's destination
 *
 * Return: 0, -ENETUNREACH for the gateway under --disable-host-loopback, or
 * -EADDRNOTAVAIL for the DNS address without upstreams (--disable-dns) or
 * on another port than 53: nothing there answers.
 */
int hostaddr_target(const struct gateway *gw, uint8_t proto, uint32_t dst, uint16_t port,
		    struct sockaddr_in *sa)
{
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = port,
				    .sin_addr = { dst } };
	for (unsigned i = 0; dst == gw->gw_addr && i < gw->n_to_host; i++) {
		const struct fwd_to_host *t = &gw->to_host[i];

		if (t->proto == proto && htons(t->guest_port) == port) {
			sa->sin_addr.s_addr = t->host_addr;
			sa->sin_port = htons(t->host_port);
			return 0;
		}
	}
	if (dst == gw->gw_addr) {
		if (gw->no_host_loopback)
			return -ENETUNREACH;
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (dst == gw->dns_addr) {
		if (!gw->n_dns || port != htons(53))
			return -EADDRNOTAVAIL;
		*sa = gw->dns[0];
	}
	return 0;
}

/* The address and port the guest sees for a datagram (of @proto) from @sa. */
void hostaddr_source(const struct gateway *gw, uint8_t proto, const struct sockaddr_in *sa,
		     uint32_t *addr, uint16_t *port)
{
	*addr = sa->sin_addr.s_addr;
	*port = sa->sin_port;
	for (unsigned i = 0; i < gw->n_to_host; i++) {
		const struct fwd_to_host *t = &gw->to_host[i];

		if (t->proto == proto && t->host_addr == *addr && htons(t->host_port) == *port) {
			*addr = gw->gw_addr;
			*port = htons(t->guest_port);
			return;
		}
	}
	for (unsigned i = 0; i < gw->n_dns; i++)
		if (sa->sin_addr.s_addr == gw->dns[i].sin_addr.s_addr &&
		    sa->sin_port == gw->dns[i].sin_port) {
			*addr = gw->dns_addr;
			*port = htons(53);
			return;
		}
	if ((ntohl(*addr) >> 24) == 127)
		*addr = gw->gw_addr;	/* the host's loopback is the gateway */
}

