/*
 * rg_judge() (docs/judge.md): each finding of the default policy, each
 * entry of the policy changed, the rate-limit tiers and keys, the cost of
 * a failure and the escalation of the time trap, the content filter, a
 * store that fails, and bad arguments.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "solver.h"

#define BINDING "post-7|comments"

/* The guard's clock, in seconds; the limiters read the same time in
 * nanoseconds. */
static uint64_t now_s;

static uint64_t limiter_clock(void *arg)
{
    (void)arg;
    return now_s * 1000000000ull;
}

static rg_limiter *limiter(double rate, uint32_t burst, const char *name,
                           const char *store)
{
    rg_limiter_config cfg;
    rg_limiter *l = NULL;
    rg_limiter_config_init(&cfg);
    cfg.rate_per_s = rate;
    cfg.burst = burst;
    cfg.name = name;
    if (store)
        cfg.store = store;
    cfg.clock_ns = limiter_clock;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_OK);
    return l;
}

/* A challenge issued now, with its right answer. */
typedef struct issued {
    char token[RG_TOKEN_MAX];
    char answer[16];
} issued;

static issued issue(rg_guard *g, const char *binding)
{
    rg_challenge c;
    issued out;
    uint32_t value;
    ck_assert_int_eq(
        rg_challenge_issue_in(g, binding, NULL, RG_STYLE_DIGITS, &c), RG_OK);
    ck_assert_msg(rg_test_solve(c.question, &value), "cannot solve '%s'",
                  c.question);
    memcpy(out.token, c.token, sizeof out.token);
    snprintf(out.answer, sizeof out.answer, "%u", value);
    return out;
}

static rg_submission submission(const issued *i, const char *client)
{
    rg_submission s;
    rg_submission_init(&s);
    s.author = "Ann";
    s.body = "Thanks for the clear write-up.";
    s.token = i->token;
    s.answer = i->answer;
    s.client = client;
    s.binding = BINDING;
    return s;
}

static rg_decision judge(rg_guard *g, const rg_submission *s,
                         const rg_policy *p)
{
    rg_decision d;
    int rc = rg_judge(g, s, p, &d);
    ck_assert_msg(rc == RG_OK, "rg_judge: %s", rg_err_name(rc));
    return d;
}

/* A submission with the right answer, solved in good time. */
static rg_decision judge_good(rg_guard *g, const rg_policy *p,
                              const char *client)
{
    issued i = issue(g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, client);
    return judge(g, &s, p);
}

START_TEST(accepts_a_good_comment)
{
    now_s = 1700000000;
    rg_guard *g = rg_test_guard(&now_s, NULL);
    rg_decision d = judge_good(g, NULL, "203.0.113.7");
    ck_assert_int_eq(d.action, RG_ACTION_ACCEPT);
    ck_assert_uint_eq(d.reasons, 0);
    ck_assert_int_eq(d.verified, 1);
    ck_assert_int_eq(d.verdict, RG_VERDICT_PASS);
    ck_assert(d.spamicity < 0);
    ck_assert_uint_eq(d.retry_after_ms, 0);
    ck_assert_uint_eq(d.min_solve_s, 5);
    rg_guard_free(g);
}
END_TEST

/* ---- Each finding, and its entry in the policy ---- */

/* Everything a trigger may use. */
typedef struct world {
    rg_guard *g;
    rg_policy p;
    rg_bayes *spammy;  /* trained: the default comment scores as spam */
    rg_bayes *unknown; /* empty: everything is unsure */
    rg_limiter *tight; /* burst 0 */
    char dir[512];
} world;

/* Makes one submission that has the finding `reason` (and no other) and
 * returns its decision under w->p. */
typedef rg_decision (*trigger)(world *w);

static rg_decision t_honeypot(world *w)
{
    issued i = issue(w->g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "203.0.113.7");
    s.honeypot = "http://spam.example";
    return judge(w->g, &s, &w->p);
}

static rg_decision with_answer(world *w, uint64_t wait, const char *answer)
{
    issued i = issue(w->g, BINDING);
    now_s += wait;
    rg_submission s = submission(&i, "203.0.113.7");
    if (answer)
        s.answer = answer;
    return judge(w->g, &s, &w->p);
}

static rg_decision t_wrong(world *w)
{
    return with_answer(w, 6, "1000");
}

