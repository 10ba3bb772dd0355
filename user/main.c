// SPDX-License-Identifier: MIT
/*
 * main.c - xdpslirp: start-up, the signal loop, and orderly shutdown.
 *
 * Theory of operation: the main thread parses the command line, decides the
 * MTU from what the kernel can do, wires the guest's link (plumb.c), starts
 * the engine (engine.c: XDP program, one AF_XDP worker per queue), opens
 * the forwarded ports (control.c), and then serves, in one epoll loop:
 * signals through a signalfd (SIGUSR1 prints counters, SIGINT/SIGTERM stop,
 * forwarded to COMMAND in -- COMMAND mode, SIGCHLD ends that mode with
 * COMMAND's status), the control API, --exit-fd, and the guest's link
 * disappearing with its namespace.  Signals are blocked in every thread, so
 * workers are never interrupted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "daemon.h"
#include "dns.h"
#include "engine.h"
#include "gateway_setup.h"
#include "guest_setup.h"
#include "rules.h"
#include "hostsock.h"
#include "sandbox.h"
#include "capture.h"
#include "hostnets.h"
#include "log.h"
#include "netns.h"
#include "nswatch.h"
#include "plumb.h"
#include "process.h"
#include "slirp4netns.h"
#include "xsk.h"

/* Exit status of a waited-for process, as a shell reports it. */
static int exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + WTERMSIG(wstatus);
}

/* epoll tags of the main loop's own descriptors (control.h has the API's) */
enum { TAG_SIGNAL = 1, TAG_EXIT_FD, TAG_LINK, TAG_TAP, TAG_NETNS, TAG_PCAP, TAG_HOSTNETS };

/* What the main thread watches once the engine runs. */
struct main_loop {
	int epfd;
	int sfd;		/* signalfd */
	pid_t child;		/* COMMAND, or 0 */
	int ifindex;		/* the link's host end: gone means stop */
	int tap_fd;		/* or the tap's first queue: an error means
				 * the tap, with its namespace, is gone */
	struct nl link_mon;
	struct nswatch netns;	/* with a tap, what named the namespace */
	int exit_fd;		/* --exit-fd, or -1 */
	struct engine *e;
	struct control *ctl;
	struct pcap *pcap;	/* its workers' full buffers to write */
	struct hostnets *hostnets;	/* --block-host-networks, into... */
	struct rule_set *rules;		/* ...the egress rules */
};

/* A signal arrived; returns an exit status to stop with, or -1. */
static int on_signal(struct main_loop *m)
{
	struct signalfd_siginfo si;
	int wstatus;

	if (read(m->sfd, &si, sizeof(si)) != sizeof(si))
		return -1;
	switch (si.ssi_signo) {
	case SIGUSR1:
		engine_print_counters(m->e, stderr);
		return -1;
	case SIGCHLD:
		if (m->child && waitpid(m->child, &wstatus, WNOHANG) == m->child)
			return exit_status(wstatus);
		return -1;
	default:	/* SIGINT, SIGTERM, SIGHUP: COMMAND decides, or we stop */
		if (!m->child)
			return 0;
		kill(m->child, (int)si.ssi_signo);
		return -1;
	}
}

/*
 * The guest's link is gone: its namespace ended.  With COMMAND, that is
 * usually COMMAND exiting (the namespace dies with its last process, which
 * the link monitor may report before SIGCHLD): its status is ours.
 */
static int on_link_gone(struct main_loop *m)
{
	int wstatus;
	pid_t got;

	if (!m->child) {
		log_info("the guest's link is gone (its namespace ended): stopping");
		return 0;
	}
	got = waitpid(m->child, &wstatus, WNOHANG);
	if (got == 0) {		/* still running, without its network */
		log_info("the guest's link is gone: stopping COMMAND");
		kill(m->child, SIGTERM);
		got = waitpid(m->child, &wstatus, 0);
	}
	return got == m->child ? exit_status(wstatus) : 1;
}

