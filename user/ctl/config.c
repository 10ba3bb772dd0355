// SPDX-License-Identifier: MIT
/*
 * config.c - the command line.
 *
 * Theory of operation: config_parse() turns argv into a struct config and
 * validates every value, so the rest of the engine can trust it.  Anything
 * wrong is reported on @err with the option's name and what would be
 * accepted, and the caller exits with status 2 (as getopt-based tools do).
 * Parsing has no side effects: unit tests call it directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <linux/if_ether.h>

#include "config.h"
#include "log.h"
#include "version.h"


static const char usage[] =
"Usage: xdpslirp [OPTIONS] --ifname IFACE\n"
"       xdpslirp [OPTIONS] --netns PID|PATH\n"
"       xdpslirp [OPTIONS] -- COMMAND [ARG...]\n"
"       xdpslirp [OPTIONS] --socket PATH\n"
"       xdpslirp ctl --api-socket PATH list|add|remove|stats|flows ...\n"
"       xdpslirp daemon --api-socket PATH [--state-file PATH]  (many guests)\n"
"\n"
"User-mode network gateway: gives a network namespace IPv4 and IPv6\n"
"connectivity through an XDP program and AF_XDP sockets, with no NAT rules\n"
"in the host.\n"
"\n"
"Modes:\n"
"  --ifname IFACE        serve an existing link whose host end is IFACE\n"
"  --netns PID|PATH      create a veth pair into that network namespace\n"
"  -- COMMAND [ARG...]   run COMMAND in a new network namespace; exit with\n"
"                        its status\n"
"  --socket PATH         serve a VM on a Unix stream socket, as QEMU's\n"
"                        -netdev stream,addr.type=unix,addr.path=PATH frames\n"
"                        it (one guest at a time; no privileges needed)\n"
"\n"
"Options:\n"
"  --guest-ifname NAME   guest end's name (default eth0)\n"
"  --mtu N               link MTU, 68-65520 (default 65520 if the kernel has\n"
"                        AF_XDP multi-buffer, else 3506)\n"
"  --cidr A.B.C.D/N      guest network, N <= 25 (default 10.0.2.0/24):\n"
"                        gateway .2, DNS .3, guest .100\n"
"  --address A.B.C.D/N   the guest's IPv4 address and network instead (N 8-30)\n"
"  --gateway A.B.C.D     the gateway's (default: with --address the network's\n"
"                        first host not the guest's, else .2)\n"
"  --dns-address A.B.C.D the DNS address (default: with --address the next\n"
"                        host, else .3)\n"
"  --cidr6 PREFIX/64|random  guest IPv6 network (default fd00::/64): gateway\n"
"                        ::2 (also fe80::2), DNS ::3, guest ::100; random\n"
"                        draws a unique local prefix (RFC 4193)\n"
"  --address6 ADDR/64, --gateway6 ADDR, --dns-address6 ADDR  the same for\n"
"                        IPv6 (defaults: the /64's first hosts not the guest's)\n"
"  --peer-group NAME     a daemon's guest: the guests of group NAME reach each\n"
"                        other's addresses, switched inside the engine\n"
"  --ingress-rate RATE[:BURST]  at most RATE bits a second to the guest, in\n"
"                        bursts of at most BURST bits (k, M, G: 1000s;\n"
"                        default burst: a tenth of a second at RATE)\n"
"  --egress-rate RATE[:BURST]  the same from the guest\n"
"  --disable-ipv6        IPv4 only\n"
"  --ra-interval SECONDS unsolicited router advertisements at most that far\n"
"                        apart, 4-1800 (default 600)\n"
"  --queues N            queues and workers, 1-64 (default: one per CPU, or\n"
"                        all the link's receive queues with --ifname)\n"
"  --max-flows N         TCP connections per worker, 16-16777216 (default\n"
"                        131072)\n"
"  --disable-host-loopback  the gateway address does not reach the host's\n"
"                        loopback (the guest gets \"unreachable\")\n"
"  --udp-timeout SECONDS idle time before a UDP mapping expires, 1-86400\n"
"                        (default 60)\n"
"  --dns-upstream ADDR[:PORT]  where the DNS addresses forward queries, IPv4\n"
"                        A.B.C.D[:PORT] or IPv6 ADDR or [ADDR]:PORT (up to\n"
"                        4 times; default: the name servers of\n"
"                        /etc/resolv.conf)\n"
"  --disable-dns         the DNS address answers nothing\n"
"  --no-dhcp             no DHCP or DHCPv6 server\n"
"  -p, --publish [tcp:|udp:][HOSTADDR:]HOSTPORT[-LAST]:GUESTPORT[-LAST]\n"
"                        forward a host port (range) to the guest; repeatable\n"
"  --forward-to-host [tcp:|udp:]GUESTPORT:HOSTADDR:HOSTPORT\n"
"                        the gateway's GUESTPORT reaches HOSTADDR:HOSTPORT,\n"
"                        even with --disable-host-loopback; repeatable\n"
"  --allow RULE, --deny RULE  egress policy, repeatable: RULE is\n"
"                        [tcp|udp|icmp://]PREFIX[:PORT[-LAST]], e.g.\n"
"                        udp://192.168.1.0/24:53, tcp://[2001:db8::]/32:443;\n"
"                        a deny wins, the longest prefix decides within each\n"
"  --default-deny        deny what no --allow allows (forwards still pass)\n"
"  --block-host-networks deny the host's addresses and on-link prefixes,\n"
"                        kept current as they change\n"
"  --no-sandbox          keep capabilities, the file system and every system\n"
"                        call (default: confined once set up; for debugging)\n"
"  --runas USER          started as root, run as USER once set up (default\n"
"                        nobody)\n"
"  --seccomp-log         a system call outside the sandbox's list is logged by\n"
"                        the kernel (dmesg) instead of killing xdpslirp\n"
"  --pcap FILE           capture every frame to and from the guest (pcap,\n"
"                        nanosecond timestamps); start_capture and\n"
"                        stop_capture in the API pause and resume it\n"
"  --pcap-size MB        keep FILE under MB megabytes (8-1000000): the\n"
"                        oldest half of it is dropped when full\n"
"  --api-socket PATH     control API (slirp4netns's JSON protocol)\n"
"  --exit-fd FD          exit when FD is closed\n"
"  --pid-file PATH       write our pid to PATH (removed at exit)\n"
"  --cpus LIST           pin workers to these CPUs, e.g. 0,2-3 (worker q on\n"
"                        the q-th, round robin)\n"
"  --poll MODE           adaptive (default): spin --spin-us after work,\n"
"                        then sleep; busy: never sleep; blocking: never spin\n"
"  --spin-us N           adaptive spinning, 0-100000 us (default 50)\n"
"  --disable-checksum-offload  checksum TCP segments to the guest in\n"
"                        software (default: the kernel's AF_XDP TX metadata\n"
"                        does it, where it has it)\n"
"  --test-tx-loss PERMILLE  drop that share of frames sent to the guest\n"
"  --test-tx-dup PERMILLE, --test-tx-reorder PERMILLE  send that share twice,\n"
"                        or after the next one\n"
"  --test-rx-dup PERMILLE, --test-rx-reorder PERMILLE  the same for frames\n"
"                        from the guest (testing recovery only; default 0)\n"
"  --backend KIND        what carries the guest's frames: xdp (AF_XDP on a\n"
"                        veth, or on a VM's tap with --ifname), tap (a tap\n"
"                        the engine holds: no privileges needed) or auto\n"
"                        (default: xdp if the BPF program loads, else tap)\n"
"  --userns-path PATH    user namespace to enter before the guest's network\n"
"                        namespace (one of another process of ours)\n"
"  --macaddress MAC      the guest interface's MAC address (created links)\n"
"  --outbound-addr A.B.C.D, --outbound-addr6 ADDR  host sockets leave from\n"
"                        that address of the host\n"
"  --xdp-mode MODE       native (default) or generic (slow, for testing)\n"
"  --ready-fd FD         write \"1\" to FD once the guest has connectivity\n"
"  --log-level LEVEL     error, warn, info (default) or debug\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n"
"Signals: SIGUSR1 prints counters; SIGINT and SIGTERM stop.\n";

enum {
	OPT_IFNAME = 256, OPT_NETNS, OPT_GUEST_IFNAME, OPT_MTU, OPT_CIDR,
	OPT_QUEUES, OPT_XDP_MODE, OPT_READY_FD, OPT_LOG_LEVEL, OPT_MAX_FLOWS,
	OPT_NO_HOST_LOOPBACK, OPT_TEST_TX_LOSS, OPT_UDP_TIMEOUT, OPT_DNS_UPSTREAM,
	OPT_DISABLE_DNS, OPT_NO_DHCP, OPT_FORWARD_TO_HOST, OPT_API_SOCKET, OPT_EXIT_FD,
	OPT_PID_FILE, OPT_POLL, OPT_SPIN_US, OPT_CPUS, OPT_NO_CSUM_OFFLOAD, OPT_CIDR6,
	OPT_DISABLE_IPV6, OPT_RA_INTERVAL, OPT_BACKEND, OPT_USERNS_PATH, OPT_SOCKET, OPT_MACADDRESS, OPT_OUTBOUND, OPT_OUTBOUND6,
	OPT_ALLOW, OPT_DENY, OPT_DEFAULT_DENY, OPT_NO_SANDBOX, OPT_RUNAS, OPT_SECCOMP_LOG,
	OPT_PCAP, OPT_PCAP_SIZE, OPT_BLOCK_HOST_NETWORKS, OPT_TEST_TX_DUP, OPT_TEST_TX_REORDER,
	OPT_TEST_RX_DUP, OPT_TEST_RX_REORDER, OPT_ADDRESS, OPT_GATEWAY, OPT_DNS_ADDRESS,
	OPT_ADDRESS6, OPT_GATEWAY6, OPT_DNS_ADDRESS6, OPT_PEER_GROUP, OPT_INGRESS_RATE,
	OPT_EGRESS_RATE,
};

static const struct option options[] = {
	{ "ifname",	  required_argument, NULL, OPT_IFNAME },
	{ "netns",	  required_argument, NULL, OPT_NETNS },
	{ "guest-ifname", required_argument, NULL, OPT_GUEST_IFNAME },
	{ "mtu",	  required_argument, NULL, OPT_MTU },
	{ "cidr",	  required_argument, NULL, OPT_CIDR },
	{ "cidr6",	  required_argument, NULL, OPT_CIDR6 },
	{ "address",	  required_argument, NULL, OPT_ADDRESS },
	{ "gateway",	  required_argument, NULL, OPT_GATEWAY },
	{ "dns-address",  required_argument, NULL, OPT_DNS_ADDRESS },
	{ "address6",	  required_argument, NULL, OPT_ADDRESS6 },
	{ "gateway6",	  required_argument, NULL, OPT_GATEWAY6 },
	{ "dns-address6", required_argument, NULL, OPT_DNS_ADDRESS6 },
	{ "peer-group",	  required_argument, NULL, OPT_PEER_GROUP },
	{ "ingress-rate", required_argument, NULL, OPT_INGRESS_RATE },
	{ "egress-rate",  required_argument, NULL, OPT_EGRESS_RATE },
	{ "disable-ipv6", no_argument,	     NULL, OPT_DISABLE_IPV6 },
	{ "ra-interval",  required_argument, NULL, OPT_RA_INTERVAL },
	{ "queues",	  required_argument, NULL, OPT_QUEUES },
	{ "xdp-mode",	  required_argument, NULL, OPT_XDP_MODE },
	{ "ready-fd",	  required_argument, NULL, OPT_READY_FD },
	{ "log-level",	  required_argument, NULL, OPT_LOG_LEVEL },
	{ "max-flows",	  required_argument, NULL, OPT_MAX_FLOWS },
	{ "disable-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
	{ "test-tx-loss", required_argument, NULL, OPT_TEST_TX_LOSS },
	{ "test-tx-dup", required_argument, NULL, OPT_TEST_TX_DUP },
	{ "test-tx-reorder", required_argument, NULL, OPT_TEST_TX_REORDER },
	{ "test-rx-dup", required_argument, NULL, OPT_TEST_RX_DUP },
	{ "test-rx-reorder", required_argument, NULL, OPT_TEST_RX_REORDER },
	{ "udp-timeout",  required_argument, NULL, OPT_UDP_TIMEOUT },
	{ "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
	{ "disable-dns",  no_argument,	     NULL, OPT_DISABLE_DNS },
	{ "disable-checksum-offload", no_argument, NULL, OPT_NO_CSUM_OFFLOAD },
	{ "no-dhcp",	  no_argument,	     NULL, OPT_NO_DHCP },
	{ "publish",	  required_argument, NULL, 'p' },
	{ "forward-to-host", required_argument, NULL, OPT_FORWARD_TO_HOST },
	{ "allow",	  required_argument, NULL, OPT_ALLOW },
	{ "deny",	  required_argument, NULL, OPT_DENY },
	{ "default-deny", no_argument,	     NULL, OPT_DEFAULT_DENY },
	{ "block-host-networks", no_argument, NULL, OPT_BLOCK_HOST_NETWORKS },
	{ "no-sandbox",	  no_argument,	     NULL, OPT_NO_SANDBOX },
	{ "runas",	  required_argument, NULL, OPT_RUNAS },
	{ "seccomp-log",  no_argument,	     NULL, OPT_SECCOMP_LOG },
	{ "pcap",	  required_argument, NULL, OPT_PCAP },
	{ "pcap-size",	  required_argument, NULL, OPT_PCAP_SIZE },
	{ "api-socket",	  required_argument, NULL, OPT_API_SOCKET },
	{ "exit-fd",	  required_argument, NULL, OPT_EXIT_FD },
	{ "pid-file",	  required_argument, NULL, OPT_PID_FILE },
	{ "poll",	  required_argument, NULL, OPT_POLL },
	{ "spin-us",	  required_argument, NULL, OPT_SPIN_US },
	{ "cpus",	  required_argument, NULL, OPT_CPUS },
	{ "backend",	  required_argument, NULL, OPT_BACKEND },
	{ "userns-path",  required_argument, NULL, OPT_USERNS_PATH },
	{ "socket",	  required_argument, NULL, OPT_SOCKET },
	{ "macaddress",	  required_argument, NULL, OPT_MACADDRESS },
	{ "outbound-addr", required_argument, NULL, OPT_OUTBOUND },
	{ "outbound-addr6", required_argument, NULL, OPT_OUTBOUND6 },
	{ "help",	  no_argument,	     NULL, 'h' },
	{ "version",	  no_argument,	     NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Parses a decimal in [min, max]; returns false on anything else. */
