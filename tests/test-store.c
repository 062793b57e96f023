/*
 * Tests of the stores: one conformance table that every backend must pass
 * (run as loop tests, one iteration per backend), then what only one
 * backend has: the bound of memory:, the file, locking and failure modes of
 * sqlite:, and the URL parser of rg_store_open().
 *
 * Capacity is a property of memory: alone (a SQLite file is bounded by the
 * disk, not by a count), so the RG_EFULL cases are in the memory tests, and
 * the model test checks the bound only where there is one.
 *
 * The spam model (bayes_lookup, bayes_apply, bayes_stats) has the same
 * layout: a conformance table for both backends, then the token limit of
 * memory:, the count maps behind both, and the files, processes and
 * crashes of sqlite:.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <malloc.h>
#include <unistd.h>

#include "rg-config.h"
#include "replyguard.h"
#include "internal.h"
#include "store.h"
#include "store-bayes-private.h"
#if RG_HAVE_SQLITE
#include "model-image.h"
#endif
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

/* REDIS runs only in the redis suite (RG_TEST_REDIS set), which starts a
 * server of its own. */
enum { MEMORY = 0, SQLITE = 1, N_BACKENDS = 1 + RG_HAVE_SQLITE, REDIS = 2 };

static const char *const backend_name[] = {"memory", "sqlite", "redis"};

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

/* The tests this process has begun, counted by setup(). */
static unsigned test_number;

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
#if RG_HAVE_REDIS
    else if (b == REDIS)
        /* The pid and the test's number keep its keys apart from every
         * other test's on the one server, whether each test runs in a
         * process of its own or (CK_FORK=no) all in one. */
        snprintf(url, sizeof url, "%s?prefix=test%ld-%u", rg_test_redis_url(),
                 (long)getpid(), test_number);
#endif
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
        rg_test_assert(spend(s, i, T0 + 10, T0));
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
    if (UNDER_SANITIZER || rg_test_under_valgrind())
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

/* ---- The spam model: every backend ---- */

/* Adds the tokens of a space-separated list to ts. */
static void add_list(rg__token_set *ts, const char *list)
{
    const char *p = list;

    while (*p) {
        const char *end = strchr(p, ' ');
        if (!end)
            end = p + strlen(p);
        if (end > p)
            ck_assert_int_ge(rg__token_set_add(ts, p, (size_t)(end - p)), 0);
        p = *end ? end + 1 : end;
    }
}

/* Adds "<prefix><i>" for i in [first, first + n) to ts. */
static void add_range(rg__token_set *ts, const char *prefix, uint32_t first,
                      uint32_t n)
{
    char tok[RG__TOKEN_LEN_MAX + 1];

    for (uint32_t i = first; i < first + n; i++) {
        int len = snprintf(tok, sizeof tok, "%s%u", prefix, i);
        rg_test_assert(rg__token_set_add(ts, tok, (size_t)len) >= 0);
    }
}

/* Adds (dspam, dham) to every token of ts and `totals` to the totals. */
static int apply_same(rg_store *s, const rg__token_set *ts, int64_t dspam,
                      int64_t dham, rg__totals_delta totals)
{
    rg__delta *d = calloc(ts->count + 1, sizeof *d);

    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < ts->count; i++)
        d[i] = (rg__delta){dspam, dham};
    int rc = s->ops->bayes_apply(s, ts, d, totals);
    free(d);
    return rc;
}

/* Learns (sign 1) or unlearns (sign -1) one comment of the listed tokens,
 * failing the test on an error. */
static void teach(rg_store *s, const char *list, bool spam, int sign)
{
    rg__token_set ts;

    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, list);
    int rc = apply_same(
        s, &ts, spam ? sign : 0, spam ? 0 : sign,
        (rg__totals_delta){.spam = spam ? sign : 0, .ham = spam ? 0 : sign});
    ck_assert_msg(rc == RG_OK, "%s: %s", list, rg_err_name(rc));
    rg__token_set_free(&ts);
}

/* Like teach(), but returns the error of a single token's delta. */
static int apply_one(rg_store *s, const char *token, int64_t dspam,
                     int64_t dham, rg__totals_delta totals)
{
    rg__token_set ts;

    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, token);
    int rc = apply_same(s, &ts, dspam, dham, totals);
    rg__token_set_free(&ts);
    return rc;
}

static rg__counts counts_of(rg_store *s, const char *token, rg__totals *t)
{
    rg__token_set ts;
    rg__counts c[1];
    rg__totals totals;

    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, token);
    int rc = s->ops->bayes_lookup(s, &ts, c, &totals);
    ck_assert_msg(rc == RG_OK, "lookup %s: %s", token, rg_err_name(rc));
    rg__token_set_free(&ts);
    if (t)
        *t = totals;
    return c[0];
}

#define ck_counts(s, token, want_spam, want_ham)                               \
    do {                                                                       \
        rg__counts c_ = counts_of((s), (token), NULL);                         \
        ck_assert_msg(c_.spam == (want_spam) && c_.ham == (want_ham),          \
                      "%s: %u, %u; want %u, %u", (token), c_.spam, c_.ham,     \
                      (unsigned)(want_spam), (unsigned)(want_ham));            \
    } while (0)

static rg_bayes_stats stats_of(rg_store *s)
{
    rg_bayes_stats st;

    memset(&st, 0xff, sizeof st);
    ck_assert_int_eq(s->ops->bayes_stats(s, &st), RG_OK);
    return st;
}

#define ck_stats(s, want_spam, want_ham, want_tokens)                          \
    do {                                                                       \
        rg_bayes_stats st_ = stats_of(s);                                      \
        ck_assert_msg(st_.spam_comments == (uint64_t)(want_spam) &&            \
                          st_.ham_comments == (uint64_t)(want_ham) &&          \
                          st_.tokens == (uint64_t)(want_tokens),               \
                      "stats %llu %llu %llu, want %llu %llu %llu",             \
                      (unsigned long long)st_.spam_comments,                   \
                      (unsigned long long)st_.ham_comments,                    \
                      (unsigned long long)st_.tokens,                          \
                      (unsigned long long)(want_spam),                         \
                      (unsigned long long)(want_ham),                          \
                      (unsigned long long)(want_tokens));                      \
    } while (0)

/*
 * Everything the tests can see of a model: the counts of a fixed list of
 * tokens, the totals and the stats. Two snapshots compare equal when a
 * refused apply changed nothing.
 */
#define PROBE_TOKENS "a b c d e f g h new1 new2 zz"
#define PROBE_COUNT  11

struct snapshot {
    rg__counts counts[PROBE_COUNT];
    rg__totals totals;
    rg_bayes_stats stats;
};

static void snap(rg_store *s, struct snapshot *out)
{
    rg__token_set ts;

    memset(out, 0, sizeof *out);
    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, PROBE_TOKENS);
    ck_assert_uint_eq(ts.count, PROBE_COUNT);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, out->counts, &out->totals),
                     RG_OK);
    rg__token_set_free(&ts);
    out->stats = stats_of(s);
}

static void ck_same_snapshot(const struct snapshot *a, const struct snapshot *b)
{
    for (int i = 0; i < PROBE_COUNT; i++)
        ck_assert_msg(a->counts[i].spam == b->counts[i].spam &&
                          a->counts[i].ham == b->counts[i].ham,
                      "probe %d changed", i);
    ck_assert(a->totals.spam == b->totals.spam);
    ck_assert(a->totals.ham == b->totals.ham);
    ck_assert(a->stats.spam_comments == b->stats.spam_comments);
    ck_assert(a->stats.ham_comments == b->stats.ham_comments);
    ck_assert(a->stats.tokens == b->stats.tokens);
}

START_TEST(bayes_empty_model)
{
    rg_store *s = open_backend(_i, 0);
    rg__token_set ts;
    rg__counts c[3];
    rg__totals t = {7, 7, 7, 7};

    ck_stats(s, 0, 0, 0);
    ck_counts(s, "a", 0, 0);
    /* An empty set still gives the totals. */
    rg__token_set_init(&ts, SIZE_MAX);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    ck_assert(t.spam == 0 && t.ham == 0);
    /* An apply of no tokens changes only the totals. */
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 1, (rg__totals_delta){.spam = 2, .ham = 3}),
        RG_OK);
    ck_stats(s, 2, 3, 0);
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 1, (rg__totals_delta){.spam = -2, .ham = -3}),
        RG_OK);
    ck_stats(s, 0, 0, 0);
    /* A zero delta for a token the model lacks adds nothing. */
    add_list(&ts, "x y z");
    ck_assert_int_eq(
        apply_same(s, &ts, 0, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_OK);
    ck_stats(s, 0, 0, 0);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    for (int i = 0; i < 3; i++)
        ck_assert(c[i].spam == 0 && c[i].ham == 0);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

START_TEST(bayes_apply_then_lookup)
{
    rg_store *s = open_backend(_i, 0);
    rg__token_set ts;
    rg__counts c[6];
    rg__totals t;

    teach(s, "a b c", true, 1);
    teach(s, "b c d", false, 1);
    teach(s, "c", false, 1);

    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, "a b c d e");
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    ck_assert(c[0].spam == 1 && c[0].ham == 0);
    ck_assert(c[1].spam == 1 && c[1].ham == 1);
    ck_assert(c[2].spam == 1 && c[2].ham == 2);
    ck_assert(c[3].spam == 0 && c[3].ham == 1);
    ck_assert(c[4].spam == 0 && c[4].ham == 0);
    ck_assert(t.spam == 1 && t.ham == 2);
    ck_stats(s, 1, 2, 4);

    /* Per-token deltas differ within one apply, and the totals are the
     * caller's, not derived from the tokens. */
    rg__token_set_clear(&ts);
    add_list(&ts, "a e");
    rg__delta d[2] = {{5, 7}, {0, 3}};
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, d, (rg__totals_delta){.spam = 10, .ham = 20}),
                     RG_OK);
    ck_counts(s, "a", 6, 7);
    ck_counts(s, "e", 0, 3);
    ck_stats(s, 11, 22, 5);

    /* Tokens are bytes: case, NUL-free binary and 64-byte tokens are kept
     * apart exactly. */
    rg__token_set_clear(&ts);
    char long_tok[RG__TOKEN_LEN_MAX];
    memset(long_tok, 'q', sizeof long_tok);
    ck_assert_int_ge(rg__token_set_add(&ts, long_tok, sizeof long_tok), 0);
    long_tok[63] = 'r';
    ck_assert_int_ge(rg__token_set_add(&ts, long_tok, sizeof long_tok), 0);
    ck_assert_int_ge(rg__token_set_add(&ts, "\xff\x01", 2), 0);
    ck_assert_int_ge(rg__token_set_add(&ts, "A", 1), 0);
    rg__delta d4[4] = {{1, 0}, {2, 0}, {3, 0}, {4, 0}};
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, d4, (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_OK);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(c[i].spam, (unsigned)i + 1);
    ck_counts(s, "a", 6, 7);
    ck_stats(s, 11, 22, 9);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

