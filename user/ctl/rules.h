/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_RULES_H
#define XDPSLIRP_RULES_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "policy.h"

struct guest;

/*
 * struct rule_set - the egress rules as they stand, in the main thread
 * (rules.c): the list in id order, and the policy compiled from it that
 * the workers use.
 */
struct rule_set {
	struct policy_rule *rules;	/* POLICY_MAX_RULES */
	unsigned n;
	uint32_t next_id;		/* ids start at 1 and are never reused */
	bool default_deny;
	struct policy *current;
	struct guest *g;		/* NULL until the engine serves it */
	struct policy_rule *host;	/* --block-host-networks: POLICY_MAX_RULES */
	unsigned nhost;
};

/* Ids of the host's networks' rules: listed, not removable. */
#define RULES_HOST_ID	1000000000u

int rules_init(struct rule_set *rs, const struct config *cfg);
void rules_fini(struct rule_set *rs);
json_t *rules_list_json(const struct rule_set *rs);
json_t *rules_api(struct rule_set *rs, const char *cmd, json_t *args, const char **why);
void rules_set_host(struct rule_set *rs, const struct policy_rule *host, unsigned n);

#endif
