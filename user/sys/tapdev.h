/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_TAPDEV_H
#define XDPSLIRP_TAPDEV_H

#include <stdbool.h>

int tapdev_open(const char *name, unsigned want, int *fds, unsigned *nq, unsigned *offloads);

#endif
