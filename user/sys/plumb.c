// SPDX-License-Identifier: MIT
/*
 * plumb.c - wire the guest's link, by mode.
 *
 * --ifname: the link exists; look up its host end and bring it up.
 * --netns and -- COMMAND: create a veth pair whose guest end is born in the
 *   guest's namespace, give the host end no address and no IPv6 (the host
 *   stack must stay silent on it), and configure the guest end as a DHCP
 *   client would: lo up, address, link up, default route via the gateway.
 *   A reaper deletes the pair if xdpslirp dies without cleaning up.
 *
 * Everything goes through rtnetlink (netlink.c); nothing shells out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "plumb.h"

/* Keeps the host kernel from sending router solicitations or DAD. */
static void disable_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* no IPv6 in this kernel: nothing to silence */
	if (write(fd, "1", 1) != 1)
		log_warn("%s: cannot disable IPv6: %s", ifname, strerror(errno));
	close(fd);
}

/*
 * The guest's IPv6, set statically so that it works the instant COMMAND
 * starts: fd00::100/64 without DAD, the default route via fe80::2.  Its
 * kernel does not take RAs (accept_ra 0): they would add a second, SLAAC
 * address, and which of the two a socket picks would be left to chance.
 */
static int configure_guest_ipv6(struct nl *nl, const struct config *cfg, int netns_fd,
				int ifindex)
{
	static const uint8_t router[16] = { 0xfe, 0x80, [15] = CIDR_HOST_GATEWAY };
	char path[96];
	struct inany a;
	int ret;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", cfg->guest_ifname);
	ret = netns_sysctl_write(netns_fd, path, "0");
	if (ret == -ENOENT)
		return 0;	/* no IPv6 in the guest's kernel */
	config_host_addr6(cfg, CIDR6_HOST_GUEST, &a);
	if (!ret)
		ret = nl_addr_add(nl, ifindex, AF_INET6, a.b, 64);
	if (!ret)
		ret = nl_route_add_default(nl, ifindex, AF_INET6, router);
	return ret;
}

static int configure_guest(struct guest_link *gl, const struct config *cfg, int netns_fd)
{
	uint32_t guest = config_host_addr(cfg, CIDR_HOST_GUEST);
	uint32_t router = config_host_addr(cfg, CIDR_HOST_GATEWAY);
	struct link_info lo, eth;
	struct nl nl = { 0 };
	int ret;

	ret = netns_nl_open(&nl, netns_fd);
	if (ret) {
		log_err("cannot enter the guest's network namespace: %s", strerror(-ret));
		return ret;
	}
	ret = nl_link_get(&nl, "lo", &lo);
	if (!ret)
		ret = nl_link_up(&nl, lo.ifindex);
	if (!ret)
		ret = nl_link_get(&nl, cfg->guest_ifname, &eth);
	if (!ret)
		ret = nl_addr_add(&nl, eth.ifindex, AF_INET, &guest, cfg->prefix_len);
	if (!ret)
		ret = nl_link_up(&nl, eth.ifindex);
	if (!ret)
		ret = nl_route_add_default(&nl, eth.ifindex, AF_INET, &router);
	if (!ret && !cfg->disable_ipv6)
		ret = configure_guest_ipv6(&nl, cfg, netns_fd, eth.ifindex);
	if (ret)
		log_err("cannot configure %s in the guest's namespace: %s",
			cfg->guest_ifname, strerror(-ret));
	else
		memcpy(gl->guest_mac, eth.mac, ETH_ALEN);
	nl_close(&nl);
	return ret;
}

static int create_veth(struct guest_link *gl, struct nl *nl,
		       const struct config *cfg, int netns_fd, uint32_t mtu)
{
	struct veth_spec spec = {
		.host_name = gl->host_ifname,
		.guest_name = cfg->guest_ifname,
		.guest_netns_fd = netns_fd,
		.mtu = mtu,
		.queues = cfg->queues,
	};
	int ret;

	snprintf(gl->host_ifname, sizeof(gl->host_ifname), "xsl%d", (int)getpid());
	ret = nl_veth_create(nl, &spec);
	if (ret) {
		log_err("cannot create the veth pair %s/%s: %s%s", gl->host_ifname,
			cfg->guest_ifname, strerror(-ret), ret == -EEXIST ?
			" (the guest's namespace already has a link of that name? see --guest-ifname)" : "");
		return ret;
	}
	gl->created = true;
	ret = reaper_start(&gl->reaper, gl->host_ifname);
	if (ret)
		return ret;
	disable_ipv6(gl->host_ifname);
	return configure_guest(gl, cfg, netns_fd);
}

/**
 * plumb_setup() - make the guest's link exist and find its host end
 * @gl: zeroed; filled in
 * @cfg: configuration (mode, names, addresses, queues)
 * @netns_fd: the guest's namespace, unless cfg->mode is MODE_IFNAME
 * @mtu: MTU for a created pair
 *
 * Return: 0, or negative errno (logged).  Call plumb_teardown() either way.
 */
int plumb_setup(struct guest_link *gl, const struct config *cfg, int netns_fd,
		uint32_t mtu)
{
	struct nl nl = { 0 };
	int ret;

	ret = nl_open(&nl);
	if (ret) {
		log_err("cannot open rtnetlink: %s", strerror(-ret));
		return ret;
	}
	if (cfg->mode == MODE_IFNAME)
		snprintf(gl->host_ifname, sizeof(gl->host_ifname), "%s", cfg->ifname);
	else
		ret = create_veth(gl, &nl, cfg, netns_fd, mtu);
	if (!ret) {
		ret = nl_link_get(&nl, gl->host_ifname, &gl->host);
		if (ret)
			log_err("--ifname %s: %s", gl->host_ifname, ret == -ENODEV ?
				"no such link in this network namespace" : strerror(-ret));
	}
	if (!ret) {
		ret = nl_link_up(&nl, gl->host.ifindex);
		if (ret)
			log_err("cannot bring %s up: %s", gl->host_ifname, strerror(-ret));
	}
	nl_close(&nl);
	return ret;
}

/* Deletes what plumb_setup() created (the guest end goes with the host end). */
void plumb_teardown(struct guest_link *gl)
{
	struct nl nl = { 0 };

	if (gl->created && !nl_open(&nl)) {
		nl_link_delete(&nl, gl->host_ifname);
		nl_close(&nl);
	}
	reaper_stop(&gl->reaper);
	gl->created = false;
}