bool config_parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out >= min && *out <= max;
}

/* A numeric option's value in [min, max], or a message saying what fits. */
static bool uint_option(const char *name, const char *arg, unsigned long min,
			unsigned long max, unsigned long *out, FILE *err)
{
	if (config_parse_uint(arg, min, max, out))
		return true;
	fprintf(err, "xdpslirp: %s '%s': expected a whole number from %lu to %lu\n", name, arg,
		min, max);
	return false;
}

/* A path option's value: anything but empty. */
static bool path_option(const char *name, const char *arg, const char **out, FILE *err)
{
	if (*arg) {
		*out = arg;
		return true;
	}
	fprintf(err, "xdpslirp: %s needs a path\n", name);
	return false;
}

/* --allow or --deny RULE (policy.c has the syntax). */
static bool rule_option(struct config *cfg, bool deny, const char *arg, FILE *err)
{
	const char *why = NULL;

	if (cfg->n_rules == POLICY_MAX_RULES) {
		fprintf(err, "xdpslirp: at most %d --allow and --deny rules\n", POLICY_MAX_RULES);
		return false;
	}
	if (policy_rule_parse(arg, deny, &cfg->rules[cfg->n_rules], &why)) {
		fprintf(err, "xdpslirp: %s '%s': %s (RULE is [tcp|udp|icmp://]PREFIX[:PORT[-LAST]])\n",
			deny ? "--deny" : "--allow", arg, why);
		return false;
	}
	cfg->rules[cfg->n_rules].id = cfg->n_rules + 1;
	cfg->n_rules++;
	return true;
}