/* Learn then unlearn leaves the model exactly as it was: tokens that drop
 * to 0, 0 are removed, so even the token count comes back. */
START_TEST(bayes_unlearn_restores)
{
    rg_store *s = open_backend(_i, 0);
    struct snapshot before, after;

    teach(s, "a b c", true, 1);
    teach(s, "c d", false, 1);
    snap(s, &before);
    ck_assert_uint_eq(before.stats.tokens, 4);

    teach(s, "a new1 new2 h", true, 1);
    teach(s, "c new1 zz", false, 1);
    ck_stats(s, 2, 2, 8);
    teach(s, "c new1 zz", false, -1);
    teach(s, "a new1 new2 h", true, -1);
    snap(s, &after);
    ck_same_snapshot(&before, &after);

    /* Unlearning everything empties the model. */
    teach(s, "c d", false, -1);
    teach(s, "a b c", true, -1);
    ck_stats(s, 0, 0, 0);
    ck_counts(s, "c", 0, 0);

    /* Moving a comment from ham to spam. */
    teach(s, "m n", false, 1);
    teach(s, "m n", false, -1);
    teach(s, "m n", true, 1);
    ck_counts(s, "m", 1, 0);
    ck_stats(s, 1, 0, 2);
    rg_store_close(s);
}
END_TEST

