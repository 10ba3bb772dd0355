// SPDX-License-Identifier: MIT
/*
 * policy.c - egress policy: where the guest may open flows to.
 *
 * Theory of operation: --allow and --deny rules (policy_rule_parse(), the
 * syntax of slirpnetstack: [tcp|udp|icmp://]PREFIX[:PORT[-LAST]]) are
 * compiled into an immutable struct policy, a binary trie over the 128 bits
 * of struct inany, so that both families are one lookup (an IPv4 /n sits
 * at depth 96 + n).  A lookup walks the destination's bits from the root
 * and looks at the rules on each node it passes: the deepest matching
 * deny rule and the deepest matching allow rule are remembered.  A deny
 * wins over an allow; within each, the most specific prefix is the one
 * that decides (and is credited).  No rule: the default, allow unless
 * --default-deny.
 *
 * A new policy replaces the old one whole (the main thread builds it, each
 * worker takes the new pointer between bursts), so a lookup takes no lock.
 *
 * policy_always_blocked() is the list no rule opens, checked before the
 * rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define NO_NODE 0		/* the root is node 0: never anyone's child */
#define NO_RULE UINT32_MAX

struct policy_node {
	uint32_t child[2];
	uint32_t first;		/* first rule on this node, or NO_RULE */
};

struct policy {
	bool default_deny;
	unsigned nrules;
	struct policy_rule *rules;
	uint32_t *next;		/* next rule on the same node */
	uint64_t *hits;		/* flows (datagrams) each rule decided; the
				 * workers add with relaxed atomics */
	struct policy_node *nodes;
	uint32_t nnodes;
};

/* Bit @i of @a, counted from the most significant bit of its first byte. */
static unsigned addr_bit(const struct inany *a, unsigned i)
{
	return (a->b[i / 8] >> (7 - i % 8)) & 1;
}

/* True if @a has a bit set past the first @plen. */
static bool host_bits_set(const struct inany *a, unsigned plen)
{
	for (unsigned i = plen; i < 128; i++)
		if (addr_bit(a, i))
			return true;
	return false;
}

/* "udp://" and the like: the protocol, and where the prefix starts. */
static const char *parse_scheme(const char *s, uint8_t *proto)
{
	static const struct { const char *name; uint8_t proto; } schemes[] = {
		{ "tcp://", IPPROTO_TCP }, { "udp://", IPPROTO_UDP }, { "icmp://", IPPROTO_ICMP },
	};

	*proto = 0;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(s, schemes[i].name, strlen(schemes[i].name))) {
			*proto = schemes[i].proto;
			return s + strlen(schemes[i].name);
		}
	return strstr(s, "://") ? NULL : s;
}

/* "N" or "N-M" (decimal, 0-65535, N <= M). */
static bool parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return false;
		b = strtoul(end + 1, &end, 10);
	}
	if (*end || a > 65535 || b > 65535 || a > b)
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

