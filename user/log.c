// SPDX-License-Identifier: MIT
/*
 * log.c - leveled messages on standard error.
 *
 * Every line starts with "xdpslirp: " so that it stands out in the output of
 * the command xdpslirp runs.  Messages are written with one write() each, so
 * lines from several threads do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/*
 * Set once from the command line before any thread starts, read-only after:
 * a global because every module logs and none should carry a logger around.
 */
static enum log_level max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warn",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	max_level = level;
}

/* Returns the level named @name, or -1. */
int log_parse_level(const char *name)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(name, level_names[i]))
			return (int)i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > max_level)
		return;
	n = snprintf(line, sizeof(line), "xdpslirp: %s",
		     level == LOG_ERR ? "error: " : level == LOG_WARN ? "warning: " : "");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
