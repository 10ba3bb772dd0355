// SPDX-License-Identifier: MIT
/*
 * daemon.c - xdpslirp daemon: one engine serving many guests, which come
 * and go through the API.
 *
 * Theory of operation: "xdpslirp daemon --api-socket PATH" starts the
 * workers (one per CPU, as the standalone gateway) with no guest, then
 * serves the API.  add_guest names a guest and its network namespace (a
 * path, or a process's pid) and takes the standalone gateway's own options
 * for the rest (addresses, MTU, forwards, egress rules), parsed by
 * config_parse() as if they were on a command line; the daemon then does
 * for that guest what main.c does for its one: a veth pair into the
 * namespace (host end xsl<pid>-<n>), the gateway, the rules, guest_open()
 * while the workers run, and the forwarded ports.  A request that names a
 * "guest" goes to that guest's control (control.c: forwards, rules, flows,
 * counters); remove_guest ends its flows, deletes its link and forgets it,
 * as does its link disappearing (its namespace ended).
 *
 * With --state-file, every guest's add_guest arguments are kept there
 * (written to a temporary file, then renamed, at each change) and read
 * back at start: a restarted daemon serves the same guests again.
 *
 * One reaper (netns.c), started before anything else, deletes every
 * guest's link if the daemon dies however it dies.  The daemon runs
 * without the standalone gateway's sandbox: it opens namespaces named
 * after it started.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "engine.h"
#include "gateway_setup.h"
#include "guest_setup.h"
#include "hostnets.h"
#include "nswatch.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "process.h"
#include "rules.h"
#include "steer.h"
#include "xsk.h"

#define GUEST_NAME_MAX	32
#define GUEST_OPTS_MAX	256	/* add_guest's "options", at most */

/*
 * The standalone gateway's defaults (config_defaults()): what a guest's
 * options are compared with, and how the workers wait.  Static because it
 * is large; main thread only.
 */
static struct config defaults;

/* epoll tags of the daemon's own descriptors (control.h has the API's) */
/* epoll tags: the API's are CONTROL_TAG_*; a guest's capture is
 * TAG_PCAP + its link number, what named a tap guest's namespace
 * TAG_NETNS + the same */
enum { TAG_SIGNAL = 1, TAG_LINK, TAG_HOSTNETS, TAG_PCAP = 1 << 20, TAG_NETNS = 1 << 21 };

/* One guest: what main.c's run() holds for its one, and how it was asked for. */
struct dguest {
	char name[GUEST_NAME_MAX + 1];
	json_t *spec;			/* its add_guest arguments */
	/* its options and their config, while it is set up (the config
	 * points into them; large, so it is not kept) */
	char **argv;
	struct config *cfg;
	struct ns_target ns;
	struct guest_link gl;
	struct guest_seen seen;
	struct gateway gw;
	struct rule_set rules;
	struct control ctl;		/* its forwards and rules */
	struct guest g;
	uint32_t group;			/* --peer-group, hashed; 0: none */
	int backend;			/* BACKEND_XDP, or BACKEND_TAP */
	struct nswatch nsw;		/* a tap guest: what named its namespace */
	bool block_host_networks;
	struct pcap pcap;		/* --pcap: its own file */
};

struct daemon {
	struct engine e;
	struct control api;		/* the socket; requests go to guests */
	struct control_router router;
	struct reaper reaper;		/* deletes every guest's link at our end */
	bool reaped[GUESTS_MAX];	/* the reaper knows link xsl<pid>-<n> */
	struct dguest *guests[GUESTS_MAX];	/* by link number <n> */
	const char *state_path;
	bool multibuffer;
	unsigned queues;
	int epfd;
	int sfd;
	struct nl link_mon;
	struct hostnets hostnets;	/* opened for the first guest that asks */
};

