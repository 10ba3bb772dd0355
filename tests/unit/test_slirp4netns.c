// SPDX-License-Identifier: MIT
/*
 * xdpslirp invoked as slirp4netns: the command lines Podman and RootlessKit
 * pass, every option in both forms, the defaults that differ from
 * xdpslirp's own, --help and --version as the callers probe them, and each
 * kind of bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "slirp4netns.h"

static char errbuf[4096];
static char outbuf[8192];
static struct config cfg;	/* large: not on the stack */
static struct s4n_opts opts;

/*
 * Parses a NULL-terminated argument list (after "slirp4netns"); errors land
 * in errbuf, what goes to stdout (--help, --version) in outbuf.
 */
static int parse(const char **args)
{
	static char *argv[40];
	int argc = 0, ret, saved = dup(STDOUT_FILENO), out = memfd_create("out", 0);
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	ssize_t n;

	argv[argc++] = (char *)"slirp4netns";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	memset(errbuf, 0, sizeof(errbuf));
	memset(outbuf, 0, sizeof(outbuf));
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	ret = s4n_parse(&cfg, &opts, argc, argv, err);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(out, outbuf, sizeof(outbuf) - 1, 0);
	assert_true(n >= 0);
	close(out);
	fclose(err);
	return ret;
}

#define PARSE(...) parse((const char *[]){ __VA_ARGS__, NULL })

static const char *ntop(int af, const void *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(af, a, buf, sizeof(buf));
}

/* slirp4netns's defaults, not xdpslirp's */
static void defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("1234"), 0);
	assert_true(cfg.slirp4netns);
	assert_int_equal(cfg.mode, MODE_NETNS);
	assert_string_equal(cfg.netns, "1234");
	assert_string_equal(cfg.guest_ifname, "tap0");
	assert_int_equal(cfg.mtu, 1500);
	assert_false(cfg.configure);
	assert_true(cfg.disable_ipv6);
	assert_false(cfg.disable_host_loopback);
	assert_false(cfg.disable_dns);
	assert_int_equal(cfg.ready_fd, -1);
	assert_int_equal(cfg.exit_fd, -1);
	assert_null(cfg.api_socket);
	assert_null(cfg.userns);
	assert_false(cfg.sandbox || cfg.seccomp || opts.netns_path);
	uint32_t a = config_host_addr(&cfg, CIDR_HOST_DHCP_S4N);
	assert_string_equal(ntop(AF_INET, &a), "10.0.2.15");
}

/* Podman 4.3's rootful call, exactly */
static void podman_command_line(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--disable-host-loopback", "--mtu=65520", "--enable-sandbox",
			       "--enable-seccomp", "--enable-ipv6", "-c", "-e", "3", "-r", "4",
			       "--netns-type=path", "/run/netns/netns-1234", "tap0"), 0);
	assert_true(cfg.disable_host_loopback);
	assert_int_equal(cfg.mtu, 65520);
	assert_true(cfg.sandbox && cfg.seccomp && opts.netns_path);
	assert_false(cfg.disable_ipv6);
	assert_true(cfg.configure);
	assert_int_equal(cfg.exit_fd, 3);
	assert_int_equal(cfg.ready_fd, 4);
	assert_string_equal(cfg.netns, "/run/netns/netns-1234");
	assert_string_equal(cfg.guest_ifname, "tap0");
}

/* RootlessKit 1.1's: values as separate words, no -c, a PID */
static void rootlesskit_command_line(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--mtu", "65520", "-r", "3", "--disable-host-loopback",
			       "--cidr", "10.0.3.0/24", "--api-socket", "/run/user/1000/.s4nn.sock",
			       "--enable-sandbox", "--enable-seccomp", "--enable-ipv6", "4321",
			       "tap0"), 0);
	assert_int_equal(cfg.mtu, 65520);
	assert_int_equal(cfg.ready_fd, 3);
	assert_string_equal(cfg.api_socket, "/run/user/1000/.s4nn.sock");
	assert_string_equal(ntop(AF_INET, &cfg.network), "10.0.3.0");
	assert_int_equal(cfg.prefix_len, 24);
	assert_false(cfg.configure);
	assert_false(opts.netns_path);
	assert_string_equal(cfg.netns, "4321");
}

