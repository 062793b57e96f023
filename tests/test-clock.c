/*
 * The wall clock jumping back and forward during verification, through
 * the injectable clocks of rg_config and rg_limiter_config.
 *
 * The rules (docs/token-format.md, docs/security.md): a token is accepted
 * while now < expires at and issued at <= now + clock_skew_s, at most
 * once. A spent token stays spent whatever the clock does: when the clock
 * jumps forward past its life, the store may forget its nonce, and when
 * the clock comes back the store must still refuse it. Every store that
 * forgets a nonce keeps the latest expiry it forgot, and refuses (as
 * replayed) any token that expires no later than that: such a token was
 * seen expired once, and the store can no longer tell whether it was
 * spent. That refuses no token a correct clock would accept, and after a
 * backward jump of J seconds it refuses tokens only while J is more than
 * the token's life plus the skew, so a skew as large as the jumps a site
 * expects makes them harmless (and without it they fail closed).
 *
 * The rate limiter: a clock that goes back is taken as standing still (a
 * handle never uses a time earlier than one it used, and a state left far
 * ahead counts as a full burst), and a clock that goes forward gives a
 * rested key no more than its burst.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rg-config.h"
#include "replyguard.h"
#include "internal.h"
#include "export-private.h"
#include "guard.h"
#include "store.h"
#include "token.h"
#include "helpers.h"
#include "solver.h"

#define T0      1700000000u /* a "now" for the tests, in 2023 */
#define HOUR    3600u
#define TTL     1200u /* the default token life */
#define SKEW    60u   /* the default clock skew */
#define NS      1000000000ull
#define BINDING "post-3|comments"

enum { MEMORY = 0, SQLITE = 1, N_BACKENDS = 1 + RG_HAVE_SQLITE };

/* The guard's clock; the limiters read it in nanoseconds. */
static uint64_t now_s;

/* A store URL of the backend: memory: with room for `capacity` nonces,
 * or a new sqlite: file. */
static const char *store_url(int backend, unsigned capacity)
{
    static char url[600];
    if (backend == MEMORY)
        snprintf(url, sizeof url, "memory:?capacity=%u", capacity);
    else
        snprintf(url, sizeof url, "sqlite:%s/clock.db", rg_test_tmpdir());
    return url;
}

static rg_guard *guard(const char *url, uint32_t skew)
{
    rg_config cfg;
    rg_guard *g = NULL;

    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now_s;
    cfg.store = url;
    cfg.clock_skew_s = skew;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    return g;
}

typedef struct issued {
    char token[RG_TOKEN_MAX];
    char answer[16];
    uint64_t issued_at, expires_at;
    bool spent;
} issued;

static issued issue(rg_guard *g)
{
    rg_challenge c;
    issued out;

    rg_test_issue_solved(g, BINDING, &c, out.answer);
    memcpy(out.token, c.token, sizeof out.token);
    out.issued_at = c.issued_at;
    out.expires_at = c.expires_at;
    out.spent = false;
    return out;
}

static rg_verdict verify_with(rg_guard *g, const issued *t, const char *answer)
{
    rg_verdict v;
    int rc = rg_challenge_verify(g, t->token, answer, BINDING, &v);
    ck_assert_msg(rc == RG_OK, "verify at %llu: %s", (unsigned long long)now_s,
                  rg_err_name(rc));
    return v;
}

static rg_verdict verify(rg_guard *g, const issued *t)
{
    return verify_with(g, t, t->answer);
}

typedef struct find_nonce {
    uint8_t nonce[RG__NONCE_BYTES];
    bool found;
} find_nonce;

static int match_nonce(void *arg, const uint8_t nonce[RG__NONCE_BYTES],
                       uint64_t expires_at)
{
    find_nonce *f = arg;
    (void)expires_at;
    f->found |= memcmp(nonce, f->nonce, RG__NONCE_BYTES) == 0;
    return RG_OK;
}

/* Whether the guard's store still holds the token's nonce (live or not:
 * the walk is asked as of time 0). */
