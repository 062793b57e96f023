/*
 * The redis: store as a site with several web servers uses it, through the
 * public API: two processes share spent tokens, limits and the spam model;
 * a server that dies and comes back; the limiter and the filter give what
 * their memory: counterparts give; prefixes and limiter names keep keys
 * apart, and no key holds a client's address; a Unix socket and a database
 * number in the URL.
 *
 * One redis-server serves the whole suite: redis_suite() starts it in
 * Check's parent process, and each test, in a process of its own, keeps
 * its keys under a prefix made of its pid and its name.
 */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "solver.h"

#if !RG_HAVE_REDIS
#error "test-redis.c needs a build with the redis: store"
#endif

#define T0      1700000000u /* the guards' "now", in 2023 */
#define URL_MAX 700

/* ---- URLs and a direct connection to the test's server ---- */

/* The tests this process has begun, counted by setup(). */
static unsigned test_number;

/* base (a URL without a query) with "?prefix=t<pid>-<test>-<name>" and,
 * when extra is not NULL, "&<extra>": the pid and the test's number keep
 * the keys of each test apart from every other test's on the one server,
 * whether each test runs in a process of its own or (CK_FORK=no) all in
 * one. */
static char *url_with(char *out, const char *base, const char *name,
                      const char *extra)
{
    ck_assert_ptr_nonnull(base);
    int n =
        snprintf(out, URL_MAX, "%s?prefix=t%ld-%u-%s%s%s", base, (long)getpid(),
                 test_number, name, extra ? "&" : "", extra ? extra : "");
    ck_assert(n > 0 && n < URL_MAX);
    return out;
}

/* The prefix url_with() gives for `name`. */
static char *prefix_of(char *out, size_t size, const char *name)
{
    int n =
        snprintf(out, size, "t%ld-%u-%s", (long)getpid(), test_number, name);
    ck_assert(n > 0 && (size_t)n < size);
    return out;
}

/* The server's TCP port, from the URL the helpers made. */
static int server_port(void)
{
    const char *url = rg_test_redis_url();
    ck_assert_ptr_nonnull(url);
    const char *colon = strrchr(url, ':');
    ck_assert_ptr_nonnull(colon);
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    ck_assert(end != colon + 1 && *end == '\0' && port > 0 && port < 65536);
    return (int)port;
}

/* A connection of the test's own to the server, on database db: to look
 * at what the library left there. */
static redisContext *direct(int db)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", server_port(), tv);
    ck_assert_msg(c && !c->err, "cannot connect: %s", c ? c->errstr : "");
    redisReply *r = redisCommand(c, "SELECT %d", db);
    ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "SELECT %d failed", db);
    freeReplyObject(r);
    return c;
}

/* Key names, as the server gives them (any bytes). */
typedef struct keylist {
    size_t n;
    char **name;
    size_t *len;
} keylist;

/* Every key of c's database that matches the glob `match`, each once
 * (SCAN may give a key twice). */
static keylist scan_keys(redisContext *c, const char *match)
{
    keylist k = {0, NULL, NULL};
    char cursor[32] = "0";
    do {
        redisReply *r =
            redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
        ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2,
                      "SCAN failed");
        ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_STRING);
        ck_assert_uint_lt(r->element[0]->len, sizeof cursor);
        memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        redisReply *names = r->element[1];
        for (size_t i = 0; i < names->elements; i++) {
            redisReply *e = names->element[i];
            ck_assert_int_eq(e->type, REDIS_REPLY_STRING);
            bool seen = false;
            for (size_t j = 0; j < k.n && !seen; j++)
                seen = k.len[j] == e->len && !memcmp(k.name[j], e->str, e->len);
            if (seen)
                continue;
            k.name = realloc(k.name, (k.n + 1) * sizeof *k.name);
            k.len = realloc(k.len, (k.n + 1) * sizeof *k.len);
            ck_assert(k.name && k.len);
            k.name[k.n] = malloc(e->len + 1);
            ck_assert_ptr_nonnull(k.name[k.n]);
            memcpy(k.name[k.n], e->str, e->len + 1);
            k.len[k.n++] = e->len;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return k;
}

static bool keylist_has(const keylist *k, const char *name, size_t len)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->len[i] == len && memcmp(k->name[i], name, len) == 0)
            return true;
    return false;
}

static bool starts_with(const char *name, size_t n, const char *start)
{
    size_t len = strlen(start);
    return n >= len && memcmp(name, start, len) == 0;
}

/* Keys of k that begin with `start`. */
static size_t count_starting(const keylist *k, const char *start)
{
    size_t n = 0;
    for (size_t i = 0; i < k->n; i++)
        n += starts_with(k->name[i], k->len[i], start);
    return n;
}

static void keylist_free(keylist *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->name[i]);
    free(k->name);
    free(k->len);
    memset(k, 0, sizeof *k);
}

/* ---- Handles ---- */

/* A guard on `store` with the test key (id 1) signing and the clock at
 * *now; NULL (and the reason in why) on failure, for the processes that
 * cannot use Check's assertions. */
