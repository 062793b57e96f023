/*
 * Hostile input at every entry point of the C API. Everything replyguard
 * reads may come from a stranger, so each exported function is called with
 * what a stranger (or a careless caller) can hand it: NULL for each
 * pointer, sizes of zero and of SIZE_MAX, text that is not UTF-8 (overlong
 * forms, lone surrogates, cut sequences, 0xFF), numbers and enums out of
 * range, structs whose size field lies, output buffers too small (with a
 * canary after them), and handles from an open that failed.
 *
 * Each row of the table below is one function and one kind of bad
 * argument, with the return code the header documents for it. Every row
 * runs on a fresh fixture (a guard, a content filter with four comments
 * learned, and a rate limiter), which is snapshotted before and after the
 * call: a rejected call must leave what the stores hold as it was, byte
 * for byte, and must not spend the fixture's unspent token nor add a key.
 * Rows that reach a store run on memory: and on sqlite:.
 *
 * A test parses lib/replyguard.sym and fails when an exported function
 * has no row, so a new function cannot ship without hostile-input rows.
 */
#include <check.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base64url.h"
#include "export-private.h"
#include "helpers.h"
#include "replyguard.h"
#include "solver.h"
#include "token.h"

Suite *hostile_suite(void);

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The byte written after an output buffer: it must still be there after
 * the call. */
#define CANARY 0xA5

/* ---- Samples of bad input ---- */

/* Text that is not UTF-8. */
static const char *const not_utf8[] = {
    "\xc0\xaf",         /* overlong '/' */
    "\xe0\x80\xaf",     /* overlong '/', three bytes */
    "1\xc1\xb9",        /* overlong '9' after a digit */
    "\xed\xa0\x80",     /* lone high surrogate U+D800 */
    "\xed\xbf\xbf",     /* lone low surrogate U+DFFF */
    "\xe2\x82",         /* a euro sign cut short */
    "\xf0\x9f\x98",     /* an emoji cut short */
    "1\xc3",            /* a sequence cut at the end */
    "\xff",             /* never in UTF-8 */
    "\xfe\xff",         /* a byte order mark of UTF-16 */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    NULL,
};

/* Locale names replyguard does not write in. */
static const char *const bad_locales[] = {
    "",
    "EN",
    "En",
    "en ",
    " en",
    "e",
    "eng",
    "en-US",
    "en_GB",
    "xx",
    "\xff",
    "e\xcc\x81n",
    "en\xed\xa0\x80",
    "enenenenenenenenenen",
    NULL,
};

/* Store URLs that are malformed or name what does not exist. */
static const char *const bad_urls[] = {
    "bogus:",
    "memory",
    "memory:x",
    "memory:?",
    "memory:?capacity",
    "memory:?capacity=",
    "memory:?capacity=0",
    "memory:?capacity=100000001",
    "memory:?capacity=-1",
    "memory:?capacity=+5",
    "memory:?capacity=1e3",
    "memory:?capacity=10 ",
    "memory:?capacity=0x10",
    "memory:?capacity=99999999999999999999999999",
    "memory:?capacity=1&capacity=2",
    "memory:?capacity=1&",
    "memory:?tokens=0",
    "memory:?bogus=1",
    "memory:?CAPACITY=1",
    "memory:\xff",
    "sqlite:",
    "\xff",
    "ftp://example.com/",
    NULL,
};

/* Client addresses that are not IP addresses. */
static const char *const not_addresses[] = {
    "",
    " ",
    "localhost",
    "example.com",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.256",
    "01.2.3.4",
    "1.2.3.4 ",
    " 1.2.3.4",
    "1.2.3.4:80",
    "[::1]",
    "[::1]:80",
    "::1%lo",
    "fe80::1%eth0",
    "2001:db8::1/64",
    "1:2:3:4:5:6:7:8:9",
    "::ffff:1.2.3.256",
    "0x7f.0.0.1",
    "1.2.3.4\xff",
    "\xef\xbc\x91.2.3.4", /* a full-width digit one */
    "0000000000000000000000000000000000000000000000000000000000001.2.3.4",
    NULL,
};

/* Answers that are not a number. */
static const char *const not_numbers[] = {
    "",
    " ",
    "-19",
    "19-",
    "+ 19",
    "1 9",
    "19 19",
    "1.5",
    "1,000",
    "0x13",
    "1e1",
    "nine teen",
    "nineteen!",
    "x19",
    "4294967296",
    "99999999999999999999",
    "\xe2\x88\x92"
    "19",
    NULL,
};

/* ---- The fixture ---- */

enum backend { MEMORY, SQLITE };

static const char *const backend_names[] = {"memory:", "sqlite:"};

typedef struct fx {
    enum backend backend;
    char dir[512];              /* scratch, for files the rows write */
    char guard_url[600];        /* the guard's and the limiter's store */
    char model_url[600];        /* the filter's */
    uint64_t now;               /* the guard's clock, seconds */
    uint64_t now_ns;            /* the limiter's clock */
    rg_guard *g;                /* key 1 signs; min_solve 0 */
    rg_bayes *b;                /* four comments learned */
    rg_limiter *l;              /* burst 2; "client-a" took 1 */
    rg_challenge fresh;         /* left unspent, for the replay check */
    uint32_t fresh_answer;      /* its answer */
    char foreign[RG_TOKEN_MAX]; /* signed by key 2, which g lacks */
    char key1[64], key2[64];    /* the keys as a key file writes them */
    uint8_t key2_bytes[RG_KEY_BYTES];
} fx;

static fx the_fx;

/* The comments the filter learns at the start, as spam and as ham. */
static const char *const seed_spam[] = {
    "Cheap pills online, buy now at http://pills.example.com today",
    "Casino bonus: win money fast at http://casino.example.net",
};
static const char *const seed_ham[] = {
    "Thanks for the article, the part about gardens was lovely",
    "I disagree with the second point but enjoyed reading it",
};

/* A comment never learned, for unlearning. */
#define NEVER_LEARNED "a comment nobody ever marked as anything at all"

/* A comment with more distinct tokens than the memory: model holds. */
#define MODEL_TOKENS 400
static char *many_words(void)
{
    size_t n = 1200, room = n * 8 + 1, len = 0;
    char *s = malloc(room);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, room - len, "w%05zu ", i);
    return s;
}

/* A comment of `n` bytes of 'a' and spaces. */
static char *long_text(size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        s[i] = i % 7 == 6 ? ' ' : 'a';
    s[n] = '\0';
    return s;
}

static rg_comment comment_of(const char *body)
{
    rg_comment c;
    rg_comment_init(&c);
    c.body = body;
    return c;
}

