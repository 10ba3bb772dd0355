// SPDX-License-Identifier: MIT
/*
 * hostsock_stub.c - the host side for unit tests and fuzzing: nothing here
 * touches the network.  Every connection attempt is refused, so a guest's
 * SYN is answered with a RST built in place, and no UDP socket can be had.
 */
#include <errno.h>

#include "hostsock.h"

int hostsock_tcp_connect(const struct gateway *gw, uint32_t dst, uint16_t port)
{
	(void)gw;
	(void)dst;
	(void)port;
	return -ECONNREFUSED;
}

int hostsock_udp_open(void)
{
	return -EACCES;
}

int hostsock_ping_open(void)
{
	return -EACCES;
}

int hostsock_icmp_raw_open(void)
{
	return -EPERM;
}

int hostsock_tcp_prepare(int fd)
{
	(void)fd;
	return 0;
}
