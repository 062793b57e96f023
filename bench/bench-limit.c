/*
 * Rate-limiter checks per second with a million live keys in a memory:
 * limiter, against their floor: one SipHash (crypto_shorthash) of a key
 * of the same size and one uncontended mutex lock and unlock, which every
 * take must do whatever else it does. Also the resident memory the
 * limiter added, read from VmRSS before it is opened and after it is
 * filled.
 *
 * The keys are IPv4 client keys from rg_client_key() (6 bytes), each
 * taken once to fill the table; then takes of cost 1 on keys drawn
 * uniformly at random from them. At one per hour with a burst of 100000,
 * every take fits and is charged, so each one reads and writes its
 * key's slot. The random order is drawn before any timing starts.
 *
 * A key lives only in the bucket of 8 slots its hash names, so a table
 * cannot hold as many keys as it has slots: the keys of a bucket that
 * overflows push each other out. The bench counts the keys held (a take
 * of cost 0 tells a charged key from a rested one) after filling and
 * after the timed takes; a take on a key that was pushed out scans its
 * whole bucket and pushes another out, which costs about as much.
 *
 * Machines are noisy, so the measurements take turns in rounds and each
 * keeps its best round. Targets: at least 5,000,000 checks a second on
 * one thread, and at most 64 MB resident for 1,000,000 keys. The exit
 * status is 0 when the measurements ran, whatever the figures.
 *
 * Usage: bench-limit [--keys N] [--capacity N] [--seconds S] [--rounds R]
 */
#include <errno.h>
#include <pthread.h>
#include <replyguard.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define RATE_PER_S    (1.0 / 3600)
#define BURST         100000u
#define THREADS       2
#define BATCH         1024
#define TARGET_CHECKS 5000000.0
#define TARGET_BYTES  64000000.0
#define TARGET_KEYS   1000000u
#define KEYS_MAX      16000000u
#define ADDRESS_TEXT  16
#define ROUNDS_MAX    100
#define SECONDS_MAX   60.0
#define SEQ_SEED      0x9e3779b97f4a7c15ull

/* The run's settings, from the command line. */
typedef struct options {
    size_t keys;
    size_t capacity; /* 0: as many as keys */
    double seconds;
    int rounds;
} options;

/* One thread's share of a timed run: its own random sequence of keys. */
typedef struct worker {
    rg_limiter *limiter;
    const uint64_t *seq; /* each entry holds one key in its first bytes */
    size_t mask;         /* the sequence's length, less one */
    size_t key_len;
    double seconds;
    uint64_t takes, allowed, errors;
    double elapsed;
} worker;

/* xorshift64*: a fixed seed gives the same keys and order on every run. */
static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static bool parse_size(const char *text, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max)
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_options(int argc, char **argv, options *o)
{
    o->keys = TARGET_KEYS;
    o->capacity = 0;
    o->seconds = 1.0;
    o->rounds = 3;
    /* Every option takes a value: they come in pairs. */
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n;
        if (!v)
            return false;
        if (strcmp(argv[i], "--keys") == 0) {
            if (!parse_size(v, 16, KEYS_MAX, &o->keys))
                return false;
        } else if (strcmp(argv[i], "--capacity") == 0) {
            if (!parse_size(v, 16, 100000000, &o->capacity))
                return false;
        } else if (strcmp(argv[i], "--rounds") == 0) {
            if (!parse_size(v, 1, ROUNDS_MAX, &n))
                return false;
            o->rounds = (int)n;
        } else if (strcmp(argv[i], "--seconds") == 0) {
            char *end;
            errno = 0;
            o->seconds = strtod(v, &end);
            if (errno || end == v || *end || !(o->seconds >= 0.01) ||
                o->seconds > SECONDS_MAX)
                return false;
        } else {
            return false;
        }
    }
    if (o->capacity == 0)
        o->capacity = o->keys;
    return true;
}

/* The process's resident memory in bytes, from /proc/self/status; false
 * when it cannot be read (not Linux). */
static bool resident_bytes(uint64_t *out)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    bool found = false;
    if (!f)
        return false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long long kb = strtoull(line + 6, &end, 10);
        found = errno == 0 && end != line + 6;
        *out = (uint64_t)kb * 1024;
    }
    fclose(f);
    return found;
}

/* The key set: IPv4 addresses spread over 10.0.0.0/8, each through
 * rg_client_key() as a server would, one key to each 8-byte entry. */
