// SPDX-License-Identifier: MIT
/*
 * cni.c - xdpslirp-cni: the CNI 1.0.0 plugin (type "xdpslirp") that gives a
 * pod egress, published ports and DNS through the node's xdpslirp daemon.
 *
 * A runtime runs the plugin with its parameters in CNI_* variables and the
 * network configuration on stdin, and reads one JSON result from stdout.
 *
 *   ADD    addresses from the configured IPAM plugin (delegated), or the
 *          daemon's own plan; then add_guest: the daemon makes the veth
 *          pair (the pod's end is CNI_IFNAME, configured), and serves it;
 *          the result lists the interface, addresses, routes and DNS.
 *   DEL    remove_guest, then IPAM DEL; fine if any of it is gone already.
 *   CHECK  the daemon serves the guest, IPAM CHECK, and inside the pod
 *          the interface, addresses and routes are as prevResult says.
 *   VERSION the versions we speak.
 *
 * The daemon knows the guest as "cni-" and a hash of (CNI_CONTAINERID,
 * CNI_IFNAME): the key the specification gives an attachment.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "version.h"

#define DEFAULT_SOCKET		"/run/xdpslirp/daemon.sock"
#define DEFAULT_STATE		"/run/xdpslirp/state.json"
#define DEFAULT_MTU		"1500"	/* the daemon gives it a small UMEM (xsk.c) */
#define STDIN_MAX		(1 << 20)

static const char *const versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0" };

static const char usage[] =
"xdpslirp-cni " XDPSLIRP_VERSION ": CNI plugin \"xdpslirp\" (CNI 0.3.0 to 1.0.0)\n"
"\n"
"Run by a container runtime (CNI_COMMAND=ADD|DEL|CHECK|VERSION, the network\n"
"configuration on stdin). Installed as /usr/lib/cni/xdpslirp; a configuration\n"
"list names it as {\"type\": \"xdpslirp\"}. Its keys, all optional:\n"
"  \"ipam\"        an IPAM plugin to delegate to (e.g. host-local); without it\n"
"                the daemon's plan (10.0.2.100/24, fd00::100/64)\n"
"  \"mtu\"         the pod's MTU (default " DEFAULT_MTU ": the daemon's small footprint,\n"
"                under 1 MiB a pod; 65520 moves more, at 11-12 MB a pod)\n"
"  \"podToPod\"    true: the network's pods reach each other (switched in the\n"
"                daemon); else each reaches only the host and beyond\n"
"  \"options\"     more xdpslirp options for the pod, e.g. [\"--default-deny\"]\n"
"  \"apiSocket\"   the daemon's API (default " DEFAULT_SOCKET ")\n"
"  \"stateFile\"   where a daemon the plugin starts keeps its guests\n"
"                (default " DEFAULT_STATE ")\n"
"  \"daemonPath\"  xdpslirp, to start the daemon (default: from PATH)\n"
"  \"capabilities\": {\"portMappings\": true}  publish the pod's host ports;\n"
"                {\"bandwidth\": true}  limit the pod's rates (the daemon shapes)\n";

/**
 * cni_fail() - record an error for the error result
 * @err: where
 * @code: its code (enum cni_code, or a delegate's)
 * @msg: short message
 * @fmt: details, printf-style
 *
 * Return: @code, to return in turn.
 */
int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return code;
}

static bool version_known(const char *v)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(v, versions[i]))
			return true;
	return false;
}

/* Prints @result on stdout, as the runtime reads it. */
static void print_json(json_t *result)
{
	json_dumpf(result, stdout, JSON_INDENT(2));
	putchar('\n');
}

static void print_error(const struct cni_error *err, const char *version)
{
	json_t *e = json_pack("{s:s,s:i,s:s,s:s}", "cniVersion", version ? version : "1.0.0",
			      "code", err->code, "msg", err->msg, "details", err->details);

	print_json(e);
	json_decref(e);
}

/* --- parameters and configuration --- */

