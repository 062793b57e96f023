/*
 * Fuzz target: tokens, parsed, verified and issued.
 *
 * The first byte picks one of three modes:
 *
 * 0. Any bytes as token, answer and binding (NUL-separated, in that
 *    order), after one byte that sets the clock, to rg_challenge_verify()
 *    and rg_judge() of a guard holding the keys of the published test
 *    vectors (docs/token-format.md). The seeds include those tokens, so
 *    mutations reach the answer and binding checks of authentic tokens.
 *    Invariants: a verdict is always reached; MALFORMED exactly when the
 *    token does not decode; a token that decodes encodes back to the same
 *    text (one text per token); the judge agrees with the verdict.
 * 1. A round trip through the public API: a guard with settings from the
 *    input issues a challenge in digits; the solver's answer passes once,
 *    then the token is replayed; too soon is TOO_FAST, at expiry EXPIRED,
 *    another binding FORGED, any altered character never PASS, a wrong
 *    answer WRONG; an answer dressed up with bytes from the input passes
 *    exactly when rg_answer_parse() reads the right number from it.
 * 2. Questions from the internal maker, with rules, seed, locale and style
 *    from the input: the texts are terminated UTF-8, the answer is at most
 *    999, and the digits version solves to the answer of every style.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "base64url.h"
#include "challenge.h"
#include "internal.h"
#include "solver.h"
#include "token.h"

static const char *const locales[RG__LOCALE_COUNT] = {"en", "ru", "de", "fr",
                                                      "es"};

/* The keys and times of the published vectors (tests/data). */
static const struct {
    uint32_t id;
    uint8_t first, step; /* key byte i is first + i * step */
    uint64_t issued_at;
} vector_keys[] = {
    {1, 0x00, 1, 1700000000},          {4294967295, 0xa5, 0, 1767225600},
    {1732740000, 0x20, 1, 1732740000}, {7, 0xff, 0, 4102444800},
    {2, 0x01, 1, 1800000000},
};
#define NVECTORS (sizeof vector_keys / sizeof vector_keys[0])

static void make_key(uint8_t key[RG_KEY_BYTES], uint8_t first, uint8_t step)
{
    for (size_t i = 0; i < RG_KEY_BYTES; i++)
        key[i] = (uint8_t)(first + i * step);
}

static bool text_ok(const char *array, size_t size)
{
    size_t len = strnlen(array, size);
    return len < size && fuzz_utf8(array, len);
}

static uint32_t reason_of(rg_verdict v)
{
    switch (v) {
    case RG_VERDICT_PASS:
        return 0;
    case RG_VERDICT_WRONG:
        return RG_REASON_CAPTCHA_WRONG;
    case RG_VERDICT_EXPIRED:
        return RG_REASON_CAPTCHA_EXPIRED;
    case RG_VERDICT_TOO_FAST:
        return RG_REASON_CAPTCHA_TOO_FAST;
    case RG_VERDICT_REPLAYED:
        return RG_REASON_CAPTCHA_REPLAYED;
    case RG_VERDICT_FORGED:
        return RG_REASON_CAPTCHA_FORGED;
    case RG_VERDICT_MALFORMED:
        return RG_REASON_CAPTCHA_MALFORMED;
    }
    return 0;
}

/* ---- Mode 0: any bytes ---- */

