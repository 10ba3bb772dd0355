// SPDX-License-Identifier: MIT
/*
 * control.c - forwarded ports and the control API, in the main thread.
 *
 * Theory of operation: the main thread owns the list of forwarded ports.
 * Adding one opens its host socket here (so "port taken" is an answer, not
 * a log line), then hands the socket to the engine (engine_forward_add());
 * removing one asks the engine to close it.  The workers never wait for
 * the main thread, and the main thread never touches their state.
 *
 * The API speaks slirp4netns's protocol on a Unix stream socket: one JSON
 * request per connection, one JSON answer, then the connection closes.
 * Requests are read without blocking, bounded in size (API_MAX_REQUEST) and
 * in time (API_TIMEOUT_MS), from at most API_MAX_CLIENTS clients at once; a
 * request that is not valid JSON, or not a known command with arguments of
 * the right types and ranges, gets {"error":{"desc":"bad request: ..."}}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <cap-ng.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "sandbox.h"
#include "capture.h"
#include "hostaddr.h"
#include "ipv6.h"
#include "hostsock.h"
#include "log.h"
#include "rules.h"

static const char *flow_state_name(uint8_t state)
{
	static const char *const names[] = {
		[FLOW_CONNECTING] = "connecting", [FLOW_SYN_ACK_SENT] = "syn_ack_sent",
		[FLOW_SYN_SENT] = "syn_sent", [FLOW_ESTABLISHED] = "established",
		[FLOW_FREE] = "free",
	};

	return state <= FLOW_FREE ? names[state] : "?";
}

#define API_MAX_REQUEST	65536
#define API_TIMEOUT_MS	5000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/**
 * control_publish() - forward a host port to the guest
 * @c: control state
 * @r: the rule (its id is assigned here)
 * @why: set to what went wrong, for the caller's message
 *
 * Return: the new id, or negative errno.
 */
int control_publish(struct control *c, struct fwd_rule *r, const char **why)
{
	int fd;

	for (unsigned i = 0; i < c->n; i++)
		if (c->rules[i].proto == r->proto && c->rules[i].host_port == r->host_port &&
		    fwd_addrs_overlap(&c->rules[i].host_addr, &r->host_addr)) {
			*why = "the host port is already forwarded";
			return -EADDRINUSE;
		}
	if (c->n == FWD_MAX) {
		*why = "too many forwarded ports";
		return -ENOSPC;
	}
	fd = hostsock_listen(r);
	if (fd < 0) {
		*why = fd == -EADDRINUSE ? "the host port is in use" : strerror(-fd);
		return fd;
	}
	r->id = c->next_id++;
	if (engine_forward_add(c->g, r, fd)) {
		*why = "the engine cannot take it";
		return -EIO;
	}
	c->rules[c->n++] = *r;
	return (int)r->id;
}

/**
 * control_publish_config() - forward the ports a configuration's -p names
 * @c: control state
 * @cfg: the configuration
 * @why: set to which rule failed and why
 * @len: room in @why
 *
 * Return: 0, or negative errno.
 */
int control_publish_config(struct control *c, const struct config *cfg, char *why, size_t len)
{
	for (unsigned i = 0; i < cfg->n_publish; i++) {
		struct fwd_rule r = cfg->publish[i];
		const char *what = NULL;
		char a[INET6_ADDRSTRLEN];
		int ret = control_publish(c, &r, &what);

		if (ret < 0) {
			inany_ntop(&r.host_addr, a, sizeof(a));
			snprintf(why, len, "--publish %s:%u/%s: %s", a, r.host_port,
				 fwd_proto_name(r.proto), what);
			return ret;
		}
	}
	return 0;
}

/* Stops forwarding rule @id; -ENOENT if there is none. */
static int control_unpublish(struct control *c, uint32_t id)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->rules[i].id != id)
			continue;
		engine_forward_remove(c->g, &c->rules[i]);
		c->rules[i] = c->rules[--c->n];
		return 0;
	}
	return -ENOENT;
}

json_t *control_bad_request(const char *what)
{
	char desc[256];

	snprintf(desc, sizeof(desc), "bad request: %s", what);
	return json_pack("{s:{s:s}}", "error", "desc", desc);
}

/*
 * An optional address argument of either family; false if present but not
 * one.  An empty string is as good as none (Podman sends "guest_addr": "").
 */