static bool parse_ifname(const char *s, char out[IF_NAMESIZE])
{
	size_t len = strlen(s);

	if (!len || len >= IF_NAMESIZE || strchr(s, '/') || strchr(s, ' ') ||
	    !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	memcpy(out, s, len + 1);
	return true;
}

/* A.B.C.D, A.B.C.D:PORT, an IPv6 address, or [IPv6]:PORT (port default 53). */
static bool parse_addr_port(const char *s, union sockaddr_inany *sa)
{
	char buf[INET6_ADDRSTRLEN + 8], *host = buf, *colon;
	unsigned long port = 53;
	struct in6_addr a6;
	bool bracket = s[0] == '[';

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	if (bracket) {
		char *end = strchr(buf, ']');

		if (!end || (end[1] && (end[1] != ':' || !config_parse_uint(end + 2, 1, 65535, &port))))
			return false;
		*end = '\0';
		host = buf + 1;
	} else if ((colon = strchr(buf, ':')) && !strchr(colon + 1, ':')) {
		*colon = '\0';	/* one colon: IPv4 with a port */
		if (!config_parse_uint(colon + 1, 1, 65535, &port))
			return false;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		sa->in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
						 .sin6_port = htons((uint16_t)port), .sin6_addr = a6 };
		return true;
	}
	sa->in4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	return !bracket && inet_pton(AF_INET, host, &sa->in4.sin_addr) == 1;
}

