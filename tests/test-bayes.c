/*
 * The content filter through its public API: learning, exact unlearning,
 * scores and verdicts on a small corpus written here, clues, settings and
 * errors; against the memory and the sqlite model stores alike.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "rg-config.h"

#if RG_HAVE_SQLITE
#include <sqlite3.h>
#endif

static const char *const spam_bodies[] = {
    "Buy cheap pills now at http://pills.example.com best price",
    "Cheap watches! Visit http://watches.example.net for the best deals",
    "Check out my channel and subscribe http://youtube.example.org/chan",
    "WIN a FREE iPhone!!! Click http://prize.example.com now",
    "Earn money from home, visit http://money.example.biz today",
    "Subscribe to my channel please, free gifts for everyone",
    "Best price on cheap pills, no prescription, click here now",
    "Free money!!! Visit my site http://cash.example.info and win",
    "Hot singles in your area, click http://dating.example.com",
    "Cheap loans approved today, call now, free quote",
};

static const char *const ham_bodies[] = {
    "Great article, thanks for explaining the rate limiter so clearly.",
    "I disagree with the second point, the cache should expire sooner.",
    "Thanks! This helped me fix my build on Debian.",
    "Could you write a follow-up about key rotation?",
    "Nice write-up. The diagram of the token format is very helpful.",
    "I tried this on my blog and the spam stopped within a day.",
    "Typo in the third paragraph: 'recieve' should be 'receive'.",
    "Interesting read, I had never heard of GCRA before.",
    "How does this compare with the approach in the previous post?",
    "Thank you for the clear explanation of the verification order.",
};

#define N_SPAM (sizeof spam_bodies / sizeof spam_bodies[0])
#define N_HAM  (sizeof ham_bodies / sizeof ham_bodies[0])

static const char *url_of(int i)
{
    static char url[600];
    if (i == 0)
        return "memory:";
    snprintf(url, sizeof url, "sqlite:%s/model.db", rg_test_tmpdir());
    return url;
}

static rg_comment comment(const char *body)
{
    rg_comment c;
    rg_comment_init(&c);
    c.body = body;
    return c;
}

static rg_bayes *open_model(const char *url)
{
    rg_bayes *b = NULL;
    int rc = rg_bayes_open(&b, url, NULL);
    ck_assert_msg(rc == RG_OK, "rg_bayes_open(%s): %s", url, rg_strerror(rc));
    return b;
}

static void train(rg_bayes *b)
{
    for (size_t i = 0; i < N_SPAM; i++) {
        rg_comment c = comment(spam_bodies[i]);
        ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
    }
    for (size_t i = 0; i < N_HAM; i++) {
        rg_comment c = comment(ham_bodies[i]);
        ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_HAM), RG_OK);
    }
}

static double score(rg_bayes *b, const char *body)
{
    rg_comment c = comment(body);
    rg_bayes_result r;
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
    ck_assert(r.spamicity >= 0 && r.spamicity <= 1);
    return r.spamicity;
}

START_TEST(empty_model_is_unsure)
{
    rg_bayes *b = open_model(url_of(_i));
    rg_comment c = comment("anything at all");
    rg_bayes_result r;
    rg_clue clues[4];
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, clues, 4), RG_OK);
    ck_assert(r.spamicity == 0.5);
    ck_assert_int_eq(r.verdict, RG_BAYES_UNSURE);
    ck_assert_uint_eq(r.nclues, 0);
    rg_bayes_stats st;
    ck_assert_int_eq(rg_bayes_stats_get(b, &st), RG_OK);
    ck_assert_uint_eq(st.spam_comments + st.ham_comments + st.tokens, 0);
    rg_bayes_close(b);
}
END_TEST

START_TEST(orders_unseen_comments)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    double spammy = score(b, "Cheap pills, click http://pills.example.com now");
    double spammy2 = score(b, "Subscribe to my channel for free gifts");
    double hammy = score(b, "Thanks for the clear article about the cache");
    double hammy2 = score(b, "I had never heard of this approach, thanks");
    ck_assert_msg(spammy > 0.8 && spammy2 > 0.8, "%f %f", spammy, spammy2);
    ck_assert_msg(hammy < 0.2 && hammy2 < 0.2, "%f %f", hammy, hammy2);
    double mixed = score(b, "Thanks for the article, cheap pills here");
    ck_assert(mixed > hammy && mixed < spammy);
    rg_bayes_close(b);
}
END_TEST

START_TEST(clues_explain)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    rg_comment c = comment("Cheap pills, click now for the best price");
    rg_bayes_result r;
    rg_clue clues[50];
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, clues, 50), RG_OK);
    ck_assert_uint_gt(r.nclues, 2);
    bool cheap = false;
    for (size_t i = 0; i < r.nclues; i++) {
        /* Most extreme first. */
        if (i > 0)
            ck_assert(fabs(clues[i].probability - 0.5) <=
                      fabs(clues[i - 1].probability - 0.5));
        ck_assert(fabs(clues[i].probability - 0.5) >= 0.1);
        if (strcmp(clues[i].token, "cheap") == 0) {
            cheap = true;
            ck_assert_uint_eq(clues[i].spam_count, 4);
            ck_assert_uint_eq(clues[i].ham_count, 0);
            ck_assert(clues[i].probability > 0.8);
        }
    }
    ck_assert(cheap);
    /* Fewer clue slots than clues: only the first ones are written. */
    rg_bayes_result r2;
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r2, clues, 1), RG_OK);
    ck_assert_uint_eq(r2.nclues, 1);
    ck_assert(r2.spamicity == r.spamicity);
    rg_bayes_close(b);
}
END_TEST

