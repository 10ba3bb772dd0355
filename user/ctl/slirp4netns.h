/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_SLIRP4NETNS_H
#define XDPSLIRP_SLIRP4NETNS_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* slirp4netns options with no effect yet (the sandbox comes with issue 14). */
struct s4n_opts {
	bool sandbox;		/* --enable-sandbox */
	bool seccomp;		/* --enable-seccomp */
	bool netns_path;	/* --netns-type=path */
};

int s4n_parse(struct config *cfg, struct s4n_opts *o, int argc, char **argv, FILE *err);

#endif
