// SPDX-License-Identifier: MIT
/*
 * addrplan.c - the guest's addresses: the plan of --cidr and --cidr6
 * (slirp4netns's: gateway .2, DNS .3, guest .100), or the IPv4 addresses
 * given one by one (--address, --gateway, --dns-address and their IPv6
 * twins --address6, --gateway6, --dns-address6, as an IPAM plugin hands
 * them out), and the checks that they make a network.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"

#define PREFIX_MAX	25	/* the smallest network holding the guest's .100 */
#define ADDRESS_PREFIX_MAX 30	/* --address: a network with a gateway and DNS */

/* Copies ADDR/LEN @s into @buf, cut at the slash; returns LEN's text or NULL. */
static const char *split_prefix(const char *s, char *buf, size_t size)
{
	char *slash;

	if (strlen(s) >= size)
		return NULL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return slash + 1;
}

bool config_parse_cidr(struct config *cfg, const char *s, FILE *err)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *plen = split_prefix(s, buf, sizeof(buf));
	unsigned long len;
	struct in_addr a;
	uint32_t mask;

	if (!plen || inet_pton(AF_INET, buf, &a) != 1 || !config_parse_uint(plen, 1, 32, &len))
		return false;
	if (len > PREFIX_MAX) {
		fprintf(err, "xdpslirp: --cidr %s: the network must hold the guest's address .%d: use a prefix of /%d or shorter\n",
			s, CIDR_HOST_GUEST, PREFIX_MAX);
		return false;
	}
	mask = htonl(~0u << (32 - len));
	if (a.s_addr & ~mask) {
		struct in_addr net = { a.s_addr & mask };

		fprintf(err, "xdpslirp: --cidr %s: host bits are set; did you mean %s/%lu?\n",
			s, inet_ntoa(net), len);
		return false;
	}
	cfg->network = a.s_addr;
	cfg->prefix_len = (unsigned)len;
	return true;
}

/* The /64 at @p is a global or unique local unicast prefix. */
static bool unicast_prefix(const uint8_t *p)
{
	static const uint8_t zero[8];

	return p[0] != 0xff && !(p[0] == 0xfe && (p[1] & 0xc0) == 0x80) && memcmp(p, zero, 8);
}

/*
 * --cidr6: a /64 (the address plan's host parts are fixed), or "random": a
 * unique local prefix, fd00::/8 with a random 40-bit Global ID (RFC 4193 3.2).
 */
bool config_parse_cidr6(struct config *cfg, const char *s, FILE *err)
{
	char buf[INET6_ADDRSTRLEN + 4];
	const char *plen = split_prefix(s, buf, sizeof(buf));
	struct in6_addr a;
	static const uint8_t zero[8];

	cfg->cidr6_given = true;
	if (!strcmp(s, "random")) {
		uint8_t id[5];

		if (getrandom(id, sizeof(id), 0) != sizeof(id))
			return false;
		memset(cfg->prefix6, 0, sizeof(cfg->prefix6));
		cfg->prefix6[0] = 0xfd;
		memcpy(cfg->prefix6 + 1, id, sizeof(id));
		return true;
	}
	if (!plen || inet_pton(AF_INET6, buf, &a) != 1)
		return false;
	if (strcmp(plen, "64")) {
		fprintf(err, "xdpslirp: --cidr6 %s: only a /64 can be given (SLAAC needs one)\n", s);
		return false;
	}
	if (memcmp(a.s6_addr + 8, zero, 8)) {
		fprintf(err, "xdpslirp: --cidr6 %s: host bits are set\n", s);
		return false;
	}
	if (!unicast_prefix(a.s6_addr)) {
		fprintf(err, "xdpslirp: --cidr6 %s: not a unicast prefix (e.g. fd00::/64)\n", s);
		return false;
	}
	memcpy(cfg->prefix6, a.s6_addr, 8);
	return true;
}


/* A.B.C.D into @out (network byte order); false if it is not one. */
bool config_parse_addr4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = a.s_addr;
	return true;
}

/*
 * --address A.B.C.D/N: the guest's address, and its network (the host
 * bits of A.B.C.D cleared), instead of --cidr's plan.
 */
