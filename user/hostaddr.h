/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTADDR_H
#define XDPSLIRP_HOSTADDR_H

#include <netinet/in.h>

#include "gateway.h"

int hostaddr_target(const struct gateway *gw, uint8_t proto, uint32_t dst, uint16_t port,
		    struct sockaddr_in *sa);
void hostaddr_source(const struct gateway *gw, uint8_t proto, const struct sockaddr_in *sa,
		     uint32_t *addr, uint16_t *port);

#endif
