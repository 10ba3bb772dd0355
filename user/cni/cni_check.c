// SPDX-License-Identifier: MIT
/*
 * cni_check.c - CHECK inside the pod: the interface ADD made is there, up,
 * with the MAC, the addresses and the default routes that prevResult
 * reports.  The plugin runs in the runtime's namespace; it enters the
 * pod's (it is one thread, and exits after), then reads the interface
 * from getifaddrs() and the routes from /proc/net, which shows the
 * namespace of whoever reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"

/* The interface @ifname has the address @cidr ("A/N"): true if so. */
static bool has_address(const struct ifaddrs *list, const char *ifname, const char *cidr)
{
	char want[INET6_ADDRSTRLEN + 4], have[INET6_ADDRSTRLEN];

	snprintf(want, sizeof(want), "%s", cidr);
	want[strcspn(want, "/")] = '\0';
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		const void *a;

		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((const struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(i->ifa_addr->sa_family, a, have, sizeof(have)) && !strcmp(have, want))
			return true;
	}
	return false;
}

/* The interface's MAC, "aa:bb:..", into @buf; false if it has none. */
static bool link_mac(const struct ifaddrs *list, const char *ifname, char *buf, size_t len)
{
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;

		if (ll && ll->sll_family == AF_PACKET && !strcmp(i->ifa_name, ifname) &&
		    ll->sll_halen == 6) {
			const unsigned char *m = ll->sll_addr;

			snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
				 m[4], m[5]);
			return true;
		}
	}
	return false;
}

/* /proc/net/route or ipv6_route has a default route out of @ifname. */
static bool has_default_route(const char *ifname, bool ipv6)
{
	FILE *f = fopen(ipv6 ? "/proc/net/ipv6_route" : "/proc/net/route", "r");
	char line[512], dev[IF_NAMESIZE + 1], dst[64];
	unsigned plen;
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		if (ipv6)	/* dst plen src plen next metric ref use flags dev */
			found = sscanf(line, "%63s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &plen,
				       dev) == 3 && !plen && !strcmp(dev, ifname) &&
				strspn(dst, "0") == 32;
		else		/* Iface Destination Gateway Flags ... Mask */
			found = sscanf(line, "%16s %63s %*s %*s %*s %*s %*s %x", dev, dst, &plen) == 3 &&
				!strcmp(dev, ifname) && !strcmp(dst, "00000000") && !plen;
	}
	if (f)
		fclose(f);
	return found;
}

/* Compares the pod's interface with prevResult's; 0 or the error's code. */
static int check_inside(const struct cni_env *env, const json_t *prev, struct cni_error *err)
{
	json_t *ifaces = json_object_get(prev, "interfaces"), *v;
	struct ifaddrs *list = NULL;
	char mac[18];
	size_t i;
	int ret = 0;

	if (!if_nametoindex(env->ifname))
		return cni_fail(err, CNI_ERR_NOT_SERVED, "the interface is gone",
				"no %s in %s", env->ifname, env->netns);
	if (getifaddrs(&list))
		return cni_fail(err, CNI_ERR_IO, "cannot list the pod's addresses", "%s",
				strerror(errno));
	json_array_foreach(ifaces, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *want = json_string_value(json_object_get(v, "mac"));

		if (name && !strcmp(name, env->ifname) && want &&
		    (!link_mac(list, name, mac, sizeof(mac)) || strcasecmp(mac, want)))
			ret = cni_fail(err, CNI_ERR_NOT_SERVED, "the interface's MAC changed",
				       "%s: %s, prevResult says %s", name, mac, want);
	}
	json_array_foreach(json_object_get(prev, "ips"), i, v) {
		const char *a = json_string_value(json_object_get(v, "address"));

		if (!ret && (!a || !has_address(list, env->ifname, a)))
			ret = cni_fail(err, CNI_ERR_NOT_SERVED, "an address is missing",
				       "%s has no %s", env->ifname, a ? a : "(none given)");
	}
	json_array_foreach(json_object_get(prev, "routes"), i, v) {
		const char *dst = json_string_value(json_object_get(v, "dst"));

		if (!ret && dst && (!strcmp(dst, "0.0.0.0/0") || !strcmp(dst, "::/0")) &&
		    !has_default_route(env->ifname, strchr(dst, ':')))
			ret = cni_fail(err, CNI_ERR_NOT_SERVED, "a default route is missing",
				       "no %s route out of %s", dst, env->ifname);
	}
	freeifaddrs(list);
	return ret;
}

/**
 * cni_check_netns() - CHECK the pod's side of the attachment
 * @env: CNI_NETNS and CNI_IFNAME
 * @prev: prevResult
 * @err: filled in on failure
 *
 * Enters the pod's network namespace for good: call it last.
 *
 * Return: 0, or the error's code.
 */
int cni_check_netns(const struct cni_env *env, const json_t *prev, struct cni_error *err)
{
	int fd = open(env->netns, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return cni_fail(err, CNI_ERR_ENV, "cannot enter CNI_NETNS", "%s: %s", env->netns,
				strerror(e));
	}
	close(fd);
	return check_inside(env, prev, err);
}