/* "N" (what followed a '/') up to @max, or NULL (no '/'): @max. */
static bool parse_plen(const char *s, unsigned max, unsigned *plen)
{
	unsigned long n;
	char *end;

	if (!s) {
		*plen = max;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	n = strtoul(s, &end, 10);
	if (*end || n > max)
		return false;
	*plen = (unsigned)n;
	return true;
}

/* Cuts @s at its first @c; returns what followed, or NULL if none. */
static char *cut(char *s, char c)
{
	char *p = strchr(s, c);

	if (p)
		*p++ = '\0';
	return p;
}

/*
 * Splits "[ADDR]/N:PORTS", "ADDR/N:PORTS" (IPv4) or "ADDR/N" (IPv6, no
 * brackets, so no port) into the address, the length (or NULL) and the
 * ports (or NULL).
 */
static bool split_prefix(char *s, char **addr, char **plen, char **ports, bool *v6)
{
	if (*s == '[') {
		char *rest = cut(s + 1, ']');

		if (!rest || (*rest && *rest != '/' && *rest != ':'))
			return false;
		*addr = s + 1;
		*v6 = true;
		*ports = cut(rest, ':');
		*plen = *rest == '/' ? rest + 1 : NULL;
		return true;
	}
	*addr = s;
	*v6 = strchr(s, ':') != strrchr(s, ':');	/* two colons or more */
	*ports = *v6 ? NULL : cut(s, ':');
	*plen = cut(s, '/');
	return true;
}

/**
 * policy_rule_parse() - read one --allow or --deny rule
 * @text: [tcp|udp|icmp://]PREFIX[:PORT[-LAST]]; PREFIX is a.b.c.d[/n], or
 *	  [v6]/n (brackets needed with a port); no scheme: every protocol
 * @deny: a --deny rule
 * @r: filled (its id left 0)
 * @why: on error, what is wrong (for the user)
 *
 * Return: 0, or -EINVAL.
 */
int policy_rule_parse(const char *text, bool deny, struct policy_rule *r, const char **why)
{
	char buf[128], *addr, *plen_s, *ports;
	struct in6_addr a6;
	struct in_addr a4;
	const char *rest;
	unsigned plen;
	bool v6;

	*r = (struct policy_rule){ .deny = deny, .port_hi = 65535 };
	rest = parse_scheme(text, &r->proto);
	if (!rest) {
		*why = "the protocol must be tcp://, udp:// or icmp://";
		return -EINVAL;
	}
	if (strlen(rest) >= sizeof(buf) - 1 || !*rest) {
		*why = "expected PREFIX[:PORT[-LAST]]";
		return -EINVAL;
	}
	strcpy(buf, rest);
	if (!split_prefix(buf, &addr, &plen_s, &ports, &v6)) {
		*why = "an IPv6 prefix is written [ADDRESS]/LENGTH";
		return -EINVAL;
	}
	if (v6 ? inet_pton(AF_INET6, addr, &a6) != 1 : inet_pton(AF_INET, addr, &a4) != 1) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (!parse_plen(plen_s, v6 ? 128 : 32, &plen)) {
		*why = v6 ? "the prefix length must be /0 to /128" : "the prefix length must be /0 to /32";
		return -EINVAL;
	}
	if (ports && (r->proto == IPPROTO_ICMP || !parse_ports(ports, &r->port_lo, &r->port_hi))) {
		*why = r->proto == IPPROTO_ICMP ? "icmp:// takes no port" :
		       "the port must be PORT or FIRST-LAST, 0 to 65535";
		return -EINVAL;
	}
	if (v6)
		memcpy(r->prefix.b, &a6, 16);
	else
		inany_from_v4(&r->prefix, a4.s_addr);
	r->plen = (uint8_t)(v6 ? plen : 96 + plen);
	if (host_bits_set(&r->prefix, r->plen)) {
		*why = "the address has bits set past the prefix length";
		return -EINVAL;
	}
	return 0;
}

/* The rule as policy_rule_parse() reads it; @len >= POLICY_RULE_TEXT. */
void policy_rule_format(const struct policy_rule *r, char *buf, size_t len)
{
	const char *scheme = r->proto == IPPROTO_TCP ? "tcp://" : r->proto == IPPROTO_UDP ?
			     "udp://" : r->proto == IPPROTO_ICMP ? "icmp://" : "";
	bool v4 = inany_is_v4(&r->prefix) && r->plen >= 96;
	char a[INET6_ADDRSTRLEN], ports[16] = "";

	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? (const void *)(r->prefix.b + 12) : r->prefix.b,
		  a, sizeof(a));
	if (r->port_lo == r->port_hi)
		snprintf(ports, sizeof(ports), ":%u", r->port_lo);
	else if (r->port_lo || r->port_hi != 65535)
		snprintf(ports, sizeof(ports), ":%u-%u", r->port_lo, r->port_hi);
	snprintf(buf, len, v4 ? "%s%s/%u%s" : "%s[%s]/%u%s", scheme, a,
		 v4 ? r->plen - 96u : r->plen, ports);
}

/* Hangs rule @i on the node of its prefix, making the path to it. */
static void policy_insert(struct policy *p, uint32_t i)
{
	const struct policy_rule *r = &p->rules[i];
	uint32_t n = 0;

	for (unsigned d = 0; d < r->plen; d++) {
		unsigned bit = addr_bit(&r->prefix, d);

		if (p->nodes[n].child[bit] == NO_NODE) {
			p->nodes[p->nnodes] = (struct policy_node){ .first = NO_RULE };
			p->nodes[n].child[bit] = p->nnodes++;
		}
		n = p->nodes[n].child[bit];
	}
	p->next[i] = p->nodes[n].first;
	p->nodes[n].first = i;
}

