/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_NETLINK_H
#define XDPSLIRP_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/if_ether.h>

struct mnl_socket;
struct nlmsghdr;

/* An rtnetlink socket, bound to the namespace it was opened in. */
struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

/* What the engine needs to know about an existing link. */
struct link_info {
	int ifindex;
	uint32_t mtu;
	uint32_t num_rx_queues;
	uint8_t mac[ETH_ALEN];
};

/* The veth pair to create: host end here, guest end in another namespace. */
struct veth_spec {
	const char *host_name;
	const char *guest_name;
	int guest_netns_fd;
	uint32_t mtu;
	uint32_t queues;
};

int nl_open(struct nl *nl);
void nl_close(struct nl *nl);
int nl_link_get(struct nl *nl, const char *name, struct link_info *info);
int nl_veth_create(struct nl *nl, const struct veth_spec *spec);
int nl_link_delete(struct nl *nl, const char *name);
int nl_link_up(struct nl *nl, int ifindex);
int nl_link_set(struct nl *nl, int ifindex, uint32_t mtu, const uint8_t *mac);
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, unsigned prefix_len);
int nl_route_add_default(struct nl *nl, int ifindex, int family, const void *gateway);
int nl_dump(struct nl *nl, uint16_t type, size_t hdr_len,
	    int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
int nl_open_link_monitor(struct nl *nl);
int nl_fd(const struct nl *nl);
bool nl_link_deleted(struct nl *nl, int ifindex);

#endif
