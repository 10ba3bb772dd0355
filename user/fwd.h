/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_FWD_H
#define XDPSLIRP_FWD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FWD_MAX		4096	/* forwarded ports, in all */
#define FWD_TO_HOST_MAX	16	/* --forward-to-host rules */

/* One forwarded port: host HOST_ADDR:HOST_PORT to the guest's GUEST_PORT. */
struct fwd_rule {
	uint32_t id;		/* control API id, from 1 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_addr;	/* network order; 0 is every address */
	uint16_t host_port;	/* host order */
	uint32_t guest_addr;	/* network order; 0 until the engine fills it */
	uint16_t guest_port;	/* host order */
};

/* Guest port -> host service (--forward-to-host). */
struct fwd_to_host {
	uint8_t proto;
	uint16_t guest_port;	/* on the gateway address, host order */
	uint32_t host_addr;	/* network order */
	uint16_t host_port;	/* host order */
};

int fwd_parse_publish(const char *spec, struct fwd_rule *rules, unsigned room, FILE *err);
bool fwd_parse_to_host(const char *spec, struct fwd_to_host *f);
const char *fwd_proto_name(uint8_t proto);

#endif
