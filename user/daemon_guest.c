// SPDX-License-Identifier: MIT
/*
 * daemon_guest.c - one guest of the daemon: its add_guest options, parsed
 * as a command line of the standalone gateway's; its set-up, what main.c
 * does for its one (the namespace, a veth pair whose host end is
 * xsl<pid>-<n> or a tap in the namespace, the gateway, the rules with
 * --block-host-networks kept current, its own capture file, the engine's
 * guest_open(), its control); what it was given, for add_guest's answer;
 * and its end.  daemon.c decides when.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon_int.h"
#include "gateway_setup.h"
#include "guest_setup.h"
#include "log.h"
#include "process.h"

/* --- a guest's options --- */

/* Options a guest may not give: they are the daemon's, or not served yet. */
static const char *option_not_for_guest(const struct config *c, const struct config *def)
{

	if (c->mode != MODE_NETNS)
		return "a guest is a network namespace: \"netns\" or \"pid\", not --ifname, --socket or a command";
	if (c->api_socket || c->pid_file || c->ready_fd != def->ready_fd ||
	    c->exit_fd != def->exit_fd)
		return "--api-socket, --pid-file, --ready-fd and --exit-fd are the daemon's";
	if (c->queues || c->ncpus || c->poll_mode != def->poll_mode || c->spin_us != def->spin_us)
		return "--queues, --cpus, --poll and --spin-us are the daemon's";
	return NULL;
}

/* The guest's options from @spec into its argv, then its config; NULL or why not. */
const char *guest_parse(const struct daemon *d, struct dguest *dg, json_t *spec, char *why,
			size_t len)
{
	json_t *netns = json_object_get(spec, "netns"), *pid = json_object_get(spec, "pid");
	json_t *opts = json_object_get(spec, "options"), *o;
	size_t n = json_array_size(opts), i, argc = 0;
	char target[32], *text = NULL;
	size_t text_len = 0;
	FILE *err;
	int ret;

	if (!!json_is_string(netns) == !!json_is_integer(pid))
		return "give the guest's network namespace: \"netns\": PATH or \"pid\": PID";
	if (json_is_integer(pid) && (json_integer_value(pid) < 1 || json_integer_value(pid) > INT32_MAX))
		return "\"pid\" must be a process id";
	if (opts && (!json_is_array(opts) || n > GUEST_OPTS_MAX))
		return "\"options\" must be an array of at most 256 strings";
	dg->argv = calloc(n + 4, sizeof(*dg->argv));
	dg->cfg = malloc(sizeof(*dg->cfg));
	if (!dg->argv || !dg->cfg)
		return "out of memory";
	snprintf(target, sizeof(target), "%lld", json_is_integer(pid) ? json_integer_value(pid) : 0);
	dg->argv[argc++] = strdup("xdpslirp");
	dg->argv[argc++] = strdup("--netns");
	dg->argv[argc++] = strdup(json_is_string(netns) ? json_string_value(netns) : target);
	json_array_foreach(opts, i, o) {
		if (!json_is_string(o))
			return "\"options\" must be an array of at most 256 strings";
		dg->argv[argc++] = strdup(json_string_value(o));
	}
	for (i = 0; i < argc; i++)
		if (!dg->argv[i])
			return "out of memory";
	err = open_memstream(&text, &text_len);
	if (!err)
		return "out of memory";
	ret = config_parse(dg->cfg, (int)argc, dg->argv, err);
	fclose(err);
	if (ret) {
		/* "xdpslirp: what; see xdpslirp --help\n": the what */
		char *what = text && !strncmp(text, "xdpslirp: ", 10) ? text + 10 : text;

		snprintf(why, len, "%s", ret == CONFIG_EXIT_OK ? "--help and --version are no guest options" :
			 what && *what ? what : "bad options");
		why[strcspn(why, "\n")] = '\0';
		free(text);
		return why;
	}
	free(text);
	return option_not_for_guest(dg->cfg, d->defaults);
}

/* --- guests coming and going --- */

struct dguest *guest_find(struct daemon *d, const char *name)
{
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i] && !strcmp(d->guests[i]->name, name))
			return d->guests[i];
	return NULL;
}

/* Once the guest is set up (or failed to be), its options go. */
void guest_options_free(struct dguest *dg)
{
	for (char **a = dg->argv; a && *a; a++)
		free(*a);
	free(dg->argv);
	free(dg->cfg);
	dg->argv = NULL;
	dg->cfg = NULL;
}

