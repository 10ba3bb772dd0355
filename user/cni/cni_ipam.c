// SPDX-License-Identifier: MIT
/*
 * cni_ipam.c - delegation to the IPAM plugin the configuration names
 * (SPEC.md, "Delegated plugins"): found by its type in CNI_PATH, run with
 * our environment (CNI_COMMAND included) and our stdin, its result read
 * from its stdout.  A delegate that fails hands us its error object, which
 * we pass on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apiclient.h"
#include "cni.h"

#define OUTPUT_MAX	(1 << 20)

/* The executable @type in CNI_PATH's directories, into @buf; false if none. */
static bool find_plugin(const char *path, const char *type, char *buf, size_t len)
{
	char *dirs = strdup(path ? path : ""), *save = NULL;
	bool found = false;

	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/%s", d, type);
		found = !access(buf, X_OK);
	}
	free(dirs);
	return found;
}

/* Runs @exe with @text on its stdin; its stdout into @out, its exit status. */
static int run_plugin(const char *exe, const char *command, const char *text, char *out,
		      size_t *len)
{
	int in[2], res[2], status = -1;
	ssize_t n = 0;
	pid_t pid;

	*len = 0;
	if (pipe2(in, O_CLOEXEC))
		return -1;
	if (pipe2(res, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(res[1], 1) < 0 || setenv("CNI_COMMAND", command, 1))
			_exit(127);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	if (pid > 0)
		write_all(in[1], text, strlen(text));	/* small results: no deadlock */
	close(in[1]);
	while (pid > 0 && *len < OUTPUT_MAX && (n = read(res[0], out + *len, OUTPUT_MAX - *len)) > 0)
		*len += (size_t)n;
	close(res[0]);
	out[*len] = '\0';
	if (pid > 0 && waitpid(pid, &status, 0) < 0)
		status = -1;
	return status;
}

/**
 * cni_ipam_exec() - run the configured IPAM plugin
 * @env: our parameters (CNI_PATH finds the plugin)
 * @conf: our configuration: its "ipam" names the plugin, all of it is its stdin
 * @command: ADD, DEL or CHECK
 * @err: filled in on failure (with the delegate's own code if it gave one)
 *
 * Return: the delegate's result for ADD, an empty object for DEL and CHECK,
 * or NULL on failure.
 */
json_t *cni_ipam_exec(const struct cni_env *env, const struct cni_conf *conf,
		      const char *command, struct cni_error *err)
{
	const char *type = json_string_value(json_object_get(conf->ipam, "type"));
	char exe[4096], *out = malloc(OUTPUT_MAX + 1);
	json_t *result = NULL, *code;
	size_t len;
	int status;

	if (!out) {
		cni_fail(err, CNI_ERR_IO, "out of memory", "running the IPAM plugin");
		return NULL;
	}
	if (!type || !*type || strchr(type, '/')) {
		cni_fail(err, CNI_ERR_CONFIG, "invalid \"ipam\"", "\"ipam\" needs a \"type\": a plugin name");
		goto out;
	}
	if (!find_plugin(env->path, type, exe, sizeof(exe))) {
		cni_fail(err, CNI_ERR_CONFIG, "IPAM plugin not found",
			 "no executable %s in CNI_PATH (%s)", type, env->path ? env->path : "unset");
		goto out;
	}
	status = run_plugin(exe, command, conf->text, out, &len);
	result = len ? json_loads(out, 0, NULL) : json_object();
	code = json_object_get(result, "code");
	if (status != 0 || json_is_integer(code)) {
		const char *msg = json_string_value(json_object_get(result, "msg"));
		const char *details = json_string_value(json_object_get(result, "details"));

		cni_fail(err, json_is_integer(code) ? (int)json_integer_value(code) : CNI_ERR_IO,
			 msg ? msg : "the IPAM plugin failed", "%s %s: %s", type, command,
			 details ? details : status < 0 ? strerror(errno) : "exited with an error");
		json_decref(result);
		result = NULL;
	} else if (!result) {
		cni_fail(err, CNI_ERR_DECODE, "the IPAM plugin's result is not JSON", "%s %s", type,
			 command);
	}
out:
	free(out);
	return result;
}