/* A CPU list: N or N-M, comma separated, at most 64 CPUs, each < 1024. */
static bool parse_cpus(struct config *cfg, const char *s)
{
	cfg->ncpus = 0;
	while (*s) {
		unsigned long a, b;
		char *end;

		if (*s < '0' || *s > '9')
			return false;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return false;
			b = strtoul(end + 1, &end, 10);
		}
		if (b < a || b >= 1024 || (*end && (*end != ',' || !end[1])))
			return false;
		for (unsigned long c = a; c <= b; c++) {
			if (cfg->ncpus == 64)
				return false;
			cfg->cpus[cfg->ncpus++] = (uint16_t)c;
		}
		s = *end ? end + 1 : end;
	}
	return cfg->ncpus > 0;
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->guest_ifname, "eth0");
	inet_pton(AF_INET, "10.0.2.0", &cfg->network);
	cfg->prefix_len = 24;
	cfg->prefix6[0] = 0xfd;		/* fd00::/64 */
	cfg->ra_interval_s = 600;	/* RFC 4861 MaxRtrAdvInterval default */
	cfg->log_level = LOG_INFO;
	cfg->ready_fd = -1;
	cfg->exit_fd = -1;
	cfg->max_flows = 131072;
	cfg->udp_timeout_s = 60;
	cfg->spin_us = 50;
	cfg->configure = true;
	cfg->sandbox = cfg->seccomp = true;
}

