// SPDX-License-Identifier: MIT
/*
 * The virtio-net header a guest writes before each frame on a tap: what
 * vnet_rx_check() lets through (and with which frame flags), every way a
 * header can lie, and the header vnet_tx_header() writes toward the guest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <string.h>

#include "compat.h"
#include "vnet.h"

#define F_CSUM	VIRTIO_NET_HDR_F_NEEDS_CSUM
#define F_VALID	VIRTIO_NET_HDR_F_DATA_VALID

/* a 1000-byte frame: Ethernet with @ethertype, then zeros */
static uint8_t *frame_of(uint16_t ethertype)
{
	static uint8_t f[1000];

	memset(f, 0, sizeof(f));
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
	f[14] = ethertype == 0x0800 ? 0x45 : 0x60;
	f[34 + 12] = 5 << 4;	/* a TCP header's data offset, for IPv4 */
	f[54 + 12] = 8 << 4;	/* and for IPv6 (32 bytes, with options) */
	return f;
}

static void accepted_headers(void **state)
{
	static const struct {
		struct virtio_net_hdr h;
		uint16_t type;
		uint32_t flags;
	} t[] = {
		{ { 0 }, 0x0800, 0 },					/* nothing offloaded */
		{ { .flags = F_VALID }, 0x0800, 0 },			/* checked by the guest */
		{ { .flags = F_CSUM, .csum_start = 34, .csum_offset = 16 }, 0x0800,
		  FRAME_CSUM_PARTIAL },
		{ { .flags = F_CSUM, .csum_start = 34, .csum_offset = 6 }, 0x0800,
		  FRAME_CSUM_PARTIAL },					/* UDP */
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 16 }, 0x0800, FRAME_CSUM_PARTIAL | FRAME_GSO },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		    .gso_size = 1448, .csum_start = 34, .csum_offset = 16 }, 0x0800,
		  FRAME_CSUM_PARTIAL | FRAME_GSO },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1428,
		    .csum_start = 54, .csum_offset = 16 }, 0x86dd, FRAME_CSUM_PARTIAL | FRAME_GSO },
		{ { .flags = F_CSUM, .csum_start = 34, .csum_offset = 1000 - 34 - 2 }, 0x0800,
		  FRAME_CSUM_PARTIAL },					/* the last two bytes */
		/* with USO offered: UDP super-frames of either family */
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1472,
		    .csum_start = 34, .csum_offset = 6 }, 0x0800,
		  FRAME_CSUM_PARTIAL | FRAME_GSO | FRAME_GSO_UDP },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1452,
		    .csum_start = 54, .csum_offset = 6 }, 0x86dd,
		  FRAME_CSUM_PARTIAL | FRAME_GSO | FRAME_GSO_UDP },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t flags = 0xdead;

		if (!vnet_rx_check(&t[i].h, frame_of(t[i].type), 1000, true, &flags))
			fail_msg("case %zu refused", i);
		assert_int_equal(flags, t[i].flags);
	}
}

static void lying_headers(void **state)
{
	static const struct {
		struct virtio_net_hdr h;
		uint16_t type;
		uint32_t len;
	} t[] = {
		{ { .flags = 0x80 }, 0x0800, 1000 },			/* unknown flag */
		{ { .flags = F_CSUM | 0x04 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .csum_start = 33, .csum_offset = 16 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .csum_start = 0, .csum_offset = 0 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .csum_start = 34, .csum_offset = 1000 - 34 - 1 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .csum_start = 65535, .csum_offset = 65535 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .csum_start = 34, .csum_offset = 16 }, 0x0800, 40 },
		/* segmentation without a partial checksum, or of no size */
		{ { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 0,
		    .csum_start = 34, .csum_offset = 16 }, 0x0800, 1000 },
		/* of the other family's TCP */
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		    .csum_start = 54, .csum_offset = 16 }, 0x86dd, 1000 },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 16 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 16 }, 0x0806, 1000 },	/* ARP */
		/* never offered: UFO, unknown kinds, ECN alone; USO not offered: below */
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 6 }, 0x0800, 1000 },
		/* USO of something else than UDP: a TCP checksum, ARP, ECN, no size */
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 16 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 6 }, 0x0806, 1000 },
		{ { .flags = F_CSUM,
		    .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4 | VIRTIO_NET_HDR_GSO_ECN,
		    .gso_size = 1448, .csum_start = 34, .csum_offset = 6 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 0,
		    .csum_start = 34, .csum_offset = 6 }, 0x0800, 1000 },
		{ { .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1448 }, 0x0800, 1000 },
		{ { .flags = F_CSUM, .gso_type = 0x7f, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 16 }, 0x0800, 1000 },
		{ { .gso_type = VIRTIO_NET_HDR_GSO_ECN }, 0x0800, 1000 },
		/* shorter than an Ethernet header */
		{ { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		    .csum_start = 34, .csum_offset = 16 }, 0x0800, 10 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t flags;

		if (vnet_rx_check(&t[i].h, frame_of(t[i].type), t[i].len, true, &flags))
			fail_msg("case %zu accepted", i);
	}
	/* a good UDP super-frame, but USO was not offered */
	const struct virtio_net_hdr uso = { .flags = F_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
					    .gso_size = 1448, .csum_start = 34, .csum_offset = 6 };
	uint32_t flags;

	assert_true(vnet_rx_check(&uso, frame_of(0x0800), 1000, true, &flags));
	assert_false(vnet_rx_check(&uso, frame_of(0x0800), 1000, false, &flags));
}

static void headers_toward_guest(void **state)
{
	struct virtio_net_hdr h;
	const struct tx_offload csum = { .csum_start = 34, .csum_offset = 16 };
	const struct tx_offload gso4 = { .csum_start = 34, .csum_offset = 16, .gso_size = 1460 };
	const struct tx_offload gso6 = { .csum_start = 54, .csum_offset = 16, .gso_size = 1440 };
	uint8_t zero[sizeof(h)] = { 0 };

	(void)state;
	memset(&h, 0xff, sizeof(h));
	vnet_tx_header(&h, frame_of(0x0800), NULL);
	assert_memory_equal(&h, zero, sizeof(h));

	vnet_tx_header(&h, frame_of(0x0800), &csum);
	assert_int_equal(h.flags, F_CSUM);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);

	vnet_tx_header(&h, frame_of(0x0800), &gso4);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1460);
	assert_int_equal(h.hdr_len, 34 + 20);

	vnet_tx_header(&h, frame_of(0x86dd), &gso6);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(h.gso_size, 1440);
	assert_int_equal(h.hdr_len, 54 + 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted_headers),
		cmocka_unit_test(lying_headers),
		cmocka_unit_test(headers_toward_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
