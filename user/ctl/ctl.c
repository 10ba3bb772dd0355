// SPDX-License-Identifier: MIT
/*
 * ctl.c - "xdpslirp ctl": the control API for humans.
 *
 *   xdpslirp ctl --api-socket PATH list
 *   xdpslirp ctl --api-socket PATH add [tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT
 *   xdpslirp ctl --api-socket PATH remove ID
 *   xdpslirp ctl --api-socket PATH stats | flows
 *   xdpslirp ctl --api-socket PATH json '{"execute": ...}'
 *
 * Prints the answer as indented JSON; exits 1 if it is an error, 2 on a
 * usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiclient.h"
#include "ctl.h"
#include "fwd.h"

/* A gateway answers at once; a daemon adding a guest makes its link first. */
#define CTL_TIMEOUT_MS	30000

static const char ctl_usage[] =
"Usage: xdpslirp ctl --api-socket PATH list | stats | flows\n"
"       xdpslirp ctl --api-socket PATH add [tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT\n"
"       xdpslirp ctl --api-socket PATH remove ID\n"
"       xdpslirp ctl --api-socket PATH json REQUEST\n";

/* The request for the command words, or NULL after a usage message. */
static json_t *ctl_request(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct fwd_rule r;
	char h[INET6_ADDRSTRLEN];

	if (!strcmp(cmd, "list") && argc == 1)
		return json_pack("{s:s}", "execute", "list_hostfwd");
	if (!strcmp(cmd, "stats") && argc == 1)
		return json_pack("{s:s}", "execute", "get_stats");
	if (!strcmp(cmd, "flows") && argc == 1)
		return json_pack("{s:s}", "execute", "list_flows");
	if (!strcmp(cmd, "remove") && argc == 2 && atoi(argv[1]) > 0)
		return json_pack("{s:s,s:{s:i}}", "execute", "remove_hostfwd", "arguments",
				 "id", atoi(argv[1]));
	if (!strcmp(cmd, "add") && argc == 2 && fwd_parse_publish(argv[1], &r, 1, stderr) == 1) {
		inany_ntop(&r.host_addr, h, sizeof(h));
		return json_pack("{s:s,s:{s:s,s:s,s:i,s:i}}", "execute", "add_hostfwd",
				 "arguments", "proto", fwd_proto_name(r.proto), "host_addr", h,
				 "host_port", r.host_port, "guest_port", r.guest_port);
	}
	if (!strcmp(cmd, "json") && argc == 2)
		return json_loads(argv[1], 0, NULL);
	fputs(ctl_usage, stderr);
	return NULL;
}

int ctl_main(int argc, char **argv)
{
	json_t *req, *answer;
	int status;

	if (argc < 4 || strcmp(argv[1], "--api-socket")) {
		fputs(ctl_usage, stderr);
		return 2;
	}
	req = ctl_request(argc - 3, argv + 3);
	if (!req)
		return 2;
	answer = api_call(argv[2], req, CTL_TIMEOUT_MS);
	json_decref(req);
	if (!answer) {
		fprintf(stderr, "xdpslirp ctl: %s: %s\n", argv[2],
			errno == EPROTO ? "no valid answer" : strerror(errno));
		return 1;
	}
	status = json_object_get(answer, "error") ? 1 : 0;
	json_dumpf(answer, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(answer);
	return status;
}