/* A count that would drop below zero refuses the whole apply. */
START_TEST(bayes_not_learned)
{
    rg_store *s = open_backend(_i, 0);
    rg__token_set ts;
    struct snapshot before, after;

    teach(s, "a b c", true, 1);
    teach(s, "b", false, 1);
    snap(s, &before);

    /* Never learned at all. */
    ck_assert_int_eq(
        apply_one(s, "zz", -1, 0, (rg__totals_delta){.spam = -1, .ham = 0}),
        RG_ENOTLEARNED);
    /* Learned as spam, unlearned as ham. */
    ck_assert_int_eq(
        apply_one(s, "a", 0, -1, (rg__totals_delta){.spam = 0, .ham = -1}),
        RG_ENOTLEARNED);
    /* One bad token among good ones, first and last in the set. */
    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, "new1 a b c");
    rg__delta d[4] = {{0, -1}, {-1, 0}, {-1, 0}, {-1, 0}};
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, d, (rg__totals_delta){.spam = -1, .ham = 0}),
                     RG_ENOTLEARNED);
    d[0] = (rg__delta){1, 0};
    d[3] = (rg__delta){-2, 0};
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, d, (rg__totals_delta){.spam = -1, .ham = 0}),
                     RG_ENOTLEARNED);
    /* Tokens fine, totals below zero. */
    d[3] = (rg__delta){-1, 0};
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, d, (rg__totals_delta){.spam = -2, .ham = 0}),
                     RG_ENOTLEARNED);
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, d, (rg__totals_delta){.spam = 0, .ham = -2}),
                     RG_ENOTLEARNED);
    /* The most negative delta does not wrap around. */
    ck_assert_int_eq(apply_one(s, "a", INT64_MIN, 0,
                               (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_ENOTLEARNED);
    ck_assert_int_eq(apply_one(s, "a", 0, 0,
                               (rg__totals_delta){.spam = INT64_MIN, .ham = 0}),
                     RG_ENOTLEARNED);
    /* Below zero outranks out of range in the same apply. */
    d[0] = (rg__delta){INT64_MAX, 0};
    d[3] = (rg__delta){-5, 0};
    ck_assert_int_eq(
        s->ops->bayes_apply(s, &ts, d, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_ENOTLEARNED);
    snap(s, &after);
    ck_same_snapshot(&before, &after);

    /* The same apply without the bad token goes through. */
    d[0] = (rg__delta){1, 0};
    d[3] = (rg__delta){-1, 0};
    ck_assert_int_eq(
        s->ops->bayes_apply(s, &ts, d, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_OK);
    ck_counts(s, "new1", 1, 0);
    ck_counts(s, "a", 0, 0);
    ck_counts(s, "b", 0, 1);
    ck_counts(s, "c", 0, 0);
    ck_stats(s, 1, 1, 2);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

/* Counts stop at UINT32_MAX and totals at INT64_MAX. */
START_TEST(bayes_range)
{
    rg_store *s = open_backend(_i, 0);
    struct snapshot before, after;

    ck_assert_int_eq(apply_one(s, "a", UINT32_MAX, 0,
                               (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_OK);
    ck_assert_int_eq(apply_one(s, "b", 0, UINT32_MAX - 1,
                               (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_OK);
    ck_assert_int_eq(apply_one(s, "c", 0, 0,
                               (rg__totals_delta){.spam = INT64_MAX, .ham = 5}),
                     RG_OK);
    ck_counts(s, "a", UINT32_MAX, 0);
    ck_counts(s, "b", 0, UINT32_MAX - 1);
    snap(s, &before);
    ck_assert(before.totals.spam == INT64_MAX && before.totals.ham == 5);

    ck_assert_int_eq(
        apply_one(s, "a", 1, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_ERANGE);
    ck_assert_int_eq(
        apply_one(s, "b", 0, 2, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_ERANGE);
    ck_assert_int_eq(apply_one(s, "d", INT64_MAX, 0,
                               (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_ERANGE);
    ck_assert_int_eq(apply_one(s, "d", (int64_t)UINT32_MAX + 1, 0,
                               (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_ERANGE);
    ck_assert_int_eq(
        apply_one(s, "d", 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_ERANGE);
    ck_assert_int_eq(apply_one(s, "d", 1, 0,
                               (rg__totals_delta){.spam = 0, .ham = INT64_MAX}),
                     RG_ERANGE);
    snap(s, &after);
    ck_same_snapshot(&before, &after);

    /* At the bound, a step back and forth is fine. */
    ck_assert_int_eq(
        apply_one(s, "b", 0, 1, (rg__totals_delta){.spam = -1, .ham = 0}),
        RG_OK);
    ck_counts(s, "b", 0, UINT32_MAX);
    ck_assert_int_eq(
        apply_one(s, "a", -1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_OK);
    ck_counts(s, "a", UINT32_MAX - 1, 0);
    rg_store_close(s);
}
END_TEST

/* One apply of many tokens, and its exact undoing. */
#define BIG_BATCH 20000

START_TEST(bayes_large_batch)
{
    rg_store *s = open_backend(_i, 0);
    rg__token_set ts;
    rg__counts *c = calloc(BIG_BATCH, sizeof *c);
    rg__totals t;

    ck_assert_ptr_nonnull(c);
    rg__token_set_init(&ts, SIZE_MAX);
    add_range(&ts, "big-", 0, BIG_BATCH);
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 2, (rg__totals_delta){.spam = 1, .ham = 1}),
        RG_OK);
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_OK);
    ck_stats(s, 2, 1, BIG_BATCH);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    for (size_t i = 0; i < BIG_BATCH; i++)
        rg_test_assert(c[i].spam == 2 && c[i].ham == 2);
    ck_assert_int_eq(
        apply_same(s, &ts, -2, -2, (rg__totals_delta){.spam = -2, .ham = -1}),
        RG_OK);
    ck_stats(s, 0, 0, 0);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    for (size_t i = 0; i < BIG_BATCH; i++)
        rg_test_assert(c[i].spam == 0 && c[i].ham == 0);
    rg__token_set_free(&ts);
    free(c);
    rg_store_close(s);
}
END_TEST

/*
 * Random applies against a reference model: a small pool of tokens, deltas
 * that often go below zero, now and then a huge one that passes the top,
 * and (with a token limit) a model that is often full. Every outcome and
 * every count must match. For sqlite:, a second handle also reads the file
 * now and then, so the first handle's cache cannot drift from the file
 * unnoticed.
 */
#define RMODEL_TOKENS 24
#define RMODEL_LIMIT  10

static int ref_add(uint64_t old, int64_t d, uint64_t max, uint64_t *out)
{
    /* |d| without overflow, even for INT64_MIN. */
    uint64_t mag = d < 0 ? (uint64_t)(-(d + 1)) + 1 : (uint64_t)d;

    if (d < 0 && mag > old)
        return RG_ENOTLEARNED;
    if (d > 0 && mag > max - old)
        return RG_ERANGE;
    *out = d < 0 ? old - mag : old + mag;
    return RG_OK;
}

static int ref_worse(int a, int b)
{
    static const int order[] = {RG_OK, RG_ERANGE, RG_EFULL, RG_ENOTLEARNED};
    int ra = 0, rb = 0;
    for (int k = 0; k < 4; k++) {
        if (order[k] == a)
            ra = k;
        if (order[k] == b)
            rb = k;
    }
    return rb > ra ? b : a;
}

START_TEST(bayes_random_model)
{
    const bool bounded = _i == MEMORY;
    const int steps = _i == MEMORY ? 10000 : 2000;
    rg_store *s, *check = NULL;
    uint64_t spam[RMODEL_TOKENS] = {0}, ham[RMODEL_TOKENS] = {0};
    uint64_t tspam = 0, tham = 0, state = 7;
    int outcomes[4] = {0};
    rg__token_set pool, ts;
    rg__counts c[RMODEL_TOKENS];
    rg__delta d[RMODEL_TOKENS];
    uint32_t idx[RMODEL_TOKENS];
    rg__totals t;

    if (bounded) {
        char url[64];
        snprintf(url, sizeof url, "memory:?tokens=%d", RMODEL_LIMIT);
        s = open_url(url);
    } else {
        s = open_backend(_i, 0);
        check = open_backend(_i, 0);
    }
    rg__token_set_init(&pool, SIZE_MAX);
    add_range(&pool, "r", 0, RMODEL_TOKENS);
    rg__token_set_init(&ts, SIZE_MAX);

    for (int step = 0; step < steps; step++) {
        rg__token_set_clear(&ts);
        size_t n = 0;
        for (uint32_t k = 0; k < RMODEL_TOKENS; k++) {
            uint64_t r = next_random(&state);
            if (r % 5 != 0)
                continue;
            size_t len;
            const char *tok = rg__token_set_get(&pool, k, &len);
            rg_test_assert(rg__token_set_add(&ts, tok, len) >= 0);
            idx[n] = k;
            /* Mostly small steps up; some down, which often go below
             * zero; some that take a token exactly back to 0, 0; a few
             * huge ones that pass the top. */
            unsigned mode = (unsigned)((r >> 8) % 8);
            int64_t ds = 0, dh = 0;
            if (mode < 5) {
                ds = (int64_t)((r >> 16) % 3);
                dh = (int64_t)((r >> 20) % 3);
            } else if (mode == 5 && (r >> 24) % 2) {
                ds = -(int64_t)((r >> 16) % 2 + 1);
            } else if (mode == 5) {
                dh = -(int64_t)((r >> 20) % 2 + 1);
            } else if (mode == 6) {
                ds = -(int64_t)spam[k];
                dh = -(int64_t)ham[k];
            } else {
                ds = (r >> 28) % 4 == 0 ? (int64_t)1 << 31 : 1;
            }
            d[n++] = (rg__delta){ds, dh};
        }
        uint64_t r = next_random(&state);
        rg__totals_delta dt = {(int64_t)(r % 4) - 1,
                               (int64_t)((r >> 8) % 4) - 1, 0, 0};

        /* The reference outcome. */
        uint64_t ns[RMODEL_TOKENS], nh[RMODEL_TOKENS], nts = 0, nth = 0;
        int want = ref_worse(ref_add(tspam, dt.spam, INT64_MAX, &nts),
                             ref_add(tham, dt.ham, INT64_MAX, &nth));
        for (size_t j = 0; j < n; j++) {
            uint32_t k = idx[j];
            ns[j] = spam[k];
            nh[j] = ham[k];
            want = ref_worse(want,
                             ref_add(spam[k], d[j].spam, UINT32_MAX, &ns[j]));
            want =
                ref_worse(want, ref_add(ham[k], d[j].ham, UINT32_MAX, &nh[j]));
        }
        if (want == RG_OK || want == RG_ERANGE) {
            size_t after = 0;
            for (uint32_t k = 0; k < RMODEL_TOKENS; k++) {
                bool present = spam[k] || ham[k];
                for (size_t j = 0; j < n; j++)
                    if (idx[j] == k)
                        present = ns[j] || nh[j];
                after += present;
            }
            if (bounded && after > RMODEL_LIMIT)
                want = ref_worse(want, RG_EFULL);
        }

        int rc = s->ops->bayes_apply(s, &ts, d, dt);
        ck_assert_msg(rc == want, "step %d: %s, want %s", step, rg_err_name(rc),
                      rg_err_name(want));
        outcomes[want == RG_OK       ? 0
                 : want == RG_ERANGE ? 1
                 : want == RG_EFULL  ? 2
                                     : 3]++;
        if (rc == RG_OK) {
            for (size_t j = 0; j < n; j++) {
                spam[idx[j]] = ns[j];
                ham[idx[j]] = nh[j];
            }
            tspam = nts;
            tham = nth;
        }

        rg_store *reader = check && step % 50 == 0 ? check : s;
        ck_assert_int_eq(reader->ops->bayes_lookup(reader, &pool, c, &t),
                         RG_OK);
        uint64_t present = 0;
        for (uint32_t k = 0; k < RMODEL_TOKENS; k++) {
            rg_test_assert_msg(c[k].spam == spam[k] && c[k].ham == ham[k],
                               "step %d token %u: %u %u, want %llu %llu", step,
                               k, c[k].spam, c[k].ham,
                               (unsigned long long)spam[k],
                               (unsigned long long)ham[k]);
            present += spam[k] || ham[k];
        }
        ck_assert(t.spam == tspam && t.ham == tham);
        ck_stats(reader, tspam, tham, present);
    }
    /* The walk did reach every outcome it can. */
    ck_assert_int_gt(outcomes[0], steps / 10);
    ck_assert_int_gt(outcomes[1], 5);
    ck_assert_int_gt(outcomes[3], steps / 10);
    if (bounded)
        ck_assert_int_gt(outcomes[2], 20);
    rg__token_set_free(&pool);
    rg__token_set_free(&ts);
    rg_store_close(check);
    rg_store_close(s);
}
END_TEST

/*
 * Readers classify while a writer trains, all through one handle. Every
 * apply adds one spam comment with all the tokens, so a consistent lookup
 * sees every count equal to the spam total.
 */
#define BAYES_READERS 4
#define BAYES_ROUNDS  300
#define BAYES_TOKENS  64

struct bayes_thread {
    rg_store *store;
    const rg__token_set *ts;
    atomic_bool *done;
    int fails, torn, lookups;
};

static void *bayes_reader(void *arg)
{
    struct bayes_thread *th = arg;
    rg__counts c[BAYES_TOKENS];
    rg__totals t;

    do {
        if (th->store->ops->bayes_lookup(th->store, th->ts, c, &t) != RG_OK) {
            th->fails++;
            continue;
        }
        th->lookups++;
        for (int k = 0; k < BAYES_TOKENS; k++)
            if (c[k].spam != t.spam || c[k].ham != 0)
                th->torn++;
    } while (!atomic_load(th->done));
    return NULL;
}

static void *bayes_writer(void *arg)
{
    struct bayes_thread *th = arg;
    rg__delta d[BAYES_TOKENS];

    for (int k = 0; k < BAYES_TOKENS; k++)
        d[k] = (rg__delta){1, 0};
    for (int r = 0; r < BAYES_ROUNDS; r++)
        if (th->store->ops->bayes_apply(
                th->store, th->ts, d,
                (rg__totals_delta){.spam = 1, .ham = 0}) != RG_OK)
            th->fails++;
    atomic_store(th->done, true);
    return NULL;
}

START_TEST(bayes_threads)
{
    rg_store *s = open_backend(_i, 0);
    static struct bayes_thread th[BAYES_READERS + 1];
    pthread_t tid[BAYES_READERS + 1];
    atomic_bool done = false;
    rg__token_set ts;

    rg__token_set_init(&ts, SIZE_MAX);
    add_range(&ts, "t", 0, BAYES_TOKENS);
    for (int i = 0; i <= BAYES_READERS; i++) {
        th[i] = (struct bayes_thread){.store = s, .ts = &ts, .done = &done};
        ck_assert_int_eq(pthread_create(&tid[i], NULL,
                                        i == 0 ? bayes_writer : bayes_reader,
                                        &th[i]),
                         0);
    }
    for (int i = 0; i <= BAYES_READERS; i++)
        ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i <= BAYES_READERS; i++) {
        ck_assert_int_eq(th[i].fails, 0);
        ck_assert_int_eq(th[i].torn, 0);
    }
    for (int i = 1; i <= BAYES_READERS; i++)
        ck_assert_int_gt(th[i].lookups, 0);
    ck_stats(s, BAYES_ROUNDS, 0, BAYES_TOKENS);
    ck_counts(s, "t0", BAYES_ROUNDS, 0);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

/* ---- The spam model of memory: ---- */

START_TEST(memory_bayes_token_limit)
{
    rg_store *s = open_url("memory:?tokens=3");
    struct snapshot before, after;

    teach(s, "a b", true, 1);
    teach(s, "c", false, 1);
    snap(s, &before);
    ck_assert_uint_eq(before.stats.tokens, 3);

    /* A fourth token does not fit, alone or with known ones. */
    ck_assert_int_eq(
        apply_one(s, "d", 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_EFULL);
    rg__token_set ts;
    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, "a b c d");
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_EFULL);
    /* A full model outranks a count out of range, and a count below zero
     * outranks a full model. */
    rg__delta d[4] = {{UINT32_MAX, 0}, {0, 0}, {0, 0}, {1, 0}};
    ck_assert_int_eq(
        s->ops->bayes_apply(s, &ts, d, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_EFULL);
    d[1] = (rg__delta){-2, 0};
    ck_assert_int_eq(
        s->ops->bayes_apply(s, &ts, d, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_ENOTLEARNED);
    snap(s, &after);
    ck_same_snapshot(&before, &after);
    /* Known tokens still learn when full. */
    ck_assert_int_eq(
        apply_one(s, "a", 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_OK);
    ck_counts(s, "a", 2, 0);

    /* A token that leaves makes room for one that arrives, in the same
     * apply. */
    rg__delta swap[4] = {{0, 0}, {0, 0}, {0, -1}, {0, 1}};
    ck_assert_int_eq(s->ops->bayes_apply(
                         s, &ts, swap, (rg__totals_delta){.spam = 0, .ham = 0}),
                     RG_OK);
    ck_counts(s, "c", 0, 0);
    ck_counts(s, "d", 0, 1);
    ck_stats(s, 2, 1, 3);
    rg__token_set_free(&ts);
    rg_store_close(s);

    /* The smallest model. */
    s = open_url("memory:?tokens=1");
    teach(s, "x", true, 1);
    ck_assert_int_eq(
        apply_one(s, "y", 0, 1, (rg__totals_delta){.spam = 0, .ham = 1}),
        RG_EFULL);
    teach(s, "x", true, -1);
    teach(s, "y", false, 1);
    ck_stats(s, 0, 1, 1);
    rg_store_close(s);
}
END_TEST

/* The model grows to its limit in many steps, and no further. */
#define GROW_LIMIT 20000

START_TEST(memory_bayes_grows_to_limit)
{
    rg_store *s = open_url("memory:?tokens=20000");
    rg__counts *c = calloc(GROW_LIMIT, sizeof *c);
    rg__token_set ts;
    rg__totals t;

    ck_assert_ptr_nonnull(c);
    rg__token_set_init(&ts, SIZE_MAX);
    for (uint32_t i = 0; i < GROW_LIMIT; i += 500) {
        rg__token_set_clear(&ts);
        add_range(&ts, "g", i, 500);
        ck_assert_int_eq(
            apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
            RG_OK);
    }
    ck_stats(s, GROW_LIMIT / 500, 0, GROW_LIMIT);
    ck_assert_int_eq(
        apply_one(s, "g20000", 1, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_EFULL);
    /* Everything is still there. */
    rg__token_set_clear(&ts);
    add_range(&ts, "g", 0, GROW_LIMIT);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
    for (size_t i = 0; i < GROW_LIMIT; i++)
        rg_test_assert(c[i].spam == 1 && c[i].ham == 0);
    /* Removing and adding different tokens over and over keeps working
     * (the arena of token bytes is compacted as it goes). */
    for (uint32_t round = 0; round < 6; round++) {
        rg__token_set_clear(&ts);
        add_range(&ts, round % 2 ? "h" : "g", 0, GROW_LIMIT);
        ck_assert_int_eq(
            apply_same(s, &ts, -1, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
            RG_OK);
        ck_stats(s, GROW_LIMIT / 500, 0, 0);
        rg__token_set_clear(&ts);
        add_range(&ts, round % 2 ? "g" : "h", 0, GROW_LIMIT);
        ck_assert_int_eq(
            apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
            RG_OK);
        ck_stats(s, GROW_LIMIT / 500, 0, GROW_LIMIT);
    }
    ck_counts(s, "g19999", 1, 0);
    ck_counts(s, "h0", 0, 0);
    free(c);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

/* The virtual memory of this process, in bytes. */
static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Runs an apply with only `headroom` more bytes of address space. */
static int apply_within(rg_store *s, const rg__token_set *ts,
                        const rg__delta *d, rg__totals_delta totals,
                        rlim_t headroom)
{
    struct rlimit old, lim;

    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = vm_size() + headroom;
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    int rc = s->ops->bayes_apply(s, ts, d, totals);
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
    return rc;
}

/*
 * An apply that cannot get memory changes nothing: for either backend
 * when its list of changes does not fit, and for memory: also when the
 * table of slots for its new tokens does not.
 */
START_TEST(bayes_out_of_memory)
{
    if (UNDER_SANITIZER || rg_test_under_valgrind())
        return;
    rg_store *s =
        _i == MEMORY ? open_url("memory:?tokens=1000000") : open_backend(_i, 0);
    struct snapshot before, after;
    rg__token_set ts;

    teach(s, "a b c", true, 1);
    snap(s, &before);
    rg__token_set_init(&ts, SIZE_MAX);
    /* With the 3 tokens already there, one more than fit in 2^18 slots at
     * three quarters full. */
    add_range(&ts, "oom-", 0, 196606);
    rg__delta *d = calloc(ts.count, sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < ts.count; i++)
        d[i] = (rg__delta){1, 0};

    /* The list of changes takes 12 to 16 bytes a token: 2.4 to 3.1 MB. */
    ck_assert_int_eq(apply_within(s, &ts, d,
                                  (rg__totals_delta){.spam = 1, .ham = 0},
                                  1 << 20),
                     RG_ENOMEM);
    snap(s, &after);
    ck_same_snapshot(&before, &after);
    if (_i == MEMORY) {
        /* The list fits; the table of 2^19 slots of 16 bytes (8 MB) does
         * not. */
        ck_assert_int_eq(apply_within(s, &ts, d,
                                      (rg__totals_delta){.spam = 1, .ham = 0},
                                      (rlim_t)13 << 19),
                         RG_ENOMEM);
        snap(s, &after);
        ck_same_snapshot(&before, &after);
    }

    if (_i == SQLITE) {
        /* A lookup too big for its scratch on a fresh handle fails with
         * RG_ENOMEM, and the handle works on. */
        rg_store_close(s);
        s = open_backend(SQLITE, 0);
        rg__counts *c = calloc(ts.count, sizeof *c);
        rg__totals t;
        struct rlimit old, lim;
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
        lim = old;
        /* The free top of the heap goes back to the system first: the
         * scratch (256 KB) must need new address space, not come from
         * memory the closed handle left free, however much that was. */
        malloc_trim(0);
        lim.rlim_cur = vm_size() + (64 << 10);
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
        int rc = s->ops->bayes_lookup(s, &ts, c, &t);
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
        ck_assert_int_eq(rc, RG_ENOMEM);
        ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
        ck_assert_uint_eq(c[0].spam, 0);
        free(c);
    }
    ck_assert_int_eq(
        s->ops->bayes_apply(s, &ts, d, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_OK);
    free(d);
    ck_stats(s, 2, 0, 196609);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

/* capacity= and tokens= each bound their own table. */
START_TEST(memory_both_limits)
{
    static const char *const urls[] = {
        "memory:?capacity=2&tokens=3",
        "memory:?tokens=3&capacity=2",
    };

    for (size_t u = 0; u < 2; u++) {
        rg_store *s = open_url(urls[u]);
        bool fresh;
        ck_assert(spend(s, 1, T0 + 10, T0));
        ck_assert(spend(s, 2, T0 + 10, T0));
        ck_assert_int_eq(spend_rc(s, 3, T0 + 10, T0, &fresh), RG_EFULL);
        teach(s, "a b c", true, 1);
        ck_assert_int_eq(
            apply_one(s, "d", 1, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
            RG_EFULL);
        rg_store_close(s);
    }
}
END_TEST

/* ---- Count maps (the memory: model and the sqlite: cache) ---- */

static uint64_t map_put(rg__count_map *m, const char *tok, uint32_t spam)
{
    size_t len = strlen(tok);
    uint64_t h = rg__token_hash(tok, len);

    if (!rg__count_map_put(m, h, tok, len, (rg__counts){spam, 0})) {
        ck_assert_int_eq(rg__count_map_reserve(m, m->count + 1, len + 1),
                         RG_OK);
        ck_assert(rg__count_map_put(m, h, tok, len, (rg__counts){spam, 0}));
    }
    return h;
}

static bool map_get(const rg__count_map *m, const char *tok, uint32_t *spam)
{
    size_t len = strlen(tok);
    rg__counts c;

    if (!rg__count_map_get(m, rg__token_hash(tok, len), tok, len, &c))
        return false;
    *spam = c.spam;
    return true;
}

START_TEST(count_map_basics)
{
    rg__count_map m;
    char tok[32];
    uint32_t v;

    rg__count_map_init(&m, 5000);
    /* Nothing is allocated before the first reserve, and a put without
     * room fails cleanly. */
    ck_assert_uint_eq(rg__count_map_bytes(&m), 0);
    ck_assert(!map_get(&m, "a", &v));
    ck_assert(!rg__count_map_put(&m, rg__token_hash("a", 1), "a", 1,
                                 (rg__counts){1, 0}));
    rg__count_map_remove(&m, rg__token_hash("a", 1), "a", 1);
    ck_assert_uint_eq(m.count, 0);

    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(tok, sizeof tok, "k%u", i);
        map_put(&m, tok, i + 1);
    }
    ck_assert_uint_eq(m.count, 5000);
    /* No room beyond the limit. */
    ck_assert_int_eq(rg__count_map_reserve(&m, 5001, 8), RG_EFULL);
    ck_assert(!rg__count_map_put(&m, rg__token_hash("x", 1), "x", 1,
                                 (rg__counts){1, 0}));
    /* An update needs no room. */
    ck_assert(rg__count_map_put(&m, rg__token_hash("k7", 2), "k7", 2,
                                (rg__counts){99, 0}));
    ck_assert(map_get(&m, "k7", &v) && v == 99);

    /* Remove every other key: the rest stay findable after the clusters
     * shift back. */
    for (uint32_t i = 0; i < 5000; i += 2) {
        snprintf(tok, sizeof tok, "k%u", i);
        rg__count_map_remove(&m, rg__token_hash(tok, strlen(tok)), tok,
                             strlen(tok));
    }
    ck_assert_uint_eq(m.count, 2500);
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(tok, sizeof tok, "k%u", i);
        bool has = map_get(&m, tok, &v);
        ck_assert_msg(has == (i % 2 == 1), "k%u", i);
        if (has && i != 7)
            ck_assert_uint_eq(v, i + 1);
    }

    /* Churn: the arena of key bytes is compacted, so memory stays flat. */
    for (uint32_t round = 0; round < 200; round++) {
        for (uint32_t i = 0; i < 1000; i++) {
            snprintf(tok, sizeof tok, "churn-%u-%u", round, i);
            map_put(&m, tok, 1);
        }
        for (uint32_t i = 0; i < 1000; i++) {
            snprintf(tok, sizeof tok, "churn-%u-%u", round, i);
            rg__count_map_remove(&m, rg__token_hash(tok, strlen(tok)), tok,
                                 strlen(tok));
        }
    }
    ck_assert_uint_eq(m.count, 2500);
    /* Without compaction the dead bytes alone would pass 2 MB. */
    ck_assert_uint_le(rg__count_map_bytes(&m),
                      8192 * sizeof(rg__count_slot) + 128 * 1024);
    ck_assert(m.keys_dead <= m.keys_len);
    ck_assert(map_get(&m, "k4999", &v) && v == 5000);

    rg__count_map_clear(&m);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(!map_get(&m, "k1", &v));
    map_put(&m, "k1", 5);
    ck_assert(map_get(&m, "k1", &v) && v == 5);
    rg__count_map_free(&m);
}
END_TEST

START_TEST(count_checks)
{
    uint32_t c = 7;
    uint64_t t = 7;

    ck_assert_int_eq(rg__count_add(0, 0, &c), RG_OK);
    ck_assert_uint_eq(c, 0);
    ck_assert_int_eq(rg__count_add(5, -5, &c), RG_OK);
    ck_assert_uint_eq(c, 0);
    ck_assert_int_eq(rg__count_add(5, -6, &c), RG_ENOTLEARNED);
    ck_assert_int_eq(rg__count_add(UINT32_MAX, INT64_MIN, &c), RG_ENOTLEARNED);
    ck_assert_int_eq(rg__count_add(0, UINT32_MAX, &c), RG_OK);
    ck_assert_uint_eq(c, UINT32_MAX);
    ck_assert_int_eq(rg__count_add(1, UINT32_MAX, &c), RG_ERANGE);
    ck_assert_int_eq(rg__count_add(UINT32_MAX, INT64_MAX, &c), RG_ERANGE);
    ck_assert_int_eq(rg__total_add(0, INT64_MAX, &t), RG_OK);
    ck_assert(t == INT64_MAX);
    ck_assert_int_eq(rg__total_add(INT64_MAX, 1, &t), RG_ERANGE);
    ck_assert_int_eq(rg__total_add((uint64_t)INT64_MAX + 1, 0, &t), RG_ERANGE);
    ck_assert_int_eq(rg__total_add(INT64_MAX, INT64_MIN, &t), RG_ENOTLEARNED);
    ck_assert_int_eq(rg__total_add(INT64_MAX, -INT64_MAX, &t), RG_OK);
    ck_assert(t == 0);
    ck_assert_int_eq(rg__apply_error(RG_OK, RG_ERANGE), RG_ERANGE);
    ck_assert_int_eq(rg__apply_error(RG_EFULL, RG_ERANGE), RG_EFULL);
    ck_assert_int_eq(rg__apply_error(RG_EFULL, RG_ENOTLEARNED), RG_ENOTLEARNED);
    ck_assert_int_eq(rg__apply_error(RG_ENOTLEARNED, RG_ESTORE), RG_ESTORE);
}
END_TEST

/* ---- URLs ---- */

#define SQLITE_RESULT (RG_HAVE_SQLITE ? RG_OK : RG_ENOSUPPORT)
/* A well-formed redis: URL with no server behind it, and a malformed one;
 * without hiredis both are a feature this build lacks. */
#define REDIS_DOWN (RG_HAVE_REDIS ? RG_ESTORE : RG_ENOSUPPORT)
#define REDIS_BAD  (RG_HAVE_REDIS ? RG_EURL : RG_ENOSUPPORT)

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
    {"memory:?tokens=1", RG_OK},
    {"memory:?tokens=100000000", RG_OK},
    {"memory:?tokens=0042", RG_OK},
    {"memory:?capacity=5&tokens=7", RG_OK},
    {"memory:?tokens=7&capacity=5", RG_OK},
    {"memory:?tokens=0", RG_EURL},
    {"memory:?tokens=100000001", RG_EURL},
    {"memory:?tokens=18446744073709551616", RG_EURL},
    {"memory:?tokens=", RG_EURL},
    {"memory:?tokens", RG_EURL},
    {"memory:?tokens=-1", RG_EURL},
    {"memory:?tokens=+1", RG_EURL},
    {"memory:?tokens=1x", RG_EURL},
    {"memory:?tokens= 1", RG_EURL},
    {"memory:?TOKENS=1", RG_EURL},
    {"memory:?token=1", RG_EURL},
    {"memory:?tokensx=1", RG_EURL},
    {"memory:?tokens=1&tokens=2", RG_EURL},
    {"memory:?tokens=1&capacity=2&tokens=3", RG_EURL},
    {"memory:?capacity=1&tokens=2&capacity=3", RG_EURL},
    {"memory:?tokens=1&", RG_EURL},
    {"memory:?tokens=1&&capacity=1", RG_EURL},
    {"memory:?tokens=1&capacity", RG_EURL},
    {"memory:?tokens=1=2", RG_EURL},
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
    /* Port 1 on loopback: nothing listens there, the connection is
     * refused at once. */
    {"redis://127.0.0.1:1", REDIS_DOWN},
    {"REDIS://127.0.0.1:1/0?prefix=site-1&timeout_ms=200", REDIS_DOWN},
    {"redis://[::1]:1/2", REDIS_DOWN},
    {"unix:///nonexistent/redis.sock?db=1", REDIS_DOWN},
    {"unix:/nonexistent/redis.sock", REDIS_DOWN},
    {"redis://", REDIS_BAD},
    {"redis://:6379", REDIS_BAD},
    {"redis://h:0", REDIS_BAD},
    {"redis://h:65536", REDIS_BAD},
    {"redis://h:63x79", REDIS_BAD},
    {"redis://h/x", REDIS_BAD},
    {"redis://h/-1", REDIS_BAD},
    {"redis://user:secret@h", REDIS_BAD},
    {"redis://[::1", REDIS_BAD},
    {"redis://h?prefix=", REDIS_BAD},
    {"redis://h?prefix=a%20b", REDIS_BAD},
    {"redis://h?prefix=x&prefix=y", REDIS_BAD},
    {"redis://h?timeout_ms=0", REDIS_BAD},
    {"redis://h?timeout_ms=60001", REDIS_BAD},
    {"redis://h?db=1", REDIS_BAD},
    {"redis://h?other=1", REDIS_BAD},
    {"redis://h?", REDIS_BAD},
    {"redis://h?prefix=a&", REDIS_BAD},
    {"unix:", REDIS_BAD},
    {"unix:relative.sock", REDIS_BAD},
    {"unix:///s.sock?db=x", REDIS_BAD},
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
        teach(s, "a", true, 1);
        ck_counts(s, "a", 1, 0);
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
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 5);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"), 51);
    ck_assert_int_eq(rg_test_sql_int(path,
                                     "SELECT count(*) FROM pragma_journal_mode"
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
    /* The WAL stays, for the next handle, emptied into the file. */
    ck_assert_int_eq(stat(wal, &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"), 1);
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
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"), 1101);

    /* The first spend purges 1024 rows, and the count of rows it deleted
     * must not be taken for the upsert's: the nonce is still spent. */
    s = open_backend(SQLITE, 0);
    ck_assert(!spend(s, 9999, T0 + 100, T0 + 11));
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"),
                     1101 - 1024);
    for (uint32_t i = 1; i < 256; i++)
        ck_assert(spend(s, 5000 + i, T0 + 100, T0 + 11));
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"),
                     1101 - 1024 + 255);
    /* The 257th spend purges the other 76. */
    ck_assert(spend(s, 6000, T0 + 100, T0 + 11));
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"), 257);
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
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"),
                     PROC_NONCES);
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
        ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"),
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
    rg_test_write_file(path, text, sizeof text - 1);
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    /* The file was left as it was. */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(back, 1, sizeof back, f), sizeof text - 1);
    fclose(f);
    ck_assert(memcmp(back, text, sizeof text - 1) == 0);

    scratch_path(path, "short.db");
    rg_test_write_file(path, "hi", 2);
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
}
END_TEST

START_TEST(sqlite_newer_schema)
{
    char path[PATH_LEN];

    scratch_path(path, "new.db");
    rg_test_sql_exec(path, "PRAGMA user_version = 6");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 6);
    ck_assert_int_eq(
        rg_test_sql_int(path, "SELECT count(*) FROM sqlite_master"), 0);

    /* A table of that name but another layout. */
    scratch_path(path, "foreign.db");
    rg_test_sql_exec(path, "CREATE TABLE spent(x TEXT)");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 0);
    ck_assert_int_eq(
        rg_test_sql_int(path, "SELECT count(*) FROM sqlite_master"), 1);
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
    rg_test_write_file(scratch_path(path, "file"), "x", 1);
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
    rg_test_sql_exec(scratch_path(path, "s.db"), "DROP TABLE spent");
    ck_assert_int_eq(spend_rc(s, 2, T0 + 100, T0, &fresh), RG_ESTORE);
    ck_assert(!fresh);
    rg_store_close(s);

    /* A handle prepares its statements on first use: one that meets the
     * missing table only then fails the same way. */
    s = open_backend(SQLITE, 0);
    fresh = true;
    ck_assert_int_eq(spend_rc(s, 3, T0 + 100, T0, &fresh), RG_ESTORE);
    ck_assert(!fresh);
    rg_store_close(s);
}
END_TEST

/* The same for the model's statements, prepared on first use too. */
START_TEST(sqlite_bayes_statement_fails)
{
    char path[PATH_LEN];
    rg_store *s = open_backend(SQLITE, 0);
    rg__token_set ts;
    rg__counts c[2];
    rg__totals t;
    rg_bayes_stats st;

    teach(s, "a b", true, 1);
    rg_store_close(s);
    rg_test_sql_exec(scratch_path(path, "s.db"), "DROP TABLE bayes_tokens");
    s = open_backend(SQLITE, 0);
    rg__token_set_init(&ts, 16);
    add_list(&ts, "a");
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_ESTORE);
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_ESTORE);
    ck_assert_int_eq(s->ops->bayes_optimize(s), RG_ESTORE);
    /* What the totals alone answer still works. */
    ck_assert_int_eq(s->ops->bayes_stats(s, &st), RG_OK);
    ck_assert_uint_eq(st.spam_comments, 1);
    rg__token_set_free(&ts);
    rg_store_close(s);
}
END_TEST

/* ---- The spam model of sqlite: ---- */

START_TEST(sqlite_bayes_survives_reopen)
{
    char path[PATH_LEN];
    struct snapshot before, after;
    rg_store *s = open_backend(SQLITE, 0);

    teach(s, "a b c", true, 1);
    teach(s, "c d e", false, 1);
    teach(s, "new1 zz", true, 1);
    teach(s, "new1 zz", true, -1);
    snap(s, &before);
    rg_store_close(s);

    s = open_backend(SQLITE, 0);
    snap(s, &after);
    ck_same_snapshot(&before, &after);
    ck_stats(s, 1, 1, 5);
    rg_store_close(s);

    scratch_path(path, "s.db");
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM bayes_tokens"),
                     5);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT tokens FROM bayes_totals"),
                     5);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM bayes_tokens "
                                           "WHERE spam = 0 AND ham = 0"),
                     0);
}
END_TEST

/*
 * Two handles on one file, each with its own cache: what one commits, the
 * other sees at its next lookup, whichever trains, including tokens the
 * reader had cached as absent and the totals.
 */
START_TEST(sqlite_bayes_two_handles)
{
    rg_store *a = open_backend(SQLITE, 0);
    rg_store *b = open_backend(SQLITE, 0);
    rg__totals t;

    for (int round = 0; round < 3; round++) {
        rg_store *w = round % 2 ? b : a, *r = round % 2 ? a : b;

        /* Warm the reader's cache, absent tokens too. */
        ck_counts(r, "a", (unsigned)round, 0);
        ck_counts(r, "zz", 0, (unsigned)round);
        teach(w, "a", true, 1);
        teach(w, "zz", false, 1);
        counts_of(r, "a", &t);
        ck_assert(t.spam == (unsigned)round + 1 && t.ham == t.spam);
        ck_counts(r, "a", (unsigned)round + 1, 0);
        ck_counts(r, "zz", 0, (unsigned)round + 1);
        ck_stats(r, round + 1, round + 1, 2);
        /* The writer's own cache followed its commit. */
        ck_counts(w, "a", (unsigned)round + 1, 0);
    }
    /* Unlearning is seen too, down to a removed token. */
    ck_counts(b, "zz", 0, 3);
    for (int k = 0; k < 3; k++)
        teach(a, "zz", false, -1);
    ck_counts(b, "zz", 0, 0);
    ck_stats(b, 3, 0, 1);
    rg_store_close(a);
    rg_store_close(b);
}
END_TEST

/* A fresh handle answers a few tokens with point queries and many by
 * reading the whole table; both give the same counts. */
START_TEST(sqlite_bayes_scan_or_query)
{
    rg_store *w = open_backend(SQLITE, 0);
    rg__token_set ts;

    rg__token_set_init(&ts, SIZE_MAX);
    add_range(&ts, "t", 0, 5000);
    ck_assert_int_eq(
        apply_same(w, &ts, 2, 1, (rg__totals_delta){.spam = 2, .ham = 1}),
        RG_OK);
    rg__token_set_free(&ts);

    for (int many = 0; many < 2; many++) {
        rg_store *r = open_backend(SQLITE, 1);
        rg__totals t;
        /* 100 misses query; 1000 are worth a scan (see SCAN_RATIO). */
        uint32_t n = many ? 1000 : 100;
        rg__token_set_init(&ts, SIZE_MAX);
        add_range(&ts, "t", 4950, n); /* the last 50 exist */
        rg__counts *c = calloc(n, sizeof *c);
        ck_assert_int_eq(r->ops->bayes_lookup(r, &ts, c, &t), RG_OK);
        for (uint32_t i = 0; i < n; i++) {
            bool present = 4950 + i < 5000;
            ck_assert_uint_eq(c[i].spam, present ? 2 : 0);
            ck_assert_uint_eq(c[i].ham, present ? 1 : 0);
        }
        ck_assert_uint_eq(t.spam, 2);
        ck_counts(r, "t17", 2, 1);
        ck_counts(r, "absent", 0, 0);
        /* A commit elsewhere is seen, scanned or not. */
        teach(w, "absent", true, 1);
        ck_counts(r, "absent", 1, 0);
        teach(w, "absent", true, -1);
        ck_counts(r, "absent", 0, 0);
        free(c);
        rg__token_set_free(&ts);
        rg_store_close(r);
    }
    rg_store_close(w);
}
END_TEST

/* Another process trains; this one's warm cache notices at once. */
START_TEST(sqlite_bayes_forked_trainer)
{
    char path[PATH_LEN];
    rg_store *s = open_backend(SQLITE, 0);

    scratch_path(path, "s.db");
    teach(s, "a b", true, 1);
    ck_counts(s, "a", 1, 0);
    ck_counts(s, "c", 0, 0);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The parent's handle is not used after fork(): a new one. */
        rg_store *child = NULL;
        char url[PATH_LEN + 16];
        snprintf(url, sizeof url, "sqlite:%s", path);
        if (rg_store_open(&child, url) != RG_OK)
            _exit(2);
        rg__token_set ts;
        rg__token_set_init(&ts, SIZE_MAX);
        if (rg__token_set_add(&ts, "a", 1) < 0 ||
            rg__token_set_add(&ts, "c", 1) < 0)
            _exit(3);
        rg__delta d[2] = {{0, 1}, {0, 1}};
        int rc = child->ops->bayes_apply(
            child, &ts, d, (rg__totals_delta){.spam = 0, .ham = 1});
        rg__token_set_free(&ts);
        rg_store_close(child);
        _exit(rc == RG_OK ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    ck_counts(s, "a", 1, 1);
    ck_counts(s, "b", 1, 0);
    ck_counts(s, "c", 0, 1);
    ck_stats(s, 1, 1, 3);
    rg_store_close(s);
}
END_TEST

/*
 * A training transaction in progress (here another connection's, left
 * open) blocks no reader: lookups answer at once, from the last commit,
 * and see the new state right after the commit. A second trainer waits for
 * the lock for the busy timeout (5 s) and then gives up with RG_ESTORE,
 * changing nothing.
 */
START_TEST(sqlite_bayes_readers_not_blocked)
{
    char path[PATH_LEN];
    sqlite3 *db = NULL;
    rg_store *s = open_backend(SQLITE, 0);

    scratch_path(path, "s.db");
    teach(s, "a", true, 1);
    ck_counts(s, "a", 1, 0);

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "BEGIN IMMEDIATE;"
                                  "UPDATE bayes_tokens SET spam = 5;"
                                  "INSERT INTO bayes_tokens "
                                  "VALUES(CAST('b' AS BLOB), 0, 9);"
                                  "UPDATE bayes_totals SET spam = 5, ham = 9,"
                                  " tokens = 2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    rg_store *other = open_backend(SQLITE, 0);
    ck_counts(other, "a", 1, 0);
    ck_counts(other, "b", 0, 0);
    ck_counts(s, "a", 1, 0);
    ck_stats(s, 1, 0, 1);

    ck_assert_int_eq(
        apply_one(s, "c", 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_ESTORE);
    ck_counts(s, "c", 0, 0);
    ck_stats(s, 1, 0, 1);

    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ck_counts(s, "a", 5, 0);
    ck_counts(s, "b", 0, 9);
    ck_stats(s, 5, 9, 2);
    ck_counts(other, "a", 5, 0);
    teach(s, "c", true, 1);
    ck_stats(other, 6, 9, 3);
    sqlite3_close(db);
    rg_store_close(other);
    rg_store_close(s);
}
END_TEST

/*
 * A trainer killed with SIGKILL at a random moment, mostly inside a long
 * apply: the file opens, passes integrity_check, and holds every batch the
 * child saw committed (it reports each through a pipe once its apply has
 * returned), plus at most the one whose report the kill cut off, and
 * nothing of the batch it was in the middle of. Each round continues on
 * the file the last kill left.
 */
#define KILL_ROUNDS 6
#define KILL_BATCH  3000

static void kill_child(const char *url, uint32_t first, int out)
{
    rg_store *s = NULL;
    rg__token_set ts;
    char tok[32];

    if (rg_store_open(&s, url) != RG_OK)
        _exit(2);
    rg__token_set_init(&ts, SIZE_MAX);
    rg__delta *d = calloc(KILL_BATCH + 1, sizeof *d);
    if (!d)
        _exit(3);
    for (uint32_t b = first;; b++) {
        rg__token_set_clear(&ts);
        if (rg__token_set_add(&ts, "common", 6) < 0)
            _exit(3);
        for (uint32_t i = 0; i < KILL_BATCH; i++) {
            int len = snprintf(tok, sizeof tok, "k%u-%u", b, i);
            if (rg__token_set_add(&ts, tok, (size_t)len) < 0)
                _exit(3);
        }
        for (size_t i = 0; i < ts.count; i++)
            d[i] = (rg__delta){1, 0};
        if (s->ops->bayes_apply(
                s, &ts, d, (rg__totals_delta){.spam = 1, .ham = 0}) != RG_OK)
            _exit(4);
        if (write(out, &b, sizeof b) != (ssize_t)sizeof b)
            _exit(5);
    }
}

START_TEST(sqlite_bayes_killed_trainer)
{
    char path[PATH_LEN], url[PATH_LEN + 16];
    uint64_t state = 99;
    uint32_t committed = 0;
    rg__token_set ts;
    rg__counts *c = calloc(KILL_BATCH, sizeof *c);

    ck_assert_ptr_nonnull(c);
    snprintf(url, sizeof url, "sqlite:%s", scratch_path(path, "s.db"));
    rg__token_set_init(&ts, SIZE_MAX);
    for (int round = 0; round < KILL_ROUNDS; round++) {
        int pfd[2];
        uint32_t ack, acked = committed;

        ck_assert_int_eq(pipe(pfd), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(pfd[0]);
            kill_child(url, committed, pfd[1]);
        }
        close(pfd[1]);
        /* Wait for a few batches, then kill at a random moment. */
        for (int k = 0; k < 2 + round % 3; k++) {
            ck_assert_int_eq(read(pfd[0], &ack, sizeof ack), sizeof ack);
            ck_assert_uint_eq(ack, acked);
            acked++;
        }
        usleep((useconds_t)(next_random(&state) % 20000));
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "child status %d", status);
        while (read(pfd[0], &ack, sizeof ack) == sizeof ack) {
            ck_assert_uint_eq(ack, acked);
            acked++;
        }
        close(pfd[0]);

        ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM "
                                               "pragma_integrity_check "
                                               "WHERE integrity_check = 'ok'"),
                         1);
        rg_store *s = open_url(url);
        rg_bayes_stats st = stats_of(s);
        ck_assert_msg(st.spam_comments == acked ||
                          st.spam_comments == acked + 1,
                      "round %d: %llu batches kept, %u acknowledged", round,
                      (unsigned long long)st.spam_comments, acked);
        committed = (uint32_t)st.spam_comments;
        ck_assert_uint_eq(st.tokens, (uint64_t)committed * KILL_BATCH + 1);
        ck_counts(s, "common", committed, 0);
        /* The last batches kept are whole, and the next one is absent
         * altogether. */
        for (uint32_t b = committed >= 3 ? committed - 3 : 0; b <= committed;
             b++) {
            rg__token_set_clear(&ts);
            char prefix[16];
            snprintf(prefix, sizeof prefix, "k%u-", b);
            add_range(&ts, prefix, 0, KILL_BATCH);
            rg__totals t;
            ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_OK);
            uint32_t want = b < committed ? 1 : 0;
            for (size_t i = 0; i < KILL_BATCH; i++)
                rg_test_assert_msg(c[i].spam == want && c[i].ham == 0,
                                   "round %d batch %u token %zu: %u", round, b,
                                   i, c[i].spam);
        }
        rg_store_close(s);
    }
    /* The kills did land in different places. */
    ck_assert_uint_gt(committed, KILL_ROUNDS * 2);
    rg__token_set_free(&ts);
    free(c);
}
END_TEST

/* Writes a file as version 1 of the schema left it: the replay table only,
 * with the nonces 0..n-1 spent until T0 + 100. */
static void write_v1_file(const char *path, uint32_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    uint8_t nonce[RG__NONCE_BYTES];

    ck_assert_int_eq(sqlite3_open_v2(path, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL),
                     SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL;"
                     "CREATE TABLE spent(nonce BLOB PRIMARY KEY NOT NULL, "
                     "expires_at INTEGER NOT NULL) WITHOUT ROWID;"
                     "CREATE INDEX spent_expires ON spent(expires_at);"
                     "PRAGMA user_version = 1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO spent VALUES(?1, ?2)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (uint32_t i = 0; i < n; i++) {
        make_nonce(i, 0, nonce);
        sqlite3_bind_blob(st, 1, nonce, sizeof nonce, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, T0 + 100);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

START_TEST(sqlite_migrates_version_1)
{
    char path[PATH_LEN];

    write_v1_file(scratch_path(path, "s.db"), 20);
    rg_store *s = open_backend(SQLITE, 0);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 5);
    /* The spent nonces are still spent, and the model starts empty. */
    for (uint32_t i = 0; i < 20; i++)
        ck_assert(!spend(s, i, T0 + 100, T0 + 1));
    ck_assert(spend(s, 20, T0 + 100, T0 + 1));
    ck_stats(s, 0, 0, 0);
    teach(s, "a b", true, 1);
    rg_store_close(s);

    /* Reopening a migrated file changes nothing more. */
    s = open_backend(SQLITE, 0);
    ck_stats(s, 1, 0, 2);
    ck_assert(!spend(s, 3, T0 + 100, T0 + 2));
    rg_store_close(s);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"), 21);
}
END_TEST

/* A file whose layout is not ours is refused and left as it was. */
START_TEST(sqlite_foreign_bayes_tables)
{
    char path[PATH_LEN];

    /* Version 1 with a table of the name version 2 would create. */
    write_v1_file(scratch_path(path, "v1.db"), 3);
    rg_test_sql_exec(path, "CREATE TABLE bayes_tokens(x TEXT)");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 1);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM sqlite_master "
                                           "WHERE name = 'bayes_totals'"),
                     0);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM spent"), 3);

    /* The current version without the model's tables. */
    scratch_path(path, "v5.db");
    rg_test_sql_exec(path, "PRAGMA user_version = 5");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 5);

    /* Version 3 with a table of the name version 4 would create. */
    scratch_path(path, "v3.db");
    rg_store *s = open_backend(SQLITE, 0);
    rg_store_close(s);
    scratch_path(path, "s.db");
    rg_test_sql_exec(path, "DROP TABLE limits; DROP TABLE limit_secret;"
                           "CREATE TABLE limits(x TEXT);"
                           "PRAGMA user_version = 3");
    ck_assert_int_eq(sqlite_open_rc(path), RG_ESTORE);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 3);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM sqlite_master "
                                           "WHERE name = 'limit_secret'"),
                     0);
}
END_TEST

/* A file of version 2 (a model, no image table) gains the table and keeps
 * its model. */
START_TEST(sqlite_migrates_version_2)
{
    char path[PATH_LEN];

    rg_store *s = open_backend(SQLITE, 0);
    teach(s, "a b", true, 1);
    teach(s, "b c", false, 1);
    rg_store_close(s);
    scratch_path(path, "s.db");
    rg_test_sql_exec(path,
                     "DROP TABLE bayes_image; DROP TABLE limits;"
                     "DROP TABLE limit_secret; DROP TABLE spent_horizon;"
                     "DROP TRIGGER spent_forget; PRAGMA user_version = 2");

    s = open_backend(SQLITE, 0);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 5);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM bayes_image"),
                     0);
    ck_stats(s, 1, 1, 3);
    rg_store_close(s);
}
END_TEST

