/* SPDX-License-Identifier: MIT */
#ifndef XDPSLIRP_FLOW_H
#define XDPSLIRP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "inany.h"

/* Identifies a flow from the guest's point of view. Ports in network order. */
struct flow_key {
	struct inany guest;
	struct inany remote;
	uint16_t guest_port;
	uint16_t remote_port;
	uint8_t proto;
	uint8_t pad[3];
};

/* TCP state of a flow, as the guest sees the connection. */
enum tcp_state {
	FLOW_CONNECTING,	/* guest's SYN seen, host connect() pending */
	FLOW_SYN_ACK_SENT,	/* SYN-ACK sent, waiting for the guest's ACK */
	FLOW_SYN_SENT,		/* forwarded port: our SYN to the guest is out */
	FLOW_ESTABLISHED,	/* (UDP and ping flows are always this) */
	FLOW_FREE,		/* slot free */
};

/* Flow flags */
#define FLOW_GUEST_FIN		0x01	/* guest sent FIN: host socket shut down for writing */
#define FLOW_HOST_EOF		0x02	/* host socket reached end of stream */
#define FLOW_FIN_SENT		0x04	/* our FIN to the guest is out */
#define FLOW_FIN_ACKED		0x08	/* ... and acknowledged */
#define FLOW_WAIT_WRITABLE	0x10	/* window update due when the socket drains */
#define FLOW_PENDING		0x20	/* on the table's pending (half-open) list */
#define FLOW_INBOUND		0x40	/* UDP: client of a forwarded port, shared socket */
#define FLOW_ACK_LATER		0x80	/* TCP: owes the guest an ACK at tcp_flush() */
#define FLOW_FLUSH		0x100	/* TCP: on gw_ctx.flush_list, for tcp_flush() */
#define FLOW_HOST_DRAINED	0x200	/* TCP: all the host sent is peeked; its
					 * next "readable" edge clears this */
#define FLOW_HOST_HUP		0x400	/* TCP: the host's FIN (or more) is queued:
					 * no edge will come for it again */
#define FLOW_SOCK6		0x800	/* datagram flow: its socket is AF_INET6 */
#define FLOW_NO_GSO		0x1000	/* UDP: the route refused UDP_SEGMENT sends */
#define FLOW_TX_STARVED		0x1000	/* TCP: no free frame for its data, or its
					   --ingress-rate spent: sent again on a
					   timer, which is no retransmission
					   timeout (UDP's bit) */
#define FLOW_FWD		0x2000	/* TCP: a client of a forwarded port */
#define FLOW_WND_UPDATE		0x4000	/* TCP: our window update is unconfirmed:
					   re-sent on the timer until the guest sends */
#define FLOW_HOST_ERR		0x8000	/* TCP: a send to the host socket failed
					   (reset): the guest is reset at tcp_flush() */

/*
 * struct flow - one connection.  The host socket's buffers are the only
 * payload storage: the engine keeps sequence numbers, not bytes.
 */
struct flow {
	struct flow_key key;
	int sock;		/* host socket */
	uint8_t state;		/* enum tcp_state */
	uint8_t guest_wscale : 4;	/* shift for the guest's advertised window */
	uint8_t our_wscale : 4;	/* shift of the window we advertise */
	uint16_t flags;
	uint16_t guest_mss;
	uint8_t retries;	/* consecutive retransmission timeouts */
	uint8_t dup_acks;
	uint32_t snd_una;	/* oldest byte sent to the guest, not acked */
	uint32_t snd_nxt;	/* next byte to send to the guest */
	uint32_t rcv_nxt;	/* next byte expected from the guest */
	uint32_t guest_wnd;	/* guest's window, scaled */
	uint32_t acked_unread;	/* acknowledged, still in the socket: dropped
				 * from it at tcp_flush() */
	uint64_t timer_at;	/* TCP: retransmission deadline; UDP: idle expiry;
				 * CLOCK_MONOTONIC ns, 0: none */
	uint32_t prev, next;	/* active-list links (flow indices) */
	uint32_t pend_prev, pend_next;	/* pending-list links */
	union {
		uint64_t last_used;	/* UDP, ping: last datagram either way, ns */
		struct {
			uint32_t recover;	/* TCP: snd_nxt when fast recovery
						 * began (while dup_acks >= 3) */
			uint32_t outq;		/* TCP: bytes in the host socket's
						 * send queue, at most (tcp_window()) */
		};
	};
};

/*
 * struct flow_table - a worker's flows: a slot array and an open-addressing
 * hash (linear probing, backward-shift deletion) keyed with a random seed,
 * so that a guest cannot aim for collisions.  All memory is allocated once,
 * and none of it is written before a flow needs it: slots are taken from
 * the stack of freed ones, else the next never used (@fresh), and an empty
 * bucket is 0, so an idle table costs no resident memory.
 */
struct flow_table {
	struct flow *flows;
	uint32_t *buckets;	/* flow index + 1; 0 is empty */
	uint32_t *free;		/* stack of freed slot indices */
	uint32_t nstack;	/* ... its depth */
	uint32_t fresh;		/* slots from here on were never used */
	uint32_t max;
	uint32_t mask;		/* buckets - 1 */
	uint64_t seed;
	uint32_t active;	/* head of the list of flows in use, or FLOW_NONE */
	uint32_t count;
	uint32_t pend_head, pend_tail;	/* pending flows, oldest first */
	uint32_t npending;
	uint32_t ndgram;	/* datagram flows: UDP mappings, ping sockets */
};

/* No slot left for another flow. */
static inline bool flow_table_full(const struct flow_table *t)
{
	return t->count == t->max;
}

#define FLOW_NONE UINT32_MAX

int flow_table_init(struct flow_table *t, uint32_t max);
void flow_table_fini(struct flow_table *t);
uint64_t flow_random_seed(void);
uint32_t flow_key_hash(uint64_t seed, const struct flow_key *k);
struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k);
struct flow *flow_insert(struct flow_table *t, const struct flow_key *k);
void flow_remove(struct flow_table *t, struct flow *f);
uint32_t flow_index(const struct flow_table *t, const struct flow *f);
void flow_pending_add(struct flow_table *t, struct flow *f);
void flow_pending_del(struct flow_table *t, struct flow *f);
struct flow *flow_pending_oldest(struct flow_table *t);

#endif