/* The exit fd is readable: data (read and ignored), or its end? */
static bool exit_fd_closed(int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/**
 * serve() - the main thread's loop while the engine runs
 * @m: what to watch
 *
 * Signals (SIGUSR1 prints counters), the control API, --exit-fd, and the
 * guest's link disappearing (its namespace ended).
 *
 * Return: the exit status xdpslirp should end with.
 */
static int serve(struct main_loop *m)
{
	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(m->epfd, ev, 16, control_expire(m->ctl));

		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;
			int status = -1;

			if (tag == TAG_SIGNAL) {
				status = on_signal(m);
			} else if (tag == TAG_EXIT_FD) {
				if (!exit_fd_closed(m->exit_fd))
					continue;
				log_info("--exit-fd closed: stopping");
				if (!m->child)
					return 0;
				kill(m->child, SIGTERM);
				epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->exit_fd, NULL);
			} else if (tag == TAG_LINK) {
				if (m->ifindex && nl_link_deleted(&m->link_mon, m->ifindex))
					return on_link_gone(m);
			} else if (tag == TAG_TAP) {
				return on_link_gone(m);
			} else if (tag == TAG_PCAP) {
				pcap_drain(m->pcap);
			} else if (tag == TAG_HOSTNETS) {
				hostnets_refresh(m->hostnets, &m->rules, 1);	/* they changed */
			} else if (tag == TAG_NETNS) {
				if (nswatch_gone(&m->netns)) {
					log_info("the guest's namespace ended: stopping");
					return 0;
				}
			} else {
				control_event(m->ctl, tag);
			}
			if (status >= 0)
				return status;
		}
	}
}

/* Sets up what serve() watches; 0 or negative errno (logged). */
static int main_loop_init(struct main_loop *m, const struct config *cfg)
{
	int ret;

	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0 || epoll_watch(m->epfd, m->sfd, TAG_SIGNAL))
		return -errno;
	if (cfg->exit_fd >= 0 && epoll_watch(m->epfd, cfg->exit_fd, TAG_EXIT_FD)) {
		log_err("--exit-fd %d: %s", cfg->exit_fd, strerror(errno));
		return -EBADF;
	}
	m->exit_fd = cfg->exit_fd;
	if (m->pcap->fd >= 0 && epoll_watch(m->epfd, m->pcap->wake_fd, TAG_PCAP))
		return -errno;
	if (m->hostnets->mon.sock && epoll_watch(m->epfd, hostnets_fd(m->hostnets), TAG_HOSTNETS))
		return -errno;
	if (m->tap_fd >= 0) {	/* EPOLLERR and EPOLLHUP only */
		struct epoll_event ev = { .events = 0, .data.u64 = TAG_TAP };

		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->tap_fd, &ev))
			log_warn("cannot watch the tap: %s", strerror(errno));
		/* the tap keeps the namespace alive: watch what named it */
		if (cfg->mode == MODE_NETNS && !nswatch_open(&m->netns, cfg->netns) &&
		    epoll_watch(m->epfd, m->netns.fd, TAG_NETNS))
			log_warn("cannot watch the guest's namespace: %s", strerror(errno));
		return 0;
	}
	ret = nl_open_link_monitor(&m->link_mon);
	if (ret || epoll_watch(m->epfd, nl_fd(&m->link_mon), TAG_LINK))
		log_warn("cannot watch the guest's link: %s", strerror(ret ? -ret : errno));
	return 0;
}

static void write_pid_file(const char *path)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "we");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0)
		log_warn("--pid-file %s: %s", path, strerror(errno));
	if (f)
		fclose(f);
}

/*
 * Where the guest's namespaces come from, by mode (none for --ifname): a
 * rootless COMMAND gets a user namespace of its own too.
 */
static int guest_namespaces(const struct config *cfg, struct child *child,
			    struct ns_target *ns)
{
	int ret;