static int strcmp_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) : a != b;
}

/* @a and @b equal, their strings compared by value (they point into argv) */
static void assert_same_config(const struct config *a, const struct config *b)
{
	static struct config x, y;

	assert_int_equal(strcmp_null(a->userns, b->userns), 0);
	assert_int_equal(strcmp_null(a->netns, b->netns), 0);
	assert_int_equal(strcmp_null(a->api_socket, b->api_socket), 0);
	x = *a;
	y = *b;
	x.userns = y.userns = x.netns = y.netns = x.api_socket = y.api_socket = NULL;
	assert_memory_equal(&x, &y, offsetof(struct config, command));
}

/* each option with a value, as --opt=value, --opt value and (where it has
 * one) -o value: the same result */
static void both_forms(void **state)
{
	static const struct { const char *lng, *shrt, *val; } t[] = {
		{ "--exit-fd", "-e", "7" }, { "--ready-fd", "-r", "8" },
		{ "--mtu", "-m", "9000" }, { "--api-socket", "-a", "/tmp/s" },
		{ "--cidr", NULL, "10.9.0.0/16" }, { "--netns-type", NULL, "pid" },
		{ "--userns-path", NULL, "/proc/1/ns/user" },
		{ "--outbound-addr", NULL, "192.0.2.7" },
		{ "--outbound-addr6", NULL, "2001:db8::7" },
		{ "--macaddress", NULL, "02:00:00:00:00:09" },
		{ "--target-type", NULL, "netns" },
	};
	static struct config want;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char joined[128];

		snprintf(joined, sizeof(joined), "%s=%s", t[i].lng, t[i].val);
		assert_int_equal(PARSE("-c", joined, "99"), 0);
		want = cfg;
		assert_int_equal(PARSE("-c", t[i].lng, t[i].val, "99"), 0);
		assert_int_equal(cfg.mode, MODE_NETNS);
		assert_same_config(&want, &cfg);
		if (t[i].shrt) {
			assert_int_equal(PARSE("-c", t[i].shrt, t[i].val, "99"), 0);
			assert_same_config(&want, &cfg);
		}
	}
}

/* what each value sets */
static void option_values(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-c", "-6", "-m", "9000", "-a", "/tmp/api", "--userns-path=/u",
			       "--outbound-addr=192.0.2.7", "--outbound-addr6=2001:db8::7",
			       "--disable-dns", "--macaddress=02:00:00:00:00:09",
			       "--target-type=netns", "55", "tap9"), 0);
	assert_int_equal(cfg.mtu, 9000);
	assert_false(cfg.disable_ipv6);
	assert_string_equal(cfg.api_socket, "/tmp/api");
	assert_string_equal(cfg.userns, "/u");
	assert_string_equal(ntop(AF_INET, &cfg.outbound4.b[12]), "192.0.2.7");
	assert_string_equal(ntop(AF_INET6, &cfg.outbound6), "2001:db8::7");
	assert_true(cfg.disable_dns);
	assert_true(cfg.have_mac);
	assert_memory_equal(cfg.mac, ((uint8_t[]){ 2, 0, 0, 0, 0, 9 }), 6);
	assert_string_equal(cfg.guest_ifname, "tap9");
	/* options after the positionals, as GNU getopt permutes them */
	assert_int_equal(PARSE("55", "tap1", "--mtu=1280"), 0);
	assert_int_equal(cfg.mtu, 1280);
	assert_string_equal(cfg.guest_ifname, "tap1");
}

/* slirp4netns's maximum is 65521; ours, 65520, serves it */
static void mtu_limits(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--mtu=65521", "1"), 0);
	assert_int_equal(cfg.mtu, 65520);
	assert_int_equal(PARSE("--mtu=68", "1"), 0);
	assert_int_equal(cfg.mtu, 68);
	assert_int_equal(PARSE("--mtu=65522", "1"), -EINVAL);
	assert_non_null(strstr(errbuf, "mtu"));
	assert_int_equal(PARSE("--mtu=67", "1"), -EINVAL);	/* slirp4netns asserts */
	assert_int_equal(PARSE("-m", "abc", "1"), -EINVAL);
}

