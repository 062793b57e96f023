/*
 * Tokens end to end through the public API: the published test vectors,
 * every verdict, tampering, key rotation and key files.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "solver.h"
#include "base64url.h"
#include "token.h"

/* A guard whose questions the solver can read: digits, English. */
static rg_guard *digit_guard(uint64_t *now, const char *store)
{
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = now;
    cfg.style = RG_STYLE_DIGITS;
    if (store)
        cfg.store = store;
    rg_guard *g = NULL;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    return g;
}

static uint32_t solve(const rg_challenge *ch)
{
    uint32_t answer = 0;
    ck_assert_msg(rg_test_solve(ch->question, &answer), "cannot solve '%s'",
                  ch->question);
    return answer;
}

static rg_verdict verify(rg_guard *g, const char *token, const char *answer,
                         const char *binding)
{
    rg_verdict v;
    ck_assert_int_eq(rg_challenge_verify(g, token, answer, binding, &v), RG_OK);
    return v;
}

static rg_verdict verify_number(rg_guard *g, const char *token, uint32_t n,
                                const char *binding)
{
    char text[16];
    snprintf(text, sizeof text, "%u", (unsigned)n);
    return verify(g, token, text, binding);
}

/* ---- The published vectors (tests/data/token-vectors.txt). ---- */

typedef struct vector {
    char name[32], binding[512], token[128], locale[8];
    uint8_t key[RG_KEY_BYTES], nonce[16];
    uint32_t key_id, answer;
    uint64_t issued_at, expires_at;
} vector;

static void hex_decode(const char *hex, uint8_t *out, size_t n)
{
    size_t len = 0;
    ck_assert_int_eq(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &len, NULL),
                     0);
    ck_assert_uint_eq(len, n);
}

static size_t read_vectors(vector *out, size_t max)
{
    FILE *fp = fopen(RG_TEST_SRCDIR "/data/token-vectors.txt", "r");
    ck_assert_ptr_nonnull(fp);
    char line[1024];
    size_t n = 0;
    bool open = false;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#')
            continue;
        if (line[0] == '\0') {
            n += open;
            open = false;
            continue;
        }
        ck_assert_uint_lt(n, max);
        vector *v = &out[n];
        if (!open)
            memset(v, 0, sizeof *v);
        open = true;
        char *value = strstr(line, ": ");
        ck_assert_ptr_nonnull(value);
        *value = '\0';
        value += 2;
        if (!strcmp(line, "name"))
            snprintf(v->name, sizeof v->name, "%s", value);
        else if (!strcmp(line, "key"))
            hex_decode(value, v->key, sizeof v->key);
        else if (!strcmp(line, "nonce"))
            hex_decode(value, v->nonce, sizeof v->nonce);
        else if (!strcmp(line, "key_id"))
            v->key_id = (uint32_t)strtoul(value, NULL, 10);
        else if (!strcmp(line, "issued_at"))
            v->issued_at = strtoull(value, NULL, 10);
        else if (!strcmp(line, "expires_at"))
            v->expires_at = strtoull(value, NULL, 10);
        else if (!strcmp(line, "locale"))
            snprintf(v->locale, sizeof v->locale, "%s", value);
        else if (!strcmp(line, "binding"))
            snprintf(v->binding, sizeof v->binding, "%s", value);
        else if (!strcmp(line, "answer"))
            v->answer = (uint32_t)strtoul(value, NULL, 10);
        else if (!strcmp(line, "token"))
            snprintf(v->token, sizeof v->token, "%s", value);
    }
    n += open;
    fclose(fp);
    return n;
}

static rg_guard *vector_guard(const vector *v, uint64_t *now)
{
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = now;
    rg_guard *g = NULL;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, v->key_id, v->key, 1), RG_OK);
    return g;
}

