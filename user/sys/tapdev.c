// SPDX-License-Identifier: MIT
/*
 * tapdev.c - open (creating if need be) the queues of a tap device in the
 * current network namespace, for the tap port (port/tap.c).
 *
 * Every queue is an fd of /dev/net/tun bound with TUNSETIFF to the same
 * name: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, and IFF_MULTI_QUEUE when more
 * than one is wanted.  A tap that exists already (RootlessKit makes its
 * own) keeps the queue mode it was made with: a single-queue one refuses
 * IFF_MULTI_QUEUE with EINVAL, and is then served with one queue.  A tap
 * created here is not persistent: it ends with its last fd, so nothing is
 * left behind even after SIGKILL.  Offloads (TUNSETOFFLOAD) tell the
 * kernel what we take from the guest: partial checksums and TCP
 * super-frames, and UDP super-frames (USO) where the kernel has them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "tapdev.h"

#define TAP_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define TAP_USO		(TUN_F_USO4 | TUN_F_USO6)

static int tap_queue_open(const char *name, bool multi)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd, ret;

	if (multi)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/**
 * tapdev_open() - the queues of tap @name, created if it does not exist
 * @name: interface name in the current namespace
 * @want: queues wanted (1 to NS_MAX_FDS)
 * @fds: filled with one fd per queue
 * @nq: set to the number opened (fewer than @want for a single-queue tap)
 * @offloads: in: non-zero to ask for offloads (not with
 *	--disable-checksum-offload); out: the TUN_F_* flags the kernel took
 *	(checksum and TSO, and USO where it has it), or 0
 *
 * Return: 0, or negative errno (logged).
 */
int tapdev_open(const char *name, unsigned want, int *fds, unsigned *nq, unsigned *offloads)
{
	bool multi = want > 1;
	int fd = tap_queue_open(name, multi);

	*nq = 0;
	if (fd == -EINVAL && multi) {	/* an existing single-queue tap */
		multi = false;
		want = 1;
		fd = tap_queue_open(name, false);
	}
	while (fd >= 0) {
		fds[(*nq)++] = fd;
		if (*nq == want)
			break;
		fd = tap_queue_open(name, multi);
	}
	if (fd < 0) {
		log_err("cannot open tap %s: %s%s", name, strerror(-fd),
			fd == -EPERM || fd == -EBUSY ?
			" (held by another process, or another user's?)" : "");
		while (*nq)
			close(fds[--*nq]);
		return fd;
	}
	if (!*offloads)
		return 0;
	*offloads = TAP_OFFLOADS | TAP_USO;
	if (ioctl(fds[0], TUNSETOFFLOAD, *offloads))	/* USO: Linux 6.2+ */
		*offloads = TAP_OFFLOADS;
	if (*offloads == TAP_OFFLOADS && ioctl(fds[0], TUNSETOFFLOAD, *offloads)) {
		log_info("tap %s: no checksum or segmentation offload: %s", name, strerror(errno));
		*offloads = 0;
	}
	return 0;
}
