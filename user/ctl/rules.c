// SPDX-License-Identifier: MIT
/*
 * rules.c - the egress rules at run time: the API's add_rule, remove_rule
 * and list_rules.
 *
 * Theory of operation: the main thread owns the rule list.  A change
 * compiles a new policy from the whole list (policy_build()) and hands it
 * to every worker (engine_policy_set()), which takes it between two
 * bursts; once all have answered, nobody uses the old policy: its hit
 * counts move to the new one (policy_carry_hits()) and it is freed.
 * Established flows are left alone unless the request says "reset": true.
 *
 *   {"execute":"add_rule","arguments":{"rule":"tcp://198.51.100.0/24:443",
 *	"action":"deny","reset":true}}		-> {"return":{"id":3}}
 *   {"execute":"remove_rule","arguments":{"id":3}}	-> {"return":{}}
 *   {"execute":"list_rules"}	-> {"return":{"default":"allow","entries":
 *	[{"id":1,"action":"deny","rule":"udp://10.1.0.0/16:53","hits":4}]}}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "rules.h"

/**
 * rules_init() - the rules of the command line, compiled
 * @rs: zeroed
 * @cfg: its --allow, --deny and --default-deny
 *
 * Return: 0, or -ENOMEM (logged).
 */
int rules_init(struct rule_set *rs, const struct config *cfg)
{
	rs->rules = calloc(POLICY_MAX_RULES, sizeof(*rs->rules));
	rs->host = calloc(POLICY_MAX_RULES, sizeof(*rs->host));
	if (rs->rules && rs->host) {
		memcpy(rs->rules, cfg->rules, cfg->n_rules * sizeof(*rs->rules));
		rs->n = cfg->n_rules;
		rs->next_id = cfg->n_rules + 1;
		rs->default_deny = cfg->default_deny;
		rs->current = policy_build(rs->rules, rs->n, rs->default_deny);
	}
	if (!rs->current) {
		log_err("out of memory for the egress policy");
		return -ENOMEM;
	}
	return 0;
}

/* After the engine stopped. */
void rules_fini(struct rule_set *rs)
{
	policy_free(rs->current);
	free(rs->rules);
	free(rs->host);
	memset(rs, 0, sizeof(*rs));
}

/* The policy of @rules (@n of them) and the host's networks after them. */
static struct policy *compile(const struct rule_set *rs, const struct policy_rule *rules,
			      unsigned n)
{
	static struct policy_rule all[POLICY_MAX_RULES];	/* main thread only */
	unsigned nhost = rs->nhost < POLICY_MAX_RULES - n ? rs->nhost : POLICY_MAX_RULES - n;

	memcpy(all, rules, n * sizeof(*rules));
	memcpy(all + n, rs->host, nhost * sizeof(*rs->host));
	return policy_build(all, n + nhost, rs->default_deny);
}

/*
 * The workers take the policy of @rules (@n of them); on success it is the
 * list.  The old policy is freed only once no worker can use it.
 */
static int rules_commit(struct rule_set *rs, const struct policy_rule *rules, unsigned n,
			bool reset, const char **why)
{
	struct policy *p = compile(rs, rules, n);
	int ret;

	if (!p) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = rs->g ? engine_policy_set(rs->g, p, reset) : 0;
	if (ret) {
		log_err("a worker did not take the new egress policy; the old one is kept in memory");
		*why = "a worker did not answer: the rules may not be in force everywhere";
	} else {
		if (rs->g)
			engine_xdp_policy(rs->g, rs->current, p);
		policy_carry_hits(p, rs->current);
		policy_free(rs->current);
	}
	rs->current = p;
	if (rules != rs->rules)
		memcpy(rs->rules, rules, n * sizeof(*rules));
	rs->n = n;
	return ret;
}

/**
 * rules_set_host() - --block-host-networks: the host's networks now
 * @rs: the rules
 * @host: deny rules, one per address or prefix (hostnets.c)
 * @n: how many
 *
 * Recompiles (without a reset) only if the list changed.
 */
void rules_set_host(struct rule_set *rs, const struct policy_rule *host, unsigned n)
{
	const char *why;

	if (n > POLICY_MAX_RULES)
		n = POLICY_MAX_RULES;
	for (unsigned i = 0; i < n; i++)
		if (i >= rs->nhost || rs->host[i].plen != host[i].plen ||
		    !inany_equal(&rs->host[i].prefix, &host[i].prefix))
			goto changed;
	if (n == rs->nhost)
		return;
changed:
	for (unsigned i = 0; i < n; i++) {
		rs->host[i] = host[i];
		rs->host[i].id = RULES_HOST_ID + i;
	}
	rs->nhost = n;
	log_info("the host's networks: %u addresses and prefixes denied", n);
	if (rules_commit(rs, rs->rules, rs->n, false, &why))
		log_warn("the host's networks: %s", why);
}

