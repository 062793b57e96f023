/*
 * Memory under a spray of clients: 10,000,000 distinct IPv4 addresses
 * through rg_judge() with every layer on and memory: stores of fixed
 * capacity, while one heavy poster sends one submission for every ten of
 * the spray. The anchor is the bound the configuration sets: the sum over
 * the stores of their documented bytes per entry times their capacities
 * (the replay store: 2 slots of 24 bytes an entry; a limiter: 2 slots of
 * 16 bytes a key; the model: about 60 bytes a token at most). The bench
 * prints the resident memory (VmRSS, and its peak VmHWM) before the
 * spray, after each million addresses and at the end, and the growth
 * over the bound; and how many of the heavy poster's submissions got
 * past the rate limit against what its rate allows. The stores allocate
 * their tables when they open, and the limiters write theirs through at
 * once (the replay store's pages arrive as entries land), so the bench
 * also prints the growth since before the stores opened (after the
 * tokenizer's tables were read in: they are the process's, not a
 * store's).
 *
 * The submissions: each comes with a challenge issued 6 s of the guard's
 * clock before it (so it clears the 5 s time trap) and answered right,
 * an empty honeypot and a comment of ham, so the judge runs every layer:
 * the per-client limit, the failures limiter that escalates the time
 * trap, the challenge and its replay store, and the content filter.
 * Challenges are issued up front in batches of one second of submissions
 * (addition only, in digits, so that the bench can answer them), and
 * issuing is not part of the spray's memory: the batches are allocated
 * before the start. The clocks (the guard's in seconds, the limiters' in
 * nanoseconds) are a variable the bench moves on by one second every
 * --per-second submissions, so nothing sleeps and the run means the same
 * on any machine. At the default 10,000 a second, sprayed keys stay in
 * their limiter's burst for a minute: some 600,000 of them at once, six
 * times the limiter's capacity; and the replay store is full after 100 s
 * and then fails closed (the judge moderates: store_unavailable), which
 * is the bound at work, not an error.
 *
 * PASS/FAIL lines: "RSS within bound" when the resident memory never grew
 * during the spray (start to peak, VmHWM) by more than the bound;
 * "heavy poster limited" when, at every one of its submissions, no more
 * had got past the limit than burst + 1 plus one a minute since the
 * start. The exit status is 0 when the measurements ran, whatever the
 * figures.
 *
 * Usage: bench-spray [--clients N] [--per-second N] [--capacity N]
 *                    [--replay-capacity N]
 */
#include <errno.h>
#include <replyguard.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

#define CLIENTS_MAX  16000000u /* 10.0.0.0/8 holds 16,777,216 */
#define HEAVY_EVERY  10        /* a heavy submission after every 10 */
#define HEAVY_CLIENT "192.0.2.1"
#define BINDING      "post-1|comments"
/* The limits of a client: one a minute, five at once (the defaults). */
#define CLIENT_RATE  (1.0 / 60)
#define CLIENT_BURST 4u
/* The failures limiter: one failure forgotten in ten minutes. */
#define FAILURE_RATE  (1.0 / 600)
#define FAILURE_BURST 30u
/* Bytes an entry, as the stores document them. */
#define REPLAY_ENTRY_BYTES 48.0 /* store-memory.c: 2 slots of 24 bytes */
#define LIMIT_KEY_BYTES    32.0 /* docs/limit.md */
#define MODEL_TOKEN_BYTES  60.0 /* store-memory-bayes.c: 40 to 60 */
#define MODEL_TOKENS       20000u

/* The clocks: seconds of the guard; the limiters read nanoseconds. */
static uint64_t fake_now = 1700000000;

static uint64_t guard_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static uint64_t limiter_clock(void *arg)
{
    (void)arg;
    return fake_now * 1000000000ull;
}

static const char *const HAM[] = {
    "Thanks for the write-up, the part about sourdough starters finally "
    "made it click for me.",
    "Great photos of the coast. Which lens did you use for the one at dusk?",
    "My daughter read this with me and now she wants to plant tomatoes on "
    "the balcony.",
    "Small typo in the second paragraph: it should be their, not there.",
    "We walked that trail in May and the wildflowers were just as you "
    "describe them.",
    "I fixed the same leak with plumber's tape and it has held for two "
    "winters now.",
};
#define NHAM (sizeof HAM / sizeof HAM[0])