static void env_read(struct cni_env *env)
{
	*env = (struct cni_env){
		.command = getenv("CNI_COMMAND"), .containerid = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"), .ifname = getenv("CNI_IFNAME"),
		.args = getenv("CNI_ARGS"), .path = getenv("CNI_PATH"),
	};
}

/* The variables @cmd needs are there and well-formed; 0 or the error's code. */
static int env_check(const struct cni_env *env, bool need_netns, struct cni_error *err)
{
	const char *missing = !env->containerid || !*env->containerid ? "CNI_CONTAINERID" :
			      !env->ifname || !*env->ifname ? "CNI_IFNAME" :
			      need_netns && (!env->netns || !*env->netns) ? "CNI_NETNS" : NULL;

	if (missing)
		return cni_fail(err, CNI_ERR_ENV, "missing environment variable", "%s is required",
				missing);
	if (strlen(env->ifname) >= 16 || strpbrk(env->ifname, "/ :") || !strcmp(env->ifname, ".") ||
	    !strcmp(env->ifname, ".."))
		return cni_fail(err, CNI_ERR_ENV, "invalid CNI_IFNAME",
				"'%s' is not an interface name", env->ifname);
	return 0;
}

/*
 * CNI_ARGS: K=V pairs separated by ';'.  We take none; any key makes an
 * error unless IgnoreUnknown is set (CONVENTIONS.md).
 */
static int args_check(const struct cni_env *env, struct cni_error *err)
{
	char *copy, *save = NULL, *first = NULL;
	bool ignore = false;

	if (!env->args || !*env->args)
		return 0;
	copy = strdup(env->args);
	if (!copy)
		return cni_fail(err, CNI_ERR_IO, "out of memory", "CNI_ARGS");
	for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq) {
			free(copy);
			return cni_fail(err, CNI_ERR_ENV, "invalid CNI_ARGS",
					"'%s': expected KEY=VALUE pairs separated by ';'", env->args);
		}
		*eq = '\0';
		if (!strcmp(kv, "IgnoreUnknown"))
			ignore = !strcasecmp(eq + 1, "1") || !strcasecmp(eq + 1, "true");
		else if (!first)
			first = kv;
	}
	if (first && !ignore)
		cni_fail(err, CNI_ERR_ENV, "unknown CNI_ARGS key",
			 "%s (set IgnoreUnknown=1 to ignore keys we do not know)", first);
	free(copy);
	return err->code;
}

/* Reads stdin, all of it, as text; NULL if it cannot or it is too long. */
static char *read_stdin(void)
{
	size_t len = 0;
	char *buf = malloc(STDIN_MAX + 1);
	ssize_t n;

	while (buf && len < STDIN_MAX && (n = read(0, buf + len, STDIN_MAX - len)) > 0)
		len += (size_t)n;
	if (buf)
		buf[len] = '\0';
	return buf;
}

static const char *string_or(json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : def;
}

