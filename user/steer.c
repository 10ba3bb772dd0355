// SPDX-License-Identifier: MIT
/*
 * steer.c - which worker owns a flow, and handing frames to it.
 *
 * Theory of operation: every flow belongs to exactly one worker, the one
 * its key hashes to (steer_owner()); only that worker touches the flow and
 * its host socket.  The guest's kernel picks the queue a frame arrives on,
 * and may move a TCP flow to another queue mid-connection (a retransmission
 * timeout re-hashes it, an XPS change re-maps it), so a worker that receives
 * a frame of a flow it does not own copies it into a ring towards the owner
 * (steer_frame()) and wakes it; the owner runs it through eth_input() like
 * a frame of its own and answers on its own queue.  The guest does not care
 * which queue its frames come back on.
 *
 * Why hand-off and not a flow table shared by all workers: a shared table
 * needs a lock (or RCU) on every lookup and per-flow locks on every
 * segment, and bounces the flow's cache lines between CPUs on every frame
 * even when no flow ever moves.  With hand-off the common case, a frame
 * arriving on its owner's queue, costs one hash and no shared write at all;
 * a frame on the wrong queue costs one copy and one wake-up.  With N queues
 * and a guest that spreads flows at random, (N - 1) / N of frames take the
 * copy.  Measured on 2 vCPUs (scripts/bench.py, 3 x 4 s, 2026-11-22), two
 * workers against one: four streams up at MTU 1500 3.6-3.9 against 2.5
 * Gbit/s, at MTU 65520 the same (10.8-11.2 against 10.9); four streams down
 * lose (MTU 1500: 3.0-3.5 against 5.1; 65520: 11.9-12.3 against 14.4), as
 * the guest's ACKs on the other queue are copied and both workers compete
 * with the guest for two CPUs; a request/response flow pays the two wake-ups
 * of a hand-off (29 us one way instead of 23).  Workers are only woken when
 * they may be asleep (steer_may_sleep()), so a busy owner costs no syscall.
 *
 * Keys: TCP by its whole 4-tuple; UDP and ping by the guest's address and
 * port (echo identifier) only, because one host socket serves every peer of
 * a guest port (udp.c) and must live with one worker.  Frames without a flow
 * (ARP, ICMP to the gateway) are answered wherever they arrive.
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
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "gateway.h"
#include "steer.h"

#define HANDOFF_RING_BYTES	(4u << 20)
#define REC_HDR			6u	/* so that data sits 2 bytes past 4 */
#define REC_WRAP		UINT32_MAX

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
	for (unsigned i = 0; i < STEER_MAX_WORKERS; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	s->nworkers = 0;
}

struct handoff_ring *steer_ring(const struct steer *s, unsigned from, unsigned to)
{
	return &s->rings[from * s->nworkers + to];
}

/* The worker that owns flows with key @k (see the keys above). */
unsigned steer_owner(const struct steer *s, const struct flow_key *k)
{
	struct flow_key own = *k;

	if (s->nworkers < 2)
		return 0;
	if (k->proto != IPPROTO_TCP) {
		memset(&own.remote, 0, sizeof(own.remote));
		own.remote_port = 0;
	}
	return (unsigned)(((uint64_t)flow_key_hash(s->seed, &own) * s->nworkers) >> 32);
}

/* The key a datagram from the guest would have in its owner's table;
 * false for those that belong to no flow.
 */
static bool steer_key(const struct gateway *gw, const struct frame *f,
		      const struct iphdr *ip, struct flow_key *k)
{
	uint32_t off = ETH_HLEN + ip->ihl * 4u;
	const uint8_t *l4 = f->seg[0].data + off;

	if (off + 8 > f->seg[0].len)	/* ports or echo identifier */
		return false;
	switch (ip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		memcpy(&k->guest_port, l4, 2);
		memcpy(&k->remote_port, l4 + 2, 2);
		break;
	case IPPROTO_ICMP:
		if (l4[0] != ICMP_ECHO || gw_is_local(gw, ip->daddr))
			return false;
		memcpy(&k->guest_port, l4 + 4, 2);
		break;
	default:
		return false;
	}
	k->proto = ip->protocol;
	inany_from_v4(&k->guest, ip->saddr);
	inany_from_v4(&k->remote, ip->daddr);
	return true;
}

/**
 * steer_frame() - hand a datagram to the worker that owns its flow
 * @ctx: the receiving worker's context (no @ctx->steer: the only worker)
 * @f: the frame (or reassembled datagram), IPv4 header validated
 * @ip: its header
 *
 * Return: true if @f is not the calling worker's: it was copied to the
 * owner's ring (or dropped, ring full) and the caller is done with it.
 */
bool steer_frame(struct gw_ctx *ctx, const struct frame *f, const struct iphdr *ip)
{
	struct flow_key k = { 0 };
	unsigned owner;

	if (!ctx->steer || ctx->steer->nworkers < 2 || !steer_key(ctx->gw, f, ip, &k))
		return false;
	owner = steer_owner(ctx->steer, &k);
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

/*
 * Wakes the workers handed frames since the last call, those that may be
 * asleep: a busy worker drains its rings every round without being told.
 * Pairs with steer_may_sleep(): each side stores, then (full barrier) loads
 * what the other stored, so a worker going to sleep sees the frames or the
 * producer sees it asleep.
 */
void steer_wake(struct gw_ctx *ctx)
{
	if (!ctx->handoff_wake)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
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
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
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

		memcpy(&len, r->buf + pos, sizeof(len));
		if (len == REC_WRAP) {
			at += r->size - pos;
			continue;
		}
		frames[n++] = (struct frame){
			.len = len, .nseg = 1,
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
