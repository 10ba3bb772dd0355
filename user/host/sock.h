/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_SOCK_H
#define XDPSLIRP_SOCK_H

#include <sys/types.h>

int sock_error(int fd);
int sock_connect_result(int fd);
void sock_abort(int fd);
ssize_t sock_discard(int fd, size_t len);

#endif
