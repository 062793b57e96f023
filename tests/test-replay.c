/*
 * Tests of the replay guard, rg__replay_spend(): on every store backend, and
 * on a fake store that records what it is asked and fails on demand.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rg-config.h"
#include "replyguard.h"
#include "internal.h"
#include "store.h"
#include "replay.h"
#include "helpers.h"

#define T0   1700000000u /* when the token was issued */
#define TTL  1200u       /* its lifetime */
#define EXP  (T0 + TTL)  /* its expiry */
#define SKEW 60u         /* the tolerated clock skew */

enum { MEMORY = 0, SQLITE = 1, N_BACKENDS = 1 + RG_HAVE_SQLITE };

static const uint8_t nonce_a[RG__NONCE_BYTES] = {
    0x4e, 0x6f, 0x6e, 0x63, 0x65, 0x20, 0x41, 0x00,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};
static const uint8_t nonce_b[RG__NONCE_BYTES] = {
    0x4e, 0x6f, 0x6e, 0x63, 0x65, 0x20, 0x42, 0x00,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};

/* ---- Scratch directory for the sqlite: file, removed by the teardown. */

static char scratch[512];

static void teardown(void)
{
    if (scratch[0])
        rg_test_rmtree(scratch);
    scratch[0] = '\0';
}

static void setup(void)
{
    ck_assert_int_eq(rg_init(), RG_OK);
}

static rg_store *open_url(const char *url)
{
    rg_store *s = NULL;
    int rc = rg_store_open(&s, url);

    ck_assert_msg(rc == RG_OK, "%s: %s", url, rg_err_name(rc));
    return s;
}

static rg_store *open_backend(int b)
{
    char url[600];

    if (b == MEMORY)
        return open_url("memory:");
    snprintf(scratch, sizeof scratch, "%s", rg_test_tmpdir());
    snprintf(url, sizeof url, "sqlite:%s/s.db", scratch);
    return open_url(url);
}

/* rg__replay_spend() for nonce_a with the token of this file, at `now`;
 * fails the test on an error, returns `fresh`. */
static bool replay(rg_store *s, uint64_t now, uint32_t skew)
{
    bool fresh = true;
    int rc = rg__replay_spend(s, nonce_a, EXP, now, skew, &fresh);

    ck_assert_msg(rc == RG_OK, "now %llu: %s", (unsigned long long)now,
                  rg_err_name(rc));
    return fresh;
}

/* ---- Every backend ---- */

START_TEST(spent_until_expiry_plus_skew)
{
    rg_store *s = open_backend(_i);
    bool fresh = true;

    ck_assert(replay(s, T0 + 5, SKEW));
    /* Every later attempt that a verifier could still accept, even one
     * whose clock lags by the whole skew, finds the token spent. */
    ck_assert(!replay(s, T0 + 5, SKEW));
    ck_assert(!replay(s, T0 + 6, SKEW));
    ck_assert(!replay(s, EXP - 1, SKEW));
    ck_assert(!replay(s, EXP, SKEW));
    ck_assert(!replay(s, EXP + SKEW, SKEW));
    /* Past expiry + skew the token itself is refused, not recorded. */
    ck_assert_int_eq(
        rg__replay_spend(s, nonce_a, EXP, EXP + SKEW + 1, SKEW, &fresh),
        RG_EINVAL);
    ck_assert(!fresh);
    /* ...and its entry has lapsed: the nonce is free for reuse. */
    ck_assert_int_eq(rg__replay_spend(s, nonce_a, EXP + SKEW + 1 + TTL,
                                      EXP + SKEW + 1, SKEW, &fresh),
                     RG_OK);
    ck_assert(fresh);
    rg_store_close(s);
}
END_TEST

START_TEST(skew_zero)
{
    rg_store *s = open_backend(_i);
    bool fresh;

    ck_assert(replay(s, T0, 0));
    ck_assert(!replay(s, EXP, 0));
    ck_assert_int_eq(rg__replay_spend(s, nonce_a, EXP, EXP + 1, 0, &fresh),
                     RG_EINVAL);
    ck_assert_int_eq(
        rg__replay_spend(s, nonce_a, EXP + 1 + TTL, EXP + 1, 0, &fresh), RG_OK);
    ck_assert(fresh);
    rg_store_close(s);
}
END_TEST