static int make_keys(uint64_t *keys, size_t n, size_t *key_len)
{
    for (size_t i = 0; i < n; i++) {
        /* An odd multiplier is a bijection modulo 2^24: distinct
         * addresses, not in order. */
        uint32_t a = (uint32_t)((i * 2654435761u) & 0xffffff);
        char text[ADDRESS_TEXT];
        uint8_t key[RG_CLIENT_KEY_MAX];
        size_t len;
        snprintf(text, sizeof text, "10.%u.%u.%u", a >> 16, (a >> 8) & 0xff,
                 a & 0xff);
        if (rg_client_key(text, 0, key, &len) != RG_OK ||
            len > sizeof keys[i]) {
            fprintf(stderr, "bench-limit: no client key for %s\n", text);
            return -1;
        }
        keys[i] = 0;
        memcpy(&keys[i], key, len);
        *key_len = len;
    }
    return 0;
}

/* Takes from random keys of the sequence until the time is up. The clock
 * is read once a batch, so that reading it costs next to nothing. */
static void run_takes(worker *w)
{
    uint64_t takes = 0, allowed = 0, errors = 0;
    size_t i = 0;
    double start = bench_now(), deadline = start + w->seconds, now;
    do {
        for (int k = 0; k < BATCH; k++) {
            rg_limit_result r;
            if (rg_limiter_take(w->limiter, &w->seq[i], w->key_len, 1, &r) !=
                RG_OK)
                errors++;
            allowed += (uint64_t)r.allowed;
            i = (i + 1) & w->mask;
        }
        takes += BATCH;
        now = bench_now();
    } while (now < deadline);
    w->takes = takes;
    w->allowed = allowed;
    w->errors = errors;
    w->elapsed = now - start;
}

static void *worker_main(void *arg)
{
    run_takes(arg);
    return NULL;
}

/* The floor over the same keys: what any take must do at the least. */
static double floor_rate(const uint64_t *seq, size_t mask, size_t key_len,
                         double seconds)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t n = 0;
    size_t i = 0;

    randombytes_buf(hash_key, sizeof hash_key);
    double start = bench_now(), deadline = start + seconds, now;
    do {
        for (int k = 0; k < BATCH; k++) {
            crypto_shorthash(h, (const unsigned char *)&seq[i], key_len,
                             hash_key);
            pthread_mutex_lock(&lock);
            pthread_mutex_unlock(&lock);
            i = (i + 1) & mask;
        }
        n += BATCH;
        now = bench_now();
    } while (now < deadline);
    return (double)n / (now - start);
}

/* Keys the table holds: a take of cost 0 looks without writing, and a
 * key it holds has been charged, so it has less than the limit left. */
