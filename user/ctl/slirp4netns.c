// SPDX-License-Identifier: MIT
/*
 * slirp4netns.c - xdpslirp invoked as slirp4netns: its command line.
 *
 * Theory of operation: Podman and RootlessKit start "slirp4netns" with a
 * fixed command line and probe its --help for feature names; installed
 * under that name (or as a link to it), xdpslirp takes slirp4netns 1.2's
 * whole command line and turns it into its own configuration, so that the
 * rest of the engine does not know which front end it came from:
 *
 *   slirp4netns [OPTION]... PID|PATH [TAPNAME]
 *
 * Defaults differ from xdpslirp's own where slirp4netns's do: MTU 1500,
 * IPv6 only with -6, the interface configured only with -c (RootlessKit
 * configures it itself), DHCP leases from network + 15, the guest's IPv6
 * address from SLAAC.  TAPNAME (default tap0) is served by the tap
 * backend if it exists already; otherwise the backend is chosen as for
 * --backend auto (a veth named TAPNAME with AF_XDP when XDP loads).
 * Options are handed to config_option() by name, so values are checked by
 * the same code, with the same messages, as xdpslirp's own.  Where
 * slirp4netns would crash or misbehave (an MTU below 68, the "bess"
 * target) this one refuses with an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "slirp4netns.h"
#include "version.h"

#define S4N_VERSION	"1.2.0"	/* the slirp4netns whose interface we take */
#define S4N_MTU_MAX	65521	/* slirp4netns's maximum, served as MTU_MAX */

static const char s4n_usage[] =
"Usage: slirp4netns [OPTION]... PID|PATH [TAPNAME]\n"
"User-mode networking for unprivileged network namespaces.\n"
"(xdpslirp " XDPSLIRP_VERSION ", compatible with slirp4netns " S4N_VERSION ")\n"
"\n"
"-c, --configure          bring up the interface\n"
"-e, --exit-fd=FD         specify the FD for terminating slirp4netns\n"
"-r, --ready-fd=FD        specify the FD to write to when the network is configured\n"
"-m, --mtu=MTU            specify MTU (default=1500, max=65521)\n"
"-6, --enable-ipv6        enable IPv6\n"
"-a, --api-socket=PATH    specify API socket path\n"
"--cidr=CIDR              specify network address CIDR (default=10.0.2.0/24)\n"
"--disable-host-loopback  prohibit connecting to 127.0.0.1:* on the host namespace\n"
"--netns-type=TYPE        specify network namespace type ([path|pid], default=pid)\n"
"--userns-path=PATH       specify user namespace path\n"
"--enable-sandbox         create a new mount namespace (and drop all caps except CAP_NET_BIND_SERVICE if running as the root)\n"
"--enable-seccomp         enable seccomp to limit syscalls\n"
"--outbound-addr=IPv4     sets outbound ipv4 address to bound to (experimental)\n"
"--outbound-addr6=IPv6    sets outbound ipv6 address to bound to (experimental)\n"
"--disable-dns            disables 10.0.2.3 (or configured internal ip) to host dns redirect (experimental)\n"
"--macaddress=MAC         specify the MAC address of the TAP (only valid with -c)\n"
"--target-type=TYPE       specify the target type ([netns|bess], default=netns; bess is refused)\n"
"-h, --help               show this help and exit\n"
"-v, --version            show version and exit\n";

enum {
	S4N_CIDR = 256, S4N_NO_HOST_LOOPBACK, S4N_NETNS_TYPE, S4N_USERNS_PATH, S4N_SANDBOX,
	S4N_SECCOMP, S4N_OUTBOUND, S4N_OUTBOUND6, S4N_DISABLE_DNS, S4N_MAC, S4N_TARGET_TYPE,
};

