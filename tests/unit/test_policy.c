// SPDX-License-Identifier: MIT
/* Egress policy: rule syntax (good and bad), verdicts, the blocked list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "policy.h"

static struct inany addr(const char *s)
{
	struct inany a = { 0 };
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1)
		inany_from_v4(&a, a4.s_addr);
	else
		assert_int_equal(inet_pton(AF_INET6, s, a.b), 1);
	return a;
}

static void parse_and_format(void **state)
{
	static const char *const good[][2] = {
		{ "udp://192.168.1.0/24:53-53", "udp://192.168.1.0/24:53" },
		{ "tcp://[2001:db8::]/32:443", "tcp://[2001:db8::]/32:443" },
		{ "10.0.0.1", "10.0.0.1/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "2001:db8::/48", "[2001:db8::]/48" },
		{ "[::1]:53", "[::1]/128:53" },
		{ "icmp://198.51.100.0/24", "icmp://198.51.100.0/24" },
		{ "tcp://10.0.0.0/8:1000-2000", "tcp://10.0.0.0/8:1000-2000" },
	};
	char buf[POLICY_RULE_TEXT];
	struct policy_rule r;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(policy_rule_parse(good[i][0], false, &r, &why), 0);
		policy_rule_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, good[i][1]);
	}
}

static void bad_rules(void **state)
{
	static const char *const bad[] = {
		"", "sctp://10.0.0.0/8", "tcp://", "10.0.0.0/33", "10.0.0.1/24", "10.0.0.0/8:",
		"10.0.0.0/8:70000", "10.0.0.0/8:20-10", "icmp://10.0.0.0/8:1", "[2001:db8::/32",
		"[2001:db8::]/129", "300.1.1.1", "10.0.0.0/-1", "10.0.0.0/8:1-", "tcp://[1.2.3.4]",
		"10.0.0.0/8:a", "2001:db8::1/64",
	};
	struct policy_rule r;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(policy_rule_parse(bad[i], true, &r, &why), -22);
		assert_non_null(why);
	}
}

static struct policy *build(bool default_deny, const char *const *allow, const char *const *deny)
{
	struct policy_rule rules[16];
	const char *why;
	unsigned n = 0;

	for (; allow && *allow; allow++)
		assert_int_equal(policy_rule_parse(*allow, false, &rules[n++], &why), 0);
	for (; deny && *deny; deny++)
		assert_int_equal(policy_rule_parse(*deny, true, &rules[n++], &why), 0);
	return policy_build(rules, n, default_deny);
}

static void verdicts(void **state)
{
	static const char *const allow[] = { "tcp://198.51.100.0/24:443", "udp://10.1.0.0/16",
					     "[2001:db8::]/32", NULL };
	static const char *const deny[] = { "198.51.100.7", "udp://10.1.2.0/24:53-53",
					    "tcp://[2001:db8:1::]/48:80", NULL };
	struct policy *p = build(false, allow, deny);
	struct inany a;
	int rule;

	(void)state;
	assert_non_null(p);
	a = addr("198.51.100.7");	/* deny wins over allow */
	assert_true(policy_denies(p, IPPROTO_TCP, &a, 443, &rule));
	assert_int_equal(rule, 3);
	a = addr("198.51.100.8");
	assert_false(policy_denies(p, IPPROTO_TCP, &a, 443, &rule));
	assert_int_equal(rule, 0);
	assert_false(policy_denies(p, IPPROTO_TCP, &a, 80, &rule));	/* default allow */
	assert_int_equal(rule, -1);
	a = addr("10.1.2.3");
	assert_true(policy_denies(p, IPPROTO_UDP, &a, 53, &rule));
	assert_int_equal(rule, 4);
	assert_false(policy_denies(p, IPPROTO_UDP, &a, 54, &rule));
	assert_int_equal(rule, 1);
	assert_false(policy_denies(p, IPPROTO_TCP, &a, 53, &rule));	/* not tcp */
	a = addr("2001:db8:1::5");
	assert_true(policy_denies(p, IPPROTO_TCP, &a, 80, &rule));
	assert_false(policy_denies(p, IPPROTO_ICMP, &a, 0, &rule));
	assert_int_equal(rule, 2);
	policy_free(p);
}

static void default_deny(void **state)
{
	static const char *const allow[] = { "tcp://198.51.100.0/24:443", "icmp://0.0.0.0/0", NULL };
	static const char *const deny[] = { "icmp://198.51.100.9", NULL };
	struct policy *p = build(true, allow, deny);
	struct inany a = addr("198.51.100.1");
	int rule;

	(void)state;
	assert_false(policy_denies(p, IPPROTO_TCP, &a, 443, &rule));
	assert_true(policy_denies(p, IPPROTO_TCP, &a, 444, &rule));
	assert_int_equal(rule, -1);
	assert_true(policy_denies(p, IPPROTO_UDP, &a, 443, &rule));
	assert_false(policy_denies(p, IPPROTO_ICMP, &a, 0, &rule));
	a = addr("198.51.100.9");
	assert_true(policy_denies(p, IPPROTO_ICMP, &a, 0, &rule));
	assert_int_equal(rule, 2);
	a = addr("2001:db8::1");	/* an IPv4 /0 is not IPv6 */
	assert_true(policy_denies(p, IPPROTO_ICMP, &a, 0, &rule));
	policy_free(p);
}

static void many_rules(void **state)
{
	static struct policy_rule rules[POLICY_MAX_RULES];
	struct policy *p;
	struct inany a;
	int rule;

	(void)state;
	for (unsigned i = 0; i < POLICY_MAX_RULES; i++) {
		rules[i] = (struct policy_rule){ .plen = 128, .deny = true, .port_hi = 65535 };
		inany_from_v4(&rules[i].prefix, htonl(0x0a000000 + i));
	}
	p = policy_build(rules, POLICY_MAX_RULES, false);
	assert_non_null(p);
	a = addr("10.0.15.255");
	assert_true(policy_denies(p, IPPROTO_UDP, &a, 1, &rule));
	assert_int_equal(rule, 4095);
	a = addr("10.0.16.0");
	assert_false(policy_denies(p, IPPROTO_UDP, &a, 1, &rule));
	policy_free(p);
	assert_null(policy_build(rules, POLICY_MAX_RULES + 1, false));
}

static void always_blocked(void **state)
{
	static const char *const blocked4[] = { "0.1.2.3", "127.0.0.1", "224.0.0.1",
						"255.255.255.255", "169.254.169.254", NULL };
	static const char *const blocked6[] = { "::", "::1", "::ffff:1.2.3.4", "::1.2.3.4",
						"64:ff9b::1.2.3.4", "fe80::1", "ff02::1", NULL };
	static const char *const open[] = { "198.51.100.1", "10.0.0.1", "2001:db8::1",
					    "64:ff9c::1", NULL };
	struct inany a;

	(void)state;
	for (const char *const *s = blocked4; *s; s++) {
		a = addr(*s);
		assert_non_null(policy_always_blocked(&a, false));
	}
	for (const char *const *s = blocked6; *s; s++) {
		a = addr(*s);
		if (!strchr(*s, '.') || strchr(*s, ':'))
			assert_non_null(policy_always_blocked(&a, true));
	}
	for (const char *const *s = open; *s; s++) {
		a = addr(*s);
		assert_null(policy_always_blocked(&a, !inany_is_v4(&a)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_and_format),
		cmocka_unit_test(bad_rules),
		cmocka_unit_test(verdicts),
		cmocka_unit_test(default_deny),
		cmocka_unit_test(many_rules),
		cmocka_unit_test(always_blocked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
