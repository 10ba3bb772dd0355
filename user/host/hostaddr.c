// SPDX-License-Identifier: MIT
/*
 * hostaddr.c - the guest's addresses and the host's, translated in one place:
 * hostaddr_target() on the way out, hostaddr_source() on the way back.
 *
 * - A --forward-to-host port on the gateway address (either family) goes to
 *   its host service, even with --disable-host-loopback; answers come back
 *   from it.
 * - The gateway address stands for the host itself: 10.0.2.2 for its
 *   127.0.0.1, fd00::2 for its ::1, as with slirp4netns (unless
 *   --disable-host-loopback).  Only the gateway address is mapped, not the
 *   rest of the prefix.  What comes from the host's loopback (127.0.0.0/8,
 *   ::1) comes back from the gateway address of the guest's family.
 * - The DNS address (10.0.2.3, fd00::3) stands for the first DNS upstream,
 *   whatever its family, and answers from any upstream come back from the
 *   DNS address of the guest's family, port 53.
 * - Every other address is itself.
 */
#include <errno.h>
#include <arpa/inet.h>

#include "hostaddr.h"
#include "ipv6.h"

static const struct inany loopback6 = { { [15] = 1 } };

/* The gateway's or the DNS address in the family @v6 says. */
static void gw_addr_of(const struct gateway *gw, bool dns, bool v6, struct inany *a)
{
	if (v6)
		*a = dns ? gw->dns6 : gw->gw6;
	else
		inany_from_v4(a, dns ? gw->dns_addr : gw->gw_addr);
}

/**
 * hostaddr_fwd_target() - the guest's address a client of forwarded port @r
 *			   reaches
 * @gw: gateway identity
 * @r: the rule
 * @client: the client (an IPv4-mapped address is IPv4)
 * @seen: the guest's own IPv6 address as learnt, or NULL for the plan's
 * @a: filled in: the rule's guest address if it names one, else the
 *     guest's address of the client's family (IPv4 when IPv6 is off): for
 *     IPv6 the one the guest was seen to take (SLAAC picks its own), else
 *     fd00::100
 */
void hostaddr_fwd_target(const struct gateway *gw, const struct fwd_rule *r,
			 const union sockaddr_inany *client, const struct guest_seen *seen,
			 struct inany *a)
{
	struct inany from;
	uint16_t port;

	inany_from_sockaddr(&from, &port, client);
	if (!fwd_addr_unset(&r->guest_addr))
		*a = r->guest_addr;
	else if (inany_is_v4(&from) || !gw->ipv6)
		inany_from_v4(a, gw->guest_addr);
	else if (!ipv6_guest_seen_load(seen, a))
		*a = gw->guest6;
}

/**
 * hostaddr_fwd_source() - who the guest sees a client of a forwarded port as
 * @gw: gateway identity
 * @proto: the rule's
 * @client: the client's address and port
 * @guest: the guest's address the client reaches (hostaddr_fwd_target())
 * @addr: filled in: the client's own address, the gateway's for the host's
 *	  loopback, or the gateway's too for a client of the other family
 *	  (an IPv6 client of the guest's IPv4 address), whose address the
 *	  guest's packets could not carry
 * @port: filled in
 */
void hostaddr_fwd_source(const struct gateway *gw, uint8_t proto,
			 const union sockaddr_inany *client, const struct inany *guest,
			 struct inany *addr, uint16_t *port)
{
	bool v6 = !inany_is_v4(guest);
	struct inany from;
	uint16_t from_port;

	inany_from_sockaddr(&from, &from_port, client);
	hostaddr_source(gw, proto, &from, from_port, v6, addr, port);
	if (inany_is_v4(addr) == v6)
		gw_addr_of(gw, false, v6, addr);
}

/* The gateway's address in the family @v6 says. */
void hostaddr_gateway(const struct gateway *gw, bool v6, struct inany *a)
{
	gw_addr_of(gw, false, v6, a);
}

/**
 * hostaddr_target() - where the host sends what the guest sent to @dst:@port
 * @gw: gateway identity
 * @proto: IPPROTO_TCP, IPPROTO_UDP, or ICMP (port 0)
 * @dst: destination address the guest used
 * @port: destination port, network order
 * @to: filled with the host's destination (of either family)
 * @to_port: and its port
 *
 * Return: 0, -ENETUNREACH for the gateway under --disable-host-loopback, or
 * -EADDRNOTAVAIL for the DNS address without upstreams (--disable-dns) or
 * on another port than 53: nothing there answers.
 */
int hostaddr_target(const struct gateway *gw, uint8_t proto, const struct inany *dst,
		    uint16_t port, struct inany *to, uint16_t *to_port)
{
	struct inany gwa, dnsa;
	bool v6 = !inany_is_v4(dst);

	gw_addr_of(gw, false, v6, &gwa);
	gw_addr_of(gw, true, v6, &dnsa);
	*to = *dst;
	*to_port = port;
	for (unsigned i = 0; inany_equal(dst, &gwa) && i < gw->n_to_host; i++) {
		const struct fwd_to_host *t = &gw->to_host[i];

		if (t->proto == proto && htons(t->guest_port) == port) {
			*to = t->host_addr;
			*to_port = htons(t->host_port);
			return 0;
		}
	}
	if (inany_equal(dst, &gwa)) {
		if (gw->no_host_loopback)
			return -ENETUNREACH;
		if (v6)
			*to = loopback6;
		else
			inany_from_v4(to, htonl(INADDR_LOOPBACK));
	} else if (inany_equal(dst, &dnsa)) {
		if (!gw->n_dns || port != htons(53))
			return -EADDRNOTAVAIL;
		inany_from_sockaddr(to, to_port, &gw->dns[0]);
	}
	return 0;
}

/**
 * hostaddr_source() - the address and port the guest sees for what came
 *		       from @from:@from_port
 * @gw: gateway identity
 * @proto: of the datagram or connection
 * @from: the host's peer
 * @from_port: its port, network order
 * @v6: the guest's side of the flow is IPv6
 * @addr: filled in; of another family than the guest's if nothing maps it
 *	  (the caller drops such traffic)
 * @port: filled in
 */
void hostaddr_source(const struct gateway *gw, uint8_t proto, const struct inany *from,
		     uint16_t from_port, bool v6, struct inany *addr, uint16_t *port)
{
	*addr = *from;
	*port = from_port;
	for (unsigned i = 0; i < gw->n_to_host; i++) {
		const struct fwd_to_host *t = &gw->to_host[i];

		if (t->proto == proto && inany_equal(&t->host_addr, from) &&
		    htons(t->host_port) == from_port) {
			gw_addr_of(gw, false, v6, addr);
			*port = htons(t->guest_port);
			return;
		}
	}
	for (unsigned i = 0; i < gw->n_dns; i++) {
		struct inany up;
		uint16_t up_port;

		inany_from_sockaddr(&up, &up_port, &gw->dns[i]);
		if (inany_equal(from, &up) && from_port == up_port) {
			gw_addr_of(gw, true, v6, addr);
			*port = htons(53);
			return;
		}
	}
	if ((inany_is_v4(from) && (ntohl(inany_v4(from)) >> 24) == 127) ||
	    inany_equal(from, &loopback6))
		gw_addr_of(gw, false, v6, addr);	/* the host's loopback is the gateway */
}