bool config_parse_address(struct config *cfg, const char *s, FILE *err)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *plen = split_prefix(s, buf, sizeof(buf));
	unsigned long len;
	uint32_t a;

	if (!plen || !config_parse_addr4(buf, &a) || !config_parse_uint(plen, 8, 32, &len))
		return false;
	if (len > ADDRESS_PREFIX_MAX) {
		fprintf(err, "xdpslirp: --address %s: the network must hold the gateway and DNS addresses too: use a prefix of /%d or shorter\n",
			s, ADDRESS_PREFIX_MAX);
		return false;
	}
	cfg->addr_guest = a;
	cfg->prefix_len = (unsigned)len;
	cfg->network = a & config_netmask(cfg);
	return true;
}

/* @a is a host of the guest's network (neither its network nor broadcast address). */
static bool in_network(const struct config *cfg, uint32_t a)
{
	uint32_t mask = config_netmask(cfg);

	return (a & mask) == cfg->network && (a & ~mask) && (a & ~mask) != ~mask;
}

/* Without --gateway or --dns-address next to --address: the first hosts of
 * the network that are not the guest's. */
static uint32_t first_free_host(const struct config *cfg, uint32_t after)
{
	uint32_t h = ntohl(cfg->network) + 1;

	while (htonl(h) == cfg->addr_guest || htonl(h) == after)
		h++;
	return htonl(h);
}

/* The guest's IPv4 address: --address, or the plan's .100. */
uint32_t config_guest_addr(const struct config *cfg)
{
	return cfg->addr_guest ? cfg->addr_guest : config_host_addr(cfg, CIDR_HOST_GUEST);
}

/* The gateway's: --gateway; with --address the network's first host that
 * is not the guest's; else the plan's .2. */
uint32_t config_gateway_addr(const struct config *cfg)
{
	if (cfg->addr_gateway)
		return cfg->addr_gateway;
	return cfg->addr_guest ? first_free_host(cfg, 0) : config_host_addr(cfg, CIDR_HOST_GATEWAY);
}

/* The DNS address: --dns-address; with --address the next host that is
 * neither the guest's nor the gateway's; else the plan's .3. */
uint32_t config_dns_addr(const struct config *cfg)
{
	if (cfg->addr_dns)
		return cfg->addr_dns;
	return cfg->addr_guest ? first_free_host(cfg, config_gateway_addr(cfg)) :
				 config_host_addr(cfg, CIDR_HOST_DNS);
}

/* An IPv6 address into @out; false if @s is not one. */
bool config_parse_addr6(const char *s, struct inany *out)
{
	return inet_pton(AF_INET6, s, out->b) == 1;
}

/*
 * --address6 ADDR/64: the guest's IPv6 address, given as an IPAM plugin
 * hands it out; its /64 is the guest's prefix, as --cidr6 would set it.
 */
bool config_parse_address6(struct config *cfg, const char *s, FILE *err)
{
	char buf[INET6_ADDRSTRLEN + 4];
	const char *plen = split_prefix(s, buf, sizeof(buf));
	static const uint8_t zero[8];
	struct inany a;

	if (!plen || !config_parse_addr6(buf, &a))
		return false;
	if (strcmp(plen, "64")) {
		fprintf(err, "xdpslirp: --address6 %s: the guest's network must be a /64 (SLAAC needs one)\n", s);
		return false;
	}
	if (!unicast_prefix(a.b) || !memcmp(a.b + 8, zero, 8)) {
		fprintf(err, "xdpslirp: --address6 %s: not a unicast host address (e.g. fd00::100/64)\n", s);
		return false;
	}
	memcpy(cfg->prefix6, a.b, 8);
	cfg->addr6_guest = a;
	return true;
}

/* With --address6: the first interface id of the prefix that is neither
 * the guest's nor @after. */
static void first_free_host6(const struct config *cfg, const struct inany *after,
			     struct inany *a)
{
	for (uint32_t h = 1;; h++) {
		config_host_addr6(cfg, h, a);
		if (!inany_equal(a, &cfg->addr6_guest) && (!after || !inany_equal(a, after)))
			return;
	}
}

/* The guest's IPv6 address: --address6, or the plan's ::100. */
void config_guest_addr6(const struct config *cfg, struct inany *a)
{
	if (!inany_is_zero(&cfg->addr6_guest))
		*a = cfg->addr6_guest;
	else
		config_host_addr6(cfg, CIDR6_HOST_GUEST, a);
}

/* The gateway's: --gateway6; with --address6 the prefix's first host that
 * is not the guest's; else the plan's ::2. */