/* Parses the configuration; 0 or the error's code. */
static int conf_parse(struct cni_conf *conf, const char *text, struct cni_error *err)
{
	json_error_t je;
	json_t *mtu, *pm, *o;
	size_t i;

	conf->text = text;
	conf->root = json_loads(text, 0, &je);
	if (!json_is_object(conf->root))
		return cni_fail(err, CNI_ERR_DECODE, "the configuration is not a JSON object",
				"stdin, line %d: %s", je.line, conf->root ? "not an object" : je.text);
	conf->version = json_string_value(json_object_get(conf->root, "cniVersion"));
	if (!conf->version)
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config", "no \"cniVersion\"");
	if (!version_known(conf->version))
		return cni_fail(err, CNI_ERR_VERSION, "incompatible CNI version",
				"cniVersion %s: this plugin speaks 0.3.0, 0.3.1, 0.4.0 and 1.0.0",
				conf->version);
	conf->api_socket = string_or(conf->root, "apiSocket", DEFAULT_SOCKET);
	conf->state_file = string_or(conf->root, "stateFile", DEFAULT_STATE);
	conf->daemon_path = string_or(conf->root, "daemonPath", NULL);
	conf->ipam = json_object_get(conf->root, "ipam");
	conf->dns = json_object_get(conf->root, "dns");
	conf->prev_result = json_object_get(conf->root, "prevResult");
	conf->options = json_object_get(conf->root, "options");
	mtu = json_object_get(conf->root, "mtu");
	if (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 68 ||
		    json_integer_value(mtu) > 65520))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
				"\"mtu\" must be a number from 68 to 65520");
	conf->mtu = (int)json_integer_value(mtu);
	if (conf->ipam && !json_is_object(conf->ipam))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
				"\"ipam\" must be an object");
	if (conf->ipam && !json_object_size(conf->ipam))
		conf->ipam = NULL;	/* "ipam": {} is no IPAM */
	if (conf->options && !json_is_array(conf->options))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
				"\"options\" must be an array of xdpslirp options");
	json_array_foreach(conf->options, i, o)
		if (!json_is_string(o))
			return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
					"\"options\" must be an array of strings");
	pm = json_object_get(json_object_get(conf->root, "runtimeConfig"), "portMappings");
	if (pm && !json_is_array(pm))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
				"runtimeConfig.portMappings must be an array");
	conf->port_mappings = pm;
	conf->bandwidth = json_object_get(json_object_get(conf->root, "runtimeConfig"),
					  "bandwidth");
	if (conf->bandwidth && !json_is_object(conf->bandwidth))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
				"runtimeConfig.bandwidth must be an object");
	return 0;
}

/* The daemon's name for the attachment: "cni-" and 16 hex digits of an
 * FNV-1a hash of "CONTAINERID/IFNAME". */
