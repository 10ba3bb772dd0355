// SPDX-License-Identifier: MIT
/*
 * steer.c - which worker owns a flow, and handing frames to it.
 *
 * Theory of operation: every flow belongs to exactly one worker, and only
 * that worker touches the flow and its host socket.  The guest's kernel
 * picks the queue a frame arrives on: it keeps a connection on one queue
 * (the socket's hash picks it), but may move it mid-connection (a
 * retransmission timeout re-hashes it, an XPS change re-maps it).  So a
 * flow belongs to the worker whose queue its first frame came on, which is
 * where its later frames come too; a worker that receives a frame of a flow
 * it does not own copies it into a ring towards the owner (steer_frame())
 * and wakes it; the owner runs it through eth_input() like a frame of its
 * own and answers on its own queue.  The guest does not care which queue
 * its frames come back on.
 *
 * Who owns what is kept in a table of claims shared by all workers
 * (@slots): a flow key hashes to a slot, a slot holds its owner and how
 * many holds it has: the owner's flows in that slot, a frame being served
 * while the slot was free, a connection accepted for the owner on its way
 * there.  The owner of a slot changes only when it has no hold, so a worker
 * that reads itself as the owner stays it while it holds a flow there.  A
 * frame finding its slot free claims it for the receiving worker while it
 * is served (steer_frame(), steer_frame_done()), and a flow made meanwhile
 * (a SYN, a first datagram) keeps it; a slot is written only when a flow
 * comes or goes, so a frame costs one hash and one shared read.  Keys that
 * share a slot share an owner: rare, and harmless but for hand-offs.
 *
 * Why hand-off and not a flow table shared by all workers: a shared table
 * needs a lock (or RCU) on every lookup and per-flow locks on every
 * segment, and bounces the flow's cache lines between CPUs on every frame
 * even when no flow ever moves.  With hand-off a frame arriving on its
 * owner's queue takes no lock and writes nothing shared; a frame on the
 * wrong queue costs one copy and one wake-up.  Owners by first queue
 * against owners by a hash of the key (which sends (N - 1) / N of the
 * frames through a ring), measured on 2 vCPUs with 2 queues: see the
 * comment above steer_frame().  Workers are only woken when they may be
 * asleep (steer_may_sleep()), so a busy owner costs no syscall.
 *
 * Keys: TCP by its whole 4-tuple; UDP and ping by the guest's address and
 * port (echo identifier) only, because one host socket serves every peer of
 * a guest port (udp.c) and must live with one worker.  Frames without a flow
 * (ARP, ICMP to the gateway) are answered wherever they arrive.  Flows the
 * host starts (forwarded ports) go to the slot's owner, or if it is free to
 * the worker the key hashes to (steer_owner()).
 *
 * A ring has one producer and one consumer, so it needs no lock: the
 * producer publishes @head with a release store after copying, the consumer
 * frees space by a release store of @tail once it is done with the frames
 * (UDP datagrams are sent from the ring, see VERDICT_HELD).  A full ring
 * drops the frame (counted as handoff_full); TCP sends it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ip.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "gateway.h"
#include "ip.h"
#include "steer.h"

#define HANDOFF_RING_BYTES	(4u << 20)
/* a record: 32-bit length, 16-bit frame flags, the frame (so that its
 * data sits 2 bytes past 4) */
#define REC_HDR			6u
#define REC_WRAP		UINT32_MAX
#define SLOT_HOLD		(1u << STEER_HOLD_SHIFT)
#define SLOT_OWNER_MASK		(SLOT_HOLD - 1)

static uint32_t rec_bytes(uint32_t len)
{
	return (REC_HDR + len + 7u) & ~7u;
}

static int ring_init(struct handoff_ring *r)
{
	r->size = HANDOFF_RING_BYTES;
	/* touched only as far as frames go: most rings stay unbacked */
	r->buf = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		return -errno;
	}
	return 0;
}

/**
 * steer_init() - flow ownership and the hand-off rings of @nworkers workers
 * @s: zeroed
 * @nworkers: 1 to STEER_MAX_WORKERS
 *
 * Return: 0, or negative errno (call steer_fini() either way).
 */