/* A file of version 3 (no rate limiter) gains the limiter's tables and
 * keeps its model and spent tokens. */
START_TEST(sqlite_migrates_version_3)
{
    char path[PATH_LEN];

    rg_store *s = open_backend(SQLITE, 0);
    teach(s, "a b", true, 1);
    ck_assert(spend(s, 1, T0 + 100, T0));
    rg_store_close(s);
    scratch_path(path, "s.db");
    rg_test_sql_exec(path,
                     "DROP TABLE limits; DROP TABLE limit_secret;"
                     "DROP TABLE spent_horizon; DROP TRIGGER spent_forget;"
                     "PRAGMA user_version = 3");

    s = open_backend(SQLITE, 0);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 5);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM limits"), 0);
    ck_stats(s, 1, 0, 2);
    ck_assert(!spend(s, 1, T0 + 100, T0 + 1));
    rg_store_close(s);
}
END_TEST

/*
 * Failures after open are RG_ESTORE, and an apply that fails half-way
 * through its writes keeps nothing: a trigger refuses one token's row,
 * and the rows written before it in the same apply are rolled back.
 */
START_TEST(sqlite_bayes_fails)
{
    char path[PATH_LEN];
    struct snapshot before, after;
    rg_store *s = open_backend(SQLITE, 0);
    rg_bayes_stats st;
    rg__token_set ts;
    rg__counts c[4];
    rg__totals t;

    scratch_path(path, "s.db");
    teach(s, "a b c", true, 1);
    snap(s, &before);

    rg_test_sql_exec(path, "CREATE TRIGGER no_h BEFORE INSERT ON bayes_tokens "
                           "WHEN NEW.token = CAST('h' AS BLOB) "
                           "BEGIN SELECT RAISE(ABORT, 'no'); END");
    rg__token_set_init(&ts, SIZE_MAX);
    add_list(&ts, "a new1 h zz");
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_ESTORE);
    snap(s, &after);
    ck_same_snapshot(&before, &after);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM bayes_tokens"),
                     3);

    /* The same at the last write, the totals. */
    rg_test_sql_exec(path,
                     "DROP TRIGGER no_h;"
                     "CREATE TRIGGER no_totals BEFORE UPDATE ON bayes_totals "
                     "BEGIN SELECT RAISE(ABORT, 'no'); END");
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_ESTORE);
    snap(s, &after);
    ck_same_snapshot(&before, &after);
    rg_test_sql_exec(path, "DROP TRIGGER no_totals");
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_OK);
    ck_counts(s, "h", 1, 0);
    ck_stats(s, 2, 0, 6);

    /* Rows that break the schema's rules (written with the checks off)
     * are refused rather than believed. */
    rg_test_sql_exec(path, "PRAGMA ignore_check_constraints = ON;"
                           "UPDATE bayes_tokens SET spam = -1 "
                           "WHERE token = CAST('b' AS BLOB);"
                           "UPDATE bayes_tokens SET spam = 4294967296 "
                           "WHERE token = CAST('c' AS BLOB);"
                           "UPDATE bayes_tokens SET spam = 0, ham = 0 "
                           "WHERE token = CAST('zz' AS BLOB)");
    for (int k = 0; k < 3; k++) {
        const char *bad = k == 0 ? "b" : k == 1 ? "c" : "zz";
        rg__token_set_clear(&ts);
        add_list(&ts, bad);
        ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_ESTORE);
        ck_assert_int_eq(
            apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
            RG_ESTORE);
    }
    ck_counts(s, "a", 2, 0);

    rg_test_sql_exec(path, "PRAGMA ignore_check_constraints = ON;"
                           "UPDATE bayes_totals SET ham = -5");
    ck_assert_int_eq(s->ops->bayes_stats(s, &st), RG_ESTORE);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_ESTORE);
    ck_assert_int_eq(
        apply_same(s, &ts, 0, 0, (rg__totals_delta){.spam = 0, .ham = 0}),
        RG_ESTORE);

    /* The totals row gone, then the tables. */
    rg_test_sql_exec(path, "DELETE FROM bayes_totals");
    ck_assert_int_eq(s->ops->bayes_stats(s, &st), RG_ESTORE);
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_ESTORE);
    rg_test_sql_exec(path, "DROP TABLE bayes_tokens; DROP TABLE bayes_totals");
    rg__token_set_clear(&ts);
    add_list(&ts, "a");
    ck_assert_int_eq(s->ops->bayes_lookup(s, &ts, c, &t), RG_ESTORE);
    ck_assert_int_eq(
        apply_same(s, &ts, 1, 0, (rg__totals_delta){.spam = 1, .ham = 0}),
        RG_ESTORE);
    ck_assert_int_eq(s->ops->bayes_stats(s, &st), RG_ESTORE);
    /* The replay table is unaffected. */
    ck_assert(spend(s, 1, T0 + 100, T0));
    rg__token_set_free(&ts);
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
    test_number++;
    ck_assert_int_eq(rg_init(), RG_OK);
}