static void key_text(const uint8_t key[RG_KEY_BYTES], char *out, size_t size)
{
    sodium_bin2base64(out, size, key, RG_KEY_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void fx_open(fx *f, enum backend backend)
{
    memset(f, 0, sizeof *f);
    f->backend = backend;
    f->now = 1700000000;
    f->now_ns = f->now * 1000000000ull;
    snprintf(f->dir, sizeof f->dir, "%s", rg_test_tmpdir());
    if (backend == SQLITE) {
        snprintf(f->guard_url, sizeof f->guard_url, "sqlite:%s/replay.sqlite",
                 f->dir);
        snprintf(f->model_url, sizeof f->model_url, "sqlite:%s/model.sqlite",
                 f->dir);
    } else {
        snprintf(f->guard_url, sizeof f->guard_url, "memory:");
        snprintf(f->model_url, sizeof f->model_url, "memory:?tokens=%d",
                 MODEL_TOKENS);
    }

    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &f->now;
    cfg.store = f->guard_url;
    cfg.min_solve_s = 0;
    ck_assert_int_eq(rg_guard_new(&f->g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(f->g, 1, rg_test_key, 1), RG_OK);
    ck_assert_int_eq(
        rg_challenge_issue_in(f->g, "post-1", NULL, RG_STYLE_DIGITS, &f->fresh),
        RG_OK);
    ck_assert(rg_test_solve(f->fresh.question, &f->fresh_answer));

    for (size_t i = 0; i < RG_KEY_BYTES; i++)
        f->key2_bytes[i] = (uint8_t)(0x40 + i);
    key_text(rg_test_key, f->key1, sizeof f->key1);
    key_text(f->key2_bytes, f->key2, sizeof f->key2);
    rg_guard *other = NULL;
    rg_challenge c;
    ck_assert_int_eq(rg_guard_new(&other, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(other, 2, f->key2_bytes, 1), RG_OK);
    ck_assert_int_eq(rg_challenge_issue(other, "post-1", &c), RG_OK);
    memcpy(f->foreign, c.token, sizeof f->foreign);
    rg_guard_free(other);

    /* Every token counts, so that a snapshot sees each one's counts. */
    rg_bayes_config bc;
    rg_bayes_config_init(&bc);
    bc.min_deviation = 0;
    bc.max_clues = 2048;
    ck_assert_int_eq(rg_bayes_open(&f->b, f->model_url, &bc), RG_OK);
    for (int i = 0; i < COUNT(seed_spam); i++) {
        rg_comment cm = comment_of(seed_spam[i]);
        ck_assert_int_eq(rg_bayes_learn(f->b, &cm, RG_CLASS_SPAM), RG_OK);
    }
    for (int i = 0; i < COUNT(seed_ham); i++) {
        rg_comment cm = comment_of(seed_ham[i]);
        ck_assert_int_eq(rg_bayes_learn(f->b, &cm, RG_CLASS_HAM), RG_OK);
    }

    rg_limiter_config lc;
    rg_limiter_config_init(&lc);
    lc.store = f->guard_url;
    lc.capacity = 16;
    lc.burst = 2;
    lc.rate_per_s = 1;
    lc.name = "hostile";
    lc.clock_ns = rg_test_clock;
    lc.clock_arg = &f->now_ns;
    ck_assert_int_eq(rg_limiter_open(&f->l, &lc), RG_OK);
    rg_limit_result r;
    ck_assert_int_eq(rg_limiter_take(f->l, "client-a", 8, 1, &r), RG_OK);
    ck_assert_int_eq(r.allowed, 1);
}

static void fx_close(fx *f)
{
    rg_limiter_free(f->l);
    rg_bayes_close(f->b);
    rg_guard_free(f->g);
    rg_test_rmtree(f->dir);
    memset(f, 0, sizeof *f);
}

/* ---- Snapshots of what the stores hold ---- */

typedef struct snap {
    unsigned char *bytes;
    size_t len, room;
} snap;

static void put(snap *s, const void *p, size_t n)
{
    if (s->len + n > s->room) {
        size_t room = s->room ? s->room : 4096;
        while (room < s->len + n)
            room *= 2;
        s->bytes = realloc(s->bytes, room);
        ck_assert_ptr_nonnull(s->bytes);
        s->room = room;
    }
    memcpy(s->bytes + s->len, p, n);
    s->len += n;
}

static void put_u64(snap *s, uint64_t v)
{
    put(s, &v, sizeof v);
}

static int snap_totals(void *arg, const rg__totals *t, uint64_t tokens)
{
    put(arg, t, sizeof *t);
    put_u64(arg, tokens);
    return RG_OK;
}

static int snap_token(void *arg, const char *token, size_t len, rg__counts c)
{
    put_u64(arg, len);
    put(arg, token, len);
    put(arg, &c, sizeof c);
    return RG_OK;
}

static int snap_nonce(void *arg, const uint8_t nonce[RG__NONCE_BYTES],
                      uint64_t expires_at)
{
    put(arg, nonce, RG__NONCE_BYTES);
    put_u64(arg, expires_at);
    return RG_OK;
}

/* What the filter says about a comment, with every token's counts. */
static void snap_classify(fx *f, snap *s, const char *body)
{
    rg_comment c = comment_of(body);
    rg_bayes_result r;
    rg_clue *clues = calloc(2048, sizeof *clues);
    ck_assert_ptr_nonnull(clues);
    ck_assert_int_eq(rg_bayes_classify(f->b, &c, &r, clues, 2048), RG_OK);
    put(s, &r.spamicity, sizeof r.spamicity);
    put_u64(s, r.nclues);
    for (size_t i = 0; i < r.nclues; i++) {
        put(s, clues[i].token, strnlen(clues[i].token, RG_CLUE_TOKEN_MAX));
        put(s, &clues[i].spam_count, sizeof clues[i].spam_count);
        put(s, &clues[i].ham_count, sizeof clues[i].ham_count);
    }
    free(clues);
}

/* What the limiter says about a key, without taking. */
static void snap_look(fx *f, snap *s, const void *key, size_t len)
{
    rg_limit_result r;
    ck_assert_int_eq(rg_limiter_take(f->l, key, len, 0, &r), RG_OK);
    /* Member by member: the padding after `remaining` is never set, and
     * comparing it would compare uninitialised bytes. */
    put(s, &r.allowed, sizeof r.allowed);
    put(s, &r.limit, sizeof r.limit);
    put(s, &r.remaining, sizeof r.remaining);
    put_u64(s, r.retry_after_ms);
    put_u64(s, r.reset_after_ms);
}

static void snap_take(fx *f, snap *s)
{
    memset(s, 0, sizeof *s);

    rg_bayes_stats st;
    ck_assert_int_eq(rg_bayes_stats_get(f->b, &st), RG_OK);
    put(s, &st, sizeof st);
    char *many = many_words();
    const char *probes[] = {seed_spam[0], seed_spam[1],  seed_ham[0],
                            seed_ham[1],  NEVER_LEARNED, many};
    for (int i = 0; i < COUNT(probes); i++)
        snap_classify(f, s, probes[i]);
    free(many);

    snap_look(f, s, "client-a", 8);
    snap_look(f, s, "client-b", 8);
    snap_look(f, s, "", 0);
    snap_look(f, s, "k\0ey", 4);

    if (f->backend == SQLITE) {
        /* The files, through handles of their own, byte for byte. */
        rg_store *st_model = NULL, *st_guard = NULL;
        ck_assert_int_eq(rg_store_open(&st_model, f->model_url), RG_OK);
        rg__model_visitor mv = {snap_totals, snap_token, s};
        ck_assert_int_eq(rg__store_export_model(st_model, &mv), RG_OK);
        rg_store_close(st_model);

        ck_assert_int_eq(rg_store_open(&st_guard, f->guard_url), RG_OK);
        rg__nonce_visitor nv = {snap_nonce, s};
        ck_assert_int_eq(rg__store_export_nonces(st_guard, f->now, &nv), RG_OK);
        rg__store_health h;
        ck_assert_int_eq(rg__store_check(st_guard, f->now, &h), RG_OK);
        put(s, &h.nonces, sizeof h.nonces);
        put(s, &h.limit_keys, sizeof h.limit_keys);
        rg_store_close(st_guard);
    }
}

/*
 * What no snapshot can see without changing it, checked once after the
 * row: key 1 still signs and verifies, key 2 was not added, and the fresh
 * token was not spent.
 */
static void fx_check_keys_and_replay(fx *f, const char *row)
{
    rg_challenge c;
    rg__token_fields tf;
    uint8_t tag1[RG__TAG_BYTES], tag2[RG__TAG_BYTES];
    rg_verdict v;

    ck_assert_int_eq(rg_challenge_issue(f->g, "post-1", &c), RG_OK);
    ck_assert(rg__token_decode(c.token, &tf, tag1, tag2));
    ck_assert_msg(tf.key_id == 1, "%s: key %u signs, not key 1", row,
                  (unsigned)tf.key_id);
    ck_assert_int_eq(rg_challenge_verify(f->g, f->foreign, "0", "post-1", &v),
                     RG_OK);
    ck_assert_msg(v == RG_VERDICT_FORGED, "%s: key 2 verifies (%s)", row,
                  rg_verdict_name(v));

    char answer[16];
    snprintf(answer, sizeof answer, "%u", (unsigned)f->fresh_answer);
    ck_assert_int_eq(
        rg_challenge_verify(f->g, f->fresh.token, answer, "post-1", &v), RG_OK);
    ck_assert_msg(v == RG_VERDICT_PASS, "%s: the fresh token is %s", row,
                  rg_verdict_name(v));
}

/* ---- The rows' calls ----
 *
 * Each runs one call (once, or once per sample in `arg`), checks the
 * out-parameters the header documents for the result, and returns the
 * call's return code for the row to compare with the documented one.
 */
#define CALL(name) static int name(fx *f, const char *arg)

/* ---- Library facts and names ---- */

CALL(init_again)
{
    ck_assert_int_eq(rg_init(), RG_OK);
    return rg_init();
}

CALL(version_text)
{
    ck_assert_str_eq(rg_version(), RG_VERSION_STRING);
    return RG_OK;
}

CALL(key_bytes_value)
{
    ck_assert_uint_eq(rg_key_bytes(), RG_KEY_BYTES);
    return RG_OK;
}

CALL(token_max_value)
{
    ck_assert_uint_eq(rg_token_max(), RG_TOKEN_MAX);
    return RG_OK;
}

CALL(question_max_value)
{
    ck_assert_uint_eq(rg_question_max(), RG_QUESTION_MAX);
    return RG_OK;
}

static const int unknown_errors[] = {1, 2, -17, -100, INT_MIN, INT_MAX};

CALL(strerror_unknown)
{
    for (int i = 0; i < COUNT(unknown_errors); i++)
        ck_assert_str_eq(rg_strerror(unknown_errors[i]), "unknown error");
    return RG_OK;
}

CALL(err_name_unknown)
{
    for (int i = 0; i < COUNT(unknown_errors); i++)
        ck_assert_str_eq(rg_err_name(unknown_errors[i]), "RG_EUNKNOWN");
    return RG_OK;
}

static const int bad_enums[] = {-1, 3, 7, 11, 100, INT_MIN, INT_MAX};

CALL(verdict_name_unknown)
{
    for (int i = 0; i < COUNT(bad_enums); i++)
        if (bad_enums[i] > (int)RG_VERDICT_MALFORMED || bad_enums[i] < 0)
            ck_assert_str_eq(rg_verdict_name((rg_verdict)bad_enums[i]),
                             "unknown");
    return RG_OK;
}

CALL(bayes_verdict_name_unknown)
{
    for (int i = 0; i < COUNT(bad_enums); i++)
        ck_assert_str_eq(rg_bayes_verdict_name((rg_bayes_verdict)bad_enums[i]),
                         "unknown");
    return RG_OK;
}

CALL(action_name_unknown)
{
    for (int i = 0; i < COUNT(bad_enums); i++)
        ck_assert_str_eq(rg_action_name((rg_action)bad_enums[i]), "unknown");
    return RG_OK;
}

CALL(reason_name_unknown)
{
    static const uint32_t bad[] = {0,        3,           1u << 11,
                                   1u << 31, 0xffffffffu, 0x7ffu};
    for (int i = 0; i < COUNT(bad); i++)
        ck_assert_str_eq(rg_reason_name(bad[i]), "unknown");
    return RG_OK;
}

/* ---- *_init(NULL) and *_free(NULL) ---- */

CALL(config_init_null)
{
    rg_config_init(NULL);
    return RG_OK;
}

CALL(comment_init_null)
{
    rg_comment_init(NULL);
    return RG_OK;
}

CALL(bayes_config_init_null)
{
    rg_bayes_config_init(NULL);
    return RG_OK;
}

CALL(limiter_config_init_null)
{
    rg_limiter_config_init(NULL);
    return RG_OK;
}

CALL(form_config_init_null)
{
    rg_form_config_init(NULL);
    return RG_OK;
}

CALL(submission_init_null)
{
    rg_submission_init(NULL);
    return RG_OK;
}

CALL(policy_init_null)
{
    rg_policy_init(NULL);
    return RG_OK;
}

CALL(guard_free_null)
{
    rg_guard_free(NULL);
    return RG_OK;
}

CALL(store_close_null)
{
    rg_store_close(NULL);
    return RG_OK;
}

CALL(bayes_close_null)
{
    rg_bayes_close(NULL);
    return RG_OK;
}

CALL(limiter_free_null)
{
    rg_limiter_free(NULL);
    return RG_OK;
}

/* ---- rg_guard_new ---- */

/* A guard config that works, with the test clock. */
static rg_config good_config(fx *f)
{
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &f->now;
    return cfg;
}

/* rg_guard_new() on cfg: on failure *out must be NULL. */
static int guard_new_with(const rg_config *cfg)
{
    rg_guard *g = (rg_guard *)&g; /* anything but NULL */
    int rc = rg_guard_new(&g, cfg);
    if (rc != RG_OK)
        ck_assert_ptr_null(g);
    rg_guard_free(g);
    return rc;
}

CALL(guard_new_null_out)
{
    rg_config cfg = good_config(f);
    return rg_guard_new(NULL, &cfg);
}

CALL(guard_new_null_config)
{
    return guard_new_with(NULL);
}

CALL(guard_new_size_small)
{
    static const size_t sizes[] = {0, 1, sizeof(size_t),
                                   offsetof(rg_config, clock_arg)};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(sizes); i++) {
        rg_config cfg = good_config(f);
        cfg.size = sizes[i];
        rc = guard_new_with(&cfg);
        ck_assert_msg(rc == RG_EINVAL, "size %zu: %s", sizes[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(guard_new_size_huge)
{
    rg_config cfg = good_config(f);
    cfg.size = SIZE_MAX;
    return guard_new_with(&cfg);
}

CALL(guard_new_ttl_zero)
{
    rg_config cfg = good_config(f);
    cfg.ttl_s = 0;
    cfg.min_solve_s = 0;
    return guard_new_with(&cfg);
}

CALL(guard_new_min_solve_ttl)
{
    rg_config cfg = good_config(f);
    cfg.ttl_s = 10;
    cfg.min_solve_s = 10;
    int rc = guard_new_with(&cfg);
    ck_assert_int_eq(rc, RG_EINVAL);
    cfg.min_solve_s = UINT32_MAX;
    return guard_new_with(&cfg);
}

CALL(guard_new_style)
{
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_enums); i++) {
        rg_config cfg = good_config(f);
        cfg.style = (rg_style)bad_enums[i];
        rc = guard_new_with(&cfg);
        ck_assert_msg(rc == RG_EINVAL, "style %d: %s", bad_enums[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(guard_new_locale)
{
    rg_config cfg = good_config(f);
    cfg.locale = arg;
    return guard_new_with(&cfg);
}

CALL(guard_new_ranges)
{
    static const struct {
        uint32_t min, max, product;
        unsigned operators, forms;
    } bad[] = {
        {0, 1000, 100, RG_OP_ALL, RG_FORM_TWO_TERMS},
        {0, UINT32_MAX, 100, RG_OP_ALL, RG_FORM_TWO_TERMS},
        {21, 20, 100, RG_OP_ALL, RG_FORM_TWO_TERMS},
        {UINT32_MAX, UINT32_MAX, 100, RG_OP_ALL, RG_FORM_TWO_TERMS},
        {0, 20, 1000, RG_OP_ALL, RG_FORM_TWO_TERMS},
        {0, 20, 100, 0, RG_FORM_TWO_TERMS},
        {0, 20, 100, 8, RG_FORM_TWO_TERMS},
        {0, 20, 100, UINT_MAX, RG_FORM_TWO_TERMS},
        {0, 20, 100, RG_OP_ALL, 0},
        {0, 20, 100, RG_OP_ALL, 8},
        {0, 20, 100, RG_OP_ALL, UINT_MAX},
        {500, 999, 100, RG_OP_ADD, RG_FORM_TWO_TERMS},
        {11, 20, 100, RG_OP_MUL, RG_FORM_TWO_TERMS},
    };
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad); i++) {
        rg_config cfg = good_config(f);
        cfg.operand_min = bad[i].min;
        cfg.operand_max = bad[i].max;
        cfg.product_max = bad[i].product;
        cfg.operators = bad[i].operators;
        cfg.forms = bad[i].forms;
        rc = guard_new_with(&cfg);
        ck_assert_msg(rc == RG_ERANGE, "ranges %d: %s", i, rg_err_name(rc));
    }
    return rc;
}

CALL(guard_new_store)
{
    rg_config cfg = good_config(f);
    cfg.store = arg;
    return guard_new_with(&cfg);
}

CALL(guard_new_store_empty)
{
    rg_config cfg = good_config(f);
    cfg.store = "";
    return guard_new_with(&cfg);
}

CALL(guard_new_store_missing_dir)
{
    char url[700];
    rg_config cfg = good_config(f);
    snprintf(url, sizeof url, "sqlite:%s/no/such/dir/replay.sqlite", f->dir);
    cfg.store = url;
    return guard_new_with(&cfg);
}

/* ---- rg_guard_add_key ---- */

CALL(add_key_null_guard)
{
    return rg_guard_add_key(NULL, 9, rg_test_key, 1);
}

CALL(add_key_null_key)
{
    return rg_guard_add_key(f->g, 9, NULL, 1);
}

CALL(add_key_duplicate)
{
    /* Key 1 again, with other bytes: refused, and key 1 stays as it was
     * (the fresh token still verifies). */
    return rg_guard_add_key(f->g, 1, f->key2_bytes, 1);
}

CALL(add_key_after_failed_open)
{
    rg_guard *g = NULL;
    rg_config cfg = good_config(f);
    cfg.locale = "xx";
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_ELOCALE);
    return rg_guard_add_key(g, 9, rg_test_key, 1);
}

/* ---- rg_guard_load_keys ---- */

static int load_text(fx *f, const char *text, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/key", f->dir);
    rg_test_write_file(path, text, len);
    return rg_guard_load_keys(f->g, path);
}

/* Loads a key file made from a template: %1 stands for key 1's text and
 * %2 for key 2's. */
CALL(load_keys_text)
{
    char text[4096];
    size_t n = 0;
    for (const char *p = arg; *p && n + 64 < sizeof text; p++) {
        if (p[0] == '%' && (p[1] == '1' || p[1] == '2')) {
            const char *k = p[1] == '1' ? f->key1 : f->key2;
            n += (size_t)snprintf(text + n, sizeof text - n, "%s", k);
            p++;
        } else {
            text[n++] = *p;
        }
    }
    return load_text(f, text, n);
}

CALL(load_keys_null_guard)
{
    char path[600];
    snprintf(path, sizeof path, "%s/key", f->dir);
    return rg_guard_load_keys(NULL, path);
}

CALL(load_keys_null_path)
{
    return rg_guard_load_keys(f->g, NULL);
}

CALL(load_keys_missing)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", f->dir, arg);
    return rg_guard_load_keys(f->g, path);
}

CALL(load_keys_directory)
{
    return rg_guard_load_keys(f->g, f->dir);
}

CALL(load_keys_nul)
{
    char text[256];
    int n = snprintf(text, sizeof text, "2 sign %s\n", f->key2);
    text[2] = '\0'; /* "2\0sign ..." */
    return load_text(f, text, (size_t)n);
}

CALL(load_keys_garbage)
{
    unsigned char bytes[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof bytes; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = (unsigned char)x;
    }
    return load_text(f, (const char *)bytes, sizeof bytes);
}

CALL(load_keys_too_big)
{
    /* A valid file, padded with comments past 64 KiB. */
    size_t size = 64 * 1024 + 1;
    char *text = malloc(size);
    ck_assert_ptr_nonnull(text);
    int n = snprintf(text, size, "2 sign %s\n", f->key2);
    memset(text + n, '#', size - (size_t)n);
    text[size - 1] = '\n';
    int rc = load_text(f, text, size);
    free(text);
    return rc;
}

CALL(load_keys_too_many)
{
    /* 65 keys, one signing. */
    size_t room = 65 * 80, n = 0;
    char *text = malloc(room);
    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(text + n, room - n, "%d %s %s\n", 100 + i,
                              i == 0 ? "sign" : "verify", f->key2);
    int rc = load_text(f, text, n);
    free(text);
    return rc;
}

/* ---- rg_keyfile_generate ---- */

CALL(keyfile_null_out)
{
    return rg_keyfile_generate(7, NULL, 4096);
}

CALL(keyfile_small)
{
    /* Every size below 160 is refused without a byte written. */
    char buf[161];
    int rc = RG_OK;
    for (size_t size = 0; size < 160; size++) {
        memset(buf, CANARY, sizeof buf);
        rc = rg_keyfile_generate(UINT32_MAX, buf, size);
        ck_assert_msg(rc == RG_ETOOBIG, "size %zu: %s", size, rg_err_name(rc));
        for (size_t i = 0; i < sizeof buf; i++)
            ck_assert_uint_eq((unsigned char)buf[i], CANARY);
    }
    return rc;
}

CALL(keyfile_exact)
{
    /* 160 bytes always fit, with the largest id; nothing is written past
     * them. */
    char buf[161];
    memset(buf, CANARY, sizeof buf);
    int rc = rg_keyfile_generate(UINT32_MAX, buf, 160);
    ck_assert_uint_eq((unsigned char)buf[160], CANARY);
    ck_assert_ptr_nonnull(memchr(buf, '\0', 160));
    ck_assert_ptr_nonnull(strstr(buf, "4294967295 sign "));
    return rc;
}

/* ---- rg_challenge_issue, rg_challenge_issue_in ---- */

CALL(issue_null_guard)
{
    rg_challenge c;
    return rg_challenge_issue(NULL, "post-1", &c);
}

CALL(issue_null_out)
{
    return rg_challenge_issue(f->g, "post-1", NULL);
}

CALL(issue_no_key)
{
    rg_guard *g = NULL;
    rg_challenge c;
    rg_config cfg = good_config(f);
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    int rc = rg_challenge_issue(g, "post-1", &c);
    rg_guard_free(g);
    return rc;
}

CALL(issue_after_failed_open)
{
    rg_guard *g = NULL;
    rg_challenge c;
    rg_config cfg = good_config(f);
    cfg.ttl_s = 0;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EINVAL);
    return rg_challenge_issue(g, "post-1", &c);
}

/* A binding is any bytes: issuing takes it, and verifying with the same
 * bytes passes. */
static int issue_and_pass(fx *f, const char *binding)
{
    rg_challenge c;
    uint32_t answer;
    rg_verdict v;
    char text[16];

    int rc = rg_challenge_issue_in(f->g, binding, NULL, RG_STYLE_DIGITS, &c);
    if (rc != RG_OK)
        return rc;
    ck_assert(rg_test_solve(c.question, &answer));
    snprintf(text, sizeof text, "%u", (unsigned)answer);
    ck_assert_int_eq(rg_challenge_verify(f->g, c.token, text, binding, &v),
                     RG_OK);
    ck_assert_int_eq(v, RG_VERDICT_PASS);
    return RG_OK;
}

CALL(issue_binding_not_utf8)
{
    return issue_and_pass(f, arg);
}

CALL(issue_binding_huge)
{
    char *b = long_text(1 << 20);
    int rc = issue_and_pass(f, b);
    free(b);
    return rc;
}

CALL(issue_in_locale)
{
    rg_challenge c;
    return rg_challenge_issue_in(f->g, "post-1", arg, RG_STYLE_WORDS, &c);
}

CALL(issue_in_style)
{
    rg_challenge c;
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_enums); i++) {
        rc = rg_challenge_issue_in(f->g, "post-1", "en", (rg_style)bad_enums[i],
                                   &c);
        ck_assert_msg(rc == RG_EINVAL, "style %d: %s", bad_enums[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(issue_in_null_out)
{
    return rg_challenge_issue_in(f->g, "post-1", "en", RG_STYLE_WORDS, NULL);
}

CALL(issue_in_null_guard)
{
    rg_challenge c;
    return rg_challenge_issue_in(NULL, "post-1", "en", RG_STYLE_WORDS, &c);
}

CALL(issue_in_no_key)
{
    rg_guard *g = NULL;
    rg_challenge c;
    rg_config cfg = good_config(f);
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    int rc = rg_challenge_issue_in(g, "post-1", "de", RG_STYLE_MIXED, &c);
    rg_guard_free(g);
    return rc;
}

/* ---- rg_challenge_verify ---- */

/* Verifies a token that is not one; it must be MALFORMED and spend
 * nothing. */
static int verify_expect(fx *f, const char *token, const char *binding,
                         rg_verdict want)
{
    rg_verdict v = RG_VERDICT_PASS;
    int rc = rg_challenge_verify(f->g, token, "19", binding, &v);
    if (rc == RG_OK)
        ck_assert_msg(v == want, "verdict %s, not %s", rg_verdict_name(v),
                      rg_verdict_name(want));
    return rc;
}

CALL(verify_null_guard)
{
    rg_verdict v = RG_VERDICT_PASS;
    int rc = rg_challenge_verify(NULL, f->fresh.token, "1", "post-1", &v);
    ck_assert_int_eq(v, RG_VERDICT_MALFORMED);
    return rc;
}

CALL(verify_null_token)
{
    rg_verdict v = RG_VERDICT_PASS;
    int rc = rg_challenge_verify(f->g, NULL, "1", "post-1", &v);
    ck_assert_int_eq(v, RG_VERDICT_MALFORMED);
    return rc;
}

CALL(verify_null_out)
{
    return rg_challenge_verify(f->g, f->fresh.token, "1", "post-1", NULL);
}

CALL(verify_after_failed_open)
{
    rg_guard *g = NULL;
    rg_verdict v = RG_VERDICT_PASS;
    rg_config cfg = good_config(f);
    cfg.store = "bogus:";
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EURL);
    int rc = rg_challenge_verify(g, f->fresh.token, "1", "post-1", &v);
    ck_assert_int_eq(v, RG_VERDICT_MALFORMED);
    return rc;
}

CALL(verify_token_sample)
{
    return verify_expect(f, arg, "post-1", RG_VERDICT_MALFORMED);
}

/* The fresh token, changed by `edit`, re-encoded. */
static void edited_token(fx *f, void (*edit)(uint8_t *raw), char *out)
{
    uint8_t raw[RG__TOKEN_BYTES];
    ck_assert(rg__b64url_decode(f->fresh.token, strlen(f->fresh.token), raw,
                                sizeof raw));
    edit(raw);
    rg__b64url_encode(raw, sizeof raw, out);
}

static void edit_locale(uint8_t *raw)
{
    raw[1 + 4 + 8 + 8 + RG__NONCE_BYTES] = 0xff;
}

static void edit_version(uint8_t *raw)
{
    raw[0] = 2;
}

static void edit_tag(uint8_t *raw)
{
    raw[RG__TOKEN_BYTES - RG__TAG_BYTES - 1] ^= 1;
}

static void edit_expiry(uint8_t *raw)
{
    memset(raw + 1 + 4 + 8, 0xff, 8);
}

static void edit_key_id(uint8_t *raw)
{
    memset(raw + 1, 0xff, 4);
}

CALL(verify_token_edited)
{
    /* Fields a decoder could trip on: a locale or version out of range is
     * not a token; any other change breaks its tag. */
    char token[RG_TOKEN_MAX];
    int rc;

    edited_token(f, edit_locale, token);
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED)), RG_OK);
    edited_token(f, edit_version, token);
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED)), RG_OK);
    edited_token(f, edit_tag, token);
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_FORGED)), RG_OK);
    edited_token(f, edit_expiry, token);
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_FORGED)), RG_OK);
    edited_token(f, edit_key_id, token);
    return verify_expect(f, token, "post-1", RG_VERDICT_FORGED);
}

