// SPDX-License-Identifier: MIT
/* The command line: defaults, each option, and every kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "config.h"

static char errbuf[4096];

/* Parses a NULL-terminated argument list; error text lands in errbuf. */
static int parse(struct config *cfg, const char **args)
{
	static char *argv[32];	/* cfg->command points into it */
	int argc = 0, ret;
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");

	argv[argc++] = (char *)"xdpslirp";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	memset(errbuf, 0, sizeof(errbuf));
	ret = config_parse(cfg, argc, argv, err);
	fclose(err);
	return ret;
}

#define PARSE(cfg, ...) parse(cfg, (const char *[]){ __VA_ARGS__, NULL })

static void defaults_command_mode(void **state)
{
	static struct config cfg;
	char a[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(PARSE(&cfg, "--", "ping", "-c", "3", "10.0.2.2"), 0);
	assert_int_equal(cfg.mode, MODE_COMMAND);
	assert_string_equal(cfg.command[0], "ping");
	assert_string_equal(cfg.command[2], "3");	/* options of COMMAND kept */
	assert_string_equal(cfg.guest_ifname, "eth0");
	assert_int_equal(cfg.mtu, 0);
	assert_int_equal(cfg.queues, 0);
	assert_int_equal(cfg.ready_fd, -1);
	uint32_t gw = config_host_addr(&cfg, CIDR_HOST_GATEWAY);
	assert_string_equal(inet_ntop(AF_INET, &gw, a, sizeof(a)), "10.0.2.2");
	gw = config_host_addr(&cfg, CIDR_HOST_GUEST);
	assert_string_equal(inet_ntop(AF_INET, &gw, a, sizeof(a)), "10.0.2.100");
}

static void all_options(void **state)
{
	static struct config cfg;
	char a[INET_ADDRSTRLEN];
	uint32_t dns;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--netns", "/run/netns/x", "--mtu", "1500",
			       "--cidr", "10.9.0.0/16", "--queues", "4",
			       "--guest-ifname", "veth-g", "--xdp-mode", "generic",
			       "--ready-fd", "5", "--log-level", "debug"), 0);
	assert_int_equal(cfg.mode, MODE_NETNS);
	assert_string_equal(cfg.netns, "/run/netns/x");
	assert_int_equal(cfg.mtu, 1500);
	assert_int_equal(cfg.prefix_len, 16);
	assert_int_equal(cfg.queues, 4);
	assert_string_equal(cfg.guest_ifname, "veth-g");
	assert_true(cfg.xdp_generic);
	assert_int_equal(cfg.ready_fd, 5);
	dns = config_host_addr(&cfg, CIDR_HOST_DNS);
	assert_string_equal(inet_ntop(AF_INET, &dns, a, sizeof(a)), "10.9.0.3");
	assert_int_equal(ntohl(config_netmask(&cfg)), 0xffff0000);
}

