// SPDX-License-Identifier: MIT
/*
 * hostaddr.c - the guest's addresses and the host's, translated in one place:
 * hostaddr_target() on the way out, hostaddr_source() on the way back.
 *
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
 * @dst: destination address the guest used, network order
 * @port: destination port, network order
 * @sa: filled with the host's destination
 *
 * Return: 0, -ENETUNREACH for the gateway under --disable-host-loopback, or
 * -EADDRNOTAVAIL for the DNS address without upstreams (--disable-dns) or
 * on another port than 53: nothing there answers.
 */
int hostaddr_target(const struct gateway *gw, uint32_t dst, uint16_t port,
		    struct sockaddr_in *sa)
{
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = port,
				    .sin_addr = { dst } };
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

/* The address and port the guest sees for a datagram from @sa. */
void hostaddr_source(const struct gateway *gw, const struct sockaddr_in *sa,
		     uint32_t *addr, uint16_t *port)
{
	*addr = sa->sin_addr.s_addr;
	*port = sa->sin_port;
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

