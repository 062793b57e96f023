/*
 * Full rg_judge() calls per second with every layer on and memory: stores,
 * and the share of each layer: the per-client rate limit, the failures
 * limiter that escalates the minimum solve time, the challenge and the
 * content filter, each timed alone over the same inputs. The anchor is
 * the sum of the layers' own times: the judge's time over that sum is
 * what putting them together adds. Part of that is the judge's own work
 * (parsing the client's address, building keys, the policy), part is that
 * one layer after another evicts the others from the caches, which a
 * layer timed alone never suffers; so the bench also times the layers in
 * turn on each submission without the judge, and the judge against that.
 *
 * Every submission is one a reader could send: a fresh digits challenge
 * answered right after the minimum solve time (the guard's clock is a
 * variable that the bench moves on, so nothing sleeps), from one of 10,000
 * IPv4 clients, with a comment from a small built-in set of ham. The rate
 * limit is generous, so no submission is limited and every layer runs;
 * the bench checks that it did. There is no target: these are figures.
 *
 * Machines are noisy, so the measurements take turns in rounds and each
 * keeps its best round.
 *
 * Usage: bench-judge [--n N] [--rounds R]   (defaults 20000 and 5)
 */
#include <errno.h>
#include <replyguard.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define CLIENTS      10000
#define BINDINGS     64
#define N_MAX        1000000u
#define ROUNDS_MAX   100
#define ANSWER_TEXT  12
#define BINDING_TEXT 32
#define ADDRESS_TEXT 16
#define SEED         0x853c49e6748fea9bull
/* A client may send a thousand a second, and a hundred thousand at
 * once: far more than the bench sends. */
#define CLIENT_RATE  1000.0
#define CLIENT_BURST 100000u
/* The failures limiter forgets one failure in ten minutes. */
#define FAILURE_RATE  (1.0 / 600)
#define FAILURE_BURST 30u

/* Comments that a blog's readers write. */
static const char *const HAM[] = {
    "Thanks for the write-up, the part about sourdough starters finally "
    "made it click for me.",
    "I tried this recipe last weekend and the bread came out a little dense. "
    "Should I let it rise longer?",
    "Great photos of the coast. Which lens did you use for the one at dusk?",
    "I disagree with the third point: in my experience the older version "
    "was easier to maintain.",
    "My daughter read this with me and now she wants to plant tomatoes on "
    "the balcony.",
    "Could you say more about how you measured the temperature? The numbers "
    "look low to me.",
    "We walked that trail in May and the wildflowers were just as you "
    "describe them.",
    "This reminded me of my grandfather's workshop; he kept his chisels in "
    "exactly that kind of roll.",
    "Small typo in the second paragraph: it should be their, not there.",
    "I have been following the series since the first post and this is my "
    "favourite so far.",
    "Does the same approach work for a smaller garden, or is it only worth "
    "it with raised beds?",
    "The library in our town runs a similar reading group on Thursdays, "
    "anyone nearby is welcome.",
    "Interesting comparison, though I think the train was cheaper when we "
    "booked a month ahead.",
    "I fixed the same leak with plumber's tape and it has held for two "
    "winters now.",
    "Lovely essay. The bit about the old bookshop closing made me a little "
    "sad.",
    "Thank you for answering my question in the previous post, it helped a "
    "lot.",
    "How long did the paint take to dry in that weather? Ours is still "
    "tacky after a day.",
    "I would add a pinch of salt to the caramel, but otherwise this is "
    "perfect.",
    "The chart is hard to read on a phone; maybe a table would work better "
    "there.",
    "Our cat does the same thing with cardboard boxes, it is a mystery to "
    "us too.",
    "Good point about backups. I lost a year of photos once and learned "
    "the hard way.",
    "We are visiting the museum next month, is it better on a weekday "
    "morning?",
};
#define NHAM (sizeof HAM / sizeof HAM[0])