static bool arg_addr(json_t *args, const char *name, struct inany *out)
{
	json_t *v = json_object_get(args, name);

	if (!v || (json_is_string(v) && !*json_string_value(v)))
		return true;
	return json_is_string(v) && fwd_addr_parse(json_string_value(v), out);
}

/* A guest address the API may name: the guest's IPv4 network or IPv6 prefix. */
static bool guest_addr_ok(const struct gateway *gw, const struct inany *a)
{
	if (fwd_addr_unset(a))
		return true;
	if (inany_is_v4(a))
		return (inany_v4(a) & gw->netmask) == (gw->guest_addr & gw->netmask);
	return gw->ipv6 && ipv6_in_prefix(gw, a) && inany_is_unicast(a);
}

/* A required port argument, 1..65535. */
static bool arg_port(json_t *args, const char *name, uint16_t *out)
{
	json_t *v = json_object_get(args, name);

	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return false;
	*out = (uint16_t)json_integer_value(v);
	return true;
}

static json_t *cmd_add_hostfwd(struct control *c, json_t *args)
{
	struct fwd_rule r = { 0 };
	json_t *proto = json_object_get(args, "proto");
	const char *why = NULL;
	int id;

	if (!json_is_object(args))
		return control_bad_request("add_hostfwd needs \"arguments\"");
	if (!json_is_string(proto) ||
	    (strcmp(json_string_value(proto), "tcp") && strcmp(json_string_value(proto), "udp")))
		return control_bad_request("\"proto\" must be \"tcp\" or \"udp\"");
	r.proto = strcmp(json_string_value(proto), "tcp") ? IPPROTO_UDP : IPPROTO_TCP;
	inany_from_v4(&r.host_addr, INADDR_ANY);
	if (!arg_addr(args, "host_addr", &r.host_addr))
		return control_bad_request("\"host_addr\" must be an IPv4 or IPv6 address");
	if (!arg_addr(args, "guest_addr", &r.guest_addr) || !guest_addr_ok(c->gw, &r.guest_addr))
		return control_bad_request("\"guest_addr\" must be an address in the guest's IPv4 network or IPv6 prefix");
	/* a client of the other family appears as the gateway (its address
	 * cannot be carried): TCP answers it on its own socket, UDP could not */
	if (r.proto == IPPROTO_UDP && !fwd_addr_unset(&r.guest_addr) &&
	    (inany_is_v4(&r.guest_addr) != inany_is_v4(&r.host_addr) ||
	     (!inany_is_v4(&r.host_addr) && fwd_addr_is_any(&r.host_addr))))
		return control_bad_request("for udp, \"guest_addr\" must be of the family of \"host_addr\" (\"::\" takes clients of both)");
	if (!arg_port(args, "host_port", &r.host_port) ||
	    !arg_port(args, "guest_port", &r.guest_port))
		return control_bad_request("\"host_port\" and \"guest_port\" must be integers from 1 to 65535");
	id = control_publish(c, &r, &why);
	if (id < 0)
		return control_bad_request(why);
	return json_pack("{s:{s:i}}", "return", "id", id);
}

/*
 * A rule as list_hostfwd shows it; its guest_addr, when the rule names
 * none, is the one its host address's clients reach (slirp4netns's answer
 * for IPv4 rules, byte for byte).
 */
