/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CONTROL_STUB_H
#define XDPSLIRP_CONTROL_STUB_H

#include <sys/types.h>

#include "control.h"

ssize_t control_stub_request(struct control *c, const void *req, size_t len, char *answer,
			     size_t room);

#endif
