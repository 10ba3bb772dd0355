/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_VNET_H
#define XDPSLIRP_VNET_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "frame.h"

#define VNET_HDR_LEN	((uint32_t)sizeof(struct virtio_net_hdr))

bool vnet_rx_check(const struct virtio_net_hdr *h, const uint8_t *frame, uint32_t len,
		   bool uso, uint32_t *flags);
void vnet_tx_header(struct virtio_net_hdr *h, const uint8_t *frame, const struct tx_offload *o);

#endif