static const char *const SPAM[] = {
    "Buy cheap pills online now at http://cheap-pills.example/buy best "
    "prices no prescription",
    "Earn $5000 a week from home!!! Click http://easy-money.example/join",
    "Best casino bonus 200% free spins visit http://casino-bonus.example/",
    "CHEAP REPLICA WATCHES http://replica.example/watches free shipping",
};
#define NSPAM (sizeof SPAM / sizeof SPAM[0])

/* VmRSS and VmHWM of this process, in bytes. */
static bool memory_now(double *rss, double *hwm)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long kb;
    int found = 0;

    if (!f)
        return false;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %lu kB", &kb) == 1) {
            *rss = (double)kb * 1024;
            found++;
        } else if (sscanf(line, "VmHWM: %lu kB", &kb) == 1) {
            *hwm = (double)kb * 1024;
            found++;
        }
    }
    fclose(f);
    return found == 2;
}

/* CPU time of this process: on a busy machine, wall time says more
 * about the others than about the bench. */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double mib(double bytes)
{
    return bytes / 1048576;
}

/* The answer to "a + b =" or "What is a plus b?": the sum of the two
 * numbers in the question. False for anything else, so that a change in
 * the questions stops the bench rather than skewing it. */
static bool solve(const char *q, uint32_t *answer)
{
    uint32_t terms[2] = {0, 0};
    int n = 0;

    for (const char *p = q; *p;) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9' && v < 100000)
            v = v * 10 + (uint32_t)(*p++ - '0');
        if (n == 2)
            return false;
        terms[n++] = v;
    }
    if (n != 2)
        return false;
    *answer = terms[0] + terms[1];
    return true;
}

/* One second of submissions' challenges. */
typedef struct batch {
    char (*token)[RG_TOKEN_MAX];
    char (*answer)[12];
    size_t n;
} batch;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bench-spray: %s: %s\n", what, rg_strerror(rc));
    return -1;
}

/* Issues n challenges 6 s before now. */
static int issue_batch(rg_guard *g, batch *b, size_t n)
{
    fake_now -= 6;
    for (size_t i = 0; i < n; i++) {
        rg_challenge c;
        uint32_t a;
        int rc = rg_challenge_issue_in(g, BINDING, NULL, RG_STYLE_DIGITS, &c);
        if (rc != RG_OK) {
            fake_now += 6;
            return fail("rg_challenge_issue_in", rc);
        }
        if (!solve(c.question, &a)) {
            fprintf(stderr, "bench-spray: cannot solve \"%s\"\n", c.question);
            fake_now += 6;
            return -1;
        }
        memcpy(b->token[i], c.token, RG_TOKEN_MAX);
        snprintf(b->answer[i], sizeof b->answer[i], "%u", a);
    }
    b->n = n;
    fake_now += 6;
    return 0;
}

/*
 * The bytes of a memory: limiter's table: buckets of 8 slots of 16 bytes,
 * twice as many slots as keys (docs/limit.md), and, from 2 MiB on,
 * rounded up to whole 2 MiB huge pages (lib/table.c), all of it written
 * when the limiter opens.
 */
static double limiter_table_bytes(unsigned long capacity)
{
    const double huge = 2.0 * 1048576;
    double bytes = (double)((2 * capacity + 7) / 8) * 8 * 16;
    return bytes < huge ? bytes
                        : huge * (double)(uint64_t)((bytes + huge - 1) / huge);
}

static rg_limiter *open_limiter(size_t capacity, double rate, uint32_t burst,
                                const char *name)
{
    rg_limiter_config cfg;
    rg_limiter *l = NULL;

    rg_limiter_config_init(&cfg);
    cfg.rate_per_s = rate;
    cfg.burst = burst;
    cfg.capacity = capacity;
    cfg.name = name;
    cfg.clock_ns = limiter_clock;
    int rc = rg_limiter_open(&l, &cfg);
    if (rc != RG_OK)
        fail("rg_limiter_open", rc);
    return l;
}

typedef struct options {
    unsigned long clients, per_second, capacity, replay_capacity;
} options;

/* What the spray saw. */
typedef struct tally {
    uint64_t sent, actions[3], store_unavailable, limited;
    uint64_t heavy, heavy_allowed, heavy_earned_max;
    bool heavy_ok;
    double rss_base, rss0, rss_max, hwm;
} tally;

