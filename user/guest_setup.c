// SPDX-License-Identifier: MIT
/*
 * guest_setup.c - a guest's namespace, link and MTU as a configuration
 * describes them, and what the engine then needs of it: shared by the
 * standalone gateway (main.c) and each guest of the daemon (daemon.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest_setup.h"
#include "log.h"
#include "steer.h"
#include "xsk.h"

/* Largest MTU whose frames fit one UMEM chunk, and the veth's cap for
 * single-buffer XDP programs (notes: 3506 with 4 KiB pages).
 */
#define MTU_SINGLE_CHUNK 3506

/* Picks the MTU: the user's if it works, else the largest that does. */
int choose_mtu(const struct config *cfg, bool multibuffer, uint32_t *mtu)
{
	uint32_t max = multibuffer ? MTU_MAX : MTU_SINGLE_CHUNK;

	if (!multibuffer)
		log_info("this kernel has no AF_XDP multi-buffer (XDP_USE_SG, Linux 6.6+): MTU limited to %u",
			 max);
	if (cfg->mtu > max) {
		log_err("--mtu %u: this kernel supports at most %u (no AF_XDP multi-buffer)",
			cfg->mtu, max);
		return -EINVAL;
	}
	*mtu = cfg->mtu ? cfg->mtu : max;
	return 0;
}

/* A created link gets a queue, and a worker, per CPU we may run on. */
unsigned default_queues(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > STEER_MAX_WORKERS ? STEER_MAX_WORKERS : (unsigned)n;
}

/* --ifname: the link decides queues and MTU; check we can serve them. */
static int check_existing_link(struct config *cfg, const struct link_info *host,
			       bool multibuffer)
{
	unsigned rxq = host->num_rx_queues ? host->num_rx_queues : 1;

	if (rxq > XDP_MAX_QUEUES)
		rxq = XDP_MAX_QUEUES;
	if (cfg->queues > rxq) {
		log_err("--queues %u: %s has only %u receive queues", cfg->queues,
			cfg->ifname, rxq);
		return -EINVAL;
	}
	if (!cfg->queues)
		cfg->queues = rxq;
	if (!multibuffer && host->mtu > MTU_SINGLE_CHUNK) {
		log_err("%s has MTU %u; without AF_XDP multi-buffer this kernel supports at most %u: lower it",
			cfg->ifname, host->mtu, MTU_SINGLE_CHUNK);
		return -EINVAL;
	}
	return 0;
}

/*
 * The user namespace to enter before the guest's network namespace:
 * --userns-path, or that of --netns PID (an unprivileged caller may only
 * enter a network namespace of its own user namespaces).  None for a path.
 */
int guest_userns(const struct config *cfg, struct ns_target *ns)
{
	size_t digits = strspn(cfg->netns, "0123456789");
	const char *path = cfg->userns;
	char proc[64];

	if (!path && digits && !cfg->netns[digits]) {
		snprintf(proc, sizeof(proc), "/proc/%s/ns/user", cfg->netns);
		path = proc;
	}
	if (!path)
		return 0;
	ns->userns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->userns_fd >= 0)
		return 0;
	log_err("%s %s: %s", cfg->userns ? "--userns-path" : "user namespace", path,
		strerror(errno));
	return -errno;
}

void ns_close(struct ns_target *ns)
{
	if (ns->netns_fd >= 0)
		close(ns->netns_fd);
	if (ns->userns_fd >= 0)
		close(ns->userns_fd);
	ns->netns_fd = ns->userns_fd = -1;
}

/* Makes the guest's link exist, for the backend; 0 or negative errno (logged). */
int guest_link_setup(struct guest_link *gl, struct config *cfg,
			    const struct ns_target *ns, int backend, int multibuffer,
			    uint32_t mtu)
{
	int ret;

	if (backend == BACKEND_TAP) {
		ret = plumb_setup_tap(gl, cfg, ns, mtu);
		cfg->queues = gl->ntap;
		return ret;
	}
	if (backend == BACKEND_STREAM) {
		cfg->queues = 1;	/* a stream is one queue */
		return plumb_setup_stream(gl, cfg, mtu);
	}
	ret = plumb_setup(gl, cfg, ns->netns_fd, mtu);
	if (!ret && cfg->mode == MODE_IFNAME)
		ret = check_existing_link(cfg, &gl->host, multibuffer);
	return ret;
}

/**
 * guest_params_fill() - what the engine needs of a guest set up as @cfg says
 * @gp: filled in
 * @cfg: the guest's configuration
 * @gl: its link (guest_link_setup() done)
 * @backend: enum backend
 * @multibuffer: AF_XDP multi-buffer works here
 * @gw: its gateway (gateway_setup() done)
 * @pcap: --pcap, opened, or NULL
 */
void guest_params_fill(struct guest_params *gp, const struct config *cfg,
		       const struct guest_link *gl, int backend, bool multibuffer,
		       const struct gateway *gw, struct pcap *pcap)
{
	*gp = (struct guest_params){
		.backend = (enum backend)backend,
		.tap_fds = gl->tap_fds,
		.tap_offloads = gl->tap_offloads,
		.stream_fd = gl->stream_fd,
		.ifname = gl->host_ifname,
		.ifindex = gl->host.ifindex,
		.max_flows = cfg->max_flows,
		.ingress = cfg->ingress,
		.egress = cfg->egress,
		.faults = { .tx_loss = cfg->test_tx_loss, .tx_dup = cfg->test_tx_dup,
			    .tx_reorder = cfg->test_tx_reorder, .rx_dup = cfg->test_rx_dup,
			    .rx_reorder = cfg->test_rx_reorder },
		.multibuffer = multibuffer,
		.xdp_generic = cfg->xdp_generic,
		.tx_csum = !cfg->no_csum_offload,
		.gw = gw,
		.guest_mac = gl->created || gl->ntap ? gl->guest_mac : NULL,
		.pcap = pcap,
	};
}