/* "reset": absent is false. */
static bool arg_reset(json_t *args, bool *reset)
{
	json_t *v = json_object_get(args, "reset");

	*reset = json_is_true(v);
	return !v || json_is_boolean(v);
}

/* Rule @i's hits: the engine's, and the XDP program's own drops. */
static uint64_t rule_hits(const struct rule_set *rs, unsigned i)
{
	return policy_hits(rs->current, i) + (rs->g ? engine_xdp_rule_drops(rs->g, i) : 0);
}

static json_t *add_rule(struct rule_set *rs, json_t *args, const char **why)
{
	json_t *rule = json_object_get(args, "rule"), *action = json_object_get(args, "action");
	struct policy_rule r;
	bool reset, deny;
	int ret;

	if (!json_is_string(rule) || (action && !json_is_string(action)) || !arg_reset(args, &reset)) {
		*why = "add_rule needs \"rule\" (a string), and takes \"action\" (\"allow\" or \"deny\", the default) and \"reset\" (a boolean)";
		return NULL;
	}
	deny = !action || !strcmp(json_string_value(action), "deny");
	if (!deny && strcmp(json_string_value(action), "allow")) {
		*why = "\"action\" must be \"allow\" or \"deny\"";
		return NULL;
	}
	if (policy_rule_parse(json_string_value(rule), deny, &r, why))
		return NULL;
	if (rs->n == POLICY_MAX_RULES) {
		*why = "too many rules";
		return NULL;
	}
	r.id = rs->next_id;
	rs->rules[rs->n] = r;	/* past the list until committed */
	ret = rules_commit(rs, rs->rules, rs->n + 1, reset, why);
	if (ret == -ENOMEM)
		return NULL;
	rs->next_id++;
	return ret ? NULL : json_pack("{s:{s:i}}", "return", "id", (int)r.id);
}

static json_t *remove_rule(struct rule_set *rs, json_t *args, const char **why)
{
	static struct policy_rule rest[POLICY_MAX_RULES];	/* main thread only */
	json_t *id = json_object_get(args, "id");
	unsigned n = 0;
	bool reset;

	if (!json_is_integer(id) || json_integer_value(id) < 1 || !arg_reset(args, &reset)) {
		*why = "remove_rule needs an integer \"id\", and takes \"reset\" (a boolean)";
		return NULL;
	}
	for (unsigned i = 0; i < rs->n; i++)
		if (rs->rules[i].id != json_integer_value(id))
			rest[n++] = rs->rules[i];
	if (n == rs->n) {
		*why = "no such rule";
		return NULL;
	}
	return rules_commit(rs, rest, n, reset, why) ? NULL : json_pack("{s:{}}", "return");
}

/* The rules with their hits, and the default: list_rules' answer, and
 * get_stats' "policy". */
json_t *rules_list_json(const struct rule_set *rs)
{
	json_t *entries = json_array();
	const struct policy_rule *r;
	unsigned n;

	r = policy_rules(rs->current, &n);
	for (unsigned i = 0; i < n; i++) {
		char text[POLICY_RULE_TEXT];

		policy_rule_format(&r[i], text, sizeof(text));
		json_t *e = json_pack("{s:i,s:s,s:s,s:I}", "id", (int)r[i].id,
				      "action", r[i].deny ? "deny" : "allow", "rule", text,
				      "hits", (json_int_t)rule_hits(rs, i));

		if (r[i].id >= RULES_HOST_ID)	/* --block-host-networks */
			json_object_set_new(e, "host_network", json_true());
		json_array_append_new(entries, e);
	}
	return json_pack("{s:s,s:o}", "default", rs->default_deny ? "deny" : "allow",
			 "entries", entries);
}

/**
 * rules_api() - answer add_rule, remove_rule or list_rules
 * @rs: the rules
 * @cmd: the command
 * @args: its arguments (may be NULL)
 * @why: set when the answer is NULL: what was wrong with the request
 *
 * Return: the answer, or NULL (see @why); NULL with @why NULL: not a
 * rules command.
 */
json_t *rules_api(struct rule_set *rs, const char *cmd, json_t *args, const char **why)
{
	*why = NULL;
	if (!strcmp(cmd, "add_rule"))
		return add_rule(rs, args, why);
	if (!strcmp(cmd, "remove_rule"))
		return remove_rule(rs, args, why);
	if (!strcmp(cmd, "list_rules"))
		return json_pack("{s:o}", "return", rules_list_json(rs));
	return NULL;
}
