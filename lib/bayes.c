/*
 * The content filter: Robinson's token probabilities combined with Fisher's
 * chi-square method, as SpamBayes and bogofilter do (docs/bayes.md).
 *
 * For each token of a comment, with s spam and h ham comments containing
 * it out of S spam and H ham comments learned:
 *
 *   p(w) = (s/S) / (s/S + h/H)                    the raw spam probability
 *   f(w) = (strength * prior + n * p(w)) / (strength + n),  n = s + h
 *
 * One change from SpamBayes: for content tokens (words, bigrams, links;
 * everything but the once-per-comment "meta:" features), S and H are the
 * numbers of content tokens learned per class rather than of comments.
 * Presence in a comment is likelier the longer the comment, and spam runs
 * longer than ham, so counted per comment every common word ("on", "my",
 * "to") looked spammy and long ham piled up weak spam evidence. Counted per
 * token it is a rate per word, and length no longer speaks by itself. On
 * the YouTube corpus this halved the ham marked spam at the same recall.
 *
 * f pulls rare tokens towards the prior, so one sighting says little. The
 * most extreme tokens (|f - 0.5| >= min_deviation, at most max_clues) are
 * combined: with chi2Q the chi-square survival function of 2k degrees of
 * freedom over k clues,
 *
 *   spamminess = 1 - chi2Q(-2 * sum ln(1 - f), 2k)
 *   hamminess  = 1 - chi2Q(-2 * sum ln f, 2k)
 *   spamicity  = (1 + spamminess - hamminess) / 2
 *
 * which lands near 0 or 1 when the evidence agrees and near 0.5 when it is
 * mixed or absent: exactly the comments a moderator should see.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "tokenize.h"

struct rg_bayes {
    rg_store *store;
    rg_bayes_config cfg;
};

/* The part of rg_bayes_config every caller knows: all of version 0.1. */
#define CONFIG_MIN_SIZE sizeof(rg_bayes_config)

/* The most threads a batch may use (rg_bayes_config.threads). */
#define RG_BAYES_THREADS_MAX 64

/* Most tokens one learning batch may gather before it is applied. */
#define BATCH_TOKENS_MAX (1u << 22)

void rg_comment_init(rg_comment *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->size = sizeof *c;
}

void rg_bayes_config_init(rg_bayes_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    /* SpamBayes' defaults, chosen on large corpora and kept as they are:
     * principled values, not tuned to the folds of any evaluation. */
    cfg->ham_cutoff = 0.20;
    cfg->spam_cutoff = 0.90;
    cfg->strength = 1.0;
    cfg->prior = 0.5;
    cfg->min_deviation = 0.2;
    cfg->max_clues = 150;
}

const char *rg_bayes_verdict_name(rg_bayes_verdict v)
{
    switch (v) {
    case RG_BAYES_HAM:
        return "ham";
    case RG_BAYES_UNSURE:
        return "unsure";
    case RG_BAYES_SPAM:
        return "spam";
    }
    return "unknown";
}

static bool config_valid(const rg_bayes_config *c)
{
    return c->size >= CONFIG_MIN_SIZE && c->threads <= RG_BAYES_THREADS_MAX &&
           isfinite(c->ham_cutoff) && isfinite(c->spam_cutoff) &&
           isfinite(c->strength) && isfinite(c->prior) &&
           isfinite(c->min_deviation) && c->ham_cutoff >= 0 &&
           c->ham_cutoff <= c->spam_cutoff && c->spam_cutoff <= 1 &&
           c->strength > 0 && c->strength <= 1000 && c->prior > 0 &&
           c->prior < 1 && c->min_deviation >= 0 && c->min_deviation < 0.5 &&
           c->max_clues >= 1 && c->max_clues <= RG__COMMENT_TOKENS_MAX;
}

