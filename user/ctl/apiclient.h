/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_APICLIENT_H
#define XDPSLIRP_APICLIENT_H

#include <jansson.h>

json_t *api_call(const char *path, json_t *req, int timeout_ms);

#endif
