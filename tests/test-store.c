/*
 * Tests of the stores: one conformance table that every backend must pass
 * (run as loop tests, one iteration per backend), then what only one
 * backend has: the bound of memory:, the file, locking and failure modes of
 * sqlite:, and the URL parser of rg_store_open().
 *
 * Capacity is a property of memory: alone (a SQLite file is bounded by the
 * disk, not by a count), so the RG_EFULL cases are in the memory tests, and
 * the model test checks the bound only where there is one.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rg-config.h"
#include "replyguard.h"
#include "internal.h"
#include "store.h"
#include "helpers.h"

#if RG_HAVE_SQLITE
#include <sqlite3.h>
#endif

/* Sanitizers reserve terabytes of address space, so RLIMIT_AS cannot be
 * used to make an allocation fail under them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

#define T0 1700000000u /* a "now" for the tests, in 2023 */

enum { MEMORY = 0, SQLITE = 1, N_BACKENDS = 1 + RG_HAVE_SQLITE };

static const char *const backend_name[] = {"memory", "sqlite"};

/* ---- Scratch directory: one per test, removed by the teardown. ---- */

static char scratch[512];

static const char *scratch_dir(void)
{
    if (!scratch[0])
        snprintf(scratch, sizeof scratch, "%s", rg_test_tmpdir());
    return scratch;
}

/* Writes "<scratch>/<name>" into buf (a buffer of PATH_LEN bytes). */
#define PATH_LEN 600
static char *scratch_path(char *buf, const char *name)
{
    int n = snprintf(buf, PATH_LEN, "%s/%s", scratch_dir(), name);
    ck_assert(n > 0 && n < PATH_LEN);
    return buf;
}

static void remove_scratch(void)
{
    if (!scratch[0])
        return;
    rg_test_rmtree(scratch);
    scratch[0] = '\0';
}

/* ---- Helpers ---- */

/* A nonce that is a function of i (and of a tag, to make sets disjoint). */
static void make_nonce(uint32_t i, uint8_t tag, uint8_t out[RG__NONCE_BYTES])
{
    for (size_t k = 0; k < RG__NONCE_BYTES; k++)
        out[k] = (uint8_t)(0xa5 ^ (k * 31));
    out[0] = (uint8_t)i;
    out[1] = (uint8_t)(i >> 8);
    out[2] = (uint8_t)(i >> 16);
    out[3] = (uint8_t)(i >> 24);
    out[4] = tag;
}

static int spend_rc(rg_store *s, uint32_t i, uint64_t expires_at, uint64_t now,
                    bool *fresh)
{
    uint8_t nonce[RG__NONCE_BYTES];

    make_nonce(i, 0, nonce);
    return s->ops->spend(s, nonce, expires_at, now, fresh);
}

/* Spends nonce i, fails the test on an error, and returns `fresh`. */
static bool spend(rg_store *s, uint32_t i, uint64_t expires_at, uint64_t now)
{
    bool fresh = true;
    int rc = spend_rc(s, i, expires_at, now, &fresh);

    ck_assert_msg(rc == RG_OK, "spend %u: %s", i, rg_err_name(rc));
    return fresh;
}

