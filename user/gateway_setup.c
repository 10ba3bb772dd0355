// SPDX-License-Identifier: MIT
/*
 * gateway_setup.c - the gateway as the command line describes it: its
 * addresses in the guest's networks (--cidr, --cidr6: fixed host numbers,
 * slirp4netns's plan), its MAC and MTU from our end of the link, the DNS
 * upstreams (--dns-upstream, else /etc/resolv.conf's name servers), and the
 * line main.c logs once it serves the guest.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns.h"
#include "engine.h"
#include "gateway_setup.h"
#include "hostsock.h"
#include "log.h"

#define RESOLV_CONF "/etc/resolv.conf"

/* The IPv6 address plan: --cidr6's prefix, fe80::2 for the router. */
static void gateway_init_ipv6(struct gateway *gw, const struct config *cfg)
{
	gw->ipv6 = !cfg->disable_ipv6;
	config_gateway_addr6(cfg, &gw->gw6);
	config_dns_addr6(cfg, &gw->dns6);
	config_guest_addr6(cfg, &gw->guest6);
	memset(&gw->ll6, 0, sizeof(gw->ll6));
	gw->ll6.b[0] = 0xfe;
	gw->ll6.b[1] = 0x80;
	gw->ll6.b[15] = CIDR_HOST_GATEWAY;
	gw->ra_interval_ms = cfg->ra_interval_s * 1000;
	gw->ra_no_route = gw->ipv6 && !hostsock_default_route6();
	if (gw->ra_no_route)
		log_info("the host has no IPv6 default route: router advertisements say so (lifetime 0), and the guest's IPv6 stays on its link");
}

/**
 * gateway_setup() - the gateway's addresses and services, from the command line
 * @gw: filled in (its @seen already set)
 * @cfg: configuration
 * @host: our end of the guest's link: the gateway's MAC and the MTU
 */
void gateway_setup(struct gateway *gw, const struct config *cfg, const struct link_info *host)
{
	memcpy(gw->mac, host->mac, ETH_ALEN);
	gw->gw_addr = config_gateway_addr(cfg);
	gw->dns_addr = config_dns_addr(cfg);
	gw->guest_addr = config_guest_addr(cfg);
	gw->dhcp_addr = cfg->slirp4netns ? config_host_addr(cfg, CIDR_HOST_DHCP_S4N) : gw->guest_addr;
	gw->netmask = config_netmask(cfg);
	gw->mtu = host->mtu;
	gateway_init_ipv6(gw, cfg);
	gw->no_host_loopback = cfg->disable_host_loopback;
	gw->outbound4 = cfg->outbound4;
	gw->outbound6 = cfg->outbound6;
	gw->no_dhcp = cfg->no_dhcp;
	gw->udp_timeout_s = cfg->udp_timeout_s;
	gw->tcp_sndbuf = hostsock_tcp_sndbuf();
	memcpy(gw->to_host, cfg->to_host, sizeof(cfg->to_host[0]) * cfg->n_to_host);
	gw->n_to_host = cfg->n_to_host;
	if (cfg->disable_dns)
		return;
	memcpy(gw->dns, cfg->dns, sizeof(cfg->dns[0]) * cfg->n_dns);
	gw->n_dns = cfg->n_dns;
	if (!gw->n_dns && !dns_upstreams_from_resolv_conf(gw, RESOLV_CONF))
		log_warn("no name server in %s: the DNS addresses will not answer; use --dns-upstream",
			 RESOLV_CONF);
	gw->dnssl_len = (uint16_t)dns_search_from_resolv_conf(gw->dnssl, sizeof(gw->dnssl),
							      RESOLV_CONF);
}

/* What carries the guest's frames, for the ready line. */
static const char *backend_desc(const struct guest_link *gl, int backend)
{
	switch (backend) {
	case BACKEND_TAP:
		return gl->tap_offloads ? "a tap fd (offloads on)" : "a tap fd (no offloads)";
	case BACKEND_STREAM:
		return "a stream socket (QEMU -netdev stream)";
	default:
		return "AF_XDP";
	}
}

/* The line saying what is served, and how: the last before "ready". */
void gateway_log_serving(const struct guest_link *gl, const struct gateway *gw,
			 const struct config *cfg, int backend)
{
	char a[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &gw->gw_addr, a, sizeof(a));
	inet_ntop(AF_INET, &gw->dns_addr, d, sizeof(d));
	inet_ntop(AF_INET, &gw->guest_addr, g, sizeof(g));
	log_info("serving %s%s over %s: gateway %s, DNS %s, guest %s/%u, MTU %u, %u queue%s",
		 backend == BACKEND_TAP ? "tap " : "",
		 backend == BACKEND_STREAM ? cfg->socket_path : gl->host_ifname,
		 backend_desc(gl, backend), a, d, g, cfg->prefix_len, gw->mtu, cfg->queues,
		 cfg->queues > 1 ? "s" : "");
	if (gw->ipv6) {
		char a6[INET6_ADDRSTRLEN], d6[INET6_ADDRSTRLEN], g6[INET6_ADDRSTRLEN];

		log_info("IPv6: gateway %s (fe80::2), DNS %s, guest %s/64",
			 inany_ntop(&gw->gw6, a6, sizeof(a6)), inany_ntop(&gw->dns6, d6, sizeof(d6)),
			 inany_ntop(&gw->guest6, g6, sizeof(g6)));
	}
}