int steer_init(struct steer *s, unsigned nworkers)
{
	s->nworkers = nworkers;
	s->seed = flow_random_seed();
	for (unsigned i = 0; i < STEER_MAX_WORKERS; i++)
		s->wake[i] = -1;
	if (nworkers < 2)
		return 0;
	s->slots = calloc(STEER_SLOTS, sizeof(*s->slots));
	s->order = calloc(1, 64);	/* a cache line of its own */
	if (!s->slots || !s->order)
		return -ENOMEM;
	for (unsigned i = 0; i < nworkers; i++) {
		s->wake[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->wake[i] < 0)
			return -errno;
	}
	s->rings = calloc((size_t)nworkers * nworkers, sizeof(*s->rings));
	if (!s->rings)
		return -ENOMEM;
	for (unsigned from = 0; from < nworkers; from++)
		for (unsigned to = 0; to < nworkers; to++) {
			int ret = from == to ? 0 : ring_init(steer_ring(s, from, to));

			if (ret)
				return ret;
		}
	return 0;
}

void steer_fini(struct steer *s)
{
	if (!s->nworkers)	/* never initialised */
		return;
	for (unsigned i = 0; s->rings && i < s->nworkers * s->nworkers; i++)
		if (s->rings[i].buf)
			munmap(s->rings[i].buf, s->rings[i].size);
	free(s->rings);
	s->rings = NULL;
	free(s->slots);
	s->slots = NULL;
	free(s->order);
	s->order = NULL;
	for (unsigned i = 0; i < STEER_MAX_WORKERS; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	s->nworkers = 0;
}

struct handoff_ring *steer_ring(const struct steer *s, unsigned from, unsigned to)
{
	return &s->rings[from * s->nworkers + to];
}

/* @k's hash for ownership: UDP and ping keys without the peer. */
static uint32_t steer_hash(const struct steer *s, const struct flow_key *k)
{
	struct flow_key own = *k;

	if (k->proto != IPPROTO_TCP) {
		memset(&own.remote, 0, sizeof(own.remote));
		own.remote_port = 0;
	}
	return flow_key_hash(s->seed, &own);
}

/* The worker a flow the host starts goes to if its slot is free. */
unsigned steer_owner(const struct steer *s, const struct flow_key *k)
{
	if (s->nworkers < 2)
		return 0;
	return (unsigned)(((uint64_t)steer_hash(s, k) * s->nworkers) >> 32);
}

static uint32_t *steer_slot(const struct steer *s, const struct flow_key *k)
{
	return &s->slots[steer_hash(s, k) & (STEER_SLOTS - 1)];
}

static unsigned slot_owner(uint32_t v)
{
	return (v & SLOT_OWNER_MASK) - 1;
}

/* Adds a hold on @slot, claiming it for @want if free; returns its owner. */
static unsigned slot_hold(uint32_t *slot, unsigned want)
{
	uint32_t old = __atomic_load_n(slot, __ATOMIC_RELAXED), new;

	do
		new = old ? old + SLOT_HOLD : SLOT_HOLD | (want + 1);
	while (!__atomic_compare_exchange_n(slot, &old, new, true, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED));
	return slot_owner(new);
}

/* Takes a hold off @slot; its last frees it. */
static void slot_unhold(uint32_t *slot)
{
	uint32_t old = __atomic_load_n(slot, __ATOMIC_RELAXED), new;

	do
		new = old >> STEER_HOLD_SHIFT > 1 ? old - SLOT_HOLD : 0;
	while (!__atomic_compare_exchange_n(slot, &old, new, true, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED));
}

/**
 * steer_claim() - hold the slot of @k: its owner keeps it until released
 * @s: the engine's steering
 * @k: a flow key
 * @want: the owner if the slot is free
 *
 * Each call is undone by one steer_unclaim(), by whichever worker.
 *
 * Return: the slot's owner.
 */
unsigned steer_claim(const struct steer *s, const struct flow_key *k, unsigned want)
{
	return s->nworkers < 2 ? 0 : slot_hold(steer_slot(s, k), want);
}

void steer_unclaim(const struct steer *s, const struct flow_key *k)
{
	if (s->nworkers > 1)
		slot_unhold(steer_slot(s, k));
}

/* Slots still held: 0 once every flow and forwarded port ended. */
unsigned steer_slots_held(const struct steer *s)
{
	unsigned n = 0;

	for (unsigned i = 0; s->slots && i < STEER_SLOTS; i++)
		n += __atomic_load_n(&s->slots[i], __ATOMIC_RELAXED) != 0;
	return n;
}

/**
 * steer_flow_add() - a flow with key @k is being made by the calling worker
 * @ctx: its context
 * @k: the flow's key
 *
 * Return: false if another worker owns @k's slot (the flow must not be
 * made: a frame raced with another worker's new flow in the same slot).
 */
bool steer_flow_add(struct gw_ctx *ctx, const struct flow_key *k)
{
	if (!ctx->steer || steer_claim(ctx->steer, k, ctx->worker) == ctx->worker)
		return true;
	steer_unclaim(ctx->steer, k);
	counter_add(&ctx->cnt->drop[DROP_STEER_RACE], 1);
	return false;
}

/* The flow with key @k, made by steer_flow_add(), is gone. */
void steer_flow_del(struct gw_ctx *ctx, const struct flow_key *k)
{
	if (ctx->steer)
		steer_unclaim(ctx->steer, k);
}

/* The key a datagram from the guest would have in its owner's table;
 * false for those that belong to no flow.
 */
static bool steer_key(const struct gateway *gw, const struct frame *f,
		      const struct ippkt *p, struct flow_key *k)
{
	const uint8_t *l4 = f->seg[0].data + p->l4off;

	if (p->l4off + 8 > f->seg[0].len)	/* ports or echo identifier */
		return false;
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		memcpy(&k->guest_port, l4, 2);
		memcpy(&k->remote_port, l4 + 2, 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (l4[0] != (p->v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO) || gw_is_local(gw, &p->dst))
			return false;
		memcpy(&k->guest_port, l4 + 4, 2);
		break;
	default:
		return false;
	}
	k->proto = p->proto;
	k->guest = p->src;
	k->remote = p->dst;
	return true;
}

/**
 * steer_frame() - hand a datagram to the worker that owns its flow
 * @ctx: the receiving worker's context (no @ctx->steer: the only worker)
 * @f: the frame (or reassembled datagram), IP header validated
 * @p: the datagram
 * @reserved: set to the slot claimed for the calling worker while it
 *	      serves @f, or NULL; give it to steer_frame_done() after
 *
 * Owners by first queue against owners by a hash of the key, 2 queues on
 * 2 vCPUs (scripts/bench.py, median of 3 x 4 s, 2026-11-22, Gbit/s): one
 * stream up at MTU 65520 6.2 against 5.4, four up 12.4 against 10.5; one
 * stream down at MTU 1500 5.5 against 4.7, four down 5.1 against 3.5;
 * request/response p50 a steady 23.7 us against 23 or 30 by the queue the
 * connection happened to take.
 *
 * Return: true if @f is not the calling worker's: it was copied to the
 * owner's ring (or dropped, ring full) and the caller is done with it.
 */
bool steer_frame(struct gw_ctx *ctx, const struct frame *f, const struct ippkt *p,
		 uint32_t **reserved)
{
	struct flow_key k = { 0 };
	uint32_t *slot, v;
	unsigned owner;

	*reserved = NULL;
	if (!ctx->steer || ctx->steer->nworkers < 2 || !steer_key(ctx->gw, f, p, &k))
		return false;
	slot = steer_slot(ctx->steer, &k);
	v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (v)
		owner = slot_owner(v);
	else if ((owner = slot_hold(slot, ctx->worker)) == ctx->worker)
		*reserved = slot;
	else
		slot_unhold(slot);	/* another worker took it meanwhile */
	if (owner == ctx->worker)
		return false;
	if (!handoff_push(steer_ring(ctx->steer, ctx->worker, owner), f)) {
		counter_add(&ctx->cnt->drop[DROP_HANDOFF_FULL], 1);
		return true;
	}
	counter_add(&ctx->cnt->handed_off, 1);
	ctx->handoff_wake |= 1ull << owner;
	return true;
}

/* The frame steer_frame() claimed @reserved for is served: a flow it made
 * keeps the slot, else the slot is free again.
 */
void steer_frame_done(uint32_t *reserved)
{
	if (reserved)
		slot_unhold(reserved);
}

/*
 * Between a store and a load of the other side's (steer_wake(),
 * steer_may_sleep()): a sequentially consistent read-modify-write of one
 * shared word.  Both sides' updates of it are ordered, so whichever comes
 * second sees what the first stored before it: a worker going to sleep
 * sees the frames, or the producer sees it asleep.  (A fence would do on
 * the hardware, but ThreadSanitizer, make asan, does not model fences.)
 */
static void steer_order(const struct steer *s)
{
	__atomic_fetch_or(s->order, 0, __ATOMIC_SEQ_CST);
}

/*
 * Wakes the workers handed frames since the last call, those that may be
 * asleep: a busy worker drains its rings every round without being told.
 */
void steer_wake(struct gw_ctx *ctx)
{
	if (!ctx->handoff_wake)
		return;
	steer_order(ctx->steer);
	for (uint64_t m = ctx->handoff_wake; m; m &= m - 1) {
		unsigned to = (unsigned)__builtin_ctzll(m);

		if (__atomic_load_n(&ctx->steer->state[to].asleep, __ATOMIC_RELAXED))
			eventfd_write(ctx->steer->wake[to], 1);
	}
	ctx->handoff_wake = 0;
}

/**
 * steer_may_sleep() - announce that @worker is about to block
 * @s: the engine's steering
 * @worker: the calling worker
 *
 * Return: false if frames are already waiting for it (it must not block).
 */
bool steer_may_sleep(struct steer *s, unsigned worker)
{
	if (s->nworkers < 2)
		return true;
	__atomic_store_n(&s->state[worker].asleep, true, __ATOMIC_RELAXED);
	steer_order(s);
	for (unsigned from = 0; from < s->nworkers; from++) {
		struct handoff_ring *r = steer_ring(s, from, worker);

		if (from != worker && __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != r->tail) {
			steer_awake(s, worker);
			return false;
		}
	}
	return true;
}

/* @worker no longer blocks: producers need not wake it. */
void steer_awake(struct steer *s, unsigned worker)
{
	if (s->nworkers > 1)
		__atomic_store_n(&s->state[worker].asleep, false, __ATOMIC_RELAXED);
}

/**
 * handoff_push() - copy a frame into a ring
 * @r: the ring from the calling worker to the owner
 * @f: the frame (any number of pieces)
 *
 * Return: false if the ring has no room (the frame is not copied).
 */
bool handoff_push(struct handoff_ring *r, const struct frame *f)
{
	uint32_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint32_t pos = head & (r->size - 1), need = rec_bytes(f->len), skip = 0;

	if (pos + need > r->size)	/* no wrapping inside a record */
		skip = r->size - pos;
	if (need > r->size / 4 || head + skip + need - tail > r->size)
		return false;
	if (skip) {
		memcpy(r->buf + pos, &(uint32_t){ REC_WRAP }, sizeof(uint32_t));
		pos = 0;
	}
	memcpy(r->buf + pos, &f->len, sizeof(uint32_t));
	memcpy(r->buf + pos + 4, &(uint16_t){ (uint16_t)f->flags }, sizeof(uint16_t));
	frame_copy_out(f, 0, r->buf + pos + REC_HDR, f->len);
	__atomic_store_n(&r->head, head + skip + need, __ATOMIC_RELEASE);
	return true;
}

/**
 * handoff_take() - frames waiting in a ring, without freeing their room
 * @r: a ring towards the calling worker
 * @frames: filled with frames pointing into the ring
 * @max: room in @frames
 * @end: set to where the last one ends, for handoff_release()
 *
 * Return: the number of frames.
 */
unsigned handoff_take(struct handoff_ring *r, struct frame *frames, unsigned max,
		      uint32_t *end)
{
	uint32_t at = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	while (at != head && n < max) {
		uint32_t pos = at & (r->size - 1), len;
		uint16_t flags;

		memcpy(&len, r->buf + pos, sizeof(len));
		memcpy(&flags, r->buf + pos + 4, sizeof(flags));
		if (len == REC_WRAP) {
			at += r->size - pos;
			continue;
		}
		frames[n++] = (struct frame){
			.len = len, .nseg = 1, .flags = flags,
			.seg[0] = { .data = r->buf + pos + REC_HDR, .len = len },
		};
		at += rec_bytes(len);
	}
	*end = at;
	return n;
}

/* Frees the room of the frames handoff_take() gave, up to @end. */
void handoff_release(struct handoff_ring *r, uint32_t end)
{
	__atomic_store_n(&r->tail, end, __ATOMIC_RELEASE);
}