static rg_guard *guard_open(const char *store, uint64_t *now, const char **why)
{
    rg_config cfg;
    rg_guard *g = NULL;
    rg_config_init(&cfg);
    cfg.store = store;
    cfg.clock = rg_test_clock;
    cfg.clock_arg = now;
    if (rg_guard_new(&g, &cfg) != RG_OK) {
        *why = "rg_guard_new";
        return NULL;
    }
    if (rg_guard_add_key(g, 1, rg_test_key, 1) != RG_OK) {
        *why = "rg_guard_add_key";
        rg_guard_free(g);
        return NULL;
    }
    return g;
}

static rg_limiter *limiter_open(const char *store, double rate, uint32_t burst,
                                const char *name)
{
    rg_limiter_config cfg;
    rg_limiter *l = NULL;
    rg_limiter_config_init(&cfg);
    cfg.store = store;
    cfg.rate_per_s = rate;
    cfg.burst = burst;
    if (name)
        cfg.name = name;
    int rc = rg_limiter_open(&l, &cfg);
    ck_assert_msg(rc == RG_OK, "rg_limiter_open %s: %s", store,
                  rg_err_name(rc));
    return l;
}

static rg_bayes *bayes_open(const char *store)
{
    rg_bayes *b = NULL;
    int rc = rg_bayes_open(&b, store, NULL);
    ck_assert_msg(rc == RG_OK, "rg_bayes_open %s: %s", store, rg_err_name(rc));
    return b;
}

/* A challenge in digits, with its answer. */
typedef struct issued {
    char token[RG_TOKEN_MAX];
    char answer[16];
} issued;

/* Issues one on g and solves it; false when either fails. */
static bool issue_solved(rg_guard *g, const char *binding, issued *out)
{
    rg_challenge c;
    uint32_t value;
    if (rg_challenge_issue_in(g, binding, NULL, RG_STYLE_DIGITS, &c) != RG_OK ||
        !rg_test_solve(c.question, &value))
        return false;
    memcpy(out->token, c.token, sizeof out->token);
    snprintf(out->answer, sizeof out->answer, "%u", value);
    return true;
}

static issued issue(rg_guard *g, const char *binding)
{
    issued i;
    ck_assert_msg(issue_solved(g, binding, &i), "cannot issue or solve");
    return i;
}

/* The verdict on i, asserting that a verdict was reached. */
static rg_verdict verify(rg_guard *g, const issued *i, const char *binding)
{
    rg_verdict v = RG_VERDICT_PASS;
    int rc = rg_challenge_verify(g, i->token, i->answer, binding, &v);
    ck_assert_msg(rc == RG_OK, "rg_challenge_verify: %s", rg_err_name(rc));
    return v;
}

static rg_comment comment(const char *author, const char *url, const char *body)
{
    rg_comment c;
    rg_comment_init(&c);
    c.author = author;
    c.url = url;
    c.body = body;
    return c;
}

/* ---- Two web servers on one Redis ---- */

#define WEB_BINDING "post-7|comments"
#define WEB_CLIENT  "198.51.100.23"
#define WEB_OTHER   "198.51.100.24"
#define LEARNINGS   20

static const char SPAM_BODY[] =
    "Cheap pills and casino bonus codes, best prices, visit our shop now";
static const char HAM_BODY[] =
    "I baked the sourdough from your recipe and the crust came out perfect";

/* What web server A hands to web server B. */
typedef struct handoff {
    issued spent;  /* verified on A: B must see it spent */
    issued unused; /* issued on A, never verified: B may spend it */
} handoff;

/* What each web server reports to the test. */
typedef struct report {
    char failed[160];   /* empty, or the step that went wrong */
    int verdict;        /* A: token 1; B: token 1 again */
    int verdict_unused; /* B: token 2 */
    unsigned takes;     /* A: takes allowed before the first refusal */
    int allowed;        /* B: the client A limited, at once */
    int other_allowed;  /* B: another client */
    int spam_verdict, ham_verdict; /* B: the filter's verdicts */
    double spam_score, ham_score;
} report;

/* One web server's handles, each opened on the shared URL. */
typedef struct web {
    uint64_t now;
    rg_guard *g;
    rg_limiter *l;
    rg_bayes *b;
} web;

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        c += k;
        n -= (size_t)k;
    }
    return true;
}

/* True when exactly n bytes came; false on an early end (the writer died). */
static bool read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t k = read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        c += k;
        n -= (size_t)k;
    }
    return true;
}

static const char *web_open(web *w, const char *url)
{
    const char *why = NULL;
    rg_limiter_config lc;
    memset(w, 0, sizeof *w);
    w->now = T0;
    if (!(w->g = guard_open(url, &w->now, &why)))
        return why;
    rg_limiter_config_init(&lc);
    lc.store = url;
    lc.rate_per_s = 1.0 / 60;
    lc.burst = 2;
    lc.name = "comments";
    if (rg_limiter_open(&w->l, &lc) != RG_OK)
        return "rg_limiter_open";
    if (rg_bayes_open(&w->b, url, NULL) != RG_OK)
        return "rg_bayes_open";
    return NULL;
}

static void web_close(web *w)
{
    rg_guard_free(w->g);
    rg_limiter_free(w->l);
    rg_bayes_close(w->b);
}

static bool client_take(web *w, const char *address, rg_limit_result *r)
{
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t len;
    return rg_client_key(address, 0, key, &len) == RG_OK &&
           rg_limiter_take(w->l, key, len, 1, r) == RG_OK;
}

/* Web server A: spends a token, limits a client and trains the filter,
 * after B has opened its handles (so that B sees it all through handles
 * it opened before any of it happened). */