static void print_memory(const char *when, const tally *t, double bound)
{
    double rss, hwm;
    if (!memory_now(&rss, &hwm)) {
        printf("  %-26s (no /proc/self/status)\n", when);
        return;
    }
    printf("  %-28s VmRSS %8.1f MiB  VmHWM %8.1f MiB  growth %6.1f MiB "
           "(%.2f of the bound)\n",
           when, mib(rss), mib(hwm), mib(rss - t->rss0),
           (rss - t->rss0) / bound);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    options o = {10000000, 10000, 100000, 1000000};
    for (int i = 1; i < argc; i += 2) {
        bool ok = i + 1 < argc;
        if (ok && strcmp(argv[i], "--clients") == 0)
            ok = bench_parse_count(argv[i + 1], 1, CLIENTS_MAX, &o.clients);
        else if (ok && strcmp(argv[i], "--per-second") == 0)
            ok = bench_parse_count(argv[i + 1], 1, 1000000, &o.per_second);
        else if (ok && strcmp(argv[i], "--capacity") == 0)
            ok = bench_parse_count(argv[i + 1], 16, 100000000, &o.capacity);
        else if (ok && strcmp(argv[i], "--replay-capacity") == 0)
            ok = bench_parse_count(argv[i + 1], 1, 100000000,
                                   &o.replay_capacity);
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "usage: bench-spray [--clients N] [--per-second "
                            "N] [--capacity N] [--replay-capacity N]\n");
            return 64;
        }
    }
    int rc = rg_init();
    if (rc != RG_OK)
        return fail("rg_init", rc) == 0 ? 0 : 1;

    int status = 1;
    rg_guard *g = NULL;
    rg_limiter *per_client = NULL, *failures = NULL;
    rg_bayes *bayes = NULL;
    batch b = {0};
    tally t;
    memset(&t, 0, sizeof t);
    t.heavy_ok = true;

    /* One second of submissions' challenges: per_second of them, the
     * heavy poster's among them. Touched now, so that its pages are not
     * counted with the stores'. */
    size_t per_batch = o.per_second;
    b.token = malloc(per_batch * sizeof *b.token);
    b.answer = malloc(per_batch * sizeof *b.answer);
    if (!b.token || !b.answer) {
        fprintf(stderr, "bench-spray: out of memory\n");
        goto done;
    }
    memset(b.token, 0, per_batch * sizeof *b.token);
    memset(b.answer, 0, per_batch * sizeof *b.answer);

    /* The tokenizer's tables (Unicode, public suffixes) are the process's,
     * not a store's: a comment scored on a throwaway model reads them in
     * before the baseline. */
    rg_bayes *warm = NULL;
    if ((rc = rg_bayes_open(&warm, "memory:?tokens=16", NULL)) != RG_OK) {
        fail("rg_bayes_open", rc);
        goto done;
    }
    rg_comment wc;
    rg_bayes_result wr;
    rg_comment_init(&wc);
    wc.author = "Reader";
    wc.url = "http://www.example.co.uk/";
    wc.body = HAM[0];
    rc = rg_bayes_classify(warm, &wc, &wr, NULL, 0);
    rg_bayes_close(warm);
    if (rc != RG_OK) {
        fail("rg_bayes_classify", rc);
        goto done;
    }

    double hwm;
    if (!memory_now(&t.rss_base, &hwm)) {
        fprintf(stderr, "bench-spray: no /proc/self/status\n");
        goto done;
    }

    /* The stores, all memory:, and the model trained. Everything the
     * spray needs exists before the start. */
    char url[64];
    snprintf(url, sizeof url, "memory:?capacity=%lu", o.replay_capacity);
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = guard_clock;
    cfg.store = url;
    cfg.operators = RG_OP_ADD;
    uint8_t key[RG_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 11 + 3);
    if ((rc = rg_guard_new(&g, &cfg)) != RG_OK ||
        (rc = rg_guard_add_key(g, 1, key, 1)) != RG_OK) {
        fail("cannot make the guard", rc);
        goto done;
    }
    if (!(per_client =
              open_limiter(o.capacity, CLIENT_RATE, CLIENT_BURST, "client")) ||
        !(failures = open_limiter(o.capacity, FAILURE_RATE, FAILURE_BURST,
                                  "failures")))
        goto done;
    char model_url[64];
    snprintf(model_url, sizeof model_url, "memory:?tokens=%u", MODEL_TOKENS);
    if ((rc = rg_bayes_open(&bayes, model_url, NULL)) != RG_OK) {
        fail("rg_bayes_open", rc);
        goto done;
    }
    for (size_t i = 0; i < NHAM + NSPAM; i++) {
        rg_comment c;
        rg_comment_init(&c);
        c.body = i < NHAM ? HAM[i] : SPAM[i - NHAM];
        rc = rg_bayes_learn(bayes, &c, i < NHAM ? RG_CLASS_HAM : RG_CLASS_SPAM);
        if (rc != RG_OK) {
            fail("rg_bayes_learn", rc);
            goto done;
        }
    }
    rg_bayes_stats model;
    if ((rc = rg_bayes_stats_get(bayes, &model)) != RG_OK) {
        fail("rg_bayes_stats_get", rc);
        goto done;
    }
    rg_policy p;
    rg_policy_init(&p);
    p.limiter = per_client;
    p.failures = failures;
    p.bayes = bayes;

    double limiter_bytes = limiter_table_bytes(o.capacity);
    double bound = (double)o.replay_capacity * REPLAY_ENTRY_BYTES +
                   2 * limiter_bytes + (double)MODEL_TOKENS * MODEL_TOKEN_BYTES;
    printf("bench-spray: %lu distinct IPv4 clients through rg_judge(), one "
           "heavy poster's submission after every %d, %lu submissions a "
           "second of the guard's clock\n",
           o.clients, HEAVY_EVERY, o.per_second);
    printf("  each submission: a challenge issued 6 s before (issued up "
           "front, a second's worth at a time), answered right, an empty "
           "honeypot, a comment of ham\n");
    printf("  layers: per-client limiter (1/min, burst %u), failures "
           "limiter, challenge + replay store, content filter\n",
           CLIENT_BURST);
    printf("  configured bound: %.1f MiB =\n", mib(bound));
    printf("    replay store   %10lu entries x %2.0f bytes = %8.1f MiB\n",
           o.replay_capacity, REPLAY_ENTRY_BYTES,
           mib((double)o.replay_capacity * REPLAY_ENTRY_BYTES));
    printf("    client limiter %10lu keys    x %2.0f bytes = %8.1f MiB "
           "(%.1f MiB in whole huge pages)\n",
           o.capacity, LIMIT_KEY_BYTES,
           mib((double)o.capacity * LIMIT_KEY_BYTES), mib(limiter_bytes));
    printf("    failures       %10lu keys    x %2.0f bytes = %8.1f MiB "
           "(%.1f MiB in whole huge pages)\n",
           o.capacity, LIMIT_KEY_BYTES,
           mib((double)o.capacity * LIMIT_KEY_BYTES), mib(limiter_bytes));
    printf("    model          %10u tokens  x %2.0f bytes = %8.1f MiB "
           "(trained before the start: %llu tokens)\n",
           MODEL_TOKENS, MODEL_TOKEN_BYTES,
           mib((double)MODEL_TOKENS * MODEL_TOKEN_BYTES),
           (unsigned long long)model.tokens);

    if (!memory_now(&t.rss0, &hwm)) {
        fprintf(stderr, "bench-spray: no /proc/self/status\n");
        goto done;
    }
    t.rss_max = t.rss0;
    printf("  before the stores opened     VmRSS %8.1f MiB\n", mib(t.rss_base));
    print_memory("start (stores open)", &t, bound);

    const uint64_t start = fake_now;
    const double started = bench_now(), cpu_started = cpu_seconds();
    char client[32];
    uint32_t next_client = 1; /* 10.0.0.1 */
    unsigned long done_clients = 0, next_report = 1000000;
    size_t used = per_batch; /* the current batch is spent: issue anew */
    while (done_clients < o.clients) {
        if (used == per_batch) {
            /* A new second: its challenges were issued 6 s ago. */
            fake_now++;
            if (issue_batch(g, &b, per_batch) != 0)
                goto done;
            used = 0;
        }
        bool heavy = t.sent % (HEAVY_EVERY + 1) == HEAVY_EVERY;
        if (heavy) {
            memcpy(client, HEAVY_CLIENT, sizeof HEAVY_CLIENT);
        } else {
            uint32_t a = next_client++;
            snprintf(client, sizeof client, "10.%u.%u.%u", a >> 16,
                     (a >> 8) & 0xff, a & 0xff);
        }
        rg_submission s;
        rg_submission_init(&s);
        s.author = "Reader";
        s.body = HAM[t.sent % NHAM];
        s.token = b.token[used];
        s.answer = b.answer[used];
        s.honeypot = "";
        s.client = client;
        s.binding = BINDING;
        used++;
        rg_decision d;
        if ((rc = rg_judge(g, &s, &p, &d)) != RG_OK) {
            fail("rg_judge", rc);
            goto done;
        }
        t.sent++;
        t.actions[d.action]++;
        t.store_unavailable += (d.reasons & RG_REASON_STORE_UNAVAILABLE) != 0;
        bool limited = (d.reasons & RG_REASON_RATE_LIMITED) != 0;
        t.limited += limited;
        if (heavy) {
            t.heavy++;
            t.heavy_allowed += !limited;
            uint64_t earned =
                CLIENT_BURST + 1 +
                (uint64_t)((double)(fake_now - start) * CLIENT_RATE);
            if (t.heavy_allowed > earned)
                t.heavy_ok = false;
            t.heavy_earned_max = earned;
            continue;
        }
        if (++done_clients == next_report || done_clients == o.clients) {
            double rss;
            if (memory_now(&rss, &hwm) && rss > t.rss_max)
                t.rss_max = rss;
            char when[48];
            snprintf(when, sizeof when, "after %lu clients", done_clients);
            print_memory(when, &t, bound);
            next_report += 1000000;
        }
    }
    double elapsed = bench_now() - started;
    double rss_now;
    memory_now(&rss_now, &hwm);
    if (rss_now > t.rss_max)
        t.rss_max = rss_now;
    printf("  decisions: %llu accept, %llu moderate, %llu reject; %llu with "
           "store_unavailable (the replay store full: it fails closed), %llu "
           "rate limited\n",
           (unsigned long long)t.actions[RG_ACTION_ACCEPT],
           (unsigned long long)t.actions[RG_ACTION_MODERATE],
           (unsigned long long)t.actions[RG_ACTION_REJECT],
           (unsigned long long)t.store_unavailable,
           (unsigned long long)t.limited);
    double cpu = cpu_seconds() - cpu_started;
    printf("  %llu judgements in %.1f s (%.1f s of CPU): %.2f us of CPU "
           "each, issuing included; %llu s of the guard's clock\n",
           (unsigned long long)t.sent, elapsed, cpu, 1e6 * cpu / (double)t.sent,
           (unsigned long long)(fake_now - start));
    /* From before the stores opened to the peak of the whole run
     * (VmHWM), so that no moment between two reports escapes the check,
     * and the tables written through when they were made count too. */
    double peak = hwm > t.rss_max ? hwm : t.rss_max;
    double growth = peak - t.rss0;
    printf("  resident memory: before the stores %.1f MiB, start %.1f MiB, "
           "end %.1f MiB, peak %.1f MiB\n",
           mib(t.rss_base), mib(t.rss0), mib(rss_now), mib(peak));
    printf("  RSS growth / configured bound: %.3f (%.1f MiB from the start "
           "to the peak)\n",
           growth / bound, mib(growth));
    printf("  with what the stores took when they opened: %.3f (%.1f MiB "
           "since before they opened)\n",
           (peak - t.rss_base) / bound, mib(peak - t.rss_base));
    printf("  heavy poster: %llu submissions, %llu got past the limit; its "
           "rate allows %llu (burst %u + 1, then 1 a minute over %llu s)\n",
           (unsigned long long)t.heavy, (unsigned long long)t.heavy_allowed,
           (unsigned long long)t.heavy_earned_max, CLIENT_BURST,
           (unsigned long long)(fake_now - start));
    printf("%s: RSS within bound (growth %.1f MiB <= %.1f MiB)\n",
           growth <= bound ? "PASS" : "FAIL", mib(growth), mib(bound));
    printf("%s: heavy poster limited (%llu past the limit, at most %llu "
           "allowed, checked at each of its submissions)\n",
           t.heavy_ok ? "PASS" : "FAIL", (unsigned long long)t.heavy_allowed,
           (unsigned long long)t.heavy_earned_max);
    status = 0;

done:
    free(b.token);
    free(b.answer);
    rg_bayes_close(bayes);
    rg_limiter_free(failures);
    rg_limiter_free(per_client);
    rg_guard_free(g);
    return status;
}