int rg_bayes_open(rg_bayes **out, const char *url, const rg_bayes_config *cfg)
{
    if (!out)
        return RG_EINVAL;
    *out = NULL;
    rg_bayes_config c;
    rg_bayes_config_init(&c);
    if (cfg) {
        /* Read no further than the caller's struct says it reaches: an
         * older or smaller one is refused, never read past its end. */
        if (cfg->size < CONFIG_MIN_SIZE)
            return RG_EINVAL;
        memcpy(&c, cfg, sizeof c);
    }
    if (!config_valid(&c))
        return RG_EINVAL;

    rg_store *store = NULL;
    int rc = rg_store_open(&store, url);
    if (rc != RG_OK)
        return rc;
    if (!store->ops->bayes_lookup) {
        rg_store_close(store);
        return RG_ENOSUPPORT;
    }
    rg_bayes *b = calloc(1, sizeof *b);
    if (!b) {
        rg_store_close(store);
        return RG_ENOMEM;
    }
    b->store = store;
    b->cfg = c;
    b->cfg.size = sizeof b->cfg;
    *out = b;
    return RG_OK;
}

void rg_bayes_close(rg_bayes *b)
{
    if (!b)
        return;
    rg_store_close(b->store);
    free(b);
}

static bool comment_valid(const rg_comment *c)
{
    return c && c->size >= sizeof(rg_comment);
}

/* True when n comments (none, or an array of them) are all valid. */
static bool batch_valid(const rg_comment *comments, size_t n)
{
    if (n && !comments)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!comment_valid(&comments[i]))
            return false;
    return true;
}

/*
 * True for a once-per-comment feature: "meta:len:5" in the body, or behind
 * a field's two-character prefix, "a:meta:none" (docs/bayes.md).
 */
static bool is_meta(const char *token)
{
    if (token[0] && token[1] == ':')
        token += 2;
    /* Byte by byte: the && stops at a token's NUL, and this runs for every
     * token of every comment (strncmp() cost 3% of learning). */
    return token[0] == 'm' && token[1] == 'e' && token[2] == 't' &&
           token[3] == 'a' && token[4] == ':';
}

/* The tokens of a set that are content, not per-comment features. */
static size_t content_tokens(const rg__token_set *ts)
{
    size_t n = 0;
    for (size_t i = 0; i < ts->count; i++)
        n += !is_meta(rg__token_set_get(ts, i, NULL));
    return n;
}

/* Tokens of one comment into ts (cleared first). */
static int tokenize(const rg_comment *c, rg__token_set *ts)
{
    rg__token_set_clear(ts);
    return rg__tokenize_comment(c, ts);
}

/*
 * A batch split among threads. The threads claim its comments a chunk at a
 * time rather than a fixed half each: a thread that starts late (waking a
 * sleeping CPU can take milliseconds) then simply claims fewer chunks.
 */
typedef struct batch_work {
    const rg_comment *comments;
    const rg_class *classes; /* learning only */
    size_t n;
    int64_t step;       /* learning: 1 to learn, -1 to unlearn */
    atomic_size_t next; /* the first comment no thread has claimed */
    atomic_bool failed; /* a thread failed: the others stop claiming */
} batch_work;

/* Comments a thread claims at a time. */
#define CHUNK_COMMENTS 16

/*
 * What one thread gathers: the distinct tokens of the comments it claimed
 * and, for learning, each token's delta and the totals' delta; for
 * classifying, which comments it claimed (mine[m]) and each one's tokens
 * as indexes into `ts` (index[start[m] .. start[m + 1])).
 */
typedef struct share {
    /* Shares sit side by side in an array, each written by its own
     * thread: aligned apart, no two share a cache line. */
    _Alignas(128) batch_work *w;
    rg__token_set ts;
    rg__delta *delta;
    size_t delta_room;
    rg__totals_delta totals;
    size_t *mine, *start; /* nmine + 1 of start */
    size_t nmine, mine_room, start_room;
    uint32_t *index;
    size_t index_len, index_room;
    int rc;
} share;

static void share_init(share *sh, batch_work *w, size_t limit)
{
    *sh = (share){.w = w};
    rg__token_set_init(&sh->ts, limit);
}