static rg_decision t_expired(world *w)
{
    return with_answer(w, 1300, NULL);
}

static rg_decision t_too_fast(world *w)
{
    return with_answer(w, 1, NULL);
}

static rg_decision t_replayed(world *w)
{
    issued i = issue(w->g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "203.0.113.7");
    ck_assert_uint_eq(judge(w->g, &s, &w->p).reasons, 0);
    return judge(w->g, &s, &w->p);
}

static rg_decision t_forged(world *w)
{
    issued i = issue(w->g, "another post");
    now_s += 6;
    rg_submission s = submission(&i, "203.0.113.7");
    return judge(w->g, &s, &w->p);
}

static rg_decision t_malformed(world *w)
{
    issued i = issue(w->g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "203.0.113.7");
    s.token = "not a token";
    return judge(w->g, &s, &w->p);
}

static rg_decision t_rate_limited(world *w)
{
    w->p.limiter = w->tight;
    /* The first uses the one take there is (and passes). */
    rg_decision first = judge_good(w->g, &w->p, "198.51.100.9");
    ck_assert_int_eq(first.reasons, 0);
    issued i = issue(w->g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "198.51.100.9");
    return judge(w->g, &s, &w->p);
}

static rg_decision t_spam(world *w)
{
    w->p.bayes = w->spammy;
    issued i = issue(w->g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "203.0.113.7");
    s.body = "cheap pills casino bonus http://pills.example.com buy now";
    return judge(w->g, &s, &w->p);
}

static rg_decision t_unsure(world *w)
{
    w->p.bayes = w->unknown;
    return judge_good(w->g, &w->p, "203.0.113.7");
}

#if RG_HAVE_SQLITE
static rg_decision t_store_unavailable(world *w)
{
    /* A limiter whose file has lost its table. */
    char path[600], url[700];
    snprintf(path, sizeof path, "%s/broken.db", w->dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    w->p.limiter = limiter(1, 5, "", url);
    rg_test_sql_exec(path, "DROP TABLE limits");
    rg_decision d = judge_good(w->g, &w->p, "203.0.113.7");
    rg_limiter_free(w->p.limiter);
    w->p.limiter = NULL;
    return d;
}
#endif

typedef struct finding {
    uint32_t reason;
    trigger make;
    rg_action by_default;
    size_t field; /* offsetof the policy's entry */
    int verified; /* whether the challenge gets verified */
} finding;

static const finding FINDINGS[] = {
    {RG_REASON_HONEYPOT, t_honeypot, RG_ACTION_REJECT,
     offsetof(rg_policy, on_honeypot), 0},
    {RG_REASON_CAPTCHA_WRONG, t_wrong, RG_ACTION_REJECT,
     offsetof(rg_policy, on_captcha_wrong), 1},
    {RG_REASON_CAPTCHA_EXPIRED, t_expired, RG_ACTION_REJECT,
     offsetof(rg_policy, on_captcha_expired), 1},
    {RG_REASON_CAPTCHA_TOO_FAST, t_too_fast, RG_ACTION_REJECT,
     offsetof(rg_policy, on_captcha_too_fast), 1},
    {RG_REASON_CAPTCHA_REPLAYED, t_replayed, RG_ACTION_REJECT,
     offsetof(rg_policy, on_captcha_replayed), 1},
    {RG_REASON_CAPTCHA_FORGED, t_forged, RG_ACTION_REJECT,
     offsetof(rg_policy, on_captcha_forged), 1},
    {RG_REASON_CAPTCHA_MALFORMED, t_malformed, RG_ACTION_REJECT,
     offsetof(rg_policy, on_captcha_malformed), 1},
    {RG_REASON_RATE_LIMITED, t_rate_limited, RG_ACTION_REJECT,
     offsetof(rg_policy, on_rate_limited), 0},
    {RG_REASON_SPAM, t_spam, RG_ACTION_REJECT, offsetof(rg_policy, on_spam), 1},
    {RG_REASON_UNSURE, t_unsure, RG_ACTION_MODERATE,
     offsetof(rg_policy, on_unsure), 1},
#if RG_HAVE_SQLITE
    {RG_REASON_STORE_UNAVAILABLE, t_store_unavailable, RG_ACTION_MODERATE,
     offsetof(rg_policy, on_store_unavailable), 1},
#endif
};
#define NFINDINGS (sizeof FINDINGS / sizeof FINDINGS[0])

static void train_spammy(rg_bayes *b)
{
    static const char *const spam[] = {
        "cheap pills casino bonus http://pills.example.com",
        "buy now cheap pills http://pills.example.com/order",
        "casino bonus free spins buy now",
    };
    static const char *const ham[] = {
        "Thanks for the clear write-up.",
        "I tried this on my own blog and it worked, thanks.",
        "Clear and useful, the second example helped me.",
    };
    for (int r = 0; r < 5; r++)
        for (size_t i = 0; i < 3; i++) {
            rg_comment c;
            rg_comment_init(&c);
            c.body = spam[i];
            ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
            c.body = ham[i];
            ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_HAM), RG_OK);
        }
}