START_TEST(vectors_verify)
{
    vector vs[16];
    size_t n = read_vectors(vs, 16);
    ck_assert_uint_ge(n, 5);
    for (size_t i = 0; i < n; i++) {
        uint64_t now = vs[i].issued_at + 10;
        rg_guard *g = vector_guard(&vs[i], &now);
        ck_assert_msg(verify_number(g, vs[i].token, vs[i].answer,
                                    vs[i].binding) == RG_VERDICT_PASS,
                      "vector %s", vs[i].name);
        rg_guard_free(g);

        g = vector_guard(&vs[i], &now);
        ck_assert_int_eq(
            verify_number(g, vs[i].token, vs[i].answer + 1, vs[i].binding),
            RG_VERDICT_WRONG);
        rg_guard_free(g);
    }
}
END_TEST

START_TEST(vectors_encode)
{
    /* The library's own encoder produces the published bytes. */
    vector vs[16];
    size_t n = read_vectors(vs, 16);
    ck_assert_int_eq(rg_init(), RG_OK);
    for (size_t i = 0; i < n; i++) {
        rg__token_key *tk = sodium_malloc(sizeof *tk);
        rg__token_key_init(tk, vs[i].key);
        rg__token_fields f = {
            .key_id = vs[i].key_id,
            .issued_at = vs[i].issued_at,
            .expires_at = vs[i].expires_at,
            .locale = (uint8_t)rg__locale_find(vs[i].locale),
        };
        memcpy(f.nonce, vs[i].nonce, sizeof f.nonce);
        uint8_t bh[32], ftag[16], secret[16], atag[16];
        rg__token_binding_hash(vs[i].binding, bh);
        rg__token_field_mac(tk, &f, bh, ftag, secret);
        rg__token_answer_mac(tk, secret, vs[i].answer, atag);
        char text[RG_TOKEN_MAX];
        rg__token_encode(&f, ftag, atag, text, sizeof text);
        ck_assert_str_eq(text, vs[i].token);
        sodium_free(tk);
    }
}
END_TEST

/* ---- Verdicts. ---- */

START_TEST(round_trip_then_replayed)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, "post-1", &ch), RG_OK);
    ck_assert_uint_eq(strlen(ch.token), RG__TOKEN_CHARS);
    ck_assert_uint_eq(ch.issued_at, now);
    ck_assert_uint_eq(ch.expires_at, now + 1200);
    ck_assert_str_eq(ch.locale, "en");
    uint32_t answer = solve(&ch);
    now += 6;
    ck_assert_int_eq(verify_number(g, ch.token, answer, "post-1"),
                     RG_VERDICT_PASS);
    ck_assert_int_eq(verify_number(g, ch.token, answer, "post-1"),
                     RG_VERDICT_REPLAYED);
    rg_guard_free(g);
}
END_TEST

START_TEST(one_guess_per_token)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_OK);
    uint32_t answer = solve(&ch);
    now += 30;
    ck_assert_int_eq(verify_number(g, ch.token, answer + 1, NULL),
                     RG_VERDICT_WRONG);
    /* The right answer after a wrong one is too late. */
    ck_assert_int_eq(verify_number(g, ch.token, answer, NULL),
                     RG_VERDICT_REPLAYED);
    rg_guard_free(g);
}
END_TEST

START_TEST(not_a_number_is_wrong_and_spends)
{
    static const char *const junk[] = {"",          "   ",      "abc",
                                       "19 apples", "\xff\xfe", "-1"};
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        rg_challenge ch;
        ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_OK);
        now += 10;
        ck_assert_int_eq(verify(g, ch.token, junk[i], NULL), RG_VERDICT_WRONG);
        ck_assert_int_eq(verify_number(g, ch.token, solve(&ch), NULL),
                         RG_VERDICT_REPLAYED);
    }
    /* A NULL answer counts as "". */
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_OK);
    now += 10;
    ck_assert_int_eq(verify(g, ch.token, NULL, NULL), RG_VERDICT_WRONG);
    rg_guard_free(g);
}
END_TEST