/* Comments that spammers post: offers, links, urgency. */
static const char *const SPAM[] = {
    "Buy cheap viagra online now at http://cheap-pills.example/buy best "
    "prices no prescription",
    "Earn $5000 a week from home!!! Click http://easy-money.example/join "
    "limited offer",
    "Best casino bonus 200% free spins visit http://casino-bonus.example/ "
    "today",
    "CHEAP REPLICA WATCHES rolex omega http://replica.example/watches free "
    "shipping",
    "Get followers fast http://followers.example/buy 10000 followers for "
    "$9",
    "Hot singles in your area want to meet you http://dating.example/now",
    "Lose 20 pounds in 10 days with this one pill http://diet.example/pill",
    "Crypto investment doubles your bitcoin guaranteed "
    "http://coin-double.example/invest",
    "Payday loans approved instantly no credit check "
    "http://loans.example/apply",
    "Nice post! Visit my site http://seo-links.example/ for cheap seo "
    "backlinks",
    "Download free movies hd torrent http://movies.example/free no signup",
    "Work from home earn money online fast http://jobs.example/start click "
    "here",
    "Discount pharmacy cialis levitra http://pharmacy.example/order "
    "overnight delivery",
    "Congratulations you won an iPhone claim your prize "
    "http://prize.example/claim",
    "Buy essay online cheap writing service http://essays.example/order",
    "Best forex trading signals 95% win rate http://forex.example/signals",
    "Cheap louis vuitton handbags outlet sale http://bags.example/sale",
    "Make money with our casino affiliate program "
    "http://affiliate.example/casino",
    "Free gift card generator working 2024 http://giftcards.example/free",
    "Online pharmacy no prescription needed tramadol "
    "http://meds.example/buy",
    "Increase your website traffic now buy visitors "
    "http://traffic.example/buy",
};
#define NSPAM (sizeof SPAM / sizeof SPAM[0])

static const char *const AUTHORS[] = {
    "Anna", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro",
};
#define NAUTHORS (sizeof AUTHORS / sizeof AUTHORS[0])

/* The guard's clock: the bench moves it on instead of sleeping. */
static uint64_t fake_now = 1700000000;

static uint64_t bench_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

/* xorshift64*: a fixed seed gives the same clients on every run. */
static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/*
 * The answer to a two-term question in digits, as the English locale
 * writes them: "4 + 4 =", "19 × 2 =", "11 − 3 =", "What is 11 minus 0?",
 * "How much is 2 times 11?". False for anything else, so that a change
 * in the questions stops the bench rather than skewing it.
 */
static bool solve(const char *q, uint32_t *answer)
{
    static const struct {
        const char *text;
        char op;
    } ops[] = {
        {"+", '+'},    {"\xe2\x88\x92", '-'}, {"\xc3\x97", '*'},
        {"plus", '+'}, {"minus", '-'},        {"times", '*'},
    };
    uint64_t terms[2] = {0, 0};
    int nterms = 0;
    char op = 0;

    for (const char *p = q; *p;) {
        if (*p >= '0' && *p <= '9') {
            uint64_t v = 0;
            while (*p >= '0' && *p <= '9') {
                if (v > 1000000)
                    return false;
                v = v * 10 + (uint64_t)(*p++ - '0');
            }
            if (nterms == 2)
                return false;
            terms[nterms++] = v;
            continue;
        }
        size_t len = 0;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            size_t n = strlen(ops[i].text);
            if (strncmp(p, ops[i].text, n) == 0) {
                if (op || nterms != 1)
                    return false;
                op = ops[i].op;
                len = n;
                break;
            }
        }
        p += len ? len : 1;
    }
    if (nterms != 2 || !op || (op == '-' && terms[0] < terms[1]))
        return false;
    uint64_t v = op == '+'   ? terms[0] + terms[1]
                 : op == '-' ? terms[0] - terms[1]
                             : terms[0] * terms[1];
    *answer = (uint32_t)v;
    return true;
}

/* One set of challenges: a token and its right answer per submission. */
typedef struct issued {
    char (*token)[RG_TOKEN_MAX];
    char (*answer)[ANSWER_TEXT];
} issued;

/* Issues one challenge per submission, each with its binding, and works
 * out the answers. */
static int issue_all(rg_guard *g, issued *set, size_t n,
                     char (*bindings)[BINDING_TEXT])
{
    for (size_t i = 0; i < n; i++) {
        rg_challenge c;
        uint32_t a;
        int rc = rg_challenge_issue_in(g, bindings[i % BINDINGS], NULL,
                                       RG_STYLE_DIGITS, &c);
        if (rc != RG_OK) {
            fprintf(stderr, "bench-judge: rg_challenge_issue_in: %s\n",
                    rg_strerror(rc));
            return -1;
        }
        if (!solve(c.question, &a)) {
            fprintf(stderr, "bench-judge: cannot solve \"%s\"\n", c.question);
            return -1;
        }
        memcpy(set->token[i], c.token, sizeof c.token);
        snprintf(set->answer[i], sizeof set->answer[i], "%u", a);
    }
    return 0;
}

/* The layers the judge runs, each of which the bench also times alone. */
enum { TIER, PEEK, VERIFY, FILTER, LAYERS };

