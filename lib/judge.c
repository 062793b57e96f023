/*
 * rg_judge(): every layer on one submission, and one decision
 * (docs/judge.md).
 */
#include <sodium.h>
#include <stddef.h>
#include <string.h>

#include "guard.h"
#include "internal.h"

/* Bounds of the policy's numbers. */
#define FAILURE_COST_MAX 1000u

/* The longest rate-limit key: a client key and a binding's hash. */
#define LIMIT_KEY_MAX (RG_CLIENT_KEY_MAX + 32)

static const char *const REASON_NAMES[] = {
    "honeypot",
    "captcha_wrong",
    "captcha_expired",
    "captcha_too_fast",
    "captcha_replayed",
    "captcha_forged",
    "captcha_malformed",
    "rate_limited",
    "spam",
    "unsure",
    "store_unavailable",
};
#define REASON_COUNT (sizeof REASON_NAMES / sizeof REASON_NAMES[0])

const char *rg_reason_name(uint32_t reason)
{
    for (size_t i = 0; i < REASON_COUNT; i++)
        if (reason == 1u << i)
            return REASON_NAMES[i];
    return "unknown";
}

const char *rg_action_name(rg_action a)
{
    switch (a) {
    case RG_ACTION_ACCEPT:
        return "accept";
    case RG_ACTION_MODERATE:
        return "moderate";
    case RG_ACTION_REJECT:
        return "reject";
    }
    return "unknown";
}

void rg_submission_init(rg_submission *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    s->size = sizeof *s;
}

void rg_policy_init(rg_policy *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->size = sizeof *p;
    p->on_honeypot = RG_ACTION_REJECT;
    p->on_captcha_wrong = RG_ACTION_REJECT;
    p->on_captcha_expired = RG_ACTION_REJECT;
    p->on_captcha_too_fast = RG_ACTION_REJECT;
    p->on_captcha_replayed = RG_ACTION_REJECT;
    p->on_captcha_forged = RG_ACTION_REJECT;
    p->on_captcha_malformed = RG_ACTION_REJECT;
    p->on_rate_limited = RG_ACTION_REJECT;
    p->on_spam = RG_ACTION_REJECT;
    p->on_unsure = RG_ACTION_MODERATE;
    p->on_store_unavailable = RG_ACTION_MODERATE;
    p->limit_by = RG_LIMIT_BY_CLIENT;
    p->failure_cost = 3;
    p->escalation_step_s = 10;
    p->escalation_cap_s = 300;
}

/* The action the policy takes for one reason bit. */
static rg_action action_for(const rg_policy *p, uint32_t reason)
{
    switch (reason) {
    case RG_REASON_HONEYPOT:
        return p->on_honeypot;
    case RG_REASON_CAPTCHA_WRONG:
        return p->on_captcha_wrong;
    case RG_REASON_CAPTCHA_EXPIRED:
        return p->on_captcha_expired;
    case RG_REASON_CAPTCHA_TOO_FAST:
        return p->on_captcha_too_fast;
    case RG_REASON_CAPTCHA_REPLAYED:
        return p->on_captcha_replayed;
    case RG_REASON_CAPTCHA_FORGED:
        return p->on_captcha_forged;
    case RG_REASON_CAPTCHA_MALFORMED:
        return p->on_captcha_malformed;
    case RG_REASON_RATE_LIMITED:
        return p->on_rate_limited;
    case RG_REASON_SPAM:
        return p->on_spam;
    case RG_REASON_UNSURE:
        return p->on_unsure;
    case RG_REASON_STORE_UNAVAILABLE:
        return p->on_store_unavailable;
    }
    return RG_ACTION_REJECT;
}

/* The most severe action of the reasons found. */
static rg_action decide(const rg_policy *p, uint32_t reasons)
{
    rg_action a = RG_ACTION_ACCEPT;
    for (size_t i = 0; i < REASON_COUNT; i++) {
        rg_action r = (reasons & (1u << i)) ? action_for(p, 1u << i) : a;
        if (r > a)
            a = r;
    }
    return a;
}

static bool action_valid(rg_action a)
{
    return (unsigned)a <= RG_ACTION_REJECT;
}

static bool policy_valid(const rg_policy *p)
{
    const rg_action all[] = {
        p->on_honeypot,
        p->on_captcha_wrong,
        p->on_captcha_expired,
        p->on_captcha_too_fast,
        p->on_captcha_replayed,
        p->on_captcha_forged,
        p->on_captcha_malformed,
        p->on_rate_limited,
        p->on_spam,
        p->on_unsure,
        p->on_store_unavailable,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!action_valid(all[i]))
            return false;
    return (unsigned)p->limit_by <= RG_LIMIT_BY_CLIENT_BINDING &&
           p->failure_cost >= 1 && p->failure_cost <= FAILURE_COST_MAX;
}