static json_t *rule_json(const struct gateway *gw, const struct fwd_rule *r)
{
	char h[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	union sockaddr_inany client = { .sa.sa_family = inany_is_v4(&r->host_addr) ? AF_INET :
							 AF_INET6 };
	struct inany guest;

	hostaddr_fwd_target(gw, r, &client, gw->seen, &guest);
	inany_ntop(&r->host_addr, h, sizeof(h));
	inany_ntop(&guest, g, sizeof(g));
	return json_pack("{s:i,s:s,s:s,s:i,s:s,s:i}", "id", (int)r->id,
			 "proto", fwd_proto_name(r->proto), "host_addr", h,
			 "host_port", r->host_port, "guest_addr", g, "guest_port", r->guest_port);
}

static json_t *cmd_list_hostfwd(struct control *c)
{
	json_t *entries = json_array();

	for (unsigned i = 0; i < c->n; i++)
		json_array_append_new(entries, rule_json(c->gw, &c->rules[i]));
	return json_pack("{s:o}", "entries", entries);
}

static json_t *cmd_remove_hostfwd(struct control *c, json_t *args)
{
	json_t *id = json_object_get(args, "id");

	if (!json_is_integer(id) || json_integer_value(id) < 1 ||
	    json_integer_value(id) > UINT32_MAX)
		return control_bad_request("remove_hostfwd needs an integer \"id\"");
	if (control_unpublish(c, (uint32_t)json_integer_value(id)))
		return control_bad_request("no such forward");
	return json_pack("{s:{}}", "return");
}

/*
 * The rules with their hits (list_rules' answer) and what the XDP program
 * refused on its own; the workers' policy drops are in their "dropped".
 */
static json_t *policy_json(struct control *c)
{
	json_t *o = c->egress ? rules_list_json(c->egress) : json_object();
	uint64_t xdp[XDP_CNT_MAX];

	if (c->g->prog.skel) {
		xdp_prog_counters(&c->g->prog, xdp);
		json_object_set_new(o, "xdp", json_pack("{s:I,s:I,s:I,s:I}",
			"denied", (json_int_t)xdp[XDP_CNT_POLICY_DENIED],
			"blocked", (json_int_t)xdp[XDP_CNT_POLICY_BLOCKED],
			"passed_on_to_answer", (json_int_t)xdp[XDP_CNT_POLICY_NOTICE],
			"default_deny", (json_int_t)engine_xdp_rule_drops(c->g, XDP_POLICY_DEFAULT)));
	}
	return o;
}

/* What the sandbox did: namespaces, seccomp (the whole process, or just the
 * daemon's workers), uid, capabilities by name. */
static json_t *sandbox_json(const struct sandbox_state *st)
{
	json_t *caps;

	if (!st)
		return json_pack("{s:b,s:b,s:b}", "namespaces", 0, "seccomp", 0,
				 "seccomp_workers", 0);
	caps = json_array();
	for (unsigned c = 0; c < 64; c++)
		if (st->caps & (1ull << c))
			json_array_append_new(caps, json_string(capng_capability_to_name(c)));
	return json_pack("{s:b,s:b,s:b,s:b,s:i,s:o}", "namespaces", st->namespaces,
			 "seccomp", st->seccomp, "seccomp_workers", st->seccomp || st->seccomp_workers,
			 "own_user_namespace", st->own_userns, "uid", (int)st->uid,
			 "capabilities", caps);
}

/* The capture's state; main thread (frames: relaxed reads of the workers'). */
static json_t *capture_json(const struct pcap *p)
{
	json_int_t frames = 0, dropped = 0;

	if (!p)
		return json_pack("{s:b}", "enabled", 0);
	for (unsigned q = 0; q < p->nworkers; q++) {
		frames += (json_int_t)__atomic_load_n(&p->workers[q].frames, __ATOMIC_RELAXED);
		dropped += (json_int_t)__atomic_load_n(&p->workers[q].dropped, __ATOMIC_RELAXED);
	}
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I}", "enabled",
			 __atomic_load_n(&p->enabled, __ATOMIC_RELAXED), "frames", frames,
			 "dropped_no_room", dropped, "written", (json_int_t)p->written,
			 "file_bytes", (json_int_t)p->size, "halvings", (json_int_t)p->halvings);
}

static json_t *cmd_get_stats(struct control *c)
{
	json_t *workers = json_array();

	for (unsigned q = 0; q < c->g->e->nworkers; q++) {
		struct engine_stats st;
		json_t *drops = json_object();

		engine_worker_stats(c->g, q, &st);
		for (int d = 0; d < DROP_MAX; d++)
			if (st.cnt.drop[d])
				json_object_set_new(drops, drop_reason_name(d),
						    json_integer((json_int_t)st.cnt.drop[d]));
		json_array_append_new(workers, json_pack(
			"{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:{s:i,s:i,s:i}}",
			"queue", (int)q, "rx_frames", (json_int_t)st.cnt.rx_frames,
			"rx_bytes", (json_int_t)st.cnt.rx_bytes,
			"tx_frames", (json_int_t)st.cnt.tx_frames,
			"tx_bytes", (json_int_t)st.cnt.tx_bytes,
			"evicted", (json_int_t)st.cnt.evicted,
			"handed_off", (json_int_t)st.cnt.handed_off,
			"tcp_fast_retransmits", (json_int_t)st.cnt.tcp_fast_retransmits,
			"switched", (json_int_t)st.cnt.switched,
			"dropped", drops,
			"flows", "tcp", (int)(st.flows - st.datagram),
			"tcp_half_open", (int)st.half_open, "datagram", (int)st.datagram));
	}
	return json_pack("{s:{s:o,s:o,s:o,s:o}}", "return", "workers", workers,
			 "policy", policy_json(c), "sandbox", sandbox_json(c->sandbox),
			 "capture", capture_json(c->pcap));
}

