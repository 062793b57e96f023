/*
 * The memory: limiter's table: fixed at creation, never grown, 16 bytes a
 * key.
 *
 * - A key is known by its 64-bit SipHash (crypto_shorthash) under a key
 *   drawn for the table: the table never holds the key itself (a client's
 *   address), and nobody can craft keys that pile into one bucket. Two
 *   keys that share a hash would share a limit; among a million keys that
 *   happens with a chance of about 1 in 36 million.
 * - The table is an array of buckets of WAYS slots (two cache lines); a
 *   key lives in the bucket its hash names, so a take reads one bucket.
 *   There are twice as many slots as the capacity asked for: with one
 *   bucket per key, a table of exactly `capacity` slots holds only some
 *   88% of that many keys before full buckets push keys out; at half load
 *   99% fit. That is 32 bytes a key.
 * - Locks are striped over the buckets, LOCKS of them, so threads on
 *   different keys seldom meet; they are spin locks (see padded_lock).
 * - A key absent from its bucket takes an empty slot, or one whose key
 *   has rested (its TAT is past: that key would start afresh anyway).
 *   When every slot holds a key still inside its burst, the slot closest
 *   to rested (the earliest TAT) goes. A spray of fresh keys then evicts
 *   its own kind, which hold one take each, before it reaches a client
 *   that is limited (its TAT at the far end of the burst): to push a
 *   limited client out, an attacker must drive WAYS keys of the client's
 *   bucket, which it cannot find, further into their bursts.
 */
#include <sched.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"

#define WAYS  8
#define LOCKS 1024u

typedef struct slot {
    uint64_t hash; /* 0: empty (a hash of 0 is stored as 1) */
    uint64_t tat;  /* nanoseconds of the limiter's clock */
} slot;

/*
 * A spin lock, alone on its cache line so that two locks in use by two
 * threads do not bounce one line between them. A take holds it for some
 * fifty nanoseconds, no longer than an uncontended mutex takes to lock
 * and unlock, which was a tenth of a take. A thread that finds it held
 * spins a little, then yields its CPU, in case the holder was preempted.
 */
typedef struct padded_lock {
    _Alignas(64) atomic_bool held;
} padded_lock;

#define SPINS_BEFORE_YIELD 64

static void lock(padded_lock *l)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(&l->held, true, memory_order_acquire)) {
        if (++spins < SPINS_BEFORE_YIELD) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();
            spins = 0;
        }
    }
}

static void unlock(padded_lock *l)
{
    atomic_store_explicit(&l->held, false, memory_order_release);
}

struct rg__limit_table {
    slot *slots;
    size_t nbuckets; /* below 2^32 */
    size_t nlocks;   /* a power of two, at most nbuckets */
    padded_lock *locks;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

rg__limit_table *rg__limit_table_new(size_t capacity)
{
    size_t buckets = (2 * capacity + WAYS - 1) / WAYS;
    if (capacity == 0 || buckets >= UINT32_MAX)
        return NULL;

    rg__limit_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nbuckets = buckets;
    t->nlocks = 1;
    while (t->nlocks < LOCKS && t->nlocks * 2 <= buckets)
        t->nlocks *= 2;
    t->slots = rg__table_alloc(buckets * WAYS, sizeof *t->slots);
    t->locks =
        aligned_alloc(_Alignof(padded_lock), t->nlocks * sizeof *t->locks);
    if (!t->slots || !t->locks) {
        free(t->slots);
        free(t->locks);
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < t->nlocks; i++)
        atomic_init(&t->locks[i].held, false);
    randombytes_buf(t->hash_key, sizeof t->hash_key);
    return t;
}

void rg__limit_table_free(rg__limit_table *t)
{
    if (!t)
        return;
    free(t->locks);
    free(t->slots);
    sodium_memzero(t->hash_key, sizeof t->hash_key);
    free(t);
}

size_t rg__limit_table_capacity(const rg__limit_table *t)
{
    return t->nbuckets * WAYS;
}

/*
 * The slot for `hash` in its bucket: the key's own, else where it would
 * go (an empty or rested slot, else the one closest to rested). *found
 * tells which.
 */
static slot *place(slot *bucket, uint64_t hash, uint64_t now, bool *found)
{
    slot *free_slot = NULL, *earliest = &bucket[0];

    for (int i = 0; i < WAYS; i++) {
        slot *s = &bucket[i];
        if (s->hash == hash) {
            *found = true;
            return s;
        }
        if (!free_slot && (s->hash == 0 || s->tat <= now))
            free_slot = s;
        if (s->tat < earliest->tat)
            earliest = s;
    }
    *found = false;
    return free_slot ? free_slot : earliest;
}

void rg__limit_table_locate(rg__limit_table *t, const void *key, size_t key_len,
                            rg__limit_spot *spot)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash_siphash24(h, key, key_len, t->hash_key);
    memcpy(&spot->hash, h, sizeof spot->hash);
    spot->hash |= spot->hash == 0;
    /* The bucket: the hash's high half scaled to the count (one multiply,
     * where a modulo would divide). */
    spot->bucket = (size_t)(((spot->hash >> 32) * (uint64_t)t->nbuckets) >> 32);
    /* The bucket is cold in a large table: fetch it while the caller
     * reads the clock. */
    const slot *b = &t->slots[spot->bucket * WAYS];
    __builtin_prefetch(b, 1);
    __builtin_prefetch((const char *)b + 64, 1);
}

void rg__limit_table_take(rg__limit_table *t, const rg__limit_spot *spot,
                          const rg__gcra *g, uint64_t now, uint32_t cost,
                          rg_limit_result *out)
{
    padded_lock *l = &t->locks[spot->bucket & (t->nlocks - 1)];
    slot *bucket = &t->slots[spot->bucket * WAYS];

    lock(l);
    bool found;
    slot *s = place(bucket, spot->hash, now, &found);
    uint64_t tat = found ? s->tat : 0;
    /* A key that is not in the table is rested: it is stored only once a
     * take charges it. */
    if (rg__gcra_take(g, &tat, now, cost, out)) {
        s->hash = spot->hash;
        s->tat = tat;
    }
    unlock(l);
}

size_t rg__limit_table_count(rg__limit_table *t, uint64_t now)
{
    size_t n = 0;
    for (size_t b = 0; b < t->nbuckets; b++) {
        padded_lock *l = &t->locks[b & (t->nlocks - 1)];
        lock(l);
        for (int i = 0; i < WAYS; i++) {
            const slot *s = &t->slots[b * WAYS + i];
            n += s->hash != 0 && s->tat > now;
        }
        unlock(l);
    }
    return n;
}
