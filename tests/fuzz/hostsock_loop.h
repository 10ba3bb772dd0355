/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTSOCK_LOOP_H
#define XDPSLIRP_HOSTSOCK_LOOP_H

#include <stdint.h>

#define HOSTSOCK_LOOP_MAX_FD 4096

int hostsock_loop_peer(int fd);
void hostsock_loop_reset(void);
int hostsock_loop_udp_server(uint16_t *port);

#endif
