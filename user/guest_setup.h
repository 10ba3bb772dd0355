/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_GUEST_SETUP_H
#define XDPSLIRP_GUEST_SETUP_H

#include "config.h"
#include "engine.h"
#include "netns.h"
#include "plumb.h"

int choose_mtu(const struct config *cfg, bool multibuffer, uint32_t *mtu);
unsigned default_queues(void);
int guest_userns(const struct config *cfg, struct ns_target *ns);
void ns_close(struct ns_target *ns);
int guest_link_setup(struct guest_link *gl, struct config *cfg, const struct ns_target *ns,
		     int backend, int multibuffer, uint32_t mtu);
void guest_params_fill(struct guest_params *gp, const struct config *cfg,
		       const struct guest_link *gl, int backend, bool multibuffer,
		       const struct gateway *gw, struct pcap *pcap);

#endif