/* Scores of a fixed probe set, to compare models. */
static void probe(rg_bayes *b, double out[4])
{
    static const char *const probes[] = {
        "cheap pills at http://pills.example.com",
        "thanks for the article",
        "subscribe to my channel",
        "a typo in the paragraph",
    };
    for (int i = 0; i < 4; i++)
        out[i] = score(b, probes[i]);
}

START_TEST(learn_then_unlearn_is_exact)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    rg_bayes_stats before, after;
    double s_before[4], s_after[4];
    ck_assert_int_eq(rg_bayes_stats_get(b, &before), RG_OK);
    probe(b, s_before);

    rg_comment c = comment("Completely new words: zyxwv quantum marmalade "
                           "http://new.example.com cheap");
    ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_bayes_stats_get(b, &after), RG_OK);
    ck_assert_uint_eq(after.spam_comments, before.spam_comments + 1);
    ck_assert_uint_gt(after.tokens, before.tokens);

    ck_assert_int_eq(rg_bayes_unlearn(b, &c, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_bayes_stats_get(b, &after), RG_OK);
    ck_assert_uint_eq(after.spam_comments, before.spam_comments);
    ck_assert_uint_eq(after.ham_comments, before.ham_comments);
    ck_assert_uint_eq(after.tokens, before.tokens);
    probe(b, s_after);
    for (int i = 0; i < 4; i++)
        ck_assert(s_after[i] == s_before[i]);
    rg_bayes_close(b);
}
END_TEST

START_TEST(moving_ham_to_spam_is_exact)
{
    /* A moderator who changes their mind: the model ends exactly as if
     * the comment had been learned as spam in the first place. */
    const char *body = "Visit http://shop.example.com for cheap deals";
    rg_bayes *moved = open_model(url_of(_i));
    rg_bayes *direct = open_model("memory:");
    train(moved);
    train(direct);
    rg_comment c = comment(body);
    ck_assert_int_eq(rg_bayes_learn(moved, &c, RG_CLASS_HAM), RG_OK);
    ck_assert_int_eq(rg_bayes_unlearn(moved, &c, RG_CLASS_HAM), RG_OK);
    ck_assert_int_eq(rg_bayes_learn(moved, &c, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_bayes_learn(direct, &c, RG_CLASS_SPAM), RG_OK);

    rg_bayes_stats a, d;
    ck_assert_int_eq(rg_bayes_stats_get(moved, &a), RG_OK);
    ck_assert_int_eq(rg_bayes_stats_get(direct, &d), RG_OK);
    ck_assert_uint_eq(a.spam_comments, d.spam_comments);
    ck_assert_uint_eq(a.ham_comments, d.ham_comments);
    ck_assert_uint_eq(a.tokens, d.tokens);
    double sa[4], sd[4];
    probe(moved, sa);
    probe(direct, sd);
    for (int i = 0; i < 4; i++)
        ck_assert(sa[i] == sd[i]);
    rg_bayes_close(moved);
    rg_bayes_close(direct);
}
END_TEST

START_TEST(unlearning_the_unlearned_changes_nothing)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    rg_bayes_stats before, after;
    ck_assert_int_eq(rg_bayes_stats_get(b, &before), RG_OK);
    rg_comment c = comment("never learned: platypus");
    ck_assert_int_eq(rg_bayes_unlearn(b, &c, RG_CLASS_HAM), RG_ENOTLEARNED);
    /* Learned as spam, unlearned as ham: the ham count would go negative. */
    rg_comment s = comment(spam_bodies[0]);
    ck_assert_int_eq(rg_bayes_unlearn(b, &s, RG_CLASS_HAM), RG_ENOTLEARNED);
    ck_assert_int_eq(rg_bayes_stats_get(b, &after), RG_OK);
    ck_assert_uint_eq(after.spam_comments, before.spam_comments);
    ck_assert_uint_eq(after.ham_comments, before.ham_comments);
    ck_assert_uint_eq(after.tokens, before.tokens);
    rg_bayes_close(b);
}
END_TEST

START_TEST(batch_is_all_or_nothing)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    rg_bayes_stats before, after;
    ck_assert_int_eq(rg_bayes_stats_get(b, &before), RG_OK);
    /* The second comment of the batch was never learned: the first one's
     * unlearning must not happen either. */
    rg_comment cs[2] = {comment(spam_bodies[1]), comment("never learned")};
    rg_class classes[2] = {RG_CLASS_SPAM, RG_CLASS_SPAM};
    ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, 2, 1),
                     RG_ENOTLEARNED);
    ck_assert_int_eq(rg_bayes_stats_get(b, &after), RG_OK);
    ck_assert_uint_eq(after.spam_comments, before.spam_comments);
    ck_assert_uint_eq(after.tokens, before.tokens);

    /* A batch equals the same comments one by one. */
    rg_bayes *one = open_model("memory:");
    train(one);
    rg_comment more[3] = {comment("alpha beta"), comment("gamma delta"),
                          comment("alpha gamma")};
    rg_class mc[3] = {RG_CLASS_SPAM, RG_CLASS_HAM, RG_CLASS_SPAM};
    ck_assert_int_eq(rg_bayes_learn_batch(b, more, mc, 3, 0), RG_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rg_bayes_learn(one, &more[i], mc[i]), RG_OK);
    double sb[4], so[4];
    probe(b, sb);
    probe(one, so);
    for (int i = 0; i < 4; i++)
        ck_assert(sb[i] == so[i]);
    ck_assert_int_eq(rg_bayes_learn_batch(b, NULL, NULL, 0, 0), RG_OK);
    rg_bayes_close(one);
    rg_bayes_close(b);
}
END_TEST