START_TEST(answers_are_normalised)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    for (int i = 0; i < 20; i++) {
        rg_challenge ch;
        ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_OK);
        uint32_t answer = solve(&ch);
        char words[64], typed[96];
        ck_assert_int_eq(rg_number_words(answer, "en", words, sizeof words),
                         RG_OK);
        snprintf(typed, sizeof typed, "  %s ", words);
        for (char *p = typed; *p; p++)
            if (*p >= 'a' && *p <= 'z' && (p - typed) % 2)
                *p = (char)(*p - 'a' + 'A');
        now += 10;
        ck_assert_msg(verify(g, ch.token, typed, NULL) == RG_VERDICT_PASS,
                      "answer '%s' to '%s'", typed, ch.question);
    }
    rg_guard_free(g);
}
END_TEST

START_TEST(locale_of_token_reads_answer)
{
    /* The token carries its locale: an answer in that locale's words, or in
     * English, passes. */
    static const char *const locales[] = {"en", "ru", "de", "fr", "es"};
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    for (size_t i = 0; i < 5; i++) {
        for (int english = 0; english < 2; english++) {
            rg_challenge ch;
            ck_assert_int_eq(rg_challenge_issue_in(g, NULL, locales[i],
                                                   RG_STYLE_DIGITS, &ch),
                             RG_OK);
            ck_assert_str_eq(ch.locale, locales[i]);
            char words[96];
            ck_assert_int_eq(rg_number_words(solve(&ch),
                                             english ? "en" : locales[i], words,
                                             sizeof words),
                             RG_OK);
            now += 10;
            ck_assert_msg(verify(g, ch.token, words, NULL) == RG_VERDICT_PASS,
                          "'%s' for '%s'", words, ch.question);
        }
    }
    rg_guard_free(g);
}
END_TEST

