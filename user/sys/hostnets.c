// SPDX-License-Identifier: MIT
/*
 * hostnets.c - --block-host-networks: the host's addresses and on-link
 * prefixes, kept current.
 *
 * Theory of operation: two rtnetlink sockets, both opened before the
 * sandbox.  One is subscribed to address and route events of both
 * families; when it is readable, the main thread drains it and dumps the
 * addresses and main-table routes again through the other, and rules.c
 * recompiles the policy if the list changed.  Each global or link-scope
 * address counts as itself (/32, /128) and as its prefix; each unicast
 * route without a gateway (on-link), other than a default route, as its
 * destination.  Loopback-scope addresses (127.0.0.1, ::1) are left out:
 * the guest reaches the host's loopback only through the gateway's
 * address, which --disable-host-loopback governs, and 127/8 and ::1 are
 * blocked as literal destinations anyway (policy.c).
 */
#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "hostnets.h"
#include "log.h"
#include "rules.h"

/* The dump being read: where the prefixes go. */
struct collect {
	struct policy_rule *out;
	unsigned n, max;
};

static void add_prefix(struct collect *c, int family, const void *addr, unsigned plen)
{
	struct policy_rule r = { .deny = true, .port_lo = 0, .port_hi = 65535 };
	unsigned full = family == AF_INET ? 32 : 128;

	if (plen > full)
		return;
	if (family == AF_INET) {
		uint32_t a;

		memcpy(&a, addr, 4);
		inany_from_v4(&r.prefix, a);
		plen += 96;
	} else {
		memcpy(r.prefix.b, addr, 16);
	}
	for (unsigned b = plen; b < 128; b++)	/* host bits off */
		r.prefix.b[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	r.plen = (uint8_t)plen;
	for (unsigned i = 0; i < c->n; i++)
		if (c->out[i].plen == r.plen && inany_equal(&c->out[i].prefix, &r.prefix))
			return;
	if (c->n < c->max)
		c->out[c->n++] = r;
}

static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const void *addr = NULL, *local = NULL;
	const struct nlattr *a;

	if (ifa->ifa_scope == RT_SCOPE_HOST)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_ADDRESS)
			addr = mnl_attr_get_payload(a);
		if (mnl_attr_get_type(a) == IFA_LOCAL)	/* ours, on a point-to-point link */
			local = mnl_attr_get_payload(a);
	}
	if (local)
		addr = local;
	if (addr) {
		add_prefix(data, ifa->ifa_family, addr, ifa->ifa_family == AF_INET ? 32 : 128);
		add_prefix(data, ifa->ifa_family, addr, ifa->ifa_prefixlen);
	}
	return MNL_CB_OK;
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const void *dst = NULL;
	bool via = false;

	if (rt->rtm_table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST || !rt->rtm_dst_len)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rt)) {
		if (mnl_attr_get_type(a) == RTA_DST)
			dst = mnl_attr_get_payload(a);
		if (mnl_attr_get_type(a) == RTA_GATEWAY || mnl_attr_get_type(a) == RTA_VIA)
			via = true;
	}
	if (dst && !via)
		add_prefix(data, rt->rtm_family, dst, rt->rtm_dst_len);
	return MNL_CB_OK;
}

/**
 * hostnets_open() - subscribe to the host's address and route changes
 * @h: filled in; hostnets_fd() is readable when something changed
 *
 * Return: 0, or negative errno (logged).
 */
int hostnets_open(struct hostnets *h)
{
	unsigned groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
			  RTMGRP_IPV6_ROUTE;
	int ret = nl_open(&h->req);

	if (!ret) {
		h->mon.sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (!h->mon.sock || mnl_socket_bind(h->mon.sock, groups, MNL_SOCKET_AUTOPID) < 0)
			ret = -errno;
	}
	if (ret)
		log_err("--block-host-networks: cannot watch the host's addresses: %s",
			strerror(-ret));
	return ret;
}

int hostnets_fd(const struct hostnets *h)
{
	return nl_fd(&h->mon);
}

/**
 * hostnets_read() - the host's networks now, as deny rules
 * @h: opened
 * @out: where they go
 * @max: room at @out
 *
 * Drains the event socket first: whatever changed after is seen next time.
 *
 * Return: how many, or negative errno.
 */
int hostnets_read(struct hostnets *h, struct policy_rule *out, unsigned max)
{
	struct collect c = { .out = out, .max = max };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret;

	while (mnl_socket_recvfrom(h->mon.sock, buf, sizeof(buf)) > 0)
		;
	ret = nl_dump(&h->req, RTM_GETADDR, sizeof(struct ifaddrmsg), on_addr, &c);
	if (!ret)
		ret = nl_dump(&h->req, RTM_GETROUTE, sizeof(struct rtmsg), on_route, &c);
	return ret ? ret : (int)c.n;
}

void hostnets_close(struct hostnets *h)
{
	nl_close(&h->mon);
	nl_close(&h->req);
}

/**
 * hostnets_refresh() - the host's networks into rule sets, now or anew
 * @h: opened
 * @sets: the rule sets of the guests with --block-host-networks
 * @n: how many
 *
 * Return: 0 or negative errno (logged).
 */
int hostnets_refresh(struct hostnets *h, struct rule_set *const *sets, unsigned n)
{
	static struct policy_rule host[POLICY_MAX_RULES];	/* main thread only */
	int count = hostnets_read(h, host, POLICY_MAX_RULES);

	if (count < 0) {
		log_warn("--block-host-networks: cannot read the host's networks: %s",
			 strerror(-count));
		return count;
	}
	for (unsigned i = 0; i < n; i++)
		rules_set_host(sets[i], host, (unsigned)count);
	return 0;
}
