/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_HOSTSOCK_H
#define XDPSLIRP_HOSTSOCK_H

#include <stdint.h>

#include "gateway.h"

int hostsock_tcp_connect(const struct gateway *gw, uint32_t dst, uint16_t port);
int hostsock_error(int fd);
int hostsock_connect_result(int fd);
void hostsock_abort(int fd);

#endif