START_TEST(expired)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge a, b;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &a), RG_OK);
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &b), RG_OK);
    now += 1200; /* exactly at the expiry: expired */
    ck_assert_int_eq(verify_number(g, a.token, solve(&a), NULL),
                     RG_VERDICT_EXPIRED);
    now -= 1; /* one second before: still fine */
    ck_assert_int_eq(verify_number(g, b.token, solve(&b), NULL),
                     RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

START_TEST(issued_in_the_future)
{
    /* A token from a verifier whose clock runs ahead: tolerated up to the
     * skew (60 s), expired beyond it. */
    uint64_t issuer_now = 1700000100, verifier_now = 1700000000;
    rg_guard *issuer = digit_guard(&issuer_now, NULL);
    rg_guard *verifier = digit_guard(&verifier_now, NULL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(issuer, NULL, &ch), RG_OK);
    ck_assert_int_eq(verify_number(verifier, ch.token, solve(&ch), NULL),
                     RG_VERDICT_EXPIRED);
    verifier_now = 1700000040; /* 60 s behind: within the skew */
    rg_challenge ch2;
    ck_assert_int_eq(rg_challenge_issue(issuer, NULL, &ch2), RG_OK);
    /* Within the skew, but the minimum solve time is still counted from the
     * issuer's clock. */
    ck_assert_int_eq(verify_number(verifier, ch2.token, solve(&ch2), NULL),
                     RG_VERDICT_TOO_FAST);
    verifier_now = 1700000105;
    ck_assert_int_eq(verify_number(verifier, ch2.token, solve(&ch2), NULL),
                     RG_VERDICT_PASS);
    rg_guard_free(issuer);
    rg_guard_free(verifier);
}
END_TEST

START_TEST(too_fast_does_not_spend)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_OK);
    now += 4;
    ck_assert_int_eq(verify_number(g, ch.token, solve(&ch), NULL),
                     RG_VERDICT_TOO_FAST);
    now += 1; /* exactly the minimum solve time */
    ck_assert_int_eq(verify_number(g, ch.token, solve(&ch), NULL),
                     RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

START_TEST(forged_binding_and_key)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, "post-1|form", &ch), RG_OK);
    uint32_t answer = solve(&ch);
    now += 10;
    ck_assert_int_eq(verify_number(g, ch.token, answer, "post-2|form"),
                     RG_VERDICT_FORGED);
    ck_assert_int_eq(verify_number(g, ch.token, answer, NULL),
                     RG_VERDICT_FORGED);

    /* Another guard with a different key under the same id. */
    uint8_t other[RG_KEY_BYTES] = {42};
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now;
    rg_guard *h = NULL;
    ck_assert_int_eq(rg_guard_new(&h, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(h, 1, other, 1), RG_OK);
    ck_assert_int_eq(verify_number(h, ch.token, answer, "post-1|form"),
                     RG_VERDICT_FORGED);
    rg_guard_free(h);

    /* A guard that does not know key id 1 at all. */
    ck_assert_int_eq(rg_guard_new(&h, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(h, 2, rg_test_key, 1), RG_OK);
    ck_assert_int_eq(verify_number(h, ch.token, answer, "post-1|form"),
                     RG_VERDICT_FORGED);
    rg_guard_free(h);

    /* Forged attempts did not spend the token. */
    ck_assert_int_eq(verify_number(g, ch.token, answer, "post-1|form"),
                     RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

START_TEST(tampering_never_passes)
{
    /* Every position, every other character, each on a fresh token. A change
     * to the fields is forged (or malformed) and spends nothing; a change to
     * the answer tag is just a wrong answer. */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, "memory:?capacity=20000");
    unsigned verdicts[RG_VERDICT_MALFORMED + 1] = {0};
    for (size_t i = 0; i < RG__TOKEN_CHARS; i++) {
        for (const char *c = alphabet; *c; c++) {
            rg_challenge ch;
            ck_assert_int_eq(rg_challenge_issue(g, "b", &ch), RG_OK);
            if (*c == ch.token[i])
                continue;
            char t[RG_TOKEN_MAX];
            memcpy(t, ch.token, sizeof t);
            t[i] = *c;
            uint32_t answer = solve(&ch);
            now += 10;
            rg_verdict v = verify_number(g, t, answer, "b");
            ck_assert_msg(v != RG_VERDICT_PASS, "position %zu '%c' passed", i,
                          *c);
            ck_assert_msg(v != RG_VERDICT_REPLAYED, "position %zu", i);
            verdicts[v]++;
        }
    }
    ck_assert_uint_gt(verdicts[RG_VERDICT_FORGED], 0);
    ck_assert_uint_gt(verdicts[RG_VERDICT_MALFORMED], 0);
    ck_assert_uint_gt(verdicts[RG_VERDICT_WRONG], 0);
    rg_guard_free(g);
}
END_TEST

START_TEST(forged_attempts_spend_nothing)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, "b", &ch), RG_OK);
    uint32_t answer = solve(&ch);
    now += 10;
    /* The first 72 characters encode the 54 bytes up to the end of the
     * field tag: a change there is caught before the store. */
    for (size_t i = 0; i < 72; i++) {
        char t[RG_TOKEN_MAX];
        memcpy(t, ch.token, sizeof t);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        rg_verdict v = verify_number(g, t, answer, "b");
        ck_assert_msg(v == RG_VERDICT_FORGED || v == RG_VERDICT_MALFORMED,
                      "position %zu: %s", i, rg_verdict_name(v));
    }
    ck_assert_int_eq(verify_number(g, ch.token, answer, "b"), RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

/* Malformed inputs: each must be MALFORMED, none may crash. */
static const char *const malformed[] = {
    "",
    "x",
    "AQAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQFBgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLORz", /* 93 characters */
    "AQAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQFBgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLORzAA", /* 95 characters */
    "AQAAAAEAAAAAZVPxAAAAAABlU/WwAAECAwQFBgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLORzA", /* '/' is not base64url */
    "AQAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQFBgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLORzB", /* non-canonical last character */
    "AgAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQFBgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLORzA", /* version 2 */
    "AQAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQFBgcICQoLDA0ODwlUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLORzA", /* locale 9 */
    "AQAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQFBgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4wA"
    "t3HfF_SYbOiH4UBRFLOR==", /* padding */
    "AQAAAAEAAAAAZVPxAAAAAABlU_WwAAECAwQF BgcICQoLDA0ODwBUvzEENTMnqAsCU57RQ4w"
    "At3HfF_SYbOiH4UBRFLORzA", /* a space inside */
};

START_TEST(malformed_tokens)
{
    uint64_t now = 1700000010;
    rg_guard *g = digit_guard(&now, NULL);
    ck_assert_int_eq(verify(g, malformed[_i], "19", NULL),
                     RG_VERDICT_MALFORMED);
    rg_guard_free(g);
}
END_TEST

START_TEST(huge_inputs)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    memset(big, 'A', n);
    big[n] = '\0';
    ck_assert_int_eq(verify(g, big, big, big), RG_VERDICT_MALFORMED);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, big, &ch), RG_OK);
    now += 10;
    /* A huge binding works (it is hashed); a huge answer is wrong. */
    ck_assert_int_eq(verify(g, ch.token, big, big), RG_VERDICT_WRONG);
    free(big);
    rg_guard_free(g);
}
END_TEST