/* The verdict's reason bit. */
static uint32_t verdict_reason(rg_verdict v)
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
    return RG_REASON_CAPTCHA_MALFORMED;
}

/* One rate-limit tier: its limiter and the key it counts by. */
typedef struct tier {
    rg_limiter *limiter;
    uint8_t key[LIMIT_KEY_MAX];
    size_t key_len;
} tier;

/* What rg_judge() works with. */
typedef struct judging {
    const rg_policy *p;
    tier tiers[3];
    size_t ntiers;
    uint8_t client[RG_CLIENT_KEY_MAX]; /* for the failures limiter */
    size_t client_len;
    bool have_client;
    bool store_failed;
} judging;

/* The binding's part of a key: hashed to 32 bytes, so that keys stay
 * bounded whatever the binding's length (the store hashes them again). */
#define BINDING_HASH_BYTES 32

/*
 * The key a tier counts by: the client's key cut to the tier's prefix,
 * the binding's hash, or both.
 */
static void tier_key(tier *t, const uint8_t *client, size_t client_len,
                     const uint8_t binding_hash[BINDING_HASH_BYTES],
                     rg_limit_by by)
{
    t->key_len = 0;
    if (by != RG_LIMIT_BY_BINDING) {
        memcpy(t->key, client, client_len);
        t->key_len = client_len;
    }
    if (by != RG_LIMIT_BY_CLIENT) {
        memcpy(t->key + t->key_len, binding_hash, BINDING_HASH_BYTES);
        t->key_len += BINDING_HASH_BYTES;
    }
}

/*
 * Works out the keys: the client's (when a limiter counts by it), for
 * each tier in use. RG_EADDRESS when a limiter needs the client's address
 * and s->client is none. The address is parsed once: the coarser IPv6
 * tiers' keys are the /64 key cut shorter (rg_client_key()'s layout:
 * family, prefix length, then the prefix's bytes).
 */
static int plan_tiers(judging *j, const rg_submission *s)
{
    const rg_policy *p = j->p;
    rg_limiter *const limiters[3] = {p->limiter, p->limiter_ipv6_56,
                                     p->limiter_ipv6_48};
    static const uint8_t prefixes[3] = {64, 56, 48};
    bool by_client = p->limit_by != RG_LIMIT_BY_BINDING;
    bool need_client =
        p->failures ||
        (by_client && (p->limiter || p->limiter_ipv6_56 || p->limiter_ipv6_48));
    uint8_t binding_hash[BINDING_HASH_BYTES];

    if (need_client) {
        int rc = rg_client_key(s->client ? s->client : "", 64, j->client,
                               &j->client_len);
        if (rc != RG_OK)
            return rc == RG_EINVAL ? RG_EADDRESS : rc;
        j->have_client = true;
    }
    if (p->limit_by != RG_LIMIT_BY_CLIENT) {
        const char *b = s->binding ? s->binding : "";
        crypto_generichash(binding_hash, sizeof binding_hash,
                           (const uint8_t *)b, strlen(b), NULL, 0);
    }
    for (size_t i = 0; i < 3; i++) {
        if (!limiters[i])
            continue;
        uint8_t key[RG_CLIENT_KEY_MAX];
        size_t len = 0;
        if (i > 0) {
            /* The coarser tiers are networks of IPv6 clients; counting
             * by binding alone has no networks. */
            if (!by_client || j->client[0] != 6)
                continue;
            len = 2 + prefixes[i] / 8;
            memcpy(key, j->client, len);
            key[1] = prefixes[i];
        } else if (by_client) {
            memcpy(key, j->client, j->client_len);
            len = j->client_len;
        }
        tier *t = &j->tiers[j->ntiers++];
        t->limiter = limiters[i];
        tier_key(t, key, len, binding_hash, p->limit_by);
    }
    return RG_OK;
}

/* Takes `cost` in every tier; true when one of them limits. */
static bool charge_tiers(judging *j, uint32_t cost, uint64_t *retry_after_ms)
{
    bool limited = false;
    for (size_t i = 0; i < j->ntiers; i++) {
        tier *t = &j->tiers[i];
        rg_limit_result r;
        if (rg_limiter_take(t->limiter, t->key, t->key_len, cost, &r) !=
            RG_OK) {
            j->store_failed = true;
            continue;
        }
        if (!r.allowed) {
            limited = true;
            if (r.retry_after_ms > *retry_after_ms)
                *retry_after_ms = r.retry_after_ms;
        }
    }
    return limited;
}

/*
 * A failed challenge pays failure_cost in all (the submission paid 1):
 * what does not fit any more takes what is left, so a client at the edge
 * of its burst is pushed to it.
 */