static void share_free(share *sh)
{
    rg__token_set_free(&sh->ts);
    free(sh->delta);
    free(sh->index);
    free(sh->mine);
    free(sh->start);
}

/* Room for the delta of token `at` (new entries are zero). */
static bool delta_reserve(share *sh, size_t at)
{
    return rg__grow(&sh->delta, &sh->delta_room, at + 1, sizeof *sh->delta,
                    1024, true);
}

/* Adds the tokens of comment i to the share. */
static int gather_one(share *sh, size_t i, const rg__token_set *one)
{
    const batch_work *w = sh->w;
    bool learning = w->classes != NULL;
    bool spam = learning && w->classes[i] == RG_CLASS_SPAM;

    if (learning) {
        (spam ? &sh->totals.spam : &sh->totals.ham)[0] += w->step;
        (spam ? &sh->totals.spam_words : &sh->totals.ham_words)[0] +=
            w->step * (int64_t)content_tokens(one);
    } else {
        /* One more comment, its end in start[], and its tokens. */
        if (!rg__grow(&sh->mine, &sh->mine_room, sh->nmine + 1,
                      sizeof *sh->mine, 256, false) ||
            !rg__grow(&sh->start, &sh->start_room, sh->nmine + 2,
                      sizeof *sh->start, 256, false) ||
            !rg__grow(&sh->index, &sh->index_room, sh->index_len + one->count,
                      sizeof *sh->index, 4096, false))
            return RG_ENOMEM;
        sh->mine[sh->nmine] = i;
        sh->start[sh->nmine++] = sh->index_len;
    }
    for (size_t t = 0; t < one->count; t++) {
        size_t len;
        const char *tok = rg__token_set_get(one, t, &len);
        long at = rg__token_set_add_hashed(&sh->ts, tok, len,
                                           rg__token_set_hash(one, t));
        if (at < 0)
            return at == -1 ? RG_EFULL : RG_ENOMEM;
        if (!learning) {
            sh->index[sh->index_len++] = (uint32_t)at;
        } else {
            if (!delta_reserve(sh, (size_t)at))
                return RG_ENOMEM;
            (spam ? &sh->delta[at].spam : &sh->delta[at].ham)[0] += w->step;
        }
    }
    return RG_OK;
}

/* Tokenizes chunks of comments until none are left; the outcome in
 * sh->rc. */
static void *gather(void *arg)
{
    share *sh = arg;
    batch_work *w = sh->w;
    rg__token_set one;

    rg__token_set_init(&one, RG__COMMENT_TOKENS_MAX);
    sh->rc = RG_OK;
    while (sh->rc == RG_OK && !atomic_load(&w->failed)) {
        size_t first = atomic_fetch_add(&w->next, CHUNK_COMMENTS);
        if (first >= w->n)
            break;
        size_t end =
            w->n - first < CHUNK_COMMENTS ? w->n : first + CHUNK_COMMENTS;
        for (size_t i = first; i < end && sh->rc == RG_OK; i++)
            if ((sh->rc = tokenize(&w->comments[i], &one)) == RG_OK)
                sh->rc = gather_one(sh, i, &one);
    }
    if (sh->rc != RG_OK)
        atomic_store(&w->failed, true);
    else if (!w->classes && sh->start)
        sh->start[sh->nmine] = sh->index_len;
    rg__token_set_free(&one);
    return NULL;
}

/* Below this many comments per thread, starting one costs more than it
 * saves. */
#define COMMENTS_PER_THREAD_MIN 64
#define AUTO_THREADS_MAX        8

static size_t threads_for(const rg_bayes *b, size_t n)
{
    size_t want = b->cfg.threads;
    if (want == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        want = cpus < 1 ? 1 : (size_t)cpus;
        if (want > AUTO_THREADS_MAX)
            want = AUTO_THREADS_MAX;
    }
    size_t most = n / COMMENTS_PER_THREAD_MIN;
    if (want > most)
        want = most;
    return want ? want : 1;
}