static const char *const LAYER_NAMES[LAYERS] = {
    "rate limit (1 tier, take of cost 1)",
    "failures limiter (look, cost 0)",
    "rg_challenge_verify (pass)",
    "rg_bayes_classify (ham)",
};

/* Everything a round works with. */
typedef struct bench {
    size_t n;
    rg_guard *g;
    rg_limiter *limiter, *failures;
    rg_bayes *bayes;
    rg_policy policy;
    char (*clients)[ADDRESS_TEXT];
    char (*bindings)[BINDING_TEXT];
    uint8_t (*keys)[RG_CLIENT_KEY_MAX]; /* each client's, as the judge's */
    size_t *key_len;
    uint32_t *client_of; /* each submission's client */
    rg_submission *subs;
    rg_comment *comments; /* each submission's, for the filter alone */
    issued judged, alone, turn;
    uint64_t actions[3];
} bench;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bench-judge: %s: %s\n", what, rg_strerror(rc));
    return -1;
}

/* Runs one layer on submission i as the judge would, with the tokens of
 * `set`; 0, or -1 after saying what failed. */
static int run_layer(bench *b, int layer, const issued *set, size_t i)
{
    uint32_t c = b->client_of[i];
    rg_limit_result res;
    rg_verdict v;
    rg_bayes_result score;
    int rc = RG_OK;

    switch (layer) {
    case TIER:
        rc = rg_limiter_take(b->limiter, b->keys[c], b->key_len[c], 1, &res);
        if (rc == RG_OK && !res.allowed) {
            fprintf(stderr, "bench-judge: a client was limited; the rate "
                            "is not generous enough\n");
            return -1;
        }
        break;
    case PEEK:
        rc = rg_limiter_take(b->failures, b->keys[c], b->key_len[c], 0, &res);
        break;
    case VERIFY:
        rc = rg_challenge_verify(b->g, set->token[i], set->answer[i],
                                 b->subs[i].binding, &v);
        if (rc == RG_OK && v != RG_VERDICT_PASS) {
            fprintf(stderr, "bench-judge: a right answer was %s\n",
                    rg_verdict_name(v));
            return -1;
        }
        break;
    case FILTER:
        rc = rg_bayes_classify(b->bayes, &b->comments[i], &score, NULL, 0);
        break;
    }
    return rc == RG_OK ? 0 : fail(LAYER_NAMES[layer], rc);
}

/* Times the layers from `first` to `last` on every submission, all of
 * them on one submission before the next. */
static int time_layers(bench *b, int first, int last, const issued *set,
                       double *seconds)
{
    double start = bench_now();
    for (size_t i = 0; i < b->n; i++)
        for (int layer = first; layer <= last; layer++)
            if (run_layer(b, layer, set, i) != 0)
                return -1;
    *seconds = bench_now() - start;
    return 0;
}

/* Times rg_judge() on every submission, and checks that every layer ran:
 * a decision that skipped one would time less than all. */
static int time_judge(bench *b, double *seconds)
{
    for (size_t i = 0; i < b->n; i++) {
        b->subs[i].token = b->judged.token[i];
        b->subs[i].answer = b->judged.answer[i];
    }
    double start = bench_now();
    for (size_t i = 0; i < b->n; i++) {
        rg_decision d;
        int rc = rg_judge(b->g, &b->subs[i], &b->policy, &d);
        if (rc != RG_OK)
            return fail("rg_judge", rc);
        if (!d.verified || d.verdict != RG_VERDICT_PASS || d.spamicity < 0 ||
            (d.reasons &
             (RG_REASON_RATE_LIMITED | RG_REASON_STORE_UNAVAILABLE))) {
            fprintf(stderr,
                    "bench-judge: submission %zu: %s, verdict %s, "
                    "reasons 0x%x: not every layer ran\n",
                    i, rg_action_name(d.action), rg_verdict_name(d.verdict),
                    (unsigned)d.reasons);
            return -1;
        }
        b->actions[d.action]++;
    }
    *seconds = bench_now() - start;
    return 0;
}

/* Teaches the filter the built-in comments. */
static int train(rg_bayes *bayes)
{
    for (size_t i = 0; i < NHAM + NSPAM; i++) {
        rg_comment c;
        rg_comment_init(&c);
        c.body = i < NHAM ? HAM[i] : SPAM[i - NHAM];
        int rc =
            rg_bayes_learn(bayes, &c, i < NHAM ? RG_CLASS_HAM : RG_CLASS_SPAM);
        if (rc != RG_OK)
            return fail("rg_bayes_learn", rc);
    }
    return 0;
}

static bool alloc_set(issued *set, size_t n)
{
    set->token = malloc(n * sizeof *set->token);
    set->answer = malloc(n * sizeof *set->answer);
    return set->token && set->answer;
}

