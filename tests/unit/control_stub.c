// SPDX-License-Identifier: MIT
/*
 * control_stub.c - what the control API's tests link instead of the engine
 * (test_control.c, fuzz_api.c): control.c and rules.c call only these.  The
 * engine takes every forward, has the workers the test gives it and no
 * flows; a forward's host socket is /dev/null (nothing listens on the
 * host), or "in use" for odd ports.  Also a client: control_stub_request().
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_stub.h"
#include "hostsock.h"

int engine_forward_add(struct guest *g, const struct fwd_rule *r, int fd)
{
	(void)g;
	(void)r;
	close(fd);		/* the engine owns the socket from here */
	return 0;
}

int engine_forward_remove(struct guest *g, const struct fwd_rule *r)
{
	(void)g;
	(void)r;
	return 0;
}

void engine_worker_stats(const struct guest *g, unsigned q, struct engine_stats *st)
{
	(void)g;
	(void)q;
	memset(st, 0, sizeof(*st));
	st->cnt.drop[DROP_ETH_SHORT] = 1;	/* a "dropped" to list */
}

unsigned engine_list_flows(struct guest *g, struct flow_info *out, unsigned cap)
{
	(void)g;
	(void)out;
	(void)cap;
	return 0;
}

int engine_policy_set(struct guest *g, const struct policy *p, bool reset)
{
	(void)g;
	(void)p;
	(void)reset;
	return 0;
}

void engine_xdp_policy(struct guest *g, struct policy *old, const struct policy *p)
{
	(void)g;
	(void)old;
	(void)p;
}

uint64_t engine_xdp_rule_drops(const struct guest *g, unsigned i)
{
	(void)g;
	(void)i;
	return 0;
}

void xdp_prog_counters(const struct xdp_prog *x, uint64_t out[XDP_CNT_MAX])
{
	(void)x;
	memset(out, 0, XDP_CNT_MAX * sizeof(*out));
}

int hostsock_listen(const struct fwd_rule *r)
{
	if (r->host_port & 1)
		return -EADDRINUSE;
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/**
 * control_stub_request() - one request on a fresh connection in client
 *			    slot 0, the way control.c reads one: in two
 *			    pieces (the first read sees a premature end),
 *			    then EOF
 * @c: the API, its slot 0 given a buffer
 * @req: the request
 * @len: its length
 * @answer: where the answer goes, NUL-terminated
 * @room: its size
 *
 * Return: the answer's length, or -1 if the API kept the connection open
 * or wrote nothing.
 */
ssize_t control_stub_request(struct control *c, const void *req, size_t len, char *answer,
			     size_t room)
{
	const char *r = req;
	ssize_t n;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -1;
	c->clients[0].fd = sv[0];
	c->clients[0].len = 0;
	if (len > 1 && send(sv[1], r, len / 2, 0) != (ssize_t)(len / 2))
		goto fail;
	control_event(c, CONTROL_TAG_CLIENT);
	if (c->clients[0].fd >= 0) {
		if (send(sv[1], r + len / 2, len - len / 2, 0) != (ssize_t)(len - len / 2))
			goto fail;
		shutdown(sv[1], SHUT_WR);
		control_event(c, CONTROL_TAG_CLIENT);
		if (c->clients[0].fd >= 0)	/* EOF after a prefix: answered now */
			control_event(c, CONTROL_TAG_CLIENT);
	}
	if (c->clients[0].fd != -1)		/* answered, and closed */
		goto fail;
	n = recv(sv[1], answer, room - 1, 0);
	close(sv[1]);
	if (n <= 0)
		return -1;
	answer[n] = 0;
	return n;
fail:
	close(sv[1]);
	return -1;
}