static void work_init(batch_work *w, const rg_comment *comments,
                      const rg_class *classes, size_t n, int64_t step)
{
    w->comments = comments;
    w->classes = classes;
    w->n = n;
    w->step = step;
    atomic_init(&w->next, 0);
    atomic_init(&w->failed, false);
}

/*
 * Runs fn on each of nshares shares, share 0 on this thread and each other
 * on a thread of its own; a share whose thread cannot start runs here
 * after share 0 (and finds nothing left to claim). The outcome is the
 * same however the comments fell to the shares.
 */
static void run_shares(void *(*fn)(void *), void *shares, size_t size,
                       size_t nshares)
{
    pthread_t tid[RG_BAYES_THREADS_MAX];
    bool started[RG_BAYES_THREADS_MAX] = {false};
    char *base = shares;

    for (size_t k = 1; k < nshares; k++)
        started[k] = pthread_create(&tid[k], NULL, fn, base + k * size) == 0;
    fn(base);
    for (size_t k = 1; k < nshares; k++) {
        if (started[k])
            pthread_join(tid[k], NULL);
        else
            fn(base + k * size);
    }
}

/*
 * Folds shares 1.. into share 0, so that its token set holds the whole
 * batch's distinct tokens: deltas are added up, and comments' indexes are
 * renumbered into share 0's set. Returns the first error of any share, or
 * of the merge.
 */
static int merge_shares(share *shares, size_t nshares)
{
    share *into = &shares[0];
    bool learning = into->w->classes != NULL;
    int rc = into->rc;
    uint32_t *renumber = NULL;
    size_t most = 0, text = 0;

    /* Room for every share's tokens up front: the merge then grows
     * nothing, and nothing is copied or rehashed while it runs. */
    for (size_t k = 0; k < nshares; k++) {
        most += shares[k].ts.count;
        text += shares[k].ts.text_len;
    }
    if (rc == RG_OK && nshares > 1 &&
        (!rg__token_set_reserve(&into->ts, most, text) ||
         (learning && most > 0 && !delta_reserve(into, most - 1))))
        rc = RG_ENOMEM;

    for (size_t k = 1; k < nshares && rc == RG_OK; k++) {
        share *sh = &shares[k];
        if ((rc = sh->rc) != RG_OK)
            break;
        free(renumber);
        renumber = malloc((sh->ts.count + 1) * sizeof *renumber);
        if (!renumber) {
            rc = RG_ENOMEM;
            break;
        }
        for (size_t t = 0; t < sh->ts.count && rc == RG_OK; t++) {
            size_t len;
            const char *tok = rg__token_set_get(&sh->ts, t, &len);
            long at = rg__token_set_add_hashed(&into->ts, tok, len,
                                               rg__token_set_hash(&sh->ts, t));
            if (at < 0) {
                rc = at == -1 ? RG_EFULL : RG_ENOMEM;
            } else if (learning) {
                if (!delta_reserve(into, (size_t)at))
                    rc = RG_ENOMEM;
                else {
                    into->delta[at].spam += sh->delta[t].spam;
                    into->delta[at].ham += sh->delta[t].ham;
                }
            }
            renumber[t] = (uint32_t)at;
        }
        if (rc != RG_OK)
            break;
        if (learning) {
            into->totals.spam += sh->totals.spam;
            into->totals.ham += sh->totals.ham;
            into->totals.spam_words += sh->totals.spam_words;
            into->totals.ham_words += sh->totals.ham_words;
        } else {
            for (size_t j = 0; j < sh->index_len; j++)
                sh->index[j] = renumber[sh->index[j]];
        }
    }
    free(renumber);
    return rc;
}