static TCase *tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, remove_scratch);
    return tc;
}

/* ---- Memory for tables ---- */

START_TEST(table_memory)
{
    /* Large tables come zeroed, like small ones; sizes that overflow are
     * refused, not wrapped. */
    size_t n = 1 << 16;
    uint64_t *big = rg__table_alloc(n, sizeof *big);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < n; i++)
        rg_test_assert(big[i] == 0);
    free(big);
    ck_assert_ptr_null(rg__table_alloc(SIZE_MAX / 2, 4));

    /* A growing array doubles from its first size, zeroes what is new when
     * asked, and keeps what it held. */
    uint32_t *a = NULL;
    size_t room = 0;
    ck_assert(rg__grow(&a, &room, 5, sizeof *a, 4, true));
    ck_assert_uint_eq(room, 8);
    for (size_t i = 0; i < room; i++)
        ck_assert_uint_eq(a[i], 0);
    a[3] = 7;
    ck_assert(rg__grow(&a, &room, 8, sizeof *a, 4, true));
    ck_assert_uint_eq(room, 8);
    ck_assert(rg__grow(&a, &room, 33, sizeof *a, 4, true));
    ck_assert_uint_eq(room, 64);
    ck_assert_uint_eq(a[3], 7);
    ck_assert_uint_eq(a[63], 0);
    /* Too big: refused, with the array and its room as they were. */
    uint32_t *before = a;
    ck_assert(!rg__grow(&a, &room, SIZE_MAX / 2, sizeof *a, 4, false));
    ck_assert(!rg__grow(&a, &room, SIZE_MAX, 1, 4, false));
    ck_assert_ptr_eq(a, before);
    ck_assert_uint_eq(room, 64);
    ck_assert_uint_eq(a[3], 7);
    free(a);
}
END_TEST

