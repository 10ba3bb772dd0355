// SPDX-License-Identifier: MIT
/*
 * hostsock_nodgram.c - the host sockets that unit tests and fuzzers do not
 * get: no UDP, ping or raw ICMP socket can be had (the engine counts the
 * drops), and accepted TCP sockets need no options.
 */
#include <errno.h>

#include "hostsock.h"

/* weak: the flow fuzzer's hostsock_loop.c has UDP sockets of its own */
__attribute__((weak)) int hostsock_udp_open(const struct gateway *gw, int family)
{
	(void)gw;
	(void)family;
	return -EACCES;
}

int hostsock_ping_open(const struct gateway *gw, int family)
{
	(void)gw;
	(void)family;
	return -EACCES;
}

int hostsock_icmp_raw_open(int family)
{
	(void)family;
	return -EPERM;
}

int hostsock_tcp_prepare(int fd)
{
	(void)fd;
	return 0;
}