int rg_bayes_learn_batch(rg_bayes *b, const rg_comment *comments,
                         const rg_class *classes, size_t n, int unlearn)
{
    if (!b || (n && !classes) || !batch_valid(comments, n))
        return RG_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (classes[i] != RG_CLASS_HAM && classes[i] != RG_CLASS_SPAM)
            return RG_EINVAL;
    if (n == 0)
        return RG_OK;

    /* Gather the whole batch into one set of token deltas, so the store
     * applies it in one atomic step. */
    share shares[RG_BAYES_THREADS_MAX];
    batch_work w;
    size_t nshares = threads_for(b, n);
    work_init(&w, comments, classes, n, unlearn ? -1 : 1);
    for (size_t k = 0; k < nshares; k++)
        share_init(&shares[k], &w, BATCH_TOKENS_MAX);
    run_shares(gather, shares, sizeof shares[0], nshares);
    int rc = merge_shares(shares, nshares);
    if (rc == RG_OK)
        rc = b->store->ops->bayes_apply(b->store, &shares[0].ts,
                                        shares[0].delta, shares[0].totals);
    for (size_t k = 0; k < nshares; k++)
        share_free(&shares[k]);
    return rc;
}

int rg_bayes_learn(rg_bayes *b, const rg_comment *c, rg_class cls)
{
    if (!c)
        return RG_EINVAL;
    return rg_bayes_learn_batch(b, c, &cls, 1, 0);
}

int rg_bayes_unlearn(rg_bayes *b, const rg_comment *c, rg_class cls)
{
    if (!c)
        return RG_EINVAL;
    return rg_bayes_learn_batch(b, c, &cls, 1, 1);
}

int rg_bayes_optimize(rg_bayes *b)
{
    if (!b)
        return RG_EINVAL;
    return b->store->ops->bayes_optimize(b->store);
}

int rg_bayes_preload(rg_bayes *b)
{
    if (!b)
        return RG_EINVAL;
    return b->store->ops->bayes_preload(b->store);
}

int rg_bayes_stats_get(rg_bayes *b, rg_bayes_stats *out)
{
    if (!b || !out)
        return RG_EINVAL;
    return b->store->ops->bayes_stats(b->store, out);
}

/*
 * The chi-square survival function Q(x2 | v) for even v: the probability
 * that a chi-square variable with v degrees of freedom exceeds x2. With
 * m = x2 / 2 it is e^-m * sum_{i < v/2} m^i / i!, summed term by term.
 */
static double chi2q(double x2, unsigned v)
{
    double m = x2 / 2.0;
    double term = exp(-m), sum = term;
    for (unsigned i = 1; i < v / 2; i++) {
        term *= m / i;
        sum += term;
    }
    return sum < 1.0 ? sum : 1.0;
}

typedef struct clue_candidate {
    double f, distance;
    uint32_t token; /* index into the comment's token set */
} clue_candidate;

static int by_distance(const void *a, const void *b)
{
    const clue_candidate *x = a, *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? 1 : -1;
    /* Ties in token order, so the result never depends on qsort. */
    return x->token < y->token ? -1 : x->token > y->token;
}

/*
 * Robinson's f(w) for a token seen in c.spam spam and c.ham ham comments,
 * out of `spam` and `ham` (comments for a meta token, content tokens for
 * the others: see the top of this file).
 */
static double token_probability(const rg_bayes_config *cfg, rg__counts c,
                                uint64_t spam, uint64_t ham)
{
    double spam_ratio = spam ? (double)c.spam / (double)spam : 0;
    double ham_ratio = ham ? (double)c.ham / (double)ham : 0;
    double n = (double)c.spam + (double)c.ham;
    if (spam_ratio + ham_ratio == 0)
        return cfg->prior;
    double p = spam_ratio / (spam_ratio + ham_ratio);
    return (cfg->strength * cfg->prior + n * p) / (cfg->strength + n);
}

/*
 * Scores one comment from its tokens' counts: picks the clues, combines
 * them, and decides the verdict. The comment's tokens are index[0..n) of
 * ts, or all of ts when index is NULL. cand needs room for ntokens entries;
 * on return its first k (the value returned) are the clues used, most
 * extreme first when `sorted` is asked for.
 */