static int count_held(rg_limiter *l, const uint64_t *keys, size_t n,
                      size_t key_len, size_t *held)
{
    *held = 0;
    for (size_t i = 0; i < n; i++) {
        rg_limit_result r;
        if (rg_limiter_take(l, &keys[i], key_len, 0, &r) != RG_OK)
            return -1;
        *held += r.remaining < r.limit;
    }
    return 0;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bench-limit: %s: %s\n", what, rg_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_options(argc, argv, &o)) {
        fprintf(stderr, "usage: bench-limit [--keys N] [--capacity N] "
                        "[--seconds S] [--rounds R]\n");
        return 64;
    }
    int rc = rg_init();
    if (rc != RG_OK)
        return fail("rg_init", rc);

    /* One sequence a thread, a power of two long (at least the key set),
     * so that a wrap costs a mask. */
    size_t seq_len = 1;
    while (seq_len < o.keys)
        seq_len *= 2;
    uint64_t *keys = malloc(o.keys * sizeof *keys);
    uint64_t *seq = malloc(THREADS * seq_len * sizeof *seq);
    int status = 1;
    rg_limiter *l = NULL;
    if (!keys || !seq) {
        fprintf(stderr, "bench-limit: out of memory\n");
        goto done;
    }
    size_t key_len = 0;
    if (make_keys(keys, o.keys, &key_len) != 0)
        goto done;
    uint64_t state = SEQ_SEED;
    for (size_t i = 0; i < THREADS * seq_len; i++)
        seq[i] = keys[xorshift(&state) % o.keys];

    /* Everything of the bench's own is allocated and written by now, so
     * that what grows from here on is the limiter. */
    uint64_t rss_before, rss_after;
    if (!resident_bytes(&rss_before)) {
        fprintf(stderr, "bench-limit: cannot read VmRSS from "
                        "/proc/self/status\n");
        goto done;
    }
    rg_limiter_config cfg;
    rg_limiter_config_init(&cfg);
    cfg.rate_per_s = RATE_PER_S;
    cfg.burst = BURST;
    cfg.capacity = o.capacity;
    if ((rc = rg_limiter_open(&l, &cfg)) != RG_OK) {
        status = fail("rg_limiter_open", rc);
        goto done;
    }
    for (size_t i = 0; i < o.keys; i++) {
        rg_limit_result r;
        if ((rc = rg_limiter_take(l, &keys[i], key_len, 1, &r)) != RG_OK) {
            status = fail("rg_limiter_take", rc);
            goto done;
        }
    }
    if (!resident_bytes(&rss_after)) {
        fprintf(stderr, "bench-limit: cannot read VmRSS\n");
        goto done;
    }
    size_t held_filled, held_end;
    if (count_held(l, keys, o.keys, key_len, &held_filled) != 0) {
        fprintf(stderr, "bench-limit: a look at a key failed\n");
        goto done;
    }

    /* Each round: the floor, one thread, two threads; each figure keeps
     * its best round. */
    double best_floor = 0, best_one = 0, best_two = 0;
    uint64_t takes = 0, allowed = 0, errors = 0;
    for (int r = 0; r < o.rounds; r++) {
        double f = floor_rate(seq, seq_len - 1, key_len, o.seconds);
        if (f > best_floor)
            best_floor = f;

        worker w[THREADS];
        for (int t = 0; t < THREADS; t++) {
            w[t] = (worker){.limiter = l,
                            .seq = seq + (size_t)t * seq_len,
                            .mask = seq_len - 1,
                            .key_len = key_len,
                            .seconds = o.seconds};
        }
        run_takes(&w[0]);
        double one = (double)w[0].takes / w[0].elapsed;
        if (one > best_one)
            best_one = one;
        takes += w[0].takes;
        allowed += w[0].allowed;
        errors += w[0].errors;

        /* Each thread times itself: one starts some microseconds before
         * the other, against a second of running together. */
        pthread_t id[THREADS];
        int started = 0;
        for (; started < THREADS; started++)
            if (pthread_create(&id[started], NULL, worker_main, &w[started]) !=
                0)
                break;
        double two = 0;
        for (int t = 0; t < started; t++) {
            pthread_join(id[t], NULL);
            two += (double)w[t].takes / w[t].elapsed;
            takes += w[t].takes;
            allowed += w[t].allowed;
            errors += w[t].errors;
        }
        if (started < THREADS) {
            fprintf(stderr, "bench-limit: cannot start a thread\n");
            goto done;
        }
        if (two > best_two)
            best_two = two;
    }
    if (count_held(l, keys, o.keys, key_len, &held_end) != 0) {
        fprintf(stderr, "bench-limit: a look at a key failed\n");
        goto done;
    }
    if (errors) {
        fprintf(stderr, "bench-limit: %llu takes failed\n",
                (unsigned long long)errors);
        goto done;
    }

    double added =
        rss_after > rss_before ? (double)(rss_after - rss_before) : 0.0;
    printf("bench-limit: %zu keys of %zu bytes (IPv4 client keys), "
           "capacity %zu; best of %d rounds of %.2f s\n",
           o.keys, key_len, o.capacity, o.rounds, o.seconds);
    printf("  keys held after filling                 %10zu of %zu\n",
           held_filled, o.keys);
    printf("  keys held after the timed takes         %10zu of %zu\n", held_end,
           o.keys);
    printf("  takes allowed (charged)                 %10llu of %llu\n",
           (unsigned long long)allowed, (unsigned long long)takes);
    printf("  floor: SipHash of %zu bytes + mutex      %10.0f /s\n", key_len,
           best_floor);
    printf("  rg_limiter_take, 1 thread               %10.0f /s  "
           "%.2f x floor\n",
           best_one, best_one / best_floor);
    printf("  rg_limiter_take, %d threads              %10.0f /s  "
           "%.2f x 1 thread\n",
           THREADS, best_two, best_two / best_one);
    printf("  resident memory added                   %10.1f MB\n",
           added / 1e6);
    printf("  resident memory per key                 %10.1f bytes\n",
           added / (double)o.keys);
    /* The targets are for a million keys: a smaller table fits in the
     * caches, and its fixed costs swamp its memory per key. */
    bool judged = o.keys >= TARGET_KEYS;
    double per_million = added * TARGET_KEYS / (double)o.keys;
    printf("  target: >= %.0f checks/s on 1 thread: %s\n", TARGET_CHECKS,
           !judged                     ? "not judged (fewer keys)"
           : best_one >= TARGET_CHECKS ? "PASS"
                                       : "FAIL");
    printf("  target: <= %.0f MB resident for %u keys: %s\n",
           TARGET_BYTES / 1e6, TARGET_KEYS,
           !judged                       ? "not judged (fewer keys)"
           : per_million <= TARGET_BYTES ? "PASS"
                                         : "FAIL");
    status = 0;

done:
    rg_limiter_free(l);
    free(seq);
    free(keys);
    return status;
}
