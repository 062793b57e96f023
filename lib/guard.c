/*
 * The guard: issues challenges and verifies answers, holding the keys, the
 * configuration and the replay store.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "challenge.h"
#include "guard.h"
#include "keys.h"
#include "random.h"
#include "replay.h"
#include "store.h"

struct rg_guard {
    rg__keyring keys;
    rg_store *store;
    rg__challenge_plan plan;
    uint32_t ttl_s, min_solve_s, clock_skew_s;
    int locale;
    rg_style style;
    uint64_t (*clock)(void *arg);
    void *clock_arg;
};

/* The part of rg_config that every caller knows: the fields up to clock_arg.
 */
#define CONFIG_MIN_SIZE (offsetof(rg_config, clock_arg) + sizeof(void *))

void rg_config_init(rg_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->ttl_s = 1200;
    cfg->min_solve_s = 5;
    cfg->locale = "en";
    cfg->store = "memory:";
    cfg->style = RG_STYLE_WORDS;
    cfg->operand_min = 0;
    cfg->operand_max = 20;
    cfg->product_max = 100;
    cfg->operators = RG_OP_ALL;
    cfg->forms = RG_FORM_TWO_TERMS;
    cfg->clock_skew_s = 60;
}

static uint64_t real_clock(void *arg)
{
    (void)arg;
    return (uint64_t)time(NULL);
}

static uint64_t guard_now(const rg_guard *g)
{
    return g->clock(g->clock_arg);
}

int rg_guard_new(rg_guard **out, const rg_config *user_cfg)
{
    rg_config cfg;
    int rc;

    if (!out)
        return RG_EINVAL;
    *out = NULL;
    if ((rc = rg__ensure_init()) != RG_OK)
        return rc;

    /* Take what the caller's (possibly older, smaller) struct has, and
     * defaults for the rest. */
    rg_config_init(&cfg);
    if (user_cfg) {
        if (user_cfg->size < CONFIG_MIN_SIZE)
            return RG_EINVAL;
        memcpy(&cfg, user_cfg,
               user_cfg->size < sizeof cfg ? user_cfg->size : sizeof cfg);
        cfg.size = sizeof cfg;
    }
    if (cfg.ttl_s == 0 || cfg.min_solve_s >= cfg.ttl_s ||
        (unsigned)cfg.style > RG_STYLE_MIXED)
        return RG_EINVAL;
    int locale = rg__locale_find(cfg.locale ? cfg.locale : "en");
    if (locale < 0)
        return RG_ELOCALE;
    rg__challenge_rules rules = {
        .operand_min = cfg.operand_min,
        .operand_max = cfg.operand_max,
        .product_max = cfg.product_max,
        .operators = cfg.operators,
        .forms = cfg.forms,
    };
    rg_guard *g = calloc(1, sizeof *g);
    if (!g)
        return RG_ENOMEM;
    if ((rc = rg__challenge_plan_init(&g->plan, &rules)) != RG_OK) {
        free(g);
        return rc;
    }
    if ((rc = rg__keyring_init(&g->keys)) != RG_OK) {
        free(g);
        return rc;
    }
    rc = rg_store_open(&g->store, cfg.store ? cfg.store : "memory:");
    if (rc != RG_OK) {
        rg__keyring_destroy(&g->keys);
        free(g);
        return rc;
    }
    g->ttl_s = cfg.ttl_s;
    g->min_solve_s = cfg.min_solve_s;
    g->clock_skew_s = cfg.clock_skew_s;
    g->locale = locale;
    g->style = cfg.style;
    g->clock = cfg.clock ? cfg.clock : real_clock;
    g->clock_arg = cfg.clock_arg;
    *out = g;
    return RG_OK;
}

void rg_guard_free(rg_guard *g)
{
    if (!g)
        return;
    rg_store_close(g->store);
    rg__keyring_destroy(&g->keys);
    free(g);
}

int rg_guard_add_key(rg_guard *g, uint32_t key_id,
                     const uint8_t key[RG_KEY_BYTES], int sign_with)
{
    if (!g || !key)
        return RG_EINVAL;
    return rg__keyring_add(&g->keys, key_id, key, sign_with != 0);
}

int rg_guard_load_keys(rg_guard *g, const char *path)
{
    if (!g || !path)
        return RG_EINVAL;
    return rg__keyring_load(&g->keys, path);
}

int rg_challenge_issue_in(rg_guard *g, const char *binding,
                          const char *locale_name, rg_style style,
                          rg_challenge *out)
{
    if (!g || !out || (unsigned)style > RG_STYLE_MIXED)
        return RG_EINVAL;
    int locale = locale_name ? rg__locale_find(locale_name) : g->locale;
    if (locale < 0)
        return RG_ELOCALE;

    /* The nonce, and a seed for the question. */
    uint8_t random[RG__NONCE_BYTES + RG__SEED_BYTES];
    rg__random_buf(random, sizeof random);

    rg__question q;
    rg__question_make(&g->plan, locale, style, random + RG__NONCE_BYTES, &q);

    rg__token_fields f = {.locale = (uint8_t)locale};
    memcpy(f.nonce, random, RG__NONCE_BYTES);
    f.issued_at = guard_now(g);
    f.expires_at = f.issued_at + g->ttl_s;

    uint8_t binding_hash[32], field_tag[RG__TAG_BYTES], secret[RG__TAG_BYTES],
        answer_tag[RG__TAG_BYTES];
    rg__token_binding_hash(binding, binding_hash);

    const rg__token_key *key = rg__keyring_signer(&g->keys, &f.key_id);
    if (!key)
        return RG_ENOKEY;
    rg__token_field_mac(key, &f, binding_hash, field_tag, secret);
    rg__token_answer_mac(key, secret, q.answer, answer_tag);
    rg__keyring_release(&g->keys);

    memset(out, 0, sizeof *out);
    rg__token_encode(&f, field_tag, answer_tag, out->token, sizeof out->token);
    memcpy(out->question, q.text, sizeof out->question);
    memcpy(out->spoken, q.spoken, sizeof out->spoken);
    const char *name = rg__locale_name(locale);
    memcpy(out->locale, name, strnlen(name, RG_LOCALE_MAX - 1));
    out->issued_at = f.issued_at;
    out->expires_at = f.expires_at;

    sodium_memzero(secret, sizeof secret);
    return RG_OK;
}

