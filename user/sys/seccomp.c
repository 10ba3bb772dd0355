// SPDX-License-Identifier: MIT
/*
 * seccomp.c - the system calls xdpslirp makes once it is set up, and no other.
 *
 * Theory of operation: sandbox_enter() installs this filter last, before any
 * worker thread exists, so every thread runs under it; the daemon's workers
 * each install it as they start (engine.c), for themselves only.  The list is the one
 * place naming what the engine does after set-up: the datapath (AF_XDP
 * kicks, tap reads and writes, host sockets), the main thread (epoll, the
 * API, signals, COMMAND), and the orderly exit.  A call outside the list
 * kills the process (SECCOMP_RET_KILL_PROCESS), which the kernel logs:
 *
 *	dmesg | grep 'type=1326'	# ... comm="xdpslirp" ... syscall=NNN
 *
 * To find what a new feature calls, run with --seccomp-log (the kernel then
 * logs such a call and lets it through), exercise the feature, and read the
 * same log; `ausyscall NNN` or /usr/include/asm/unistd_64.h names the
 * number.  tests/e2e/test_sandbox.py runs every feature under the filter.
 *
 * socket(), ioctl() and bpf() are allowed for their arguments only;
 * opening a file fails (EACCES) instead of killing.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "sandbox.h"

static const int allowed[] = {
	/* I/O on descriptors that exist: taps, AF_XDP, sockets, pipes */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(ftruncate),
	SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	/* host sockets: a guest's flow, an API forward, the API itself */
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept4),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg),
	/* waiting */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(eventfd2),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(futex), SCMP_SYS(sched_yield),
	/* memory */
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(mremap), SCMP_SYS(brk),
	/* worker threads: created after this filter, pinned by --cpus */
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_setaffinity), SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* signals (signalfd's mask; an abort()), COMMAND's end */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(tgkill), SCMP_SYS(kill), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(restart_syscall),
	/* a sanitizer's runtime, as a thread ends (the CNI plugin starts the
	 * daemon sandboxed, whichever build it is) */
	SCMP_SYS(sigaltstack),
	/* a TCP flow's initial sequence numbers, the flow table's hash seed */
	SCMP_SYS(getrandom),
};

/* Argument-checked rules: @nr allowed when argument @arg equals a value. */
static const struct {
	int nr;
	unsigned arg;
	unsigned long long val;
} allowed_if[] = {
	{ SCMP_SYS(socket), 0, AF_INET },	/* a flow's host socket */
	{ SCMP_SYS(socket), 0, AF_INET6 },
	{ SCMP_SYS(ioctl), 1, SIOCOUTQ },	/* tcp_output.c: unsent bytes */
	{ SCMP_SYS(ioctl), 1, SIOCOUTQNSD },
	{ SCMP_SYS(bpf), 0, BPF_MAP_LOOKUP_ELEM },	/* XDP counters */
	{ SCMP_SYS(bpf), 0, BPF_MAP_UPDATE_ELEM },	/* rules at run time */
	{ SCMP_SYS(bpf), 0, BPF_MAP_DELETE_ELEM },
};

/*
 * Opening a file fails with EACCES rather than killing: glibc's allocator
 * reads /proc/sys/vm/overcommit_memory the first time it trims a thread's
 * heap (once a daemon's worker has freed a guest's tables), and does
 * without when it cannot.
 */
static int refuse_opening_files(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0) ?:
	       seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
}

/*
 * A daemon's worker opens the AF_XDP sockets of the guests added to it (a
 * port is its worker's alone, opened in it once it runs: engine_guest.c);
 * the standalone gateway opens its one guest's before the filter.
 */
static int allow_port_sockets(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				SCMP_CMP(0, SCMP_CMP_EQ, AF_XDP));
}

/**
 * seccomp_install() - allow the calling thread, and the threads it creates
 *		       afterwards, exactly the calls listed above
 * @log_only: log a call outside the list and let it through (--seccomp-log)
 * @open_ports: a daemon's worker: AF_XDP sockets too
 *
 * Return: 0, or negative errno (logged).
 */
int seccomp_install(bool log_only, bool open_ports)
{
	scmp_filter_ctx ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	int ret = ctx ? 0 : -ENOMEM;

	/* a binary tree over syscall numbers, not a list: the datapath's
	 * calls cost the same few comparisons as any other */
	if (ctx)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/* and no Speculative Store Bypass mitigation, which a filter turns on
	 * for its threads where the kernel's is spec_store_bypass_disable=
	 * seccomp (older kernels' default): it guards a process that runs
	 * untrusted code, and we run none, while it slows the datapath */
	if (ctx)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
	for (size_t i = 0; !ret && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; !ret && i < sizeof(allowed_if) / sizeof(allowed_if[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_if[i].nr, 1,
				       SCMP_CMP(allowed_if[i].arg, SCMP_CMP_EQ, allowed_if[i].val));
	if (!ret && open_ports)
		ret = allow_port_sockets(ctx);
	if (!ret)
		ret = refuse_opening_files(ctx);
	if (!ret)
		ret = seccomp_load(ctx);
	if (ret)
		log_err("sandbox: cannot install the seccomp filter: %s; run with --no-sandbox to debug without it",
			strerror(-ret));
	seccomp_release(ctx);
	return ret;
}
