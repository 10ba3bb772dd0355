/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_SANDBOX_H
#define XDPSLIRP_SANDBOX_H

#include <stdbool.h>

/* What sandbox_enter() does, from the command line. */
struct sandbox_opts {
	bool namespaces;	/* capabilities, NO_NEW_PRIVS, empty root, user switch */
	bool seccomp;		/* the system-call allow-list (seccomp.c) */
	bool seccomp_log;	/* a call outside it is logged, not fatal */
	const char *runas;	/* --runas, NULL: nobody, when root */
	bool command;		/* -- COMMAND runs: it must stay signalable */
};

/* What sandbox_enter() did, for get_stats. */
struct sandbox_state {
	bool namespaces;
	bool seccomp;
	bool own_userns;	/* it made a user namespace (unprivileged start) */
	unsigned uid;		/* the one it runs as */
	unsigned long long caps;	/* effective capabilities, a bit each */
	bool seccomp_workers;	/* the daemon's: only its workers run under it */
};

int sandbox_enter(const struct sandbox_opts *o, struct sandbox_state *st);
int sandbox_daemon(struct sandbox_state *st);
int seccomp_install(bool log_only, bool open_ports);

#endif
