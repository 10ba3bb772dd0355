/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_FWD_H
#define XDPSLIRP_FWD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "inany.h"

#define FWD_MAX		4096	/* forwarded ports, in all */
#define FWD_TO_HOST_MAX	16	/* --forward-to-host rules */

/*
 * One forwarded port: host HOST_ADDR:HOST_PORT to the guest's GUEST_PORT.
 * HOST_ADDR is of either family: 0.0.0.0 is every IPv4 address, :: every
 * address of both (a dual-stack listener).  The guest is reached at its
 * address of the client's family, unless GUEST_ADDR names one.
 */
struct fwd_rule {
	uint32_t id;		/* control API id, from 1 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	struct inany host_addr;
	uint16_t host_port;	/* host order */
	struct inany guest_addr; /* all zero (::): by the client's family */
	uint16_t guest_port;	/* host order */
};

/* Guest port -> host service (--forward-to-host). */
struct fwd_to_host {
	uint8_t proto;
	uint16_t guest_port;	/* on the gateway address, host order */
	struct inany host_addr;	/* either family */
	uint16_t host_port;	/* host order */
};

int fwd_parse_publish(const char *spec, struct fwd_rule *rules, unsigned room, FILE *err);
bool fwd_parse_to_host(const char *spec, struct fwd_to_host *f);
const char *fwd_proto_name(uint8_t proto);
bool fwd_addr_parse(const char *s, struct inany *a);
bool fwd_addr_is_any(const struct inany *a);
bool fwd_addr_unset(const struct inany *a);
bool fwd_addrs_overlap(const struct inany *a, const struct inany *b);

#endif