/**
 * policy_build() - compile rules into a policy
 * @rules: the rules (copied)
 * @n: how many, at most POLICY_MAX_RULES
 * @default_deny: what no rule matches is denied
 *
 * Return: the policy (policy_free() it), or NULL: out of memory.
 */
struct policy *policy_build(const struct policy_rule *rules, unsigned n, bool default_deny)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p || n > POLICY_MAX_RULES)
		goto fail;
	p->default_deny = default_deny;
	p->nrules = n;
	p->rules = calloc(n ? n : 1, sizeof(*p->rules));
	p->next = calloc(n ? n : 1, sizeof(*p->next));
	p->nodes = calloc((size_t)n * 128 + 1, sizeof(*p->nodes));
	p->hits = calloc(n ? n : 1, sizeof(*p->hits));
	if (!p->rules || !p->next || !p->nodes || !p->hits)
		goto fail;
	if (n)
		memcpy(p->rules, rules, n * sizeof(*rules));
	p->nodes[0].first = NO_RULE;
	p->nnodes = 1;
	for (uint32_t i = 0; i < n; i++)
		policy_insert(p, i);
	return p;
fail:
	policy_free(p);
	return NULL;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p->next);
	free(p->nodes);
	free(p->hits);
	free(p);
}

/* Does @r cover a flow of @proto to @port (the destination already does)? */
static bool rule_covers(const struct policy_rule *r, uint8_t proto, uint16_t port)
{
	bool any_port = !r->port_lo && r->port_hi == 65535;

	if (r->proto && r->proto != proto)
		return false;
	if (proto == IPPROTO_ICMP)
		return any_port;
	return port >= r->port_lo && port <= r->port_hi;
}

/**
 * policy_denies() - the policy's verdict on a new flow
 * @p: the policy
 * @proto: IPPROTO_TCP, IPPROTO_UDP, or IPPROTO_ICMP for an echo request
 *	   of either family
 * @dst: where it goes
 * @port: its destination port, host order (0 for ICMP)
 * @rule: set to the index of the rule that decided, or -1 (the default)
 *
 * Return: true if the flow is denied.
 */
bool policy_denies(const struct policy *p, uint8_t proto, const struct inany *dst,
		   uint16_t port, int *rule)
{
	int deny = -1, allow = -1;
	uint32_t n = 0;

	for (unsigned d = 0;; d++) {
		for (uint32_t i = p->nodes[n].first; i != NO_RULE; i = p->next[i]) {
			const struct policy_rule *r = &p->rules[i];

			if (rule_covers(r, proto, port)) {
				if (r->deny)
					deny = (int)i;
				else
					allow = (int)i;
			}
		}
		if (d == 128 || p->nodes[n].child[addr_bit(dst, d)] == NO_NODE)
			break;
		n = p->nodes[n].child[addr_bit(dst, d)];
	}
	*rule = deny >= 0 ? deny : allow;
	if (*rule >= 0)
		__atomic_fetch_add(&p->hits[*rule], 1, __ATOMIC_RELAXED);
	return deny >= 0 || (allow < 0 && p->default_deny);
}

/* The rules of @p, in the order given to policy_build(), and how many. */
const struct policy_rule *policy_rules(const struct policy *p, unsigned *n)
{
	*n = p->nrules;
	return p->rules;
}

uint64_t policy_hits(const struct policy *p, unsigned i)
{
	return __atomic_load_n(&p->hits[i], __ATOMIC_RELAXED);
}

bool policy_default_deny(const struct policy *p)
{
	return p->default_deny;
}

/**
 * policy_carry_hits() - a new policy takes the hit counts of the old
 * @to: the new policy
 * @from: the old one, which no worker uses any longer
 *
 * Rules are matched by id; both lists are in ascending id order.
 */
void policy_carry_hits(struct policy *to, const struct policy *from)
{
	for (unsigned i = 0, j = 0; i < from->nrules && j < to->nrules;) {
		if (from->rules[i].id < to->rules[j].id) {
			i++;
		} else if (from->rules[i].id > to->rules[j].id) {
			j++;
		} else {
			__atomic_fetch_add(&to->hits[j++], from->hits[i++], __ATOMIC_RELAXED);
		}
	}
}

