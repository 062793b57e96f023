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
 * - Locks are striped over the buckets, LOCKS of them, so threads on
 *   different keys seldom meet.
 * - A key absent from its bucket takes an empty slot, or one whose key
 *   has rested (its TAT is past: that key would start afresh anyway).
 *   When every slot holds a key still inside its burst, the slot closest
 *   to rested (the earliest TAT) goes. A spray of fresh keys then evicts
 *   its own kind, which hold one take each, before it reaches a client
 *   that is limited (its TAT at the far end of the burst): to push a
 *   limited client out, an attacker must drive WAYS keys of the client's
 *   bucket, which it cannot find, further into their bursts.
 */
#include <pthread.h>
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

/* A lock alone on its cache line, so that two locks in use by two
 * threads do not bounce one line between them. */
typedef struct padded_lock {
    _Alignas(64) pthread_mutex_t lock;
} padded_lock;

struct rg__limit_table {
    slot *slots;
    size_t nbuckets; /* a power of two */
    size_t nlocks;   /* a power of two, at most nbuckets */
    padded_lock *locks;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

rg__limit_table *rg__limit_table_new(size_t capacity)
{
    size_t buckets = 1;
    while (buckets * WAYS < capacity)
        buckets *= 2;

    rg__limit_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nbuckets = buckets;
    t->nlocks = buckets < LOCKS ? buckets : LOCKS;
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
        pthread_mutex_init(&t->locks[i].lock, NULL);
    randombytes_buf(t->hash_key, sizeof t->hash_key);
    return t;
}

void rg__limit_table_free(rg__limit_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nlocks; i++)
        pthread_mutex_destroy(&t->locks[i].lock);
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

void rg__limit_table_take(rg__limit_table *t, const rg__gcra *g,
                          const void *key, size_t key_len, uint64_t now,
                          uint32_t cost, rg_limit_result *out)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, key_len, t->hash_key);
    uint64_t hash;
    memcpy(&hash, h, sizeof hash);
    hash |= hash == 0;

    size_t b = (size_t)(hash >> 32) & (t->nbuckets - 1);
    pthread_mutex_t *lock = &t->locks[b & (t->nlocks - 1)].lock;
    slot *bucket = &t->slots[b * WAYS];

    pthread_mutex_lock(lock);
    bool found;
    slot *s = place(bucket, hash, now, &found);
    uint64_t tat = found ? s->tat : 0;
    /* A key that is not in the table is rested: it is stored only once a
     * take charges it. */
    if (rg__gcra_take(g, &tat, now, cost, out)) {
        s->hash = hash;
        s->tat = tat;
    }
    pthread_mutex_unlock(lock);
}

size_t rg__limit_table_count(rg__limit_table *t, uint64_t now)
{
    size_t n = 0;
    for (size_t b = 0; b < t->nbuckets; b++) {
        pthread_mutex_t *lock = &t->locks[b & (t->nlocks - 1)].lock;
        pthread_mutex_lock(lock);
        for (int i = 0; i < WAYS; i++) {
            const slot *s = &t->slots[b * WAYS + i];
            n += s->hash != 0 && s->tat > now;
        }
        pthread_mutex_unlock(lock);
    }
    return n;
}