START_TEST(verify_errors)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_verdict v = RG_VERDICT_PASS;
    ck_assert_int_eq(rg_challenge_verify(NULL, "t", "1", NULL, &v), RG_EINVAL);
    ck_assert_int_eq(v, RG_VERDICT_MALFORMED);
    v = RG_VERDICT_PASS;
    ck_assert_int_eq(rg_challenge_verify(g, NULL, "1", NULL, &v), RG_EINVAL);
    ck_assert_int_eq(v, RG_VERDICT_MALFORMED);
    ck_assert_int_eq(rg_challenge_verify(g, "t", "1", NULL, NULL), RG_EINVAL);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(NULL, NULL, &ch), RG_EINVAL);
    ck_assert_int_eq(rg_challenge_issue(g, NULL, NULL), RG_EINVAL);
    ck_assert_int_eq(rg_challenge_issue_in(g, NULL, "xx", RG_STYLE_WORDS, &ch),
                     RG_ELOCALE);
    ck_assert_int_eq(rg_challenge_issue_in(g, NULL, "en", (rg_style)7, &ch),
                     RG_EINVAL);
    rg_guard_free(g);
}
END_TEST

START_TEST(store_full_fails_closed)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, "memory:?capacity=2");
    rg_challenge ch[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch[i]), RG_OK);
    now += 10;
    rg_verdict v;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(verify_number(g, ch[i].token, solve(&ch[i]), NULL),
                         RG_VERDICT_PASS);
    char answer[16];
    snprintf(answer, sizeof answer, "%u", (unsigned)solve(&ch[2]));
    v = RG_VERDICT_PASS;
    ck_assert_int_eq(rg_challenge_verify(g, ch[2].token, answer, NULL, &v),
                     RG_EFULL);
    ck_assert_int_ne(v, RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

/* ---- Keys. ---- */

START_TEST(no_signing_key)
{
    uint64_t now = 1700000000;
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now;
    rg_guard *g = NULL;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_ENOKEY);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 0), RG_OK);
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_ENOKEY);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_EKEY);
    ck_assert_int_eq(rg_guard_add_key(NULL, 2, rg_test_key, 1), RG_EINVAL);
    ck_assert_int_eq(rg_guard_add_key(g, 2, NULL, 1), RG_EINVAL);
    rg_guard_free(g);
}
END_TEST

