// SPDX-License-Identifier: MIT
/*
 * fuzz_args.c - libFuzzer target for what a user (or a container engine)
 * types: xdpslirp's command line, slirp4netns's, and the rule and forward
 * syntax the API takes too.
 *
 * Input: arguments separated by NUL bytes.  Both command-line parsers get
 * them as argv; each argument is also parsed as an egress rule and as a
 * -p forward.  Invariants: no crash (sanitizers), and a rule that parses
 * formats to text that parses back to the same rule.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fwd.h"
#include "policy.h"
#include "slirp4netns.h"

#define check(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define MAX_ARGS 64

static struct config cfg;	/* large: not on the stack */
static struct fwd_rule fwd[FWD_MAX];
static FILE *sink;

static void rule_roundtrip(const char *text)
{
	struct policy_rule r, again;
	char buf[POLICY_RULE_TEXT];
	const char *why;

	for (int deny = 0; deny < 2; deny++) {
		if (policy_rule_parse(text, deny, &r, &why))
			continue;
		policy_rule_format(&r, buf, sizeof(buf));
		check(!policy_rule_parse(buf, deny, &again, &why));
		check(again.plen == r.plen && again.proto == r.proto && again.deny == r.deny &&
		      again.port_lo == r.port_lo && again.port_hi == r.port_hi &&
		      inany_equal(&again.prefix, &r.prefix));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct s4n_opts o;
	int argc = 1;

	if (!copy)
		return 0;
	if (!sink) {
		sink = fopen("/dev/null", "w");
		if (!freopen("/dev/null", "w", stdout))	/* --help, --version */
			return 0;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "xdpslirp";
	for (size_t i = 0; i < size && argc <= MAX_ARGS; i += strlen(copy + i) + 1)
		argv[argc++] = copy + i;
	argv[argc] = NULL;
	for (int i = 1; i < argc; i++) {
		rule_roundtrip(argv[i]);
		fwd_parse_publish(argv[i], fwd, FWD_MAX, sink);
	}
	config_parse(&cfg, argc, argv, sink);
	argv[0] = "slirp4netns";
	s4n_parse(&cfg, &o, argc, argv, sink);
	free(copy);
	return 0;
}