START_TEST(nonces_are_independent)
{
    rg_store *s = open_backend(_i);
    bool fresh;

    ck_assert(replay(s, T0, SKEW));
    ck_assert_int_eq(rg__replay_spend(s, nonce_b, EXP, T0, SKEW, &fresh),
                     RG_OK);
    ck_assert(fresh);
    ck_assert(!replay(s, T0, SKEW));
    rg_store_close(s);
}
END_TEST

START_TEST(time_bounds)
{
    rg_store *s = open_backend(_i);
    const uint64_t max = INT64_MAX;
    bool fresh;

    /* The last second of expiry + skew is still the token's. */
    ck_assert_int_eq(
        rg__replay_spend(s, nonce_a, EXP, EXP + SKEW, SKEW, &fresh), RG_OK);
    ck_assert(fresh);
    /* The largest expiry every store can hold. */
    ck_assert_int_eq(rg__replay_spend(s, nonce_b, max - SKEW, T0, SKEW, &fresh),
                     RG_OK);
    ck_assert(fresh);
    ck_assert_int_eq(
        rg__replay_spend(s, nonce_b, max - SKEW, max, SKEW, &fresh), RG_OK);
    ck_assert(!fresh);
    rg_store_close(s);
}
END_TEST

/* ---- Arguments ---- */

struct einval_case {
    bool null_store, null_nonce, null_fresh;
    uint64_t expires_at, now;
    uint32_t skew;
};

static const struct einval_case einval_cases[] = {
    {true, false, false, EXP, T0, SKEW},
    {false, true, false, EXP, T0, SKEW},
    {false, false, true, EXP, T0, SKEW},
    /* Expiry + skew beyond what a store can hold, or wrapping around. */
    {false, false, false, (uint64_t)INT64_MAX, T0, 1},
    {false, false, false, (uint64_t)INT64_MAX - SKEW + 1, T0, SKEW},
    {false, false, false, (uint64_t)INT64_MAX + 1, T0, 0},
    {false, false, false, UINT64_MAX, T0, 0},
    {false, false, false, UINT64_MAX - 10, T0, 20},
    /* A clock beyond that range. */
    {false, false, false, EXP, (uint64_t)INT64_MAX + 1, SKEW},
    {false, false, false, UINT64_MAX, UINT64_MAX, 0},
    /* A token already past expiry + skew. */
    {false, false, false, EXP, EXP + SKEW + 1, SKEW},
    {false, false, false, EXP, EXP + 1, 0},
    {false, false, false, 0, 1, 0},
};

START_TEST(einval)
{
    const struct einval_case *c = &einval_cases[_i];
    rg_store *s = open_url("memory:");
    bool fresh = true;

    int rc = rg__replay_spend(c->null_store ? NULL : s,
                              c->null_nonce ? NULL : nonce_a, c->expires_at,
                              c->now, c->skew, c->null_fresh ? NULL : &fresh);
    ck_assert_int_eq(rc, RG_EINVAL);
    ck_assert(!fresh || c->null_fresh);
    /* Nothing was recorded. */
    ck_assert(replay(s, T0, SKEW));
    rg_store_close(s);
}
END_TEST

/* ---- Store failures ---- */

START_TEST(full_store_fails_closed)
{
    rg_store *s = open_url("memory:?capacity=1");
    bool fresh = true;

    ck_assert(replay(s, T0, SKEW));
    ck_assert_int_eq(rg__replay_spend(s, nonce_b, EXP, T0, SKEW, &fresh),
                     RG_EFULL);
    ck_assert(!fresh);
    ck_assert(!replay(s, T0, SKEW));
    rg_store_close(s);
}
END_TEST