START_TEST(key_rotation)
{
    uint64_t now = 1700000000;
    rg_guard *g = digit_guard(&now, NULL);
    rg_challenge old_ch, new_ch;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &old_ch), RG_OK);
    uint8_t key2[RG_KEY_BYTES];
    memset(key2, 7, sizeof key2);
    ck_assert_int_eq(rg_guard_add_key(g, 2, key2, 1), RG_OK);
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &new_ch), RG_OK);
    /* The new token names key 2 (bytes 1..4 of the token). */
    rg__token_fields f;
    uint8_t t1[16], t2[16];
    ck_assert(rg__token_decode(new_ch.token, &f, t1, t2));
    ck_assert_uint_eq(f.key_id, 2);
    now += 10;
    ck_assert_int_eq(verify_number(g, old_ch.token, solve(&old_ch), NULL),
                     RG_VERDICT_PASS);
    ck_assert_int_eq(verify_number(g, new_ch.token, solve(&new_ch), NULL),
                     RG_VERDICT_PASS);
    rg_guard_free(g);
}
END_TEST

static const char *write_file(const char *dir, const char *name,
                              const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rg_test_write_file(path, text, strlen(text));
    return path;
}

START_TEST(key_file_round_trip)
{
    char text[256];
    ck_assert_int_eq(rg_keyfile_generate(77, text, sizeof text), RG_OK);
    ck_assert_ptr_nonnull(strstr(text, "\n77 sign "));
    ck_assert_int_eq(rg_keyfile_generate(77, text, 159), RG_ETOOBIG);
    ck_assert_int_eq(rg_keyfile_generate(77, NULL, 200), RG_EINVAL);
    ck_assert_int_eq(rg_keyfile_generate(0, text, sizeof text), RG_OK);

    const char *dir = rg_test_tmpdir();
    ck_assert_int_eq(rg_keyfile_generate(5, text, sizeof text), RG_OK);
    const char *path = write_file(dir, "k", text);

    uint64_t now = 1700000000;
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now;
    cfg.style = RG_STYLE_DIGITS;
    rg_guard *a = NULL, *b = NULL;
    ck_assert_int_eq(rg_guard_new(&a, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_new(&b, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_load_keys(a, path), RG_OK);
    ck_assert_int_eq(rg_guard_load_keys(b, path), RG_OK);
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(a, NULL, &ch), RG_OK);
    now += 10;
    ck_assert_int_eq(verify_number(b, ch.token, solve(&ch), NULL),
                     RG_VERDICT_PASS);
    /* Loading the same ids again is a duplicate. */
    ck_assert_int_eq(rg_guard_load_keys(a, path), RG_EKEY);
    rg_guard_free(a);
    rg_guard_free(b);
}
END_TEST

static const struct {
    const char *text;
    int rc;
} bad_key_files[] = {
    {"", RG_EKEYFILE},
    {"# only a comment\n", RG_EKEYFILE},
    {"1 verify AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", RG_EKEYFILE},
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
     "2 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
     RG_EKEYFILE},
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
     "1 verify AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
     RG_EKEY},
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\n", RG_EKEYFILE},
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A\n", RG_EKEYFILE},
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 extra\n", RG_EKEYFILE},
    {"4294967296 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
     RG_EKEYFILE},
    {"-1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", RG_EKEYFILE},
    {"1 Sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", RG_EKEYFILE},
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8\n", RG_EKEYFILE},
    /* A byte above 0x7f in place of a letter. */
    {"1 sign AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\xe9h8\n", RG_EKEYFILE},
};

START_TEST(key_file_errors)
{
    const char *dir = rg_test_tmpdir();
    const char *path = write_file(dir, "bad", bad_key_files[_i].text);
    rg_guard *g = NULL;
    ck_assert_int_eq(rg_guard_new(&g, NULL), RG_OK);
    ck_assert_int_eq(rg_guard_load_keys(g, path), bad_key_files[_i].rc);
    /* Nothing of a bad file is kept. */
    rg_challenge ch;
    ck_assert_int_eq(rg_challenge_issue(g, NULL, &ch), RG_ENOKEY);
    rg_guard_free(g);
}
END_TEST

