// SPDX-License-Identifier: MIT
/*
 * sandbox.c - make xdpslirp a small target once it is set up.
 *
 * Theory of operation: run() calls sandbox_enter() when everything that
 * needs privileges or the file system is done (links wired, XDP attached,
 * sockets, maps and files open, the reaper forked to clean up paths) and
 * before the first worker thread exists: every thread then inherits the
 * result, and unshare() wants a single-threaded caller anyway.  In order:
 *
 *  1. Started without CAP_SYS_ADMIN (rootless): a user namespace of our own,
 *     mapping just our ids, in which steps 3-4 are allowed.  It changes
 *     nothing on the host: the network namespace, and so every socket,
 *     stays the one we were started in.
 *  2. Capabilities: the bounding set emptied but for the runtime ones
 *     (runtime_caps[]); the effective and permitted sets reduced to those
 *     plus what steps 3-5 use (setup_caps[]).  Then PR_SET_NO_NEW_PRIVS.
 *  3. New mount, IPC and UTS namespaces.
 *  4. pivot_root() into an empty read-only tmpfs; the old root detached.
 *     Nothing is opened by path after this: the API socket, pid file and
 *     pcap file were opened before, and the reaper (netns.c), which keeps
 *     the host's root, unlinks the paths when we end.
 *  5. Started as root in the initial user namespace (or given --runas):
 *     the switch to --runas (default nobody), supplementary groups dropped,
 *     the runtime capabilities kept; else the setup ones just dropped.
 *  6. The seccomp filter (seccomp.c).
 *
 * The datapath keeps working because it needs no privilege once its
 * descriptors exist: AF_XDP rings, taps, map file descriptors and host
 * sockets are used through what is already open.
 *
 * The daemon (daemon.c) cannot do steps 3-5: it enters namespaces, makes
 * links and attaches XDP for guests named after it started.  It keeps the
 * capabilities that takes (daemon_caps[]) and no other, with
 * PR_SET_NO_NEW_PRIVS (sandbox_daemon()), and its workers, the threads that
 * read guests' frames, each install the seccomp filter as they start
 * (engine.c): the main thread, which serves the API and sets guests up,
 * stays outside it.
 */
#include <cap-ng.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* What the running engine may still need, each for one operation. */
static const int runtime_caps[] = {
	CAP_NET_BIND_SERVICE,	/* an API forward (add_hostfwd) to a port below
				 * net.ipv4.ip_unprivileged_port_start */
	CAP_NET_RAW,		/* the raw ICMP socket for the guest's pings when
				 * net.ipv4.ping_group_range leaves our group out */
	CAP_KILL,		/* passing SIGTERM to COMMAND, which keeps the user
				 * we were started as (only with -- COMMAND) */
};

/* What steps 3-5 need, dropped once they are done. */
static const int setup_caps[] = {
	CAP_SYS_ADMIN,		/* unshare(), mount(), pivot_root() */
	CAP_SETUID,		/* step 5 */
	CAP_SETGID,
	CAP_SETPCAP,		/* emptying the bounding set */
};

/* What the daemon needs to add a guest at any time, for as long as it runs. */
static const int daemon_caps[] = {
	CAP_SYS_ADMIN,		/* setns() into a guest's namespace */
	CAP_NET_ADMIN,		/* its links, addresses, routes; XDP attached */
	CAP_BPF,		/* the XDP program and maps loaded */
	CAP_PERFMON,
	CAP_NET_RAW,		/* AF_XDP sockets; raw ICMP sockets for pings */
	CAP_IPC_LOCK,		/* UMEMs pinned beyond RLIMIT_MEMLOCK */
	CAP_SYS_RESOURCE,
	CAP_NET_BIND_SERVICE,	/* forwards from ports below 1024 */
	CAP_SYS_PTRACE,		/* /proc/PID/ns/net of another user's process */
	CAP_DAC_OVERRIDE,	/* capture and state files where the operator says */
	CAP_DAC_READ_SEARCH,
};

/* Is @cap one we keep for the engine?  Kept only if we had it. */
static bool runtime_cap(const struct sandbox_opts *o, int cap, bool had)
{
	for (size_t i = 0; i < sizeof(runtime_caps) / sizeof(runtime_caps[0]); i++)
		if (runtime_caps[i] == cap)
			return had && (cap != CAP_KILL || o->command);
	return false;
}

/* Our effective capabilities as a mask, from the kernel (capget()). */
static unsigned long long effective_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return 0;
	return d[0].effective | (unsigned long long)d[1].effective << 32;
}

/* Sets the effective and permitted sets to @mask. */
static int apply_caps(unsigned long long mask)
{
	capng_clear(CAPNG_SELECT_CAPS);
	for (unsigned c = 0; c < 64; c++)
		if (mask & (1ull << c))
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, c);
	return capng_apply(CAPNG_SELECT_CAPS) ? -EPERM : 0;
}

/* Is this the initial user namespace (its map covers every id)? */
static bool initial_userns(void)
{
	char line[64] = "";
	FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned inside, outside, count;

	if (!f)
		return true;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return sscanf(line, "%u %u %u", &inside, &outside, &count) == 3 &&
	       inside == 0 && outside == 0 && count == 4294967295u;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
	int ret = n == (ssize_t)strlen(text) ? 0 : -errno;

	if (fd >= 0)
		close(fd);
	return ret;
}