/*
 * Why the skew: two verifiers share a store and verifier A's clock runs
 * SKEW seconds ahead of verifier B's. Just before the token expires by A's
 * clock, A spends it; A's later traffic, at A's time, must not free the
 * entry while B, whose clock lags, still accepts the token. A full
 * one-entry table makes every later spend by A sweep the table.
 */
START_TEST(lagging_verifier)
{
    rg_store *s = open_url("memory:?capacity=1");
    uint64_t lag = SKEW;
    bool fresh;

    /* A, at its time EXP - 1. */
    ck_assert(replay(s, EXP - 1, SKEW));
    /* A, SKEW - 1 seconds later by its clock, spends another token: the
     * sweep must not free nonce_a, so the table is still full. */
    ck_assert_int_eq(rg__replay_spend(s, nonce_b, EXP + SKEW + TTL,
                                      EXP - 1 + SKEW - 1, SKEW, &fresh),
                     RG_EFULL);
    /* B at the same moment reads EXP - 1 + SKEW - 1 - lag < EXP: for B the
     * token is live, and it must be seen as spent. */
    ck_assert(!replay(s, EXP - 1 + SKEW - 1 - lag, SKEW));
    rg_store_close(s);
}
END_TEST

/* A store that records its arguments and answers as told. */
struct fake_store {
    rg_store base;
    int calls;
    uint64_t expires_at, now;
    int rc;
    bool fresh;
};

static int fake_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                      uint64_t expires_at, uint64_t now, bool *fresh)
{
    struct fake_store *f = (struct fake_store *)s;

    ck_assert(memcmp(nonce, nonce_a, RG__NONCE_BYTES) == 0);
    f->calls++;
    f->expires_at = expires_at;
    f->now = now;
    *fresh = f->fresh;
    return f->rc;
}

static void fake_close(rg_store *s)
{
    (void)s;
}

static const struct rg_store_ops fake_ops = {
    .scheme = "fake",
    .spend = fake_spend,
    .close = fake_close,
};

START_TEST(passes_expiry_plus_skew)
{
    struct fake_store f = {.base = {.ops = &fake_ops}, .fresh = true};
    bool fresh = false;

    ck_assert_int_eq(rg__replay_spend(&f.base, nonce_a, EXP, T0, SKEW, &fresh),
                     RG_OK);
    ck_assert(fresh);
    ck_assert_int_eq(f.calls, 1);
    ck_assert_uint_eq(f.expires_at, EXP + SKEW);
    ck_assert_uint_eq(f.now, T0);
}
END_TEST

static const int store_errors[] = {RG_ESTORE, RG_EFULL, RG_ENOMEM};

START_TEST(store_error_fails_closed)
{
    /* Even a backend that leaves *fresh true on failure. */
    struct fake_store f = {
        .base = {.ops = &fake_ops}, .rc = store_errors[_i], .fresh = true};
    bool fresh = true;

    ck_assert_int_eq(rg__replay_spend(&f.base, nonce_a, EXP, T0, SKEW, &fresh),
                     store_errors[_i]);
    ck_assert(!fresh);
    ck_assert_int_eq(f.calls, 1);
}
END_TEST

Suite *replay_suite(void); /* for tests/runner.c */

Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc;

    tc = tcase_create("backends");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, spent_until_expiry_plus_skew, 0, N_BACKENDS);
    tcase_add_loop_test(tc, skew_zero, 0, N_BACKENDS);
    tcase_add_loop_test(tc, nonces_are_independent, 0, N_BACKENDS);
    tcase_add_loop_test(tc, time_bounds, 0, N_BACKENDS);
    suite_add_tcase(s, tc);

    tc = tcase_create("arguments");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, einval, 0,
                        sizeof einval_cases / sizeof einval_cases[0]);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, full_store_fails_closed);
    tcase_add_test(tc, lagging_verifier);
    tcase_add_test(tc, passes_expiry_plus_skew);
    tcase_add_loop_test(tc, store_error_fails_closed, 0,
                        sizeof store_errors / sizeof store_errors[0]);
    suite_add_tcase(s, tc);
    return s;
}