/*
 * Destinations no rule opens, as slirpnetstack blocks them: none is a host
 * the guest may legitimately reach through a gateway, and each would reach
 * something of the host's own or slip around rules written for the other
 * family.  The guest's own prefixes are blocked by the caller (it knows
 * them); the gateway's addresses there are the engine's, mapped to the
 * host's loopback only as hostaddr.c says.
 */
static const struct blocked {
	uint8_t b[16];
	uint8_t plen;
	const char *why;
} blocked[] = {
	{ { [10] = 0xff, [11] = 0xff, [12] = 0 }, 96 + 8, "0.0.0.0/8: \"this network\", not a destination" },
	{ { [10] = 0xff, [11] = 0xff, [12] = 127 }, 96 + 8,
	  "127.0.0.0/8: the host's loopback (only the gateway's address reaches it)" },
	{ { [10] = 0xff, [11] = 0xff, [12] = 169, [13] = 254 }, 96 + 16,
	  "169.254.0.0/16: the host's link-local networks" },
	{ { [10] = 0xff, [11] = 0xff, [12] = 224 }, 96 + 4, "224.0.0.0/4: multicast" },
	{ { [10] = 0xff, [11] = 0xff, [12] = 240 }, 96 + 4,
	  "240.0.0.0/4: reserved, and 255.255.255.255, broadcast" },
	{ { 0 }, 128, "::: the unspecified address" },
	{ { [15] = 1 }, 128, "::1: the host's loopback (only the gateway's address reaches it)" },
	{ { 0 }, 96, "::/96: IPv4-compatible, would reach IPv4 around its rules" },
	{ { 0, 0x64, 0xff, 0x9b }, 96, "64:ff9b::/96: NAT64, would reach IPv4 around its rules" },
	{ { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, "64:ff9b:1::/48: local NAT64" },
	{ { 0xfe, 0x80 }, 10, "fe80::/10: the host's links" },
	{ { 0xff }, 8, "ff00::/8: multicast" },
};

/**
 * policy_blocked_prefix() - entry @i of the always-blocked list
 * @i: from 0
 * @prefix: set to its prefix
 * @plen: and length, over the 128 bits of struct inany
 *
 * For the XDP program's copy of the list (xdp_policy.c).  After the list,
 * one more: ::ffff:0:0/96, blocked for IPv6 datagrams only.
 *
 * Return: 1 for a list entry, 2 for the IPv6-only one, 0 past the end.
 */
int policy_blocked_prefix(unsigned i, struct inany *prefix, uint8_t *plen)
{
	const unsigned n = sizeof(blocked) / sizeof(blocked[0]);

	memset(prefix, 0, sizeof(*prefix));
	if (i < n) {
		memcpy(prefix->b, blocked[i].b, 16);
		*plen = blocked[i].plen;
		return 1;
	}
	if (i > n)
		return 0;
	prefix->b[10] = prefix->b[11] = 0xff;
	*plen = 96;
	return 2;
}

/* Adds @n to rule @i's hits (what the XDP program decided on its own). */
void policy_add_hits(struct policy *p, unsigned i, uint64_t n)
{
	if (i < p->nrules)
		__atomic_fetch_add(&p->hits[i], n, __ATOMIC_RELAXED);
}

/* True if @a is in the prefix @b/@plen: whole bytes, then the rest. */
static bool in_prefix(const struct inany *a, const uint8_t *b, unsigned plen)
{
	unsigned n = plen / 8, rest = plen % 8;
	uint8_t mask = (uint8_t)(0xff00 >> rest);

	return !memcmp(a->b, b, n) && (!rest || !((a->b[n] ^ b[n]) & mask));
}

/**
 * policy_always_blocked() - is @dst one of the destinations no rule opens?
 * @dst: where a guest's datagram goes
 * @v6: it is an IPv6 datagram (an IPv4-mapped destination is then blocked)
 *
 * Return: why it is blocked, or NULL.
 */
const char *policy_always_blocked(const struct inany *dst, bool v6)
{
	if (v6 && inany_is_v4(dst))
		return "::ffff:0:0/96: IPv4-mapped, would reach IPv4 around its rules";
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
		if (inany_is_v4(dst) == (blocked[i].plen > 96 && blocked[i].b[11] == 0xff) &&
		    in_prefix(dst, blocked[i].b, blocked[i].plen))
			return blocked[i].why;
	return NULL;
}
