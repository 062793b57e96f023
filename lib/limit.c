/*
 * The rate limiter: GCRA (the generic cell rate algorithm), as redis-cell
 * and throttled implement it, over a store that keeps one 64-bit
 * theoretical arrival time per key (docs/limit.md).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "limit.h"
#include "store.h"

#define NS_PER_S 1000000000ull

/* Bounds of the settings (rg_limiter_config). */
#define RATE_MIN     1e-6
#define RATE_MAX     1e9
#define BURST_MAX    1000000u
#define CAPACITY_MIN 16u
#define CAPACITY_MAX 100000000u
#define NAME_MAX_LEN 256u
/* A burst that takes longer than this to come back is refused: it is a
 * mistake, and it keeps every sum of times far from overflowing. */
#define TOLERANCE_MAX (100ull * 366 * 24 * 3600 * NS_PER_S)

struct rg_limiter {
    rg__gcra gcra;
    rg__limit_table *table; /* memory: */
    rg_store *store;        /* the others */
    char *name;
    size_t name_len;
    uint64_t (*clock_ns)(void *arg);
    void *clock_arg;
    /* The latest time seen: the clock as used never goes back. */
    _Atomic uint64_t last_now;
};

void rg_limiter_config_init(rg_limiter_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->rate_per_s = 1.0 / 60;
    cfg->burst = 4;
    cfg->capacity = 100000;
    cfg->store = "memory:";
    cfg->name = "";
}

static uint64_t clock_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t monotonic_ns(void *arg)
{
    (void)arg;
    return clock_of(CLOCK_MONOTONIC);
}

/* Processes that share a file share this clock; a reboot does not reset
 * it, as it does the monotonic one. */
static uint64_t real_ns(void *arg)
{
    (void)arg;
    return clock_of(CLOCK_REALTIME);
}

/* The part of rg_limiter_config that every caller knows. */
#define CONFIG_MIN_SIZE                                                        \
    (offsetof(rg_limiter_config, clock_arg) + sizeof(void *))

/* The GCRA parameters of a rate and burst; false when out of range. */
static bool gcra_of(double rate, uint32_t burst, rg__gcra *g)
{
    if (!(rate >= RATE_MIN && rate <= RATE_MAX) || burst > BURST_MAX)
        return false;
    double interval = round((double)NS_PER_S / rate);
    if (interval < 1)
        interval = 1;
    double tolerance = interval * ((double)burst + 1);
    if (tolerance > (double)TOLERANCE_MAX)
        return false;
    g->interval_ns = (uint64_t)interval;
    g->tolerance_ns = g->interval_ns * ((uint64_t)burst + 1);
    g->limit = burst + 1;
    return true;
}

int rg_limiter_open(rg_limiter **out, const rg_limiter_config *user_cfg)
{
    rg_limiter_config cfg;
    int rc;

    if (!out)
        return RG_EINVAL;
    *out = NULL;
    if ((rc = rg__ensure_init()) != RG_OK)
        return rc;
    rg_limiter_config_init(&cfg);
    if (user_cfg) {
        if (user_cfg->size < CONFIG_MIN_SIZE)
            return RG_EINVAL;
        memcpy(&cfg, user_cfg,
               user_cfg->size < sizeof cfg ? user_cfg->size : sizeof cfg);
    }
    const char *url = cfg.store ? cfg.store : "memory:";
    const char *name = cfg.name ? cfg.name : "";
    size_t name_len = strnlen(name, NAME_MAX_LEN + 1);
    rg__gcra g;
    if (!gcra_of(cfg.rate_per_s, cfg.burst, &g) || name_len > NAME_MAX_LEN)
        return RG_EINVAL;
    bool memory = rg__url_has_scheme(url, "memory:");
    size_t capacity = cfg.capacity;
    if (memory) {
        /* "memory:?capacity=N" names the keys the table holds (the same
         * URL gives a guard as many spent tokens). */
        size_t given, tokens;
        bool has_capacity;
        if (rg__memory_options(url + sizeof "memory:" - 1, &given, &tokens,
                               &has_capacity) != RG_OK)
            return RG_EURL;
        if (has_capacity)
            capacity = given < CAPACITY_MIN ? CAPACITY_MIN : given;
        if (capacity < CAPACITY_MIN || capacity > CAPACITY_MAX)
            return RG_EINVAL;
    }

    rg_limiter *l = calloc(1, sizeof *l);
    if (!l || !(l->name = malloc(name_len + 1))) {
        free(l);
        return RG_ENOMEM;
    }
    memcpy(l->name, name, name_len + 1);
    l->name_len = name_len;
    l->gcra = g;
    if (memory) {
        if (!(l->table = rg__limit_table_new(capacity)))
            rc = RG_ENOMEM;
    } else {
        rc = rg_store_open(&l->store, url);
        if (rc == RG_OK && !l->store->ops->limit_take)
            rc = RG_ENOSUPPORT;
    }
    if (rc != RG_OK) {
        rg_limiter_free(l);
        return rc;
    }
    l->clock_ns = cfg.clock_ns ? cfg.clock_ns : memory ? monotonic_ns : real_ns;
    l->clock_arg = cfg.clock_arg;
    atomic_init(&l->last_now, 0);
    *out = l;
    return RG_OK;
}

