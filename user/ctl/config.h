/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_CONFIG_H
#define XDPSLIRP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>

#include "fwd.h"
#include "policy.h"
#include "shaper.h"
#include "inany.h"

#define MTU_MIN		68
#define MTU_MAX		65520

/* The special addresses are fixed host numbers in the --cidr network. */
#define CIDR_HOST_GATEWAY	2
#define CIDR_HOST_DNS		3
#define CIDR_HOST_GUEST		100
#define CIDR_HOST_DHCP_S4N	15	/* slirp4netns's first DHCP lease */
#define CIDR6_HOST_GUEST	0x100	/* fd00::100 */

/* How the guest's link comes to exist. */
enum run_mode {
	MODE_IFNAME,	/* --ifname: serve an existing link */
	MODE_NETNS,	/* --netns: create a veth pair into that namespace */
	MODE_COMMAND,	/* -- COMMAND: new namespace, run COMMAND in it */
	MODE_SOCKET,	/* --socket: a VM connects (QEMU -netdev stream) */
};

/* --backend (the engine's enum backend, plus auto) */
enum { CFG_BACKEND_AUTO, CFG_BACKEND_XDP, CFG_BACKEND_TAP };

struct config {
	enum run_mode mode;
	int backend;			/* CFG_BACKEND_* */
	bool configure;			/* give the guest's interface its
					 * addresses (slirp4netns: only -c) */
	const char *userns;		/* --userns-path */
	bool have_mac;			/* --macaddress */
	bool slirp4netns;		/* invoked as slirp4netns (slirp4netns.c) */
	struct inany outbound4;		/* --outbound-addr, all zero: none */
	struct inany outbound6;		/* --outbound-addr6 */
	uint8_t mac[6];
	char ifname[IF_NAMESIZE];	/* --ifname */
	const char *netns;		/* --netns PID|PATH */
	const char *socket_path;	/* --socket */
	char guest_ifname[IF_NAMESIZE];
	char **command;			/* argv after "--" */
	uint32_t mtu;			/* 0: choose from the kernel's abilities */
	uint32_t network;		/* --cidr, network byte order */
	unsigned prefix_len;
	bool cidr_given;		/* --cidr (not with --address) */
	/* --address, --gateway, --dns-address, network byte order; 0: the
	 * plan's (config_guest_addr() and the like) */
	uint32_t addr_guest, addr_gateway, addr_dns;
	uint8_t prefix6[8];		/* --cidr6: the guest's /64 */
	bool cidr6_given;		/* --cidr6 (not with --address6) */
	/* --address6 (its /64 is prefix6), --gateway6, --dns-address6; all
	 * zero: the plan's (config_guest_addr6() and the like) */
	struct inany addr6_guest, addr6_gateway, addr6_dns;
	bool disable_ipv6;
	const char *peer_group;		/* --peer-group (a daemon's guests) */
	struct rate_limit ingress, egress;	/* --ingress-rate, --egress-rate */
	uint32_t ra_interval_s;		/* --ra-interval */
	unsigned queues;		/* 0: choose by mode */
	int log_level;
	bool xdp_generic;
	bool no_csum_offload;	/* --disable-checksum-offload */
	int ready_fd;			/* -1: none */
	uint32_t max_flows;
	bool disable_host_loopback;
	/* per mille of frames lost, duplicated, reordered (tests only) */
	uint32_t test_tx_loss, test_tx_dup, test_tx_reorder, test_rx_dup, test_rx_reorder;
	uint32_t udp_timeout_s;
	bool disable_dns;
	bool no_dhcp;
	unsigned n_dns;			/* --dns-upstream given */
	union sockaddr_inany dns[4];
	unsigned n_publish;		/* -p, one rule per port */
	struct fwd_rule publish[FWD_MAX];
	unsigned n_to_host;		/* --forward-to-host */
	struct fwd_to_host to_host[FWD_TO_HOST_MAX];
	unsigned n_rules;		/* --allow, --deny, in order */
	struct policy_rule rules[POLICY_MAX_RULES];
	bool default_deny;		/* --default-deny */
	bool block_host_networks;	/* --block-host-networks */
	bool sandbox;			/* off: --no-sandbox (slirp4netns: */
	bool seccomp;			/* on with --enable-sandbox, -seccomp) */
	bool seccomp_log;		/* --seccomp-log */
	const char *runas;		/* --runas, NULL: nobody if root */
	const char *pcap;		/* --pcap FILE */
	uint32_t pcap_size_mb;		/* --pcap-size, 0: no limit */
	const char *api_socket;
	const char *pid_file;
	int exit_fd;			/* -1: none */
	int poll_mode;			/* enum poll_mode (engine.h) */
	unsigned ncpus;			/* --cpus: worker q runs on cpus[q % ncpus] */
	uint16_t cpus[64];
	uint32_t spin_us;
};

/* config_parse() results besides 0 */
#define CONFIG_EXIT_OK	1	/* --help or --version was printed */

void config_defaults(struct config *cfg);
int config_parse(struct config *cfg, int argc, char **argv, FILE *err);
bool config_option(struct config *cfg, const char *name, const char *arg, FILE *err);
bool config_backend(struct config *cfg, const char *arg, FILE *err);
bool config_mac(struct config *cfg, const char *arg, FILE *err);
bool config_parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out);
/* addrplan.c */
bool config_parse_cidr(struct config *cfg, const char *s, FILE *err);
bool config_parse_cidr6(struct config *cfg, const char *s, FILE *err);
bool config_parse_address(struct config *cfg, const char *s, FILE *err);
bool config_parse_addr4(const char *s, uint32_t *out);
bool config_plan_check(const struct config *cfg, FILE *err);
uint32_t config_guest_addr(const struct config *cfg);
uint32_t config_gateway_addr(const struct config *cfg);
uint32_t config_dns_addr(const struct config *cfg);
uint32_t config_host_addr(const struct config *cfg, uint32_t host);
uint32_t config_netmask(const struct config *cfg);
void config_host_addr6(const struct config *cfg, uint32_t host, struct inany *a);
bool config_parse_address6(struct config *cfg, const char *s, FILE *err);
bool config_parse_addr6(const char *s, struct inany *out);
void config_guest_addr6(const struct config *cfg, struct inany *a);
void config_gateway_addr6(const struct config *cfg, struct inany *a);
void config_dns_addr6(const struct config *cfg, struct inany *a);

#endif