START_TEST(batch_scores_like_one_by_one)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    static const char *const bodies[] = {
        "cheap pills at http://pills.example.com",
        "thanks for the article",
        "subscribe to my channel",
        "",
        "a typo in the paragraph",
    };
    rg_comment cs[5];
    rg_bayes_result batch[5];
    for (int i = 0; i < 5; i++)
        cs[i] = comment(bodies[i]);
    ck_assert_int_eq(rg_bayes_classify_batch(b, cs, 5, batch), RG_OK);
    for (int i = 0; i < 5; i++) {
        rg_bayes_result one;
        ck_assert_int_eq(rg_bayes_classify(b, &cs[i], &one, NULL, 0), RG_OK);
        ck_assert(one.spamicity == batch[i].spamicity);
        ck_assert_int_eq(one.verdict, batch[i].verdict);
    }
    ck_assert_int_eq(rg_bayes_classify_batch(b, NULL, 0, NULL), RG_OK);
    ck_assert_int_eq(rg_bayes_classify_batch(b, NULL, 2, batch), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify_batch(b, cs, 2, NULL), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify_batch(NULL, cs, 2, batch), RG_EINVAL);
    cs[1].size = 2;
    ck_assert_int_eq(rg_bayes_classify_batch(b, cs, 2, batch), RG_EINVAL);
    rg_bayes_close(b);
}
END_TEST

START_TEST(batch_of_long_comments)
{
    /* 64 comments of ~2048 distinct words each: past what a thread keeps
     * between calls, so the buffers are given back, and later calls still
     * work. */
    rg_bayes *b = open_model("memory:");
    train(b);
    enum { N = 64, WORDS = 2100 };
    static rg_comment cs[N];
    static rg_bayes_result res[N];
    char *bodies[N];
    for (int i = 0; i < N; i++) {
        size_t size = WORDS * 12;
        bodies[i] = malloc(size);
        size_t len = 0;
        for (int w = 0; w < WORDS; w++)
            len +=
                (size_t)snprintf(bodies[i] + len, size - len, "w%dx%d ", i, w);
        cs[i] = comment(bodies[i]);
    }
    ck_assert_int_eq(rg_bayes_classify_batch(b, cs, N, res), RG_OK);
    for (int i = 0; i < N; i++)
        ck_assert(res[i].spamicity >= 0 && res[i].spamicity <= 1);
    ck_assert(score(b, spam_bodies[0]) > 0.5);
    ck_assert_int_eq(rg_bayes_classify_batch(b, cs, 2, res), RG_OK);
    for (int i = 0; i < N; i++)
        free(bodies[i]);
    rg_bayes_close(b);
}
END_TEST

START_TEST(reopen_gives_same_scores)
{
    char url[600];
    snprintf(url, sizeof url, "sqlite:%s/model.db", rg_test_tmpdir());
    rg_bayes *b = open_model(url);
    train(b);
    double first[4], again[4];
    probe(b, first);
    rg_bayes_close(b);
    b = open_model(url);
    probe(b, again);
    for (int i = 0; i < 4; i++)
        ck_assert(first[i] == again[i]);
    rg_bayes_close(b);
}
END_TEST

START_TEST(cutoffs_decide_verdict)
{
    rg_bayes_config cfg;
    rg_bayes_config_init(&cfg);
    cfg.ham_cutoff = 0.0;
    cfg.spam_cutoff = 1.0;
    rg_bayes *b = NULL;
    ck_assert_int_eq(rg_bayes_open(&b, "memory:", &cfg), RG_OK);
    train(b);
    rg_comment c = comment(spam_bodies[0]);
    rg_bayes_result r;
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
    ck_assert_int_eq(r.verdict,
                     r.spamicity >= 1.0 ? RG_BAYES_SPAM : RG_BAYES_UNSURE);
    rg_bayes_close(b);

    rg_bayes_config_init(&cfg);
    cfg.spam_cutoff = 0.5;
    cfg.ham_cutoff = 0.5;
    ck_assert_int_eq(rg_bayes_open(&b, "memory:", &cfg), RG_OK);
    train(b);
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
    ck_assert_int_eq(r.verdict, RG_BAYES_SPAM);
    c = comment(ham_bodies[0]);
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
    ck_assert_int_eq(r.verdict, RG_BAYES_HAM);
    rg_bayes_close(b);
}
END_TEST

