/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CNI_H
#define XDPSLIRP_CNI_H

#include <jansson.h>
#include <stdbool.h>

/* Error codes of the specification (SPEC.md, "Error"), and ours (100+). */
enum cni_code {
	CNI_ERR_VERSION = 1,		/* incompatible CNI version */
	CNI_ERR_ENV = 4,		/* invalid necessary environment variables */
	CNI_ERR_IO = 5,			/* I/O failure */
	CNI_ERR_DECODE = 6,		/* failed to decode content */
	CNI_ERR_CONFIG = 7,		/* invalid network config */
	CNI_ERR_TRY_LATER = 11,		/* try again later */
	CNI_ERR_DAEMON = 100,		/* the daemon refused or failed */
	CNI_ERR_NOT_SERVED = 101,	/* CHECK: the attachment is not as added */
};

/* What went wrong, as the error result reports it. */
struct cni_error {
	int code;
	char msg[128];
	char details[512];
};

/* The runtime's parameters (environment variables). */
struct cni_env {
	const char *command, *containerid, *netns, *ifname, *args, *path;
};

/* The network configuration on stdin, and what we take from it. */
struct cni_conf {
	json_t *root;			/* all of it (a delegate gets it too) */
	const char *text;		/* as read */
	const char *version;		/* cniVersion */
	const char *api_socket;		/* "apiSocket": the daemon's API */
	const char *state_file;		/* "stateFile": a daemon we start keeps it */
	const char *daemon_path;	/* "daemonPath": xdpslirp, to start it */
	json_t *ipam;			/* "ipam": the delegated plugin, or NULL */
	json_t *options;		/* "options": more of the guest's options */
	json_t *dns;			/* "dns": passed into the result */
	json_t *port_mappings;		/* runtimeConfig.portMappings */
	json_t *bandwidth;		/* runtimeConfig.bandwidth */
	json_t *prev_result;		/* prevResult */
	int mtu;			/* "mtu", 0: the daemon's choice */
};

int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* cni_daemon.c */
json_t *cni_daemon_call(const struct cni_conf *conf, const char *cmd, json_t *args,
			bool start, struct cni_error *err);

/* cni_ipam.c */
json_t *cni_ipam_exec(const struct cni_env *env, const struct cni_conf *conf,
		      const char *command, struct cni_error *err);

/* cni_check.c */
int cni_check_netns(const struct cni_env *env, const json_t *prev, struct cni_error *err);

#endif