	ns->userns_fd = ns->netns_fd = -1;
	switch (cfg->mode) {
	case MODE_NETNS:
		ns->netns_fd = netns_open(cfg->netns);
		return ns->netns_fd < 0 ? ns->netns_fd : guest_userns(cfg, ns);
	case MODE_COMMAND:
		ret = child_spawn(child, cfg->command, geteuid() != 0);
		if (ret)
			return ret;
		ns->netns_fd = child->netns_fd;
		ns->userns_fd = child->userns_fd;
		return 0;
	default:
		return 0;
	}
}

/*
 * The backend: as slirp4netns, a tap that exists already is served as it
 * is (RootlessKit made it); else as --backend says.
 */
static int choose_backend(const struct config *cfg, const struct ns_target *ns, int afxdp)
{
	if (cfg->mode == MODE_SOCKET)
		return BACKEND_STREAM;
	if (cfg->slirp4netns) {
		int exists = plumb_tap_exists(cfg, ns);

		if (exists < 0)
			return exists;
		if (exists) {
			log_info("%s exists in the namespace: serving it as a tap", cfg->guest_ifname);
			return BACKEND_TAP;
		}
	}
	return plumb_choose_backend(cfg, afxdp);
}

/*
 * Everything is open: hand the paths to remove at exit to the reaper, then
 * confine the process before its first worker thread (sandbox.c).
 */
static int confine(const struct config *cfg, struct reaper *reaper, pid_t child,
		   struct sandbox_state *st)
{
	struct sandbox_opts o = {
		.namespaces = cfg->sandbox,
		.seccomp = cfg->seccomp,
		.seccomp_log = cfg->seccomp_log,
		.runas = cfg->runas,
		.command = child > 0,
	};

	if (cfg->api_socket)
		reaper_add_path(reaper, cfg->api_socket);
	if (cfg->pid_file)
		reaper_add_path(reaper, cfg->pid_file);
	reaper_seal(reaper);
	return sandbox_enter(&o, st);
}

/* The workers, and the one guest they serve; 0 or negative errno (logged). */
static int open_engine(struct engine *e, struct guest *g, const struct config *cfg,
		       const struct guest_link *gl, int backend, bool multibuffer,
		       const struct gateway *gw, struct pcap *pcap)
{
	struct engine_params ep = {
		.queues = cfg->queues,
		.poll = (enum poll_mode)cfg->poll_mode,
		.spin_us = cfg->spin_us,
		.ncpus = cfg->ncpus,
		.cpus = cfg->cpus,
	};
	struct guest_params gp;

	guest_params_fill(&gp, cfg, gl, backend, multibuffer, gw, pcap);
	return engine_open(e, &ep) ?: guest_open(e, g, &gp);
}