static const struct option s4n_options[] = {
	{ "configure",		   no_argument,	      NULL, 'c' },
	{ "exit-fd",		   required_argument, NULL, 'e' },
	{ "ready-fd",		   required_argument, NULL, 'r' },
	{ "mtu",		   required_argument, NULL, 'm' },
	{ "enable-ipv6",	   no_argument,	      NULL, '6' },
	{ "api-socket",		   required_argument, NULL, 'a' },
	{ "cidr",		   required_argument, NULL, S4N_CIDR },
	{ "disable-host-loopback", no_argument,	      NULL, S4N_NO_HOST_LOOPBACK },
	{ "netns-type",		   required_argument, NULL, S4N_NETNS_TYPE },
	{ "userns-path",	   required_argument, NULL, S4N_USERNS_PATH },
	{ "enable-sandbox",	   no_argument,	      NULL, S4N_SANDBOX },
	{ "enable-seccomp",	   no_argument,	      NULL, S4N_SECCOMP },
	{ "outbound-addr",	   required_argument, NULL, S4N_OUTBOUND },
	{ "outbound-addr6",	   required_argument, NULL, S4N_OUTBOUND6 },
	{ "disable-dns",	   no_argument,	      NULL, S4N_DISABLE_DNS },
	{ "macaddress",		   required_argument, NULL, S4N_MAC },
	{ "target-type",	   required_argument, NULL, S4N_TARGET_TYPE },
	{ "help",		   no_argument,	      NULL, 'h' },
	{ "version",		   no_argument,	      NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

/* The slirp4netns lines Podman shows, and the libslirp config version
 * (4: outbound addresses, --disable-dns) upstream's tests look for.
 */
static void s4n_version(void)
{
	printf("slirp4netns version " S4N_VERSION "+xdpslirp\n"
	       "commit: xdpslirp " XDPSLIRP_VERSION "\n"
	       "libslirp: none (xdpslirp " XDPSLIRP_VERSION " engine)\n"
	       "SLIRP_CONFIG_VERSION_MAX: 4\n"
	       "libseccomp: none\n");
}

/* slirp4netns accepts 65521 (libslirp's limit); xdpslirp's is 65520. */
static bool s4n_mtu(struct config *cfg, const char *arg, FILE *err)
{
	if (!strcmp(arg, "65521"))
		arg = "65520";
	return config_option(cfg, "mtu", arg, err);
}

/* One option; false (message printed) if it is wrong. */
static bool s4n_apply(struct config *cfg, struct s4n_opts *o, int opt, const char *arg,
		      FILE *err)
{
	switch (opt) {
	case 'c':
		cfg->configure = true;
		return true;
	case 'e':
		return config_option(cfg, "exit-fd", arg, err);
	case 'r':
		return config_option(cfg, "ready-fd", arg, err);
	case 'm':
		return s4n_mtu(cfg, arg, err);
	case '6':
		cfg->disable_ipv6 = false;
		return true;
	case 'a':
		return config_option(cfg, "api-socket", arg, err);
	case S4N_CIDR:
		return config_option(cfg, "cidr", arg, err);
	case S4N_NO_HOST_LOOPBACK:
		return config_option(cfg, "disable-host-loopback", NULL, err);
	case S4N_DISABLE_DNS:
		return config_option(cfg, "disable-dns", NULL, err);
	case S4N_USERNS_PATH:
		return config_option(cfg, "userns-path", arg, err);
	case S4N_MAC:
		return config_option(cfg, "macaddress", arg, err);
	case S4N_OUTBOUND:
		return config_option(cfg, "outbound-addr", arg, err);
	case S4N_OUTBOUND6:
		return config_option(cfg, "outbound-addr6", arg, err);
	case S4N_SANDBOX:
		cfg->sandbox = true;
		return true;
	case S4N_SECCOMP:
		cfg->seccomp = true;
		return true;
	case S4N_NETNS_TYPE:
		if (!strcmp(arg, "pid") || !strcmp(arg, "path")) {
			o->netns_path = !strcmp(arg, "path");
			return true;
		}
		fprintf(err, "slirp4netns: --netns-type '%s': expected pid or path\n", arg);
		return false;
	case S4N_TARGET_TYPE:
		if (!strcmp(arg, "netns"))
			return true;
		fprintf(err, "slirp4netns: --target-type '%s': only netns is supported (xdpslirp has no bess target)\n",
			arg);
		return false;
	default:
		return false;
	}
}

/* PID|PATH [TAPNAME] */
static int s4n_positional(struct config *cfg, const struct s4n_opts *o, int argc,
			  char **argv, FILE *err)
{
	const char *target;

	if (argc - optind < 1 || argc - optind > 2) {
		fprintf(err, "slirp4netns: expected PID|PATH [TAPNAME]; see slirp4netns --help\n");
		return -EINVAL;
	}
	target = argv[optind];
	if (!o->netns_path && (!*target || target[strspn(target, "0123456789")])) {
		fprintf(err, "slirp4netns: '%s' is not a PID (use --netns-type=path for a path)\n",
			target);
		return -EINVAL;
	}
	if (o->netns_path && !*target) {
		fprintf(err, "slirp4netns: the namespace path is empty\n");
		return -EINVAL;
	}
	cfg->mode = MODE_NETNS;
	cfg->netns = target;
	if (argc - optind == 2 && !config_option(cfg, "guest-ifname", argv[optind + 1], err))
		return -EINVAL;
	if (cfg->have_mac && !cfg->configure) {
		fprintf(err, "slirp4netns: --macaddress is only valid with -c (--configure)\n");
		return -EINVAL;
	}
	return 0;
}

/**
 * s4n_parse() - parse slirp4netns's command line into @cfg
 * @cfg: filled in
 * @o: what has no xdpslirp equivalent (--netns-type)
 * @argc: argument count
 * @argv: arguments (referenced, not copied)
 * @err: where errors go (--help and --version go to stdout)
 *
 * Return: 0 to run, CONFIG_EXIT_OK after --help/--version, -EINVAL on a
 * usage error (already printed).
 */
int s4n_parse(struct config *cfg, struct s4n_opts *o, int argc, char **argv, FILE *err)
{
	int opt;

	config_defaults(cfg);
	memset(o, 0, sizeof(*o));
	cfg->slirp4netns = true;
	cfg->configure = false;
	cfg->disable_ipv6 = true;
	cfg->sandbox = cfg->seccomp = false;	/* each on when asked, as slirp4netns */
	cfg->mtu = 1500;
	strcpy(cfg->guest_ifname, "tap0");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ce:r:m:a:6hv", s4n_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(s4n_usage, stdout);
			return CONFIG_EXIT_OK;
		case 'v':
			s4n_version();
			return CONFIG_EXIT_OK;
		case ':':
			fprintf(err, "slirp4netns: %s needs a value\n", argv[optind - 1]);
			return -EINVAL;
		case '?':
			if (optopt)
				fprintf(err, "slirp4netns: unknown option '-%c'; see slirp4netns --help\n",
					optopt);
			else
				fprintf(err, "slirp4netns: unknown option '%s'; see slirp4netns --help\n",
					argv[optind - 1]);
			return -EINVAL;
		default:
			if (!s4n_apply(cfg, o, opt, optarg, err))
				return -EINVAL;
		}
	}
	return s4n_positional(cfg, o, argc, argv, err);
}
