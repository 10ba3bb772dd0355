// SPDX-License-Identifier: MIT
/*
 * netlink.c - the rtnetlink requests xdpslirp makes, through libmnl.
 *
 * One request at a time, each with NLM_F_ACK, answered before the next is
 * sent: set-up and teardown are not hot paths, and a synchronous request
 * gives each failure its own errno.  A socket works in the namespace it was
 * opened in; netns.c opens one inside the guest's namespace.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>

#include "netlink.h"

int nl_open(struct nl *nl)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int ret = -errno;

		nl_close(nl);
		return ret;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Sends @nlh (its flags set) and reads the answers until the last. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = ++nl->seq;

	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		int ret;

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/**
 * nl_request() - send one request and read until its acknowledgement
 * @nl: socket
 * @nlh: the request; flags NLM_F_REQUEST | NLM_F_ACK are added
 * @cb: called for each reply message before the acknowledgement, or NULL
 * @data: passed to @cb
 *
 * Return: 0, or the negative errno the kernel answered.
 */
static int nl_request(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	return nl_talk(nl, nlh, cb, data);
}

/**
 * nl_dump() - dump every object of @type (RTM_GETADDR, RTM_GETROUTE...)
 * @nl: socket
 * @type: the request
 * @hdr_len: its family header's size (struct ifaddrmsg, struct rtmsg), sent
 *	     zeroed but for the family: AF_UNSPEC, both
 * @cb: called for each object
 * @data: passed to @cb
 *
 * Return: 0, or negative errno.
 */
int nl_dump(struct nl *nl, uint16_t type, size_t hdr_len, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, hdr_len);
	g->rtgen_family = AF_UNSPEC;
	return nl_talk(nl, nlh, cb, data);
}

static struct nlmsghdr *nl_msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

static struct ifinfomsg *put_ifinfomsg(struct nlmsghdr *nlh, int ifindex)
{
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return ifm;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *info = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			info->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_NUM_RX_QUEUES:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			info->num_rx_queues = mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == ETH_ALEN)
			memcpy(info->mac, mnl_attr_get_payload(attr), ETH_ALEN);
		break;
	}
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct link_info *info = data;

	info->ifindex = ifm->ifi_index;
	return mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, data);
}

/* Looks up a link by name: index, MTU, MAC address, receive queues. */
int nl_link_get(struct nl *nl, const char *name, struct link_info *info)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_GETLINK, 0);

	memset(info, 0, sizeof(*info));
	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_request(nl, nlh, link_msg_cb, info);
}

static void put_link_sizes(struct nlmsghdr *nlh, uint32_t mtu, uint32_t queues)
{
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, queues);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, queues);
}

/**
 * nl_veth_create() - create a veth pair with its guest end in another namespace
 * @nl: socket in the namespace of the host end
 * @spec: names, target namespace, MTU and queue count of both ends
 *
 * The guest end is created directly in its namespace under its final name,
 * so no temporary name can clash with the host's links.
 *
 * Return: 0 or negative errno.
 */
int nl_veth_create(struct nl *nl, const struct veth_spec *spec)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *linkinfo, *data, *peer;

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, spec->host_name);
	put_link_sizes(nlh, spec->mtu, spec->queues);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, spec->guest_name);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)spec->guest_netns_fd);
	put_link_sizes(nlh, spec->mtu, spec->queues);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_delete(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_DELLINK, 0);

	put_ifinfomsg(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_request(nl, nlh, NULL, NULL);
}

int nl_link_up(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = put_ifinfomsg(nlh, ifindex);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * nl_link_set() - set a link's MTU and, if @mac is not NULL, its address
 * @nl: rtnetlink socket (of the link's namespace)
 * @ifindex: the link
 * @mtu: new MTU, 0 to keep it
 * @mac: new MAC address, or NULL
 *
 * Return: 0 or negative errno.
 */
int nl_link_set(struct nl *nl, int ifindex, uint32_t mtu, const uint8_t *mac)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, 0);

	put_ifinfomsg(nlh, ifindex);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, mac);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * nl_addr_add() - add an address to a link
 * @nl: rtnetlink socket (of the link's namespace)
 * @ifindex: the link
 * @family: AF_INET or AF_INET6
 * @addr: 4 or 16 bytes, network order
 * @prefix_len: of the on-link network
 *
 * An IPv6 address is added without DAD (IFA_F_NODAD): usable at once.
 *
 * Return: 0 or negative errno.
 */
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, unsigned prefix_len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t len = family == AF_INET6 ? 16 : 4;

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix_len;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, len, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	if (family == AF_INET6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nl_request(nl, nlh, NULL, NULL);
}

/* Adds the default route of @family via @gateway (4 or 16 bytes) on @ifindex. */
int nl_route_add_default(struct nl *nl, int ifindex, int family, const void *gateway)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET6 ? 16 : 4, gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_request(nl, nlh, NULL, NULL);
}

/* A socket that hears about links coming and going (RTNLGRP_LINK). */
int nl_open_link_monitor(struct nl *nl)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		int ret = -errno;

		nl_close(nl);
		return ret;
	}
	return 0;
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

/* Reads pending link notifications: was link @ifindex deleted? */
bool nl_link_deleted(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	bool gone = false;

	while ((n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type == RTM_DELLINK && ifm->ifi_index == ifindex)
				gone = true;
		}
	}
	return gone;
}