static size_t score_tokens(const rg_bayes_config *cfg, const rg__token_set *ts,
                           const uint32_t *index, size_t ntokens,
                           const rg__counts *counts, rg__totals totals,
                           clue_candidate *cand, bool sorted,
                           rg_bayes_result *result)
{
    size_t k = 0;
    for (size_t j = 0; j < ntokens; j++) {
        uint32_t i = index ? index[j] : (uint32_t)j;
        bool meta = is_meta(rg__token_set_get(ts, i, NULL));
        double f = token_probability(cfg, counts[i],
                                     meta ? totals.spam : totals.spam_words,
                                     meta ? totals.ham : totals.ham_words);
        double distance = fabs(f - 0.5);
        if (distance >= cfg->min_deviation)
            cand[k++] = (clue_candidate){f, distance, i};
    }
    /* Only the max_clues most extreme count; sorting finds them, and is
     * skipped when every candidate counts and no order was asked for. */
    if (sorted || k > cfg->max_clues)
        qsort(cand, k, sizeof *cand, by_distance);
    if (k > cfg->max_clues)
        k = cfg->max_clues;

    double spamicity = 0.5;
    if (k > 0) {
        double sum_ln_f = 0, sum_ln_not_f = 0;
        for (size_t i = 0; i < k; i++) {
            sum_ln_f += log(cand[i].f);
            sum_ln_not_f += log1p(-cand[i].f);
        }
        double spamminess = 1.0 - chi2q(-2.0 * sum_ln_not_f, 2 * (unsigned)k);
        double hamminess = 1.0 - chi2q(-2.0 * sum_ln_f, 2 * (unsigned)k);
        spamicity = (1.0 + spamminess - hamminess) / 2.0;
    }
    result->spamicity = spamicity;
    result->verdict = spamicity >= cfg->spam_cutoff ? RG_BAYES_SPAM
                      : spamicity < cfg->ham_cutoff ? RG_BAYES_HAM
                                                    : RG_BAYES_UNSURE;
    result->nclues = 0;
    return k;
}

/*
 * Per-thread working memory of classification, kept between calls: a web
 * server classifies comment after comment, and allocating the token set
 * and its arrays each time cost a tenth of the whole.
 */
typedef struct scratch {
    rg__token_set ts;
    rg__counts *counts;
    clue_candidate *cand;
    size_t room;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ready;

static void scratch_free(void *p)
{
    scratch *sc = p;
    rg__token_set_free(&sc->ts);
    free(sc->counts);
    free(sc->cand);
    free(sc);
}

static void scratch_key_make(void)
{
    scratch_ready = pthread_key_create(&scratch_key, scratch_free) == 0;
}

/* This thread's scratch, with its token set cleared. NULL when out of
 * memory. */
static scratch *scratch_get(size_t limit)
{
    pthread_once(&scratch_once, scratch_key_make);
    if (!scratch_ready)
        return NULL;
    scratch *sc = pthread_getspecific(scratch_key);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc || pthread_setspecific(scratch_key, sc) != 0) {
            free(sc);
            return NULL;
        }
        rg__token_set_init(&sc->ts, limit);
    }
    rg__token_set_clear(&sc->ts);
    sc->ts.limit = limit;
    return sc;
}

/* Room for n counts and candidates. */
static bool scratch_reserve(scratch *sc, size_t n)
{
    if (n <= sc->room)
        return true;
    size_t room = sc->room ? sc->room : 256;
    while (room < n)
        room *= 2;
    rg__counts *counts = realloc(sc->counts, room * sizeof *counts);
    if (counts)
        sc->counts = counts;
    clue_candidate *cand = realloc(sc->cand, room * sizeof *cand);
    if (cand)
        sc->cand = cand;
    if (!counts || !cand)
        return false;
    sc->room = room;
    return true;
}

