/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTADDR_H
#define XDPSLIRP_HOSTADDR_H

#include <netinet/in.h>

#include "gateway.h"

int hostaddr_target(const struct gateway *gw, uint8_t proto, const struct inany *dst,
		    uint16_t port, struct inany *to, uint16_t *to_port);
void hostaddr_source(const struct gateway *gw, uint8_t proto, const struct inany *from,
		     uint16_t from_port, bool v6, struct inany *addr, uint16_t *port);

void hostaddr_gateway(const struct gateway *gw, bool v6, struct inany *a);
void hostaddr_fwd_target(const struct gateway *gw, const struct fwd_rule *r,
			 const union sockaddr_inany *client, const struct guest_seen *seen,
			 struct inany *a);
void hostaddr_fwd_source(const struct gateway *gw, uint8_t proto,
			 const union sockaddr_inany *client, const struct inany *guest,
			 struct inany *addr, uint16_t *port);

#endif