static void web_a(const char *url, int ready_fd, int handoff_fd, report *out)
{
    web w;
    handoff h;
    /* Zeroed: it goes through the pipe whole, bytes after each string
     * included. */
    memset(&h, 0, sizeof h);
    rg_comment spam = comment("Pharma", "http://pills.example", SPAM_BODY);
    rg_comment ham = comment("Ann", NULL, HAM_BODY);
    rg_limit_result r;
    char byte;
    const char *why = web_open(&w, url);

    if (why)
        goto done;
    why = "B never got ready";
    if (!read_all(ready_fd, &byte, 1))
        goto done;

    why = "issue";
    if (!issue_solved(w.g, WEB_BINDING, &h.spent) ||
        !issue_solved(w.g, WEB_BINDING, &h.unused))
        goto done;
    w.now += 10; /* past the minimum solve time */
    why = "verify";
    rg_verdict v;
    if (rg_challenge_verify(w.g, h.spent.token, h.spent.answer, WEB_BINDING,
                            &v) != RG_OK)
        goto done;
    out->verdict = (int)v;

    why = "take";
    for (out->takes = 0; out->takes < 10; out->takes++) {
        if (!client_take(&w, WEB_CLIENT, &r))
            goto done;
        if (!r.allowed)
            break;
    }

    why = "learn";
    for (int i = 0; i < LEARNINGS; i++)
        if (rg_bayes_learn(w.b, &spam, RG_CLASS_SPAM) != RG_OK ||
            rg_bayes_learn(w.b, &ham, RG_CLASS_HAM) != RG_OK)
            goto done;

    why = "handoff";
    if (!write_all(handoff_fd, &h, sizeof h))
        goto done;
    why = NULL;
done:
    if (why)
        snprintf(out->failed, sizeof out->failed, "A: %s", why);
    web_close(&w);
}

/* Web server B: opens its handles, tells A, and looks at what A did. */
static void web_b(const char *url, int ready_fd, int handoff_fd, report *out)
{
    web w;
    handoff h;
    rg_comment spam = comment("Pharma", "http://pills.example", SPAM_BODY);
    rg_comment ham = comment("Ann", NULL, HAM_BODY);
    rg_limit_result r;
    rg_bayes_result br;
    const char *why = web_open(&w, url);

    if (why)
        goto done;
    why = "telling A";
    if (!write_all(ready_fd, "r", 1))
        goto done;
    why = "A handed nothing over";
    if (!read_all(handoff_fd, &h, sizeof h))
        goto done;
    w.now += 10; /* B's clock agrees with A's */

    why = "verify";
    rg_verdict v;
    if (rg_challenge_verify(w.g, h.spent.token, h.spent.answer, WEB_BINDING,
                            &v) != RG_OK)
        goto done;
    out->verdict = (int)v;
    if (rg_challenge_verify(w.g, h.unused.token, h.unused.answer, WEB_BINDING,
                            &v) != RG_OK)
        goto done;
    out->verdict_unused = (int)v;

    why = "take";
    if (!client_take(&w, WEB_CLIENT, &r))
        goto done;
    out->allowed = r.allowed;
    if (!client_take(&w, WEB_OTHER, &r))
        goto done;
    out->other_allowed = r.allowed;

    why = "classify";
    if (rg_bayes_classify(w.b, &spam, &br, NULL, 0) != RG_OK)
        goto done;
    out->spam_verdict = (int)br.verdict;
    out->spam_score = br.spamicity;
    if (rg_bayes_classify(w.b, &ham, &br, NULL, 0) != RG_OK)
        goto done;
    out->ham_verdict = (int)br.verdict;
    out->ham_score = br.spamicity;
    why = NULL;
done:
    if (why)
        snprintf(out->failed, sizeof out->failed, "B: %s", why);
    web_close(&w);
}

/* Forks a web server that runs fn and writes its report to a pipe; the
 * fds in `close_fds` (-1 for none) are the other side's, closed in the
 * child so that a dead peer shows as an end of file. */
static pid_t start_web(void (*fn)(const char *, int, int, report *),
                       const char *url, int ready_fd, int handoff_fd,
                       const int close_fds[2], int *report_fd)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        report out;
        memset(&out, 0, sizeof out);
        close(p[0]);
        for (int i = 0; i < 2; i++)
            if (close_fds[i] >= 0)
                close(close_fds[i]);
        fn(url, ready_fd, handoff_fd, &out);
        /* _exit: the child must not run the test process's exit
         * handlers (the helpers' clean-up is the test process's). */
        _exit(write_all(p[1], &out, sizeof out) ? 0 : 1);
    }
    close(p[1]);
    *report_fd = p[0];
    return pid;
}

static report collect(pid_t pid, int fd, const char *who)
{
    report r;
    int status = 0;
    bool got = read_all(fd, &r, sizeof r);
    close(fd);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(got && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "web server %s died (status 0x%x)", who, status);
    ck_assert_msg(r.failed[0] == '\0', "%s", r.failed);
    return r;
}