/* start_capture, stop_capture: --pcap's file only (the sandbox opens no other). */
static json_t *cmd_capture(struct control *c, bool on)
{
	if (!c->pcap || c->pcap->fd < 0)
		return control_bad_request("no capture file: start xdpslirp with --pcap FILE");
	pcap_enable(c->pcap, on);
	return json_pack("{s:o}", "return", capture_json(c->pcap));
}

static json_t *cmd_list_flows(struct control *c)
{
	static struct flow_info info[API_MAX_FLOWS];	/* main thread only */
	unsigned n = engine_list_flows(c->g, info, API_MAX_FLOWS);
	json_t *flows = json_array();

	for (unsigned i = 0; i < n; i++) {
		char g[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

		inany_ntop(&info[i].guest_addr, g, sizeof(g));
		inany_ntop(&info[i].remote_addr, r, sizeof(r));
		json_array_append_new(flows, json_pack(
			"{s:i,s:s,s:s,s:s,s:i,s:s,s:i,s:s}", "queue", (int)info[i].queue,
			"family", inany_is_v4(&info[i].guest_addr) ? "ipv4" : "ipv6",
			"proto", info[i].proto == IPPROTO_TCP ? "tcp" :
				 info[i].proto == IPPROTO_UDP ? "udp" :
				 info[i].proto == IPPROTO_ICMPV6 ? "icmpv6" : "icmp",
			"guest_addr", g, "guest_port", ntohs(info[i].guest_port),
			"remote_addr", r, "remote_port", ntohs(info[i].remote_port),
			"state", flow_state_name(info[i].state)));
	}
	return json_pack("{s:{s:o}}", "return", "flows", flows);
}

/* Answers one parsed request (a daemon's router may pass it to a guest's
 * control). */
static json_t *control_execute(struct control *c, json_t *req)
{
	json_t *exec = json_object_get(req, "execute");
	json_t *args = json_object_get(req, "arguments");
	const char *cmd;

	if (!json_is_object(req) || !json_is_string(exec))
		return control_bad_request("expected {\"execute\": COMMAND, \"arguments\": {...}}");
	cmd = json_string_value(exec);
	if (c->router) {
		json_t *answer = c->router->execute(c->router->arg, cmd, args, &c);

		if (answer)
			return answer;
	}
	if (!strcmp(cmd, "add_hostfwd"))
		return cmd_add_hostfwd(c, args);
	if (!strcmp(cmd, "list_hostfwd"))
		return cmd_list_hostfwd(c);
	if (!strcmp(cmd, "remove_hostfwd"))
		return cmd_remove_hostfwd(c, args);
	if (!strcmp(cmd, "get_stats"))
		return cmd_get_stats(c);
	if (!strcmp(cmd, "list_flows"))
		return cmd_list_flows(c);
	if (!strcmp(cmd, "start_capture") || !strcmp(cmd, "stop_capture"))
		return cmd_capture(c, cmd[2] == 'a');
	if (c->egress) {
		const char *why;
		json_t *answer = rules_api(c->egress, cmd, args, &why);

		if (answer || why)
			return answer ? answer : control_bad_request(why);
	}
	return control_bad_request("unknown command");
}

static void client_close(struct control *c, struct api_client *cl)
{
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

/* Sends @answer (consumed) and closes the connection. */
static void client_answer(struct control *c, struct api_client *cl, json_t *answer)
{
	char *text = json_dumps(answer, JSON_COMPACT);

	if (text) {
		size_t len = strlen(text);

		/* answers are small: the socket buffer takes them whole */
		if (send(cl->fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
			log_debug("api: answer not delivered: %s", strerror(errno));
		free(text);
	}
	json_decref(answer);
	client_close(c, cl);
}

/* Reads what a client sent; answers once a whole JSON value is in. */
static void client_read(struct control *c, struct api_client *cl)
{
	json_error_t err;
	json_t *req;
	ssize_t n;

	n = recv(cl->fd, cl->buf + cl->len, API_MAX_REQUEST - cl->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 && !cl->len) {
		client_close(c, cl);	/* gone without a word */
		return;
	}
	cl->len += n > 0 ? (size_t)n : 0;
	req = json_loadb(cl->buf, cl->len, 0, &err);
	if (req) {
		client_answer(c, cl, control_execute(c, req));
		json_decref(req);
		return;
	}
	if (json_error_code(&err) == json_error_premature_end_of_input && n > 0 &&
	    cl->len < API_MAX_REQUEST)
		return;		/* more to come */
	client_answer(c, cl, control_bad_request(cl->len >= API_MAX_REQUEST ? "request too large" :
					 "not valid JSON"));
}

static void control_accept(struct control *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct api_client *cl = NULL;

		if (fd < 0)
			return;
		for (unsigned i = 0; i < API_MAX_CLIENTS && !cl; i++)
			if (c->clients[i].fd < 0)
				cl = &c->clients[i];
		if (!cl) {
			close(fd);	/* too many at once: the client may retry */
			continue;
		}
		cl->fd = fd;
		cl->len = 0;
		cl->deadline_ms = now_ms() + API_TIMEOUT_MS;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &(struct epoll_event){
			.events = EPOLLIN | EPOLLRDHUP,
			.data.u64 = CONTROL_TAG_CLIENT + (uint64_t)(cl - c->clients) }))
			client_close(c, cl);
	}
}

/* An epoll event for one of the control's descriptors (@tag). */
void control_event(struct control *c, uint64_t tag)
{
	if (tag == CONTROL_TAG_LISTEN)
		control_accept(c);
	else if (tag - CONTROL_TAG_CLIENT < API_MAX_CLIENTS &&
		 c->clients[tag - CONTROL_TAG_CLIENT].fd >= 0)
		client_read(c, &c->clients[tag - CONTROL_TAG_CLIENT]);
}

/* Closes clients past their deadline; returns ms to the next one, or -1. */
int control_expire(struct control *c)
{
	uint64_t now = now_ms(), next = 0;

	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		struct api_client *cl = &c->clients[i];

		if (cl->fd < 0)
			continue;
		if (cl->deadline_ms <= now) {
			client_answer(c, cl, control_bad_request("request not complete in time"));
			continue;
		}
		if (!next || cl->deadline_ms < next)
			next = cl->deadline_ms;
	}
	return next ? (int)(next - now) : -1;
}

