/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_SHAPER_H
#define XDPSLIRP_SHAPER_H

#include <stdbool.h>
#include <stdint.h>

/* A bandwidth limit as given: bits a second and bits of burst (0: none). */
struct rate_limit {
	uint64_t rate, burst;
};

/* One direction's token bucket of a guest, shared by its workers. */
struct shaper {
	uint64_t rate;		/* bytes a second, > 0 */
	int64_t burst;		/* bytes: at most this many tokens */
	int64_t tokens;		/* atomic; below 0 when overdrawn */
	uint64_t stamp;		/* atomic: time up to which tokens were added */
};

void shaper_init(struct shaper *s, const struct rate_limit *l, uint64_t now);
int64_t shaper_room(struct shaper *s, uint64_t now);
bool shaper_pay(struct shaper *s, uint32_t bytes, uint64_t now);
void shaper_spend(struct shaper *s, uint32_t bytes);
uint64_t shaper_wait_ns(const struct shaper *s, uint32_t bytes);

#endif