static void free_set(issued *set)
{
    free(set->token);
    free(set->answer);
}

/* The inputs: clients spread over 10.0.0.0/8 with their keys, bindings,
 * and one submission of ham after another. */
static int make_inputs(bench *b)
{
    for (uint32_t i = 0; i < CLIENTS; i++) {
        uint32_t a = (i * 2654435761u) & 0xffffff;
        snprintf(b->clients[i], sizeof b->clients[i], "10.%u.%u.%u", a >> 16,
                 (a >> 8) & 0xff, a & 0xff);
        int rc = rg_client_key(b->clients[i], 64, b->keys[i], &b->key_len[i]);
        if (rc != RG_OK)
            return fail("rg_client_key", rc);
    }
    for (int i = 0; i < BINDINGS; i++)
        snprintf(b->bindings[i], sizeof b->bindings[i], "post-%d|comments",
                 i + 1);
    uint64_t state = SEED;
    for (size_t i = 0; i < b->n; i++) {
        b->client_of[i] = (uint32_t)(xorshift(&state) % CLIENTS);
        rg_comment_init(&b->comments[i]);
        b->comments[i].author = AUTHORS[i % NAUTHORS];
        b->comments[i].body = HAM[i % NHAM];
        rg_submission_init(&b->subs[i]);
        b->subs[i].author = b->comments[i].author;
        b->subs[i].body = b->comments[i].body;
        b->subs[i].honeypot = "";
        b->subs[i].client = b->clients[b->client_of[i]];
        b->subs[i].binding = b->bindings[i % BINDINGS];
    }
    return 0;
}