int rg_bayes_classify(rg_bayes *b, const rg_comment *c, rg_bayes_result *result,
                      rg_clue *clues, size_t max_clues)
{
    if (!b || !comment_valid(c) || !result || (max_clues && !clues))
        return RG_EINVAL;

    scratch *sc = scratch_get(RG__COMMENT_TOKENS_MAX);
    if (!sc)
        return RG_ENOMEM;
    int rc = rg__tokenize_comment(c, &sc->ts);
    if (rc != RG_OK)
        return rc;
    if (!scratch_reserve(sc, sc->ts.count + 1))
        return RG_ENOMEM;
    rg__totals totals;
    rc = b->store->ops->bayes_lookup(b->store, &sc->ts, sc->counts, &totals);
    if (rc != RG_OK)
        return rc;

    size_t k = score_tokens(&b->cfg, &sc->ts, NULL, sc->ts.count, sc->counts,
                            totals, sc->cand, max_clues > 0, result);
    result->nclues = k < max_clues ? k : max_clues;
    for (size_t i = 0; i < result->nclues; i++) {
        rg_clue *out = &clues[i];
        const clue_candidate *cd = &sc->cand[i];
        size_t len;
        const char *tok = rg__token_set_get(&sc->ts, cd->token, &len);
        if (len >= sizeof out->token)
            len = sizeof out->token - 1;
        memcpy(out->token, tok, len);
        out->token[len] = '\0';
        out->probability = cd->f;
        out->spam_count = sc->counts[cd->token].spam;
        out->ham_count = sc->counts[cd->token].ham;
    }
    return RG_OK;
}

/*
 * Scores the comments a share claimed (after gather()): one lookup of the
 * share's distinct tokens, then each comment from its indexes.
 */
static int score_share(const rg_bayes *b, share *sh, rg_bayes_result *results)
{
    size_t most = 0;
    for (size_t m = 0; m < sh->nmine; m++) {
        size_t len = sh->start[m + 1] - sh->start[m];
        most = len > most ? len : most;
    }
    rg__counts *counts = malloc((sh->ts.count + 1) * sizeof *counts);
    clue_candidate *cand = malloc((most + 1) * sizeof *cand);
    rg__totals totals = {0};
    int rc = counts && cand ? RG_OK : RG_ENOMEM;

    if (rc == RG_OK && sh->nmine > 0)
        rc = b->store->ops->bayes_lookup(b->store, &sh->ts, counts, &totals);
    for (size_t m = 0; m < sh->nmine && rc == RG_OK; m++)
        score_tokens(&b->cfg, &sh->ts, sh->index + sh->start[m],
                     sh->start[m + 1] - sh->start[m], counts, totals, cand,
                     false, &results[sh->mine[m]]);
    free(counts);
    free(cand);
    return rc;
}

typedef struct classify_job {
    share sh;
    const rg_bayes *b;
    rg_bayes_result *results;
} classify_job;

static void *classify_share(void *arg)
{
    classify_job *job = arg;

    gather(&job->sh);
    if (job->sh.rc == RG_OK)
        job->sh.rc = score_share(job->b, &job->sh, job->results);
    return NULL;
}

int rg_bayes_classify_batch(rg_bayes *b, const rg_comment *comments, size_t n,
                            rg_bayes_result *results)
{
    if (!b || (n && !results) || !batch_valid(comments, n))
        return RG_EINVAL;
    if (n == 0)
        return RG_OK;

    /* Each share's comments go into one set, so the store is asked once
     * per share (one read transaction with sqlite:, not one per comment),
     * and each comment keeps the indexes of its tokens in that set. */
    classify_job jobs[RG_BAYES_THREADS_MAX];
    batch_work w;
    size_t njobs = threads_for(b, n);
    int rc = RG_OK;

    work_init(&w, comments, NULL, n, 0);
    for (size_t k = 0; k < njobs; k++) {
        jobs[k] = (classify_job){.b = b, .results = results};
        share_init(&jobs[k].sh, &w, SIZE_MAX);
    }
    run_shares(classify_share, jobs, sizeof jobs[0], njobs);
    for (size_t k = 0; k < njobs; k++) {
        if (rc == RG_OK)
            rc = jobs[k].sh.rc;
        share_free(&jobs[k].sh);
    }
    return rc;
}
