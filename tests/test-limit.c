/*
 * The rate limiter (docs/limit.md): GCRA against a table of arrivals
 * worked out by hand, the settings it refuses, client-address keys, the
 * memory: table under a spray of keys, threads that share keys, and the
 * sqlite: store (shared by handles, hashed keys, failures).
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "limit.h"

#define MS 1000000ull /* nanoseconds */
#define S  (1000 * MS)

/* The injected clock: nanoseconds in a variable the test sets. */
static uint64_t clock_ns(void *arg)
{
    return *(const uint64_t *)arg;
}

/* A limiter on `store` at `rate` and `burst`, on the test's clock. */
static rg_limiter *open_limiter(const char *store, double rate, uint32_t burst,
                                size_t capacity, uint64_t *now)
{
    rg_limiter_config cfg;
    rg_limiter *l = NULL;
    rg_limiter_config_init(&cfg);
    cfg.store = store;
    cfg.rate_per_s = rate;
    cfg.burst = burst;
    if (capacity)
        cfg.capacity = capacity;
    cfg.clock_ns = clock_ns;
    cfg.clock_arg = now;
    int rc = rg_limiter_open(&l, &cfg);
    ck_assert_msg(rc == RG_OK, "rg_limiter_open(%s): %s", store,
                  rg_strerror(rc));
    return l;
}

/* ---- GCRA against arrivals worked out by hand ---- */

/*
 * One take and what it must give. At 1 per second with burst 2 (so
 * limit 3, tolerance 3 s), a rested key takes 3 at once, then one a
 * second; a take that does not fit charges nothing.
 */
typedef struct arrival {
    uint64_t at_ms; /* the clock */
    uint32_t cost;
    int allowed;
    uint32_t remaining;
    uint64_t retry_after_ms;
    uint64_t reset_after_ms;
} arrival;

static const arrival ARRIVALS[] = {
    /* The burst. */
    {0, 1, 1, 2, 0, 1000},
    {0, 1, 1, 1, 0, 2000},
    {0, 1, 1, 0, 0, 3000},
    /* Over it: the fourth must wait a whole interval. */
    {0, 1, 0, 0, 1000, 3000},
    {500, 1, 0, 0, 500, 2500},
    /* The steady rate: one a second. */
    {1000, 1, 1, 0, 0, 3000},
    {1000, 0, 1, 0, 0, 3000}, /* cost 0 looks without taking */
    {1999, 1, 0, 0, 1, 2001},
    {2000, 1, 1, 0, 0, 3000},
    /* Idle refill: after 3 s of rest the whole burst is back. */
    {5000, 0, 1, 3, 0, 0},
    {5000, 3, 1, 0, 0, 3000},
    /* More than a rested key holds never fits, and charges nothing. */
    {7000, 4, 0, 2, UINT64_MAX, 1000},
    {7000, 2, 1, 0, 0, 3000},
    /* Partial rest: 1.5 s back gives one take (and half of another). */
    {8500, 2, 0, 1, 500, 1500},
    {8500, 1, 1, 0, 0, 2500},
};

static void check_arrivals(rg_limiter *l, uint64_t *now, uint64_t base)
{
    for (size_t i = 0; i < sizeof ARRIVALS / sizeof ARRIVALS[0]; i++) {
        const arrival *a = &ARRIVALS[i];
        rg_limit_result r;
        *now = base + a->at_ms * MS;
        ck_assert_int_eq(rg_limiter_take(l, "k", 1, a->cost, &r), RG_OK);
        ck_assert_msg(r.allowed == a->allowed && r.remaining == a->remaining &&
                          r.retry_after_ms == a->retry_after_ms &&
                          r.reset_after_ms == a->reset_after_ms && r.limit == 3,
                      "arrival %zu: allowed %d remaining %u retry %llu "
                      "reset %llu limit %u",
                      i, r.allowed, r.remaining,
                      (unsigned long long)r.retry_after_ms,
                      (unsigned long long)r.reset_after_ms, r.limit);
    }
}

static const char *backend_url(int backend, char *buf, size_t size)
{
    if (backend == 0)
        return "memory:";
    snprintf(buf, size, "sqlite:%s/limits.db", rg_test_tmpdir());
    return buf;
}