static const char usage[] =
"Usage: xdpslirp daemon --api-socket PATH [OPTION]...\n"
"One engine for many guests, added and removed through the API.\n"
"\n"
"  --api-socket PATH   the API (required): add_guest, remove_guest, list_guests,\n"
"                      and every command of a gateway with \"guest\": NAME\n"
"  --state-file PATH   keep the guests there; a restarted daemon serves them again\n"
"  --queues N          workers, and queues of every guest's link (default: one\n"
"                      per CPU)\n"
"  --ready-fd FD       write \"1\" to FD once the API listens\n"
"  -h, --help          this help\n"
"\n"
"add_guest arguments: {\"name\": NAME, \"netns\": PATH | \"pid\": PID,\n"
"                      \"options\": [OPTION, ...]} where OPTIONs are xdpslirp's\n"
"                      own per-guest options (--cidr, --mtu, -p, --allow, ...).\n";

/* --- a guest's options --- */

/* Options a guest may not give: they are the daemon's, or not served yet. */
static const char *option_not_for_guest(const struct config *c)
{
	const struct config *def = &defaults;

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
static const char *guest_parse(struct dguest *dg, json_t *spec, char *why, size_t len)
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
	return option_not_for_guest(dg->cfg);
}

/* --- guests coming and going --- */

static struct dguest *guest_find(struct daemon *d, const char *name)
{
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i] && !strcmp(d->guests[i]->name, name))
			return d->guests[i];
	return NULL;
}

/* Once the guest is set up (or failed to be), its options go. */
static void guest_options_free(struct dguest *dg)
{
	for (char **a = dg->argv; a && *a; a++)
		free(*a);
	free(dg->argv);
	free(dg->cfg);
	dg->argv = NULL;
	dg->cfg = NULL;
}

/* Undoes guest_start(), however far it got, and frees @dg. */
static void guest_free(struct dguest *dg)
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
static void guests_hostnets_changed(struct daemon *d)
{
	struct rule_set *sets[GUESTS_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i] && d->guests[i]->block_host_networks)
			sets[n++] = &d->guests[i]->rules;
	hostnets_refresh(&d->hostnets, sets, n);
}

/* Serves guest @dg as its config says; NULL, or why not (logged by what failed). */
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
static const char *guest_start(struct daemon *d, struct dguest *dg, unsigned n, char *why,
			       size_t len)
{
	struct config *cfg = dg->cfg;
	struct guest_params gp;
	const char *fail;

	cfg->queues = d->queues;
	dg->group = group_id(cfg->peer_group);
	dg->backend = cfg->backend == CFG_BACKEND_TAP ? BACKEND_TAP : BACKEND_XDP;
	if (group_address_taken(d, dg, cfg)) {
		snprintf(why, len, "guest %s of --peer-group %s has that address",
			 group_address_taken(d, dg, cfg)->name, cfg->peer_group);
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
	if (guest_open(&d->e, &dg->g, &gp))
		return "the engine cannot serve the guest (see the daemon's log)";
	dg->rules.g = &dg->g;
	if (control_init(&dg->ctl, &dg->g, &dg->gw, d->epfd, NULL))
		return "out of memory";
	dg->ctl.egress = &dg->rules;
	dg->ctl.pcap = cfg->pcap ? &dg->pcap : NULL;
	if (control_publish_config(&dg->ctl, cfg, why, len))
		return why;
	ns_close(&dg->ns);	/* its link tells when it ends */
	log_info("guest %s:", dg->name);
	gateway_log_serving(&dg->gl, &dg->gw, cfg, dg->backend);
	return NULL;
}

/* --- the state file --- */

/* Writes every guest's add_guest arguments to the state file, atomically. */
static void state_save(const struct daemon *d)
{
	json_t *guests, *state;
	char tmp[4096];

	if (!d->state_path)
		return;
	guests = json_array();
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i])
			json_array_append(guests, d->guests[i]->spec);
	state = json_pack("{s:o}", "guests", guests);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_path);
	if (!state || json_dump_file(state, tmp, JSON_INDENT(1)) || rename(tmp, d->state_path))
		log_err("--state-file %s: cannot write it: %s", d->state_path, strerror(errno));
	json_decref(state);
}

/* --- the API --- */