/* The guard, the limiters and the filter, on memory: stores. */
static int open_layers(bench *b, rg_config *cfg)
{
    /* Three sets of challenges a round live in the replay store at once;
     * those of earlier rounds have expired and make room. */
    char store[64];
    size_t capacity = 4 * b->n > 100000 ? 4 * b->n : 100000;
    snprintf(store, sizeof store, "memory:?capacity=%zu", capacity);
    rg_config_init(cfg);
    cfg->clock = bench_clock;
    cfg->store = store;
    uint8_t key[RG_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    int rc;
    if ((rc = rg_guard_new(&b->g, cfg)) != RG_OK ||
        (rc = rg_guard_add_key(b->g, 1, key, 1)) != RG_OK)
        return fail("cannot make the guard", rc);
    /* The guard copied the store's name; the pointer must not outlive
     * this function. */
    cfg->store = NULL;
    if ((rc = rg_limiter_new(&b->limiter, "memory:", CLIENT_RATE, CLIENT_BURST,
                             0)) != RG_OK ||
        (rc = rg_limiter_new(&b->failures, "memory:", FAILURE_RATE,
                             FAILURE_BURST, 0)) != RG_OK)
        return fail("rg_limiter_new", rc);
    if ((rc = rg_bayes_open(&b->bayes, "memory:", NULL)) != RG_OK)
        return fail("rg_bayes_open", rc);
    if (train(b->bayes) != 0)
        return -1;
    rg_policy_init(&b->policy);
    b->policy.limiter = b->limiter;
    b->policy.failures = b->failures;
    b->policy.bayes = b->bayes;
    return 0;
}

static void keep_best(double *best, double t)
{
    if (*best == 0 || t < *best)
        *best = t;
}

/* One round: fresh challenges, then the judge, each layer alone, and the
 * layers in turn without the judge. */
static int round_of(bench *b, const rg_config *cfg, double *judge,
                    double alone[LAYERS], double *turn)
{
    double t;
    /* The last round's tokens expire; the new ones are answered once the
     * minimum solve time has passed. */
    fake_now += cfg->ttl_s + cfg->clock_skew_s + 1;
    if (issue_all(b->g, &b->judged, b->n, b->bindings) != 0 ||
        issue_all(b->g, &b->alone, b->n, b->bindings) != 0 ||
        issue_all(b->g, &b->turn, b->n, b->bindings) != 0)
        return -1;
    fake_now += cfg->min_solve_s + 1;

    if (time_judge(b, &t) != 0)
        return -1;
    keep_best(judge, t);
    for (int layer = 0; layer < LAYERS; layer++) {
        if (time_layers(b, layer, layer, &b->alone, &t) != 0)
            return -1;
        keep_best(&alone[layer], t);
    }
    if (time_layers(b, 0, LAYERS - 1, &b->turn, &t) != 0)
        return -1;
    keep_best(turn, t);
    return 0;
}

static void report(const bench *b, unsigned long rounds, double judge_s,
                   const double alone_s[LAYERS], double turn_s)
{
    /* Per call, in microseconds. */
    double us = 1e6 / (double)b->n, judge = judge_s * us, turn = turn_s * us;
    double layer[LAYERS], sum = 0;
    for (int i = 0; i < LAYERS; i++) {
        layer[i] = alone_s[i] * us;
        sum += layer[i];
    }
    printf("bench-judge: %zu submissions a round from %d IPv4 clients, "
           "memory: stores; best of %lu rounds\n",
           b->n, CLIENTS, rounds);
    printf("  decisions: %llu accept, %llu moderate, %llu reject\n",
           (unsigned long long)b->actions[RG_ACTION_ACCEPT],
           (unsigned long long)b->actions[RG_ACTION_MODERATE],
           (unsigned long long)b->actions[RG_ACTION_REJECT]);
    printf("  (every challenge passed, every comment was scored)\n");
    printf("  rg_judge, all layers                  %10.0f /s %8.2f us a "
           "call\n",
           1e6 / judge, judge);
    printf("  each layer alone, a call:                   us  of layers  "
           "of judge\n");
    for (int i = 0; i < LAYERS; i++)
        printf("    %-36s %8.2f  %7.1f %%  %6.1f %%\n", LAYER_NAMES[i],
               layer[i], 100 * layer[i] / sum, 100 * layer[i] / judge);
    printf("    %-36s %8.2f  %7.1f %%  %6.1f %%\n", "sum of the layers", sum,
           100.0, 100 * sum / judge);
    printf("    %-36s %8.2f             %6.1f %%\n",
           "remainder: judge's work, caches", judge - sum,
           100 * (judge - sum) / judge);
    printf("  the layers in turn, without the judge %10.0f /s %8.2f us a "
           "call\n",
           1e6 / turn, turn);
    printf("  the judge's own work (judge - in turn) %9.2f us a call\n",
           judge - turn);
    printf("  judge / sum of the layers alone       %10.2f x\n", judge / sum);
    printf("  judge / the layers in turn            %10.2f x\n", judge / turn);
}

int main(int argc, char **argv)
{
    unsigned long n = 20000, rounds = 5;
    for (int i = 1; i < argc; i += 2) {
        bool ok = i + 1 < argc;
        if (ok && strcmp(argv[i], "--n") == 0)
            ok = bench_parse_count(argv[i + 1], 1, N_MAX, &n);
        else if (ok && strcmp(argv[i], "--rounds") == 0)
            ok = bench_parse_count(argv[i + 1], 1, ROUNDS_MAX, &rounds);
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "usage: bench-judge [--n N] [--rounds R]\n");
            return 64;
        }
    }
    int rc = rg_init();
    if (rc != RG_OK)
        return fail("rg_init", rc) == 0 ? 0 : 1;

    int status = 1;
    bench b = {.n = n};
    b.clients = malloc(CLIENTS * sizeof *b.clients);
    b.bindings = malloc(BINDINGS * sizeof *b.bindings);
    b.keys = malloc(CLIENTS * sizeof *b.keys);
    b.key_len = malloc(CLIENTS * sizeof *b.key_len);
    b.client_of = malloc(n * sizeof *b.client_of);
    b.subs = malloc(n * sizeof *b.subs);
    b.comments = malloc(n * sizeof *b.comments);
    bool sets = alloc_set(&b.judged, n) && alloc_set(&b.alone, n) &&
                alloc_set(&b.turn, n);
    if (!b.clients || !b.bindings || !b.keys || !b.key_len || !b.client_of ||
        !b.subs || !b.comments || !sets) {
        fprintf(stderr, "bench-judge: out of memory\n");
        goto done;
    }
    rg_config cfg;
    if (make_inputs(&b) != 0 || open_layers(&b, &cfg) != 0)
        goto done;

    double judge = 0, alone[LAYERS] = {0}, turn = 0;
    for (unsigned long r = 0; r < rounds; r++)
        if (round_of(&b, &cfg, &judge, alone, &turn) != 0)
            goto done;
    report(&b, rounds, judge, alone, turn);
    status = 0;

done:
    rg_bayes_close(b.bayes);
    rg_limiter_free(b.failures);
    rg_limiter_free(b.limiter);
    rg_guard_free(b.g);
    free_set(&b.turn);
    free_set(&b.alone);
    free_set(&b.judged);
    free(b.comments);
    free(b.subs);
    free(b.client_of);
    free(b.key_len);
    free(b.keys);
    free(b.bindings);
    free(b.clients);
    return status;
}