#if RG_HAVE_SQLITE
#define BACKENDS 2
#else
#define BACKENDS 1
#endif

START_TEST(gcra_arrivals)
{
    char url[600];
    uint64_t now = 0;
    rg_limiter *l =
        open_limiter(backend_url(_i, url, sizeof url), 1.0, 2, 0, &now);
    /* Far from 0, and once more later: only differences of time count. */
    check_arrivals(l, &now, 1000 * S);
    rg_limit_result r;
    now = 2000 * S;
    ck_assert_int_eq(rg_limiter_take(l, "other", 5, 1, &r), RG_OK);
    ck_assert_int_eq(r.remaining, 2);
    rg_limiter_free(l);
}
END_TEST

/* A clock that goes back is taken as standing still: no free pass. */
START_TEST(clock_going_back)
{
    char url[600];
    uint64_t now = 100 * S;
    rg_limiter *l =
        open_limiter(backend_url(_i, url, sizeof url), 1.0, 2, 0, &now);
    rg_limit_result r;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    now = 50 * S; /* back 50 s */
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_uint_eq(r.retry_after_ms, 1000);
    now = 0;
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert_int_eq(r.allowed, 0);
    /* Forward again from where it stood. */
    now = 101 * S;
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert_int_eq(r.allowed, 1);
    rg_limiter_free(l);
}
END_TEST

/* A TAT further ahead than any take could put it (another process's
 * clock was ahead, or this one was set back) counts as a full burst. */
START_TEST(tat_far_ahead_is_clamped)
{
    rg__gcra g = {.interval_ns = S, .tolerance_ns = 3 * S, .limit = 3};
    rg_limit_result r;
    uint64_t tat = 1000 * S;
    ck_assert(!rg__gcra_take(&g, &tat, 10 * S, 1, &r));
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_uint_eq(r.remaining, 0);
    ck_assert_uint_eq(r.reset_after_ms, 3000);
    ck_assert_uint_eq(r.retry_after_ms, 1000);
    ck_assert_uint_eq(tat, 1000 * S); /* refused: nothing written */
}
END_TEST

/* Rates that are not whole numbers, and a burst of 0. */
START_TEST(fractional_rates)
{
    uint64_t now = 0;
    rg_limit_result r;
    rg_limiter *l = open_limiter("memory:", 2.5, 0, 0, &now); /* 400 ms */
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert(r.allowed && r.limit == 1 && r.remaining == 0);
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert(!r.allowed && r.retry_after_ms == 400);
    now = 400 * MS;
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert(r.allowed);
    rg_limiter_free(l);

    /* One a minute, the default: 4 of burst, so 5 at once. */
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 1.0 / 60, 4, 0), RG_OK);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
        ck_assert(r.allowed);
    }
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert(!r.allowed && r.retry_after_ms > 59000 &&
              r.retry_after_ms <= 60000);
    /* Keys are bytes: an empty key is a key, and "k" with a NUL after it
     * is another. */
    ck_assert_int_eq(rg_limiter_take(l, NULL, 0, 1, &r), RG_OK);
    ck_assert(r.allowed && r.remaining == 4);
    ck_assert_int_eq(rg_limiter_take(l, "k\0", 2, 1, &r), RG_OK);
    ck_assert(r.allowed && r.remaining == 4);
    rg_limiter_free(l);
}
END_TEST