START_TEST(hostile_comments)
{
    rg_bayes *b = open_model(url_of(_i));
    train(b);
    static char big[1 << 20];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = (char)("ab \xff<&#x;"[i % 10]);
    big[sizeof big - 1] = '\0';
    rg_comment c;
    rg_comment_init(&c);
    rg_bayes_result r;
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
    c.body = big;
    c.author = "\xc0\xaf";
    c.email = "@@@";
    c.url = "http://";
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
    ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_bayes_unlearn(b, &c, RG_CLASS_SPAM), RG_OK);
    rg_bayes_close(b);
}
END_TEST

START_TEST(errors)
{
    rg_bayes *b = NULL;
    rg_bayes_config cfg;
    ck_assert_int_eq(rg_bayes_open(NULL, "memory:", NULL), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_open(&b, "bogus:", NULL), RG_EURL);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(rg_bayes_open(&b, NULL, NULL), RG_EINVAL);

    static const struct {
        double ham, spam, strength, prior, dev;
        uint32_t clues;
    } bad[] = {
        {0.5, 0.4, 0.45, 0.5, 0.1, 150}, {-0.1, 0.9, 0.45, 0.5, 0.1, 150},
        {0.2, 1.1, 0.45, 0.5, 0.1, 150}, {0.2, 0.9, 0, 0.5, 0.1, 150},
        {0.2, 0.9, 0.45, 0, 0.1, 150},   {0.2, 0.9, 0.45, 1, 0.1, 150},
        {0.2, 0.9, 0.45, 0.5, 0.5, 150}, {0.2, 0.9, 0.45, 0.5, 0.1, 0},
        {NAN, 0.9, 0.45, 0.5, 0.1, 150}, {0.2, 0.9, NAN, 0.5, 0.1, 150},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rg_bayes_config_init(&cfg);
        cfg.ham_cutoff = bad[i].ham;
        cfg.spam_cutoff = bad[i].spam;
        cfg.strength = bad[i].strength;
        cfg.prior = bad[i].prior;
        cfg.min_deviation = bad[i].dev;
        cfg.max_clues = bad[i].clues;
        ck_assert_msg(rg_bayes_open(&b, "memory:", &cfg) == RG_EINVAL,
                      "case %zu", i);
    }
    rg_bayes_config_init(&cfg);
    cfg.threads = 65;
    ck_assert_int_eq(rg_bayes_open(&b, "memory:", &cfg), RG_EINVAL);
    cfg.threads = 64;
    ck_assert_int_eq(rg_bayes_open(&b, "memory:", &cfg), RG_OK);
    rg_bayes_close(b);
    b = NULL;
    rg_bayes_config_init(&cfg);
    cfg.size = 4;
    ck_assert_int_eq(rg_bayes_open(&b, "memory:", &cfg), RG_EINVAL);
    /* A caller whose struct is only as long as its size field: nothing
     * past it may be read (AddressSanitizer checks this in CI). */
    size_t *tiny = malloc(sizeof *tiny);
    *tiny = sizeof *tiny;
    ck_assert_int_eq(
        rg_bayes_open(&b, "memory:", (const rg_bayes_config *)(void *)tiny),
        RG_EINVAL);
    free(tiny);

    b = open_model("memory:");
    rg_comment c = comment("x");
    rg_bayes_result r;
    rg_clue clue;
    ck_assert_int_eq(rg_bayes_learn(NULL, &c, RG_CLASS_SPAM), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_learn(b, NULL, RG_CLASS_SPAM), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_learn(b, &c, (rg_class)7), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_unlearn(b, NULL, RG_CLASS_SPAM), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify(NULL, &c, &r, NULL, 0), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify(b, NULL, &r, NULL, 0), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify(b, &c, NULL, NULL, 0), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 3), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_classify(b, &c, &r, &clue, 1), RG_OK);
    rg_comment small = c;
    small.size = 3;
    ck_assert_int_eq(rg_bayes_classify(b, &small, &r, NULL, 0), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_learn(b, &small, RG_CLASS_HAM), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_learn_batch(b, NULL, NULL, 2, 0), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_stats_get(b, NULL), RG_EINVAL);
    rg_bayes_stats st;
    ck_assert_int_eq(rg_bayes_stats_get(NULL, &st), RG_EINVAL);
    ck_assert_str_eq(rg_bayes_verdict_name(RG_BAYES_HAM), "ham");
    ck_assert_str_eq(rg_bayes_verdict_name(RG_BAYES_UNSURE), "unsure");
    ck_assert_str_eq(rg_bayes_verdict_name(RG_BAYES_SPAM), "spam");
    ck_assert_str_eq(rg_bayes_verdict_name((rg_bayes_verdict)9), "unknown");
    rg_bayes_close(b);
    rg_bayes_close(NULL);
}
END_TEST

/* ---- Batches on several threads ---- */

enum { MANY = 300 };

/* MANY comments, each a corpus body with a word of its own: long enough a
 * batch to be split across threads. */
static void many_comments(char bodies[MANY][160], rg_comment *cs,
                          rg_class *classes)
{
    for (int i = 0; i < MANY; i++) {
        bool spam = i % 3 == 0;
        const char *base =
            spam ? spam_bodies[i % N_SPAM] : ham_bodies[i % N_HAM];
        snprintf(bodies[i], 160, "%s word%d", base, i % 37);
        cs[i] = comment(bodies[i]);
        if (classes)
            classes[i] = spam ? RG_CLASS_SPAM : RG_CLASS_HAM;
    }
}

