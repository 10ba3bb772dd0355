/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_POLICY_H
#define XDPSLIRP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inany.h"

#define POLICY_MAX_RULES 4096
#define POLICY_RULE_TEXT 80	/* longest policy_rule_format() output, with its NUL */

/*
 * struct policy_rule - one --allow or --deny: destinations of a protocol
 * (0: any) in a prefix, a port range.  The prefix is over the 128 bits of
 * struct inany, so an IPv4 /n is plen 96 + n.
 */
struct policy_rule {
	struct inany prefix;
	uint8_t plen;
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (either
				 * family's echo), or 0: any */
	bool deny;
	uint16_t port_lo, port_hi;	/* host order; 0-65535 for any */
	uint32_t id;		/* the API's name for it */
};

struct policy;

int policy_rule_parse(const char *text, bool deny, struct policy_rule *r, const char **why);
void policy_rule_format(const struct policy_rule *r, char *buf, size_t len);
struct policy *policy_build(const struct policy_rule *rules, unsigned n, bool default_deny);
void policy_free(struct policy *p);
bool policy_denies(const struct policy *p, uint8_t proto, const struct inany *dst,
		   uint16_t port, int *rule);
const struct policy_rule *policy_rules(const struct policy *p, unsigned *n);
uint64_t policy_hits(const struct policy *p, unsigned i);
bool policy_default_deny(const struct policy *p);
void policy_carry_hits(struct policy *to, const struct policy *from);
const char *policy_always_blocked(const struct inany *dst, bool v6);
int policy_blocked_prefix(unsigned i, struct inany *prefix, uint8_t *plen);
void policy_add_hits(struct policy *p, unsigned i, uint64_t n);

#endif