static void world_init(world *w)
{
    now_s = 1700000000;
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", rg_test_tmpdir());
    w->g = rg_test_guard(&now_s, NULL);
    rg_policy_init(&w->p);
    ck_assert_int_eq(rg_bayes_open(&w->spammy, "memory:", NULL), RG_OK);
    ck_assert_int_eq(rg_bayes_open(&w->unknown, "memory:", NULL), RG_OK);
    train_spammy(w->spammy);
    w->tight = limiter(1.0 / 3600, 0, "tight", NULL);
}

static void world_free(world *w)
{
    rg_guard_free(w->g);
    rg_bayes_close(w->spammy);
    rg_bayes_close(w->unknown);
    rg_limiter_free(w->tight);
}

static void set_action(rg_policy *p, size_t field, rg_action a)
{
    memcpy((char *)p + field, &a, sizeof a);
}

/* Each finding alone: its bit, its default action; then each other
 * action put in its entry of the policy. */
START_TEST(policy_case_by_case)
{
    const finding *f = &FINDINGS[_i];
    for (int a = -1; a <= RG_ACTION_REJECT; a++) {
        world w;
        world_init(&w);
        if (a >= 0)
            set_action(&w.p, f->field, (rg_action)a);
        rg_decision d = f->make(&w);
        ck_assert_msg(d.reasons == f->reason, "%s: reasons %#x",
                      rg_reason_name(f->reason), d.reasons);
        rg_action want = a < 0 ? f->by_default : (rg_action)a;
        ck_assert_msg(d.action == want, "%s: %s, wanted %s",
                      rg_reason_name(f->reason), rg_action_name(d.action),
                      rg_action_name(want));
        if (a < 0)
            ck_assert_msg(d.verified == f->verified, "%s: verified %d",
                          rg_reason_name(f->reason), d.verified);
        world_free(&w);
    }
}
END_TEST

/* A REJECT stops the later layers: a limited client or a bot that filled
 * the honeypot gets no guess, and its token stays unspent. */
START_TEST(reject_stops_later_layers)
{
    world w;
    world_init(&w);
    w.p.bayes = w.spammy;
    issued i = issue(w.g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "203.0.113.7");
    s.honeypot = "x";
    rg_decision d = judge(w.g, &s, &w.p);
    ck_assert_int_eq(d.verified, 0);
    ck_assert(d.spamicity < 0);
    s.honeypot = "";
    d = judge(w.g, &s, &w.p);
    ck_assert_int_eq(d.action, RG_ACTION_ACCEPT);
    ck_assert(d.spamicity >= 0 && d.spamicity < 0.5);

    /* A wrong answer is rejected before the filter runs. */
    i = issue(w.g, BINDING);
    now_s += 6;
    s = submission(&i, "203.0.113.7");
    s.answer = "1000";
    d = judge(w.g, &s, &w.p);
    ck_assert_uint_eq(d.reasons, RG_REASON_CAPTCHA_WRONG);
    ck_assert(d.spamicity < 0);
    world_free(&w);
}
END_TEST

/* ---- Rate limits ---- */