START_TEST(bad_settings)
{
    rg_limiter *l = (rg_limiter *)1;
    rg_limiter_config cfg;
    rg_limit_result r;
    static const double bad_rates[] = {0, -1, 1e-7, 2e9};

    ck_assert_int_eq(rg_limiter_open(NULL, NULL), RG_EINVAL);
    for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
        ck_assert_int_eq(rg_limiter_new(&l, "memory:", bad_rates[i], 1, 0),
                         RG_EINVAL);
        ck_assert_ptr_null(l);
    }
    rg_limiter_config_init(&cfg);
    cfg.rate_per_s = 0.0 / 0.0;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_EINVAL);
    cfg.rate_per_s = 1.0 / 0.0;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_EINVAL);
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 1, 1000001, 0), RG_EINVAL);
    /* A burst that would take over 100 years to come back. */
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 1e-6, 10000, 0), RG_EINVAL);
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 1e-6, 2, 0), RG_OK);
    rg_limiter_free(l);
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 1, 1, 15), RG_EINVAL);
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 1, 1, 100000001), RG_EINVAL);
    ck_assert_int_eq(rg_limiter_new(&l, "memory:?capacity=x", 1, 1, 0),
                     RG_EURL);
    ck_assert_int_eq(rg_limiter_new(&l, "memory:?keys=5", 1, 1, 0), RG_EURL);
    /* The URL's capacity (as a guard's store takes it) sizes the table,
     * at least 16 keys. */
    ck_assert_int_eq(
        rg_limiter_new(&l, "memory:?capacity=5&tokens=9", 1, 1, 5000), RG_OK);
    rg_limiter_free(l);
    ck_assert_int_eq(rg_limiter_new(&l, "nosuch:", 1, 1, 0), RG_EURL);
    ck_assert_int_eq(rg_limiter_new(&l, NULL, 1, 1, 0), RG_OK);
    rg_limiter_free(l);
    rg_limiter_config_init(&cfg);
    cfg.size = 8;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_EINVAL);
    rg_limiter_config_init(&cfg);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    cfg.name = long_name;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_EINVAL);

    ck_assert_int_eq(rg_limiter_new(&l, "MEMORY:", 1, 1, 0), RG_OK);
    ck_assert_int_eq(rg_limiter_take(NULL, "k", 1, 1, &r), RG_EINVAL);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, NULL), RG_EINVAL);
    ck_assert_int_eq(rg_limiter_take(l, NULL, 1, 1, &r), RG_EINVAL);
    ck_assert_int_eq(r.allowed, 0);
    rg_limiter_free(l);
    rg_limiter_free(NULL);
}
END_TEST

/* ---- Client addresses ---- */

typedef struct address_case {
    const char *text;
    unsigned prefix;
    int rc;
    size_t len;
    uint8_t key[RG_CLIENT_KEY_MAX];
} address_case;