CALL(verify_token_cut_or_padded)
{
    /* One character less, one more, and the valid text with junk. */
    char token[RG_TOKEN_MAX + 8];
    size_t len = strlen(f->fresh.token);
    int rc;

    memcpy(token, f->fresh.token, len + 1);
    token[len - 1] = '\0';
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED)), RG_OK);
    memcpy(token, f->fresh.token, len);
    memcpy(token + len, "A", 2);
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED)), RG_OK);
    memcpy(token + len, "==", 3);
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED)), RG_OK);
    memcpy(token, f->fresh.token, len + 1);
    token[len / 2] = '+'; /* base64, not base64url */
    ck_assert_int_eq(
        (rc = verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED)), RG_OK);
    memcpy(token, f->fresh.token, len + 1);
    token[len / 2] = '\xff';
    return verify_expect(f, token, "post-1", RG_VERDICT_MALFORMED);
}

CALL(verify_token_huge)
{
    char *t = long_text(1 << 20);
    memset(t, 'A', 1 << 20);
    int rc = verify_expect(f, t, "post-1", RG_VERDICT_MALFORMED);
    free(t);
    return rc;
}

CALL(verify_foreign_key)
{
    return verify_expect(f, f->foreign, "post-1", RG_VERDICT_FORGED);
}

CALL(verify_binding_sample)
{
    /* The fresh token with another binding: forged, and not spent. */
    return verify_expect(f, f->fresh.token, arg, RG_VERDICT_FORGED);
}

/* A new token, answered with `answer`: every authentic token gets a
 * verdict whatever the answer, and is spent. */
CALL(verify_answer_sample)
{
    rg_challenge c;
    rg_verdict v = RG_VERDICT_PASS;
    ck_assert_int_eq(rg_challenge_issue(f->g, "post-2", &c), RG_OK);
    int rc = rg_challenge_verify(f->g, c.token, arg, "post-2", &v);
    ck_assert_int_eq(v, RG_VERDICT_WRONG);
    return rc;
}

CALL(verify_answer_huge)
{
    char *a = long_text(1 << 20);
    int rc = verify_answer_sample(f, a);
    free(a);
    return rc;
}

CALL(verify_answer_null)
{
    return verify_answer_sample(f, NULL);
}

CALL(verify_binding_null)
{
    /* NULL counts as "": a token bound to "" passes with it. */
    return issue_and_pass(f, NULL);
}

/* ---- rg_answer_parse ---- */

#define UNTOUCHED 424242u

CALL(answer_null_answer)
{
    uint32_t v = UNTOUCHED;
    int rc = rg_answer_parse(NULL, "en", &v);
    ck_assert_uint_eq(v, UNTOUCHED);
    return rc;
}

CALL(answer_null_value)
{
    return rg_answer_parse("19", "en", NULL);
}

CALL(answer_null_locale)
{
    uint32_t v = UNTOUCHED;
    int rc = rg_answer_parse("nineteen", NULL, &v);
    ck_assert_uint_eq(v, 19);
    return rc;
}

CALL(answer_locale)
{
    uint32_t v = UNTOUCHED;
    int rc = rg_answer_parse("19", arg, &v);
    ck_assert_uint_eq(v, UNTOUCHED);
    return rc;
}

CALL(answer_sample)
{
    uint32_t v = UNTOUCHED;
    int rc = rg_answer_parse(arg, "en", &v);
    ck_assert_uint_eq(v, UNTOUCHED);
    return rc;
}

CALL(answer_longest)
{
    /* RG_ANSWER_MAX bytes are read; one more and it is too long. */
    char text[RG_ANSWER_MAX + 2];
    uint32_t v = UNTOUCHED;
    memset(text, ' ', RG_ANSWER_MAX);
    memcpy(text + RG_ANSWER_MAX - 2, "19", 2);
    text[RG_ANSWER_MAX] = '\0';
    ck_assert_int_eq(rg_answer_parse(text, "en", &v), RG_OK);
    ck_assert_uint_eq(v, 19);
    v = UNTOUCHED;
    memset(text, '0', RG_ANSWER_MAX + 1);
    memcpy(text + RG_ANSWER_MAX - 1, "19", 2);
    text[RG_ANSWER_MAX + 1] = '\0';
    int rc = rg_answer_parse(text, "en", &v);
    ck_assert_uint_eq(v, UNTOUCHED);
    return rc;
}

CALL(answer_huge)
{
    char *a = long_text(1 << 20);
    memset(a, '1', 1 << 20);
    int rc = answer_sample(f, a);
    free(a);
    return rc;
}

/* ---- rg_locale_check ---- */

CALL(locale_check_sample)
{
    return rg_locale_check(arg);
}

CALL(locale_check_null)
{
    return rg_locale_check(NULL);
}

CALL(locale_check_huge)
{
    char *s = long_text(1 << 20);
    memcpy(s, "en", 2);
    int rc = rg_locale_check(s);
    free(s);
    return rc;
}

/* ---- rg_number_words ---- */

CALL(number_words_null_out)
{
    return rg_number_words(19, "en", NULL, 64);
}

CALL(number_words_zero_size)
{
    char buf[4] = {(char)CANARY, (char)CANARY, (char)CANARY, (char)CANARY};
    int rc = rg_number_words(19, "en", buf, 0);
    ck_assert_uint_eq((unsigned char)buf[0], CANARY);
    return rc;
}

CALL(number_words_range)
{
    static const uint32_t bad[] = {1000, 1001, 65536, UINT32_MAX};
    char buf[64];
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad); i++) {
        memset(buf, CANARY, sizeof buf);
        rc = rg_number_words(bad[i], "en", buf, sizeof buf);
        ck_assert_msg(rc == RG_ERANGE, "%u: %s", (unsigned)bad[i],
                      rg_err_name(rc));
        ck_assert_str_eq(buf, "");
    }
    return rc;
}

