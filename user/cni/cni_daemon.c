// SPDX-License-Identifier: MIT
/*
 * cni_daemon.c - the plugin's side of the node's daemon: its API requests,
 * and starting it when an ADD finds none.
 *
 * The daemon ("xdpslirp daemon") serves every pod of the node; the plugin
 * only tells it which guests come and go.  The first ADD on a node starts
 * it if no service did: under a lock, so that plugins racing for the first
 * pods start one daemon, detached (own session, stdin and stdout on
 * /dev/null: the runtime reads our stdout until EOF) and logging to a file
 * next to its socket.  It keeps its guests in a state file, so a daemon
 * restarted by hand or by a service serves the same pods again.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apiclient.h"
#include "cni.h"

#define API_TIMEOUT_MS	30000	/* adding a guest makes its link first */
#define START_TIMEOUT_MS 30000	/* a restarted daemon serves its state first */

/* The daemon listens: a request that cannot connect fails with these. */
static bool daemon_absent(int e)
{
	return e == ENOENT || e == ECONNREFUSED;
}

/* Makes the directory of @path (the default /run/xdpslirp). */
static void make_parent_dir(const char *path)
{
	char *dir = strdup(path);

	if (dir)
		mkdir(dirname(dir), 0700);
	free(dir);
}

/* In the child: becomes the daemon, detached; never returns. */
static void daemon_exec(const struct cni_conf *conf, int ready_fd, const char *log_path)
{
	static const char *const fallbacks[] = { "/usr/local/bin/xdpslirp", "/usr/bin/xdpslirp" };
	const char *argv[] = { "xdpslirp", "daemon", "--api-socket", conf->api_socket,
			       "--state-file", conf->state_file, "--ready-fd", "3", NULL };
	int null = open("/dev/null", O_RDWR), log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(log >= 0 ? log : null, 2) < 0 || dup2(ready_fd, 3) < 0)
		_exit(127);
	if (conf->daemon_path) {
		execv(conf->daemon_path, (char **)argv);
	} else {
		execvp("xdpslirp", (char **)argv);
		for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++)
			execv(fallbacks[i], (char **)argv);
	}
	fprintf(stderr, "xdpslirp-cni: cannot run %s: %s\n",
		conf->daemon_path ? conf->daemon_path : "xdpslirp", strerror(errno));
	_exit(127);
}

/* Waits for the daemon's "1" on @fd; true once it listens. */
static bool daemon_wait_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, START_TIMEOUT_MS) == 1 && read(fd, &c, 1) == 1 && c == '1';
}

/* Starts the daemon unless another plugin just did; 0 or the error's code. */
static int daemon_start(const struct cni_conf *conf, struct cni_error *err)
{
	char lock_path[4096], log_path[4096];
	int lock, ready[2], ret = 0, e;
	json_t *probe, *answer;
	pid_t pid;

	snprintf(lock_path, sizeof(lock_path), "%s.lock", conf->api_socket);
	snprintf(log_path, sizeof(log_path), "%s.log", conf->api_socket);
	make_parent_dir(conf->api_socket);
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX))
		return cni_fail(err, CNI_ERR_IO, "cannot lock the daemon's start", "%s: %s",
				lock_path, strerror(errno));
	probe = json_pack("{s:s}", "execute", "list_guests");
	answer = api_call(conf->api_socket, probe, API_TIMEOUT_MS);
	e = errno;
	json_decref(probe);
	json_decref(answer);
	if (answer || !daemon_absent(e))
		goto out;	/* up now, started by another plugin */
	unlink(conf->api_socket);	/* a dead daemon's */
	if (pipe2(ready, O_CLOEXEC)) {
		ret = cni_fail(err, CNI_ERR_IO, "cannot start the xdpslirp daemon", "pipe: %s",
			       strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == 0)
		daemon_exec(conf, ready[1], log_path);
	close(ready[1]);
	if (pid < 0 || !daemon_wait_ready(ready[0])) {
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) == 0)
			kill(pid, SIGTERM);
		ret = cni_fail(err, CNI_ERR_TRY_LATER, "the xdpslirp daemon did not start",
			       "see %s", log_path);
	}
	close(ready[0]);
out:
	close(lock);
	return ret;
}

/**
 * cni_daemon_call() - one request to the node's daemon
 * @conf: the network configuration (where the daemon is)
 * @cmd: the command
 * @args: its arguments (a reference is taken), or NULL
 * @start: start the daemon if none listens
 * @err: filled in on failure: CNI_ERR_TRY_LATER if no daemon listens,
 *       CNI_ERR_DAEMON with the daemon's words as details if it refused
 *
 * Return: the answer's "return" object (the caller's reference), or NULL.
 */
json_t *cni_daemon_call(const struct cni_conf *conf, const char *cmd, json_t *args,
			bool start, struct cni_error *err)
{
	json_t *req = json_pack("{s:s}", "execute", cmd), *answer, *ret, *desc;

	if (!req)
		return NULL;
	if (args)
		json_object_set(req, "arguments", args);
	answer = api_call(conf->api_socket, req, API_TIMEOUT_MS);
	if (!answer && start && daemon_absent(errno) && !daemon_start(conf, err))
		answer = api_call(conf->api_socket, req, API_TIMEOUT_MS);
	json_decref(req);
	if (!answer) {
		if (!err->code)
			cni_fail(err, daemon_absent(errno) ? CNI_ERR_TRY_LATER : CNI_ERR_IO,
				 "the xdpslirp daemon does not answer", "%s: %s", conf->api_socket,
				 strerror(errno));
		return NULL;
	}
	desc = json_object_get(json_object_get(answer, "error"), "desc");
	ret = json_incref(json_object_get(answer, "return"));
	if (!ret)
		cni_fail(err, CNI_ERR_DAEMON, "the xdpslirp daemon refused", "%s: %s", cmd,
			 json_is_string(desc) ? json_string_value(desc) : "no answer");
	json_decref(answer);
	return ret;
}
