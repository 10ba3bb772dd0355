// SPDX-License-Identifier: MIT
/*
 * plumb.c - wire the guest's link, by mode.
 *
 * --ifname: the link exists; look up its host end and bring it up.
 * --netns and -- COMMAND: create a veth pair whose guest end is born in the
 *   guest's namespace, give the host end no address and no IPv6 (the host
 *   stack must stay silent on it), and configure the guest end as a DHCP
 *   client would: lo up, address, link up, default route via the gateway.
 *   The reaper (netns.c) deletes the pair when xdpslirp ends, however.
 *
 * Everything goes through rtnetlink (netlink.c); nothing shells out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "plumb.h"
#include "xdp.h"
#include "engine.h"
#include "stream.h"
#include "tapdev.h"

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
	config_guest_addr6(cfg, &a);
	if (cfg->slirp4netns)	/* as its guests: SLAAC from our RAs */
		return ret == -ENOENT ? 0 : netns_sysctl_write(netns_fd, path, "1");
	if (!ret)
		ret = nl_addr_add(nl, ifindex, AF_INET6, a.b, 64);
	if (!ret)
		ret = nl_route_add_default(nl, ifindex, AF_INET6, router);
	return ret;
}

/*
 * Gives the guest's interface in @netns_fd its addresses and routes, and
 * brings it up; @guest_mac is set to its MAC address.
 */
static int configure_guest(uint8_t *guest_mac, const struct config *cfg, int netns_fd)
{
	uint32_t guest = config_guest_addr(cfg), router = config_gateway_addr(cfg);
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
		memcpy(guest_mac, eth.mac, ETH_ALEN);
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

	if (!gl->host_ifname[0])
		snprintf(gl->host_ifname, sizeof(gl->host_ifname), "xsl%d", (int)getpid());
	ret = nl_veth_create(nl, &spec);
	if (ret) {
		log_err("cannot create the veth pair %s/%s: %s%s", gl->host_ifname,
			cfg->guest_ifname, strerror(-ret), ret == -EEXIST ?
			" (the guest's namespace already has a link of that name? see --guest-ifname)" : "");
		return ret;
	}
	gl->created = true;
	ret = gl->reaper ? reaper_add_link(gl->reaper, gl->host_ifname) : 0;
	if (ret)
		return ret;
	disable_ipv6(gl->host_ifname);
	return configure_guest(gl->guest_mac, cfg, netns_fd);
}

/*
 * The receive queues @ifname has now.  Netlink tells how many the device
 * was made with (a multi-queue tap: 256), sysfs how many are real (a tap:
 * one per fd attached), which is what AF_XDP binds to.
 */
static unsigned real_rx_queues(const char *ifname, unsigned allocated)
{
	char path[64];
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return allocated;
	for (struct dirent *e; (e = readdir(d));)
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	return n ? n : allocated;
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
		else
			gl->host.num_rx_queues = real_rx_queues(gl->host_ifname,
								gl->host.num_rx_queues);
	}
	if (!ret) {
		ret = nl_link_up(&nl, gl->host.ifindex);
		if (ret)
			log_err("cannot bring %s up: %s", gl->host_ifname, strerror(-ret));
	}
	nl_close(&nl);
	return ret;
}

/*
 * The gateway's MAC on a tap (or a stream), which has no host end to take one from:
 * locally administered, the one slirp4netns's gateway has.
 */
static const uint8_t tap_gateway_mac[ETH_ALEN] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

/* A tap job: run in the guest's namespaces (nsexec.c). */
struct tap_job {
	const struct config *cfg;
	uint32_t mtu;
	unsigned queues;
};

/* What it sends back besides the queues' fds. */
struct tap_reply {
	uint8_t mac[ETH_ALEN];	/* the guest's */
	unsigned offloads;	/* TUN_F_* */
	bool existed;
	uint32_t mtu;
};

/* In the helper: does the tap exist? (0 or 1 in data[0]) */
static int tap_probe_job(void *arg, struct ns_result *res)
{
	const struct config *cfg = arg;

	res->data[0] = if_nametoindex(cfg->guest_ifname) != 0;
	return 0;
}

/* In the helper: configure the tap (unless told not to), from inside. */
static int tap_configure(const struct tap_job *j, struct tap_reply *r)
{
	const struct config *cfg = j->cfg;
	struct link_info li;
	struct nl nl = { 0 };
	int self, ret = nl_open(&nl);

	if (!ret)
		ret = nl_link_get(&nl, cfg->guest_ifname, &li);
	if (!ret && cfg->configure)
		ret = nl_link_set(&nl, li.ifindex, j->mtu, cfg->have_mac ? cfg->mac : NULL);
	nl_close(&nl);
	if (ret) {
		log_err("cannot set up tap %s: %s", cfg->guest_ifname, strerror(-ret));
		return ret;
	}
	memcpy(r->mac, li.mac, ETH_ALEN);
	r->mtu = cfg->configure ? j->mtu : li.mtu;
	if (!cfg->configure)
		return 0;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	ret = configure_guest(r->mac, cfg, self);
	close(self);
	return ret;
}

/* In the helper: open (or create) the tap's queues and configure it. */
static int tap_open_job(void *arg, struct ns_result *res)
{
	const struct tap_job *j = arg;
	struct tap_reply r = { .existed = if_nametoindex(j->cfg->guest_ifname) != 0,
			       .offloads = !j->cfg->no_csum_offload };
	int ret = tapdev_open(j->cfg->guest_ifname, j->queues, res->fds, &res->nfds, &r.offloads);

	if (!ret)
		ret = tap_configure(j, &r);
	memcpy(res->data, &r, sizeof(r));
	return ret;
}