/* A guest name: 1 to 32 of letters, digits, '.', '_' and '-'. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > GUEST_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* What the guest was given: its MAC, MTU and, per family, its address,
 * gateway and DNS (what a CNI plugin reports). */
static json_t *guest_addresses(const struct dguest *dg)
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

/* add_guest; also what the state file replays. */
static json_t *cmd_add_guest(struct daemon *d, json_t *args)
{
	json_t *name = json_object_get(args, "name");
	struct dguest *dg;
	const char *fail;
	char why[256];
	unsigned n = 0;

	if (!json_is_object(args) || !json_is_string(name) || !name_ok(json_string_value(name)))
		return control_bad_request("add_guest needs a \"name\": 1 to 32 letters, digits, '.', '_' or '-'");
	if (guest_find(d, json_string_value(name)))
		return control_bad_request("a guest of that name exists");
	while (n < GUESTS_MAX && d->guests[n])
		n++;
	if (n == GUESTS_MAX)
		return control_bad_request("too many guests");
	dg = calloc(1, sizeof(*dg));
	if (!dg)
		return control_bad_request("out of memory");
	snprintf(dg->name, sizeof(dg->name), "%s", json_string_value(name));
	dg->spec = json_deep_copy(args);
	dg->gl.stream_fd = -1;
	dg->ns.netns_fd = dg->ns.userns_fd = -1;
	dg->pcap.fd = dg->pcap.wake_fd = -1;
	dg->nsw.fd = -1;
	fail = guest_parse(dg, args, why, sizeof(why));
	if (!fail)
		fail = guest_start(d, dg, n, why, sizeof(why));
	guest_options_free(dg);
	if (fail) {
		json_t *answer = control_bad_request(fail);

		guest_free(dg);
		return answer;
	}
	d->guests[n] = dg;
	state_save(d);
	return json_pack("{s:{s:s,s:s,s:o}}", "return", "name", dg->name,
			 "host_ifname", dg->gl.host_ifname, "guest", guest_addresses(dg));
}

static void guest_drop(struct daemon *d, struct dguest *dg)
{
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i] == dg)
			d->guests[i] = NULL;
	log_info("guest %s: removed", dg->name);
	guest_free(dg);
	state_save(d);
}

static json_t *cmd_remove_guest(struct daemon *d, json_t *args)
{
	json_t *name = json_object_get(args, "name");
	struct dguest *dg = json_is_string(name) ? guest_find(d, json_string_value(name)) : NULL;

	if (!json_is_string(name))
		return control_bad_request("remove_guest needs the guest's \"name\"");
	if (!dg)
		return control_bad_request("no such guest");
	guest_drop(d, dg);
	return json_pack("{s:{}}", "return");
}

/* The guest's flows over every worker (relaxed reads of their counts). */
static unsigned guest_flows(const struct dguest *dg)
{
	unsigned n = 0;

	for (unsigned q = 0; q < dg->g.e->nworkers; q++) {
		struct engine_stats st;

		engine_worker_stats(&dg->g, q, &st);
		n += st.flows;
	}
	return n;
}

static json_t *cmd_list_guests(struct daemon *d)
{
	json_t *list = json_array();

	for (unsigned i = 0; i < GUESTS_MAX; i++) {
		const struct dguest *dg = d->guests[i];

		if (!dg)
			continue;
		json_array_append_new(list, json_pack("{s:s,s:s,s:o,s:i,s:O}", "name", dg->name,
			"host_ifname", dg->gl.host_ifname, "guest", guest_addresses(dg), "flows",
			(int)guest_flows(dg), "spec", dg->spec));
	}
	return json_pack("{s:{s:o}}", "return", "guests", list);
}

/*
 * The router of the API (struct control_router): the daemon's own
 * commands, else the control of the guest the request names.
 */