START_TEST(limits_per_client)
{
    world w;
    world_init(&w);
    w.p.limiter = limiter(1.0 / 60, 1, "per-client", NULL); /* 2 at once */
    const char *client = "2001:db8:1:2::10";
    ck_assert_uint_eq(judge_good(w.g, &w.p, client).reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, client).reasons, 0);
    rg_decision d = judge_good(w.g, &w.p, "2001:db8:1:2::99"); /* same /64 */
    ck_assert_uint_eq(d.reasons, RG_REASON_RATE_LIMITED);
    ck_assert(d.retry_after_ms > 0 && d.retry_after_ms <= 60000);
    ck_assert_int_eq(d.action, RG_ACTION_REJECT);
    /* Another /64, and an IPv4 client, have limits of their own. */
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:3::10").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "::ffff:192.0.2.1").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "192.0.2.1").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "192.0.2.1").reasons,
                      RG_REASON_RATE_LIMITED);
    rg_limiter_free(w.p.limiter);
    world_free(&w);
}
END_TEST

/* The coarser tiers count the /56 and /48 networks of IPv6 clients. */
START_TEST(limits_ipv6_tiers)
{
    world w;
    world_init(&w);
    w.p.limiter = limiter(1.0 / 60, 9, "host", NULL);
    w.p.limiter_ipv6_56 = limiter(1.0 / 60, 2, "net56", NULL);
    w.p.limiter_ipv6_48 = limiter(1.0 / 60, 4, "net48", NULL);
    /* Three /64s of one /56: the /56 allows 3. */
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:100::1").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:101::1").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:102::1").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:103::1").reasons,
                      RG_REASON_RATE_LIMITED);
    /* Another /56 of the same /48: 1 more of the /48's 5 (the refused
     * one above counted too). */
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:200::1").reasons, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "2001:db8:1:300::1").reasons,
                      RG_REASON_RATE_LIMITED);
    /* IPv4 clients have no networks here. */
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(judge_good(w.g, &w.p, "192.0.2.1").reasons, 0);
    rg_limiter_free(w.p.limiter);
    rg_limiter_free(w.p.limiter_ipv6_56);
    rg_limiter_free(w.p.limiter_ipv6_48);
    world_free(&w);
}
END_TEST

static rg_decision judge_on(world *w, const char *client, const char *binding)
{
    issued i = issue(w->g, binding);
    now_s += 6;
    rg_submission s = submission(&i, client);
    s.binding = binding;
    return judge(w->g, &s, &w->p);
}

START_TEST(limits_by_binding)
{
    world w;
    world_init(&w);
    w.p.limiter = limiter(1.0 / 60, 0, "by", NULL);
    w.p.limit_by = RG_LIMIT_BY_BINDING;
    ck_assert_uint_eq(judge_on(&w, "192.0.2.1", "a").reasons, 0);
    ck_assert_uint_eq(judge_on(&w, "192.0.2.2", "a").reasons,
                      RG_REASON_RATE_LIMITED);
    ck_assert_uint_eq(judge_on(&w, "192.0.2.2", "b").reasons, 0);
    /* No client address is needed to count by binding. */
    ck_assert_uint_eq(judge_on(&w, NULL, "c").reasons, 0);
    rg_limiter_free(w.p.limiter);

    w.p.limiter = limiter(1.0 / 60, 0, "both", NULL);
    w.p.limit_by = RG_LIMIT_BY_CLIENT_BINDING;
    ck_assert_uint_eq(judge_on(&w, "192.0.2.1", "a").reasons, 0);
    ck_assert_uint_eq(judge_on(&w, "192.0.2.1", "b").reasons, 0);
    ck_assert_uint_eq(judge_on(&w, "192.0.2.2", "a").reasons, 0);
    ck_assert_uint_eq(judge_on(&w, "192.0.2.1", "a").reasons,
                      RG_REASON_RATE_LIMITED);
    rg_limiter_free(w.p.limiter);
    world_free(&w);
}
END_TEST

