/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_NSEXEC_H
#define XDPSLIRP_NSEXEC_H

#include <stdint.h>

#define NS_MAX_FDS	64

/* Where a job runs: descriptors of namespaces, -1 for the caller's own. */
struct ns_target {
	int userns_fd;
	int netns_fd;
};

/* What a job gives back: an errno, descriptors, and bytes of its own. */
struct ns_result {
	int err;
	unsigned nfds;
	int fds[NS_MAX_FDS];
	uint8_t data[64];
};

typedef int (*ns_fn)(void *arg, struct ns_result *res);

int ns_call(const struct ns_target *t, ns_fn fn, void *arg, struct ns_result *res);

#endif