/* --backend xdp|tap|auto */
bool config_backend(struct config *cfg, const char *arg, FILE *err)
{
	static const char *const names[] = {
		[CFG_BACKEND_AUTO] = "auto", [CFG_BACKEND_XDP] = "xdp", [CFG_BACKEND_TAP] = "tap",
	};

	for (int i = 0; i < 3; i++)
		if (!strcmp(arg, names[i])) {
			cfg->backend = i;
			return true;
		}
	fprintf(err, "xdpslirp: --backend '%s': expected xdp, tap or auto\n", arg);
	return false;
}

/* --outbound-addr A.B.C.D, --outbound-addr6 ADDR: where host sockets bind. */
static bool config_outbound(struct config *cfg, bool v6, const char *arg, FILE *err)
{
	struct inany *a = v6 ? &cfg->outbound6 : &cfg->outbound4;
	uint32_t v4;

	if (!v6 && inet_pton(AF_INET, arg, &v4) == 1) {
		inany_from_v4(a, v4);
		return true;
	}
	if (v6 && inet_pton(AF_INET6, arg, a->b) == 1 && !inany_is_v4(a) && !inany_is_zero(a))
		return true;
	memset(a, 0, sizeof(*a));
	fprintf(err, "xdpslirp: --outbound-addr%s '%s': expected an %s address of this host\n",
		v6 ? "6" : "", arg, v6 ? "IPv6" : "IPv4");
	return false;
}

/* --macaddress: the guest interface's MAC, unicast. */
bool config_mac(struct config *cfg, const char *arg, FILE *err)
{
	unsigned b[ETH_ALEN];
	char end;

	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != ETH_ALEN || (b[0] & 1)) {
		fprintf(err, "xdpslirp: --macaddress '%s': expected a unicast MAC such as 02:00:00:00:00:01\n",
			arg);
		return false;
	}
	for (int i = 0; i < ETH_ALEN; i++)
		cfg->mac[i] = (uint8_t)b[i];
	cfg->have_mac = true;
	return true;
}

/*
 * The options that take a whole number: their bounds and where the value
 * goes (every such field is 32 bits wide).
 */
static const struct num_option {
	int opt;
	const char *name;
	unsigned long min, max;
	size_t off;
} num_options[] = {
	{ OPT_MTU, "--mtu", MTU_MIN, MTU_MAX, offsetof(struct config, mtu) },
	{ OPT_RA_INTERVAL, "--ra-interval", 4, 1800, offsetof(struct config, ra_interval_s) },
	{ OPT_QUEUES, "--queues", 1, 64, offsetof(struct config, queues) },
	{ OPT_READY_FD, "--ready-fd", 0, INT_MAX, offsetof(struct config, ready_fd) },
	{ OPT_MAX_FLOWS, "--max-flows", 16, 1u << 24, offsetof(struct config, max_flows) },
	{ OPT_UDP_TIMEOUT, "--udp-timeout", 1, 86400, offsetof(struct config, udp_timeout_s) },
	{ OPT_EXIT_FD, "--exit-fd", 0, INT_MAX, offsetof(struct config, exit_fd) },
	{ OPT_SPIN_US, "--spin-us", 0, 100000, offsetof(struct config, spin_us) },
	{ OPT_PCAP_SIZE, "--pcap-size", 8, 1000000, offsetof(struct config, pcap_size_mb) },
	{ OPT_TEST_TX_LOSS, "--test-tx-loss", 0, 1000, offsetof(struct config, test_tx_loss) },
	{ OPT_TEST_TX_DUP, "--test-tx-dup", 0, 1000, offsetof(struct config, test_tx_dup) },
	{ OPT_TEST_TX_REORDER, "--test-tx-reorder", 0, 1000,
	  offsetof(struct config, test_tx_reorder) },
	{ OPT_TEST_RX_DUP, "--test-rx-dup", 0, 1000, offsetof(struct config, test_rx_dup) },
	{ OPT_TEST_RX_REORDER, "--test-rx-reorder", 0, 1000,
	  offsetof(struct config, test_rx_reorder) },
};