static bool store_holds(rg_guard *g, const issued *t)
{
    rg__token_fields f;
    uint8_t tags[2][RG__TAG_BYTES];
    find_nonce fn = {.found = false};
    rg__nonce_visitor v = {match_nonce, &fn};

    ck_assert(rg__token_decode(t->token, &f, tags[0], tags[1]));
    memcpy(fn.nonce, f.nonce, sizeof fn.nonce);
    ck_assert_int_eq(rg__store_export_nonces(rg__guard_store(g), 0, &v), RG_OK);
    return fn.found;
}

/*
 * The hole this closes: a token is spent, the clock jumps an hour
 * forward (the token is expired now, and its nonce goes from the store),
 * then back. The token is live again by the clock, and must still be
 * refused.
 */
START_TEST(spent_stays_spent_across_jumps)
{
    const char *url = store_url(_i, 16);
    now_s = T0;
    rg_guard *g = guard(url, SKEW);
    issued x = issue(g);
    now_s = T0 + 10;
    ck_assert_int_eq(verify(g, &x), RG_VERDICT_PASS);
    ck_assert(store_holds(g, &x));

    /* An hour ahead: the token has expired... */
    now_s = T0 + HOUR;
    ck_assert_int_eq(verify(g, &x), RG_VERDICT_EXPIRED);
    /* ...and the store forgets it: memory: when its table fills (16
     * entries) and is swept, sqlite: on the first spend of a new handle
     * (a new process of the CLI, say). */
    if (_i == SQLITE) {
        rg_guard_free(g);
        g = guard(url, SKEW);
    }
    for (int i = 0; i < 16; i++) {
        issued y = issue(g);
        now_s += 6;
        ck_assert_int_eq(verify(g, &y), RG_VERDICT_PASS);
    }
    ck_assert_msg(!store_holds(g, &x), "the store did not forget the nonce; "
                                       "this test proves nothing");

    /* Back where it was: the token is live by the clock, and spent. */
    now_s = T0 + 20;
    ck_assert_int_eq(verify(g, &x), RG_VERDICT_REPLAYED);
    ck_assert_int_eq(verify_with(g, &x, "1000"), RG_VERDICT_REPLAYED);
    /* And after a restart too (sqlite: keeps what it forgot in the file). */
    if (_i == SQLITE) {
        rg_guard_free(g);
        g = guard(url, SKEW);
        ck_assert_int_eq(verify(g, &x), RG_VERDICT_REPLAYED);
    }
    /* A token issued now is accepted: the refusal is for tokens that
     * expired by a clock the store has seen, and this one has not. (Once
     * the tokens spent an hour ahead have expired too, so that memory:
     * has room.) */
    now_s = T0 + HOUR + TTL + SKEW + 200;
    issued z = issue(g);
    now_s += 6;
    ck_assert_int_eq(verify(g, &z), RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

/* A skew of an hour makes a jump of an hour harmless: every token that
 * the rules accept is accepted, before, during and after. */
START_TEST(jumps_within_the_skew_refuse_nothing)
{
    const char *url = store_url(_i, 64);
    now_s = T0;
    rg_guard *g = guard(url, HOUR);
    issued y1 = issue(g), y2 = issue(g);
    now_s = T0 + 6;
    ck_assert_int_eq(verify(g, &y1), RG_VERDICT_PASS);

    now_s = T0 + HOUR;
    issued z1 = issue(g);
    now_s += 6;
    ck_assert_int_eq(verify(g, &z1), RG_VERDICT_PASS);
    if (_i == SQLITE) {
        rg_guard_free(g);
        g = guard(url, HOUR);
    }
    for (int i = 0; i < 20; i++) {
        issued w = issue(g);
        now_s += 6;
        ck_assert_int_eq(verify(g, &w), RG_VERDICT_PASS);
    }

    /* Back an hour: y2 (never answered) is live and accepted; y1 stays
     * spent. z1 is now "issued in the future", within the skew: by the
     * rules answered too fast until its minimum solve time has passed by
     * this clock, and spent after. */
    now_s = T0 + 20;
    ck_assert_int_eq(verify(g, &y2), RG_VERDICT_PASS);
    ck_assert_int_eq(verify(g, &y1), RG_VERDICT_REPLAYED);
    ck_assert_int_eq(verify(g, &z1), RG_VERDICT_TOO_FAST);
    now_s = T0 + HOUR + 10;
    ck_assert_int_eq(verify(g, &z1), RG_VERDICT_REPLAYED);
    now_s = T0 + 30;
    issued w = issue(g);
    now_s += 6;
    ck_assert_int_eq(verify(g, &w), RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

/* xorshift64*: the same walk on every run. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

#define WALK_TOKENS 64
#define WALK_STEPS  2500

/*
 * A random walk of a clock that now and then jumps an hour forward and
 * back, against the rules: tokens issued and answered (right or wrong)
 * at random moments, with new guards now and then (new processes, for
 * sqlite:). The verdict must be the rules' own, with one exception: a
 * token the rules accept may be refused as replayed when its expiry plus
 * the skew is below the latest time the clock showed (the store may have
 * forgotten a nonce that expired by then, and cannot tell). With a skew
 * of an hour, not even that. Never is a token accepted that the rules
 * refuse, nor accepted twice.
 */
START_TEST(random_walk_against_the_rules)
{
    const int backend = _i % N_BACKENDS;
    const uint32_t skew = _i / N_BACKENDS ? HOUR : SKEW;
    const char *url = store_url(backend, 100000);
    static issued tokens[WALK_TOKENS];
    size_t ntokens = 0, issued_count = 0;
    uint64_t state = 0x9e3779b97f4a7c15ull + (uint64_t)_i, max_clock = T0;
    bool ahead = false;
    int passes = 0, refused = 0, jumps = 0, expired = 0, replayed = 0;

    now_s = T0;
    rg_guard *g = guard(url, skew);
    for (int step = 0; step < WALK_STEPS; step++) {
        uint64_t r = next_random(&state);
        if (r % 97 == 0) {
            now_s = ahead ? now_s - HOUR : now_s + HOUR;
            ahead = !ahead;
            jumps++;
        } else {
            now_s += (r >> 8) % 20;
        }
        if (now_s > max_clock)
            max_clock = now_s;
        if (backend == SQLITE && r % 211 == 1) {
            rg_guard_free(g);
            g = guard(url, skew);
        }
        if ((r >> 16) % 3 == 0 || ntokens == 0) {
            /* A ring of the latest tokens: the walk keeps answering
             * tokens of every age, not only old ones. */
            tokens[issued_count++ % WALK_TOKENS] = issue(g);
            ntokens = issued_count < WALK_TOKENS ? issued_count : WALK_TOKENS;
            continue;
        }
        issued *t = &tokens[(r >> 24) % ntokens];
        bool right = (r >> 40) % 4 != 0;
        rg_verdict want;
        if (now_s >= t->expires_at || t->issued_at > now_s + skew)
            want = RG_VERDICT_EXPIRED;
        else if (now_s < t->issued_at + 5)
            want = RG_VERDICT_TOO_FAST;
        else if (t->spent)
            want = RG_VERDICT_REPLAYED;
        else
            want = right ? RG_VERDICT_PASS : RG_VERDICT_WRONG;
        rg_verdict got = verify_with(g, t, right ? t->answer : "1000");
        expired += want == RG_VERDICT_EXPIRED;
        replayed += want == RG_VERDICT_REPLAYED;
        if (got == want) {
            t->spent |= want == RG_VERDICT_PASS || want == RG_VERDICT_WRONG;
            passes += got == RG_VERDICT_PASS;
            continue;
        }
        ck_assert_msg(
            (want == RG_VERDICT_PASS || want == RG_VERDICT_WRONG) &&
                got == RG_VERDICT_REPLAYED && t->expires_at + skew < max_clock,
            "step %d, clock %+lld s: issued %+lld, expires %+lld, "
            "spent %d: %s, the rules say %s",
            step, (long long)(now_s - T0), (long long)(t->issued_at - T0),
            (long long)(t->expires_at - T0), t->spent, rg_verdict_name(got),
            rg_verdict_name(want));
        refused++;
    }
    rg_guard_free(g);
    /* The walk went through what it is about. */
    ck_assert_int_gt(jumps, 10);
    ck_assert_int_gt(passes, 100);
    ck_assert_int_gt(expired, 100);
    ck_assert_int_gt(replayed, 20);
    if (skew >= HOUR)
        ck_assert_int_eq(refused, 0);
}
END_TEST

/* ---- The rate limiter ---- */

static uint64_t limiter_clock(void *arg)
{
    (void)arg;
    return now_s * NS;
}

/* One a minute, five at once, on a store of the backend. */
static rg_limiter *limiter(const char *url)
{
    rg_limiter_config cfg;
    rg_limiter *l = NULL;

    rg_limiter_config_init(&cfg);
    cfg.store = url;
    cfg.clock_ns = limiter_clock;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_OK);
    return l;
}

/* Takes of cost 1 on key "k" until one is refused: how many fitted. */
static int take_all(rg_limiter *l)
{
    rg_limit_result r;
    int n = 0;
    for (;;) {
        ck_assert_int_eq(rg_limiter_take(l, "k", 1, 1, &r), RG_OK);
        if (!r.allowed)
            return n;
        ck_assert_int_lt(++n, 1000);
    }
}

/*
 * Back an hour: clamped, no free burst, on the same handle and on a new
 * one (a new process, with sqlite:, whose handle never saw the later
 * time). Forward an hour: the key has rested, and takes its burst, no
 * more. And back again after that: still nothing.
 */
START_TEST(limiter_clock_jumps)
{
    const char *url = _i == MEMORY ? "memory:" : store_url(SQLITE, 0);
    now_s = T0;
    rg_limiter *l = limiter(url);
    ck_assert_int_eq(take_all(l), 5);

    now_s = T0 - HOUR;
    ck_assert_int_eq(take_all(l), 0);
    /* The clock stands still where it was: a minute later by this clock
     * is still before the time the handle used. */
    now_s += 60;
    ck_assert_int_eq(take_all(l), 0);
    if (_i == SQLITE) {
        /* A new handle never saw T0, but the row from then is further
         * ahead than a take could put it: a full burst, at every moment
         * until the clock is back where it was. */
        rg_limiter_free(l);
        l = limiter(url);
        for (int m = 0; m < 30; m++) {
            ck_assert_int_eq(take_all(l), 0);
            now_s += 60;
        }
    }

    /* Forward an hour past the first burst: rested, so a burst, no more. */
    now_s = T0 + HOUR;
    ck_assert_int_eq(take_all(l), 5);
    now_s += 30;
    ck_assert_int_eq(take_all(l), 0);
    now_s += 30;
    ck_assert_int_eq(take_all(l), 1);

    /* Back again to just after the first burst: nothing at all, for as
     * long as the clock is behind the time it had reached. */
    now_s = T0 + 1;
    ck_assert_int_eq(take_all(l), 0);
    if (_i == SQLITE) {
        rg_limiter_free(l);
        l = limiter(url);
    }
    for (int m = 0; m < 30; m++) {
        now_s += 60;
        ck_assert_int_eq(take_all(l), 0);
    }
    /* Past it, the rate again: one a minute, never a burst. */
    now_s = T0 + HOUR + 120;
    ck_assert_int_eq(take_all(l), 1);
    for (int m = 0; m < 10; m++) {
        now_s += 60;
        ck_assert_int_eq(take_all(l), 1);
    }
    rg_limiter_free(l);
}
END_TEST

Suite *clock_suite(void);

Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, spent_stays_spent_across_jumps, 0, N_BACKENDS);
    tcase_add_loop_test(tc, jumps_within_the_skew_refuse_nothing, 0,
                        N_BACKENDS);
    tcase_add_loop_test(tc, random_walk_against_the_rules, 0, 2 * N_BACKENDS);
    tcase_add_loop_test(tc, limiter_clock_jumps, 0, N_BACKENDS);
    suite_add_tcase(s, tc);
    return s;
}
