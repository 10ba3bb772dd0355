/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_NSWATCH_H
#define XDPSLIRP_NSWATCH_H

#include <stdbool.h>
#include <limits.h>

/* Tells when a guest namespace named by --netns PID|PATH is gone. */
struct nswatch {
	int fd;			/* pidfd or inotify; -1: not watching */
	char name[NAME_MAX + 1];	/* PATH's last component (inotify) */
};

int nswatch_open(struct nswatch *w, const char *netns);
bool nswatch_gone(struct nswatch *w);
void nswatch_close(struct nswatch *w);

#endif