static void ipv6_options(void **state)
{
	static struct config cfg;
	char a[INET6_ADDRSTRLEN];
	struct inany addr;
	static const uint8_t zero[8];

	(void)state;
	assert_int_equal(PARSE(&cfg, "--", "true"), 0);
	assert_false(cfg.disable_ipv6);
	config_host_addr6(&cfg, CIDR6_HOST_GUEST, &addr);
	assert_string_equal(inany_ntop(&addr, a, sizeof(a)), "fd00::100");
	config_host_addr6(&cfg, CIDR_HOST_GATEWAY, &addr);
	assert_string_equal(inany_ntop(&addr, a, sizeof(a)), "fd00::2");
	assert_int_equal(cfg.ra_interval_s, 600);

	assert_int_equal(PARSE(&cfg, "--cidr6", "2001:db8:1:2::/64", "--disable-ipv6",
			       "--ra-interval", "30", "--", "true"), 0);
	config_host_addr6(&cfg, CIDR_HOST_DNS, &addr);
	assert_string_equal(inany_ntop(&addr, a, sizeof(a)), "2001:db8:1:2::3");
	assert_true(cfg.disable_ipv6);
	assert_int_equal(cfg.ra_interval_s, 30);

	/* random: fd00::/8 with a 40-bit Global ID, subnet 0 (RFC 4193) */
	assert_int_equal(PARSE(&cfg, "--cidr6", "random", "--", "true"), 0);
	assert_int_equal(cfg.prefix6[0], 0xfd);
	assert_memory_equal(cfg.prefix6 + 6, zero, 2);
	assert_memory_not_equal(cfg.prefix6 + 1, zero, 5);

	/* upstreams of either family, with or without a port */
	assert_int_equal(PARSE(&cfg, "--dns-upstream", "::1", "--dns-upstream", "[fd00::53]:5353",
			       "--dns-upstream", "127.0.0.1:54", "--dns-upstream", "10.1.1.1",
			       "--", "true"), 0);
	assert_int_equal(cfg.n_dns, 4);
	assert_int_equal(cfg.dns[0].sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(cfg.dns[0].in6.sin6_port), 53);
	assert_int_equal(cfg.dns[1].sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(cfg.dns[1].in6.sin6_port), 5353);
	assert_string_equal(inet_ntop(AF_INET6, &cfg.dns[1].in6.sin6_addr, a, sizeof(a)),
			    "fd00::53");
	assert_int_equal(cfg.dns[2].sa.sa_family, AF_INET);
	assert_int_equal(ntohs(cfg.dns[2].in4.sin_port), 54);
	assert_int_equal(ntohs(cfg.dns[3].in4.sin_port), 53);
}

static char *ntop(uint32_t a)
{
	static char buf[INET_ADDRSTRLEN];

	return (char *)inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

/* Addresses given one by one, with and without the gateway and DNS. */
static void address_options(void **state)
{
	static struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--address", "10.88.3.7/16", "--", "true"), 0);
	assert_string_equal(ntop(cfg.network), "10.88.0.0");
	assert_int_equal(cfg.prefix_len, 16);
	assert_string_equal(ntop(config_guest_addr(&cfg)), "10.88.3.7");
	assert_string_equal(ntop(config_gateway_addr(&cfg)), "10.88.0.1");
	assert_string_equal(ntop(config_dns_addr(&cfg)), "10.88.0.2");
	/* the first hosts skip the guest's */
	assert_int_equal(PARSE(&cfg, "--address", "10.0.9.1/29", "--", "true"), 0);
	assert_string_equal(ntop(config_gateway_addr(&cfg)), "10.0.9.2");
	assert_string_equal(ntop(config_dns_addr(&cfg)), "10.0.9.3");
	assert_int_equal(PARSE(&cfg, "--address", "10.0.9.2/24", "--gateway", "10.0.9.254",
			       "--dns-address", "10.0.9.53", "--", "true"), 0);
	assert_string_equal(ntop(config_gateway_addr(&cfg)), "10.0.9.254");
	assert_string_equal(ntop(config_dns_addr(&cfg)), "10.0.9.53");
	/* --cidr's plan, one address moved */
	assert_int_equal(PARSE(&cfg, "--cidr", "10.0.4.0/24", "--gateway", "10.0.4.1", "--",
			       "true"), 0);
	assert_string_equal(ntop(config_guest_addr(&cfg)), "10.0.4.100");
	assert_string_equal(ntop(config_gateway_addr(&cfg)), "10.0.4.1");
	assert_string_equal(ntop(config_dns_addr(&cfg)), "10.0.4.3");
}

static char *ntop6(const struct inany *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return (char *)inet_ntop(AF_INET6, a->b, buf, sizeof(buf));
}

/* The IPv6 twins: host-local's first lease (::2, gateway ::1), and defaults. */
static void address6_options(void **state)
{
	static struct config cfg;
	struct inany a;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--address6", "fd10:0:0:7::2/64", "--gateway6",
			       "fd10:0:0:7::1", "--", "true"), 0);
	config_guest_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "fd10:0:0:7::2");
	config_gateway_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "fd10:0:0:7::1");
	config_dns_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "fd10:0:0:7::3");
	assert_memory_equal(cfg.prefix6, a.b, 8);
	/* defaults: the first hosts that are not the guest's */
	assert_int_equal(PARSE(&cfg, "--address6", "2001:db8::1/64", "--", "true"), 0);
	config_gateway_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "2001:db8::2");
	config_dns_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "2001:db8::3");
	/* the plan, unchanged without them */
	assert_int_equal(PARSE(&cfg, "--", "true"), 0);
	config_guest_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "fd00::100");
	config_dns_addr6(&cfg, &a);
	assert_string_equal(ntop6(&a), "fd00::3");
}