/* Undoes guest_start(), however far it got, and frees @dg. */
void guest_free(struct dguest *dg)
{
	int ret = dg->g.e ? guest_remove(&dg->g) : 0;

	if (ret == -ETIMEDOUT) {	/* a worker may still use it: it stays */
		log_err("guest %s: a worker did not let go of it: its memory stays", dg->name);
		return;
	}
	if (ret)
		log_err("guest %s: frames were leaked or double-used: this is a bug, please report it",
			dg->name);
	control_fini(&dg->ctl);
	pcap_close(&dg->pcap);	/* its workers let go: what they held is written */
	nswatch_close(&dg->nsw);
	rules_fini(&dg->rules);
	plumb_teardown(&dg->gl);
	ns_close(&dg->ns);
	guest_options_free(dg);
	json_decref(dg->spec);
	free(dg);
}

/* The host end of the guest's link: xsl<pid>-<n>, known to the reaper. */
static int guest_link_name(struct daemon *d, struct dguest *dg, unsigned n)
{
	snprintf(dg->gl.host_ifname, sizeof(dg->gl.host_ifname), "xsl%d-%u", (int)getpid(), n);
	if (!d->reaped[n] && reaper_add_link(&d->reaper, dg->gl.host_ifname))
		return -EIO;
	d->reaped[n] = true;
	return 0;
}

/* --peer-group NAME as the engine knows it: a hash, never 0. */
static uint32_t group_id(const char *name)
{
	uint32_t h = 0x811c9dc5u;

	for (; name && *name; name++)
		h = (h ^ (unsigned char)*name) * 0x01000193u;
	return name ? h | 1 : 0;
}

/* Another guest of @dg's group that has one of @cfg's addresses, or NULL:
 * the engine could not tell which of the two a frame is for. */
static const struct dguest *group_address_taken(const struct daemon *d, const struct dguest *dg,
						const struct config *cfg)
{
	struct inany a6;

	config_guest_addr6(cfg, &a6);
	for (unsigned i = 0; dg->group && i < GUESTS_MAX; i++) {
		const struct dguest *o = d->guests[i];

		if (o && o->group == dg->group &&
		    (o->gw.guest_addr == config_guest_addr(cfg) ||
		     (o->gw.ipv6 && !cfg->disable_ipv6 && inany_equal(&o->gw.guest6, &a6))))
			return o;
	}
	return NULL;
}

/* --block-host-networks: the host's networks into @dg's rules, and kept
 * current (one monitor for every guest that asks); 0 or negative errno. */
static int guest_policy_start(struct daemon *d, struct dguest *dg, const struct config *cfg)
{
	int ret;

	dg->block_host_networks = cfg->block_host_networks;
	if (!dg->block_host_networks)
		return 0;
	if (!d->hostnets.mon.sock) {
		ret = hostnets_open(&d->hostnets);
		if (!ret)
			ret = epoll_watch(d->epfd, hostnets_fd(&d->hostnets), TAG_HOSTNETS);
		if (ret) {
			hostnets_close(&d->hostnets);
			return ret;
		}
	}
	return hostnets_refresh(&d->hostnets, (struct rule_set *[]){ &dg->rules }, 1);
}

/* The host's networks changed: every guest that blocks them, anew. */
void guests_hostnets_changed(struct daemon *d)
{
	struct rule_set *sets[GUESTS_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i] && d->guests[i]->block_host_networks)
			sets[n++] = &d->guests[i]->rules;
	hostnets_refresh(&d->hostnets, sets, n);
}

/* The guest's link, a veth pair or (--backend tap) a tap in its namespace;
 * NULL, or why not. */
static const char *guest_link_start(struct daemon *d, struct dguest *dg, unsigned n)
{
	struct config *cfg = dg->cfg;
	uint32_t mtu;

	dg->ns.netns_fd = netns_open(cfg->netns);
	if (dg->ns.netns_fd < 0 || guest_userns(cfg, &dg->ns))
		return "cannot open the guest's network namespace";
	if (choose_mtu(cfg, dg->backend == BACKEND_TAP || d->multibuffer, &mtu))
		return "--mtu is more than this kernel supports";
	if (dg->backend == BACKEND_XDP && guest_link_name(d, dg, n))
		return "cannot tell the reaper about the guest's link";
	if (guest_link_setup(&dg->gl, cfg, &dg->ns, dg->backend, d->multibuffer, mtu))
		return "cannot make the guest's link (see the daemon's log)";
	if (dg->gl.ntap && dg->gl.ntap != d->queues)
		return "the tap has fewer queues than the daemon has workers";
	/* a tap holds its namespace: what named it tells when it ends */
	if (dg->gl.ntap && (nswatch_open(&dg->nsw, cfg->netns) ||
			    epoll_watch(d->epfd, dg->nsw.fd, TAG_NETNS + n)))
		return "cannot watch the guest's namespace";
	return NULL;
}