static void charge_failure(judging *j)
{
    uint32_t extra = j->p->failure_cost - 1;
    for (size_t i = 0; i < j->ntiers && extra > 0; i++) {
        tier *t = &j->tiers[i];
        rg_limit_result r;
        if (rg_limiter_take(t->limiter, t->key, t->key_len, extra, &r) !=
            RG_OK) {
            j->store_failed = true;
            continue;
        }
        if (!r.allowed && r.remaining > 0 &&
            rg_limiter_take(t->limiter, t->key, t->key_len, r.remaining, &r) !=
                RG_OK)
            j->store_failed = true;
    }
    if (j->p->failures) {
        rg_limit_result r;
        if (rg_limiter_take(j->p->failures, j->client, j->client_len, 1, &r) !=
            RG_OK)
            j->store_failed = true;
    }
}

/* The minimum solve time for this client: the guard's, plus a step for
 * each failure the failures limiter still counts, within the cap. */
static uint32_t min_solve_for(judging *j, rg_guard *g)
{
    uint32_t base = rg__guard_min_solve(g);
    const rg_policy *p = j->p;
    rg_limit_result r;

    if (!p->failures)
        return base;
    if (rg_limiter_take(p->failures, j->client, j->client_len, 0, &r) !=
        RG_OK) {
        j->store_failed = true;
        return base;
    }
    uint64_t failed = r.limit > r.remaining ? r.limit - r.remaining : 0;
    uint64_t raised = base + failed * p->escalation_step_s;
    uint32_t cap = p->escalation_cap_s > base ? p->escalation_cap_s : base;
    return raised < cap ? (uint32_t)raised : cap;
}

static void content(judging *j, const rg_submission *s, rg_decision *out,
                    uint32_t *reasons)
{
    rg_comment c;
    rg_bayes_result r;

    rg_comment_init(&c);
    c.author = s->author;
    c.email = s->email;
    c.url = s->url;
    c.body = s->body;
    int rc = rg_bayes_classify(j->p->bayes, &c, &r, NULL, 0);
    if (rc != RG_OK) {
        j->store_failed = true;
        return;
    }
    out->spamicity = r.spamicity;
    if (r.verdict == RG_BAYES_SPAM)
        *reasons |= RG_REASON_SPAM;
    else if (r.verdict == RG_BAYES_UNSURE)
        *reasons |= RG_REASON_UNSURE;
}

/* The part of each struct that every caller knows. */
#define SUBMISSION_MIN_SIZE sizeof(rg_submission)
#define POLICY_MIN_SIZE     sizeof(rg_policy)

int rg_judge(rg_guard *g, const rg_submission *s, const rg_policy *user_policy,
             rg_decision *out)
{
    rg_policy policy;
    judging j;

    if (out) {
        memset(out, 0, sizeof *out);
        out->action = RG_ACTION_REJECT;
        out->verdict = RG_VERDICT_MALFORMED;
        out->spamicity = -1;
    }
    if (!g || !s || !out || s->size < SUBMISSION_MIN_SIZE)
        return RG_EINVAL;
    rg_policy_init(&policy);
    if (user_policy) {
        if (user_policy->size < POLICY_MIN_SIZE)
            return RG_EINVAL;
        memcpy(&policy, user_policy, sizeof policy);
    }
    if (!policy_valid(&policy))
        return RG_EINVAL;
    memset(&j, 0, sizeof j);
    j.p = &policy;
    int rc = plan_tiers(&j, s);
    if (rc != RG_OK)
        return rc;

    uint32_t reasons = 0;
    if (charge_tiers(&j, 1, &out->retry_after_ms))
        reasons |= RG_REASON_RATE_LIMITED;
    if (s->honeypot && s->honeypot[0])
        reasons |= RG_REASON_HONEYPOT;

    /* A client refused already gets no guess at the answer. */
    if (decide(&policy, reasons) != RG_ACTION_REJECT) {
        rg_verdict v;
        out->min_solve_s = min_solve_for(&j, g);
        rc = rg__challenge_verify_min(g, s->token ? s->token : "", s->answer,
                                      s->binding, out->min_solve_s, &v);
        if (rc == RG_OK) {
            out->verified = 1;
            out->verdict = v;
            reasons |= verdict_reason(v);
            if (v != RG_VERDICT_PASS)
                charge_failure(&j);
        } else {
            /* The replay store failed: the answer may be right, but the
             * token cannot be spent. */
            j.store_failed = true;
        }
    }
    if (policy.bayes &&
        decide(&policy,
               reasons | (j.store_failed ? (uint32_t)RG_REASON_STORE_UNAVAILABLE
                                         : 0)) != RG_ACTION_REJECT)
        content(&j, s, out, &reasons);
    if (j.store_failed)
        reasons |= RG_REASON_STORE_UNAVAILABLE;
    if (!(reasons & RG_REASON_RATE_LIMITED))
        out->retry_after_ms = 0;
    out->reasons = reasons;
    out->action = decide(&policy, reasons);
    return RG_OK;
}
