// SPDX-License-Identifier: MIT
/*
 * xdp.c - load the steering program and attach it to the guest's link.
 *
 * The program travels inside the binary as a libbpf skeleton.  It is
 * attached through a bpf_link, not netlink: the kernel detaches it as soon as
 * the last file descriptor of the link closes, so a crashed or SIGKILLed
 * engine leaves no program behind, and nobody can replace it while we run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "log.h"
#include "xdp.h"
#include "xdpslirp.skel.h"

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

int xdp_prog_load(struct xdp_prog *x)
{
	x->link_fd = -1;
	libbpf_set_print(libbpf_log);
	x->skel = xdpslirp_bpf__open_and_load();
	if (!x->skel) {
		int ret = -errno;

		log_err("cannot load the XDP program: %s (needs root: CAP_BPF and CAP_NET_ADMIN)",
			strerror(errno));
		return ret ? ret : -EINVAL;
	}
	x->ncpus = libbpf_num_possible_cpus();
	return 0;
}

/* Can the program be loaded here (privileges, kernel)?  0 or negative errno. */
int xdp_prog_probe(void)
{
	struct xdpslirp_bpf *skel;
	int ret;

	libbpf_set_print(libbpf_log);
	skel = xdpslirp_bpf__open_and_load();
	ret = skel ? 0 : (errno ? -errno : -EINVAL);
	xdpslirp_bpf__destroy(skel);
	return ret;
}

/* Points the XSKMAP slot of @queue at the AF_XDP socket @xsk_fd. */
int xdp_prog_add_socket(struct xdp_prog *x, uint32_t queue, int xsk_fd)
{
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.xsks), &queue, &xsk_fd, 0)) {
		int ret = -errno;

		log_err("queue %u: cannot register the AF_XDP socket: %s", queue,
			strerror(errno));
		return ret;
	}
	return 0;
}

/**
 * xdp_prog_attach() - attach the program to the link through a bpf_link
 * @x: loaded program
 * @ifindex: the host end of the guest's link
 * @ifname: its name, for messages
 * @generic: use generic (skb) mode instead of native mode
 *
 * Return: 0, or negative errno with a message that says what to do.
 */
int xdp_prog_attach(struct xdp_prog *x, int ifindex, const char *ifname,
		    bool generic)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		.flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int prog_fd = bpf_program__fd(x->skel->progs.xdpslirp_steer);
	int ret;

	x->link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (x->link_fd >= 0)
		return 0;
	ret = x->link_fd;
	if (ret == -EBUSY || ret == -EEXIST)
		log_err("%s already has an XDP program attached (another xdpslirp?)", ifname);
	else if (ret == -EOPNOTSUPP && !generic)
		log_err("%s does not support native XDP; use a veth or tap link, or --xdp-mode generic (slow)",
			ifname);
	else if (ret == -ERANGE)
		log_err("%s: MTU too large for the XDP program; lower the MTU", ifname);
	else
		log_err("cannot attach the XDP program to %s: %s", ifname, strerror(-ret));
	return ret;
}

/* Sums the program's per-CPU counters. */
void xdp_prog_counters(const struct xdp_prog *x, uint64_t out[XDP_CNT_MAX])
{
	int ncpus = x->ncpus;
	uint64_t *vals;

	memset(out, 0, sizeof(uint64_t) * XDP_CNT_MAX);
	if (ncpus <= 0 || !x->skel)
		return;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return;
	for (uint32_t k = 0; k < XDP_CNT_MAX; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.counters), &k, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
}

/* Detaches (closing the link) and unloads. */
void xdp_prog_close(struct xdp_prog *x)
{
	if (x->link_fd >= 0)
		close(x->link_fd);
	x->link_fd = -1;
	xdpslirp_bpf__destroy(x->skel);
	x->skel = NULL;
	free(x->policy_keys);
	x->policy_keys = NULL;
}