static rg_bayes *open_threads(const char *url, uint32_t threads)
{
    rg_bayes_config cfg;
    rg_bayes *b = NULL;
    rg_bayes_config_init(&cfg);
    cfg.threads = threads;
    ck_assert_int_eq(rg_bayes_open(&b, url, &cfg), RG_OK);
    return b;
}

/* Learning and classifying a batch on 1, 2 or 3 threads gives the same
 * model and the same scores as comment by comment. */
START_TEST(threads_change_nothing)
{
    static char bodies[MANY][160];
    static rg_comment cs[MANY];
    static rg_class classes[MANY];
    static rg_bayes_result batch[MANY];
    many_comments(bodies, cs, classes);

    rg_bayes *one = open_threads("memory:", 1);
    for (int i = 0; i < MANY; i++)
        ck_assert_int_eq(rg_bayes_learn(one, &cs[i], classes[i]), RG_OK);
    rg_bayes_stats want;
    ck_assert_int_eq(rg_bayes_stats_get(one, &want), RG_OK);

    for (uint32_t threads = 1; threads <= 3; threads++) {
        char url[600];
        if (_i == 0)
            snprintf(url, sizeof url, "memory:");
        else
            snprintf(url, sizeof url, "sqlite:%s/threads-%u.db",
                     rg_test_tmpdir(), threads);
        rg_bayes *b = open_threads(url, threads);
        ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, MANY, 0), RG_OK);
        rg_bayes_stats got;
        ck_assert_int_eq(rg_bayes_stats_get(b, &got), RG_OK);
        ck_assert_uint_eq(got.spam_comments, want.spam_comments);
        ck_assert_uint_eq(got.ham_comments, want.ham_comments);
        ck_assert_uint_eq(got.tokens, want.tokens);

        ck_assert_int_eq(rg_bayes_classify_batch(b, cs, MANY, batch), RG_OK);
        for (int i = 0; i < MANY; i++) {
            rg_bayes_result r;
            ck_assert_int_eq(rg_bayes_classify(one, &cs[i], &r, NULL, 0),
                             RG_OK);
            ck_assert_msg(r.spamicity == batch[i].spamicity,
                          "threads %u, comment %d", threads, i);
            ck_assert_int_eq(r.verdict, batch[i].verdict);
        }
        /* Unlearning the batch on threads leaves an empty model. */
        ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, MANY, 1), RG_OK);
        ck_assert_int_eq(rg_bayes_stats_get(b, &got), RG_OK);
        ck_assert_uint_eq(got.spam_comments + got.ham_comments + got.tokens, 0);
        /* A bad comment anywhere refuses the whole batch. */
        rg_comment saved = cs[MANY - 1];
        cs[MANY - 1].size = 1;
        ck_assert_int_eq(rg_bayes_classify_batch(b, cs, MANY, batch),
                         RG_EINVAL);
        ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, MANY, 0),
                         RG_EINVAL);
        cs[MANY - 1] = saved;
        rg_bayes_close(b);
    }
    rg_bayes_close(one);
}
END_TEST

#if RG_HAVE_SQLITE

/* ---- Model images (sqlite:) ---- */

static void image_path(char *path, size_t size)
{
    snprintf(path, size, "%s/image.db", rg_test_tmpdir());
}

/* Scores of the MANY comments on a fresh handle of the file. */
static void fresh_scores(const char *path, rg_bayes_result *out)
{
    static char bodies[MANY][160];
    static rg_comment cs[MANY];
    char url[700];
    many_comments(bodies, cs, NULL);
    snprintf(url, sizeof url, "sqlite:%s", path);
    rg_bayes *b = open_model(url);
    ck_assert_int_eq(rg_bayes_classify_batch(b, cs, MANY, out), RG_OK);
    rg_bayes_close(b);
}

static bool same_scores(const rg_bayes_result *a, const rg_bayes_result *b)
{
    for (int i = 0; i < MANY; i++)
        if (a[i].spamicity != b[i].spamicity || a[i].verdict != b[i].verdict)
            return false;
    return true;
}

/* PATH-image, the image file of the model at path. */
static void image_file(char *out, size_t size, const char *path)
{
    snprintf(out, size, "%s-image", path);
}