START_TEST(two_web_servers_share_state)
{
    char url[URL_MAX];
    int ready[2], hand[2]; /* B to A; A to B */
    int report_a, report_b;

    url_with(url, rg_test_redis_url(), "web", NULL);
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(hand), 0);
    const int not_a[2] = {ready[1], hand[0]}, not_b[2] = {ready[0], hand[1]};
    pid_t a = start_web(web_a, url, ready[0], hand[1], not_a, &report_a);
    pid_t b = start_web(web_b, url, ready[1], hand[0], not_b, &report_b);
    close(ready[0]);
    close(ready[1]);
    close(hand[0]);
    close(hand[1]);

    report ra = collect(a, report_a, "A");
    report rb = collect(b, report_b, "B");

    /* (a) A token passes once, on whichever server sees it first. */
    ck_assert_int_eq(ra.verdict, RG_VERDICT_PASS);
    ck_assert_int_eq(rb.verdict, RG_VERDICT_REPLAYED);
    ck_assert_int_eq(rb.verdict_unused, RG_VERDICT_PASS);
    /* (b) Burst 2: three takes, then A refuses; B refuses at once, and
     * only that client. */
    ck_assert_uint_eq(ra.takes, 3);
    ck_assert_int_eq(rb.allowed, 0);
    ck_assert_int_eq(rb.other_allowed, 1);
    /* (c) What A learned, B's filter knows. */
    ck_assert_msg(rb.spam_verdict == RG_BAYES_SPAM, "spam scored %f",
                  rb.spam_score);
    ck_assert_msg(rb.ham_verdict == RG_BAYES_HAM, "ham scored %f",
                  rb.ham_score);
}
END_TEST

/* ---- The same results as memory: ---- */

typedef struct limit_case {
    double rate;
    uint32_t burst;
    uint32_t costs[10];
    size_t ncosts;
} limit_case;

/* Rates of one per 45 s or slower: the few milliseconds between the two
 * limiters' calls cannot change a count, and move times by no more. */
static const limit_case limit_cases[] = {
    {1.0 / 60, 3, {1, 1, 2, 1, 1, 5, 0}, 7},
    {1.0 / 3600, 0, {1, 1, 0, 2, 1}, 5},
    {1.0 / 45.5, 9, {3, 3, 3, 3, 1, 0, 11, 10, 1}, 9},
    {1.0 / 86400, 4, {0, 5, 1, 0, 6, 4}, 6},
};