/* every bad input: -EINVAL and a message that names what is wrong */
static void errors(void **state)
{
	static const struct { const char *args[6]; const char *says; } t[] = {
		{ { NULL }, "PID|PATH" },
		{ { "1", "tap0", "extra" }, "PID|PATH" },
		{ { "/run/netns/x" }, "not a PID" },
		{ { "12a" }, "not a PID" },
		{ { "" }, "not a PID" },
		{ { "--netns-type=path", "" }, "empty" },
		{ { "--netns-type=file", "1" }, "pid or path" },
		{ { "--target-type=bess", "1" }, "bess" },
		{ { "--macaddress=02:00:00:00:00:01", "1" }, "only valid with -c" },
		{ { "-c", "--macaddress=zz", "1" }, "zz" },
		{ { "--cidr=10.0.2.0/33", "1" }, "10.0.2.0/33" },
		{ { "--outbound-addr=2001:db8::1", "1" }, "2001:db8::1" },
		{ { "--outbound-addr6=192.0.2.1", "1" }, "192.0.2.1" },
		{ { "--frobnicate", "1" }, "unknown option '--frobnicate'" },
		{ { "-x", "1" }, "unknown option '-x'" },
		{ { "1", "-e" }, "-e needs a value" },
		{ { "1", "--mtu" }, "--mtu needs a value" },
		{ { "-e", "x", "1" }, "exit-fd" },
		{ { "-r", "-5", "1" }, "ready-fd" },
		{ { "1", "this-name-is-too-long" }, "this-name-is-too-long" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *argv[8] = { 0 };

		memcpy(argv, t[i].args, sizeof(t[i].args));
		assert_int_equal(parse(argv), -EINVAL);
		if (!strstr(errbuf, t[i].says))
			fail_msg("case %zu: '%s' not in: %s", i, t[i].says, errbuf);
	}
}

/* Podman and RootlessKit grep --help for these; it must exit 0 */
static void help_lists_every_flag(void **state)
{
	static const char *const flags[] = {
		"-c, --configure", "-e, --exit-fd", "-r, --ready-fd", "-m, --mtu",
		"-6, --enable-ipv6", "-a, --api-socket", "--cidr", "--disable-host-loopback",
		"--netns-type", "--userns-path", "--enable-sandbox", "--enable-seccomp",
		"--outbound-addr", "--outbound-addr6", "--disable-dns", "--macaddress",
		"--target-type", "-h, --help", "-v, --version",
	};

	(void)state;
	assert_int_equal(PARSE("--help"), CONFIG_EXIT_OK);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strstr(outbuf, flags[i]))
			fail_msg("--help lacks %s", flags[i]);
	assert_true(!strncmp(outbuf, "Usage: slirp4netns [OPTION]... PID|PATH [TAPNAME]\n", 49));
	assert_int_equal(PARSE("-h"), CONFIG_EXIT_OK);
	assert_non_null(strstr(outbuf, "--netns-type"));
}

/* slirp4netns's format: the lines upstream's tests and Podman read */
static void version_format(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--version"), CONFIG_EXIT_OK);
	assert_true(!strncmp(outbuf, "slirp4netns version 1.2.0+xdpslirp\n", 35));
	assert_non_null(strstr(outbuf, "\ncommit: xdpslirp "));
	assert_non_null(strstr(outbuf, "\nlibslirp: "));
	assert_non_null(strstr(outbuf, "\nSLIRP_CONFIG_VERSION_MAX: 4\n"));
	assert_non_null(strstr(outbuf, "\nlibseccomp: "));
	assert_int_equal(PARSE("-v"), CONFIG_EXIT_OK);
	assert_non_null(strstr(outbuf, "slirp4netns version"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(podman_command_line),
		cmocka_unit_test(rootlesskit_command_line),
		cmocka_unit_test(both_forms),
		cmocka_unit_test(option_values),
		cmocka_unit_test(mtu_limits),
		cmocka_unit_test(errors),
		cmocka_unit_test(help_lists_every_flag),
		cmocka_unit_test(version_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