CALL(number_words_locale)
{
    char buf[64];
    memset(buf, CANARY, sizeof buf);
    int rc = rg_number_words(19, arg, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    return rc;
}

CALL(number_words_null_locale)
{
    char buf[64];
    int rc = rg_number_words(21, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "twenty-one");
    return rc;
}

CALL(number_words_small)
{
    /* The longest spelling in each locale, into every buffer too small
     * for it: "" each time, and nothing past the buffer. */
    static const char *const locales[] = {"en", "ru", "de", "fr", "es"};
    char whole[256], buf[257];
    int rc = RG_OK;
    for (int l = 0; l < COUNT(locales); l++) {
        size_t longest = 0;
        uint32_t which = 0;
        for (uint32_t n = 0; n <= 999; n++) {
            ck_assert_int_eq(
                rg_number_words(n, locales[l], whole, sizeof whole), RG_OK);
            if (strlen(whole) > longest) {
                longest = strlen(whole);
                which = n;
            }
        }
        for (size_t size = 1; size <= longest; size++) {
            memset(buf, CANARY, sizeof buf);
            rc = rg_number_words(which, locales[l], buf, size);
            ck_assert_msg(rc == RG_ETOOBIG, "%s %u in %zu: %s", locales[l],
                          (unsigned)which, size, rg_err_name(rc));
            ck_assert_str_eq(buf, "");
            for (size_t i = size; i < sizeof buf; i++)
                ck_assert_uint_eq((unsigned char)buf[i], CANARY);
        }
        ck_assert_int_eq(rg_number_words(which, locales[l], buf, longest + 1),
                         RG_OK);
    }
    return rc;
}

/* ---- rg_store_open ---- */

static int store_open_url(const char *url)
{
    rg_store *s = (rg_store *)&s; /* anything but NULL */
    int rc = rg_store_open(&s, url);
    if (rc != RG_OK)
        ck_assert_ptr_null(s);
    rg_store_close(s);
    return rc;
}

CALL(store_null_out)
{
    return rg_store_open(NULL, "memory:");
}

CALL(store_null_url)
{
    return store_open_url(NULL);
}

CALL(store_empty_url)
{
    return store_open_url("");
}

CALL(store_url_sample)
{
    return store_open_url(arg);
}

/* A sqlite: URL for a path under the scratch directory. */
static void sqlite_url(fx *f, const char *name, char *url, size_t size)
{
    snprintf(url, size, "sqlite:%s/%s", f->dir, name);
}

CALL(store_sqlite_missing_dir)
{
    char url[700];
    sqlite_url(f, "no/such/dir/x.sqlite", url, sizeof url);
    return store_open_url(url);
}

CALL(store_sqlite_directory)
{
    char url[700];
    snprintf(url, sizeof url, "sqlite:%s", f->dir);
    return store_open_url(url);
}

/* A file of bytes that is no SQLite database. */
static void garbage_file(fx *f, const char *name, size_t size)
{
    char path[600];
    unsigned char *bytes = malloc(size);
    ck_assert_ptr_nonnull(bytes);
    for (size_t i = 0; i < size; i++)
        bytes[i] = (unsigned char)(i * 131 + 7);
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    rg_test_write_file(path, bytes, size);
    free(bytes);
}

CALL(store_sqlite_garbage)
{
    char url[700];
    garbage_file(f, "garbage.sqlite", 8192);
    sqlite_url(f, "garbage.sqlite", url, sizeof url);
    return store_open_url(url);
}

#if RG_HAVE_SQLITE
CALL(store_sqlite_foreign_db)
{
    /* A SQLite database of some other program. */
    char path[600], url[700];
    snprintf(path, sizeof path, "%s/other.sqlite", f->dir);
    rg_test_sql_exec(path, "CREATE TABLE nonces (x TEXT);"
                           "CREATE TABLE meta (k TEXT, v TEXT);"
                           "INSERT INTO meta VALUES ('schema', 'nope');");
    sqlite_url(f, "other.sqlite", url, sizeof url);
    size_t len_before, len_after;
    unsigned char *before = rg_test_read_file(path, &len_before);
    int rc = store_open_url(url);
    unsigned char *after = rg_test_read_file(path, &len_after);
    ck_assert(len_before == len_after &&
              memcmp(before, after, len_before) == 0);
    free(before);
    free(after);
    return rc;
}
#endif

CALL(store_redis_unreachable)
{
    /* Nothing listens on port 1, nor on a socket that does not exist. */
    int rc = store_open_url("redis://127.0.0.1:1/0?timeout_ms=200");
    ck_assert_int_eq(store_open_url("unix:///nonexistent/redis.sock"), rc);
    return rc;
}

CALL(store_redis_url_sample)
{
    return store_open_url(arg);
}

/* ---- rg_bayes_open ---- */

static int bayes_open_with(const char *url, const rg_bayes_config *cfg)
{
    rg_bayes *b = (rg_bayes *)&b; /* anything but NULL */
    int rc = rg_bayes_open(&b, url, cfg);
    if (rc != RG_OK)
        ck_assert_ptr_null(b);
    rg_bayes_close(b);
    return rc;
}

CALL(bayes_open_null_out)
{
    return rg_bayes_open(NULL, "memory:", NULL);
}

CALL(bayes_open_null_url)
{
    return bayes_open_with(NULL, NULL);
}

CALL(bayes_open_url_sample)
{
    return bayes_open_with(arg, NULL);
}

CALL(bayes_open_garbage)
{
    char url[700];
    garbage_file(f, "garbage.sqlite", 8192);
    sqlite_url(f, "garbage.sqlite", url, sizeof url);
    return bayes_open_with(url, NULL);
}

CALL(bayes_open_size)
{
    static const size_t sizes[] = {0, 1, sizeof(size_t),
                                   sizeof(rg_bayes_config) - 1};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(sizes); i++) {
        rg_bayes_config cfg;
        rg_bayes_config_init(&cfg);
        cfg.size = sizes[i];
        rc = bayes_open_with("memory:", &cfg);
        ck_assert_msg(rc == RG_EINVAL, "size %zu: %s", sizes[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(bayes_open_settings)
{
    enum { HAM, SPAM, STRENGTH, PRIOR, DEVIATION };
    static const struct {
        int field;
        double value;
    } bad[] = {
        {HAM, -0.1},    {HAM, 0.95},    {SPAM, 1.1},       {SPAM, 0.1},
        {STRENGTH, 0},  {STRENGTH, -1}, {STRENGTH, 1001},  {PRIOR, 0},
        {PRIOR, 1},     {PRIOR, -0.5},  {DEVIATION, -0.1}, {DEVIATION, 0.5},
        {DEVIATION, 7},
    };
    static const double weird[] = {NAN, INFINITY, -INFINITY};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad) + 5 * COUNT(weird); i++) {
        rg_bayes_config cfg;
        rg_bayes_config_init(&cfg);
        int field = i < COUNT(bad) ? bad[i].field : (i - COUNT(bad)) % 5;
        double value =
            i < COUNT(bad) ? bad[i].value : weird[(i - COUNT(bad)) / 5];
        double *slot[] = {&cfg.ham_cutoff, &cfg.spam_cutoff, &cfg.strength,
                          &cfg.prior, &cfg.min_deviation};
        *slot[field] = value;
        rc = bayes_open_with("memory:", &cfg);
        ck_assert_msg(rc == RG_EINVAL, "field %d = %g: %s", field, value,
                      rg_err_name(rc));
    }
    static const uint32_t clues[] = {0, 2049, UINT32_MAX};
    for (int i = 0; i < COUNT(clues); i++) {
        rg_bayes_config cfg;
        rg_bayes_config_init(&cfg);
        cfg.max_clues = clues[i];
        ck_assert_int_eq((rc = bayes_open_with("memory:", &cfg)), RG_EINVAL);
    }
    static const uint32_t threads[] = {65, 1000, UINT32_MAX};
    for (int i = 0; i < COUNT(threads); i++) {
        rg_bayes_config cfg;
        rg_bayes_config_init(&cfg);
        cfg.threads = threads[i];
        ck_assert_int_eq((rc = bayes_open_with("memory:", &cfg)), RG_EINVAL);
    }
    return rc;
}

/* ---- rg_bayes_learn, rg_bayes_unlearn, rg_bayes_learn_batch ---- */

CALL(learn_null_filter)
{
    rg_comment c = comment_of("buy pills");
    return rg_bayes_learn(NULL, &c, RG_CLASS_SPAM);
}

CALL(learn_null_comment)
{
    return rg_bayes_learn(f->b, NULL, RG_CLASS_SPAM);
}

CALL(learn_class)
{
    rg_comment c = comment_of(seed_spam[0]);
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_enums); i++) {
        rc = rg_bayes_learn(f->b, &c, (rg_class)bad_enums[i]);
        ck_assert_msg(rc == RG_EINVAL, "class %d: %s", bad_enums[i],
                      rg_err_name(rc));
    }
    rc = rg_bayes_learn(f->b, &c, (rg_class)2);
    return rc;
}

static const size_t bad_comment_sizes[] = {0, 1, sizeof(size_t),
                                           sizeof(rg_comment) - 1};

CALL(learn_size)
{
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_comment_sizes); i++) {
        rg_comment c = comment_of(seed_spam[0]);
        c.size = bad_comment_sizes[i];
        rc = rg_bayes_learn(f->b, &c, RG_CLASS_SPAM);
        ck_assert_msg(rc == RG_EINVAL, "size %zu: %s", bad_comment_sizes[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(learn_full)
{
    char *many = many_words();
    rg_comment c = comment_of(many);
    int rc = rg_bayes_learn(f->b, &c, RG_CLASS_SPAM);
    free(many);
    return rc;
}

CALL(learn_after_failed_open)
{
    rg_bayes *b = NULL;
    rg_comment c = comment_of("buy pills");
    ck_assert_int_eq(rg_bayes_open(&b, "bogus:", NULL), RG_EURL);
    return rg_bayes_learn(b, &c, RG_CLASS_SPAM);
}

/* Text that is not UTF-8 in every field: tolerated, learned, and
 * unlearned exactly. */
CALL(learn_not_utf8)
{
    rg_comment c;
    rg_bayes_stats before, after;
    rg_comment_init(&c);
    c.author = c.email = c.url = c.body = arg;
    ck_assert_int_eq(rg_bayes_stats_get(f->b, &before), RG_OK);
    int rc = rg_bayes_learn(f->b, &c, RG_CLASS_SPAM);
    ck_assert_int_eq(rg_bayes_stats_get(f->b, &after), RG_OK);
    ck_assert_uint_eq(after.spam_comments, before.spam_comments + 1);
    ck_assert_int_eq(rg_bayes_unlearn(f->b, &c, RG_CLASS_SPAM), RG_OK);
    return rc;
}

CALL(learn_huge)
{
    /* A megabyte of one word, learned and unlearned. */
    char *body = long_text(1 << 20);
    rg_comment c = comment_of(body);
    int rc = rg_bayes_learn(f->b, &c, RG_CLASS_HAM);
    ck_assert_int_eq(rg_bayes_unlearn(f->b, &c, RG_CLASS_HAM), RG_OK);
    free(body);
    return rc;
}

CALL(unlearn_never)
{
    rg_comment c = comment_of(NEVER_LEARNED);
    return rg_bayes_unlearn(f->b, &c, RG_CLASS_SPAM);
}

CALL(unlearn_other_class)
{
    rg_comment c = comment_of(seed_spam[0]);
    return rg_bayes_unlearn(f->b, &c, RG_CLASS_HAM);
}

CALL(unlearn_null_filter)
{
    rg_comment c = comment_of(seed_spam[0]);
    return rg_bayes_unlearn(NULL, &c, RG_CLASS_SPAM);
}

CALL(unlearn_null_comment)
{
    return rg_bayes_unlearn(f->b, NULL, RG_CLASS_SPAM);
}

CALL(unlearn_class)
{
    rg_comment c = comment_of(seed_spam[0]);
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_enums); i++) {
        rc = rg_bayes_unlearn(f->b, &c, (rg_class)bad_enums[i]);
        ck_assert_msg(rc == RG_EINVAL, "class %d: %s", bad_enums[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(unlearn_size)
{
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_comment_sizes); i++) {
        rg_comment c = comment_of(seed_spam[0]);
        c.size = bad_comment_sizes[i];
        rc = rg_bayes_unlearn(f->b, &c, RG_CLASS_SPAM);
        ck_assert_int_eq(rc, RG_EINVAL);
    }
    return rc;
}

CALL(batch_null_filter)
{
    rg_comment c[1] = {comment_of("x")};
    rg_class k[1] = {RG_CLASS_SPAM};
    return rg_bayes_learn_batch(NULL, c, k, 1, 0);
}

CALL(batch_null_comments)
{
    rg_class k[2] = {RG_CLASS_SPAM, RG_CLASS_HAM};
    int rc = rg_bayes_learn_batch(f->b, NULL, k, 2, 0);
    ck_assert_int_eq(rc, RG_EINVAL);
    return rg_bayes_learn_batch(f->b, NULL, k, SIZE_MAX, 0);
}

CALL(batch_null_classes)
{
    rg_comment c[2] = {comment_of("a b c"), comment_of("d e f")};
    return rg_bayes_learn_batch(f->b, c, NULL, 2, 0);
}

CALL(batch_bad_class_inside)
{
    /* The first two are good: nothing of the batch may be kept. */
    rg_comment c[3] = {comment_of("pills pills"), comment_of("casino win"),
                       comment_of("lovely gardens")};
    rg_class k[3] = {RG_CLASS_SPAM, RG_CLASS_HAM, (rg_class)7};
    return rg_bayes_learn_batch(f->b, c, k, 3, 0);
}

CALL(batch_bad_size_inside)
{
    rg_comment c[3] = {comment_of("pills pills"), comment_of("casino win"),
                       comment_of("lovely gardens")};
    rg_class k[3] = {RG_CLASS_SPAM, RG_CLASS_HAM, RG_CLASS_HAM};
    c[2].size = 0;
    return rg_bayes_learn_batch(f->b, c, k, 3, 0);
}

CALL(batch_unlearn_one_never)
{
    /* The first was learned, the second never: all or nothing. */
    rg_comment c[2] = {comment_of(seed_spam[0]), comment_of(NEVER_LEARNED)};
    rg_class k[2] = {RG_CLASS_SPAM, RG_CLASS_SPAM};
    int rc = rg_bayes_learn_batch(f->b, c, k, 2, 1);
    ck_assert_int_eq(rc, RG_ENOTLEARNED);
    /* Any non-zero `unlearn` unlearns. */
    return rg_bayes_learn_batch(f->b, c, k, 2, -1);
}

CALL(batch_full)
{
    char *many = many_words();
    rg_comment c[2] = {comment_of("a small one"), comment_of(many)};
    rg_class k[2] = {RG_CLASS_HAM, RG_CLASS_SPAM};
    int rc = rg_bayes_learn_batch(f->b, c, k, 2, 0);
    free(many);
    return rc;
}

CALL(batch_empty)
{
    return rg_bayes_learn_batch(f->b, NULL, NULL, 0, 0);
}

CALL(batch_threads_bad_inside)
{
    /* A batch big enough for threads, with one bad comment at the end. */
    enum { N = 300 };
    rg_comment *c = calloc(N, sizeof *c);
    rg_class *k = calloc(N, sizeof *k);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(k);
    for (int i = 0; i < N; i++) {
        c[i] = comment_of(i % 2 ? "spam spam pills" : "garden notes");
        k[i] = i % 2 ? RG_CLASS_SPAM : RG_CLASS_HAM;
    }
    c[N - 1].size = 1;
    int rc = rg_bayes_learn_batch(f->b, c, k, N, 0);
    free(c);
    free(k);
    return rc;
}

/* ---- rg_bayes_classify, rg_bayes_classify_batch ---- */

static void assert_result_valid(const rg_bayes_result *r)
{
    ck_assert(r->spamicity >= 0 && r->spamicity <= 1);
    ck_assert_int_ge(r->verdict, RG_BAYES_HAM);
    ck_assert_int_le(r->verdict, RG_BAYES_SPAM);
}

CALL(classify_null_filter)
{
    rg_comment c = comment_of("x");
    rg_bayes_result r;
    return rg_bayes_classify(NULL, &c, &r, NULL, 0);
}

CALL(classify_null_comment)
{
    rg_bayes_result r;
    return rg_bayes_classify(f->b, NULL, &r, NULL, 0);
}

CALL(classify_null_result)
{
    rg_comment c = comment_of("x");
    return rg_bayes_classify(f->b, &c, NULL, NULL, 0);
}

CALL(classify_null_clues)
{
    rg_comment c = comment_of("x");
    rg_bayes_result r;
    int rc = rg_bayes_classify(f->b, &c, &r, NULL, 3);
    ck_assert_int_eq(rc, RG_EINVAL);
    return rg_bayes_classify(f->b, &c, &r, NULL, SIZE_MAX);
}

CALL(classify_size)
{
    rg_bayes_result r;
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_comment_sizes); i++) {
        rg_comment c = comment_of(seed_spam[0]);
        c.size = bad_comment_sizes[i];
        ck_assert_int_eq((rc = rg_bayes_classify(f->b, &c, &r, NULL, 0)),
                         RG_EINVAL);
    }
    return rc;
}

CALL(classify_size_huge)
{
    /* A caller that knows a larger struct: the library reads its part. */
    rg_comment c = comment_of(seed_spam[0]);
    rg_bayes_result r;
    c.size = SIZE_MAX;
    int rc = rg_bayes_classify(f->b, &c, &r, NULL, 0);
    assert_result_valid(&r);
    return rc;
}

CALL(classify_clues_canary)
{
    /* Room for two clues, and a third as a canary. */
    rg_clue clues[3];
    rg_bayes_result r;
    rg_comment c = comment_of(seed_spam[0]);
    memset(clues, CANARY, sizeof clues);
    int rc = rg_bayes_classify(f->b, &c, &r, clues, 2);
    ck_assert_uint_le(r.nclues, 2);
    for (size_t i = 0; i < sizeof clues[2]; i++)
        ck_assert_uint_eq(((unsigned char *)&clues[2])[i], CANARY);
    for (size_t i = 0; i < r.nclues; i++)
        ck_assert_ptr_nonnull(
            memchr(clues[i].token, '\0', sizeof clues[i].token));
    return rc;
}

CALL(classify_not_utf8)
{
    rg_comment c;
    rg_bayes_result r;
    rg_clue clues[8];
    rg_comment_init(&c);
    c.author = c.email = c.url = c.body = arg;
    int rc = rg_bayes_classify(f->b, &c, &r, clues, 8);
    assert_result_valid(&r);
    return rc;
}

CALL(classify_huge)
{
    char *body = long_text(1 << 20);
    rg_comment c = comment_of(body);
    rg_bayes_result r;
    int rc = rg_bayes_classify(f->b, &c, &r, NULL, 0);
    assert_result_valid(&r);
    free(body);
    return rc;
}

CALL(classify_after_failed_open)
{
    rg_bayes *b = NULL;
    rg_comment c = comment_of("x");
    rg_bayes_result r;
    ck_assert_int_eq(rg_bayes_open(&b, "memory:?tokens=0", NULL), RG_EURL);
    return rg_bayes_classify(b, &c, &r, NULL, 0);
}

CALL(classify_batch_null_filter)
{
    rg_comment c[1] = {comment_of("x")};
    rg_bayes_result r[1];
    return rg_bayes_classify_batch(NULL, c, 1, r);
}

CALL(classify_batch_null_comments)
{
    rg_bayes_result r[3];
    int rc = rg_bayes_classify_batch(f->b, NULL, 3, r);
    ck_assert_int_eq(rc, RG_EINVAL);
    return rg_bayes_classify_batch(f->b, NULL, SIZE_MAX, r);
}

CALL(classify_batch_null_results)
{
    rg_comment c[3] = {comment_of("a"), comment_of("b"), comment_of("c")};
    return rg_bayes_classify_batch(f->b, c, 3, NULL);
}

CALL(classify_batch_bad_size_inside)
{
    rg_comment c[3] = {comment_of("a"), comment_of("b"), comment_of("c")};
    rg_bayes_result r[3];
    c[1].size = 0;
    return rg_bayes_classify_batch(f->b, c, 3, r);
}

CALL(classify_batch_empty)
{
    return rg_bayes_classify_batch(f->b, NULL, 0, NULL);
}

CALL(classify_batch_hostile)
{
    /* Threads' worth of comments, each field not UTF-8. */
    enum { N = 200 };
    rg_comment *c = calloc(N, sizeof *c);
    rg_bayes_result *r = calloc(N + 1, sizeof *r);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(r);
    memset(r, CANARY, (N + 1) * sizeof *r);
    for (int i = 0; i < N; i++) {
        const char *s = not_utf8[i % (COUNT(not_utf8) - 1)];
        rg_comment_init(&c[i]);
        c[i].author = c[i].email = c[i].url = c[i].body = s;
    }
    int rc = rg_bayes_classify_batch(f->b, c, N, r);
    for (int i = 0; i < N; i++)
        assert_result_valid(&r[i]);
    for (size_t i = 0; i < sizeof r[N]; i++)
        ck_assert_uint_eq(((unsigned char *)&r[N])[i], CANARY);
    free(c);
    free(r);
    return rc;
}

/* ---- rg_bayes_stats_get, rg_bayes_optimize, rg_bayes_preload ---- */

CALL(stats_null_filter)
{
    rg_bayes_stats st;
    return rg_bayes_stats_get(NULL, &st);
}

CALL(stats_null_out)
{
    return rg_bayes_stats_get(f->b, NULL);
}

CALL(optimize_null)
{
    return rg_bayes_optimize(NULL);
}

CALL(preload_null)
{
    return rg_bayes_preload(NULL);
}

/* ---- rg_limiter_open, rg_limiter_new ---- */

static rg_limiter_config good_limiter_config(fx *f)
{
    rg_limiter_config cfg;
    rg_limiter_config_init(&cfg);
    cfg.clock_ns = rg_test_clock;
    cfg.clock_arg = &f->now_ns;
    cfg.capacity = 16;
    return cfg;
}

static int limiter_open_with(const rg_limiter_config *cfg)
{
    rg_limiter *l = (rg_limiter *)&l; /* anything but NULL */
    int rc = rg_limiter_open(&l, cfg);
    if (rc != RG_OK)
        ck_assert_ptr_null(l);
    rg_limiter_free(l);
    return rc;
}

static int limiter_new_with(const char *url, double rate, uint32_t burst,
                            size_t capacity)
{
    rg_limiter *l = (rg_limiter *)&l;
    int rc = rg_limiter_new(&l, url, rate, burst, capacity);
    if (rc != RG_OK)
        ck_assert_ptr_null(l);
    rg_limiter_free(l);
    return rc;
}

static const double bad_rates[] = {
    0,       -0.0,    -1,       1e-7, 1e9 * 1.0000001, 1e10,
    DBL_MAX, DBL_MIN, -DBL_MAX, NAN,  INFINITY,        -INFINITY,
};

CALL(limiter_open_null_out)
{
    rg_limiter_config cfg = good_limiter_config(f);
    return rg_limiter_open(NULL, &cfg);
}

CALL(limiter_open_null_config)
{
    /* The defaults: memory:, 100000 keys. */
    return limiter_open_with(NULL);
}

CALL(limiter_open_size)
{
    static const size_t sizes[] = {0, 1, sizeof(size_t),
                                   offsetof(rg_limiter_config, clock_arg)};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(sizes); i++) {
        rg_limiter_config cfg = good_limiter_config(f);
        cfg.size = sizes[i];
        ck_assert_int_eq((rc = limiter_open_with(&cfg)), RG_EINVAL);
    }
    return rc;
}