int rg_challenge_issue(rg_guard *g, const char *binding, rg_challenge *out)
{
    if (!g)
        return RG_EINVAL;
    return rg_challenge_issue_in(g, binding, NULL, g->style, out);
}

/* Everything up to the answer: the verdict for a token whose answer has not
 * been looked at yet, RG_VERDICT_PASS meaning "go on to the answer". */
static rg_verdict check_token(rg_guard *g, const rg__token_fields *f,
                              const uint8_t field_tag[RG__TAG_BYTES],
                              const char *binding, uint64_t now,
                              uint32_t min_solve_s,
                              uint8_t secret[RG__TAG_BYTES],
                              const rg__token_key **key)
{
    uint8_t binding_hash[32], tag[RG__TAG_BYTES];

    rg__token_binding_hash(binding, binding_hash);
    *key = rg__keyring_find(&g->keys, f->key_id);
    if (!*key)
        return RG_VERDICT_FORGED;
    rg__token_field_mac(*key, f, binding_hash, tag, secret);
    if (crypto_verify_16(tag, field_tag) != 0)
        return RG_VERDICT_FORGED;
    /* No sums that could wrap: an authentic token may still hold any
     * 64-bit times (docs/token-format.md), and so may the clock. */
    if (now >= f->expires_at ||
        (f->issued_at > now && f->issued_at - now > g->clock_skew_s))
        return RG_VERDICT_EXPIRED;
    if (now < f->issued_at || now - f->issued_at < min_solve_s)
        return RG_VERDICT_TOO_FAST;
    return RG_VERDICT_PASS;
}

uint32_t rg__guard_min_solve(const rg_guard *g)
{
    return g->min_solve_s;
}

rg_store *rg__guard_store(const rg_guard *g)
{
    return g->store;
}

int rg_challenge_verify(rg_guard *g, const char *token, const char *answer,
                        const char *binding, rg_verdict *out)
{
    return rg__challenge_verify_min(g, token, answer, binding,
                                    g ? g->min_solve_s : 0, out);
}

int rg__challenge_verify_min(rg_guard *g, const char *token, const char *answer,
                             const char *binding, uint32_t min_solve_s,
                             rg_verdict *out)
{
    if (out)
        *out = RG_VERDICT_MALFORMED;
    if (!g || !token || !out)
        return RG_EINVAL;

    rg__token_fields f;
    uint8_t field_tag[RG__TAG_BYTES], answer_tag[RG__TAG_BYTES];
    if (!rg__token_decode(token, &f, field_tag, answer_tag))
        return RG_OK; /* malformed */

    uint64_t now = guard_now(g);
    uint8_t secret[RG__TAG_BYTES], tag[RG__TAG_BYTES];
    const rg__token_key *key = NULL;
    rg_verdict v =
        check_token(g, &f, field_tag, binding, now, min_solve_s, secret, &key);
    if (v != RG_VERDICT_PASS) {
        if (key)
            rg__keyring_release(&g->keys);
        sodium_memzero(secret, sizeof secret);
        *out = v;
        return RG_OK;
    }

    /* The token is authentic and live: whatever the answer, this attempt
     * spends it, so each token allows exactly one guess. The answer's tag is
     * computed before the store is asked, so the key lock is not held
     * across store I/O. */
    uint32_t value = 0;
    bool is_number = rg__answer_value(
        answer ? answer : "", answer ? strnlen(answer, RG_ANSWER_MAX + 1) : 0,
        f.locale, &value);
    if (is_number)
        rg__token_answer_mac(key, secret, value, tag);
    rg__keyring_release(&g->keys);
    sodium_memzero(secret, sizeof secret);

    /* Stores hold times up to INT64_MAX. A token may expire later (the
     * format allows any 64-bit time); it stays spent until then, which is
     * for ever. */
    uint64_t keep = f.expires_at;
    if (keep > (uint64_t)INT64_MAX - g->clock_skew_s)
        keep = (uint64_t)INT64_MAX - g->clock_skew_s;
    bool fresh = false;
    int rc =
        rg__replay_spend(g->store, f.nonce, keep, now, g->clock_skew_s, &fresh);
    if (rc != RG_OK)
        return rc; /* *out stays MALFORMED: fail closed */
    if (!fresh)
        v = RG_VERDICT_REPLAYED;
    else if (is_number && crypto_verify_16(tag, answer_tag) == 0)
        v = RG_VERDICT_PASS;
    else
        v = RG_VERDICT_WRONG;
    *out = v;
    return RG_OK;
}