/* A failed challenge costs failure_cost; a passed one, 1. */
START_TEST(failures_cost_more)
{
    world w;
    world_init(&w);
    rg_limiter *l = limiter(1.0 / 3600, 9, "cost", NULL); /* 10 at once */
    w.p.limiter = l;
    w.p.failure_cost = 4;
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t len;
    rg_limit_result r;
    ck_assert_int_eq(rg_client_key("192.0.2.7", 0, key, &len), RG_OK);

    ck_assert_uint_eq(judge_good(w.g, &w.p, "192.0.2.7").reasons, 0);
    ck_assert_int_eq(rg_limiter_take(l, key, len, 0, &r), RG_OK);
    ck_assert_uint_eq(r.remaining, 9);
    issued i = issue(w.g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, "192.0.2.7");
    s.answer = "1000";
    ck_assert_uint_eq(judge(w.g, &s, &w.p).reasons, RG_REASON_CAPTCHA_WRONG);
    ck_assert_int_eq(rg_limiter_take(l, key, len, 0, &r), RG_OK);
    ck_assert_uint_eq(r.remaining, 5);
    /* At the edge, a failure takes what is left. */
    ck_assert_int_eq(rg_limiter_take(l, key, len, 3, &r), RG_OK);
    i = issue(w.g, BINDING);
    now_s += 6;
    s = submission(&i, "192.0.2.7");
    s.answer = "1000";
    ck_assert_uint_eq(judge(w.g, &s, &w.p).reasons, RG_REASON_CAPTCHA_WRONG);
    ck_assert_int_eq(rg_limiter_take(l, key, len, 0, &r), RG_OK);
    ck_assert_uint_eq(r.remaining, 0);
    ck_assert_uint_eq(judge_good(w.g, &w.p, "192.0.2.7").reasons,
                      RG_REASON_RATE_LIMITED);
    rg_limiter_free(l);
    world_free(&w);
}
END_TEST

/* Each failure counted raises the client's minimum solve time, up to the
 * cap; other clients keep the guard's. */
START_TEST(time_trap_escalates)
{
    world w;
    world_init(&w);
    w.p.failures = limiter(1.0 / 600, 9, "failures", NULL);
    w.p.escalation_step_s = 10;
    w.p.escalation_cap_s = 30;
    const char *client = "192.0.2.50";

    rg_decision d = judge_good(w.g, &w.p, client);
    ck_assert_uint_eq(d.min_solve_s, 5);
    issued i = issue(w.g, BINDING);
    now_s += 6;
    rg_submission s = submission(&i, client);
    s.answer = "1000";
    d = judge(w.g, &s, &w.p);
    ck_assert_uint_eq(d.reasons, RG_REASON_CAPTCHA_WRONG);

    /* One failure: 15 s. A right answer after 6 s is too fast now. */
    d = judge_good(w.g, &w.p, client);
    ck_assert_uint_eq(d.min_solve_s, 15);
    ck_assert_uint_eq(d.reasons, RG_REASON_CAPTCHA_TOO_FAST);
    /* That too counted: 25 s; and another client is not affected. */
    ck_assert_uint_eq(judge_good(w.g, &w.p, "192.0.2.51").min_solve_s, 5);
    i = issue(w.g, BINDING);
    now_s += 26;
    s = submission(&i, client);
    d = judge(w.g, &s, &w.p);
    ck_assert_uint_eq(d.min_solve_s, 25);
    ck_assert_uint_eq(d.reasons, 0);
    /* The cap. */
    for (int k = 0; k < 3; k++) {
        i = issue(w.g, BINDING);
        now_s += 6;
        s = submission(&i, client);
        s.answer = "1000";
        judge(w.g, &s, &w.p);
    }
    d = judge_good(w.g, &w.p, client);
    ck_assert_uint_eq(d.min_solve_s, 30);
    /* The failures drain at the limiter's rate (1 per 10 minutes). */
    now_s += 3 * 3600;
    ck_assert_uint_eq(judge_good(w.g, &w.p, client).min_solve_s, 5);
    rg_limiter_free(w.p.failures);
    world_free(&w);
}
END_TEST

/* The replay store failing: no verdict, the comment is held, not lost. */
START_TEST(replay_store_failure_moderates)
{
    char path[600], url[700];
    now_s = 1700000000;
    snprintf(path, sizeof path, "%s/guard.db", rg_test_tmpdir());
    snprintf(url, sizeof url, "sqlite:%s", path);
    rg_guard *g = rg_test_guard(&now_s, url);
    rg_test_sql_exec(path, "DROP TABLE spent");
    rg_decision d = judge_good(g, NULL, "192.0.2.1");
    ck_assert_uint_eq(d.reasons, RG_REASON_STORE_UNAVAILABLE);
    ck_assert_int_eq(d.action, RG_ACTION_MODERATE);
    ck_assert_int_eq(d.verified, 0);
    rg_guard_free(g);
}
END_TEST

