/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_PROCESS_H
#define XDPSLIRP_PROCESS_H

#include <stdint.h>

void raise_fd_limit(void);
void signal_ready(int fd);
int block_signals(void);
int epoll_watch(int epfd, int fd, uint64_t tag);

#endif