static void any_token(fuzz_input *in)
{
    uint8_t t = fuzz_u8(in);
    uint64_t now =
        vector_keys[t % NVECTORS].issued_at + (uint64_t)(t / NVECTORS) * 10;
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = fuzz_clock;
    cfg.clock_arg = &now;
    cfg.store = "memory:?capacity=16";
    rg_guard *g = NULL;
    FUZZ_CHECK(rg_guard_new(&g, &cfg) == RG_OK, "rg_guard_new");
    for (size_t i = 0; i < NVECTORS; i++) {
        uint8_t key[RG_KEY_BYTES];
        make_key(key, vector_keys[i].first, vector_keys[i].step);
        FUZZ_CHECK(rg_guard_add_key(g, vector_keys[i].id, key, i == 0) == RG_OK,
                   "key %zu", i);
    }

    char *token = fuzz_string(in);
    char *answer = fuzz_string(in);
    char *binding = fuzz_string(in);

    rg__token_fields f;
    uint8_t field_tag[RG__TAG_BYTES], answer_tag[RG__TAG_BYTES];
    bool decodes = rg__token_decode(token, &f, field_tag, answer_tag);
    if (decodes) {
        char again[RG__TOKEN_CHARS + 1];
        FUZZ_CHECK(strlen(token) == RG__TOKEN_CHARS, "decoded '%s'", token);
        rg__token_encode(&f, field_tag, answer_tag, again, sizeof again);
        FUZZ_CHECK(strcmp(again, token) == 0, "'%s' encodes back as '%s'",
                   token, again);
    }

    rg_verdict v = RG_VERDICT_PASS;
    int rc = rg_challenge_verify(g, token, answer, binding, &v);
    FUZZ_CHECK(rc == RG_OK, "verify: %s", rg_err_name(rc));
    FUZZ_CHECK(v <= RG_VERDICT_MALFORMED, "verdict %d", (int)v);
    FUZZ_CHECK((v == RG_VERDICT_MALFORMED) == !decodes,
               "verdict %s for a token that %s", rg_verdict_name(v),
               decodes ? "decodes" : "does not decode");

    /* The judge sees the token again: by then it is spent, if it was
     * authentic and live. */
    rg_verdict again = RG_VERDICT_PASS;
    rc = rg_challenge_verify(g, token, answer, binding, &again);
    FUZZ_CHECK(rc == RG_OK, "verify again: %s", rg_err_name(rc));
    rg_verdict expect_again =
        v == RG_VERDICT_PASS || v == RG_VERDICT_WRONG ? RG_VERDICT_REPLAYED : v;
    FUZZ_CHECK(again == expect_again, "%s, then %s", rg_verdict_name(v),
               rg_verdict_name(again));

    rg_submission s;
    rg_submission_init(&s);
    s.token = token;
    s.answer = answer;
    s.binding = binding;
    s.body = answer;
    s.client = "203.0.113.7";
    rg_decision d;
    rc = rg_judge(g, &s, NULL, &d);
    FUZZ_CHECK(rc == RG_OK, "judge: %s", rg_err_name(rc));
    FUZZ_CHECK(d.verified == 1 && d.verdict == again, "judge: %s, not %s",
               rg_verdict_name(d.verdict), rg_verdict_name(again));
    FUZZ_CHECK(d.reasons == reason_of(again), "judge reasons %#x",
               (unsigned)d.reasons);
    FUZZ_CHECK(d.action == (again == RG_VERDICT_PASS ? RG_ACTION_ACCEPT
                                                     : RG_ACTION_REJECT),
               "judge: %s", rg_action_name(d.action));

    free(token);
    free(answer);
    free(binding);
    rg_guard_free(g);
}

/* ---- Mode 1: issue, then verify ---- */

static rg_verdict verify_at(rg_guard *g, uint64_t *now, uint64_t when,
                            const char *token, const char *answer,
                            const char *binding)
{
    rg_verdict v = RG_VERDICT_PASS;
    *now = when;
    int rc = rg_challenge_verify(g, token, answer, binding, &v);
    FUZZ_CHECK(rc == RG_OK, "verify: %s", rg_err_name(rc));
    return v;
}

/* Issues a challenge in digits and solves it. */
static uint32_t issue_solved(rg_guard *g, uint64_t *clock, uint64_t now,
                             const char *binding, const char *locale,
                             uint32_t ttl, rg_challenge *c)
{
    *clock = now;
    int rc = rg_challenge_issue_in(g, binding, locale, RG_STYLE_DIGITS, c);
    FUZZ_CHECK(rc == RG_OK, "issue: %s", rg_err_name(rc));
    FUZZ_CHECK(strlen(c->token) == RG__TOKEN_CHARS, "token '%s'", c->token);
    FUZZ_CHECK(text_ok(c->question, sizeof c->question) &&
                   text_ok(c->spoken, sizeof c->spoken),
               "question text");
    FUZZ_CHECK(strcmp(c->locale, locale) == 0, "locale '%s'", c->locale);
    FUZZ_CHECK(c->issued_at == now && c->expires_at == now + ttl,
               "times %llu %llu", (unsigned long long)c->issued_at,
               (unsigned long long)c->expires_at);
    uint32_t answer = 0;
    FUZZ_CHECK(rg_test_solve(c->question, &answer), "cannot solve '%s'",
               c->question);
    FUZZ_CHECK(answer <= RG__NUMBER_MAX, "answer %u", (unsigned)answer);
    return answer;
}

