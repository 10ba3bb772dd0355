/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_PROCESS_H
#define XDPSLIRP_PROCESS_H

void raise_fd_limit(void);
void signal_ready(int fd);
int block_signals(void);

#endif
