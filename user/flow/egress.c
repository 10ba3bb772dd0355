// SPDX-License-Identifier: MIT
/*
 * egress.c - the check every new flow of the guest's to the outside passes.
 *
 * Theory of operation: tcp_input() (a SYN for no flow), udp_input() (each
 * datagram) and ping_input() (each echo request) ask egress_check() (or,
 * having translated the destination already, egress_check_to()) before
 * anything reaches a host socket.  The destination is first taken as the
 * guest wrote it: one of the addresses no rule opens
 * (policy_always_blocked()) or the rest of the guest's own prefix is
 * refused.  The gateway's mapped addresses (hostaddr.c) are judged by where
 * they lead instead: the rules see the host's loopback for 10.0.2.2, and a
 * --forward-to-host service for its port.  The DNS address is the engine's
 * own forwarder, not egress, and always passes.  Then the rules (policy.c)
 * decide.
 *
 * A refused flow is answered so that the guest's application fails at
 * once: a TCP SYN with a RST, a datagram or echo request with ICMP
 * "administratively prohibited", both within the worker's ICMP error rate
 * (icmp_rate_ok()); past it, silently dropped.
 */
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>

#include "egress.h"
#include "hostaddr.h"
#include "icmp.h"
#include "ip.h"
#include "policy.h"
#include "tcp_int.h"
#include "udp.h"

/* Is @a in the guest's own prefix (either family)? */
static bool in_guest_prefix(const struct gateway *gw, const struct inany *a)
{
	if (inany_is_v4(a))
		return ((inany_v4(a) ^ gw->gw_addr) & gw->netmask) == 0;
	return gw->ipv6 && !memcmp(a->b, gw->gw6.b, 8);	/* its /64 */
}

static bool is_dns_addr(const struct gateway *gw, const struct inany *a)
{
	return inany_is_v4(a) ? inany_v4(a) == gw->dns_addr : inany_equal(a, &gw->dns6);
}

/**
 * egress_check_to() - may the guest open this flow?
 * @ctx: worker context
 * @p: the datagram opening it
 * @proto: IPPROTO_TCP, IPPROTO_UDP, or IPPROTO_ICMP for an echo request of
 *	   either family
 * @to: where it goes on the host's side (hostaddr_target() of @p's
 *	destination, which the caller has made)
 * @to_port: and its port, network order (0 for ICMP)
 *
 * Return: DROP_MAX if it may, else the drop reason (not yet counted).
 */
enum drop_reason egress_check_to(struct gw_ctx *ctx, const struct ippkt *p, uint8_t proto,
				 const struct inany *to, uint16_t to_port)
{
	const struct gateway *gw = ctx->gw;
	int rule;

	if (is_dns_addr(gw, &p->dst))
		return DROP_MAX;
	if (inany_equal(to, &p->dst) &&
	    (policy_always_blocked(&p->dst, p->v6) || in_guest_prefix(gw, &p->dst)))
		return DROP_POLICY_BLOCKED;
	if (ctx->policy && policy_denies(ctx->policy, proto, to, ntohs(to_port), &rule))
		return DROP_POLICY_DENIED;
	return DROP_MAX;
}

/* egress_check_to() for @p to @port (network order), translated here. */
enum drop_reason egress_check(struct gw_ctx *ctx, const struct ippkt *p, uint8_t proto,
			      uint16_t port)
{
	struct inany to;
	uint16_t to_port;

	if (hostaddr_target(ctx->gw, proto, &p->dst, port, &to, &to_port))
		return DROP_MAX;	/* nothing there: the caller answers that */
	return egress_check_to(ctx, p, proto, &to, to_port);
}

/**
 * egress_reset_denied() - end the flows the worker's (new) policy denies
 * @ctx: worker context
 *
 * The API's "reset": TCP connections the guest opened get a RST, ping
 * flows close.  Forwarded ports' connections stay.  A UDP mapping serves
 * a guest port for any destination, so it is not judged: the policy
 * applies to each of its datagrams anyway.
 */
void egress_reset_denied(struct gw_ctx *ctx)
{
	struct flow_table *t = ctx->flows;

	for (uint32_t i = t->active; i != FLOW_NONE;) {
		struct flow *fl = &t->flows[i];
		bool tcp = fl->key.proto == IPPROTO_TCP;
		struct ippkt p = { .dst = fl->key.remote, .v6 = !inany_is_v4(&fl->key.remote) };

		i = fl->next;
		if ((tcp && (fl->flags & FLOW_FWD)) || fl->key.proto == IPPROTO_UDP ||
		    egress_check(ctx, &p, tcp ? IPPROTO_TCP : IPPROTO_ICMP,
				 tcp ? fl->key.remote_port : 0) == DROP_MAX)
			continue;
		if (tcp)
			tcp_reset_guest(ctx, fl);
		else
			udp_close(ctx, fl);
	}
}

/**
 * egress_refuse() - tell the guest its datagram @p in @f was refused
 * @ctx: worker context
 * @f: the frame
 * @p: its datagram
 * @why: what egress_check_to() said (counted here)
 *
 * Return: VERDICT_DONE.
 */
enum verdict egress_refuse(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
			   enum drop_reason why)
{
	icmp_unreachable(ctx, f, p, ICMP_PKT_FILTERED, ICMPV6_ADM_PROHIBITED);
	return drop(ctx, why);
}