static void guest_name(const struct cni_env *env, char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", env->containerid, env->ifname);
	for (const char *s = key; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	snprintf(buf, len, "cni-%016llx", (unsigned long long)h);
}

/* --- ADD --- */

static void opt_add(json_t *opts, const char *name, const char *value)
{
	json_array_append_new(opts, json_string(name));
	if (value)
		json_array_append_new(opts, json_string(value));
}

/* The IPAM result's first address of each family, as the guest's options. */
static int ipam_options(json_t *opts, const json_t *ipam, struct cni_error *err)
{
	bool have4 = false, have6 = false;
	json_t *ip;
	size_t i;

	json_array_foreach(json_object_get(ipam, "ips"), i, ip) {
		const char *a = json_string_value(json_object_get(ip, "address"));
		const char *gw = json_string_value(json_object_get(ip, "gateway"));
		bool v6 = a && strchr(a, ':');

		if (!a)
			return cni_fail(err, CNI_ERR_DECODE, "the IPAM result is invalid",
					"an entry of \"ips\" has no \"address\"");
		if (v6 ? have6 : have4)
			continue;	/* one address a family */
		opt_add(opts, v6 ? "--address6" : "--address", a);
		if (gw)
			opt_add(opts, v6 ? "--gateway6" : "--gateway", gw);
		*(v6 ? &have6 : &have4) = true;
	}
	if (!have4 && !have6)
		return cni_fail(err, CNI_ERR_CONFIG, "the IPAM plugin gave no address",
				"configure a range for at least one family");
	if (!have6)
		opt_add(opts, "--disable-ipv6", NULL);
	return 0;
}

/* runtimeConfig.portMappings, as -p options: the daemon listens on the host. */
static int port_options(json_t *opts, const json_t *mappings, struct cni_error *err)
{
	json_t *m;
	size_t i;

	json_array_foreach(mappings, i, m) {
		json_int_t host = json_integer_value(json_object_get(m, "hostPort"));
		json_int_t guest = json_integer_value(json_object_get(m, "containerPort"));
		const char *proto = string_or(m, "protocol", "tcp");
		const char *ip = string_or(m, "hostIP", NULL);
		char spec[128];

		if (host < 1 || host > 65535 || guest < 1 || guest > 65535 ||
		    (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp")))
			return cni_fail(err, CNI_ERR_CONFIG, "invalid port mapping",
					"portMappings[%zu]: hostPort and containerPort 1-65535, protocol tcp or udp",
					i);
		if (ip && strchr(ip, ':'))
			snprintf(spec, sizeof(spec), "%s:[%s]:%d:%d", proto, ip, (int)host, (int)guest);
		else if (ip)
			snprintf(spec, sizeof(spec), "%s:%s:%d:%d", proto, ip, (int)host, (int)guest);
		else
			snprintf(spec, sizeof(spec), "%s:%d:%d", proto, (int)host, (int)guest);
		for (char *c = spec; *c && *c != ':'; c++)
			*c = (char)(*c | 0x20);	/* "TCP" as Kubernetes spells it */
		opt_add(opts, "-p", spec);
	}
	return 0;
}

/*
 * runtimeConfig.bandwidth (the bandwidth plugin's keys: bits a second and
 * bits of burst, each direction as the pod sees it) as --ingress-rate and
 * --egress-rate: the daemon shapes the pod itself, XDP being ahead of tc.
 */
static int bandwidth_options(json_t *opts, const json_t *bw, struct cni_error *err)
{
	static const char *const dirs[][3] = {
		{ "ingressRate", "ingressBurst", "--ingress-rate" },
		{ "egressRate", "egressBurst", "--egress-rate" },
	};

	for (size_t d = 0; bw && d < 2; d++) {
		json_t *rate = json_object_get(bw, dirs[d][0]), *burst = json_object_get(bw, dirs[d][1]);
		char spec[64];

		if (!rate || (json_is_integer(rate) && !json_integer_value(rate)))
			continue;	/* not limited */
		if (!json_is_integer(rate) || json_integer_value(rate) < 1000 ||
		    (burst && (!json_is_integer(burst) || json_integer_value(burst) < 0)))
			return cni_fail(err, CNI_ERR_CONFIG, "invalid bandwidth",
					"bandwidth: %s at least 1000 (bits a second), %s a number of bits",
					dirs[d][0], dirs[d][1]);
		if (burst)
			snprintf(spec, sizeof(spec), "%lld:%lld", (long long)json_integer_value(rate),
				 (long long)json_integer_value(burst));
		else	/* xdpslirp's default: a tenth of a second */
			snprintf(spec, sizeof(spec), "%lld", (long long)json_integer_value(rate));
		opt_add(opts, dirs[d][2], spec);
	}
	return 0;
}

/* Appends one family's address, gateway and nameserver to the result. */
static void result_family(json_t *res, const json_t *fam, bool v6, bool legacy)
{
	const char *a = json_string_value(json_object_get(fam, "address"));
	const char *gw = json_string_value(json_object_get(fam, "gateway"));
	const char *dns = json_string_value(json_object_get(fam, "dns"));
	json_t *ip;

	if (!a)
		return;
	ip = json_pack("{s:s,s:s,s:i}", "address", a, "gateway", gw, "interface", 0);
	if (legacy)	/* 0.3.x and 0.4.0 name the family */
		json_object_set_new(ip, "version", json_string(v6 ? "6" : "4"));
	json_array_append_new(json_object_get(res, "ips"), ip);
	/* IPv6: the pod's route is via the router's link-local fe80::2 */
	json_array_append_new(json_object_get(res, "routes"), v6 ?
			      json_pack("{s:s}", "dst", "::/0") :
			      json_pack("{s:s,s:s}", "dst", "0.0.0.0/0", "gw", gw));
	json_array_append_new(json_object_get(json_object_get(res, "dns"), "nameservers"),
			      json_string(dns));
}

/* The Success result of ADD, from what the daemon gave the guest. */
static json_t *add_result(const struct cni_env *env, const struct cni_conf *conf,
			  const json_t *guest)
{
	bool legacy = strcmp(conf->version, "1.0.0") != 0;
	json_t *res = json_pack("{s:s,s:[{s:s,s:O,s:s}],s:[],s:[],s:{s:[]}}",
				"cniVersion", conf->version, "interfaces", "name", env->ifname,
				"mac", json_object_get(guest, "mac"), "sandbox", env->netns,
				"ips", "routes", "dns", "nameservers");
	json_t *dns = json_object_get(res, "dns");
	const char *key;
	json_t *v;

	if (!res)
		return NULL;
	result_family(res, json_object_get(guest, "ipv4"), false, legacy);
	result_family(res, json_object_get(guest, "ipv6"), true, legacy);
	json_object_foreach(conf->dns, key, v)	/* domain, search, options */
		if (strcmp(key, "nameservers"))
			json_object_set(dns, key, v);
	return res;
}

static int cmd_add(const struct cni_env *env, const struct cni_conf *conf, const char *name,
		   struct cni_error *err)
{
	json_t *opts = json_array(), *ipam = NULL, *args = NULL, *answer = NULL, *res;
	int ret = env_check(env, true, err) ?: args_check(env, err);

	if (ret || !opts)
		goto out;
	if (!conf->mtu)		/* first: the pod's "options" may say otherwise */
		opt_add(opts, "--mtu", DEFAULT_MTU);
	json_array_extend(opts, conf->options);
	opt_add(opts, "--guest-ifname", env->ifname);
	if (json_is_true(json_object_get(conf->root, "podToPod")))	/* the network's pods */
		opt_add(opts, "--peer-group", string_or(conf->root, "name", "cni"));
	if (conf->mtu) {
		char mtu[16];

		snprintf(mtu, sizeof(mtu), "%d", conf->mtu);
		opt_add(opts, "--mtu", mtu);
	}
	ret = port_options(opts, conf->port_mappings, err) ?:
	      bandwidth_options(opts, conf->bandwidth, err);
	if (!ret && conf->ipam) {
		ipam = cni_ipam_exec(env, conf, "ADD", err);
		ret = ipam ? ipam_options(opts, ipam, err) : err->code;
	}
	if (ret)
		goto out;
	args = json_pack("{s:s,s:s,s:O,s:{s:s,s:s,s:s}}", "name", name, "netns", env->netns,
			 "options", opts, "cni", "containerId", env->containerid, "ifname",
			 env->ifname, "network", string_or(conf->root, "name", ""));
	answer = cni_daemon_call(conf, "add_guest", args, true, err);
	res = answer ? add_result(env, conf, json_object_get(answer, "guest")) : NULL;
	if (res) {
		print_json(res);
		json_decref(res);
	} else {
		ret = err->code ? err->code : cni_fail(err, CNI_ERR_IO, "out of memory", "ADD");
	}
out:
	/* a delegated ADD that we fail after is undone, unless the pod had
	 * been added before: DEL would free the addresses that ADD holds */
	if (ret && ipam && !strstr(err->details, "a guest of that name exists")) {
		struct cni_error ignored = { 0 };

		json_decref(cni_ipam_exec(env, conf, "DEL", &ignored));
	}
	json_decref(opts);
	json_decref(ipam);
	json_decref(args);
	json_decref(answer);
	return ret;
}

/* --- DEL, CHECK --- */

static int cmd_del(const struct cni_env *env, const struct cni_conf *conf, const char *name,
		   struct cni_error *err)
{
	json_t *args = json_pack("{s:s}", "name", name), *answer;
	int ret = env_check(env, false, err) ?: args_check(env, err);

	if (!ret) {
		answer = cni_daemon_call(conf, "remove_guest", args, false, err);
		json_decref(answer);
		/* gone already: no daemon, or it does not know the guest */
		if (!answer && (err->code == CNI_ERR_TRY_LATER ||
				(err->code == CNI_ERR_DAEMON && strstr(err->details, "no such guest"))))
			*err = (struct cni_error){ 0 };
		ret = err->code;
	}
	json_decref(args);
	if (!ret && conf->ipam)
		json_decref(cni_ipam_exec(env, conf, "DEL", err));
	return err->code;
}

/* The daemon lists the guest; 0 or the error's code. */
static int check_served(const struct cni_conf *conf, const char *name, struct cni_error *err)
{
	json_t *list = cni_daemon_call(conf, "list_guests", NULL, false, err), *g;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(list, "guests"), i, g)
		found |= !strcmp(string_or(g, "name", ""), name);
	json_decref(list);
	if (!list)
		return err->code;
	return found ? 0 : cni_fail(err, CNI_ERR_NOT_SERVED, "the daemon does not serve this attachment",
				    "no guest %s in %s", name, conf->api_socket);
}

static int cmd_check(const struct cni_env *env, const struct cni_conf *conf, const char *name,
		     struct cni_error *err)
{
	int ret = env_check(env, true, err) ?: args_check(env, err);

	if (ret)
		return ret;
	if (!strncmp(conf->version, "0.3.", 4))
		return cni_fail(err, CNI_ERR_VERSION, "CHECK needs cniVersion 0.4.0 or later",
				"cniVersion is %s", conf->version);
	if (!json_is_object(conf->prev_result))
		return cni_fail(err, CNI_ERR_CONFIG, "invalid network config",
				"CHECK needs \"prevResult\": the result of ADD");
	ret = check_served(conf, name, err);
	if (!ret && conf->ipam)
		json_decref(cni_ipam_exec(env, conf, "CHECK", err));
	return err->code ? err->code : cni_check_netns(env, conf->prev_result, err);
}

static void cmd_version(const struct cni_conf *conf)
{
	json_t *list = json_array(), *res;

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		json_array_append_new(list, json_string(versions[i]));
	res = json_pack("{s:s,s:o}", "cniVersion",
			conf->version && version_known(conf->version) ? conf->version : "1.0.0",
			"supportedVersions", list);
	print_json(res);
	json_decref(res);
}

int main(int argc, char **argv)
{
	struct cni_conf conf = { 0 };
	struct cni_error err = { 0 };
	struct cni_env env;
	char name[32] = "", *text;

	env_read(&env);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("xdpslirp-cni %s (CNI 0.3.0 to 1.0.0)\n", XDPSLIRP_VERSION);
		return 0;
	}
	if (argc > 1 || !env.command || !*env.command) {
		fputs(usage, argc > 1 && strcmp(argv[1], "--help") ? stderr : stdout);
		return argc > 1 && strcmp(argv[1], "--help") ? 2 : 0;
	}
	text = read_stdin();
	if (!text) {
		cni_fail(&err, CNI_ERR_IO, "cannot read the configuration", "stdin: %s",
			 strerror(errno));
	} else if (!strcmp(env.command, "VERSION")) {
		conf.root = json_loads(text, 0, NULL);
		conf.version = json_string_value(json_object_get(conf.root, "cniVersion"));
		cmd_version(&conf);
	} else if (strcmp(env.command, "ADD") && strcmp(env.command, "DEL") &&
		   strcmp(env.command, "CHECK")) {
		cni_fail(&err, CNI_ERR_ENV, "unknown CNI_COMMAND",
			 "'%s': expected ADD, DEL, CHECK or VERSION", env.command);
	} else if (!conf_parse(&conf, text, &err)) {
		if (env.containerid && env.ifname)
			guest_name(&env, name, sizeof(name));
		if (!strcmp(env.command, "ADD"))
			cmd_add(&env, &conf, name, &err);
		else if (!strcmp(env.command, "DEL"))
			cmd_del(&env, &conf, name, &err);
		else
			cmd_check(&env, &conf, name, &err);
	}
	if (err.code)
		print_error(&err, conf.version && version_known(conf.version) ? conf.version : NULL);
	json_decref(conf.root);
	free(text);
	return err.code ? 1 : 0;
}