static const address_case ADDRESSES[] = {
    {"203.0.113.7", 0, RG_OK, 6, {4, 32, 203, 0, 113, 7}},
    {"203.0.113.7", 48, RG_OK, 6, {4, 32, 203, 0, 113, 7}},
    {"::ffff:203.0.113.7", 0, RG_OK, 6, {4, 32, 203, 0, 113, 7}},
    {"::FFFF:cb00:7107", 64, RG_OK, 6, {4, 32, 203, 0, 113, 7}},
    {"2001:db8:1:2:3:4:5:6",
     0,
     RG_OK,
     10,
     {6, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2}},
    {"2001:DB8:1:2::",
     64,
     RG_OK,
     10,
     {6, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2}},
    {"2001:db8:1:2ff::1",
     56,
     RG_OK,
     9,
     {6, 56, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x02}},
    {"2001:db8:1:2ff::1", 48, RG_OK, 8, {6, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1}},
    {"2001:db8:1:2ff::1",
     63,
     RG_OK,
     10,
     {6, 63, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x02, 0xfe}},
    {"::1",
     128,
     RG_OK,
     18,
     {6, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
    {"::1", 1, RG_OK, 3, {6, 1, 0}},
    {"::1", 129, RG_EINVAL, 0, {0}},
    {"", 0, RG_EADDRESS, 0, {0}},
    {"1.2.3", 0, RG_EADDRESS, 0, {0}},
    {"1.2.3.4.5", 0, RG_EADDRESS, 0, {0}},
    {"01.2.3.4", 0, RG_EADDRESS, 0, {0}},
    {"256.1.1.1", 0, RG_EADDRESS, 0, {0}},
    {" 1.2.3.4", 0, RG_EADDRESS, 0, {0}},
    {"1.2.3.4 ", 0, RG_EADDRESS, 0, {0}},
    {"1.2.3.4:80", 0, RG_EADDRESS, 0, {0}},
    {"[2001:db8::1]", 0, RG_EADDRESS, 0, {0}},
    {"fe80::1%eth0", 0, RG_EADDRESS, 0, {0}},
    {"example.com", 0, RG_EADDRESS, 0, {0}},
    {"2001:db8::1::2", 0, RG_EADDRESS, 0, {0}},
    {"0000000000000000000000000000000000000000000000000000000000000000000001",
     0,
     RG_EADDRESS,
     0,
     {0}},
};

START_TEST(client_keys)
{
    const address_case *a = &ADDRESSES[_i];
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t len = 99;
    int rc = rg_client_key(a->text, a->prefix, key, &len);
    ck_assert_msg(rc == a->rc, "'%s' /%u: %s", a->text, a->prefix,
                  rg_err_name(rc));
    ck_assert_uint_eq(len, a->len);
    if (rc == RG_OK)
        ck_assert_msg(memcmp(key, a->key, len) == 0, "'%s' /%u: key differs",
                      a->text, a->prefix);
}
END_TEST

START_TEST(client_key_errors)
{
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t len;
    ck_assert_int_eq(rg_client_key(NULL, 0, key, &len), RG_EINVAL);
    ck_assert_int_eq(rg_client_key("::1", 0, NULL, &len), RG_EINVAL);
    ck_assert_int_eq(rg_client_key("::1", 0, key, NULL), RG_EINVAL);
    /* Not a C string of a sane length: refused without reading past 64
     * bytes' worth of it. */
    char *big = malloc(1 << 20);
    ck_assert_ptr_nonnull(big);
    memset(big, '1', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    ck_assert_int_eq(rg_client_key(big, 0, key, &len), RG_EADDRESS);
    free(big);
}
END_TEST

/* ---- The memory: table ---- */

/*
 * A spray of ten times the table's capacity in fresh keys neither grows
 * it nor frees a client that is limited: the spray evicts its own kind.
 */
START_TEST(spray_keeps_heavy_key_limited)
{
    uint64_t now = 10 * S;
    rg_limiter *l = open_limiter("memory:", 1.0 / 60, 4, 1024, &now);
    rg_limit_result r;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(rg_limiter_take(l, "heavy", 5, 1, &r), RG_OK);
    ck_assert_int_eq(r.remaining, 0);

    char key[32];
    for (int i = 0; i < 10 * 1024; i++) {
        int n = snprintf(key, sizeof key, "spray-%d", i);
        ck_assert_int_eq(rg_limiter_take(l, key, (size_t)n, 1, &r), RG_OK);
        ck_assert(r.allowed);
        if (i % 512 == 0) {
            now += MS;
            ck_assert_int_eq(rg_limiter_take(l, "heavy", 5, 1, &r), RG_OK);
            ck_assert_msg(!r.allowed, "heavy key freed after %d keys", i);
        }
    }
    ck_assert_int_eq(rg_limiter_take(l, "heavy", 5, 1, &r), RG_OK);
    ck_assert(!r.allowed);
    rg_limiter_free(l);
}
END_TEST

/* The table is allocated once and holds what it was asked for. */
START_TEST(table_capacity)
{
    rg__limit_table *t = rg__limit_table_new(1000);
    rg__limit_spot spot;
    rg__gcra g = {.interval_ns = S, .tolerance_ns = 60 * S, .limit = 60};
    rg_limit_result r;
    ck_assert_ptr_nonnull(t);
    /* Twice the slots, so that the keys fit although each has one
     * bucket. */
    ck_assert_uint_ge(rg__limit_table_capacity(t), 2000);
    ck_assert_uint_le(rg__limit_table_capacity(t), 2008);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "%d", i);
        rg__limit_table_locate(t, key, (size_t)n, &spot);
        rg__limit_table_take(t, &spot, &g, S, 1, &r);
    }
    ck_assert_uint_eq(rg__limit_table_count(t, S), rg__limit_table_capacity(t));
    /* Keys that have rested count for nothing. */
    ck_assert_uint_eq(rg__limit_table_count(t, 100 * S), 0);
    /* Cost 0 stores nothing. */
    rg__limit_table_free(t);
    t = rg__limit_table_new(16);
    rg__limit_table_locate(t, "k", 1, &spot);
    rg__limit_table_take(t, &spot, &g, S, 0, &r);
    ck_assert_uint_eq(rg__limit_table_count(t, 0), 0);
    rg__limit_table_free(t);
}
END_TEST

/* ---- Threads ---- */

#define THREADS 8
#define SHARED  16
#define TAKES   4000
#define BURST   9 /* limit 10 */

typedef struct hammer {
    rg_limiter *l;
    atomic_uint allowed;
    int failed;
} hammer;

static void *hammer_keys(void *arg)
{
    hammer *h = arg;
    char key[16];
    for (int i = 0; i < TAKES; i++) {
        rg_limit_result r;
        int n = snprintf(key, sizeof key, "shared-%d", i % SHARED);
        if (rg_limiter_take(h->l, key, (size_t)n, 1, &r) != RG_OK)
            h->failed = 1;
        if (r.allowed)
            atomic_fetch_add(&h->allowed, 1);
    }
    return NULL;
}

/* With the clock stopped, the keys allow exactly their limit, however
 * the threads interleave: no take is lost or counted twice. */
START_TEST(threads_lose_no_update)
{
    char url[600];
    uint64_t now = 5 * S;
    hammer h = {
        .l = open_limiter(backend_url(_i, url, sizeof url), 1, BURST, 0, &now)};
    pthread_t tid[THREADS];
    atomic_init(&h.allowed, 0);
    int threads = _i == 0 ? THREADS : 4; /* sqlite: slower, fewer */
    for (int t = 0; t < threads; t++)
        ck_assert_int_eq(pthread_create(&tid[t], NULL, hammer_keys, &h), 0);
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    ck_assert_int_eq(h.failed, 0);
    ck_assert_uint_eq(atomic_load(&h.allowed), SHARED * (BURST + 1));
    rg_limiter_free(h.l);
}
END_TEST

/* ---- sqlite: ---- */

#if RG_HAVE_SQLITE
static void db_path(char *out, size_t size)
{
    snprintf(out, size, "%s/limits.db", rg_test_tmpdir());
}

/* Handles of one file share limits; limiters of other names do not. */
START_TEST(sqlite_shares_limits)
{
    char path[600], url[700];
    uint64_t now = 1000 * S;
    rg_limit_result r;
    db_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);

    rg_limiter *a = open_limiter(url, 1, 1, 0, &now);
    rg_limiter *b = open_limiter(url, 1, 1, 0, &now);
    ck_assert_int_eq(rg_limiter_take(a, "203.0.113.7", 11, 2, &r), RG_OK);
    ck_assert(r.allowed);
    ck_assert_int_eq(rg_limiter_take(b, "203.0.113.7", 11, 1, &r), RG_OK);
    ck_assert(!r.allowed && r.retry_after_ms == 1000);
    rg_limiter_free(a);
    rg_limiter_free(b);

    /* Closed and opened again: still limited. */
    a = open_limiter(url, 1, 1, 0, &now);
    ck_assert_int_eq(rg_limiter_take(a, "203.0.113.7", 11, 1, &r), RG_OK);
    ck_assert(!r.allowed);
    rg_limiter_free(a);

    rg_limiter_config cfg;
    rg_limiter_config_init(&cfg);
    cfg.store = url;
    cfg.rate_per_s = 1;
    cfg.burst = 1;
    cfg.name = "other";
    cfg.clock_ns = clock_ns;
    cfg.clock_arg = &now;
    ck_assert_int_eq(rg_limiter_open(&a, &cfg), RG_OK);
    ck_assert_int_eq(rg_limiter_take(a, "203.0.113.7", 11, 1, &r), RG_OK);
    ck_assert(r.allowed);
    rg_limiter_free(a);
}
END_TEST