static json_t *daemon_execute(void *arg, const char *cmd, json_t *args, struct control **to)
{
	struct daemon *d = arg;
	json_t *guest = json_object_get(args, "guest");
	struct dguest *dg;

	if (!strcmp(cmd, "add_guest"))
		return cmd_add_guest(d, args);
	if (!strcmp(cmd, "remove_guest"))
		return cmd_remove_guest(d, args);
	if (!strcmp(cmd, "list_guests"))
		return cmd_list_guests(d);
	if (!json_is_string(guest))
		return control_bad_request("name the guest: \"arguments\": {\"guest\": NAME, ...} (list_guests lists them)");
	dg = guest_find(d, json_string_value(guest));
	if (!dg)
		return control_bad_request("no such guest");
	*to = &dg->ctl;
	return NULL;
}

/* Guests whose link is gone (their namespace ended) are removed. */
static void guests_check_links(struct daemon *d)
{
	char name[IF_NAMESIZE];

	nl_link_deleted(&d->link_mon, 0);	/* drain: which is gone, we ask */
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i] && !d->guests[i]->gl.ntap &&
		    !if_indextoname((unsigned)d->guests[i]->gl.host.ifindex, name)) {
			log_info("guest %s: its link is gone (its namespace ended)", d->guests[i]->name);
			guest_drop(d, d->guests[i]);
		}
}

/* What named tap guest number @n's namespace changed: gone, or not yet. */
static void guest_netns_event(struct daemon *d, unsigned n)
{
	struct dguest *dg = d->guests[n];

	if (!dg || !dg->gl.ntap || !nswatch_gone(&dg->nsw))
		return;		/* a late event, or another file of its directory */
	log_info("guest %s: its namespace ended", dg->name);
	guest_drop(d, dg);
}

/* The state file's guests, served again; those that fail are logged and dropped. */
static void state_load(struct daemon *d)
{
	json_error_t err;
	json_t *state, *guests, *spec;
	size_t i;

	if (!d->state_path || access(d->state_path, F_OK))
		return;
	state = json_load_file(d->state_path, 0, &err);
	guests = json_object_get(state, "guests");
	if (!json_is_array(guests))
		log_err("--state-file %s: not a state file (%s): starting without guests",
			d->state_path, state ? "no \"guests\"" : err.text);
	json_array_foreach(guests, i, spec) {
		json_t *answer = cmd_add_guest(d, spec);
		json_t *e = json_object_get(json_object_get(answer, "error"), "desc");

		if (e)
			log_err("--state-file: guest %s not served again: %s",
				json_string_value(json_object_get(spec, "name")), json_string_value(e));
		json_decref(answer);
	}
	json_decref(state);
	state_save(d);
}

/* --- the daemon's life --- */

struct daemon_opts {
	const char *api_socket, *state_file;
	unsigned queues;
	int ready_fd;
};

static int parse_opts(struct daemon_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 'a' },
		{ "state-file", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;
	char *end;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		long v = optarg ? strtol(optarg, &end, 10) : 0;
		bool num_ok = optarg && *optarg && !*end;

		switch (opt) {
		case 'a':
			o->api_socket = optarg;
			break;
		case 's':
			o->state_file = optarg;
			break;
		case 'q':
			if (!num_ok || v < 1 || v > STEER_MAX_WORKERS) {
				fprintf(stderr, "xdpslirp daemon: --queues takes 1 to %d\n", STEER_MAX_WORKERS);
				return -EINVAL;
			}
			o->queues = (unsigned)v;
			break;
		case 'r':
			if (!num_ok || v < 0 || v > INT32_MAX) {
				fprintf(stderr, "xdpslirp daemon: --ready-fd takes a descriptor number\n");
				return -EINVAL;
			}
			o->ready_fd = (int)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			fprintf(stderr, "xdpslirp daemon: %s needs a value\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "xdpslirp daemon: unknown option '%s'; see xdpslirp daemon --help\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xdpslirp daemon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->api_socket) {
		fprintf(stderr, "xdpslirp daemon: give --api-socket PATH: guests are added through it\n");
		return -EINVAL;
	}
	return 0;
}

/* Until SIGINT, SIGTERM or SIGHUP: the API, guests' links, SIGUSR1. */
static void daemon_serve(struct daemon *d)
{
	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(d->epfd, ev, 16, control_expire(&d->api));

		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			uint64_t tag = ev[i].data.u64;

			if (tag == TAG_LINK) {
				guests_check_links(d);
			} else if (tag == TAG_HOSTNETS) {
				guests_hostnets_changed(d);
			} else if (tag >= TAG_NETNS && tag < TAG_NETNS + GUESTS_MAX) {
				guest_netns_event(d, (unsigned)(tag - TAG_NETNS));
			} else if (tag >= TAG_PCAP && tag < TAG_PCAP + GUESTS_MAX) {
				if (d->guests[tag - TAG_PCAP])
					pcap_drain(&d->guests[tag - TAG_PCAP]->pcap);
			} else if (tag != TAG_SIGNAL) {
				control_event(&d->api, ev[i].data.u64);
			} else if (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					engine_print_counters(&d->e, stderr);
				else if (si.ssi_signo != SIGCHLD)
					return;
			}
		}
	}
}