#define RATE_MAX	1000000000000ull	/* bits: 1000G */

/* A number of bits with an optional k, M or G (powers of 1000, as tc's). */
static bool parse_bits(const char *s, char **end, uint64_t *v)
{
	static const char units[] = "kMG";
	unsigned long long n;
	const char *u;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, end, 10);
	if (errno || n > RATE_MAX)
		return false;
	u = **end ? strchr(units, **end) : NULL;
	if (u) {
		for (long i = 0; i <= u - units; i++)
			n *= 1000;
		(*end)++;
	}
	*v = n;
	return true;
}

/* --ingress-rate, --egress-rate: RATE[:BURST], bits; burst: RATE / 10. */
static bool parse_rate_limit(const char *arg, struct rate_limit *l)
{
	char *end;

	if (!parse_bits(arg, &end, &l->rate) || l->rate < 1000 || l->rate > RATE_MAX)
		return false;
	l->burst = l->rate / 10;
	if (*end == ':' && (!parse_bits(end + 1, &end, &l->burst) || l->burst > RATE_MAX))
		return false;
	return !*end;
}

/* Applies @opt if it is a numeric option: 1 done, 0 bad value, -1 not one. */
static int apply_num_option(struct config *cfg, int opt, const char *arg, FILE *err)
{
	for (size_t i = 0; i < sizeof(num_options) / sizeof(num_options[0]); i++) {
		const struct num_option *o = &num_options[i];
		unsigned long v;
		uint32_t v32;

		if (o->opt != opt)
			continue;
		if (!uint_option(o->name, arg, o->min, o->max, &v, err))
			return 0;
		v32 = (uint32_t)v;
		memcpy((uint8_t *)cfg + o->off, &v32, sizeof(v32));
		return 1;
	}
	return -1;
}

