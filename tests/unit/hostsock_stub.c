// SPDX-License-Identifier: MIT
/*
 * hostsock_stub.c - TCP connections for unit tests and the frame fuzzer:
 * nothing here touches the network.  Every connection attempt is refused,
 * so a guest's SYN is answered with a RST built in place.
 */
#include <errno.h>

#include "hostsock.h"

int hostsock_tcp_connect(const struct gateway *gw, const struct inany *dst, uint16_t port)
{
	(void)gw;
	(void)dst;
	(void)port;
	return -ECONNREFUSED;
}