/* Step 1: a user namespace where our own ids are the only ones. */
static int own_userns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int ret;

	if (unshare(CLONE_NEWUSER)) {
		ret = -errno;
		log_err("sandbox: cannot create a user namespace (%s): allow unprivileged user namespaces, or run with --no-sandbox",
			strerror(errno));
		return ret;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	ret = write_file("/proc/self/uid_map", map);
	if (!ret)
		ret = write_file("/proc/self/setgroups", "deny\n");
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	if (!ret)
		ret = write_file("/proc/self/gid_map", map);
	if (ret)
		log_err("sandbox: cannot map our ids in the new user namespace: %s",
			strerror(-ret));
	return ret;
}

/* Empties the bounding set but for @keep (a mask); needs CAP_SETPCAP. */
static int drop_bounding(unsigned long long keep)
{
	for (int c = 0; c < 64; c++)	/* EINVAL past the last one */
		if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return -errno;
	return 0;
}

/* Step 2: @keep (a mask) stays in the bounding set; it and the setup
 * capabilities stay effective and permitted.
 */
static int drop_caps(unsigned long long keep)
{
	unsigned long long setup = 0;
	int ret = drop_bounding(keep);

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(setup_caps) / sizeof(setup_caps[0]); i++)
		setup |= 1ull << setup_caps[i];
	ret = apply_caps(keep | setup);
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		ret = -errno;
	return ret;
}

/* Steps 3-4: our own mount, IPC and UTS namespaces, and an empty root. */
static int empty_root(void)
{
	const char *step = "unshare";

	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS))
		goto fail;
	step = "make the mounts private";
	if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL))
		goto fail;
	step = "mount a tmpfs";
	if (mount("xdpslirp", "/tmp", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "nr_inodes=2,nr_blocks=1,mode=0555"))
		goto fail;
	step = "pivot_root";
	if (chdir("/tmp") || syscall(SYS_pivot_root, ".", "."))
		goto fail;
	step = "detach the old root";
	if (umount2(".", MNT_DETACH) || chdir("/"))
		goto fail;
	return 0;
fail:
	log_err("sandbox: cannot %s: %s; run with --no-sandbox to debug without it", step,
		strerror(errno));
	return -errno;
}

/* Step 5: become @pw's user keeping @keep (capabilities kept through
 * the switch by PR_SET_KEEPCAPS), or, with no @pw, just drop the rest.
 */
static int final_ids_and_caps(const struct passwd *pw, unsigned long long keep)
{
	if (pw && (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		   setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
		   setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) ||
		   prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))) {
		log_err("--runas %s: cannot switch to uid %u: %s", pw->pw_name,
			(unsigned)pw->pw_uid, strerror(errno));
		return -errno;
	}
	if (apply_caps(keep)) {
		log_err("sandbox: cannot drop capabilities");
		return -EPERM;
	}
	return 0;
}

/**
 * sandbox_daemon() - keep only the daemon's capabilities (daemon_caps[],
 *		      those of them it holds), in every set, the bounding set
 *		      too, and set PR_SET_NO_NEW_PRIVS
 * @st: filled in with what was done
 *
 * Return: 0, or negative errno (logged; the daemon should then exit).
 */
int sandbox_daemon(struct sandbox_state *st)
{
	unsigned long long had = effective_caps(), keep = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < sizeof(daemon_caps) / sizeof(daemon_caps[0]); i++)
		keep |= had & (1ull << daemon_caps[i]);
	/* without CAP_SETPCAP (not root) the bounding set is not ours to empty */
	ret = had & (1ull << CAP_SETPCAP) ? drop_bounding(keep) : 0;
	if (!ret)
		ret = apply_caps(keep);
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		ret = -errno;
	if (ret) {
		log_err("sandbox: cannot drop the daemon's capabilities: %s; run it with --no-sandbox to debug without it",
			strerror(-ret));
		return ret;
	}
	st->uid = (unsigned)geteuid();
	st->caps = effective_caps();
	return 0;
}

/**
 * sandbox_enter() - confine the process (see the top of this file)
 * @o: what to do
 * @st: filled in with what was done
 *
 * Call with one thread only; every thread created afterwards inherits it.
 *
 * Return: 0, or negative errno (logged; the process should then exit).
 */
int sandbox_enter(const struct sandbox_opts *o, struct sandbox_state *st)
{
	const char *name = o->runas ? o->runas : "nobody";
	struct passwd *pw = NULL, user;
	unsigned long long had, keep = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	if (o->namespaces) {
		/* looked up while /etc still exists */
		if (o->runas || (geteuid() == 0 && initial_userns())) {
			pw = getpwnam(name);
			if (!pw) {
				log_err("--runas %s: no such user", name);
				return -ENOENT;
			}
			user = *pw;
			pw = &user;
		}
		had = effective_caps();
		if (!(had & (1ull << CAP_SYS_ADMIN))) {
			ret = own_userns();
			if (ret)
				return ret;
			st->own_userns = true;
			had = 0;	/* what we hold now is only the new namespace's */
		}
		for (int c = 0; c < 64; c++)
			if (runtime_cap(o, c, had & (1ull << c)))
				keep |= 1ull << c;
		ret = drop_caps(keep);
		if (ret) {
			log_err("sandbox: cannot drop capabilities: %s", strerror(-ret));
			return ret;
		}
		ret = empty_root();
		if (!ret)
			ret = final_ids_and_caps(pw, keep);
		if (ret)
			return ret;
		st->namespaces = true;
	}
	st->uid = (unsigned)geteuid();
	st->caps = effective_caps();
	if (o->seccomp) {
		ret = seccomp_install(o->seccomp_log, false);
		if (ret)
			return ret;
		st->seccomp = true;
	}
	return 0;
}