START_TEST(key_file_too_many_keys)
{
    /* 64 keys load; a 65th makes the file no key file at all. */
    for (int keys = 64; keys <= 65; keys++) {
        static char text[65 * 80];
        size_t len = 0;
        for (int i = 0; i < keys; i++)
            len +=
                (size_t)snprintf(text + len, sizeof text - len, "%d %s %s\n",
                                 i + 1, i == 0 ? "sign" : "verify",
                                 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
        const char *path = write_file(rg_test_tmpdir(), "many", text);
        rg_guard *g = NULL;
        ck_assert_int_eq(rg_guard_new(&g, NULL), RG_OK);
        ck_assert_int_eq(rg_guard_load_keys(g, path),
                         keys == 64 ? RG_OK : RG_EKEYFILE);
        rg_guard_free(g);
    }
}
END_TEST

START_TEST(key_file_unreadable)
{
    rg_guard *g = NULL;
    ck_assert_int_eq(rg_guard_new(&g, NULL), RG_OK);
    ck_assert_int_eq(rg_guard_load_keys(g, "/nonexistent/replyguard.key"),
                     RG_EKEYFILE);
    ck_assert_int_eq(rg_guard_load_keys(g, rg_test_tmpdir()), RG_EKEYFILE);
    ck_assert_int_eq(rg_guard_load_keys(g, NULL), RG_EINVAL);
    ck_assert_int_eq(rg_guard_load_keys(NULL, "x"), RG_EINVAL);
    /* A NUL byte inside is not a key file. */
    const char *dir = rg_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/nul", dir);
    FILE *fp = fopen(path, "w");
    fwrite("1 sign A\0B\n", 1, 11, fp);
    fclose(fp);
    ck_assert_int_eq(rg_guard_load_keys(g, path), RG_EKEYFILE);
    rg_guard_free(g);
}
END_TEST

/* ---- The token's base64url codec agrees with libsodium's. ---- */

START_TEST(base64url_matches_libsodium)
{
    ck_assert_int_eq(rg_init(), RG_OK);
    uint8_t in[100], back[100];
    char ours[200], theirs[200];
    for (size_t n = 0; n <= sizeof in; n++) {
        randombytes_buf(in, n);
        rg__b64url_encode(in, n, ours);
        sodium_bin2base64(theirs, sizeof theirs, in, n,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        ck_assert_str_eq(ours, theirs);
        ck_assert_uint_eq(strlen(ours), RG__B64URL_LEN(n));
        ck_assert(rg__b64url_decode(ours, strlen(ours), back, n));
        ck_assert(memcmp(in, back, n) == 0);
        /* Wrong lengths are refused. */
        ck_assert(!rg__b64url_decode(ours, strlen(ours), back, n + 1));
    }
    uint8_t two[2];
    ck_assert(rg__b64url_decode("AAA", 3, two, 2));
    ck_assert(!rg__b64url_decode("AAB", 3, two, 2)); /* unused bits set */
    ck_assert(!rg__b64url_decode("AA=", 3, two, 2));
    ck_assert(!rg__b64url_decode("A\x80"
                                 "A",
                                 3, two, 2));
    ck_assert(!rg__b64url_decode("A+A", 3, two, 2));
}
END_TEST

/* ---- Configuration and names. ---- */

START_TEST(config_errors)
{
    rg_config cfg;
    rg_guard *g = (rg_guard *)&cfg;
    ck_assert_int_eq(rg_guard_new(NULL, NULL), RG_EINVAL);

    rg_config_init(&cfg);
    cfg.size = 8;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EINVAL);
    ck_assert_ptr_null(g);

    rg_config_init(&cfg);
    cfg.ttl_s = 0;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EINVAL);
    rg_config_init(&cfg);
    cfg.min_solve_s = cfg.ttl_s;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EINVAL);
    rg_config_init(&cfg);
    cfg.locale = "tlh";
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_ELOCALE);
    rg_config_init(&cfg);
    cfg.operand_max = 1000;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_ERANGE);
    rg_config_init(&cfg);
    cfg.operators = 0;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_ERANGE);
    rg_config_init(&cfg);
    cfg.forms = 8;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_ERANGE);
    rg_config_init(&cfg);
    cfg.store = "bogus:";
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EURL);
    rg_config_init(&cfg);
    cfg.style = (rg_style)9;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EINVAL);

    /* A caller that knows only the fields of version 0.1's core. */
    rg_config_init(&cfg);
    cfg.size = offsetof(rg_config, clock_arg) + sizeof(void *);
    cfg.style = (rg_style)9; /* beyond size: ignored */
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    rg_guard_free(g);
    rg_guard_free(NULL);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(rg_strerror(RG_OK), "success");
    ck_assert_str_eq(rg_strerror(RG_EFULL),
                     "the store is full of live entries");
    ck_assert_str_eq(rg_strerror(12345), "unknown error");
    ck_assert_str_eq(rg_err_name(RG_EINVAL), "RG_EINVAL");
    ck_assert_str_eq(rg_err_name(RG_EPERM), "RG_EPERM");
    ck_assert_str_eq(rg_err_name(-999), "RG_EUNKNOWN");
    for (int e = -1; e >= RG_EPERM; e--) {
        ck_assert_str_ne(rg_strerror(e), "unknown error");
        ck_assert_str_ne(rg_err_name(e), "RG_EUNKNOWN");
    }
    static const char *const verdicts[] = {"pass",     "wrong",    "expired",
                                           "too_fast", "replayed", "forged",
                                           "malformed"};
    for (int v = RG_VERDICT_PASS; v <= RG_VERDICT_MALFORMED; v++)
        ck_assert_str_eq(rg_verdict_name((rg_verdict)v), verdicts[v]);
    ck_assert_str_eq(rg_verdict_name((rg_verdict)99), "unknown");
    ck_assert_str_eq(rg_version(), RG_VERSION_STRING);
    ck_assert_uint_eq(rg_key_bytes(), RG_KEY_BYTES);
    ck_assert_uint_eq(rg_token_max(), RG_TOKEN_MAX);
    ck_assert_uint_eq(rg_question_max(), RG_QUESTION_MAX);
    ck_assert_int_eq(rg_init(), RG_OK);
    ck_assert_int_eq(rg_init(), RG_OK);
}
END_TEST