#if RG_HAVE_SQLITE
/* The builder of a model image refuses what would make a wrong image. */
START_TEST(image_builder_refuses)
{
    rg__image_builder *b = NULL;
    unsigned char *blob = NULL;
    size_t len = 0;
    rg__totals t = {1, 1, 2, 2};

    ck_assert_int_eq(rg__image_builder_new(&b, (uint64_t)1 << 25), RG_EFULL);
    ck_assert_ptr_null(b);

    /* A token twice has one hash twice: a collision, so the caller
     * builds again under another key. */
    ck_assert_int_eq(rg__image_builder_new(&b, 2), RG_OK);
    ck_assert(rg__image_builder_add(b, "a", 1, (rg__counts){1, 0}));
    ck_assert(!rg__image_builder_collided(b));
    ck_assert(!rg__image_builder_add(b, "a", 1, (rg__counts){0, 1}));
    ck_assert(rg__image_builder_collided(b));
    /* Counts of 0, 0 mark empty slots, so no token may have them. */
    ck_assert(!rg__image_builder_add(b, "b", 1, (rg__counts){0, 0}));
    /* Fewer tokens than announced: no image. */
    ck_assert_int_eq(rg__image_builder_finish(b, &t, &blob, &len), RG_EINVAL);
    ck_assert_ptr_null(blob);

    /* More than announced: the extra one is refused. */
    ck_assert_int_eq(rg__image_builder_new(&b, 1), RG_OK);
    ck_assert(rg__image_builder_add(b, "a", 1, (rg__counts){1, 0}));
    ck_assert(!rg__image_builder_add(b, "b", 1, (rg__counts){1, 0}));
    ck_assert(!rg__image_builder_collided(b));
    ck_assert_int_eq(rg__image_builder_finish(b, &t, &blob, &len), RG_OK);
    ck_assert_uint_gt(len, 0);
    free(blob);
}
END_TEST
#endif

