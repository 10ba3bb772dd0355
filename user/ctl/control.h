/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CONTROL_H
#define XDPSLIRP_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "config.h"
#include "fwd.h"

#define API_MAX_CLIENTS	32
#define API_MAX_FLOWS	65536	/* list_flows answers at most this many */

/* epoll tags of the control's descriptors in the main thread's loop */
#define CONTROL_TAG_LISTEN	100
#define CONTROL_TAG_CLIENT	101	/* + client slot */

struct api_client;
struct rule_set;
struct sandbox_state;
struct pcap;

struct control;

/*
 * struct control_router - a daemon's API (daemon.c): @execute answers the
 * daemon's own commands, or returns NULL and sets @guest to the control of
 * the guest the request names, which answers the rest.
 */
struct control_router {
	json_t *(*execute)(void *arg, const char *cmd, json_t *args, struct control **guest);
	void *arg;
};

/* The forwarded ports and the API server: main thread only. */
struct control {
	const struct control_router *router;	/* a daemon's, or NULL */
	struct guest *g;
	struct rule_set *egress;		/* add_rule, remove_rule, list_rules */
	const struct sandbox_state *sandbox;	/* for get_stats */
	struct pcap *pcap;			/* --pcap, or NULL */
	const struct gateway *gw;
	int epfd;
	struct fwd_rule *rules;		/* FWD_MAX */
	unsigned n;
	uint32_t next_id;		/* ids start at 1 and are never reused */
	int listen_fd;
	struct api_client {
		int fd;			/* -1: free */
		uint64_t deadline_ms;
		size_t len;
		char *buf;
	} clients[API_MAX_CLIENTS];
};

int control_init(struct control *c, struct guest *g, const struct gateway *gw, int epfd,
		 const char *api_path);
int control_publish(struct control *c, struct fwd_rule *r, const char **why);
int control_publish_config(struct control *c, const struct config *cfg, char *why, size_t len);
void control_event(struct control *c, uint64_t tag);
int control_expire(struct control *c);
void control_fini(struct control *c);
json_t *control_bad_request(const char *what);

#endif
