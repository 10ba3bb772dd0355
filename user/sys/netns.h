/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_NETNS_H
#define XDPSLIRP_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "netlink.h"

/* COMMAND, started in a new network namespace, held until released. */
struct child {
	pid_t pid;
	int go_fd;	/* write end: closing or writing lets the child exec */
	int netns_fd;	/* the child's network namespace */
	int userns_fd;	/* its user namespace, if it has its own; else -1 */
};

/* A process that deletes a link and files when xdpslirp dies, however it dies. */
struct reaper {
	pid_t pid;
	int fd;		/* write end of its pipe: its EOF is our death */
};

int netns_open(const char *spec);
int netns_nl_open(struct nl *nl, int netns_fd);
int netns_sysctl_write(int netns_fd, const char *path, const char *val);
int child_spawn(struct child *c, char *const argv[], bool userns);
int child_release(struct child *c);
int reaper_start(struct reaper *r);
int reaper_add_link(struct reaper *r, const char *ifname);
int reaper_add_path(struct reaper *r, const char *path);
void reaper_seal(struct reaper *r);
void reaper_stop(struct reaper *r);

#endif