/* Serves guest @dg as its config says; NULL, or why not (logged by what failed). */
const char *guest_start(struct daemon *d, struct dguest *dg, unsigned n, char *why, size_t len)
{
	struct config *cfg = dg->cfg;
	const struct dguest *taken;
	struct guest_params gp;
	const char *fail;

	cfg->queues = d->queues;
	dg->group = group_id(cfg->peer_group);
	dg->backend = cfg->backend == CFG_BACKEND_TAP ? BACKEND_TAP : BACKEND_XDP;
	taken = group_address_taken(d, dg, cfg);
	if (taken) {
		snprintf(why, len, "guest %s of --peer-group %s has that address", taken->name,
			 cfg->peer_group);
		return why;
	}
	fail = guest_link_start(d, dg, n);
	if (fail)
		return fail;
	dg->gw.seen = &dg->seen;
	gateway_setup(&dg->gw, cfg, &dg->gl.host);
	if (rules_init(&dg->rules, cfg))
		return "out of memory";
	if (guest_policy_start(d, dg, cfg))
		return "--block-host-networks: cannot read the host's networks";
	if (cfg->pcap && (pcap_open(&dg->pcap, cfg->pcap, (uint64_t)cfg->pcap_size_mb << 20,
				    d->queues) ||
			  epoll_watch(d->epfd, dg->pcap.wake_fd, TAG_PCAP + n)))
		return "--pcap: cannot open the capture file (see the daemon's log)";
	dg->gw.policy = dg->rules.current;
	guest_params_fill(&gp, cfg, &dg->gl, dg->backend, d->multibuffer, &dg->gw,
			  cfg->pcap ? &dg->pcap : NULL);
	gp.peer_group = dg->group;
	gp.small_umem = true;
	if (guest_open(&d->e, &dg->g, &gp))
		return "the engine cannot serve the guest (see the daemon's log)";
	dg->rules.g = &dg->g;
	if (control_init(&dg->ctl, &dg->g, &dg->gw, d->epfd, NULL))
		return "out of memory";
	dg->ctl.egress = &dg->rules;
	dg->ctl.sandbox = d->sandbox.seccomp_workers ? &d->sandbox : NULL;	/* else --no-sandbox */
	dg->ctl.pcap = cfg->pcap ? &dg->pcap : NULL;
	if (control_publish_config(&dg->ctl, cfg, why, len))
		return why;
	ns_close(&dg->ns);	/* its link tells when it ends */
	log_info("guest %s:", dg->name);
	gateway_log_serving(&dg->gl, &dg->gw, cfg, dg->backend);
	return NULL;
}

/* What the guest was given: its MAC, MTU and, per family, its address,
 * gateway and DNS (what a CNI plugin reports). */
json_t *guest_addresses(const struct dguest *dg)
{
	const struct gateway *gw = &dg->gw;
	char a[INET6_ADDRSTRLEN + 4], g[INET6_ADDRSTRLEN], n[INET6_ADDRSTRLEN];
	char mac[18];
	const uint8_t *m = dg->gl.guest_mac;
	json_t *out;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	inet_ntop(AF_INET, &gw->guest_addr, g, sizeof(g));
	snprintf(a, sizeof(a), "%s/%d", g, __builtin_popcount(gw->netmask));
	inet_ntop(AF_INET, &gw->gw_addr, g, sizeof(g));
	inet_ntop(AF_INET, &gw->dns_addr, n, sizeof(n));
	out = json_pack("{s:s,s:i,s:{s:s,s:s,s:s}}", "mac", mac, "mtu", (int)gw->mtu,
			"ipv4", "address", a, "gateway", g, "dns", n);
	if (out && gw->ipv6) {
		inany_ntop(&gw->guest6, g, sizeof(g));
		snprintf(a, sizeof(a), "%s/64", g);
		inany_ntop(&gw->gw6, g, sizeof(g));
		inany_ntop(&gw->dns6, n, sizeof(n));
		json_object_set_new(out, "ipv6", json_pack("{s:s,s:s,s:s}", "address", a,
							   "gateway", g, "dns", n));
	}
	return out;
}

/* The guest's flows over every worker (relaxed reads of their counts). */
unsigned guest_flows(const struct dguest *dg)
{
	unsigned n = 0;

	for (unsigned q = 0; q < dg->g.e->nworkers; q++) {
		struct engine_stats st;

		engine_worker_stats(&dg->g, q, &st);
		n += st.flows;
	}
	return n;
}