/* A trained model in a new file at path, with its image written. */
static void trained_file(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-image"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[700];
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        remove(name);
    }

    static char bodies[MANY][160];
    static rg_comment cs[MANY];
    static rg_class classes[MANY];
    char url[700], image[700];
    struct stat st;
    many_comments(bodies, cs, classes);
    snprintf(url, sizeof url, "sqlite:%s", path);
    rg_bayes *b = open_model(url);
    ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, MANY, 0), RG_OK);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
    rg_bayes_close(b);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM bayes_image"),
                     1);
    image_file(image, sizeof image, path);
    ck_assert_int_eq(stat(image, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
}

START_TEST(image_scores_like_the_tables)
{
    static rg_bayes_result with_image[MANY], without[MANY];
    char path[600];
    image_path(path, sizeof path);
    trained_file(path);

    fresh_scores(path, with_image);
    rg_test_sql_exec(path, "DELETE FROM bayes_image");
    fresh_scores(path, without);
    ck_assert(same_scores(with_image, without));

    /* The image is what a fresh handle reads: a count changed behind its
     * back in the table alone goes unseen while the image is there. */
    trained_file(path);
    rg_test_sql_exec(path, "UPDATE bayes_tokens SET spam = spam + 50");
    fresh_scores(path, with_image);
    ck_assert(same_scores(with_image, without));
}
END_TEST

START_TEST(learning_drops_the_image)
{
    static rg_bayes_result before[MANY], after[MANY];
    char path[600], url[700];
    image_path(path, sizeof path);
    trained_file(path);
    fresh_scores(path, before);

    snprintf(url, sizeof url, "sqlite:%s", path);
    rg_bayes *b = open_model(url);
    /* Read the image into this handle, then learn: the handle and the
     * file both forget it, and scores follow the learning. */
    rg_bayes_result r;
    rg_comment c = comment(ham_bodies[0]);
    ck_assert_int_eq(rg_bayes_classify_batch(b, &c, 1, &r), RG_OK);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_test_sql_int(path, "SELECT count(*) FROM bayes_image"),
                     0);
    rg_bayes_result moved;
    ck_assert_int_eq(rg_bayes_classify_batch(b, &c, 1, &moved), RG_OK);
    ck_assert(moved.spamicity > r.spamicity);
    rg_bayes_close(b);
    fresh_scores(path, after);
    ck_assert(!same_scores(before, after));

    /* Optimizing again brings back an image that agrees with the tables. */
    b = open_model(url);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
    rg_bayes_close(b);
    fresh_scores(path, before);
    ck_assert(same_scores(before, after));
}
END_TEST

/* Ways to damage an image file (or what names it). */
enum damage {
    TRUNCATED,
    EXTENDED,
    EMPTY,
    BAD_MAGIC,
    NO_EMPTY_SLOT_CLAIMED, /* ntokens as large as nslots */
    HUGE_NSLOTS,
    OTHER_KEY,    /* the table names another image */
    OTHER_TOTALS, /* totals that disagree with the table's */
    MISSING,
    A_DIRECTORY,
    ANOTHER_MODEL, /* an image of another model, under this name */
    N_DAMAGE
};

static void damage_image(const char *path, enum damage d)
{
    char image[700];
    size_t len;
    image_file(image, sizeof image, path);
    unsigned char *bytes = rg_test_read_file(image, &len);
    ck_assert_uint_ge(len, 64);

    switch (d) {
    case TRUNCATED:
        rg_test_write_file(image, bytes, len - 1);
        break;
    case EXTENDED:
        bytes[len] = 0;
        rg_test_write_file(image, bytes, len + 1);
        break;
    case EMPTY:
        rg_test_write_file(image, bytes, 0);
        break;
    case BAD_MAGIC:
        bytes[0] ^= 1;
        rg_test_write_file(image, bytes, len);
        break;
    case NO_EMPTY_SLOT_CLAIMED:
        memcpy(bytes + 60, bytes + 56, 4);
        rg_test_write_file(image, bytes, len);
        break;
    case HUGE_NSLOTS:
        memset(bytes + 56, 0xff, 3);
        rg_test_write_file(image, bytes, len);
        break;
    case OTHER_KEY:
        rg_test_sql_exec(path, "UPDATE bayes_image SET tag = zeroblob(16)");
        break;
    case OTHER_TOTALS:
        rg_test_sql_exec(path,
                         "UPDATE bayes_totals SET spam_words = spam_words + 1");
        break;
    case MISSING:
        ck_assert_int_eq(remove(image), 0);
        break;
    case A_DIRECTORY:
        ck_assert_int_eq(remove(image), 0);
        ck_assert_int_eq(mkdir(image, 0700), 0);
        break;
    case ANOTHER_MODEL: {
        /* An image of a model trained on half the comments, with the key
         * of this file's image: well formed, and still refused, because
         * its totals are not the table's. */
        char other[600], other_image[700];
        snprintf(other, sizeof other, "%s/other.db", rg_test_tmpdir());
        rg_bayes *b;
        char url[800];
        static char bodies[MANY][160];
        static rg_comment cs[MANY];
        static rg_class classes[MANY];
        many_comments(bodies, cs, classes);
        snprintf(url, sizeof url, "sqlite:%s", other);
        b = open_model(url);
        ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, MANY / 2, 0),
                         RG_OK);
        ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
        rg_bayes_close(b);
        image_file(other_image, sizeof other_image, other);
        size_t olen;
        unsigned char *obytes = rg_test_read_file(other_image, &olen);
        memcpy(obytes + 8, bytes + 8, 16);
        rg_test_write_file(image, obytes, olen);
        free(obytes);
        break;
    }
    case N_DAMAGE:
        break;
    }
    free(bytes);
}

/* A damaged or foreign image is ignored: scores come from the tables, and
 * nothing is read out of bounds (AddressSanitizer checks in CI). */
