// SPDX-License-Identifier: MIT
/*
 * xdp_policy.c - the egress policy as the XDP program reads it.
 *
 * Theory of operation: the XDP program (bpf/xdpslirp.bpf.c) judges the
 * first frame of a new flow by one longest-prefix lookup.  For that, every
 * prefix that a rule or the always-blocked list names (and ::/0) becomes
 * an entry listing all the rules whose prefix contains it, shortest first,
 * in the engine's order: for any destination, the longest matching entry
 * then holds exactly the rules policy_denies() would walk to, and the
 * program takes the same decision.  An entry that would list more than
 * XDP_POLICY_INLINE rules says "punt": the engine decides those.
 *
 * The main thread rewrites the map at start and after each change of the
 * rules (rules.c), after the workers took the new policy: the old entries
 * are deleted first, so a frame in between finds none and goes to the
 * engine, which already judges by the new rules.  What the program dropped
 * is counted per rule slot (the rule's index) and folded into the old
 * policy's hit counts before a new one replaces it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "gateway.h"
#include "log.h"
#include "policy.h"
#include "xdp.h"
#include "xdpslirp.skel.h"

/* A rule, or a blocked prefix, with where it applies. */
struct item {
	struct inany prefix;
	uint8_t plen;
	unsigned order;			/* as given: ties keep it */
	struct xdp_policy_rule r;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Does @outer's prefix contain @inner's (which is at least as long)? */
static bool contains(const struct item *outer, const struct item *inner)
{
	unsigned n = outer->plen / 8, rest = outer->plen % 8;
	uint8_t mask = (uint8_t)(0xff00 >> rest);

	if (outer->plen > inner->plen)
		return false;
	return !memcmp(outer->prefix.b, inner->prefix.b, n) &&
	       (!rest || !((outer->prefix.b[n] ^ inner->prefix.b[n]) & mask));
}

/* The policy's rules, the blocked list and ::/0, sorted shortest first. */
static struct item *collect(const struct policy *p, unsigned *count)
{
	unsigned nrules = 0, n = 0;
	const struct policy_rule *rules = p ? policy_rules(p, &nrules) : NULL;
	struct item *it = calloc(nrules + 64, sizeof(*it));
	int kind;