static int api_listen(struct control *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("--api-socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	old = umask(0177);	/* the socket file is created 0600 */
	ret = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(c->listen_fd, API_MAX_CLIENTS)) {
		ret = -errno;
		log_err("--api-socket %s: %s%s", path, strerror(-ret),
			ret == -EADDRINUSE ? " (remove the stale socket file, or is another xdpslirp using it?)" : "");
		return ret;
	}
	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->listen_fd, &(struct epoll_event){
		.events = EPOLLIN, .data.u64 = CONTROL_TAG_LISTEN }) ? -errno : 0;
}

/**
 * control_init() - set up forwarding control and, with @api_path, the API
 * @c: zeroed
 * @g: the guest the engine serves
 * @gw: its gateway (guest address for defaults and checks)
 * @epfd: the main thread's epoll, for the API's descriptors
 * @api_path: --api-socket, or NULL
 *
 * The caller sets what else the API reports on (egress, sandbox, pcap)
 * afterwards: they start NULL.
 *
 * Return: 0 or negative errno (logged).
 */
int control_init(struct control *c, struct guest *g, const struct gateway *gw, int epfd,
		 const char *api_path)
{
	*c = (struct control){ .g = g, .gw = gw, .epfd = epfd, .next_id = 1, .listen_fd = -1 };
	c->rules = calloc(FWD_MAX, sizeof(*c->rules));
	if (!c->rules)
		return -ENOMEM;
	/* jansson seeds its hash from /dev/urandom on first use: now,
	 * while the file system is still there (sandbox.c) */
	json_object_seed(0);
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		c->clients[i].fd = -1;
		c->clients[i].buf = NULL;
	}
	if (!api_path)
		return 0;
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		c->clients[i].buf = malloc(API_MAX_REQUEST);
		if (!c->clients[i].buf)
			return -ENOMEM;
	}
	return api_listen(c, api_path);
}

/* Closes the API (the reaper removes its socket file) and frees everything. */
void control_fini(struct control *c)
{
	if (!c->rules)		/* control_init() never ran, or failed first */
		return;
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		if (c->clients[i].fd >= 0)
			client_close(c, &c->clients[i]);
		free(c->clients[i].buf);
	}
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	free(c->rules);
	memset(c, 0, sizeof(*c));
	c->listen_fd = -1;
}
