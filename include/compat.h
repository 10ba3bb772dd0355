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

/* Tap offload: the guest may hand us UDP segmentation super-frames (6.2+),
 * USO4 and USO6 only together; their virtio-net gso_type.
 */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* Bind flag: accept frames spanning several UMEM chunks (kernel 6.6+). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif

/* Descriptor option: more chunks of this frame follow (kernel 6.6+). */
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/*
 * AF_XDP TX metadata (kernel 6.8+; the UMEM flag is required from 6.11): a
 * UMEM registered with tx_metadata_len reserves that many bytes before each
 * transmitted frame, read when the descriptor has XDP_TX_METADATA.
 */
#ifndef XDP_UMEM_TX_METADATA_LEN
#define XDP_UMEM_TX_METADATA_LEN (1 << 2)
#endif
#ifndef XDP_TX_METADATA
#define XDP_TX_METADATA (1 << 1)
#endif
#ifndef XDP_TXMD_FLAGS_CHECKSUM
#define XDP_TXMD_FLAGS_CHECKSUM (1 << 1)
#endif

/* struct xdp_umem_reg with tx_metadata_len (6.8+). */
struct xdp_umem_reg_v2 {
	__u64 addr;
	__u64 len;
	__u32 chunk_size;
	__u32 headroom;
	__u32 flags;
	__u32 tx_metadata_len;
};

/* struct xsk_tx_metadata, request side (launch_time: 6.15+). */
struct xsk_tx_metadata_v2 {
	__u64 flags;
	__u16 csum_start;	/* from the frame's start */
	__u16 csum_offset;	/* of the checksum field, from csum_start */
	__u32 pad;
	__u64 launch_time;
};

#endif /* XDPSLIRP_COMPAT_H */
