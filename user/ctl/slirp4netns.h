/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_SLIRP4NETNS_H
#define XDPSLIRP_SLIRP4NETNS_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* slirp4netns options that have no xdpslirp option. */
struct s4n_opts {
	bool netns_path;	/* --netns-type=path */
};

int s4n_parse(struct config *cfg, struct s4n_opts *o, int argc, char **argv, FILE *err);

#endif