CALL(limiter_open_rate)
{
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_rates); i++) {
        rg_limiter_config cfg = good_limiter_config(f);
        cfg.rate_per_s = bad_rates[i];
        rc = limiter_open_with(&cfg);
        ck_assert_msg(rc == RG_EINVAL, "rate %g: %s", bad_rates[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(limiter_open_burst)
{
    static const uint32_t bursts[] = {1000001, 1u << 31, UINT32_MAX};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bursts); i++) {
        rg_limiter_config cfg = good_limiter_config(f);
        cfg.burst = bursts[i];
        ck_assert_int_eq((rc = limiter_open_with(&cfg)), RG_EINVAL);
    }
    /* A burst that would take over 100 years to earn back. */
    rg_limiter_config cfg = good_limiter_config(f);
    cfg.rate_per_s = 1e-6;
    cfg.burst = 4000;
    return limiter_open_with(&cfg);
}

CALL(limiter_open_capacity)
{
    static const size_t capacities[] = {0, 1, 15, 100000001, SIZE_MAX};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(capacities); i++) {
        rg_limiter_config cfg = good_limiter_config(f);
        cfg.capacity = capacities[i];
        rc = limiter_open_with(&cfg);
        ck_assert_msg(rc == RG_EINVAL, "capacity %zu: %s", capacities[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(limiter_open_name)
{
    /* 256 bytes are a name; 257 are too long. */
    char name[258];
    rg_limiter_config cfg = good_limiter_config(f);
    memset(name, 'n', 256);
    name[256] = '\0';
    cfg.name = name;
    ck_assert_int_eq(limiter_open_with(&cfg), RG_OK);
    memcpy(name + 256, "n", 2);
    return limiter_open_with(&cfg);
}

CALL(limiter_open_url)
{
    rg_limiter_config cfg = good_limiter_config(f);
    cfg.store = arg;
    return limiter_open_with(&cfg);
}

CALL(limiter_open_empty_url)
{
    rg_limiter_config cfg = good_limiter_config(f);
    cfg.store = "";
    return limiter_open_with(&cfg);
}

CALL(limiter_new_null_out)
{
    return rg_limiter_new(NULL, "memory:", 1, 4, 16);
}

CALL(limiter_new_rate)
{
    int rc = RG_OK;
    for (int i = 0; i < COUNT(bad_rates); i++) {
        rc = limiter_new_with("memory:", bad_rates[i], 4, 16);
        ck_assert_msg(rc == RG_EINVAL, "rate %g: %s", bad_rates[i],
                      rg_err_name(rc));
    }
    return rc;
}

CALL(limiter_new_burst)
{
    return limiter_new_with("memory:", 1, 1000001, 16);
}

CALL(limiter_new_capacity)
{
    int rc = limiter_new_with("memory:", 1, 4, 15);
    ck_assert_int_eq(rc, RG_EINVAL);
    return limiter_new_with("memory:", 1, 4, SIZE_MAX);
}

CALL(limiter_new_null_url)
{
    /* NULL is the default store, memory:. */
    return limiter_new_with(NULL, 1, 4, 16);
}

CALL(limiter_new_url)
{
    return limiter_new_with(arg, 1, 4, 16);
}

/* ---- rg_limiter_take ---- */

/* A result that says "limited" with no wait, as every error leaves it. */
static void assert_limited(const rg_limit_result *r, uint32_t limit)
{
    ck_assert_int_eq(r->allowed, 0);
    ck_assert_uint_eq(r->retry_after_ms, 0);
    ck_assert_uint_eq(r->limit, limit);
}

CALL(take_null_limiter)
{
    rg_limit_result r;
    memset(&r, CANARY, sizeof r);
    int rc = rg_limiter_take(NULL, "client-a", 8, 1, &r);
    assert_limited(&r, 0);
    return rc;
}

CALL(take_null_out)
{
    return rg_limiter_take(f->l, "client-a", 8, 1, NULL);
}

CALL(take_null_key)
{
    static const size_t lengths[] = {1, 8, SIZE_MAX};
    rg_limit_result r;
    int rc = RG_OK;
    for (int i = 0; i < COUNT(lengths); i++) {
        memset(&r, CANARY, sizeof r);
        rc = rg_limiter_take(f->l, NULL, lengths[i], 1, &r);
        ck_assert_int_eq(rc, RG_EINVAL);
        assert_limited(&r, 3);
    }
    return rc;
}

CALL(take_cost_above_limit)
{
    /* Never fits: refused, nothing charged, and no wait helps. */
    static const uint32_t costs[] = {4, 1000, UINT32_MAX};
    rg_limit_result r;
    int rc = RG_OK;
    for (int i = 0; i < COUNT(costs); i++) {
        rc = rg_limiter_take(f->l, "client-a", 8, costs[i], &r);
        ck_assert_int_eq(rc, RG_OK);
        ck_assert_int_eq(r.allowed, 0);
        ck_assert_uint_eq(r.retry_after_ms, UINT64_MAX);
        ck_assert_uint_eq(r.remaining, 2);
    }
    return rc;
}

CALL(take_over_remaining)
{
    /* client-a has 2 left: a take of 3 is refused and charges nothing. */
    rg_limit_result r;
    int rc = rg_limiter_take(f->l, "client-a", 8, 3, &r);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_uint_gt(r.retry_after_ms, 0);
    ck_assert_uint_ne(r.retry_after_ms, UINT64_MAX);
    return rc;
}

CALL(take_nul_inside_key)
{
    /* A key with NUL bytes inside is its own key, not its prefix's. */
    rg_limit_result r;
    int rc = rg_limiter_take(f->l, "k\0ey", 4, 3, &r);
    ck_assert_int_eq(r.allowed, 1);
    ck_assert_int_eq(rg_limiter_take(f->l, "k", 1, 0, &r), RG_OK);
    ck_assert_uint_eq(r.remaining, 3);
    return rc;
}

CALL(take_huge_key)
{
    char *key = long_text(1 << 20);
    rg_limit_result r;
    int rc = rg_limiter_take(f->l, key, 1 << 20, 1, &r);
    ck_assert_int_eq(r.allowed, 1);
    free(key);
    return rc;
}

CALL(take_after_failed_open)
{
    rg_limiter *l = NULL;
    rg_limit_result r;
    ck_assert_int_eq(rg_limiter_new(&l, "memory:", 0, 4, 16), RG_EINVAL);
    memset(&r, CANARY, sizeof r);
    int rc = rg_limiter_take(l, "client-a", 8, 1, &r);
    assert_limited(&r, 0);
    return rc;
}

/* ---- rg_client_key ---- */

CALL(client_key_null_address)
{
    uint8_t out[RG_CLIENT_KEY_MAX];
    size_t len = 99;
    int rc = rg_client_key(NULL, 0, out, &len);
    ck_assert_uint_eq(len, 0);
    return rc;
}

CALL(client_key_null_out)
{
    size_t len = 99;
    int rc = rg_client_key("203.0.113.7", 0, NULL, &len);
    ck_assert_uint_eq(len, 0);
    return rc;
}

CALL(client_key_null_len)
{
    uint8_t out[RG_CLIENT_KEY_MAX];
    return rg_client_key("203.0.113.7", 0, out, NULL);
}

CALL(client_key_prefix)
{
    static const unsigned prefixes[] = {129, 256, UINT_MAX};
    uint8_t out[RG_CLIENT_KEY_MAX];
    size_t len;
    int rc = RG_OK;
    for (int i = 0; i < COUNT(prefixes); i++) {
        len = 99;
        rc = rg_client_key("2001:db8::1", prefixes[i], out, &len);
        ck_assert_int_eq(rc, RG_EINVAL);
        ck_assert_uint_eq(len, 0);
    }
    return rc;
}

CALL(client_key_sample)
{
    uint8_t out[RG_CLIENT_KEY_MAX];
    size_t len = 99;
    int rc = rg_client_key(arg, 0, out, &len);
    ck_assert_uint_eq(len, 0);
    return rc;
}

CALL(client_key_huge)
{
    char *s = long_text(1 << 20);
    memcpy(s, "1.2.3.4", 8);
    memset(s + 7, '0', 100); /* "1.2.3.40000..." */
    int rc = client_key_sample(f, s);
    free(s);
    return rc;
}

CALL(client_key_canary)
{
    /* The longest key, 18 bytes, and not a byte more. */
    uint8_t out[RG_CLIENT_KEY_MAX + 1];
    size_t len = 0;
    memset(out, CANARY, sizeof out);
    int rc =
        rg_client_key("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 128, out, &len);
    ck_assert_uint_eq(len, RG_CLIENT_KEY_MAX);
    ck_assert_uint_eq(out[RG_CLIENT_KEY_MAX], CANARY);
    return rc;
}

/* ---- rg_form_html, rg_form_json ---- */

typedef int (*renderer)(const rg_challenge *, const rg_form_config *, char *,
                        size_t);

/* Renders into a buffer of `size` bytes followed by a canary, which must
 * survive; on failure the buffer holds "" (when it has a byte). */
static int render_checked(renderer render, const rg_challenge *c,
                          const rg_form_config *fc, size_t size)
{
    char *buf = malloc(size + 1);
    ck_assert_ptr_nonnull(buf);
    memset(buf, CANARY, size + 1);
    int rc = render(c, fc, buf, size);
    ck_assert_uint_eq((unsigned char)buf[size], CANARY);
    if (rc != RG_OK && size > 0)
        ck_assert_str_eq(buf, "");
    if (rc != RG_OK && size == 0)
        ck_assert_uint_eq((unsigned char)buf[0], CANARY);
    free(buf);
    return rc;
}

/* Each form row runs both renderers: they share their contract. */
static int both_renderers(int (*one)(fx *, renderer, const char *), fx *f,
                          const char *arg)
{
    int html = one(f, rg_form_html, arg);
    int json = one(f, rg_form_json, arg);
    ck_assert_msg(html == json, "rg_form_html %s, rg_form_json %s",
                  rg_err_name(html), rg_err_name(json));
    return html;
}

static int form_null_challenge_one(fx *f, renderer render, const char *arg)
{
    (void)f;
    (void)arg;
    return render_checked(render, NULL, NULL, RG_FORM_MAX);
}

CALL(form_null_challenge)
{
    return both_renderers(form_null_challenge_one, f, arg);
}

static int form_null_out_one(fx *f, renderer render, const char *arg)
{
    (void)arg;
    return render(&f->fresh, NULL, NULL, RG_FORM_MAX);
}

CALL(form_null_out)
{
    return both_renderers(form_null_out_one, f, arg);
}

static int form_small_one(fx *f, renderer render, const char *arg)
{
    /* Every size too small, from 0 up to the one that fits. */
    (void)arg;
    char whole[RG_FORM_MAX];
    ck_assert_int_eq(render(&f->fresh, NULL, whole, sizeof whole), RG_OK);
    size_t need = strlen(whole) + 1;
    int rc = RG_OK;
    for (size_t size = 0; size < need; size++) {
        rc = render_checked(render, &f->fresh, NULL, size);
        ck_assert_msg(rc == RG_ETOOBIG, "size %zu of %zu: %s", size, need,
                      rg_err_name(rc));
    }
    ck_assert_int_eq(render_checked(render, &f->fresh, NULL, need), RG_OK);
    return rc;
}

CALL(form_small)
{
    return both_renderers(form_small_one, f, arg);
}

static int form_config_size_one(fx *f, renderer render, const char *arg)
{
    (void)arg;
    static const size_t sizes[] = {0, 1, sizeof(size_t),
                                   offsetof(rg_form_config, honeypot_field)};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(sizes); i++) {
        rg_form_config fc;
        rg_form_config_init(&fc);
        fc.size = sizes[i];
        ck_assert_int_eq(
            (rc = render_checked(render, &f->fresh, &fc, RG_FORM_MAX)),
            RG_EINVAL);
    }
    return rc;
}

CALL(form_config_size)
{
    return both_renderers(form_config_size_one, f, arg);
}

static int form_name_one(fx *f, renderer render, const char *arg)
{
    /* The bad name in each of the three places. */
    int rc = RG_OK;
    for (int i = 0; i < 3; i++) {
        rg_form_config fc;
        rg_form_config_init(&fc);
        const char **slot[] = {&fc.answer_field, &fc.token_field,
                               &fc.honeypot_field};
        *slot[i] = arg;
        ck_assert_int_eq(
            (rc = render_checked(render, &f->fresh, &fc, RG_FORM_MAX)),
            RG_EINVAL);
    }
    return rc;
}

CALL(form_name)
{
    return both_renderers(form_name_one, f, arg);
}

static int form_name_long_one(fx *f, renderer render, const char *arg)
{
    (void)arg;
    char name[RG_FIELD_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    return form_name_one(f, render, name);
}

CALL(form_name_long)
{
    return both_renderers(form_name_long_one, f, arg);
}

static int form_name_twice_one(fx *f, renderer render, const char *arg)
{
    (void)arg;
    rg_form_config fc;
    rg_form_config_init(&fc);
    fc.honeypot_field = "rg_answer";
    return render_checked(render, &f->fresh, &fc, RG_FORM_MAX);
}

CALL(form_name_twice)
{
    return both_renderers(form_name_twice_one, f, arg);
}

static int form_unterminated_one(fx *f, renderer render, const char *arg)
{
    /* Each of the challenge's strings filling its array with no NUL. */
    (void)arg;
    int rc = RG_OK;
    for (int i = 0; i < 4; i++) {
        rg_challenge c = f->fresh;
        struct {
            char *p;
            size_t n;
        } arrays[] = {{c.question, sizeof c.question},
                      {c.token, sizeof c.token},
                      {c.spoken, sizeof c.spoken},
                      {c.locale, sizeof c.locale}};
        memset(arrays[i].p, 'a', arrays[i].n);
        ck_assert_int_eq((rc = render_checked(render, &c, NULL, RG_FORM_MAX)),
                         RG_EINVAL);
    }
    return rc;
}

CALL(form_unterminated)
{
    return both_renderers(form_unterminated_one, f, arg);
}

static int form_challenge_text_one(fx *f, renderer render, const char *arg)
{
    /* Each of the challenge's strings not UTF-8. */
    int rc = RG_OK;
    for (int i = 0; i < 4; i++) {
        rg_challenge c = f->fresh;
        char *arrays[] = {c.question, c.token, c.spoken, c.locale};
        memcpy(arrays[i], arg, strlen(arg) + 1);
        ck_assert_int_eq((rc = render_checked(render, &c, NULL, RG_FORM_MAX)),
                         RG_EINVAL);
    }
    return rc;
}

CALL(form_challenge_text)
{
    return both_renderers(form_challenge_text_one, f, arg);
}

CALL(form_json_expiry)
{
    rg_challenge c = f->fresh;
    c.expires_at = (uint64_t)INT64_MAX + 1;
    int rc = render_checked(rg_form_json, &c, NULL, RG_FORM_MAX);
    ck_assert_int_eq(rc, RG_EINVAL);
    c.expires_at = UINT64_MAX;
    return render_checked(rg_form_json, &c, NULL, RG_FORM_MAX);
}

/* ---- rg_judge ---- */

/* A submission of the fresh token with its right answer, from a client
 * with an address: it would be accepted. */
static rg_submission good_submission(fx *f, char answer[16])
{
    rg_submission s;
    rg_submission_init(&s);
    snprintf(answer, 16, "%u", (unsigned)f->fresh_answer);
    s.body = "a kind comment";
    s.token = f->fresh.token;
    s.answer = answer;
    s.client = "203.0.113.7";
    s.binding = "post-1";
    return s;
}

/* The policy with every layer on: the fixture's limiter and filter. */
static rg_policy full_policy(fx *f)
{
    rg_policy p;
    rg_policy_init(&p);
    p.limiter = f->l;
    p.failures = f->l;
    p.bayes = f->b;
    return p;
}

/* rg_judge(), with the decision an error must leave. */
static int judge_checked(rg_guard *g, const rg_submission *s,
                         const rg_policy *p)
{
    rg_decision d;
    memset(&d, CANARY, sizeof d);
    int rc = rg_judge(g, s, p, &d);
    if (rc != RG_OK) {
        ck_assert_int_eq(d.action, RG_ACTION_REJECT);
        ck_assert_uint_eq(d.reasons, 0);
        ck_assert_int_eq(d.verified, 0);
    }
    return rc;
}

CALL(judge_null_guard)
{
    char answer[16];
    rg_submission s = good_submission(f, answer);
    rg_policy p = full_policy(f);
    return judge_checked(NULL, &s, &p);
}

CALL(judge_null_submission)
{
    rg_policy p = full_policy(f);
    return judge_checked(f->g, NULL, &p);
}

CALL(judge_null_out)
{
    char answer[16];
    rg_submission s = good_submission(f, answer);
    return rg_judge(f->g, &s, NULL, NULL);
}

CALL(judge_submission_size)
{
    static const size_t sizes[] = {0, 1, sizeof(size_t),
                                   sizeof(rg_submission) - 1};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(sizes); i++) {
        char answer[16];
        rg_submission s = good_submission(f, answer);
        rg_policy p = full_policy(f);
        s.size = sizes[i];
        ck_assert_int_eq((rc = judge_checked(f->g, &s, &p)), RG_EINVAL);
    }
    return rc;
}

CALL(judge_policy_size)
{
    static const size_t sizes[] = {0, 1, sizeof(size_t), sizeof(rg_policy) - 1};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(sizes); i++) {
        char answer[16];
        rg_submission s = good_submission(f, answer);
        rg_policy p = full_policy(f);
        p.size = sizes[i];
        ck_assert_int_eq((rc = judge_checked(f->g, &s, &p)), RG_EINVAL);
    }
    return rc;
}

CALL(judge_policy_actions)
{
    /* Each action field out of range, in turn. */
    int rc = RG_OK;
    for (int field = 0; field < 11; field++) {
        for (int i = 0; i < COUNT(bad_enums); i++) {
            char answer[16];
            rg_submission s = good_submission(f, answer);
            rg_policy p = full_policy(f);
            rg_action *actions[] = {
                &p.on_honeypot,
                &p.on_captcha_wrong,
                &p.on_captcha_expired,
                &p.on_captcha_too_fast,
                &p.on_captcha_replayed,
                &p.on_captcha_forged,
                &p.on_captcha_malformed,
                &p.on_rate_limited,
                &p.on_spam,
                &p.on_unsure,
                &p.on_store_unavailable,
            };
            *actions[field] = (rg_action)bad_enums[i];
            rc = judge_checked(f->g, &s, &p);
            ck_assert_msg(rc == RG_EINVAL, "action %d = %d: %s", field,
                          bad_enums[i], rg_err_name(rc));
        }
    }
    return rc;
}

CALL(judge_policy_numbers)
{
    static const uint32_t costs[] = {0, 1001, UINT32_MAX};
    int rc = RG_OK;
    for (int i = 0; i < COUNT(costs); i++) {
        char answer[16];
        rg_submission s = good_submission(f, answer);
        rg_policy p = full_policy(f);
        p.failure_cost = costs[i];
        ck_assert_int_eq((rc = judge_checked(f->g, &s, &p)), RG_EINVAL);
    }
    for (int i = 0; i < COUNT(bad_enums); i++) {
        char answer[16];
        rg_submission s = good_submission(f, answer);
        rg_policy p = full_policy(f);
        p.limit_by = (rg_limit_by)bad_enums[i];
        if (bad_enums[i] >= 0 && bad_enums[i] <= 2)
            continue;
        ck_assert_int_eq((rc = judge_checked(f->g, &s, &p)), RG_EINVAL);
    }
    return rc;
}

CALL(judge_client_sample)
{
    char answer[16];
    rg_submission s = good_submission(f, answer);
    rg_policy p = full_policy(f);
    s.client = arg;
    return judge_checked(f->g, &s, &p);
}

CALL(judge_client_null)
{
    char answer[16];
    rg_submission s = good_submission(f, answer);
    rg_policy p = full_policy(f);
    s.client = NULL;
    return judge_checked(f->g, &s, &p);
}

CALL(judge_after_failed_open)
{
    rg_guard *g = NULL;
    char answer[16];
    rg_submission s = good_submission(f, answer);
    ck_assert_int_eq(rg_guard_new(&g, NULL), RG_OK);
    rg_guard_free(g);
    g = NULL;
    rg_config cfg = good_config(f);
    cfg.size = 0;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_EINVAL);
    return judge_checked(g, &s, NULL);
}

CALL(judge_fields_not_utf8)
{
    /* Every text field hostile: a decision, never an error. A limiter
     * counts the client, so the client must be an address. */
    rg_submission s;
    rg_policy p = full_policy(f);
    rg_decision d;
    rg_submission_init(&s);
    s.author = s.email = s.url = s.body = s.token = s.answer = arg;
    s.honeypot = s.binding = arg;
    s.client = "2001:db8::7";
    int rc = rg_judge(f->g, &s, &p, &d);
    ck_assert_int_eq(d.action, RG_ACTION_REJECT);
    ck_assert(d.reasons & RG_REASON_HONEYPOT);
    return rc;
}

CALL(judge_fields_huge)
{
    char *big = long_text(1 << 20);
    rg_submission s;
    rg_policy p = full_policy(f);
    rg_decision d;
    rg_submission_init(&s);
    s.author = s.email = s.url = s.body = s.token = s.answer = big;
    s.binding = big;
    s.client = "203.0.113.9";
    int rc = rg_judge(f->g, &s, &p, &d);
    ck_assert_int_eq(d.action, RG_ACTION_REJECT);
    ck_assert(d.reasons & RG_REASON_CAPTCHA_MALFORMED);
    free(big);
    return rc;
}

/* ---- More samples ---- */

#define A10 "AAAAAAAAAA"

/* Text that is no token at all: MALFORMED. */
static const char *const not_tokens[] = {
    "",
    "x",
    "AQ",
    "====",
    " ",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    A10 A10 A10 A10 A10 A10 A10 A10 A10 "AAAA",  /* version 0 */
    A10 A10 A10 A10 A10 A10 A10 A10 A10 "AAAAA", /* one too many */
    A10 A10 A10 A10 A10 A10 A10 A10 A10 "AAA",   /* one too few */
    NULL,
};

/* Bindings other than the fresh token's "post-1": FORGED. */
static const char *const other_bindings[] = {
    "",         "post-2",       "post-1 ",  " post-1", "POST-1", "post-1\n",
    "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xff",    NULL,
};

/* Key files that are not key files (%1 and %2 are the keys' text). */
static const char *const bad_key_files[] = {
    "",
    "# only a comment\n",
    "\n\n\r\n",
    "2 sign\n",
    "2\n",
    "sign %2\n",
    "2 sign %2 extra\n",
    "2 SIGN %2\n",
    "2 signer %2\n",
    "2 verify %2\n",
    "2 sign %2\n3 sign %1\n",
    "4294967296 sign %2\n",
    "99999999999999999999 sign %2\n",
    "-1 sign %2\n",
    "+2 sign %2\n",
    "0x2 sign %2\n",
    "2a sign %2\n",
    "2 sign %2=\n",
    "2 sign %2A\n",
    "2 sign AAAA\n",
    "2 sign " A10 A10 A10 A10 "AA\n",
    "2 sign " A10 A10 A10 A10 "AAAA\n",
    "2 sign +" A10 A10 A10 A10 "AA\n",
    "2 sign /" A10 A10 A10 A10 "AA\n",
    "2 sign %2\xff\n",
    "\xef\xbb\xbf"
    "2 sign %2\n",
    "2 sign \xc0\xaf%2\n",
    NULL,
};

/* Key files whose ids clash, within the file or with the guard's key 1. */
static const char *const clashing_key_files[] = {
    "3 verify %1\n3 sign %2\n",
    "2 verify %2\n1 sign %1\n",
    "2 sign %2\n1 verify %1\n",
    "1 sign %2\n",
    NULL,
};

/* Paths of files that are not there. */
static const char *const missing_files[] = {
    "no-such-file",
    "\xff\xfe",
    "no-such-dir/key",
    NULL,
};

/* What opening a sqlite: file that cannot be one gives. */
#if RG_HAVE_SQLITE
#define SQLITE_BAD RG_ESTORE
#else
#define SQLITE_BAD RG_ENOSUPPORT
#endif

#if RG_HAVE_REDIS
#define REDIS_DOWN RG_ESTORE
#else
#define REDIS_DOWN RG_ENOSUPPORT
#endif

/* redis: and unix: URLs the parser refuses. */
static const char *const bad_redis_urls[] = {
    "redis:",
    "redis://",
    "redis://:6379/0",
    "redis://127.0.0.1:99999/0",
    "redis://127.0.0.1:-1/0",
    "redis://127.0.0.1:6379/x",
    "redis://127.0.0.1:6379/0?bogus=1",
    "redis://127.0.0.1:6379/0?timeout_ms=abc",
    "unix:",
    "unix:///x.sock?db=abc",
    NULL,
};

#if RG_HAVE_REDIS
#define REDIS_BAD_URL RG_EURL
#else
#define REDIS_BAD_URL RG_ENOSUPPORT
#endif

/* ---- The table ---- */

enum {
    F_STORES = 1, /* runs on sqlite: as well as on memory: */
    F_WRITES = 2  /* succeeds and may change what the stores hold */
};

typedef struct row {
    const char *symbol; /* the exported function it calls */
    const char *what;   /* the bad argument */
    int (*call)(fx *f, const char *arg);
    const char *const *args; /* samples, NULL-terminated; NULL: one call */
    int want;                /* the code the header documents */
    unsigned flags;
} row;

#define ROW(sym, what, fn, args, want, flags)                                  \
    {                                                                          \
#sym, what, fn, args, want, flags                                      \
    }

static const row rows[] = {
    /* Facts and names. */
    ROW(rg_init, "called again: idempotent", init_again, NULL, RG_OK, 0),
    ROW(rg_version, "no argument: the header's version", version_text, NULL,
        RG_OK, 0),
    ROW(rg_key_bytes, "no argument: RG_KEY_BYTES", key_bytes_value, NULL, RG_OK,
        0),
    ROW(rg_token_max, "no argument: RG_TOKEN_MAX", token_max_value, NULL, RG_OK,
        0),
    ROW(rg_question_max, "no argument: RG_QUESTION_MAX", question_max_value,
        NULL, RG_OK, 0),
    ROW(rg_strerror, "codes that are none: \"unknown error\"", strerror_unknown,
        NULL, RG_OK, 0),
    ROW(rg_err_name, "codes that are none: RG_EUNKNOWN", err_name_unknown, NULL,
        RG_OK, 0),
    ROW(rg_verdict_name, "verdicts out of range: \"unknown\"",
        verdict_name_unknown, NULL, RG_OK, 0),
    ROW(rg_bayes_verdict_name, "verdicts out of range: \"unknown\"",
        bayes_verdict_name_unknown, NULL, RG_OK, 0),
    ROW(rg_action_name, "actions out of range: \"unknown\"",
        action_name_unknown, NULL, RG_OK, 0),
    ROW(rg_reason_name, "no bit, two bits, unknown bits: \"unknown\"",
        reason_name_unknown, NULL, RG_OK, 0),

    /* Filling and freeing NULL. */
    ROW(rg_config_init, "NULL: a no-op", config_init_null, NULL, RG_OK, 0),
    ROW(rg_comment_init, "NULL: a no-op", comment_init_null, NULL, RG_OK, 0),
    ROW(rg_bayes_config_init, "NULL: a no-op", bayes_config_init_null, NULL,
        RG_OK, 0),
    ROW(rg_limiter_config_init, "NULL: a no-op", limiter_config_init_null, NULL,
        RG_OK, 0),
    ROW(rg_form_config_init, "NULL: a no-op", form_config_init_null, NULL,
        RG_OK, 0),
    ROW(rg_submission_init, "NULL: a no-op", submission_init_null, NULL, RG_OK,
        0),
    ROW(rg_policy_init, "NULL: a no-op", policy_init_null, NULL, RG_OK, 0),
    ROW(rg_guard_free, "NULL: a no-op", guard_free_null, NULL, RG_OK, 0),
    ROW(rg_store_close, "NULL: a no-op", store_close_null, NULL, RG_OK, 0),
    ROW(rg_bayes_close, "NULL: a no-op", bayes_close_null, NULL, RG_OK, 0),
    ROW(rg_limiter_free, "NULL: a no-op", limiter_free_null, NULL, RG_OK, 0),

    /* rg_guard_new */
    ROW(rg_guard_new, "out NULL", guard_new_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_guard_new, "cfg NULL: the defaults", guard_new_null_config, NULL,
        RG_OK, 0),
    ROW(rg_guard_new, "cfg->size too small", guard_new_size_small, NULL,
        RG_EINVAL, 0),
    ROW(rg_guard_new, "cfg->size SIZE_MAX: a newer caller", guard_new_size_huge,
        NULL, RG_OK, 0),
    ROW(rg_guard_new, "ttl_s 0", guard_new_ttl_zero, NULL, RG_EINVAL, 0),
    ROW(rg_guard_new, "min_solve_s not below ttl_s", guard_new_min_solve_ttl,
        NULL, RG_EINVAL, 0),
    ROW(rg_guard_new, "style out of range", guard_new_style, NULL, RG_EINVAL,
        0),
    ROW(rg_guard_new, "unknown locale", guard_new_locale, bad_locales,
        RG_ELOCALE, 0),
    ROW(rg_guard_new, "locale not UTF-8", guard_new_locale, not_utf8,
        RG_ELOCALE, 0),
    ROW(rg_guard_new, "ranges, operators and forms out of bounds",
        guard_new_ranges, NULL, RG_ERANGE, 0),
    ROW(rg_guard_new, "malformed store URL", guard_new_store, bad_urls, RG_EURL,
        0),
    ROW(rg_guard_new, "store URL \"\"", guard_new_store_empty, NULL, RG_EINVAL,
        0),
    ROW(rg_guard_new, "sqlite: in a missing directory",
        guard_new_store_missing_dir, NULL, SQLITE_BAD, 0),

    /* rg_guard_add_key */
    ROW(rg_guard_add_key, "g NULL", add_key_null_guard, NULL, RG_EINVAL, 0),
    ROW(rg_guard_add_key, "key NULL", add_key_null_key, NULL, RG_EINVAL,
        F_STORES),
    ROW(rg_guard_add_key, "an id already added", add_key_duplicate, NULL,
        RG_EKEY, F_STORES),
    ROW(rg_guard_add_key, "g from a failed rg_guard_new()",
        add_key_after_failed_open, NULL, RG_EINVAL, 0),

    /* rg_guard_load_keys */
    ROW(rg_guard_load_keys, "g NULL", load_keys_null_guard, NULL, RG_EINVAL, 0),
    ROW(rg_guard_load_keys, "path NULL", load_keys_null_path, NULL, RG_EINVAL,
        0),
    ROW(rg_guard_load_keys, "no such file", load_keys_missing, missing_files,
        RG_EKEYFILE, 0),
    ROW(rg_guard_load_keys, "a directory", load_keys_directory, NULL,
        RG_EKEYFILE, 0),
    ROW(rg_guard_load_keys, "malformed lines, ids, roles and keys",
        load_keys_text, bad_key_files, RG_EKEYFILE, F_STORES),
    ROW(rg_guard_load_keys, "ids that clash: nothing added", load_keys_text,
        clashing_key_files, RG_EKEY, F_STORES),
    ROW(rg_guard_load_keys, "a NUL byte inside", load_keys_nul, NULL,
        RG_EKEYFILE, 0),
    ROW(rg_guard_load_keys, "binary garbage", load_keys_garbage, NULL,
        RG_EKEYFILE, 0),
    ROW(rg_guard_load_keys, "larger than 64 KiB", load_keys_too_big, NULL,
        RG_EKEYFILE, 0),
    ROW(rg_guard_load_keys, "65 keys", load_keys_too_many, NULL, RG_EKEYFILE,
        0),

    /* rg_keyfile_generate */
    ROW(rg_keyfile_generate, "out NULL", keyfile_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_keyfile_generate, "out_size 0 to 159: nothing written",
        keyfile_small, NULL, RG_ETOOBIG, 0),
    ROW(rg_keyfile_generate, "out_size 160: fits, canary intact", keyfile_exact,
        NULL, RG_OK, 0),

    /* rg_challenge_issue, rg_challenge_issue_in */
    ROW(rg_challenge_issue, "g NULL", issue_null_guard, NULL, RG_EINVAL, 0),
    ROW(rg_challenge_issue, "out NULL", issue_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_challenge_issue, "no signing key", issue_no_key, NULL, RG_ENOKEY, 0),
    ROW(rg_challenge_issue, "g from a failed rg_guard_new()",
        issue_after_failed_open, NULL, RG_EINVAL, 0),
    ROW(rg_challenge_issue, "binding not UTF-8: any bytes bind",
        issue_binding_not_utf8, not_utf8, RG_OK, F_STORES | F_WRITES),
    ROW(rg_challenge_issue, "binding of 1 MiB", issue_binding_huge, NULL, RG_OK,
        F_WRITES),
    ROW(rg_challenge_issue_in, "unknown locale", issue_in_locale, bad_locales,
        RG_ELOCALE, 0),
    ROW(rg_challenge_issue_in, "locale not UTF-8", issue_in_locale, not_utf8,
        RG_ELOCALE, 0),
    ROW(rg_challenge_issue_in, "style out of range", issue_in_style, NULL,
        RG_EINVAL, 0),
    ROW(rg_challenge_issue_in, "out NULL", issue_in_null_out, NULL, RG_EINVAL,
        0),
    ROW(rg_challenge_issue_in, "g NULL", issue_in_null_guard, NULL, RG_EINVAL,
        0),
    ROW(rg_challenge_issue_in, "no signing key", issue_in_no_key, NULL,
        RG_ENOKEY, 0),

    /* rg_challenge_verify */
    ROW(rg_challenge_verify, "g NULL: *out MALFORMED", verify_null_guard, NULL,
        RG_EINVAL, F_STORES),
    ROW(rg_challenge_verify, "token NULL: *out MALFORMED", verify_null_token,
        NULL, RG_EINVAL, F_STORES),
    ROW(rg_challenge_verify, "out NULL: nothing spent", verify_null_out, NULL,
        RG_EINVAL, F_STORES),
    ROW(rg_challenge_verify, "g from a failed rg_guard_new()",
        verify_after_failed_open, NULL, RG_EINVAL, 0),
    ROW(rg_challenge_verify, "no token: MALFORMED, nothing spent",
        verify_token_sample, not_tokens, RG_OK, F_STORES),
    ROW(rg_challenge_verify, "token not UTF-8: MALFORMED", verify_token_sample,
        not_utf8, RG_OK, F_STORES),
    ROW(rg_challenge_verify, "token cut, padded, out of the alphabet",
        verify_token_cut_or_padded, NULL, RG_OK, F_STORES),
    ROW(rg_challenge_verify, "token of 1 MiB: MALFORMED", verify_token_huge,
        NULL, RG_OK, 0),
    ROW(rg_challenge_verify, "token's fields edited: MALFORMED or FORGED",
        verify_token_edited, NULL, RG_OK, F_STORES),
    ROW(rg_challenge_verify, "token of an unknown key: FORGED",
        verify_foreign_key, NULL, RG_OK, F_STORES),
    ROW(rg_challenge_verify, "another binding: FORGED, nothing spent",
        verify_binding_sample, other_bindings, RG_OK, F_STORES),
    ROW(rg_challenge_verify, "answer not UTF-8: WRONG", verify_answer_sample,
        not_utf8, RG_OK, F_STORES | F_WRITES),
    ROW(rg_challenge_verify, "answer not a number: WRONG", verify_answer_sample,
        not_numbers, RG_OK, F_WRITES),
    ROW(rg_challenge_verify, "answer of 1 MiB: WRONG", verify_answer_huge, NULL,
        RG_OK, F_WRITES),
    ROW(rg_challenge_verify, "answer NULL: \"\", WRONG", verify_answer_null,
        NULL, RG_OK, F_WRITES),
    ROW(rg_challenge_verify, "binding NULL: \"\"", verify_binding_null, NULL,
        RG_OK, F_WRITES),

    /* rg_answer_parse */
    ROW(rg_answer_parse, "answer NULL", answer_null_answer, NULL, RG_EINVAL, 0),
    ROW(rg_answer_parse, "value NULL", answer_null_value, NULL, RG_EINVAL, 0),
    ROW(rg_answer_parse, "locale NULL: English", answer_null_locale, NULL,
        RG_OK, 0),
    ROW(rg_answer_parse, "unknown locale: value untouched", answer_locale,
        bad_locales, RG_ELOCALE, 0),
    ROW(rg_answer_parse, "not a number: value untouched", answer_sample,
        not_numbers, RG_EINVAL, 0),
    ROW(rg_answer_parse, "not UTF-8: value untouched", answer_sample, not_utf8,
        RG_EINVAL, 0),
    ROW(rg_answer_parse, "RG_ANSWER_MAX bytes, then one more", answer_longest,
        NULL, RG_EINVAL, 0),
    ROW(rg_answer_parse, "1 MiB of digits", answer_huge, NULL, RG_EINVAL, 0),

    /* rg_locale_check */
    ROW(rg_locale_check, "NULL", locale_check_null, NULL, RG_ELOCALE, 0),
    ROW(rg_locale_check, "names of no locale", locale_check_sample, bad_locales,
        RG_ELOCALE, 0),
    ROW(rg_locale_check, "not UTF-8", locale_check_sample, not_utf8, RG_ELOCALE,
        0),
    ROW(rg_locale_check, "1 MiB starting \"en\"", locale_check_huge, NULL,
        RG_ELOCALE, 0),

    /* rg_number_words */
    ROW(rg_number_words, "out NULL", number_words_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_number_words, "out_size 0: nothing written", number_words_zero_size,
        NULL, RG_EINVAL, 0),
    ROW(rg_number_words, "value above 999: out \"\"", number_words_range, NULL,
        RG_ERANGE, 0),
    ROW(rg_number_words, "unknown locale: out \"\"", number_words_locale,
        bad_locales, RG_ELOCALE, 0),
    ROW(rg_number_words, "locale NULL: English", number_words_null_locale, NULL,
        RG_OK, 0),
    ROW(rg_number_words, "every buffer too small: \"\", canary intact",
        number_words_small, NULL, RG_ETOOBIG, 0),

    /* rg_store_open */
    ROW(rg_store_open, "out NULL", store_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_store_open, "url NULL: *out NULL", store_null_url, NULL, RG_EINVAL,
        0),
    ROW(rg_store_open, "url \"\"", store_empty_url, NULL, RG_EINVAL, 0),
    ROW(rg_store_open, "malformed URL: *out NULL", store_url_sample, bad_urls,
        RG_EURL, 0),
    ROW(rg_store_open, "sqlite: in a missing directory",
        store_sqlite_missing_dir, NULL, SQLITE_BAD, 0),
    ROW(rg_store_open, "sqlite: a directory", store_sqlite_directory, NULL,
        SQLITE_BAD, 0),
    ROW(rg_store_open, "sqlite: a file of garbage", store_sqlite_garbage, NULL,
        SQLITE_BAD, 0),
#if RG_HAVE_SQLITE
    ROW(rg_store_open, "sqlite: another program's database",
        store_sqlite_foreign_db, NULL, RG_ESTORE, 0),
#endif
    ROW(rg_store_open, "redis: nobody answering", store_redis_unreachable, NULL,
        REDIS_DOWN, 0),
    ROW(rg_store_open, "redis: malformed URL", store_redis_url_sample,
        bad_redis_urls, REDIS_BAD_URL, 0),

    /* rg_bayes_open */
    ROW(rg_bayes_open, "out NULL", bayes_open_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_open, "url NULL: *out NULL", bayes_open_null_url, NULL,
        RG_EINVAL, 0),
    ROW(rg_bayes_open, "malformed URL: *out NULL", bayes_open_url_sample,
        bad_urls, RG_EURL, 0),
    ROW(rg_bayes_open, "sqlite: a file of garbage", bayes_open_garbage, NULL,
        SQLITE_BAD, 0),
    ROW(rg_bayes_open, "cfg->size too small", bayes_open_size, NULL, RG_EINVAL,
        0),
    ROW(rg_bayes_open, "settings out of range, NaN, infinite",
        bayes_open_settings, NULL, RG_EINVAL, 0),

    /* rg_bayes_learn, rg_bayes_unlearn, rg_bayes_learn_batch */
    ROW(rg_bayes_learn, "b NULL", learn_null_filter, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_learn, "c NULL", learn_null_comment, NULL, RG_EINVAL,
        F_STORES),
    ROW(rg_bayes_learn, "class out of range: nothing learned", learn_class,
        NULL, RG_EINVAL, F_STORES),
    ROW(rg_bayes_learn, "c->size too small: nothing learned", learn_size, NULL,
        RG_EINVAL, F_STORES),
    ROW(rg_bayes_learn, "a memory: model full: nothing learned", learn_full,
        NULL, RG_EFULL, 0),
    ROW(rg_bayes_learn, "b from a failed rg_bayes_open()",
        learn_after_failed_open, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_learn, "fields not UTF-8: tolerated", learn_not_utf8, not_utf8,
        RG_OK, F_STORES | F_WRITES),
    ROW(rg_bayes_learn, "body of 1 MiB", learn_huge, NULL, RG_OK,
        F_STORES | F_WRITES),
    ROW(rg_bayes_unlearn, "never learned: nothing changed", unlearn_never, NULL,
        RG_ENOTLEARNED, F_STORES),
    ROW(rg_bayes_unlearn, "learned as the other class: nothing changed",
        unlearn_other_class, NULL, RG_ENOTLEARNED, F_STORES),
    ROW(rg_bayes_unlearn, "b NULL", unlearn_null_filter, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_unlearn, "c NULL", unlearn_null_comment, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_unlearn, "class out of range", unlearn_class, NULL, RG_EINVAL,
        F_STORES),
    ROW(rg_bayes_unlearn, "c->size too small", unlearn_size, NULL, RG_EINVAL,
        0),
    ROW(rg_bayes_learn_batch, "b NULL", batch_null_filter, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_learn_batch, "comments NULL, n 2 and SIZE_MAX",
        batch_null_comments, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_learn_batch, "classes NULL", batch_null_classes, NULL,
        RG_EINVAL, 0),
    ROW(rg_bayes_learn_batch, "a bad class after good ones: none kept",
        batch_bad_class_inside, NULL, RG_EINVAL, F_STORES),
    ROW(rg_bayes_learn_batch, "a bad size after good ones: none kept",
        batch_bad_size_inside, NULL, RG_EINVAL, F_STORES),
    ROW(rg_bayes_learn_batch, "unlearning one never learned: none kept",
        batch_unlearn_one_never, NULL, RG_ENOTLEARNED, F_STORES),
    ROW(rg_bayes_learn_batch, "one comment over a full model: none kept",
        batch_full, NULL, RG_EFULL, 0),
    ROW(rg_bayes_learn_batch, "n 0, NULL arrays: nothing to do", batch_empty,
        NULL, RG_OK, F_STORES),
    ROW(rg_bayes_learn_batch, "300 on threads, the last bad: none kept",
        batch_threads_bad_inside, NULL, RG_EINVAL, F_STORES),

    /* rg_bayes_classify, rg_bayes_classify_batch */
    ROW(rg_bayes_classify, "b NULL", classify_null_filter, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify, "c NULL", classify_null_comment, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify, "result NULL", classify_null_result, NULL, RG_EINVAL,
        0),
    ROW(rg_bayes_classify, "clues NULL with max_clues 3 and SIZE_MAX",
        classify_null_clues, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify, "c->size too small", classify_size, NULL, RG_EINVAL,
        0),
    ROW(rg_bayes_classify, "c->size SIZE_MAX: a newer caller",
        classify_size_huge, NULL, RG_OK, F_STORES),
    ROW(rg_bayes_classify, "two clues of room: canary intact",
        classify_clues_canary, NULL, RG_OK, F_STORES),
    ROW(rg_bayes_classify, "fields not UTF-8", classify_not_utf8, not_utf8,
        RG_OK, F_STORES),
    ROW(rg_bayes_classify, "body of 1 MiB", classify_huge, NULL, RG_OK, 0),
    ROW(rg_bayes_classify, "b from a failed rg_bayes_open()",
        classify_after_failed_open, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify_batch, "b NULL", classify_batch_null_filter, NULL,
        RG_EINVAL, 0),
    ROW(rg_bayes_classify_batch, "comments NULL, n 3 and SIZE_MAX",
        classify_batch_null_comments, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify_batch, "results NULL", classify_batch_null_results,
        NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify_batch, "a bad size inside",
        classify_batch_bad_size_inside, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_classify_batch, "n 0, NULL arrays", classify_batch_empty, NULL,
        RG_OK, 0),
    ROW(rg_bayes_classify_batch, "200 not UTF-8 on threads: canary intact",
        classify_batch_hostile, NULL, RG_OK, F_STORES),

    /* rg_bayes_stats_get, rg_bayes_optimize, rg_bayes_preload */
    ROW(rg_bayes_stats_get, "b NULL", stats_null_filter, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_stats_get, "out NULL", stats_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_optimize, "b NULL", optimize_null, NULL, RG_EINVAL, 0),
    ROW(rg_bayes_preload, "b NULL", preload_null, NULL, RG_EINVAL, 0),

    /* rg_limiter_open, rg_limiter_new */
    ROW(rg_limiter_open, "out NULL", limiter_open_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_limiter_open, "cfg NULL: the defaults", limiter_open_null_config,
        NULL, RG_OK, 0),
    ROW(rg_limiter_open, "cfg->size too small", limiter_open_size, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_open, "rate 0, negative, NaN, infinite, out of range",
        limiter_open_rate, NULL, RG_EINVAL, 0),
    ROW(rg_limiter_open, "burst above 1000000, or over 100 years",
        limiter_open_burst, NULL, RG_EINVAL, 0),
    ROW(rg_limiter_open, "capacity out of range", limiter_open_capacity, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_open, "name of 257 bytes", limiter_open_name, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_open, "malformed store URL", limiter_open_url, bad_urls,
        RG_EURL, 0),
    ROW(rg_limiter_open, "store URL \"\"", limiter_open_empty_url, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_new, "out NULL", limiter_new_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_limiter_new, "rate 0, negative, NaN, infinite, out of range",
        limiter_new_rate, NULL, RG_EINVAL, 0),
    ROW(rg_limiter_new, "burst above 1000000", limiter_new_burst, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_new, "capacity 15 and SIZE_MAX", limiter_new_capacity, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_new, "store_url NULL: memory:", limiter_new_null_url, NULL,
        RG_OK, 0),
    ROW(rg_limiter_new, "malformed store URL", limiter_new_url, bad_urls,
        RG_EURL, 0),

    /* rg_limiter_take */
    ROW(rg_limiter_take, "l NULL: *out limited", take_null_limiter, NULL,
        RG_EINVAL, 0),
    ROW(rg_limiter_take, "out NULL: nothing taken", take_null_out, NULL,
        RG_EINVAL, F_STORES),
    ROW(rg_limiter_take, "key NULL, key_len 1, 8, SIZE_MAX", take_null_key,
        NULL, RG_EINVAL, F_STORES),
    ROW(rg_limiter_take, "cost above the limit: refused, nothing charged",
        take_cost_above_limit, NULL, RG_OK, F_STORES),
    ROW(rg_limiter_take, "cost above what is left: nothing charged",
        take_over_remaining, NULL, RG_OK, F_STORES),
    ROW(rg_limiter_take, "NUL bytes inside the key: a key of its own",
        take_nul_inside_key, NULL, RG_OK, F_STORES | F_WRITES),
    ROW(rg_limiter_take, "key of 1 MiB", take_huge_key, NULL, RG_OK,
        F_STORES | F_WRITES),
    ROW(rg_limiter_take, "l from a failed rg_limiter_new()",
        take_after_failed_open, NULL, RG_EINVAL, 0),

    /* rg_client_key */
    ROW(rg_client_key, "address NULL: *out_len 0", client_key_null_address,
        NULL, RG_EINVAL, 0),
    ROW(rg_client_key, "out NULL: *out_len 0", client_key_null_out, NULL,
        RG_EINVAL, 0),
    ROW(rg_client_key, "out_len NULL", client_key_null_len, NULL, RG_EINVAL, 0),
    ROW(rg_client_key, "ipv6_prefix above 128", client_key_prefix, NULL,
        RG_EINVAL, 0),
    ROW(rg_client_key, "not an address: *out_len 0", client_key_sample,
        not_addresses, RG_EADDRESS, 0),
    ROW(rg_client_key, "not UTF-8: *out_len 0", client_key_sample, not_utf8,
        RG_EADDRESS, 0),
    ROW(rg_client_key, "1 MiB", client_key_huge, NULL, RG_EADDRESS, 0),
    ROW(rg_client_key, "the longest key: canary intact", client_key_canary,
        NULL, RG_OK, 0),

    /* rg_form_html, rg_form_json (each row runs both) */
    ROW(rg_form_html, "c NULL: out \"\"", form_null_challenge, NULL, RG_EINVAL,
        0),
    ROW(rg_form_html, "out NULL", form_null_out, NULL, RG_EINVAL, 0),
    ROW(rg_form_html, "every out_size too small: \"\", canary intact",
        form_small, NULL, RG_ETOOBIG, 0),
    ROW(rg_form_html, "f->size too small", form_config_size, NULL, RG_EINVAL,
        0),
    ROW(rg_form_html, "field name not UTF-8", form_name, not_utf8, RG_EINVAL,
        0),
    ROW(rg_form_html, "field name too long", form_name_long, NULL, RG_EINVAL,
        0),
    ROW(rg_form_html, "two fields of one name", form_name_twice, NULL,
        RG_EINVAL, 0),
    ROW(rg_form_html, "challenge strings unterminated", form_unterminated, NULL,
        RG_EINVAL, 0),
    ROW(rg_form_html, "challenge strings not UTF-8", form_challenge_text,
        not_utf8, RG_EINVAL, 0),
    ROW(rg_form_json, "expires_at beyond INT64_MAX", form_json_expiry, NULL,
        RG_EINVAL, 0),

    /* rg_judge */
    ROW(rg_judge, "g NULL: *out REJECT, no reasons", judge_null_guard, NULL,
        RG_EINVAL, F_STORES),
    ROW(rg_judge, "s NULL: *out REJECT, no reasons", judge_null_submission,
        NULL, RG_EINVAL, F_STORES),
    ROW(rg_judge, "out NULL", judge_null_out, NULL, RG_EINVAL, F_STORES),
    ROW(rg_judge, "s->size too small: nothing taken or spent",
        judge_submission_size, NULL, RG_EINVAL, F_STORES),
    ROW(rg_judge, "p->size too small: nothing taken or spent",
        judge_policy_size, NULL, RG_EINVAL, F_STORES),
    ROW(rg_judge, "each action out of range", judge_policy_actions, NULL,
        RG_EINVAL, F_STORES),
    ROW(rg_judge, "failure_cost and limit_by out of range",
        judge_policy_numbers, NULL, RG_EINVAL, F_STORES),
    ROW(rg_judge, "client not an address: nothing taken or spent",
        judge_client_sample, not_addresses, RG_EADDRESS, F_STORES),
    ROW(rg_judge, "client not UTF-8: nothing taken or spent",
        judge_client_sample, not_utf8, RG_EADDRESS, 0),
    ROW(rg_judge, "client NULL while a limiter counts by it", judge_client_null,
        NULL, RG_EADDRESS, F_STORES),
    ROW(rg_judge, "g from a failed rg_guard_new()", judge_after_failed_open,
        NULL, RG_EINVAL, 0),
    ROW(rg_judge, "every field not UTF-8: a decision", judge_fields_not_utf8,
        not_utf8, RG_OK, F_STORES | F_WRITES),
    ROW(rg_judge, "every field of 1 MiB: a decision", judge_fields_huge, NULL,
        RG_OK, F_WRITES),
};

/* The form rows run rg_form_json too. */
static bool row_covers(const row *r, const char *symbol)
{
    if (strcmp(r->symbol, symbol) == 0)
        return true;
    return strcmp(r->symbol, "rg_form_html") == 0 &&
           strcmp(symbol, "rg_form_json") == 0 && r->call != form_json_expiry;
}

/* Which row each loop iteration runs, on which backend. */
static struct {
    int row;
    enum backend backend;
} plan[2 * COUNT(rows)];
static int nplan;

static void run_row(const row *r, fx *f)
{
    char what[256];
    snprintf(what, sizeof what, "%s (%s, %s)", r->symbol, r->what,
             backend_names[f->backend]);

    snap before, after;
    snap_take(f, &before);
    if (!r->args) {
        int rc = r->call(f, NULL);
        ck_assert_msg(rc == r->want, "%s: %s, documented %s", what,
                      rg_err_name(rc), rg_err_name(r->want));
    } else {
        for (int i = 0; r->args[i]; i++) {
            int rc = r->call(f, r->args[i]);
            ck_assert_msg(rc == r->want, "%s, sample %d: %s, documented %s",
                          what, i, rg_err_name(rc), rg_err_name(r->want));
        }
    }
    if (!(r->flags & F_WRITES)) {
        snap_take(f, &after);
        ck_assert_msg(before.len == after.len &&
                          memcmp(before.bytes, after.bytes, before.len) == 0,
                      "%s: the stores changed", what);
        free(after.bytes);
    }
    free(before.bytes);
    fx_check_keys_and_replay(f, what);
}

START_TEST(hostile_row)
{
    const row *r = &rows[plan[_i].row];
    fx_open(&the_fx, plan[_i].backend);
    run_row(r, &the_fx);
    fx_close(&the_fx);
}
END_TEST

/* ---- Every exported function has rows ---- */

/* The exported names of lib/replyguard.sym. */
static int read_symbols(char names[][64], int room)
{
    FILE *fp = fopen(RG_TEST_SRCDIR "/../lib/replyguard.sym", "r");
    char line[256];
    int n = 0;
    bool global = false;

    ck_assert_ptr_nonnull(fp);
    while (fgets(line, sizeof line, fp)) {
        char name[64];
        if (strstr(line, "global:"))
            global = true;
        else if (strstr(line, "local:"))
            global = false;
        else if (global && sscanf(line, " %63[a-z0-9_];", name) == 1) {
            ck_assert_int_lt(n, room);
            memcpy(names[n++], name, sizeof name);
        }
    }
    fclose(fp);
    return n;
}

START_TEST(every_symbol_has_rows)
{
    static char names[256][64];
    int n = read_symbols(names, 256);

    /* The file lists every function of the header: far more than a few. */
    ck_assert_int_ge(n, 40);
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int r = 0; r < COUNT(rows); r++)
            found += row_covers(&rows[r], names[i]);
        ck_assert_msg(found > 0, "%s has no hostile-input row", names[i]);
    }
    /* And no row names a function that is not exported. */
    for (int r = 0; r < COUNT(rows); r++) {
        bool known = false;
        for (int i = 0; i < n && !known; i++)
            known = strcmp(rows[r].symbol, names[i]) == 0;
        ck_assert_msg(known, "row \"%s\" names %s, which is not exported",
                      rows[r].what, rows[r].symbol);
    }
}
END_TEST

Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc;

    nplan = 0;
    for (int r = 0; r < COUNT(rows); r++) {
        plan[nplan].row = r;
        plan[nplan++].backend = MEMORY;
#if RG_HAVE_SQLITE
        if (rows[r].flags & F_STORES) {
            plan[nplan].row = r;
            plan[nplan++].backend = SQLITE;
        }
#endif
    }

    tc = tcase_create("rows");
    tcase_add_loop_test(tc, hostile_row, 0, nplan);
    suite_add_tcase(s, tc);

    tc = tcase_create("coverage");
    tcase_add_test(tc, every_symbol_has_rows);
    suite_add_tcase(s, tc);
    return s;
}
