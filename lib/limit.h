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

/*
 * One take at time `now` on a key whose TAT is *tat (0 or anything not
 * after now: rested). Fills *out; when the take fits and cost > 0, sets
 * *tat to the new TAT and returns true (the caller stores it). A TAT
 * further ahead than a take could ever have put it (the clock went back)
 * is first pulled back to now + tau: the key counts as fully used, not as
 * rested.
 */
bool rg__gcra_take(const rg__gcra *g, uint64_t *tat, uint64_t now,
                   uint32_t cost, rg_limit_result *out);

/* The memory: limiter's table (limit-memory.c). */
typedef struct rg__limit_table rg__limit_table;

/* A table for at least `capacity` keys, all allocated now. NULL when out
 * of memory. */
rg__limit_table *rg__limit_table_new(size_t capacity);
void rg__limit_table_free(rg__limit_table *t);

/* rg__gcra_take() on the key's entry, under the entry's lock. */
void rg__limit_table_take(rg__limit_table *t, const rg__gcra *g,
                          const void *key, size_t key_len, uint64_t now,
                          uint32_t cost, rg_limit_result *out);

/* Keys the table holds at most, and keys held now (by a scan: for tests
 * and benchmarks). */
size_t rg__limit_table_capacity(const rg__limit_table *t);
size_t rg__limit_table_count(rg__limit_table *t, uint64_t now);

#endif