Suite *store_suite(void); /* for tests/runner.c */

#if RG_HAVE_REDIS
/*
 * The conformance tests whose meaning does not rest on the caller's
 * clock, on the redis: store. (Redis expires a spent nonce by its own
 * clock, after the token's remaining life, so the tests that move time
 * by hand to expire entries do not apply.)
 */
static Suite *redis_store_suite(void)
{
    Suite *s = suite_create("store-redis");
    TCase *tc = tcase("conformance");
    tcase_add_loop_test(tc, distinct_nonces_independent, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, threads_share_a_handle, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_empty_model, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_apply_then_lookup, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_unlearn_restores, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_not_learned, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_range, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_large_batch, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_random_model, REDIS, REDIS + 1);
    tcase_add_loop_test(tc, bayes_threads, REDIS, REDIS + 1);
    suite_add_tcase(s, tc);
    return s;
}
#endif

Suite *store_suite(void)
{
    if (getenv("RG_TEST_REDIS")) {
#if RG_HAVE_REDIS
        if (!rg_test_redis_url()) {
            fprintf(stderr, "redis-server is not installed, or did not "
                            "start: skipped\n");
            exit(77);
        }
        return redis_store_suite();
#else
        fprintf(stderr, "this build has no redis: store: skipped\n");
        exit(77);
#endif
    }

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

    tc = tcase("bayes");
    tcase_add_loop_test(tc, bayes_empty_model, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_apply_then_lookup, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_unlearn_restores, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_not_learned, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_range, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_large_batch, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_random_model, 0, N_BACKENDS);
    tcase_add_loop_test(tc, bayes_threads, 0, N_BACKENDS);
    tcase_add_test(tc, memory_bayes_token_limit);
    tcase_add_test(tc, memory_bayes_grows_to_limit);
    tcase_add_loop_test(tc, bayes_out_of_memory, 0, N_BACKENDS);
    tcase_add_test(tc, memory_both_limits);
    tcase_add_test(tc, count_map_basics);
    tcase_add_test(tc, table_memory);
#if RG_HAVE_SQLITE
    tcase_add_test(tc, image_builder_refuses);
#endif
    tcase_add_test(tc, count_checks);
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
    tcase_add_test(tc, sqlite_bayes_survives_reopen);
    tcase_add_test(tc, sqlite_bayes_two_handles);
    tcase_add_test(tc, sqlite_bayes_scan_or_query);
    tcase_add_test(tc, sqlite_bayes_forked_trainer);
    tcase_add_test(tc, sqlite_bayes_readers_not_blocked);
    tcase_add_test(tc, sqlite_bayes_killed_trainer);
    tcase_add_test(tc, sqlite_migrates_version_1);
    tcase_add_test(tc, sqlite_migrates_version_2);
    tcase_add_test(tc, sqlite_migrates_version_3);
    tcase_add_test(tc, sqlite_foreign_bayes_tables);
    tcase_add_test(tc, sqlite_bayes_fails);
    tcase_add_test(tc, sqlite_bayes_statement_fails);
#else
    tcase_add_test(tc, sqlite_not_built);
#endif
    suite_add_tcase(s, tc);
    return s;
}
