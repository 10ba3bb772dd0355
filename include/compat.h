/* SPDX-License-Identifier: MIT */
/*
 * compat.h - uapi constants newer than the 6.1 kernel headers Debian 12 ships.
 *
 * The build machine's <linux/if_xdp.h> predates AF_XDP multi-buffer and TX
 * metadata; the running kernel has them.  Every constant that the headers may
 * lack is defined here, and only here, guarded so that newer headers win.
 */
#ifndef XDPSLIRP_COMPAT_H
#define XDPSLIRP_COMPAT_H

#include <linux/if_xdp.h>

/* Bind flag: accept frames spanning several UMEM chunks (kernel 6.6+). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif

/* Descriptor option: more chunks of this frame follow (kernel 6.6+). */
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/* SOL_XDP option: descriptors one sendto() may transmit (kernel 6.17+). */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

#endif /* XDPSLIRP_COMPAT_H */