/* The file holds keyed hashes of the keys, never the keys. */
START_TEST(sqlite_keeps_no_key)
{
    char path[600], url[700];
    uint64_t now = 1000 * S;
    rg_limit_result r;
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t key_len;
    db_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);

    rg_limiter *l = open_limiter(url, 1, 1, 0, &now);
    static const char address[] = "198.51.100.23";
    ck_assert_int_eq(rg_client_key(address, 0, key, &key_len), RG_OK);
    ck_assert_int_eq(rg_limiter_take(l, key, key_len, 1, &r), RG_OK);
    ck_assert_int_eq(rg_limiter_take(l, address, strlen(address), 1, &r),
                     RG_OK);
    rg_limiter_free(l);

    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM limits"), 2);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM limits "
                                           "WHERE length(key) = 16"),
                     2);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM limit_secret"),
                     1);
    /* Neither the address's text nor its key bytes are anywhere in the
     * file (after the log is folded in). */
    rg_test_sql_exec(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    size_t len;
    unsigned char *bytes = rg_test_read_file(path, &len);
    ck_assert_ptr_null(memmem(bytes, len, address, strlen(address)));
    ck_assert_ptr_null(memmem(bytes, len, key, key_len));
    free(bytes);
}
END_TEST

/* Rows of keys that have rested go on a later handle's first take. */
START_TEST(sqlite_purges_rested_keys)
{
    char path[600], url[700];
    uint64_t now = 1000 * S;
    rg_limit_result r;
    db_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);

    rg_limiter *l = open_limiter(url, 1, 1, 0, &now);
    char key[16];
    for (int i = 0; i < 50; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(rg_limiter_take(l, key, (size_t)n, 1, &r), RG_OK);
    }
    rg_limiter_free(l);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM limits"), 50);
    now += 10 * S;
    l = open_limiter(url, 1, 1, 0, &now);
    ck_assert_int_eq(rg_limiter_take(l, "new", 3, 1, &r), RG_OK);
    rg_limiter_free(l);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM limits"), 1);
}
END_TEST

