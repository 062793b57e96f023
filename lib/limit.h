/*
 * The rate limiter's parts inside the library: the GCRA step every store
 * applies, and the fixed table of the memory: limiter.
 */
#ifndef RG_LIMIT_H
#define RG_LIMIT_H

#include "internal.h"

/*
 * One limiter's parameters, in nanoseconds. A key's state is its
 * theoretical arrival time (TAT): when its allowance would be whole again
 * at the sustained rate. A take of cost c fits when, with the TAT moved
 * on by c intervals, it lies no further ahead of now than the tolerance.
 */
typedef struct rg__gcra {
    uint64_t interval_ns;  /* T: 1 / rate */
    uint64_t tolerance_ns; /* tau: T * (burst + 1), what a rested key holds */
    uint32_t limit;        /* burst + 1 */
} rg__gcra;

/* Nanoseconds to milliseconds, rounded up: waiting that long is enough. */
static inline uint64_t rg__ms_up(uint64_t ns)
{
    return ns / 1000000u + (ns % 1000000u != 0);
}

/*
 * One take at time `now` on a key whose TAT is *tat (0 or anything not
 * after now: rested). Fills *out; when the take fits and cost > 0, sets
 * *tat to the new TAT and returns true (the caller stores it). A TAT
 * further ahead than a take could ever have put it (the clock went back)
 * is first pulled back to now + tau: the key counts as fully used, not as
 * rested. Inline: it is a fair part of a take, on every limiter's hot
 * path.
 */
static inline bool rg__gcra_take(const rg__gcra *g, uint64_t *tat, uint64_t now,
                                 uint32_t cost, rg_limit_result *out)
{
    uint64_t t = *tat;
    bool allowed = false;

    /* A take never leaves the TAT more than tau ahead of its time. */
    if (t > now && t - now > g->tolerance_ns)
        t = now + g->tolerance_ns;
    uint64_t base = t > now ? t : now;
    uint64_t ahead = base - now; /* how far the key is into its burst */

    out->limit = g->limit;
    out->retry_after_ms = 0;
    if (cost > g->limit) {
        /* More than a rested key holds: it can never fit. */
        out->retry_after_ms = UINT64_MAX;
    } else {
        /* cost * T <= tau, far from overflowing (limit.c bounds tau). */
        uint64_t increment = (uint64_t)cost * g->interval_ns;
        if (ahead + increment <= g->tolerance_ns) {
            allowed = true;
            ahead += increment;
            t = now + ahead;
        } else {
            out->retry_after_ms =
                rg__ms_up(ahead + increment - g->tolerance_ns);
        }
    }
    out->allowed = allowed;
    out->remaining = (uint32_t)((g->tolerance_ns - ahead) / g->interval_ns);
    out->reset_after_ms = rg__ms_up(ahead);
    if (allowed && cost > 0) {
        *tat = t;
        return true;
    }
    return false;
}

/* The memory: limiter's table (limit-memory.c). */
typedef struct rg__limit_table rg__limit_table;

/* A table for `capacity` keys (twice as many slots), all allocated now.
 * NULL when out of memory. */
rg__limit_table *rg__limit_table_new(size_t capacity);
void rg__limit_table_free(rg__limit_table *t);

/* Where a key lives in the table. */
typedef struct rg__limit_spot {
    uint64_t hash;
    size_t bucket;
} rg__limit_spot;

/* Finds the key's bucket and starts fetching it into the cache; the
 * caller reads its clock meanwhile and then calls rg__limit_table_take(). */
void rg__limit_table_locate(rg__limit_table *t, const void *key, size_t key_len,
                            rg__limit_spot *spot);

/* rg__gcra_take() on the key's entry, under the entry's lock. */
void rg__limit_table_take(rg__limit_table *t, const rg__limit_spot *spot,
                          const rg__gcra *g, uint64_t now, uint32_t cost,
                          rg_limit_result *out);

/* Slots in the table, and keys held now (by a scan: for tests and
 * benchmarks). */
size_t rg__limit_table_capacity(const rg__limit_table *t);
size_t rg__limit_table_count(rg__limit_table *t, uint64_t now);

/* A memory: limiter's table (NULL for the other stores), and the time it
 * last used: for the tests that count what it holds. */
rg__limit_table *rg__limiter_table(rg_limiter *l, uint64_t *now);

#endif