/* Applies one option; returns false after printing what is wrong. */
static bool apply_option(struct config *cfg, int opt, const char *arg, FILE *err,
			 int *modes)
{
	int num = apply_num_option(cfg, opt, arg, err);

	if (num >= 0)
		return num;
	switch (opt) {
	case OPT_IFNAME:
		cfg->mode = MODE_IFNAME;
		(*modes)++;
		if (parse_ifname(arg, cfg->ifname))
			return true;
		fprintf(err, "xdpslirp: --ifname '%s': not a valid interface name\n", arg);
		return false;
	case OPT_NETNS:
		cfg->mode = MODE_NETNS;
		(*modes)++;
		cfg->netns = arg;
		if (*arg)
			return true;
		fprintf(err, "xdpslirp: --netns needs a PID or a path such as /run/netns/NAME\n");
		return false;
	case OPT_GUEST_IFNAME:
		if (parse_ifname(arg, cfg->guest_ifname))
			return true;
		fprintf(err, "xdpslirp: --guest-ifname '%s': not a valid interface name\n", arg);
		return false;
	case OPT_CIDR:
		cfg->cidr_given = true;
		if (config_parse_cidr(cfg, arg, err))
			return true;
		fprintf(err, "xdpslirp: --cidr '%s': expected A.B.C.D/N, e.g. 10.0.2.0/24\n", arg);
		return false;
	case OPT_ADDRESS:
		if (config_parse_address(cfg, arg, err))
			return true;
		fprintf(err, "xdpslirp: --address '%s': expected the guest's A.B.C.D/N, N from 8 to 30\n",
			arg);
		return false;
	case OPT_GATEWAY:
	case OPT_DNS_ADDRESS:
		if (config_parse_addr4(arg, opt == OPT_GATEWAY ? &cfg->addr_gateway : &cfg->addr_dns))
			return true;
		fprintf(err, "xdpslirp: --%s '%s': expected an IPv4 address A.B.C.D\n",
			opt == OPT_GATEWAY ? "gateway" : "dns-address", arg);
		return false;
	case OPT_ADDRESS6:
		if (config_parse_address6(cfg, arg, err))
			return true;
		fprintf(err, "xdpslirp: --address6 '%s': expected the guest's ADDR/64\n", arg);
		return false;
	case OPT_GATEWAY6:
	case OPT_DNS_ADDRESS6:
		if (config_parse_addr6(arg, opt == OPT_GATEWAY6 ? &cfg->addr6_gateway : &cfg->addr6_dns))
			return true;
		fprintf(err, "xdpslirp: --%s '%s': expected an IPv6 address\n",
			opt == OPT_GATEWAY6 ? "gateway6" : "dns-address6", arg);
		return false;
	case OPT_INGRESS_RATE:
	case OPT_EGRESS_RATE:
		if (parse_rate_limit(arg, opt == OPT_INGRESS_RATE ? &cfg->ingress : &cfg->egress))
			return true;
		fprintf(err, "xdpslirp: --%s '%s': expected RATE[:BURST] in bits (a second), 1k to 1000G, e.g. 100M or 100M:10M\n",
			opt == OPT_INGRESS_RATE ? "ingress-rate" : "egress-rate", arg);
		return false;
	case OPT_PEER_GROUP:
		cfg->peer_group = arg;
		if (*arg && strlen(arg) <= 64)
			return true;
		fprintf(err, "xdpslirp: --peer-group: a name of 1 to 64 characters\n");
		return false;
	case OPT_CIDR6:
		if (config_parse_cidr6(cfg, arg, err))
			return true;
		fprintf(err, "xdpslirp: --cidr6 '%s': expected PREFIX/64 (e.g. fd00::/64) or random\n",
			arg);
		return false;
	case OPT_DISABLE_IPV6:
		cfg->disable_ipv6 = true;
		return true;
	case OPT_XDP_MODE:
		if (!strcmp(arg, "native") || !strcmp(arg, "generic")) {
			cfg->xdp_generic = !strcmp(arg, "generic");
			return true;
		}
		fprintf(err, "xdpslirp: --xdp-mode '%s': expected native or generic\n", arg);
		return false;
	case OPT_NO_HOST_LOOPBACK:
		cfg->disable_host_loopback = true;
		return true;
	case OPT_DNS_UPSTREAM:
		if (cfg->n_dns < 4 && parse_addr_port(arg, &cfg->dns[cfg->n_dns])) {
			cfg->n_dns++;
			return true;
		}
		fprintf(err, "xdpslirp: --dns-upstream '%s': expected A.B.C.D[:PORT], an IPv6 address or [ADDR]:PORT, at most 4 times\n",
			arg);
		return false;
	case OPT_DISABLE_DNS:
		cfg->disable_dns = true;
		return true;
	case OPT_NO_CSUM_OFFLOAD:
		cfg->no_csum_offload = true;
		return true;
	case OPT_NO_DHCP:
		cfg->no_dhcp = true;
		return true;
	case 'p': {
		int n = fwd_parse_publish(arg, cfg->publish + cfg->n_publish,
					  FWD_MAX - cfg->n_publish, err);

		if (n < 0)
			return false;
		cfg->n_publish += (unsigned)n;
		return true;
	}
	case OPT_FORWARD_TO_HOST:
		if (cfg->n_to_host < FWD_TO_HOST_MAX &&
		    fwd_parse_to_host(arg, &cfg->to_host[cfg->n_to_host])) {
			cfg->n_to_host++;
			return true;
		}
		fprintf(err, "xdpslirp: --forward-to-host '%s': expected [tcp:|udp:]GUESTPORT:HOSTADDR:HOSTPORT, at most %d times\n",
			arg, FWD_TO_HOST_MAX);
		return false;
	case OPT_ALLOW:
	case OPT_DENY:
		return rule_option(cfg, opt == OPT_DENY, arg, err);
	case OPT_DEFAULT_DENY:
		cfg->default_deny = true;
		return true;
	case OPT_BLOCK_HOST_NETWORKS:
		cfg->block_host_networks = true;
		return true;
	case OPT_NO_SANDBOX:
		cfg->sandbox = cfg->seccomp = false;
		return true;
	case OPT_RUNAS:
		cfg->runas = arg;
		if (*arg)
			return true;
		fprintf(err, "xdpslirp: --runas needs a user name\n");
		return false;
	case OPT_SECCOMP_LOG:
		cfg->seccomp_log = true;
		return true;
	case OPT_PCAP:
		return path_option("--pcap", arg, &cfg->pcap, err);
	case OPT_API_SOCKET:
		return path_option("--api-socket", arg, &cfg->api_socket, err);
	case OPT_USERNS_PATH:
		return path_option("--userns-path", arg, &cfg->userns, err);
	case OPT_SOCKET:
		cfg->mode = MODE_SOCKET;
		(*modes)++;
		return path_option("--socket", arg, &cfg->socket_path, err);
	case OPT_BACKEND:
		return config_backend(cfg, arg, err);
	case OPT_MACADDRESS:
		return config_mac(cfg, arg, err);
	case OPT_OUTBOUND:
	case OPT_OUTBOUND6:
		return config_outbound(cfg, opt == OPT_OUTBOUND6, arg, err);
	case OPT_PID_FILE:
		return path_option("--pid-file", arg, &cfg->pid_file, err);
	case OPT_POLL: {
		static const char *const modes[] = { "adaptive", "busy", "blocking" };

		for (int i = 0; i < 3; i++)
			if (!strcmp(arg, modes[i])) {
				cfg->poll_mode = i;
				return true;
			}
		fprintf(err, "xdpslirp: --poll '%s': expected adaptive, busy or blocking\n", arg);
		return false;
	}
	case OPT_CPUS:
		if (parse_cpus(cfg, arg))
			return true;
		fprintf(err, "xdpslirp: --cpus '%s': expected a list such as 0,2-3 (CPUs 0-1023, at most 64)\n",
			arg);
		return false;
	case OPT_LOG_LEVEL:
		cfg->log_level = log_parse_level(arg);
		if (cfg->log_level >= 0)
			return true;
		fprintf(err, "xdpslirp: --log-level '%s': expected error, warn, info or debug\n", arg);
		return false;
	default:
		return false;
	}
}