static void ifname_mode(void **state)
{
	static struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--ifname", "veth0"), 0);
	assert_int_equal(cfg.mode, MODE_IFNAME);
	assert_string_equal(cfg.ifname, "veth0");
}

/* --ingress-rate, --egress-rate: bits, k/M/G in 1000s, burst a tenth. */
static void rate_limits(void **state)
{
	static struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--", "true"), 0);
	assert_int_equal(cfg.ingress.rate, 0);
	assert_int_equal(cfg.egress.rate, 0);
	assert_int_equal(PARSE(&cfg, "--ingress-rate", "100M:10k", "--egress-rate", "2G",
			       "--", "true"), 0);
	assert_int_equal(cfg.ingress.rate, 100000000);
	assert_int_equal(cfg.ingress.burst, 10000);
	assert_int_equal(cfg.egress.rate, 2000000000);
	assert_int_equal(cfg.egress.burst, 200000000);
	assert_int_equal(PARSE(&cfg, "--egress-rate", "1000", "--", "true"), 0);
	assert_int_equal(cfg.egress.rate, 1000);
}

static void publish_rules(void **state)
{
	static struct config cfg;	/* large: forward rules */
	char a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(PARSE(&cfg, "-p", "8080:80", "--publish",
			       "udp:127.0.0.1:5000-5002:6000-6002",
			       "--forward-to-host", "udp:53:127.0.0.1:5353", "--", "true"), 0);
	assert_int_equal(cfg.n_publish, 4);
	assert_int_equal(cfg.publish[0].proto, IPPROTO_TCP);
	assert_string_equal(inany_ntop(&cfg.publish[0].host_addr, a, sizeof(a)), "0.0.0.0");
	assert_true(fwd_addr_unset(&cfg.publish[0].guest_addr));	/* by the client's family */
	assert_int_equal(cfg.publish[0].host_port, 8080);
	assert_int_equal(cfg.publish[0].guest_port, 80);
	assert_int_equal(cfg.publish[3].proto, IPPROTO_UDP);
	assert_string_equal(inany_ntop(&cfg.publish[3].host_addr, a, sizeof(a)), "127.0.0.1");
	assert_int_equal(cfg.publish[3].host_port, 5002);
	assert_int_equal(cfg.publish[3].guest_port, 6002);
	assert_int_equal(cfg.n_to_host, 1);
	assert_int_equal(cfg.to_host[0].guest_port, 53);
	assert_int_equal(cfg.to_host[0].host_port, 5353);
	assert_string_equal(inany_ntop(&cfg.to_host[0].host_addr, a, sizeof(a)), "127.0.0.1");
	/* IPv6 host addresses: one, and every address of both families */
	assert_int_equal(PARSE(&cfg, "-p", "[::1]:8080:80", "-p", "udp:[::]:53:5353",
			       "--forward-to-host", "2222:[::1]:22", "--", "true"), 0);
	assert_int_equal(cfg.n_publish, 2);
	assert_string_equal(inany_ntop(&cfg.publish[0].host_addr, a, sizeof(a)), "::1");
	assert_int_equal(cfg.publish[0].host_port, 8080);
	assert_string_equal(inany_ntop(&cfg.publish[1].host_addr, a, sizeof(a)), "::");
	assert_true(fwd_addr_is_any(&cfg.publish[1].host_addr));
	assert_int_equal(cfg.publish[1].guest_port, 5353);
	assert_string_equal(inany_ntop(&cfg.to_host[0].host_addr, a, sizeof(a)), "::1");
	assert_int_equal(cfg.to_host[0].host_port, 22);
	assert_int_equal(PARSE(&cfg, "--cpus", "0,2-3", "--", "true"), 0);
	assert_int_equal(cfg.ncpus, 3);
	assert_int_equal(cfg.cpus[2], 3);
}

static void help_and_version(void **state)
{
	static struct config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--version"), CONFIG_EXIT_OK);
	assert_int_equal(PARSE(&cfg, "-h"), CONFIG_EXIT_OK);
}

