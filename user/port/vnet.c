// SPDX-License-Identifier: MIT
/*
 * vnet.c - the virtio-net header before each frame on a tap (IFF_VNET_HDR).
 *
 * Theory of operation: with offloads negotiated (TUNSETOFFLOAD), the
 * guest's kernel hands us frames whose transport checksum is left to us
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM: the field holds the pseudo-header sum) and
 * TCP super-frames of up to 64 KiB (gso_type TCPV4/TCPV6) that it did not
 * cut into MSS-sized segments.  We terminate TCP, so these need no work:
 * the payload goes to a host socket as it is.  With USO offered, an
 * application's UDP_SEGMENT send arrives as one UDP super-frame (gso_type
 * UDP_L4): its datagrams are gso_size bytes each, and udp.c sends them
 * one by one.  But the header comes
 * from the guest, so it is checked like any header: known flags only,
 * checksum offsets inside the frame, segmentation only of the kind we
 * offered and for the frame's own network protocol.  What passes becomes
 * struct frame's flags (FRAME_CSUM_PARTIAL, FRAME_GSO, FRAME_GSO_UDP); the
 * network layer then checks the frame itself as always.
 *
 * Toward the guest we write the same header: zero for a finished frame,
 * or NEEDS_CSUM with offsets (the guest takes it as CHECKSUM_PARTIAL and
 * verifies nothing), and for a TCP super-frame gso_type and gso_size (the
 * guest's MSS): its kernel takes the 64 KiB as one packet, as from GRO.
 */
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <string.h>

#include "compat.h"
#include "vnet.h"

/* Where the network header ends at the least: ETH + the smaller IP header. */
#define MIN_L4_OFF	(ETH_HLEN + 20u)

static uint16_t frame_ethertype(const uint8_t *frame, uint32_t len)
{
	return len >= ETH_HLEN ? (uint16_t)(frame[12] << 8 | frame[13]) : 0;
}

/**
 * vnet_rx_check() - validate the header of a frame the guest wrote
 * @h: the header, as read
 * @frame: the frame after it (seg[0] of the received frame)
 * @len: its length
 * @uso: UDP segmentation was offered to the guest
 * @flags: set to the FRAME_* flags the header earns
 *
 * Return: true if the frame may go on, false to drop it (DROP_VNET_HDR).
 */
bool vnet_rx_check(const struct virtio_net_hdr *h, const uint8_t *frame, uint32_t len,
		   bool uso, uint32_t *flags)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint16_t type = frame_ethertype(frame, len);

	*flags = 0;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (h->csum_start < MIN_L4_OFF ||
		    (uint32_t)h->csum_start + h->csum_offset + 2u > len)
			return false;
		*flags |= FRAME_CSUM_PARTIAL;
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (type != ETH_P_IP)
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (type != ETH_P_IPV6)
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:	/* either family; the checksum a UDP one */
		if (!uso || (type != ETH_P_IP && type != ETH_P_IPV6) ||
		    h->csum_offset != offsetof(struct udphdr, check) ||
		    (h->gso_type & VIRTIO_NET_HDR_GSO_ECN))
			return false;
		*flags |= FRAME_GSO_UDP;
		break;
	default:		/* UFO: never offered */
		return false;
	}
	/* a super-frame always leaves its checksum to us (virtio 1.2, 5.1.6.2) */
	if (!(*flags & FRAME_CSUM_PARTIAL) || !h->gso_size)
		return false;
	*flags |= FRAME_GSO;
	return true;
}

/**
 * vnet_tx_header() - the header for a frame we write to the guest
 * @h: filled in
 * @frame: the frame (its EtherType tells the TCP flavour of a super-frame)
 * @o: offloads asked for, or NULL for a finished frame
 */
void vnet_tx_header(struct virtio_net_hdr *h, const uint8_t *frame, const struct tx_offload *o)
{
	memset(h, 0, sizeof(*h));
	if (!o)
		return;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = o->csum_start;
	h->csum_offset = o->csum_offset;
	if (!o->gso_size)
		return;
	h->gso_type = frame_ethertype(frame, ETH_HLEN) == ETH_P_IPV6 ?
		      VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = o->gso_size;
	/* Ethernet, IP and TCP headers: data offset is byte 12's high nibble */
	h->hdr_len = (uint16_t)(o->csum_start + ((frame[o->csum_start + 12] >> 4) * 4u));
}