/**
 * config_option() - apply one native option, by its long name
 * @cfg: configuration, defaults already set (config_defaults())
 * @name: long option name without "--", e.g. "cidr"
 * @arg: its value, or NULL for a flag
 * @err: where to print what is wrong with the value
 *
 * For front ends with their own command line (slirp4netns.c): the same
 * checks and messages as xdpslirp's own options.
 *
 * Return: true if applied.
 */
bool config_option(struct config *cfg, const char *name, const char *arg, FILE *err)
{
	int modes = 0;

	for (const struct option *o = options; o->name; o++)
		if (!strcmp(o->name, name))
			return apply_option(cfg, o->val, arg, err, &modes);
	return false;
}

/**
 * config_parse() - parse and validate the command line
 * @cfg: filled with the result
 * @argc: argument count
 * @argv: arguments; the command after "--" is referenced, not copied
 * @err: where to print errors (and --help, --version go to stdout)
 *
 * Return: 0 to run, CONFIG_EXIT_OK after --help/--version, -EINVAL on a
 * usage error (already printed).
 */
int config_parse(struct config *cfg, int argc, char **argv, FILE *err)
{
	int opt, modes = 0;

	config_defaults(cfg);
	optind = 0;	/* full reset: tests parse many command lines */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:hVp:", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(usage, stdout);
			return CONFIG_EXIT_OK;
		case 'V':
			printf("xdpslirp %s\n", XDPSLIRP_VERSION);
			return CONFIG_EXIT_OK;
		case ':':
			fprintf(err, "xdpslirp: %s needs a value\n", argv[optind - 1]);
			return -EINVAL;
		case '?':
			fprintf(err, "xdpslirp: unknown option '%s'; see xdpslirp --help\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			if (!apply_option(cfg, opt, optarg, err, &modes))
				return -EINVAL;
		}
	}

	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			fprintf(err, "xdpslirp: unexpected argument '%s'; put the command after '--'\n",
				argv[optind]);
			return -EINVAL;
		}
		cfg->mode = MODE_COMMAND;
		cfg->command = &argv[optind];
		modes++;
	}
	if (modes != 1) {
		fprintf(err, "xdpslirp: %s; see xdpslirp --help\n", modes ?
			"give only one of --ifname, --netns, --socket and -- COMMAND" :
			"give one of --ifname IFACE, --netns PID|PATH, --socket PATH or -- COMMAND");
		return -EINVAL;
	}
	if (cfg->mode == MODE_SOCKET && (cfg->backend != CFG_BACKEND_AUTO || cfg->queues > 1)) {
		fprintf(err, "xdpslirp: --socket is its own backend, with one queue: drop --backend and --queues\n");
		return -EINVAL;
	}
	if (!config_plan_check(cfg, err))
		return -EINVAL;
	if (cfg->mode == MODE_IFNAME && cfg->mtu) {
		fprintf(err, "xdpslirp: --mtu applies only to links xdpslirp creates; set the MTU of %s and its peer instead\n",
			cfg->ifname);
		return -EINVAL;
	}
	return 0;
}
