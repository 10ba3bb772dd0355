/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_APICLIENT_H
#define XDPSLIRP_APICLIENT_H

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>

json_t *api_call(const char *path, json_t *req, int timeout_ms);
bool write_all(int fd, const char *buf, size_t len);

#endif