int rg_limiter_new(rg_limiter **out, const char *store_url, double rate_per_s,
                   uint32_t burst, size_t capacity)
{
    rg_limiter_config cfg;
    rg_limiter_config_init(&cfg);
    cfg.store = store_url;
    cfg.rate_per_s = rate_per_s;
    cfg.burst = burst;
    if (capacity)
        cfg.capacity = capacity;
    return rg_limiter_open(out, &cfg);
}

/*
 * The clock, never earlier than a time this limiter has used. The latest
 * time is written back at most once a CLAMP_STEP_NS, not on every call:
 * threads that all wrote one variable on every take would trade its cache
 * line back and forth. So a clock may go back by less than that unseen
 * here; rg__gcra_take() still never lets a key's TAT run more than a
 * burst ahead, so that gains a client nothing.
 */
#define CLAMP_STEP_NS 1000000ull

static uint64_t limiter_now(rg_limiter *l)
{
    uint64_t now = l->clock_ns(l->clock_arg);
    uint64_t seen = atomic_load_explicit(&l->last_now, memory_order_relaxed);
    if (now < seen)
        return seen;
    if (now - seen >= CLAMP_STEP_NS)
        atomic_store_explicit(&l->last_now, now, memory_order_relaxed);
    return now;
}

int rg_limiter_take(rg_limiter *l, const void *key, size_t key_len,
                    uint32_t cost, rg_limit_result *out)
{
    if (!l || !out || (!key && key_len > 0)) {
        if (out) {
            memset(out, 0, sizeof *out);
            out->limit = l ? l->gcra.limit : 0;
        }
        return RG_EINVAL;
    }
    if (!key)
        key = "";

    if (l->table) {
        rg__limit_spot spot;
        rg__limit_table_locate(l->table, key, key_len, &spot);
        rg__limit_table_take(l->table, &spot, &l->gcra, limiter_now(l), cost,
                             out);
        return RG_OK;
    }
    uint64_t now = limiter_now(l);
    int rc = l->store->ops->limit_take(l->store, l->name, l->name_len, key,
                                       key_len, &l->gcra, now, cost, out);
    if (rc != RG_OK) {
        /* Fail closed: a caller that ignores the error still limits. */
        memset(out, 0, sizeof *out);
        out->limit = l->gcra.limit;
    }
    return rc;
}

rg__limit_table *rg__limiter_table(rg_limiter *l, uint64_t *now)
{
    *now = atomic_load_explicit(&l->last_now, memory_order_relaxed);
    return l->table;
}

void rg_limiter_free(rg_limiter *l)
{
    if (!l)
        return;
    rg__limit_table_free(l->table);
    rg_store_close(l->store);
    free(l->name);
    free(l);
}