static uint64_t ms_apart(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

START_TEST(limiter_agrees_with_memory)
{
    const limit_case *lc = &limit_cases[_i];
    char url[URL_MAX], name[32];
    snprintf(name, sizeof name, "case%d", _i);
    url_with(url, rg_test_redis_url(), name, NULL);
    rg_limiter *mem = limiter_open("memory:", lc->rate, lc->burst, NULL);
    rg_limiter *red = limiter_open(url, lc->rate, lc->burst, NULL);
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t len;
    ck_assert_int_eq(rg_client_key("192.0.2.44", 0, key, &len), RG_OK);
    /* The two limiters answer at two moments, their times differing by
     * about as much: a few milliseconds, far more under valgrind. */
    const uint64_t slack = rg_test_under_valgrind() ? 1000 : 50;

    for (size_t k = 0; k < lc->ncosts; k++) {
        rg_limit_result m, r;
        ck_assert_int_eq(rg_limiter_take(mem, key, len, lc->costs[k], &m),
                         RG_OK);
        ck_assert_int_eq(rg_limiter_take(red, key, len, lc->costs[k], &r),
                         RG_OK);
        ck_assert_msg(m.allowed == r.allowed && m.limit == r.limit &&
                          m.remaining == r.remaining,
                      "take %zu (cost %u): memory %d/%u/%u, redis %d/%u/%u", k,
                      lc->costs[k], m.allowed, m.limit, m.remaining, r.allowed,
                      r.limit, r.remaining);
        if (m.retry_after_ms == UINT64_MAX || r.retry_after_ms == UINT64_MAX)
            ck_assert_uint_eq(m.retry_after_ms, r.retry_after_ms);
        else
            ck_assert_msg(ms_apart(m.retry_after_ms, r.retry_after_ms) <= slack,
                          "take %zu: retry after %llu and %llu ms", k,
                          (unsigned long long)m.retry_after_ms,
                          (unsigned long long)r.retry_after_ms);
        ck_assert_msg(ms_apart(m.reset_after_ms, r.reset_after_ms) <= slack,
                      "take %zu: reset after %llu and %llu ms", k,
                      (unsigned long long)m.reset_after_ms,
                      (unsigned long long)r.reset_after_ms);
    }
    rg_limiter_free(mem);
    rg_limiter_free(red);
}
END_TEST

/* A small corpus, and comments the models have not seen. */
static const char *const corpus_spam[] = {
    "Buy cheap pills now at http://pills.example.com best price",
    "Cheap watches! Visit http://watches.example.net for the best deals",
    "WIN a FREE phone!!! Click http://prize.example.com now",
    "Earn money from home, visit http://money.example.biz today",
    "Hot singles in your area, click http://dating.example.com",
    "Cheap loans approved today, call now, free quote",
};

static const char *const corpus_ham[] = {
    "Great article, thanks for explaining the rate limiter so clearly.",
    "I disagree with the second point, the cache should expire sooner.",
    "Thanks! This helped me fix my build on Debian.",
    "Could you write a follow-up about key rotation?",
    "The diagram in the third section has the arrows the wrong way round.",
    "I ran the benchmark on my laptop and got similar numbers.",
};

static const char *const unseen[] = {
    "Cheap pills and free money, click now",
    "Thanks for the follow-up, the section on rotation helped",
    "Visit http://prize.example.com for a free quote today",
    "My build on Debian still fails at the linker step",
    "Completely unrelated words: zebra lantern harpsichord",
};

#define NCORPUS (sizeof corpus_spam / sizeof corpus_spam[0])
#define NUNSEEN (sizeof unseen / sizeof unseen[0])

/* Both models score every unseen comment alike, to the last bit, with
 * the same clues. */
static void same_scores(rg_bayes *mem, rg_bayes *red, const char *when)
{
    for (size_t i = 0; i < NUNSEEN; i++) {
        rg_comment c = comment("Reader", NULL, unseen[i]);
        rg_bayes_result m, r;
        rg_clue mc[8], rc[8];
        ck_assert_int_eq(rg_bayes_classify(mem, &c, &m, mc, 8), RG_OK);
        ck_assert_int_eq(rg_bayes_classify(red, &c, &r, rc, 8), RG_OK);
        ck_assert_msg(m.spamicity == r.spamicity && m.verdict == r.verdict,
                      "%s, '%s': memory %.17g (%d), redis %.17g (%d)", when,
                      unseen[i], m.spamicity, m.verdict, r.spamicity,
                      r.verdict);
        ck_assert_uint_eq(m.nclues, r.nclues);
        for (size_t k = 0; k < m.nclues; k++) {
            ck_assert_str_eq(mc[k].token, rc[k].token);
            ck_assert(mc[k].probability == rc[k].probability);
            ck_assert_uint_eq(mc[k].spam_count, rc[k].spam_count);
            ck_assert_uint_eq(mc[k].ham_count, rc[k].ham_count);
        }
    }
}

static rg_bayes_stats stats_of(rg_bayes *b)
{
    rg_bayes_stats s;
    ck_assert_int_eq(rg_bayes_stats_get(b, &s), RG_OK);
    return s;
}

static void same_stats(rg_bayes *mem, rg_bayes *red)
{
    rg_bayes_stats m = stats_of(mem), r = stats_of(red);
    ck_assert_uint_eq(m.spam_comments, r.spam_comments);
    ck_assert_uint_eq(m.ham_comments, r.ham_comments);
    ck_assert_uint_eq(m.tokens, r.tokens);
}

START_TEST(bayes_agrees_with_memory)
{
    char url[URL_MAX];
    url_with(url, rg_test_redis_url(), "bayes", NULL);
    rg_bayes *mem = bayes_open("memory:");
    rg_bayes *red = bayes_open(url);
    rg_bayes *both[2] = {mem, red};

    for (int m = 0; m < 2; m++)
        for (size_t i = 0; i < NCORPUS; i++) {
            rg_comment s = comment("Seller", NULL, corpus_spam[i]);
            rg_comment h = comment("Reader", NULL, corpus_ham[i]);
            ck_assert_int_eq(rg_bayes_learn(both[m], &s, RG_CLASS_SPAM), RG_OK);
            ck_assert_int_eq(rg_bayes_learn(both[m], &h, RG_CLASS_HAM), RG_OK);
        }
    rg_bayes_stats st = stats_of(red);
    ck_assert_uint_eq(st.spam_comments, NCORPUS);
    ck_assert_uint_eq(st.ham_comments, NCORPUS);
    ck_assert_uint_gt(st.tokens, 0);
    same_stats(mem, red);
    same_scores(mem, red, "trained");

    /* Unlearning one spam comment takes back the same in both. */
    rg_comment gone = comment("Seller", NULL, corpus_spam[0]);
    for (int m = 0; m < 2; m++)
        ck_assert_int_eq(rg_bayes_unlearn(both[m], &gone, RG_CLASS_SPAM),
                         RG_OK);
    ck_assert_uint_eq(stats_of(red).spam_comments, NCORPUS - 1);
    same_stats(mem, red);
    same_scores(mem, red, "after an unlearning");

    /* What was never learned (new words; a ham comment as spam) cannot
     * be unlearned, and refusing it changes nothing. */
    rg_bayes_stats before = stats_of(red);
    rg_comment never = comment("Nobody", NULL, "quixotic marmalade xylophone");
    rg_comment ham_as_spam = comment("Reader", NULL, corpus_ham[2]);
    for (int m = 0; m < 2; m++) {
        ck_assert_int_eq(rg_bayes_unlearn(both[m], &never, RG_CLASS_SPAM),
                         RG_ENOTLEARNED);
        ck_assert_int_eq(rg_bayes_unlearn(both[m], &ham_as_spam, RG_CLASS_SPAM),
                         RG_ENOTLEARNED);
        /* Already unlearned: a second time is refused. */
        ck_assert_int_eq(rg_bayes_unlearn(both[m], &gone, RG_CLASS_SPAM),
                         RG_ENOTLEARNED);
    }
    rg_bayes_stats after = stats_of(red);
    ck_assert_uint_eq(before.spam_comments, after.spam_comments);
    ck_assert_uint_eq(before.ham_comments, after.ham_comments);
    ck_assert_uint_eq(before.tokens, after.tokens);
    same_stats(mem, red);
    same_scores(mem, red, "after refused unlearnings");

    rg_bayes_close(mem);
    rg_bayes_close(red);
}
END_TEST

/* ---- Namespaces and privacy ---- */

#define PRIVATE_ADDRESS "203.0.113.7"

static bool contains(const char *hay, size_t n, const void *needle, size_t len)
{
    return len > 0 && n >= len && memmem(hay, n, needle, len) != NULL;
}

/* Takes until the key is limited; returns the takes allowed. */
static unsigned exhaust(rg_limiter *l, const uint8_t *key, size_t len)
{
    rg_limit_result r;
    for (unsigned n = 0; n < 100; n++) {
        ck_assert_int_eq(rg_limiter_take(l, key, len, 1, &r), RG_OK);
        if (!r.allowed)
            return n;
    }
    ck_abort_msg("never limited");
    return 0;
}

static int allowed_now(rg_limiter *l, const uint8_t *key, size_t len)
{
    rg_limit_result r;
    ck_assert_int_eq(rg_limiter_take(l, key, len, 1, &r), RG_OK);
    return r.allowed;
}

START_TEST(namespaces_and_privacy)
{
    char url1[URL_MAX], url2[URL_MAX], p1[64], p2[64], start[80];
    uint8_t key[RG_CLIENT_KEY_MAX];
    size_t len;
    url_with(url1, rg_test_redis_url(), "ns1", NULL);
    url_with(url2, rg_test_redis_url(), "ns2", NULL);
    prefix_of(p1, sizeof p1, "ns1");
    prefix_of(p2, sizeof p2, "ns2");
    ck_assert_int_eq(rg_client_key(PRIVATE_ADDRESS, 0, key, &len), RG_OK);

    redisContext *c = direct(0);
    keylist before = scan_keys(c, "*");

    /* One name on two prefixes: two sites, two limits. */
    rg_limiter *site1 = limiter_open(url1, 1.0 / 60, 1, NULL);
    rg_limiter *site2 = limiter_open(url2, 1.0 / 60, 1, NULL);
    ck_assert_uint_eq(exhaust(site1, key, len), 2);
    ck_assert_int_eq(allowed_now(site2, key, len), 1);

    /* Two names on one prefix: two limits; the same name again (another
     * handle) shares one. */
    rg_limiter *posts = limiter_open(url1, 1.0 / 60, 1, "comments");
    rg_limiter *logins = limiter_open(url1, 1.0 / 60, 1, "logins");
    rg_limiter *posts2 = limiter_open(url1, 1.0 / 60, 1, "comments");
    ck_assert_uint_eq(exhaust(posts, key, len), 2);
    ck_assert_int_eq(allowed_now(logins, key, len), 1);
    ck_assert_int_eq(allowed_now(posts2, key, len), 0);

    /* Every key the takes made is under its site's prefix: its secret and
     * one l: key per limiter name, none with the address in it. */
    keylist after = scan_keys(c, "*");
    static const uint8_t address_bytes[4] = {203, 0, 113, 7};
    size_t made = 0;
    for (size_t i = 0; i < after.n; i++) {
        const char *name = after.name[i];
        size_t n = after.len[i];
        ck_assert_msg(
            !contains(name, n, PRIVATE_ADDRESS, strlen(PRIVATE_ADDRESS)) &&
                !contains(name, n, key, len) &&
                !contains(name, n, address_bytes, 4) &&
                !contains(name, n, "cb007107", 8),
            "key '%s' holds the client's address", name);
        if (keylist_has(&before, name, n))
            continue;
        made++;
        snprintf(start, sizeof start, "%s:", p1);
        bool in1 = starts_with(name, n, start);
        snprintf(start, sizeof start, "%s:", p2);
        bool in2 = starts_with(name, n, start);
        ck_assert_msg(in1 || in2, "key '%s' is outside both prefixes", name);
    }
    snprintf(start, sizeof start, "%s:*", p1);
    keylist k1 = scan_keys(c, start);
    snprintf(start, sizeof start, "%s:*", p2);
    keylist k2 = scan_keys(c, start);
    snprintf(start, sizeof start, "%s:l:", p1);
    ck_assert_uint_eq(count_starting(&k1, start), 3);
    snprintf(start, sizeof start, "%s:secret", p1);
    ck_assert_uint_eq(count_starting(&k1, start), 1);
    snprintf(start, sizeof start, "%s:l:", p2);
    ck_assert_uint_eq(count_starting(&k2, start), 1);
    snprintf(start, sizeof start, "%s:secret", p2);
    ck_assert_uint_eq(count_starting(&k2, start), 1);
    ck_assert_uint_eq(made, 6);

    /* Nor does a value: a TAT is a number of microseconds. */
    snprintf(start, sizeof start, "%s:l:", p1);
    for (size_t i = 0; i < k1.n; i++) {
        if (!starts_with(k1.name[i], k1.len[i], start))
            continue;
        redisReply *r = redisCommand(c, "GET %b", k1.name[i], k1.len[i]);
        ck_assert(r && r->type == REDIS_REPLY_STRING && r->len > 0);
        ck_assert_uint_eq(strspn(r->str, "0123456789"), r->len);
        freeReplyObject(r);
    }

    keylist_free(&before);
    keylist_free(&after);
    keylist_free(&k1);
    keylist_free(&k2);
    redisFree(c);
    rg_limiter_free(site1);
    rg_limiter_free(site2);
    rg_limiter_free(posts);
    rg_limiter_free(logins);
    rg_limiter_free(posts2);
}
END_TEST

/* ---- Other ways to reach the server ---- */

START_TEST(unix_socket)
{
    char url[URL_MAX], match[80];
    uint64_t now = T0;
    const char *why = NULL;
    url_with(url, rg_test_redis_socket_url(), "sock", NULL);
    rg_guard *g = guard_open(url, &now, &why);
    ck_assert_msg(g != NULL, "%s: %s", url, why);
    issued i = issue(g, WEB_BINDING);
    now += 10;
    ck_assert_int_eq(verify(g, &i, WEB_BINDING), RG_VERDICT_PASS);
    ck_assert_int_eq(verify(g, &i, WEB_BINDING), RG_VERDICT_REPLAYED);

    /* The same server as over TCP: the spent nonce is there. */
    redisContext *c = direct(0);
    char prefix[64];
    snprintf(match, sizeof match, "%s:n:*",
             prefix_of(prefix, sizeof prefix, "sock"));
    keylist k = scan_keys(c, match);
    ck_assert_uint_eq(k.n, 1);
    keylist_free(&k);
    redisFree(c);
    rg_guard_free(g);
}
END_TEST

START_TEST(database_number)
{
    char base[URL_MAX], url[URL_MAX], prefix[64], match[80], start[80];
    uint64_t now = T0;
    const char *why = NULL;
    snprintf(base, sizeof base, "redis://127.0.0.1:%d/3", server_port());
    url_with(url, base, "db3", NULL);
    prefix_of(prefix, sizeof prefix, "db3");

    rg_guard *g = guard_open(url, &now, &why);
    ck_assert_msg(g != NULL, "%s: %s", url, why);
    issued i = issue(g, WEB_BINDING);
    now += 10;
    ck_assert_int_eq(verify(g, &i, WEB_BINDING), RG_VERDICT_PASS);
    rg_limiter *l = limiter_open(url, 1.0 / 60, 2, NULL);
    ck_assert_int_eq(allowed_now(l, (const uint8_t *)"k", 1), 1);
    rg_bayes *b = bayes_open(url);
    rg_comment cm = comment("Ann", NULL, HAM_BODY);
    ck_assert_int_eq(rg_bayes_learn(b, &cm, RG_CLASS_HAM), RG_OK);

    /* Every layer's keys are in db 3, and none in db 0. */
    snprintf(match, sizeof match, "%s:*", prefix);
    redisContext *c3 = direct(3), *c0 = direct(0);
    keylist k3 = scan_keys(c3, match), k0 = scan_keys(c0, match);
    ck_assert_uint_eq(k0.n, 0);
    static const char *const kinds[] = {"n:",     "l:",    "secret",
                                        "b:spam", "b:ham", "b:totals"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        snprintf(start, sizeof start, "%s:%s", prefix, kinds[k]);
        ck_assert_msg(count_starting(&k3, start) == 1, "%s in db 3: %zu", start,
                      count_starting(&k3, start));
    }
    keylist_free(&k3);
    keylist_free(&k0);
    redisFree(c3);
    redisFree(c0);
    rg_bayes_close(b);
    rg_limiter_free(l);
    rg_guard_free(g);
}
END_TEST

/* ---- The server dies and comes back ---- */

/*
 * The server is the child of Check's parent process, not of this one, so
 * rg_test_redis_kill() cannot wait for it here: it only sends the signal.
 * Until the port refuses connections the server may still answer (and
 * hold the port the restart needs). The port is the caller's, read
 * before the kill: asked afterwards, rg_test_redis_url() would start a
 * new server on another one.
 */
static void wait_until_down(int port)
{
    struct timeval tv = {0, 200000};
    struct timespec pause = {0, 10000000};
    for (;;) {
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
        bool up = c && !c->err;
        redisFree(c);
        if (!up)
            return;
        nanosleep(&pause, NULL);
    }
}

static rg_submission good_submission(const issued *i)
{
    rg_submission s;
    rg_submission_init(&s);
    s.author = "Ann";
    s.body = HAM_BODY;
    s.token = i->token;
    s.answer = i->answer;
    s.client = "192.0.2.80";
    s.binding = WEB_BINDING;
    return s;
}

/* Verifies, takes, learns and classifies: all must work. */
static void all_work(rg_guard *g, uint64_t *now, rg_limiter *l, rg_bayes *b,
                     const char *when)
{
    issued i = issue(g, WEB_BINDING);
    *now += 10;
    ck_assert_msg(verify(g, &i, WEB_BINDING) == RG_VERDICT_PASS, "%s", when);
    rg_limit_result r;
    int rc = rg_limiter_take(l, "c", 1, 1, &r);
    ck_assert_msg(rc == RG_OK, "%s: rg_limiter_take: %s", when,
                  rg_err_name(rc));
    ck_assert_msg(r.allowed, "%s: limited", when);
    rg_comment spam = comment("Pharma", "http://pills.example", SPAM_BODY);
    rg_bayes_result br;
    ck_assert_int_eq(rg_bayes_learn(b, &spam, RG_CLASS_SPAM), RG_OK);
    ck_assert_int_eq(rg_bayes_classify(b, &spam, &br, NULL, 0), RG_OK);
}

START_TEST(server_dies_and_returns)
{
    char url[URL_MAX];
    uint64_t now = T0;
    const char *why = NULL;
    url_with(url, rg_test_redis_url(), "fault", "timeout_ms=300");
    rg_guard *g = guard_open(url, &now, &why);
    ck_assert_msg(g != NULL, "%s: %s", url, why);
    rg_limiter *l = limiter_open(url, 1.0 / 60, 100, NULL);
    rg_bayes *b = bayes_open(url);
    rg_policy p;
    rg_policy_init(&p);
    p.limiter = l;
    p.bayes = b;

    for (int k = 0; k < 3; k++)
        all_work(g, &now, l, b, "before the failure");

    int port = server_port();
    rg_test_redis_kill();
    wait_until_down(port);

    /* Every call fails, promptly, and closed: no pass, no allowance. */
    for (int k = 0; k < 3; k++) {
        issued i = issue(g, WEB_BINDING);
        now += 10;
        rg_verdict v = RG_VERDICT_PASS;
        ck_assert_int_eq(
            rg_challenge_verify(g, i.token, i.answer, WEB_BINDING, &v),
            RG_ESTORE);
        ck_assert_int_ne(v, RG_VERDICT_PASS);

        rg_limit_result r;
        memset(&r, 0xff, sizeof r);
        ck_assert_int_eq(rg_limiter_take(l, "c", 1, 1, &r), RG_ESTORE);
        ck_assert_int_eq(r.allowed, 0);
        ck_assert_uint_eq(r.retry_after_ms, 0);

        rg_comment spam = comment("Pharma", "http://pills.example", SPAM_BODY);
        rg_bayes_result br;
        ck_assert_int_eq(rg_bayes_learn(b, &spam, RG_CLASS_SPAM), RG_ESTORE);
        ck_assert_int_eq(rg_bayes_classify(b, &spam, &br, NULL, 0), RG_ESTORE);
        rg_bayes_stats st;
        ck_assert_int_eq(rg_bayes_stats_get(b, &st), RG_ESTORE);

        /* The judge holds the comment for a moderator. */
        issued j = issue(g, WEB_BINDING);
        now += 10;
        rg_submission s = good_submission(&j);
        rg_decision d;
        ck_assert_int_eq(rg_judge(g, &s, &p, &d), RG_OK);
        ck_assert_uint_eq(d.reasons, RG_REASON_STORE_UNAVAILABLE);
        ck_assert_int_eq(d.action, RG_ACTION_MODERATE);
        ck_assert_int_eq(d.verified, 0);
    }

    /* The server comes back empty (it saves nothing) and has forgotten
     * the scripts; the spent tokens went with it, as they do with any
     * server without persistence. The same handles work again. */
    ck_assert(rg_test_redis_restart());
    /* A web server that opens its limiter now makes the secret anew; one
     * opened before the failure must take that secret, or the two would
     * count one client under two keys. */
    rg_limiter *fresh = limiter_open(url, 1.0 / 60, 100, NULL);
    rg_limit_result r;
    ck_assert_int_eq(rg_limiter_take(fresh, "x", 1, 101, &r), RG_OK);
    ck_assert(r.allowed);
    ck_assert_int_eq(rg_limiter_take(l, "x", 1, 1, &r), RG_OK);
    ck_assert_msg(!r.allowed, "the handles hash the client differently");
    rg_limiter_free(fresh);
    for (int k = 0; k < 3; k++)
        all_work(g, &now, l, b, "after the restart");
    rg_bayes_stats st;
    ck_assert_int_eq(rg_bayes_stats_get(b, &st), RG_OK);
    ck_assert_uint_eq(st.spam_comments, 3);

    issued j = issue(g, WEB_BINDING);
    now += 10;
    rg_submission s = good_submission(&j);
    rg_decision d;
    ck_assert_int_eq(rg_judge(g, &s, &p, &d), RG_OK);
    ck_assert_uint_eq(d.reasons & RG_REASON_STORE_UNAVAILABLE, 0);
    ck_assert_int_eq(d.verified, 1);
    ck_assert_int_eq(d.verdict, RG_VERDICT_PASS);

    rg_bayes_close(b);
    rg_limiter_free(l);
    rg_guard_free(g);
}
END_TEST

static void setup(void)
{
    test_number++;
    ck_assert_int_eq(rg_init(), RG_OK);
}

Suite *redis_suite(void); /* for tests/runner.c */

Suite *redis_suite(void)
{
    /* The server starts here, in Check's parent: the tests' processes
     * are its children and share it. */
    if (!rg_test_redis_url()) {
        fprintf(stderr,
                "redis-server is not installed, or did not start: skipped\n");
        exit(77);
    }
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("shared");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, two_web_servers_share_state);
    tcase_add_loop_test(tc, limiter_agrees_with_memory, 0,
                        sizeof limit_cases / sizeof limit_cases[0]);
    tcase_add_test(tc, bayes_agrees_with_memory);
    tcase_add_test(tc, namespaces_and_privacy);
    tcase_add_test(tc, unix_socket);
    tcase_add_test(tc, database_number);
    suite_add_tcase(s, tc);

    /* Last of all: it kills the server that every test above shares, and
     * the one it starts again lives only as long as its own process. */
    tc = tcase_create("fault");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, server_dies_and_returns);
    suite_add_tcase(s, tc);
    return s;
}