static rg_store *open_url(const char *url)
{
    rg_store *s = NULL;
    int rc = rg_store_open(&s, url);

    ck_assert_msg(rc == RG_OK, "%s: %s", url, rg_err_name(rc));
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Opens backend b. capacity (0 for the default) matters to memory: only;
 * sqlite: is the file s.db in the test's scratch directory. */
static rg_store *open_backend(int b, unsigned capacity)
{
    char url[PATH_LEN + 16], path[PATH_LEN];

    if (b == MEMORY && capacity)
        snprintf(url, sizeof url, "memory:?capacity=%u", capacity);
    else if (b == MEMORY)
        snprintf(url, sizeof url, "memory:");
    else
        snprintf(url, sizeof url, "sqlite:%s", scratch_path(path, "s.db"));
    rg_store *s = open_url(url);
    ck_assert_str_eq(s->ops->scheme, backend_name[b]);
    return s;
}

/* A small deterministic generator (splitmix64) for the model test: the
 * test must behave the same on every run. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* ---- Conformance: every backend ---- */

START_TEST(fresh_then_spent)
{
    rg_store *s = open_backend(_i, 0);

    ck_assert(spend(s, 1, T0 + 100, T0));
    ck_assert(!spend(s, 1, T0 + 100, T0));
    ck_assert(!spend(s, 1, T0 + 100, T0 + 50));
    /* A second spend of a live nonce does not move its expiry. */
    ck_assert(!spend(s, 1, T0 + 5000, T0 + 100));
    ck_assert(spend(s, 1, T0 + 5000, T0 + 101));
    rg_store_close(s);
}
END_TEST

START_TEST(distinct_nonces_independent)
{
    rg_store *s = open_backend(_i, 0);
    uint8_t nonce[RG__NONCE_BYTES], other[RG__NONCE_BYTES];
    bool fresh;

    for (uint32_t i = 0; i < 200; i++)
        ck_assert(spend(s, i, T0 + 100, T0));
    for (uint32_t i = 0; i < 200; i++)
        ck_assert(!spend(s, i, T0 + 100, T0));
    ck_assert(spend(s, 200, T0 + 100, T0));

    /* Nonces that differ from a spent one in a single bit are strangers. */
    make_nonce(7, 0, nonce);
    for (size_t bit = 0; bit < 8 * RG__NONCE_BYTES; bit++) {
        memcpy(other, nonce, sizeof other);
        other[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (bit < 8)
            continue; /* these are nonces 0..255: some were spent above */
        ck_assert_int_eq(s->ops->spend(s, other, T0 + 100, T0, &fresh), RG_OK);
        ck_assert_msg(fresh, "bit %zu", bit);
    }
    rg_store_close(s);
}
END_TEST

START_TEST(entry_expires)
{
    rg_store *s = open_backend(_i, 0);

    ck_assert(spend(s, 1, T0 + 10, T0));
    ck_assert(spend(s, 2, T0 + 20, T0));
    /* Spent until expires_at inclusive: expired means expires_at < now. */
    ck_assert(!spend(s, 1, T0 + 10, T0 + 10));
    ck_assert(spend(s, 1, T0 + 30, T0 + 11));
    ck_assert(!spend(s, 1, T0 + 30, T0 + 11));
    ck_assert(!spend(s, 2, T0 + 20, T0 + 11));
    ck_assert(spend(s, 2, T0 + 30, T0 + 21));
    rg_store_close(s);
}
END_TEST

START_TEST(already_expired_is_not_kept)
{
    rg_store *s = open_backend(_i, 0);

    /* Spent until a moment already past: fresh, and nothing stays. */
    ck_assert(spend(s, 1, T0 - 1, T0));
    ck_assert(spend(s, 1, T0 - 1, T0));
    ck_assert(spend(s, 2, 0, T0));
    /* Time 0 is a time like any other. */
    ck_assert(spend(s, 3, 0, 0));
    ck_assert(!spend(s, 3, 0, 0));
    ck_assert(spend(s, 3, 0, 1));
    rg_store_close(s);
}
END_TEST

START_TEST(time_range)
{
    rg_store *s = open_backend(_i, 0);
    const uint64_t max = INT64_MAX;
    bool fresh = true;

    ck_assert_int_eq(spend_rc(s, 1, max + 1, T0, &fresh), RG_EINVAL);
    ck_assert(!fresh);
    fresh = true;
    ck_assert_int_eq(spend_rc(s, 1, T0, max + 1, &fresh), RG_EINVAL);
    ck_assert(!fresh);
    fresh = true;
    ck_assert_int_eq(spend_rc(s, 1, UINT64_MAX, UINT64_MAX, &fresh), RG_EINVAL);
    ck_assert(!fresh);
    ck_assert(spend(s, 1, max, T0));
    ck_assert(!spend(s, 1, max, max));
    rg_store_close(s);
}
END_TEST

/*
 * Random spends against a reference model: a small pool of nonces, short
 * lifetimes and a slowly moving clock make collisions, expiry on probe,
 * sweeps and (for memory:) a full table happen often. The memory table is
 * exactly as strict as the model: after the sweep of second t every entry
 * is live at t, so it is full exactly when the live count is the capacity.
 */
#define MODEL_NONCES   48
#define MODEL_CAPACITY 16

START_TEST(model)
{
    const bool bounded = _i == MEMORY;
    const int steps = _i == MEMORY ? 20000 : 3000;
    rg_store *s = open_backend(_i, MODEL_CAPACITY);
    uint64_t model_exp[MODEL_NONCES];
    bool model_has[MODEL_NONCES] = {false};
    uint64_t state = 42, now = T0;
    int fulls = 0, reuses = 0, replays = 0;

    for (int step = 0; step < steps; step++) {
        uint64_t r = next_random(&state);
        if (r % 16 == 0)
            now += (r >> 8) % 3;
        uint32_t i = (uint32_t)((r >> 16) % MODEL_NONCES);
        uint64_t exp = now + (r >> 32) % 6 - 1;

        int live = 0;
        for (int k = 0; k < MODEL_NONCES; k++)
            live += model_has[k] && model_exp[k] >= now;

        int want_rc = RG_OK;
        bool want_fresh;
        if (model_has[i] && model_exp[i] >= now) {
            want_fresh = false;
            replays++;
        } else if (exp < now) {
            want_fresh = true;
            model_has[i] = false;
        } else if (bounded && live >= MODEL_CAPACITY) {
            want_rc = RG_EFULL;
            want_fresh = false;
            fulls++;
        } else {
            want_fresh = true;
            reuses += model_has[i];
            model_has[i] = true;
            model_exp[i] = exp;
        }

        bool fresh = !want_fresh;
        int rc = spend_rc(s, i, exp, now, &fresh);
        ck_assert_msg(rc == want_rc && fresh == want_fresh,
                      "step %d nonce %u: rc %s fresh %d, want %s %d", step, i,
                      rg_err_name(rc), fresh, rg_err_name(want_rc), want_fresh);
    }
    /* The walk did reach the interesting states. */
    ck_assert_int_gt(replays, 100);
    ck_assert_int_gt(reuses, 100);
    if (bounded)
        ck_assert_int_gt(fulls, 100);
    rg_store_close(s);
}
END_TEST

/* Threads spending the same nonces through one handle: each nonce is fresh
 * to exactly one of them. */
#define THREADS       8
#define THREAD_NONCES 400

struct spender {
    rg_store *store;
    int rank;
    int fails;
    bool fresh[THREAD_NONCES];
};

static void *spend_all(void *arg)
{
    struct spender *sp = arg;

    for (uint32_t k = 0; k < THREAD_NONCES; k++) {
        /* Odd ranks walk backwards, so threads meet in the middle. */
        uint32_t i = sp->rank % 2 ? THREAD_NONCES - 1 - k : k;
        if (spend_rc(sp->store, i, T0 + 100, T0, &sp->fresh[i]) != RG_OK)
            sp->fails++;
    }
    return NULL;
}

START_TEST(threads_share_a_handle)
{
    rg_store *s = open_backend(_i, 0);
    static struct spender sp[THREADS];
    pthread_t tid[THREADS];

    for (int t = 0; t < THREADS; t++) {
        memset(&sp[t], 0, sizeof sp[t]);
        sp[t].store = s;
        sp[t].rank = t;
        ck_assert_int_eq(pthread_create(&tid[t], NULL, spend_all, &sp[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(sp[t].fails, 0);
    for (int i = 0; i < THREAD_NONCES; i++) {
        int n = 0;
        for (int t = 0; t < THREADS; t++)
            n += sp[t].fresh[i];
        ck_assert_msg(n == 1, "nonce %d fresh to %d threads", i, n);
    }
    rg_store_close(s);
}
END_TEST

/* ---- memory: ---- */

START_TEST(memory_full_of_live_entries)
{
    rg_store *s = open_url("memory:?capacity=4");
    bool fresh = true;

    for (uint32_t i = 0; i < 4; i++)
        ck_assert(spend(s, i, T0 + 100, T0));
    ck_assert_int_eq(spend_rc(s, 4, T0 + 100, T0, &fresh), RG_EFULL);
    ck_assert(!fresh);
    /* Full, but every live nonce is still spent: nothing was evicted. */
    for (uint32_t i = 0; i < 4; i++)
        ck_assert(!spend(s, i, T0 + 100, T0));
    /* A later second brings a sweep, which finds nothing to free. */
    fresh = true;
    ck_assert_int_eq(spend_rc(s, 5, T0 + 100, T0 + 1, &fresh), RG_EFULL);
    ck_assert(!fresh);
    ck_assert_int_eq(spend_rc(s, 5, T0 + 100, T0 + 100, &fresh), RG_EFULL);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert(!spend(s, i, T0 + 100, T0 + 100));
    /* A spend that keeps nothing needs no room, even when full. */
    ck_assert(spend(s, 6, T0 - 1, T0 + 100));
    rg_store_close(s);
}
END_TEST

START_TEST(memory_room_reused_after_expiry)
{
    rg_store *s = open_url("memory:?capacity=4");
    bool fresh;

    ck_assert(spend(s, 0, T0 + 5, T0));
    ck_assert(spend(s, 1, T0 + 5, T0));
    ck_assert(spend(s, 2, T0 + 50, T0));
    ck_assert(spend(s, 3, T0 + 50, T0));
    ck_assert_int_eq(spend_rc(s, 10, T0 + 50, T0 + 5, &fresh), RG_EFULL);
    /* At T0 + 6 nonces 0 and 1 have expired: their room takes two more. */
    ck_assert(spend(s, 10, T0 + 60, T0 + 6));
    ck_assert(spend(s, 11, T0 + 60, T0 + 6));
    ck_assert_int_eq(spend_rc(s, 12, T0 + 60, T0 + 6, &fresh), RG_EFULL);
    ck_assert(!spend(s, 2, T0 + 50, T0 + 6));
    ck_assert(!spend(s, 3, T0 + 50, T0 + 6));
    ck_assert(!spend(s, 10, T0 + 60, T0 + 6));
    ck_assert(!spend(s, 11, T0 + 60, T0 + 6));
    /* An expired nonce can be spent again once there is room. */
    ck_assert_int_eq(spend_rc(s, 0, T0 + 60, T0 + 6, &fresh), RG_EFULL);
    ck_assert(spend(s, 0, T0 + 70, T0 + 51));
    ck_assert(!spend(s, 0, T0 + 70, T0 + 51));

    /* Everything expired: the whole table is free again, many times over.
     */
    for (uint32_t round = 0; round < 50; round++) {
        uint64_t now = T0 + 100 + round * 10;
        for (uint32_t i = 0; i < 4; i++)
            ck_assert(spend(s, 100 + round * 4 + i, now + 5, now));
        ck_assert_int_eq(spend_rc(s, 99, now + 5, now, &fresh), RG_EFULL);
    }
    rg_store_close(s);
}
END_TEST

START_TEST(memory_capacity_one)
{
    rg_store *s = open_url("memory:?capacity=1");
    bool fresh;

    ck_assert(spend(s, 1, T0 + 1, T0));
    ck_assert_int_eq(spend_rc(s, 2, T0 + 1, T0, &fresh), RG_EFULL);
    ck_assert(!spend(s, 1, T0 + 1, T0 + 1));
    ck_assert(spend(s, 2, T0 + 3, T0 + 2));
    ck_assert(spend(s, 1, T0 + 4, T0 + 4));
    rg_store_close(s);
}
END_TEST

/* The default capacity is 100000 live entries. */
START_TEST(memory_default_capacity)
{
    rg_store *s = open_url("memory:");
    bool fresh = true;

    for (uint32_t i = 0; i < 100000; i++)
        ck_assert(spend(s, i, T0 + 10, T0));
    ck_assert(!spend(s, 99999, T0 + 10, T0));
    ck_assert_int_eq(spend_rc(s, 100000, T0 + 10, T0, &fresh), RG_EFULL);
    ck_assert(!fresh);
    ck_assert(spend(s, 100000, T0 + 20, T0 + 11));
    rg_store_close(s);
}
END_TEST

/*
 * The largest capacity, 10^8, is accepted (the URL table checks that one
 * more is not), and its table of 2 * 10^8 slots is one allocation of
 * gigabytes: with 1 GiB of address space it fails with RG_ENOMEM, which
 * also shows that the parser let the number through. The allocation is not
 * made for real here: under sanitizers and valgrind it takes many seconds.
 */
START_TEST(memory_out_of_memory)
{
    if (UNDER_SANITIZER)
        return;
    struct rlimit old, lim;
    rg_store *s = (rg_store *)&s;

    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > (rlim_t)1 << 30)
        lim.rlim_cur = (rlim_t)1 << 30;
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    int rc = rg_store_open(&s, "memory:?capacity=100000000");
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
    ck_assert_int_eq(rc, RG_ENOMEM);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(memory_open_bad_arguments)
{
    rg_store *s = (rg_store *)&s;

    ck_assert_int_eq(rg__store_memory_open(NULL, ""), RG_EINVAL);
    ck_assert_int_eq(rg__store_memory_open(&s, NULL), RG_EINVAL);
    ck_assert_ptr_null(s);
}
END_TEST

/* ---- URLs ---- */

#define SQLITE_RESULT (RG_HAVE_SQLITE ? RG_OK : RG_ENOSUPPORT)

/* "@" stands for a path in the test's scratch directory. */
static const struct url_case {
    const char *url;
    int want;
} url_cases[] = {
    {"memory:", RG_OK},
    {"memory:?capacity=1", RG_OK},
    {"memory:?capacity=100000", RG_OK},
    {"memory:?capacity=007", RG_OK},
    /* Schemes are case-insensitive (RFC 3986, 3.1); query keys are not. */
    {"MEMORY:", RG_OK},
    {"Memory:?capacity=5", RG_OK},
    {"memory:?CAPACITY=5", RG_EURL},
    {"memory:?capacity=0", RG_EURL},
    {"memory:?capacity=100000001", RG_EURL},
    {"memory:?capacity=18446744073709551615", RG_EURL},
    {"memory:?capacity=18446744073709551616", RG_EURL},
    {"memory:?capacity=abc", RG_EURL},
    {"memory:?capacity=12abc", RG_EURL},
    {"memory:?capacity=0x10", RG_EURL},
    {"memory:?capacity=1.5", RG_EURL},
    {"memory:?capacity=1e3", RG_EURL},
    {"memory:?capacity=", RG_EURL},
    {"memory:?capacity=-1", RG_EURL},
    {"memory:?capacity=+1", RG_EURL},
    {"memory:?capacity= 1", RG_EURL},
    {"memory:?capacity=1 ", RG_EURL},
    {"memory:?capacity", RG_EURL},
    {"memory:?capacityx=1", RG_EURL},
    {"memory:?bogus=1", RG_EURL},
    {"memory:?capacity=1&bogus=1", RG_EURL},
    {"memory:?capacity=1&capacity=2", RG_EURL},
    {"memory:?capacity=1&", RG_EURL},
    {"memory:?&capacity=1", RG_EURL},
    {"memory:?", RG_EURL},
    {"memory:?=1", RG_EURL},
    {"memory:x", RG_EURL},
    {"memory://", RG_EURL},
    {"memory", RG_EURL},
    {"memor:", RG_EURL},
    {"memoryx:", RG_EURL},
    {" memory:", RG_EURL},
    {"sqlite:", RG_EURL},
    {"SQLITE:", RG_EURL},
    {"sqlite:@", SQLITE_RESULT},
    {"SQLite:@", SQLITE_RESULT},
    {"sqlite", RG_EURL},
    {"redis://x", RG_EURL},
    {"redis://localhost:6379/0", RG_EURL},
    {"file:/tmp/x.db", RG_EURL},
    {":", RG_EURL},
    {"", RG_EINVAL},
    {NULL, RG_EINVAL},
};

START_TEST(url_parsing)
{
    const struct url_case *c = &url_cases[_i];
    char url[PATH_LEN + 16], path[PATH_LEN];
    const char *at = c->url ? strchr(c->url, '@') : NULL;
    rg_store *s = (rg_store *)&s;

    if (at)
        snprintf(url, sizeof url, "%.*s%s", (int)(at - c->url), c->url,
                 scratch_path(path, "u.db"));
    int rc = rg_store_open(&s, at ? url : c->url);
    ck_assert_msg(rc == c->want, "\"%s\": %s, want %s",
                  c->url ? c->url : "(null)", rg_err_name(rc),
                  rg_err_name(c->want));
    if (rc == RG_OK) {
        ck_assert_ptr_nonnull(s);
        ck_assert(spend(s, 1, T0 + 10, T0));
        ck_assert(!spend(s, 1, T0 + 10, T0));
        rg_store_close(s);
    } else {
        ck_assert_ptr_null(s);
        /* A refused URL leaves no file behind. */
        if (at)
            ck_assert_int_eq(access(path, F_OK), -1);
    }
}
END_TEST

START_TEST(open_null_out)
{
    ck_assert_int_eq(rg_store_open(NULL, "memory:"), RG_EINVAL);
}
END_TEST

START_TEST(close_null)
{
    rg_store_close(NULL);
}
END_TEST

#if RG_HAVE_SQLITE

/* ---- sqlite: ---- */

static sqlite3_int64 sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL),
                     SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

static int sqlite_open_rc(const char *path)
{
    char url[PATH_LEN + 16];
    rg_store *s = (rg_store *)&s;

    snprintf(url, sizeof url, "sqlite:%s", path);
    int rc = rg_store_open(&s, url);
    if (rc == RG_OK)
        rg_store_close(s);
    else
        ck_assert_ptr_null(s);
    return rc;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(sqlite_survives_reopen)
{
    char path[PATH_LEN];
    rg_store *s = open_backend(SQLITE, 0);

    for (uint32_t i = 0; i < 50; i++)
        ck_assert(spend(s, i, T0 + 100, T0));
    rg_store_close(s);

    s = open_backend(SQLITE, 0);
    for (uint32_t i = 0; i < 50; i++)
        ck_assert(!spend(s, i, T0 + 100, T0 + 1));
    ck_assert(spend(s, 50, T0 + 100, T0 + 1));
    rg_store_close(s);

    scratch_path(path, "s.db");
    ck_assert_int_eq(sql_int(path, "PRAGMA user_version"), 1);
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"), 51);
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM pragma_journal_mode"
                                   " WHERE journal_mode = 'wal'"),
                     1);
}
END_TEST

START_TEST(sqlite_file_mode)
{
    char path[PATH_LEN], wal[PATH_LEN];
    struct stat st;

    umask(022);
    rg_store *s = open_backend(SQLITE, 0);
    ck_assert(spend(s, 1, T0 + 100, T0));
    ck_assert_int_eq(stat(scratch_path(path, "s.db"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* The WAL holds the same data and gets the same mode. */
    ck_assert_int_eq(stat(scratch_path(wal, "s.db-wal"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    rg_store_close(s);
}
END_TEST

/* Expired rows go on the first spend of a handle, then every 256 spends,
 * at most 1024 at a time. */
START_TEST(sqlite_purges_expired_rows)
{
    char path[PATH_LEN];
    rg_store *s = open_backend(SQLITE, 0);

    scratch_path(path, "s.db");
    for (uint32_t i = 0; i < 1100; i++)
        ck_assert(spend(s, i, T0 + 10, T0));
    ck_assert(spend(s, 9999, T0 + 100, T0));
    rg_store_close(s);
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"), 1101);

    /* The first spend purges 1024 rows, and the count of rows it deleted
     * must not be taken for the upsert's: the nonce is still spent. */
    s = open_backend(SQLITE, 0);
    ck_assert(!spend(s, 9999, T0 + 100, T0 + 11));
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"), 1101 - 1024);
    for (uint32_t i = 1; i < 256; i++)
        ck_assert(spend(s, 5000 + i, T0 + 100, T0 + 11));
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"),
                     1101 - 1024 + 255);
    /* The 257th spend purges the other 76. */
    ck_assert(spend(s, 6000, T0 + 100, T0 + 11));
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"), 257);
    rg_store_close(s);
}
END_TEST

/* Several processes spend the same nonces at once, each through its own
 * handle on one new file: each nonce is fresh to exactly one of them. */
#define PROCS       2
#define PROC_NONCES 500

START_TEST(sqlite_processes_race)
{
    char path[PATH_LEN], url[PATH_LEN + 16];
    int go[2], res[PROCS][2];
    pid_t pid[PROCS];

    snprintf(url, sizeof url, "sqlite:%s", scratch_path(path, "s.db"));
    ck_assert_int_eq(pipe(go), 0);
    for (int p = 0; p < PROCS; p++) {
        ck_assert_int_eq(pipe(res[p]), 0);
        pid[p] = fork();
        ck_assert_int_ge(pid[p], 0);
        if (pid[p] == 0) {
            /* 'F' fresh, 'S' spent, 'E' error, for each nonce in order. */
            char out[PROC_NONCES], c;
            rg_store *s = NULL;
            close(go[1]);
            if (read(go[0], &c, 1) != 0)
                _exit(3);
            if (rg_store_open(&s, url) != RG_OK)
                _exit(2);
            for (uint32_t i = 0; i < PROC_NONCES; i++) {
                bool fresh;
                int rc = spend_rc(s, i, T0 + 100, T0, &fresh);
                out[i] = rc != RG_OK ? 'E' : fresh ? 'F' : 'S';
            }
            rg_store_close(s);
            _exit(write(res[p][1], out, sizeof out) == (ssize_t)sizeof out ? 0
                                                                           : 4);
        }
        close(res[p][1]);
    }
    /* Closing the write end releases every child at once. */
    close(go[0]);
    close(go[1]);

    char seen[PROCS][PROC_NONCES];
    for (int p = 0; p < PROCS; p++) {
        int status;
        ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "child %d: status %d", p, status);
        ck_assert_int_eq(read(res[p][0], seen[p], PROC_NONCES), PROC_NONCES);
        close(res[p][0]);
    }
    for (int i = 0; i < PROC_NONCES; i++) {
        int fresh = 0;
        for (int p = 0; p < PROCS; p++) {
            ck_assert_msg(seen[p][i] != 'E', "child %d nonce %d", p, i);
            fresh += seen[p][i] == 'F';
        }
        ck_assert_msg(fresh == 1, "nonce %d fresh to %d processes", i, fresh);
    }
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"), PROC_NONCES);
}
END_TEST

/* Several processes open one new file at the same moment, again and again:
 * the first open of a file (switching it to WAL, creating the schema) must
 * not fail in any of them. */
#define OPEN_ROUNDS 20
#define OPEN_PROCS  4

START_TEST(sqlite_processes_open_new_file)
{
    char path[PATH_LEN], url[PATH_LEN + 16];

    for (int round = 0; round < OPEN_ROUNDS; round++) {
        char name[32];
        int go[2];
        pid_t pid[OPEN_PROCS];

        snprintf(name, sizeof name, "new-%d.db", round);
        snprintf(url, sizeof url, "sqlite:%s", scratch_path(path, name));
        ck_assert_int_eq(pipe(go), 0);
        for (int p = 0; p < OPEN_PROCS; p++) {
            pid[p] = fork();
            ck_assert_int_ge(pid[p], 0);
            if (pid[p] == 0) {
                rg_store *s = NULL;
                bool fresh;
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) != 0)
                    _exit(3);
                if (rg_store_open(&s, url) != RG_OK)
                    _exit(2);
                int rc = spend_rc(s, (uint32_t)p, T0 + 100, T0, &fresh);
                rg_store_close(s);
                _exit(rc == RG_OK && fresh ? 0 : 1);
            }
        }
        close(go[0]);
        close(go[1]);
        for (int p = 0; p < OPEN_PROCS; p++) {
            int status;
            ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "round %d child %d: status %d", round, p, status);
        }
        ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM spent"),
                         OPEN_PROCS);
    }
}
END_TEST

START_TEST(sqlite_not_a_database)
{
    static const char text[] =
        "This is a comment, not a database. It is long enough to hold a "
        "SQLite header and then some, so the size alone gives nothing away."
        "\n";
    char path[PATH_LEN], back[sizeof text];

    scratch_path(path, "text.db");
    write_file(path, text, sizeof text - 1);
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    /* The file was left as it was. */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(back, 1, sizeof back, f), sizeof text - 1);
    fclose(f);
    ck_assert(memcmp(back, text, sizeof text - 1) == 0);

    scratch_path(path, "short.db");
    write_file(path, "hi", 2);
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
}
END_TEST

START_TEST(sqlite_newer_schema)
{
    char path[PATH_LEN];

    scratch_path(path, "new.db");
    sql_exec(path, "PRAGMA user_version = 2");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    ck_assert_int_eq(sql_int(path, "PRAGMA user_version"), 2);

    /* A table of that name but another layout. */
    scratch_path(path, "foreign.db");
    sql_exec(path, "CREATE TABLE spent(x TEXT)");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
}
END_TEST

START_TEST(sqlite_bad_paths)
{
    char path[PATH_LEN];

    /* A directory. */
    ck_assert_int_eq(sqlite_open_rc(scratch_dir()), RG_ESTORE);
    /* A directory that does not exist. */
    ck_assert_int_eq(sqlite_open_rc(scratch_path(path, "none/s.db")),
                     RG_ESTORE);
    /* A parent that is a file. */
    write_file(scratch_path(path, "file"), "x", 1);
    ck_assert_int_eq(sqlite_open_rc(scratch_path(path, "file/s.db")),
                     RG_ESTORE);
    /* A FIFO, which would make SQLite block. */
    ck_assert_int_eq(mkfifo(scratch_path(path, "fifo"), 0600), 0);
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    /* Direct calls. */
    rg_store *s = (rg_store *)&s;
    ck_assert_int_eq(rg__store_sqlite_open(NULL, path), RG_EINVAL);
    ck_assert_int_eq(rg__store_sqlite_open(&s, NULL), RG_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(rg__store_sqlite_open(&s, ""), RG_EINVAL);
}
END_TEST

/*
 * A directory the process may not write to. Root writes anywhere, so when
 * the tests run as root (as in CI containers) a child process becomes
 * "nobody" first; the directory is world-readable so that the failure is
 * the missing write permission, not a missing search permission.
 */
START_TEST(sqlite_unwritable_directory)
{
    char dir[PATH_LEN], path[PATH_LEN];

    scratch_path(dir, "ro");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(chmod(scratch_dir(), 0755), 0);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    scratch_path(path, "ro/s.db");

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(2);
        /* The premise: this process cannot create a file there. */
        char probe[PATH_LEN + 8];
        snprintf(probe, sizeof probe, "%s/probe", dir);
        if (open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600) >= 0)
            _exit(3);
        _exit(sqlite_open_rc(path) == RG_ESTORE && access(path, F_OK) == -1
                  ? 0
                  : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
}
END_TEST

/* A failure after open is RG_ESTORE too, and the handle stays usable for
 * closing. */
START_TEST(sqlite_spend_fails)
{
    char path[PATH_LEN];
    bool fresh = true;
    rg_store *s = open_backend(SQLITE, 0);

    ck_assert(spend(s, 1, T0 + 100, T0));
    sql_exec(scratch_path(path, "s.db"), "DROP TABLE spent");
    ck_assert_int_eq(spend_rc(s, 2, T0 + 100, T0, &fresh), RG_ESTORE);
    ck_assert(!fresh);
    rg_store_close(s);
}
END_TEST

#else

START_TEST(sqlite_not_built)
{
    rg_store *s = (rg_store *)&s;

    ck_assert_int_eq(rg_store_open(&s, "sqlite:/tmp/x.db"), RG_ENOSUPPORT);
    ck_assert_ptr_null(s);
}
END_TEST

#endif

static void setup(void)
{
    ck_assert_int_eq(rg_init(), RG_OK);
}

static TCase *tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, remove_scratch);
    return tc;
}

Suite *store_suite(void); /* for tests/runner.c */

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc;

    tc = tcase("conformance");
    tcase_add_loop_test(tc, fresh_then_spent, 0, N_BACKENDS);
    tcase_add_loop_test(tc, distinct_nonces_independent, 0, N_BACKENDS);
    tcase_add_loop_test(tc, entry_expires, 0, N_BACKENDS);
    tcase_add_loop_test(tc, already_expired_is_not_kept, 0, N_BACKENDS);
    tcase_add_loop_test(tc, time_range, 0, N_BACKENDS);
    tcase_add_loop_test(tc, model, 0, N_BACKENDS);
    tcase_add_loop_test(tc, threads_share_a_handle, 0, N_BACKENDS);
    suite_add_tcase(s, tc);

    tc = tcase("memory");
    tcase_add_test(tc, memory_full_of_live_entries);
    tcase_add_test(tc, memory_room_reused_after_expiry);
    tcase_add_test(tc, memory_capacity_one);
    tcase_add_test(tc, memory_default_capacity);
    tcase_add_test(tc, memory_out_of_memory);
    tcase_add_test(tc, memory_open_bad_arguments);
    suite_add_tcase(s, tc);

    tc = tcase("url");
    tcase_add_loop_test(tc, url_parsing, 0,
                        sizeof url_cases / sizeof url_cases[0]);
    tcase_add_test(tc, open_null_out);
    tcase_add_test(tc, close_null);
    suite_add_tcase(s, tc);

    tc = tcase("sqlite");
#if RG_HAVE_SQLITE
    tcase_add_test(tc, sqlite_survives_reopen);
    tcase_add_test(tc, sqlite_file_mode);
    tcase_add_test(tc, sqlite_purges_expired_rows);
    tcase_add_test(tc, sqlite_processes_race);
    tcase_add_test(tc, sqlite_processes_open_new_file);
    tcase_add_test(tc, sqlite_not_a_database);
    tcase_add_test(tc, sqlite_newer_schema);
    tcase_add_test(tc, sqlite_bad_paths);
    tcase_add_test(tc, sqlite_unwritable_directory);
    tcase_add_test(tc, sqlite_spend_fails);
#else
    tcase_add_test(tc, sqlite_not_built);
#endif
    suite_add_tcase(s, tc);
    return s;
}