START_TEST(damaged_image_is_ignored)
{
    static rg_bayes_result want[MANY], got[MANY];
    char path[600], image[700];
    image_path(path, sizeof path);
    image_file(image, sizeof image, path);

    for (int d = 0; d < N_DAMAGE; d++) {
        trained_file(path);
        damage_image(path, (enum damage)d);
        /* The reference: the same tables without an image. */
        char ref[700], sql[800];
        snprintf(ref, sizeof ref, "%s/ref.db", rg_test_tmpdir());
        remove(ref);
        snprintf(sql, sizeof sql, "VACUUM INTO '%s'", ref);
        rg_test_sql_exec(path, sql);
        rg_test_sql_exec(ref, "DELETE FROM bayes_image");
        fresh_scores(ref, want);
        fresh_scores(path, got);
        ck_assert_msg(same_scores(want, got), "damage %d", d);
        if (d == A_DIRECTORY)
            ck_assert_int_eq(rmdir(image), 0);
    }

    /* Well formed but hostile: every slot in use, none empty, so only the
     * bound on probes ends a lookup of an absent token. */
    trained_file(path);
    size_t len;
    unsigned char *bytes = rg_test_read_file(image, &len);
    memset(bytes + 64, 0x5a, len - 64);
    rg_test_write_file(image, bytes, len);
    free(bytes);
    fresh_scores(path, got);
    for (int i = 0; i < MANY; i++)
        ck_assert(got[i].spamicity >= 0 && got[i].spamicity <= 1);
}
END_TEST

/* An image that cannot be written is an error of optimize alone: nothing
 * is left behind, and classifying goes on from the tables. */
/* A model whose totals disagree with its rows (a damaged file) gets no
 * image: optimize reports it, and classifying still reads the tables. */
START_TEST(damaged_model_gets_no_image)
{
    static rg_bayes_result want[MANY], got[MANY];
    static const char *const damage[] = {
        "UPDATE bayes_totals SET tokens = tokens + 5", /* fewer rows */
        "UPDATE bayes_totals SET tokens = tokens - 1", /* more rows */
    };
    char path[600], url[700];
    image_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);

    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++) {
        trained_file(path);
        rg_test_sql_exec(path, "DELETE FROM bayes_image");
        fresh_scores(path, want);
        rg_test_sql_exec(path, damage[d]);
        rg_bayes *b = open_model(url);
        ck_assert_int_eq(rg_bayes_optimize(b), RG_ESTORE);
        rg_bayes_close(b);
        ck_assert_int_eq(
            rg_test_sql_int(path, "SELECT count(*) FROM bayes_image"), 0);
        fresh_scores(path, got);
        ck_assert_msg(same_scores(want, got), "damage %zu", d);
    }
}
END_TEST

/* A model of some 6,000 tokens, with its image: too large for one comment
 * to make a fresh handle read it whole. The comment to score is *probe. */
static void large_trained_file(const char *path, rg_comment *probe)
{
    enum { N = 300, WORDS = 20 };
    static char bodies[N][WORDS * 8];
    static rg_comment cs[N];
    static rg_class classes[N];
    char url[700];

    trained_file(path); /* a fresh file with an image, replaced below */
    for (int i = 0; i < N; i++) {
        size_t at = 0;
        for (int w = 0; w < WORDS; w++)
            at += (size_t)snprintf(bodies[i] + at, sizeof bodies[i] - at,
                                   "w%dx%d ", i, w);
        cs[i] = comment(bodies[i]);
        classes[i] = i % 2 ? RG_CLASS_SPAM : RG_CLASS_HAM;
    }
    snprintf(url, sizeof url, "sqlite:%s", path);
    rg_bayes *b = open_model(url);
    ck_assert_int_eq(rg_bayes_learn_batch(b, cs, classes, N, 0), RG_OK);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
    rg_bayes_stats st;
    ck_assert_int_eq(rg_bayes_stats_get(b, &st), RG_OK);
    ck_assert_uint_ge(st.tokens, 6000);
    rg_bayes_close(b);
    *probe = cs[0];
}

/* rg_bayes_preload() reads the image at once. The counts are then changed
 * in the table alone (the image still named): a fresh handle scoring one
 * comment queries the table and sees the change; a preloaded one answers
 * from the image and does not. */
START_TEST(preload_reads_the_image)
{
    char path[600], url[700];
    rg_comment probe;
    rg_bayes_result before, lazy, preloaded;
    image_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);
    large_trained_file(path, &probe);

    rg_bayes *b = open_model(url);
    ck_assert_int_eq(rg_bayes_classify(b, &probe, &before, NULL, 0), RG_OK);
    rg_bayes_close(b);
    rg_test_sql_exec(path, "UPDATE bayes_tokens SET spam = spam + 50");

    b = open_model(url);
    ck_assert_int_eq(rg_bayes_classify(b, &probe, &lazy, NULL, 0), RG_OK);
    rg_bayes_close(b);
    ck_assert(lazy.spamicity > before.spamicity);

    b = open_model(url);
    ck_assert_int_eq(rg_bayes_preload(b), RG_OK);
    ck_assert_int_eq(rg_bayes_preload(b), RG_OK); /* twice is once */
    ck_assert_int_eq(rg_bayes_classify(b, &probe, &preloaded, NULL, 0), RG_OK);
    ck_assert(preloaded.spamicity == before.spamicity);

    /* Learning through the handle drops what it read: its scores follow
     * the tables again. */
    rg_comment c = comment(ham_bodies[0]);
    ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_HAM), RG_OK);
    ck_assert_int_eq(rg_bayes_classify(b, &probe, &preloaded, NULL, 0), RG_OK);
    ck_assert(preloaded.spamicity > before.spamicity);
    rg_bayes_close(b);
}
END_TEST