static void round_trip(fuzz_input *in)
{
    uint64_t now = fuzz_u64(in) & ((UINT64_C(1) << 62) - 1);
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = fuzz_clock;
    cfg.clock_arg = &now;
    cfg.store = "memory:?capacity=16";
    cfg.ttl_s = 1 + fuzz_u16(in);
    cfg.min_solve_s = fuzz_u16(in) % cfg.ttl_s;
    cfg.clock_skew_s = fuzz_u16(in);
    cfg.style = (rg_style)(fuzz_u8(in) % 3);
    const char *locale = locales[fuzz_u8(in) % RG__LOCALE_COUNT];
    cfg.locale = locales[fuzz_u8(in) % RG__LOCALE_COUNT];
    if (fuzz_bool(in)) {
        cfg.operand_min = fuzz_u16(in) % 1001;
        cfg.operand_max = fuzz_u16(in) % 1001;
        cfg.product_max = fuzz_u16(in) % 1001;
        cfg.operators = fuzz_u8(in) & 7;
        cfg.forms = fuzz_u8(in) & 7;
    }
    uint32_t key_id = fuzz_u32(in);
    uint32_t ttl = cfg.ttl_s, min_solve = cfg.min_solve_s;
    uint32_t skew = cfg.clock_skew_s;
    uint64_t issued = now;

    rg_guard *g = NULL;
    int rc = rg_guard_new(&g, &cfg);
    if (rc != RG_OK) {
        FUZZ_CHECK(rc == RG_ERANGE, "rg_guard_new: %s", rg_err_name(rc));
        return;
    }
    uint8_t key[RG_KEY_BYTES];
    make_key(key, 0, 1);
    FUZZ_CHECK(rg_guard_add_key(g, key_id, key, 1) == RG_OK, "add key");

    uint8_t pos = fuzz_u8(in), sub = fuzz_u8(in);
    char *binding = fuzz_string(in);
    char *prefix = fuzz_string(in);
    char *suffix = fuzz_string(in);

    /* A challenge in the guard's own style: only its texts are checked. */
    rg_challenge c;
    rc = rg_challenge_issue(g, binding, &c);
    FUZZ_CHECK(rc == RG_OK, "issue: %s", rg_err_name(rc));
    FUZZ_CHECK(text_ok(c.question, sizeof c.question) &&
                   text_ok(c.spoken, sizeof c.spoken),
               "question text");

    uint32_t answer = issue_solved(g, &now, issued, binding, locale, ttl, &c);
    char digits[16], other[sizeof digits + 1];
    snprintf(digits, sizeof digits, "%u", (unsigned)answer);
    uint64_t ready = issued + min_solve;

    if (min_solve > 0)
        FUZZ_CHECK(verify_at(g, &now, ready - 1, c.token, digits, binding) ==
                       RG_VERDICT_TOO_FAST,
                   "too fast");
    FUZZ_CHECK(verify_at(g, &now, issued + ttl, c.token, digits, binding) ==
                   RG_VERDICT_EXPIRED,
               "at expiry");
    if (issued > skew)
        FUZZ_CHECK(verify_at(g, &now, issued - skew - 1, c.token, digits,
                             binding) == RG_VERDICT_EXPIRED,
                   "issued in the future");
    size_t blen = strlen(binding);
    char *elsewhere = malloc(blen + 2);
    FUZZ_CHECK(elsewhere != NULL, "memory");
    memcpy(elsewhere, binding, blen);
    memcpy(elsewhere + blen, "x", 2);
    FUZZ_CHECK(verify_at(g, &now, ready, c.token, digits, elsewhere) ==
                   RG_VERDICT_FORGED,
               "another binding");
    free(elsewhere);

    /* One character changed to another of the alphabet. */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char altered[RG_TOKEN_MAX];
    memcpy(altered, c.token, sizeof altered);
    size_t at = pos % RG__TOKEN_CHARS;
    const char *was = strchr(alphabet, altered[at]);
    FUZZ_CHECK(was != NULL, "token character '%c'", altered[at]);
    altered[at] = alphabet[((size_t)(was - alphabet) + 1 + sub % 63) % 64];

    FUZZ_CHECK(verify_at(g, &now, ready, c.token, digits, binding) ==
                   RG_VERDICT_PASS,
               "the right answer %s to '%s'", digits, c.question);
    rg_verdict v = verify_at(g, &now, ready, altered, digits, binding);
    FUZZ_CHECK(v != RG_VERDICT_PASS, "altered at %zu: %s", at, altered);
    FUZZ_CHECK(verify_at(g, &now, ready, c.token, digits, binding) ==
                   RG_VERDICT_REPLAYED,
               "replayed");

    /* A wrong answer spends the token: the right one after it is too late. */
    answer = issue_solved(g, &now, issued, binding, locale, ttl, &c);
    snprintf(other, sizeof other, "%u", (unsigned)answer + 1);
    snprintf(digits, sizeof digits, "%u", (unsigned)answer);
    FUZZ_CHECK(verify_at(g, &now, ready, c.token, other, binding) ==
                   RG_VERDICT_WRONG,
               "wrong answer");
    FUZZ_CHECK(verify_at(g, &now, ready, c.token, digits, binding) ==
                   RG_VERDICT_REPLAYED,
               "right answer after a wrong one");

    /* The answer in words, or dressed up: it passes exactly when the
     * parser reads the right number. */
    answer = issue_solved(g, &now, issued, binding, locale, ttl, &c);
    snprintf(digits, sizeof digits, "%u", (unsigned)answer);
    char words[128];
    FUZZ_CHECK(rg_number_words(answer, locale, words, sizeof words) == RG_OK,
               "words for %u", (unsigned)answer);
    size_t n = strlen(prefix) + strlen(words) + strlen(suffix) + 1;
    char *dressed = malloc(n);
    FUZZ_CHECK(dressed != NULL, "memory");
    snprintf(dressed, n, "%s%s%s", prefix, (sub & 1) ? words : digits, suffix);
    uint32_t value = 0;
    bool right =
        rg_answer_parse(dressed, locale, &value) == RG_OK && value == answer;
    v = verify_at(g, &now, ready + (sub >> 1), c.token, dressed, binding);
    if (min_solve + (sub >> 1) < ttl)
        FUZZ_CHECK(v == (right ? RG_VERDICT_PASS : RG_VERDICT_WRONG),
                   "'%s' (%s) for %u: %s", dressed, locale, (unsigned)answer,
                   rg_verdict_name(v));
    else
        FUZZ_CHECK(v == RG_VERDICT_EXPIRED, "late: %s", rg_verdict_name(v));

    free(dressed);
    free(binding);
    free(prefix);
    free(suffix);
    rg_guard_free(g);
}