/* Each bad command line fails with -EINVAL and a message naming the problem. */
static void bad_input(void **state)
{
	static const struct { const char *args[6]; const char *says; } cases[] = {
		{ { "--mtu", "67", "--", "true" }, "--mtu" },
		{ { "--mtu", "65521", "--", "true" }, "--mtu" },
		{ { "--mtu", "15x", "--", "true" }, "--mtu" },
		{ { "--mtu", "-1", "--", "true" }, "--mtu" },
		{ { "--mtu", "99999999999999999999", "--", "true" }, "--mtu" },
		{ { "--cidr", "10.0.2.0", "--", "true" }, "--cidr" },
		{ { "--cidr", "10.0.2.0/26", "--", "true" }, "/25" },
		{ { "--cidr", "10.0.2.5/24", "--", "true" }, "10.0.2.0/24" },
		{ { "--cidr", "10.0.2.0/33", "--", "true" }, "--cidr" },
		{ { "--cidr", "300.0.2.0/24", "--", "true" }, "--cidr" },
		{ { "--cidr", "10.0.2.0/24/1", "--", "true" }, "--cidr" },
		{ { "--queues", "0", "--", "true" }, "--queues" },
		{ { "--queues", "65", "--", "true" }, "--queues" },
		{ { "--xdp-mode", "fast", "--", "true" }, "--xdp-mode" },
		{ { "--log-level", "loud", "--", "true" }, "--log-level" },
		{ { "--ready-fd", "x", "--", "true" }, "--ready-fd" },
		{ { "--ifname", "a-name-far-too-long", }, "--ifname" },
		{ { "--ifname", "../x" }, "--ifname" },
		{ { "--guest-ifname", "", "--", "true" }, "--guest-ifname" },
		{ { "--netns", "" }, "--netns" },
		{ { "--ifname", "a", "--netns", "1" }, "only one" },
		{ { "--ifname", "a", "--", "true" }, "only one" },
		{ { "--ifname", "a", "--mtu", "1500" }, "--mtu" },
		{ { "-p", "8080", "--", "true" }, "--publish" },
		{ { "-p", "0:80", "--", "true" }, "--publish" },
		{ { "-p", "1-3:1-2", "--", "true" }, "differ in length" },
		{ { "-p", "sctp:1:2", "--", "true" }, "--publish" },
		{ { "-p", "300.1.1.1:1:2", "--", "true" }, "--publish" },
		{ { "-p", "[::1:8080:80", "--", "true" }, "--publish" },
		{ { "-p", "[10.0.0.1]:8080:80", "--", "true" }, "--publish" },
		{ { "-p", "[::ffff:10.0.0.1]:8080:80", "--", "true" }, "--publish" },
		{ { "-p", "::1:8080:80", "--", "true" }, "--publish" },
		{ { "-p", "1:70000", "--", "true" }, "--publish" },
		{ { "--forward-to-host", "2222:127.0.0.1", "--", "true" }, "--forward-to-host" },
		{ { "--exit-fd", "-3", "--", "true" }, "--exit-fd" },
		{ { "--dns-upstream", "x", "--", "true" }, "--dns-upstream" },
		{ { "--dns-upstream", "[::1", "--", "true" }, "--dns-upstream" },
		{ { "--dns-upstream", "[::1]:0", "--", "true" }, "--dns-upstream" },
		{ { "--dns-upstream", "[10.0.0.1]:53", "--", "true" }, "--dns-upstream" },
		{ { "--dns-upstream", "::1:99999", "--", "true" }, "--dns-upstream" },
		{ { "--cidr6", "fd00::/48", "--", "true" }, "only a /64" },
		{ { "--cidr6", "fd00::1/64", "--", "true" }, "host bits" },
		{ { "--cidr6", "ff02::/64", "--", "true" }, "not a unicast" },
		{ { "--cidr6", "fe80::/64", "--", "true" }, "not a unicast" },
		{ { "--cidr6", "::/64", "--", "true" }, "not a unicast" },
		{ { "--cidr6", "fd00::", "--", "true" }, "--cidr6" },
		{ { "--cidr6", "10.0.0.0/64", "--", "true" }, "--cidr6" },
		{ { "--ra-interval", "3", "--", "true" }, "--ra-interval" },
		{ { "--ra-interval", "1801", "--", "true" }, "--ra-interval" },
		{ { "--udp-timeout", "0", "--", "true" }, "--udp-timeout" },
		{ { "--cpus", "1-0", "--", "true" }, "--cpus" },
		{ { "--cpus", "a", "--", "true" }, "--cpus" },
		{ { "--cpus", "0,", "--", "true" }, "--cpus" },
		{ { "--poll", "sometimes", "--", "true" }, "--poll" },
		{ { "--spin-us", "100001", "--", "true" }, "--spin-us" },
		{ { "--address", "10.0.5.7", "--", "true" }, "--address" },
		{ { "--address", "10.0.5.7/31", "--", "true" }, "/30" },
		{ { "--address", "10.0.5.7/7", "--", "true" }, "--address" },
		{ { "--address", "10.0.5.7/24", "--cidr", "10.0.5.0/24", "--", "true" }, "not both" },
		{ { "--address", "10.0.5.7/24", "--gateway", "10.0.6.1", "--", "true" }, "--gateway" },
		{ { "--address", "10.0.5.7/24", "--gateway", "10.0.5.255", "--", "true" }, "--gateway" },
		{ { "--address", "10.0.5.7/24", "--gateway", "10.0.5.7", "--", "true" }, "different" },
		{ { "--address", "10.0.5.7/24", "--dns-address", "10.0.5.0", "--", "true" },
		  "--dns-address" },
		{ { "--address6", "fd10::2", "--", "true" }, "--address6" },
		{ { "--address6", "fd10::2/48", "--", "true" }, "/64" },
		{ { "--address6", "fd10::/64", "--", "true" }, "unicast host" },
		{ { "--address6", "fe80::2/64", "--", "true" }, "unicast host" },
		{ { "--address6", "fd10::2/64", "--cidr6", "fd10::/64", "--", "true" }, "not both" },
		{ { "--address6", "fd10::2/64", "--gateway6", "fd11::1", "--", "true" }, "--gateway6" },
		{ { "--address6", "fd10::2/64", "--dns-address6", "fd10::2", "--", "true" },
		  "different" },
		{ { "--gateway6", "10.0.0.1", "--", "true" }, "--gateway6" },
		{ { "--peer-group", "", "--", "true" }, "--peer-group" },
		{ { "--ingress-rate", "999", "--", "true" }, "--ingress-rate" },
		{ { "--ingress-rate", "1001G", "--", "true" }, "--ingress-rate" },
		{ { "--ingress-rate", "99999999999999999999", "--", "true" }, "--ingress-rate" },
		{ { "--egress-rate", "10M:", "--", "true" }, "--egress-rate" },
		{ { "--egress-rate", "10Mb", "--", "true" }, "--egress-rate" },
		{ { "--egress-rate", "k", "--", "true" }, "--egress-rate" },
		{ { "--gateway", "x", "--", "true" }, "--gateway" },
		{ { "--gateway", "10.0.2.100", "--", "true" }, "different" },
		{ { "--bogus" }, "unknown option" },
		{ { "--mtu" }, "needs a value" },
		{ { "ping" }, "after '--'" },
		{ { "--log-level", "info" }, "give one of" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct config cfg;
		const char *args[8];
		int n = 0;

		while (n < 6 && cases[i].args[n]) {
			args[n] = cases[i].args[n];
			n++;
		}
		args[n] = NULL;
		assert_int_equal(parse(&cfg, args), -EINVAL);
		if (!strstr(errbuf, cases[i].says))
			fail_msg("case %zu: '%s' not in: %s", i, cases[i].says, errbuf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_command_mode),
		cmocka_unit_test(all_options),
		cmocka_unit_test(ipv6_options),
		cmocka_unit_test(address_options),
		cmocka_unit_test(address6_options),
		cmocka_unit_test(ifname_mode),
		cmocka_unit_test(rate_limits),
		cmocka_unit_test(publish_rules),
		cmocka_unit_test(help_and_version),
		cmocka_unit_test(bad_input),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
