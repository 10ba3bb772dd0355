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
 * guest's link if the daemon dies however it dies.  A guest's own set-up
 * and end are daemon_guest.c's.  The standalone gateway's sandbox does not
 * fit a daemon that opens namespaces named after it started: it keeps the
 * capabilities that takes and no other, and its workers, which read the
 * guests' frames, run under the seccomp filter (sandbox.c).
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

#include "daemon.h"
#include "daemon_int.h"
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
#include "sandbox.h"
#include "steer.h"
#include "xsk.h"

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
"  --no-sandbox        keep every capability, and run the workers without the\n"
"                      seccomp filter\n"
"  --seccomp-log       a worker's system call outside the filter's list is\n"
"                      logged by the kernel, not fatal\n"
"  -h, --help          this help\n"
"\n"
"add_guest arguments: {\"name\": NAME, \"netns\": PATH | \"pid\": PID,\n"
"                      \"options\": [OPTION, ...]} where OPTIONs are xdpslirp's\n"
"                      own per-guest options (--cidr, --mtu, -p, --allow, ...).\n";

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
	fail = guest_parse(d, dg, args, why, sizeof(why));
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
	bool no_sandbox, seccomp_log;
};

static int parse_opts(struct daemon_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 'a' },
		{ "state-file", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "no-sandbox", no_argument, NULL, 'n' },
		{ "seccomp-log", no_argument, NULL, 'l' },
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
		case 'n':
			o->no_sandbox = true;
			break;
		case 'l':
			o->seccomp_log = true;
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
	struct engine_params ep = { .queues = d->queues,
				    .poll = (enum poll_mode)d->defaults->poll_mode,
				    .spin_us = d->defaults->spin_us,
				    .worker_seccomp = !o->no_sandbox,
				    .seccomp_log = o->seccomp_log };
	int ret;

	if (!o->no_sandbox) {
		ret = sandbox_daemon(&d->sandbox);
		if (ret)
			return ret;
		d->sandbox.seccomp_workers = true;
	}

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
	static struct config defaults;	/* large: not on the stack */
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
	d->defaults = &defaults;
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