/* ---- Bad arguments ---- */

START_TEST(bad_arguments)
{
    world w;
    world_init(&w);
    issued i = issue(w.g, BINDING);
    rg_submission s = submission(&i, "192.0.2.1");
    rg_decision d;

    ck_assert_int_eq(rg_judge(NULL, &s, NULL, &d), RG_EINVAL);
    ck_assert_int_eq(d.action, RG_ACTION_REJECT);
    ck_assert_uint_eq(d.reasons, 0);
    ck_assert_int_eq(rg_judge(w.g, NULL, NULL, &d), RG_EINVAL);
    ck_assert_int_eq(rg_judge(w.g, &s, NULL, NULL), RG_EINVAL);
    s.size = 8;
    ck_assert_int_eq(rg_judge(w.g, &s, NULL, &d), RG_EINVAL);
    s.size = sizeof s;

    rg_policy p = w.p;
    p.size = 8;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EINVAL);
    p = w.p;
    p.on_spam = (rg_action)3;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EINVAL);
    p = w.p;
    p.on_honeypot = (rg_action)-1;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EINVAL);
    p = w.p;
    p.failure_cost = 0;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EINVAL);
    p.failure_cost = 1001;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EINVAL);
    p = w.p;
    p.limit_by = (rg_limit_by)3;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EINVAL);

    /* A client that is not an address, while a limiter counts by it. */
    p = w.p;
    p.limiter = w.tight;
    static const char *const bad[] = {"", "localhost", "1.2.3.4:80",
                                      "fe80::1%eth0"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        s.client = bad[k];
        ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EADDRESS);
        ck_assert_int_eq(d.action, RG_ACTION_REJECT);
    }
    s.client = NULL;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EADDRESS);
    p.limiter = NULL;
    p.failures = w.tight;
    ck_assert_int_eq(rg_judge(w.g, &s, &p, &d), RG_EADDRESS);
    /* Without a limiter nothing needs the address. */
    s.client = "localhost";
    now_s += 6;
    ck_assert_int_eq(rg_judge(w.g, &s, &w.p, &d), RG_OK);
    ck_assert_int_eq(d.action, RG_ACTION_ACCEPT);

    /* Missing fields are empty, and a missing token is malformed. */
    rg_submission empty;
    rg_submission_init(&empty);
    ck_assert_int_eq(rg_judge(w.g, &empty, NULL, &d), RG_OK);
    ck_assert_uint_eq(d.reasons, RG_REASON_CAPTCHA_MALFORMED);
    world_free(&w);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(rg_action_name(RG_ACTION_ACCEPT), "accept");
    ck_assert_str_eq(rg_action_name(RG_ACTION_MODERATE), "moderate");
    ck_assert_str_eq(rg_action_name(RG_ACTION_REJECT), "reject");
    ck_assert_str_eq(rg_action_name((rg_action)3), "unknown");
    static const char *const want[] = {
        "honeypot",
        "captcha_wrong",
        "captcha_expired",
        "captcha_too_fast",
        "captcha_replayed",
        "captcha_forged",
        "captcha_malformed",
        "rate_limited",
        "spam",
        "unsure",
        "store_unavailable",
    };
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_str_eq(rg_reason_name(1u << i), want[i]);
    ck_assert_str_eq(rg_reason_name(0), "unknown");
    ck_assert_str_eq(rg_reason_name(3), "unknown");
    ck_assert_str_eq(rg_reason_name(1u << 11), "unknown");
    ck_assert_str_eq(rg_err_name(RG_EADDRESS), "RG_EADDRESS");
}
END_TEST

Suite *judge_suite(void);

Suite *judge_suite(void)
{
    Suite *s = suite_create("judge");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, accepts_a_good_comment);
    tcase_add_loop_test(tc, policy_case_by_case, 0, NFINDINGS);
    tcase_add_test(tc, reject_stops_later_layers);
    tcase_add_test(tc, limits_per_client);
    tcase_add_test(tc, limits_ipv6_tiers);
    tcase_add_test(tc, limits_by_binding);
    tcase_add_test(tc, failures_cost_more);
    tcase_add_test(tc, time_trap_escalates);
#if RG_HAVE_SQLITE
    tcase_add_test(tc, replay_store_failure_moderates);
#endif
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return s;
}
