/*
 * Tokens issued and verified per second, against their floor: one
 * HMAC-SHA-256, with a precomputed key state, over as many bytes as a
 * token's two MACs cover (docs/token-format.md: 114 bytes of fields, 43 of
 * answer). The ratio says how many such HMACs one issue or one verify
 * costs; the target is at most 2.5.
 *
 * Machines are noisy, so the measurements take turns in short rounds and
 * each keeps its best round. The guard uses its default memory store.
 *
 * Usage: bench-token [ROUNDS]   (default 7)
 */
#include <replyguard.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define FIELD_MAC_BYTES  114
#define ANSWER_MAC_BYTES 43
#define MAC_BYTES        (FIELD_MAC_BYTES + ANSWER_MAC_BYTES)
#define PER_ROUND        20000
#define BATCH            500
#define BINDING          "post-1|comments"

/* Each round starts after the last round's tokens expired, so the default
 * store recycles their room as a long-running server's would. */
static uint64_t fake_now = 1700000000;

static uint64_t bench_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

/* Times `count` HMACs over `bytes` bytes with a keyed state. */
static double hmac_batch(size_t bytes, int count)
{
    static uint8_t msg[MAC_BYTES] = {2};
    uint8_t key[32] = {1}, mac[32];
    crypto_auth_hmacsha256_state keyed, st;
    crypto_auth_hmacsha256_init(&keyed, key, sizeof key);
    double start = bench_now();
    for (int i = 0; i < count; i++) {
        st = keyed;
        msg[0] = (uint8_t)i;
        crypto_auth_hmacsha256_update(&st, msg, bytes);
        crypto_auth_hmacsha256_final(&st, mac);
    }
    return bench_now() - start;
}

/* The bench's questions are "a + b" in digits: sum the two numbers. */
static unsigned answer_of(const char *q)
{
    unsigned sum = 0, v = 0;
    int in_number = 0;
    for (const char *p = q;; p++) {
        if (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned)(*p - '0');
            in_number = 1;
        } else {
            if (in_number)
                sum += v;
            v = 0;
            in_number = 0;
            if (!*p)
                break;
        }
    }
    return sum;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 9;
    if (rounds < 1 || rounds > 999 || rg_init() != RG_OK) {
        fprintf(stderr, "usage: bench-token [ROUNDS]\n");
        return 64;
    }

    rg_config cfg;
    rg_config_init(&cfg);
    cfg.min_solve_s = 0;
    cfg.style = RG_STYLE_DIGITS;
    cfg.operators = RG_OP_ADD;
    cfg.clock = bench_clock;
    rg_guard *g = NULL;
    uint8_t key[RG_KEY_BYTES] = {3};
    rg_challenge *ch = malloc(BATCH * sizeof *ch);
    char(*answers)[12] = malloc(BATCH * sizeof *answers);
    if (!ch || !answers || rg_guard_new(&g, &cfg) != RG_OK ||
        rg_guard_add_key(g, 1, key, 1) != RG_OK) {
        fprintf(stderr, "bench-token: cannot set up\n");
        return 1;
    }

    /* Per round: rates, and ratios of each round's own measurements. */
    double floor[1000], fields[1000], issue[1000], verify[1000];
    double issue_ratio[1000], verify_ratio[1000], fields_issue[1000],
        fields_verify[1000];
    size_t passed = 0, total = 0;
    for (int r = 0; r < rounds; r++) {
        /* Batches small enough to stay in cache, as one request's work
         * would; the floor is timed batch by batch between them, so that
         * noise hits all three alike. */
        double t_floor = 0, t_fields = 0, t_issue = 0, t_verify = 0;
        fake_now += cfg.ttl_s + cfg.clock_skew_s + 1;
        for (int b = 0; b < PER_ROUND / BATCH; b++) {
            t_floor += hmac_batch(MAC_BYTES, BATCH);
            t_fields += hmac_batch(FIELD_MAC_BYTES, BATCH);

            double start = bench_now();
            for (int i = 0; i < BATCH; i++)
                if (rg_challenge_issue(g, BINDING, &ch[i]) != RG_OK)
                    return 1;
            t_issue += bench_now() - start;

            for (int i = 0; i < BATCH; i++)
                snprintf(answers[i], sizeof answers[i], "%u",
                         answer_of(ch[i].question));
            start = bench_now();
            for (int i = 0; i < BATCH; i++) {
                rg_verdict v;
                if (rg_challenge_verify(g, ch[i].token, answers[i], BINDING,
                                        &v) == RG_OK &&
                    v == RG_VERDICT_PASS)
                    passed++;
            }
            t_verify += bench_now() - start;
        }
        floor[r] = PER_ROUND / t_floor;
        fields[r] = PER_ROUND / t_fields;
        issue[r] = PER_ROUND / t_issue;
        verify[r] = PER_ROUND / t_verify;
        issue_ratio[r] = t_issue / t_floor;
        verify_ratio[r] = t_verify / t_floor;
        fields_issue[r] = t_issue / t_fields;
        fields_verify[r] = t_verify / t_fields;
        total += PER_ROUND;
    }

    printf("bench-token: %d rounds of %d tokens; medians over the rounds; "
           "%zu of %zu verified pass\n",
           rounds, PER_ROUND, passed, total);
    printf("  floor: HMAC-SHA-256 over %d bytes, keyed state  %10.0f /s\n",
           MAC_BYTES, median(floor, rounds));
    printf("  rg_challenge_issue                             %10.0f /s  "
           "%.2f x floor\n",
           median(issue, rounds), median(issue_ratio, rounds));
    printf("  rg_challenge_verify (pass)                     %10.0f /s  "
           "%.2f x floor\n",
           median(verify, rounds), median(verify_ratio, rounds));
    printf("  (against one HMAC over the %d field bytes alone, %.0f /s: "
           "issue %.2f x, verify %.2f x)\n",
           FIELD_MAC_BYTES, median(fields, rounds),
           median(fields_issue, rounds), median(fields_verify, rounds));
    printf("  target: issue and verify each <= 2.50 x floor\n");

    free(answers);
    free(ch);
    rg_guard_free(g);
    return passed == total ? 0 : 1;
}