static int run(struct config *cfg)
{
	struct reaper reaper = { 0 };	/* started first: cleans up at our end */
	struct guest_link gl = { .stream_fd = -1, .reaper = &reaper };
	struct child child = { 0 };
	struct engine engine = { 0 };
	struct guest guest = { 0 };
	struct guest_seen seen = { 0 };	/* what the workers learn of the guest */
	struct gateway gw = { .seen = &seen };
	struct rule_set rules = { 0 };
	struct control ctl = { .listen_fd = -1 };
	struct main_loop loop = { .epfd = -1, .exit_fd = -1, .netns.fd = -1 };
	struct ns_target ns = { -1, -1 };
	struct sandbox_state sandbox;
	struct pcap pcap = { .fd = -1, .wake_fd = -1 };
	struct hostnets hostnets = { 0 };
	int sfd, afxdp, backend, status = 1;
	char why[128] = "";
	uint32_t mtu;

	raise_fd_limit();
	sfd = block_signals();
	if (sfd < 0) {
		log_err("cannot set up signal handling: %s", strerror(-sfd));
		return 1;
	}
	/* COMMAND's process first: held until released, it must not keep
	 * the reaper's pipe open */
	if (guest_namespaces(cfg, &child, &ns))
		goto out;
	if (reaper_start(&reaper)) {
		log_err("cannot fork the process that cleans up at exit: %s", strerror(errno));
		goto out;
	}
	afxdp = xsk_probe_multibuffer();
	backend = choose_backend(cfg, &ns, afxdp);
	if (backend < 0)
		goto out;
	if (choose_mtu(cfg, backend != BACKEND_XDP || afxdp > 0, &mtu)) {
		status = 2;
		goto out;
	}
	if (!cfg->queues)
		cfg->queues = cfg->mode != MODE_IFNAME ? default_queues() :
			      backend == BACKEND_TAP ? 1 : 0;
	if (guest_link_setup(&gl, cfg, &ns, backend, afxdp > 0, mtu))
		goto out;
	gateway_setup(&gw, cfg, &gl.host);
	if (rules_init(&rules, cfg))
		goto out;
	if (cfg->block_host_networks &&
	    (hostnets_open(&hostnets) || hostnets_refresh(&hostnets, (struct rule_set *[]){ &rules }, 1)))
		goto out;
	gw.policy = rules.current;
	if (cfg->pcap && pcap_open(&pcap, cfg->pcap, (uint64_t)cfg->pcap_size_mb << 20, cfg->queues))
		goto out;

	if (open_engine(&engine, &guest, cfg, &gl, backend, afxdp > 0, &gw,
			cfg->pcap ? &pcap : NULL)) {
		engine_stop(&engine);
		goto out;
	}
	/* the namespace may now end without us: we watch the link instead */
	ns_close(&ns);
	loop.sfd = sfd;
	loop.child = child.pid;
	loop.ifindex = gl.ntap ? 0 : gl.host.ifindex;
	loop.tap_fd = gl.ntap ? gl.tap_fds[0] : -1;
	loop.e = &engine;
	loop.ctl = &ctl;
	loop.pcap = &pcap;
	loop.hostnets = &hostnets;
	loop.rules = &rules;
	if (main_loop_init(&loop, cfg) ||
	    control_init(&ctl, &guest, &gw, loop.epfd, cfg->api_socket) ||
	    control_publish_config(&ctl, cfg, why, sizeof(why))) {
		if (*why)
			log_err("%s", why);
		status = 1;
		goto stop;
	}
	rules.g = &guest;
	ctl.egress = &rules;
	ctl.sandbox = &sandbox;
	ctl.pcap = cfg->pcap ? &pcap : NULL;
	write_pid_file(cfg->pid_file);
	if (confine(cfg, &reaper, child.pid, &sandbox) || engine_start(&engine)) {
		status = 1;
		goto stop;
	}
	gateway_log_serving(&gl, &gw, cfg, backend);
	signal_ready(cfg->ready_fd);
	if (child.pid && child_release(&child))
		log_err("cannot start %s: %s", cfg->command[0], strerror(errno));

	status = serve(&loop);
stop:
	control_fini(&ctl);
	if (engine_stop(&engine)) {
		log_err("frames were leaked or double-used: this is a bug, please report it");
		if (!status)
			status = 1;
	}
out:
	pcap_close(&pcap);	/* the workers stopped: what they held is written */
	hostnets_close(&hostnets);
	rules_fini(&rules);
	plumb_teardown(&gl);
	reaper_stop(&reaper);	/* the link and the paths go */
	ns_close(&ns);
	nl_close(&loop.link_mon);
	nswatch_close(&loop.netns);
	if (loop.epfd > 0)
		close(loop.epfd);
	close(sfd);
	return status;
}

int main(int argc, char **argv)
{
	static struct config cfg;	/* large (forward rules): not on the stack */
	struct s4n_opts s4n;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "daemon"))
		return daemon_main(argc - 1, argv + 1);
	if (!strcmp(basename(argv[0]), "slirp4netns"))
		ret = s4n_parse(&cfg, &s4n, argc, argv, stderr);
	else
		ret = config_parse(&cfg, argc, argv, stderr);

	if (ret == CONFIG_EXIT_OK)
		return 0;
	if (ret)
		return 2;
	if (cfg.peer_group) {
		fprintf(stderr, "xdpslirp: --peer-group is an option of a daemon's guests (add_guest)\n");
		return 2;
	}
	log_set_level(cfg.log_level);
	return run(&cfg);
}