/* A row from a clock far ahead (another machine's, or this one before it
 * was set back) counts as a whole burst, not more; a damaged row as
 * rested. */
START_TEST(sqlite_clamps_rows)
{
    char path[600], url[700];
    uint64_t now = 1000 * S;
    rg_limit_result r;
    db_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);

    rg_limiter *l = open_limiter(url, 1, 1, 0, &now);
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    rg_test_sql_exec(path, "UPDATE limits SET tat = 4000000000000000000");
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert(!r.allowed && r.reset_after_ms == 2000 &&
              r.retry_after_ms == 1000);
    rg_test_sql_exec(path, "UPDATE limits SET tat = -5");
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    ck_assert(r.allowed && r.remaining == 1);
    rg_limiter_free(l);
}
END_TEST

/* A store that fails gives RG_ESTORE and a refusal, never a pass. */
START_TEST(sqlite_failure_refuses)
{
    char path[600], url[700];
    uint64_t now = 1000 * S;
    rg_limit_result r;
    db_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);

    rg_limiter *l = open_limiter(url, 1, 1, 0, &now);
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
    rg_test_sql_exec(path, "DROP TABLE limits");
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_ESTORE);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_uint_eq(r.limit, 2);
    rg_limiter_free(l);

    /* Times beyond what the file can hold are refused, not wrapped. */
    snprintf(url, sizeof url, "sqlite:%s/far.db", rg_test_tmpdir());
    now = UINT64_MAX - S;
    l = open_limiter(url, 1, 1, 0, &now);
    ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_EINVAL);
    ck_assert_int_eq(r.allowed, 0);
    rg_limiter_free(l);
}
END_TEST
#endif

Suite *limit_suite(void);

Suite *limit_suite(void)
{
    Suite *s = suite_create("limit");
    TCase *tc = tcase_create("limit");
    tcase_add_loop_test(tc, gcra_arrivals, 0, BACKENDS);
    tcase_add_loop_test(tc, clock_going_back, 0, BACKENDS);
    tcase_add_test(tc, tat_far_ahead_is_clamped);
    tcase_add_test(tc, fractional_rates);
    tcase_add_test(tc, bad_settings);
    tcase_add_loop_test(tc, client_keys, 0,
                        sizeof ADDRESSES / sizeof ADDRESSES[0]);
    tcase_add_test(tc, client_key_errors);
    tcase_add_test(tc, spray_keeps_heavy_key_limited);
    tcase_add_test(tc, table_capacity);
    tcase_add_loop_test(tc, threads_lose_no_update, 0, BACKENDS);
#if RG_HAVE_SQLITE
    tcase_add_test(tc, sqlite_shares_limits);
    tcase_add_test(tc, sqlite_keeps_no_key);
    tcase_add_test(tc, sqlite_purges_rested_keys);
    tcase_add_test(tc, sqlite_clamps_rows);
    tcase_add_test(tc, sqlite_failure_refuses);
#endif
    suite_add_tcase(s, tc);
    return s;
}