/* Without an image, preloading reads the table: scores as without it. A
 * model that cannot be read at all is RG_ESTORE. */
START_TEST(preload_without_image)
{
    static rg_bayes_result want[MANY], got[MANY];
    static char bodies[MANY][160];
    static rg_comment cs[MANY];
    char path[600], url[700];
    image_path(path, sizeof path);
    snprintf(url, sizeof url, "sqlite:%s", path);
    trained_file(path);
    rg_test_sql_exec(path, "DELETE FROM bayes_image");
    fresh_scores(path, want);

    many_comments(bodies, cs, NULL);
    rg_bayes *b = open_model(url);
    ck_assert_int_eq(rg_bayes_preload(b), RG_OK);
    for (int i = 0; i < MANY; i++)
        ck_assert_int_eq(rg_bayes_classify(b, &cs[i], &got[i], NULL, 0), RG_OK);
    ck_assert(same_scores(want, got));

    rg_test_sql_exec(path, "DROP TABLE bayes_totals");
    ck_assert_int_eq(rg_bayes_preload(b), RG_ESTORE);
    rg_bayes_close(b);
}
END_TEST

START_TEST(unwritable_image)
{
    static rg_bayes_result want[MANY], got[MANY];
    char path[600], image[700], url[700];
    image_path(path, sizeof path);
    image_file(image, sizeof image, path);
    trained_file(path);
    fresh_scores(path, want);

    /* A directory where the image goes: the rename over it fails. */
    ck_assert_int_eq(remove(image), 0);
    ck_assert_int_eq(mkdir(image, 0700), 0);
    snprintf(url, sizeof url, "sqlite:%s", path);
    rg_bayes *b = open_model(url);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_ESTORE);
    rg_bayes_close(b);
    fresh_scores(path, got);
    ck_assert(same_scores(want, got));
    ck_assert_int_eq(rmdir(image), 0);

    /* A model whose name leaves no room for the temporary file's suffix
     * (the longest name a directory takes is 255 bytes): the new file
     * cannot even be made. */
    char name[256], longpath[900], longurl[1000];
    memset(name, 'm', 245);
    name[245] = '\0';
    snprintf(longpath, sizeof longpath, "%s/%s", rg_test_tmpdir(), name);
    snprintf(longurl, sizeof longurl, "sqlite:%s", longpath);
    b = open_model(longurl);
    rg_comment c = comment(spam_bodies[0]);
    ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_ESTORE);
    ck_assert(score(b, spam_bodies[0]) > 0.5);
    rg_bayes_close(b);

    /* No temporary file is left in the directory. */
    DIR *dir = opendir(rg_test_tmpdir());
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    while ((e = readdir(dir)))
        ck_assert_msg(strstr(e->d_name, "-image.") == NULL, "left %s",
                      e->d_name);
    closedir(dir);
}
END_TEST

#endif

START_TEST(optimize_errors)
{
    ck_assert_int_eq(rg_bayes_optimize(NULL), RG_EINVAL);
    ck_assert_int_eq(rg_bayes_preload(NULL), RG_EINVAL);
    rg_bayes *b = open_model("memory:");
    ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
    ck_assert_int_eq(rg_bayes_preload(b), RG_OK);
    train(b);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
    ck_assert_int_eq(rg_bayes_preload(b), RG_OK);
    ck_assert(score(b, spam_bodies[0]) > 0.5);
    rg_bayes_close(b);
}
END_TEST

Suite *bayes_suite(void);

Suite *bayes_suite(void)
{
    Suite *s = suite_create("bayes");
    TCase *tc = tcase_create("model");
    tcase_add_loop_test(tc, empty_model_is_unsure, 0, 2);
    tcase_add_loop_test(tc, orders_unseen_comments, 0, 2);
    tcase_add_loop_test(tc, clues_explain, 0, 2);
    tcase_add_loop_test(tc, learn_then_unlearn_is_exact, 0, 2);
    tcase_add_loop_test(tc, moving_ham_to_spam_is_exact, 0, 2);
    tcase_add_loop_test(tc, unlearning_the_unlearned_changes_nothing, 0, 2);
    tcase_add_loop_test(tc, batch_is_all_or_nothing, 0, 2);
    tcase_add_loop_test(tc, batch_scores_like_one_by_one, 0, 2);
    tcase_add_test(tc, batch_of_long_comments);
    tcase_add_test(tc, reopen_gives_same_scores);
    tcase_add_test(tc, cutoffs_decide_verdict);
    tcase_add_loop_test(tc, hostile_comments, 0, 2);
    tcase_add_test(tc, errors);
    tcase_add_loop_test(tc, threads_change_nothing, 0, 2);
    tcase_add_test(tc, optimize_errors);
#if RG_HAVE_SQLITE
    tcase_add_test(tc, image_scores_like_the_tables);
    tcase_add_test(tc, learning_drops_the_image);
    tcase_add_test(tc, damaged_image_is_ignored);
    tcase_add_test(tc, unwritable_image);
    tcase_add_test(tc, preload_reads_the_image);
    tcase_add_test(tc, preload_without_image);
    tcase_add_test(tc, damaged_model_gets_no_image);
#endif
    suite_add_tcase(s, tc);
    return s;
}