/**
 * plumb_choose_backend() - what carries the guest's frames
 * @cfg: --backend
 * @afxdp: xsk_probe_multibuffer()'s answer: negative if AF_XDP is missing
 *
 * auto takes AF_XDP whenever the XDP program can be loaded (privileges,
 * kernel), else the tap, and says which and why.
 *
 * Return: BACKEND_XDP, BACKEND_TAP, or negative errno (logged).
 */
int plumb_choose_backend(const struct config *cfg, int afxdp)
{
	int ret = afxdp < 0 ? afxdp : 0;

	if (cfg->backend == CFG_BACKEND_TAP)
		return BACKEND_TAP;
	if (!ret && cfg->backend == CFG_BACKEND_AUTO)
		ret = xdp_prog_probe();
	if (!ret) {
		if (cfg->backend == CFG_BACKEND_AUTO)
			log_info("backend: AF_XDP (the XDP program loads here)");
		return BACKEND_XDP;
	}
	if (cfg->backend == CFG_BACKEND_XDP) {
		log_err("--backend xdp: AF_XDP is not available: %s (needs Linux with CONFIG_XDP_SOCKETS, and root); --backend tap needs neither",
			strerror(-ret));
		return ret;
	}
	log_info("backend: tap (AF_XDP is not available here: %s)", strerror(-ret));
	return BACKEND_TAP;
}

/**
 * plumb_tap_exists() - does the guest's namespace have cfg->guest_ifname?
 * @cfg: configuration (the name)
 * @ns: the guest's namespaces
 *
 * Return: 1, 0, or negative errno (logged).
 */
int plumb_tap_exists(const struct config *cfg, const struct ns_target *ns)
{
	struct ns_result res;
	int ret = ns_call(ns, tap_probe_job, (void *)cfg, &res);

	return ret ? ret : res.data[0];
}

/**
 * plumb_setup_tap() - open the guest's tap, creating and configuring it
 * @gl: zeroed; filled in (queues' fds, MACs, MTU)
 * @cfg: configuration (name, queues, addresses, whether to configure)
 * @ns: the guest's namespaces
 * @mtu: MTU for a tap we configure
 *
 * Return: 0, or negative errno (logged).  Call plumb_teardown() either way.
 */
int plumb_setup_tap(struct guest_link *gl, const struct config *cfg,
		    const struct ns_target *ns, uint32_t mtu)
{
	struct tap_job j = { .cfg = cfg, .mtu = mtu, .queues = cfg->queues };
	struct tap_reply r;
	struct ns_result res;
	int ret;

	ret = ns_call(ns, tap_open_job, &j, &res);
	memcpy(gl->tap_fds, res.fds, sizeof(int) * res.nfds);
	gl->ntap = res.nfds;
	if (ret)
		return ret;
	memcpy(&r, res.data, sizeof(r));
	snprintf(gl->host_ifname, sizeof(gl->host_ifname), "%s", cfg->guest_ifname);
	memcpy(gl->host.mac, tap_gateway_mac, ETH_ALEN);
	memcpy(gl->guest_mac, r.mac, ETH_ALEN);
	gl->host.mtu = r.mtu;
	gl->host.num_rx_queues = res.nfds;
	gl->tap_offloads = r.offloads;
	gl->tap_existed = r.existed;
	return 0;
}

/**
 * plumb_setup_stream() - listen where a VM's QEMU will connect (--socket)
 * @gl: zeroed; filled in (the listening socket, our MAC, the MTU)
 * @cfg: configuration (the path)
 * @mtu: the MTU the guest is told (DHCP, router advertisements)
 *
 * Return: 0, or negative errno (logged).  Call plumb_teardown() either way.
 */
int plumb_setup_stream(struct guest_link *gl, const struct config *cfg, uint32_t mtu)
{
	gl->stream_fd = stream_listen(cfg->socket_path);
	if (gl->stream_fd < 0)
		return gl->stream_fd;
	reaper_add_path(gl->reaper, cfg->socket_path);
	snprintf(gl->host_ifname, sizeof(gl->host_ifname), "socket");
	memcpy(gl->host.mac, tap_gateway_mac, ETH_ALEN);
	gl->host.mtu = mtu;
	return 0;
}

/* A daemon's guest leaves: the daemon's reaper deletes links only at the
 * daemon's end, so the link we created is deleted here. */
static void delete_created_link(const struct guest_link *gl)
{
	struct nl nl = { 0 };

	if (!gl->created || nl_open(&nl))
		return;
	nl_link_delete(&nl, gl->host_ifname);
	nl_close(&nl);
}

/* Deletes what plumb_setup() created (the guest end goes with the host end),
 * or leaves it to gl->reaper, which the caller stops next: the standalone
 * gateway is confined by now, and may not delete links itself.
 */
void plumb_teardown(struct guest_link *gl)
{
	if (!gl->reaper)
		delete_created_link(gl);
	gl->created = false;
	while (gl->ntap)	/* a tap we created ends with its last fd */
		close(gl->tap_fds[--gl->ntap]);
	if (gl->stream_fd > 0) {
		close(gl->stream_fd);
		gl->stream_fd = -1;
	}
}