	if (!it)
		return NULL;
	for (unsigned i = 0; i < nrules; i++, n++) {
		it[n] = (struct item){
			.prefix = rules[i].prefix, .plen = rules[i].plen, .order = n,
			.r = { .index = (uint16_t)i, .proto = rules[i].proto,
			       .flags = rules[i].deny ? XDP_RULE_DENY : 0,
			       .port_lo = rules[i].port_lo, .port_hi = rules[i].port_hi },
		};
	}
	for (unsigned i = 0; (kind = policy_blocked_prefix(i, &it[n].prefix, &it[n].plen)); i++, n++) {
		it[n].order = n;
		it[n].r.flags = XDP_RULE_BLOCKED | (kind == 2 ? XDP_RULE_V6_ONLY : 0);
	}
	it[n].order = n;	/* ::/0 with no rule: every lookup matches something */
	it[n].r.flags = XDP_RULE_BLOCKED;
	it[n++].plen = 0;
	qsort(it, n, sizeof(*it), item_cmp);
	*count = n;
	return it;
}

/* The entry for the prefix of @it[@at]: every item containing it. */
static void build_entry(const struct item *it, unsigned at, struct xdp_policy_entry *e)
{
	memset(e, 0, sizeof(*e));
	for (unsigned i = 0; i < at + 1; i++) {
		if (!it[i].plen && it[i].r.flags == XDP_RULE_BLOCKED)
			continue;	/* the ::/0 placeholder */
		if (!contains(&it[i], &it[at]))
			continue;
		if (e->n == XDP_POLICY_INLINE) {
			e->punt = 1;
			return;
		}
		e->r[e->n++] = it[i].r;
	}
}

static void key_of(const struct item *i, struct xdp_policy_key *k)
{
	k->prefixlen = i->plen;
	memcpy(k->addr, i->prefix.b, 16);
}

/* Deletes the entries written last time. */
static void forget_entries(struct xdp_prog *x)
{
	int fd = bpf_map__fd(x->skel->maps.policy);

	for (unsigned i = 0; i < x->npolicy_keys; i++)
		bpf_map_delete_elem(fd, &x->policy_keys[i]);
	x->npolicy_keys = 0;
}

/**
 * xdp_policy_write() - make the XDP program judge by @p
 * @x: the loaded program
 * @p: the policy the workers use (NULL: no rules)
 * @gw: the gateway: the guest's prefixes, which the program leaves alone
 *
 * Return: 0, or negative errno (logged; the program then judges nothing,
 * and the engine everything).
 */
int xdp_policy_write(struct xdp_prog *x, const struct policy *p, const struct gateway *gw)
{
	struct xdp_policy_cfg cfg = {
		.default_deny = p && policy_default_deny(p),
		.net4 = gw->gw_addr & gw->netmask, .mask4 = gw->netmask, .ipv6 = gw->ipv6,
	};
	int fd = bpf_map__fd(x->skel->maps.policy), ret = 0;
	unsigned n = 0, zero = 0;
	struct item *it = collect(p, &n);

	memcpy(cfg.prefix6, gw->gw6.b, 8);
	bpf_map_update_elem(bpf_map__fd(x->skel->maps.policy_cfg), &zero,
			    &(struct xdp_policy_cfg){ 0 }, 0);
	forget_entries(x);
	free(x->policy_keys);
	x->policy_keys = it ? calloc(n, sizeof(*x->policy_keys)) : NULL;
	if (!x->policy_keys) {
		free(it);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n && !ret; i++) {
		struct xdp_policy_entry e;
		struct xdp_policy_key k;

		/* a prefix named twice is written twice: the later entry,
		 * which lists the earlier item too, stays */
		build_entry(it, i, &e);
		key_of(&it[i], &k);
		if (bpf_map_update_elem(fd, &k, &e, 0))
			ret = -errno;
		else
			x->policy_keys[x->npolicy_keys++] = k;
	}
	free(it);
	cfg.enabled = !ret;
	if (!ret && bpf_map_update_elem(bpf_map__fd(x->skel->maps.policy_cfg), &zero, &cfg, 0))
		ret = -errno;
	if (ret)
		log_err("cannot give the XDP program the egress rules: %s; the engine enforces them alone",
			strerror(-ret));
	return ret;
}

/* Frames the program dropped for rule slot @slot, over every CPU. */
uint64_t xdp_policy_drops(const struct xdp_prog *x, unsigned slot)
{
	uint64_t sum = 0, vals[256];

	if (!x->skel || x->ncpus <= 0 || x->ncpus > 256 ||
	    bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.rule_drops), &slot, vals))
		return 0;
	for (int c = 0; c < x->ncpus; c++)
		sum += vals[c];
	return sum;
}

/* Moves what the program dropped under @p into @p's hit counts. */
void xdp_policy_fold_drops(struct xdp_prog *x, struct policy *p)
{
	uint64_t zeros[256] = { 0 };
	unsigned n;

	if (!x->skel || !p)
		return;
	policy_rules(p, &n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t d = xdp_policy_drops(x, i);

		if (!d)
			continue;
		policy_add_hits(p, i, d);
		bpf_map_update_elem(bpf_map__fd(x->skel->maps.rule_drops), &i, zeros, 0);
	}
}

/* A UDP forward's guest port (host order): its datagrams are replies. */
void xdp_policy_fwd_udp(struct xdp_prog *x, uint16_t guest_port, bool add)
{
	uint16_t k = htons(guest_port);
	uint8_t one = 1;
	int fd;

	if (!x->skel)
		return;
	fd = bpf_map__fd(x->skel->maps.fwd_udp);
	if (add ? bpf_map_update_elem(fd, &k, &one, 0) : bpf_map_delete_elem(fd, &k))
		log_warn("XDP: UDP forward to guest port %u: %s", guest_port, strerror(errno));
}