void config_gateway_addr6(const struct config *cfg, struct inany *a)
{
	if (!inany_is_zero(&cfg->addr6_gateway))
		*a = cfg->addr6_gateway;
	else if (!inany_is_zero(&cfg->addr6_guest))
		first_free_host6(cfg, NULL, a);
	else
		config_host_addr6(cfg, CIDR_HOST_GATEWAY, a);
}

/* The DNS address: --dns-address6; with --address6 the next host that is
 * neither the guest's nor the gateway's; else the plan's ::3. */
void config_dns_addr6(const struct config *cfg, struct inany *a)
{
	struct inany gw;

	if (!inany_is_zero(&cfg->addr6_dns)) {
		*a = cfg->addr6_dns;
	} else if (!inany_is_zero(&cfg->addr6_guest)) {
		config_gateway_addr6(cfg, &gw);
		first_free_host6(cfg, &gw, a);
	} else {
		config_host_addr6(cfg, CIDR_HOST_DNS, a);
	}
}

/* The IPv6 addresses: three distinct hosts of the guest's /64. */
static bool plan6_check(const struct config *cfg, FILE *err)
{
	struct inany guest, gw, dns;
	char a[INET6_ADDRSTRLEN];

	if (cfg->cidr6_given && !inany_is_zero(&cfg->addr6_guest)) {
		fprintf(err, "xdpslirp: give --cidr6 or --address6, not both\n");
		return false;
	}
	config_guest_addr6(cfg, &guest);
	config_gateway_addr6(cfg, &gw);
	config_dns_addr6(cfg, &dns);
	if (memcmp(gw.b, cfg->prefix6, 8) || memcmp(dns.b, cfg->prefix6, 8)) {
		fprintf(err, "xdpslirp: %s: not in the guest's /64 (give --address6 with it)\n",
			memcmp(gw.b, cfg->prefix6, 8) ? "--gateway6" : "--dns-address6");
		return false;
	}
	if (inany_equal(&gw, &guest) || inany_equal(&dns, &guest) || inany_equal(&dns, &gw)) {
		fprintf(err, "xdpslirp: the guest (%s), the IPv6 gateway and DNS address must be three different addresses\n",
			inany_ntop(&guest, a, sizeof(a)));
		return false;
	}
	return true;
}

/**
 * config_plan_check() - check the addresses, once every option is in
 * @cfg: parsed configuration
 * @err: where to say what is wrong
 *
 * Return: true if the guest, the gateway and the DNS address are three
 * distinct hosts of the guest's network, in each family.
 */
bool config_plan_check(const struct config *cfg, FILE *err)
{
	uint32_t guest = config_guest_addr(cfg), gw = config_gateway_addr(cfg);
	uint32_t dns = config_dns_addr(cfg);
	char a[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
	const char *what = NULL;

	if (cfg->cidr_given && cfg->addr_guest) {
		fprintf(err, "xdpslirp: give --cidr or --address, not both\n");
		return false;
	}
	if (!in_network(cfg, gw))
		what = "--gateway";
	else if (!in_network(cfg, dns))
		what = "--dns-address";
	if (what) {
		inet_ntop(AF_INET, &cfg->network, n, sizeof(n));
		fprintf(err, "xdpslirp: %s: not a host of the guest's network %s/%u\n", what, n,
			cfg->prefix_len);
		return false;
	}
	if (gw == guest || dns == guest || dns == gw) {
		inet_ntop(AF_INET, &guest, a, sizeof(a));
		fprintf(err, "xdpslirp: the guest (%s), the gateway and the DNS address must be three different addresses\n",
			a);
		return false;
	}
	return plan6_check(cfg, err);
}

/* The address of host number @host in the configured network. */
uint32_t config_host_addr(const struct config *cfg, uint32_t host)
{
	return htonl(ntohl(cfg->network) + host);
}

/* Host number @host of the configured IPv6 prefix. */
void config_host_addr6(const struct config *cfg, uint32_t host, struct inany *a)
{
	uint32_t h = htonl(host);

	memset(a, 0, sizeof(*a));
	memcpy(a->b, cfg->prefix6, 8);
	memcpy(a->b + 12, &h, 4);
}

uint32_t config_netmask(const struct config *cfg)
{
	return htonl(~0u << (32 - cfg->prefix_len));
}