/* Starts the workers and the API; 0 or negative errno (logged). */
static int daemon_start(struct daemon *d, const struct daemon_opts *o)
{
	struct engine_params ep = { .queues = d->queues, .poll = (enum poll_mode)defaults.poll_mode,
				    .spin_us = defaults.spin_us };
	int ret;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0 || epoll_watch(d->epfd, d->sfd, TAG_SIGNAL))
		return -errno;
	ret = nl_open_link_monitor(&d->link_mon);
	if (ret || epoll_watch(d->epfd, nl_fd(&d->link_mon), TAG_LINK))
		log_warn("cannot watch the guests' links: %s", strerror(ret ? -ret : errno));
	ret = engine_open(&d->e, &ep) ?: engine_start(&d->e);
	if (ret)
		return ret;
	ret = control_init(&d->api, NULL, NULL, d->epfd, o->api_socket);
	if (ret)
		return ret;
	reaper_add_path(&d->reaper, o->api_socket);
	d->router = (struct control_router){ .execute = daemon_execute, .arg = d };
	d->api.router = &d->router;
	return 0;
}

/**
 * daemon_main() - xdpslirp daemon
 * @argc: arguments after "xdpslirp"
 * @argv: "daemon", then its options
 *
 * Return: the exit status.
 */
int daemon_main(int argc, char **argv)
{
	struct daemon_opts o = { .ready_fd = -1 };
	struct daemon *d;
	int ret, status = 1;

	ret = parse_opts(&o, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 2;
	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	/* tables a guest may never fill (forwards, rules, fragments) come
	 * from mmap, as zero pages until used: a fixed threshold keeps glibc
	 * from raising it when a large block is freed, which would put the
	 * next guest's tables on the heap, cleared and resident */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	config_defaults(&defaults);
	d->state_path = o.state_file;
	d->queues = o.queues ? o.queues : default_queues();
	d->multibuffer = xsk_probe_multibuffer() > 0;
	d->api.listen_fd = -1;
	d->epfd = -1;
	raise_fd_limit();
	d->sfd = block_signals();
	if (d->sfd < 0 || reaper_start(&d->reaper)) {
		log_err("cannot set up signals and the reaper: %s", strerror(errno));
		goto out;
	}
	if (daemon_start(d, &o)) {
		log_err("cannot start the daemon");
		goto stop;
	}
	state_load(d);
	log_info("daemon: %u workers, API on %s", d->queues, o.api_socket);
	signal_ready(o.ready_fd);
	daemon_serve(d);
	status = 0;
stop:
	control_fini(&d->api);
	for (unsigned i = 0; i < GUESTS_MAX; i++)
		if (d->guests[i]) {
			guest_free(d->guests[i]);	/* the state file keeps them */
			d->guests[i] = NULL;
		}
	if (engine_stop(&d->e))
		status = 1;
out:
	reaper_stop(&d->reaper);	/* the API's socket file goes */
	nl_close(&d->link_mon);
	hostnets_close(&d->hostnets);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sfd >= 0)
		close(d->sfd);
	free(d);
	return status;
}
