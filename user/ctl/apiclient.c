// SPDX-License-Identifier: MIT
/*
 * apiclient.c - one request to a control API socket, and its answer: what
 * "xdpslirp ctl" and the CNI plugin send the gateway or the daemon.
 *
 * The API answers one JSON object per request and closes once the client
 * has shut its side down, so the answer is everything read until EOF.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "apiclient.h"

#define ANSWER_MAX	(1 << 20)

/* Connects to the socket at @path; the descriptor, or -1 with errno set. */
static int api_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Writes all of @buf; false with errno set if it cannot (the CNI plugin's
 * delegates read their stdin to EOF too). */
bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/**
 * api_call() - send one request to a control API, read its answer
 * @path: the API's socket
 * @req: the request ({"execute": ..., "arguments": ...})
 * @timeout_ms: how long each read or write may wait
 *
 * Return: the answer, or NULL with errno set (EPROTO: not JSON).
 */
json_t *api_call(const char *path, json_t *req, int timeout_ms)
{
	char *text = json_dumps(req, JSON_COMPACT), *out = NULL;
	size_t len = 0;
	json_t *answer = NULL;
	ssize_t n = 0;
	int fd = -1, e;

	if (!text || !(out = malloc(ANSWER_MAX + 1))) {
		errno = ENOMEM;
		goto out;
	}
	fd = api_connect(path, timeout_ms);
	if (fd < 0 || !write_all(fd, text, strlen(text)))
		goto out;
	shutdown(fd, SHUT_WR);
	while (len < ANSWER_MAX && (n = read(fd, out + len, ANSWER_MAX - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		goto out;
	out[len] = '\0';
	answer = json_loads(out, 0, NULL);
	if (!answer)
		errno = EPROTO;
out:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(text);
	free(out);
	errno = e;
	return answer;
}