/* ---- Mode 2: questions ---- */

static void questions(fuzz_input *in)
{
    rg__challenge_rules rules = {
        .operand_min = fuzz_u16(in) % 1001,
        .operand_max = fuzz_u16(in) % 1001,
        .product_max = fuzz_u16(in) % 1001,
        .operators = fuzz_u8(in) % 8,
        .forms = fuzz_u8(in) % 8,
    };
    int locale = fuzz_u8(in) % RG__LOCALE_COUNT;
    uint8_t seed[RG__SEED_BYTES];
    fuzz_bytes(in, seed, sizeof seed);

    rg__challenge_plan plan;
    if (rg__challenge_plan_init(&plan, &rules) != RG_OK)
        return;

    uint32_t solved = 0;
    for (int style = RG_STYLE_WORDS; style <= RG_STYLE_MIXED; style++) {
        rg__question q;
        rg__question_make(&plan, locale, (rg_style)style, seed, &q);
        FUZZ_CHECK(text_ok(q.text, sizeof q.text) &&
                       text_ok(q.spoken, sizeof q.spoken),
                   "question texts");
        FUZZ_CHECK(q.answer <= RG__NUMBER_MAX, "answer %u", (unsigned)q.answer);
        if (style == RG_STYLE_WORDS)
            solved = q.answer;
        FUZZ_CHECK(q.answer == solved, "style %d answers %u, not %u", style,
                   (unsigned)q.answer, (unsigned)solved);
        if (style == RG_STYLE_DIGITS) {
            uint32_t a = 0;
            FUZZ_CHECK(rg_test_solve(q.text, &a) && a == q.answer,
                       "'%s' solves to %u, not %u", q.text, (unsigned)a,
                       (unsigned)q.answer);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    switch (fuzz_u8(&in) % 3) {
    case 0:
        any_token(&in);
        break;
    case 1:
        round_trip(&in);
        break;
    default:
        questions(&in);
    }
    return 0;
}