Suite *token_suite(void);

Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, vectors_verify);
    tcase_add_test(tc, vectors_encode);
    suite_add_tcase(s, tc);

    tc = tcase_create("verdicts");
    tcase_add_test(tc, round_trip_then_replayed);
    tcase_add_test(tc, one_guess_per_token);
    tcase_add_test(tc, not_a_number_is_wrong_and_spends);
    tcase_add_test(tc, answers_are_normalised);
    tcase_add_test(tc, locale_of_token_reads_answer);
    tcase_add_test(tc, expired);
    tcase_add_test(tc, issued_in_the_future);
    tcase_add_test(tc, too_fast_does_not_spend);
    tcase_add_test(tc, forged_binding_and_key);
    tcase_add_test(tc, tampering_never_passes);
    tcase_add_test(tc, forged_attempts_spend_nothing);
    tcase_add_loop_test(tc, malformed_tokens, 0,
                        sizeof malformed / sizeof malformed[0]);
    tcase_add_test(tc, huge_inputs);
    tcase_add_test(tc, verify_errors);
    tcase_add_test(tc, store_full_fails_closed);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, no_signing_key);
    tcase_add_test(tc, key_rotation);
    tcase_add_test(tc, key_file_round_trip);
    tcase_add_loop_test(tc, key_file_errors, 0,
                        sizeof bad_key_files / sizeof bad_key_files[0]);
    tcase_add_test(tc, key_file_too_many_keys);
    tcase_add_test(tc, key_file_unreadable);
    suite_add_tcase(s, tc);

    tc = tcase_create("codec");
    tcase_add_test(tc, base64url_matches_libsodium);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_test(tc, config_errors);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return s;
}
