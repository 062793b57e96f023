/*
 * One guard shared by 8 threads, as in a threaded web server: every thread
 * issues and verifies at once, and a token raced by all threads passes
 * exactly once; and one spam filter that threads classify and train at
 * once, in batches that start threads of their own. Run under
 * ThreadSanitizer in CI.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "solver.h"

#define THREADS 8
#define ROUNDS  200

static uint64_t shared_now = 1700000000;

static uint64_t later_clock(void *arg)
{
    /* Every verification happens 10 s after its issue. */
    return *(const uint64_t *)arg;
}

static rg_guard *shared_guard(const char *store)
{
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = later_clock;
    cfg.clock_arg = &shared_now;
    cfg.min_solve_s = 0;
    cfg.style = RG_STYLE_DIGITS;
    cfg.store = store;
    rg_guard *g = NULL;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    return g;
}

typedef struct worker {
    rg_guard *g;
    int id;
    int passed, failed;
} worker;

static void *issue_and_verify(void *arg)
{
    worker *w = arg;
    char binding[32], answer[16];
    snprintf(binding, sizeof binding, "thread-%d", w->id);
    for (int i = 0; i < ROUNDS; i++) {
        rg_challenge ch;
        uint32_t value;
        rg_verdict v;
        if (rg_challenge_issue(w->g, binding, &ch) != RG_OK ||
            !rg_test_solve(ch.question, &value)) {
            w->failed++;
            continue;
        }
        snprintf(answer, sizeof answer, "%u", (unsigned)value);
        if (rg_challenge_verify(w->g, ch.token, answer, binding, &v) == RG_OK &&
            v == RG_VERDICT_PASS)
            w->passed++;
        else
            w->failed++;
        /* Adding a verify-only key while others work must be safe. */
        if (i == ROUNDS / 2) {
            uint8_t key[RG_KEY_BYTES];
            memset(key, w->id, sizeof key);
            if (rg_guard_add_key(w->g, 100 + (uint32_t)w->id, key, 0) != RG_OK)
                w->failed++;
        }
    }
    return NULL;
}

static void run_workers(rg_guard *g, void *(*fn)(void *), worker *w)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.g = g, .id = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, fn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

static const char *store_url(int i)
{
    static char url[600];
    if (i == 0)
        return "memory:";
    snprintf(url, sizeof url, "sqlite:%s/replay.db", rg_test_tmpdir());
    return url;
}

START_TEST(threads_issue_and_verify)
{
    rg_guard *g = shared_guard(store_url(_i));
    worker w[THREADS];
    run_workers(g, issue_and_verify, w);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(w[i].failed, 0);
        ck_assert_int_eq(w[i].passed, ROUNDS);
    }
    rg_guard_free(g);
}
END_TEST

/* All threads race to spend the same tokens. */
#define RACED 50
static rg_challenge raced[RACED];
static char raced_answer[RACED][16];

static void *race(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < RACED; i++) {
        rg_verdict v;
        if (rg_challenge_verify(w->g, raced[i].token, raced_answer[i], NULL,
                                &v) != RG_OK)
            w->failed++;
        else if (v == RG_VERDICT_PASS)
            w->passed++;
        else if (v != RG_VERDICT_REPLAYED)
            w->failed++;
    }
    return NULL;
}

START_TEST(threads_race_one_token)
{
    rg_guard *g = shared_guard(store_url(_i));
    for (int i = 0; i < RACED; i++) {
        uint32_t value;
        ck_assert_int_eq(rg_challenge_issue(g, NULL, &raced[i]), RG_OK);
        ck_assert(rg_test_solve(raced[i].question, &value));
        snprintf(raced_answer[i], sizeof raced_answer[i], "%u",
                 (unsigned)value);
    }
    worker w[THREADS];
    run_workers(g, race, w);
    int passed = 0;
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(w[i].failed, 0);
        passed += w[i].passed;
    }
    ck_assert_int_eq(passed, RACED);
    rg_guard_free(g);
}
END_TEST

/* ---- One spam filter ---- */

enum { BATCH = 160 };

typedef struct filter_worker {
    rg_bayes *b;
    int id;
} filter_worker;

static void *classify_and_learn(void *arg)
{
    filter_worker *w = arg;
    static const char *const words[] = {"cheap",   "pills",     "thanks",
                                        "article", "subscribe", "typo",
                                        "free",    "build"};
    char bodies[BATCH][64];
    rg_comment cs[BATCH];
    rg_class classes[BATCH];
    rg_bayes_result res[BATCH];

    for (int i = 0; i < BATCH; i++) {
        snprintf(bodies[i], sizeof bodies[i], "%s %s w%d",
                 words[(i + w->id) % 8], words[(i * 3) % 8], i % 11);
        rg_comment_init(&cs[i]);
        cs[i].body = bodies[i];
        classes[i] = i % 2 ? RG_CLASS_SPAM : RG_CLASS_HAM;
    }
    for (int round = 0; round < 4; round++) {
        if (w->id % 2 == 0)
            ck_assert_int_eq(rg_bayes_learn_batch(w->b, cs, classes, BATCH, 0),
                             RG_OK);
        ck_assert_int_eq(rg_bayes_classify_batch(w->b, cs, BATCH, res), RG_OK);
        for (int i = 0; i < BATCH; i++)
            ck_assert(res[i].spamicity >= 0 && res[i].spamicity <= 1);
    }
    if (w->id == 0)
        ck_assert_int_eq(rg_bayes_optimize(w->b), RG_OK);
    return NULL;
}

START_TEST(threads_share_a_filter)
{
    char url[600];
    rg_bayes_config cfg;
    rg_bayes *b = NULL;
    if (_i == 0)
        snprintf(url, sizeof url, "memory:");
    else
        snprintf(url, sizeof url, "sqlite:%s/filter.db", rg_test_tmpdir());
    rg_bayes_config_init(&cfg);
    cfg.threads = 2;
    ck_assert_int_eq(rg_bayes_open(&b, url, &cfg), RG_OK);

    enum { WORKERS = 4 };
    pthread_t t[WORKERS];
    filter_worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (filter_worker){b, i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, classify_and_learn, &w[i]),
                         0);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    rg_bayes_stats st;
    ck_assert_int_eq(rg_bayes_stats_get(b, &st), RG_OK);
    /* Two learning workers, four rounds, half of each batch spam. */
    ck_assert_uint_eq(st.spam_comments, 2 * 4 * BATCH / 2);
    ck_assert_uint_eq(st.ham_comments, 2 * 4 * BATCH / 2);
    rg_bayes_close(b);
}
END_TEST

Suite *threads_suite(void);

Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("shared guard");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, threads_issue_and_verify, 0, 2);
    tcase_add_loop_test(tc, threads_race_one_token, 0, 2);
    tcase_add_loop_test(tc, threads_share_a_filter, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
