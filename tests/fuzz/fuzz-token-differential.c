/*
 * Fuzz target: rg_challenge_verify() against an independent reading of
 * docs/token-format.md, written here from the page alone with libsodium's
 * primitives (BLAKE2b with salt and personalisation for the subkeys,
 * BLAKE2b for the binding, HMAC-SHA-256, base64url without padding).
 *
 * From the input come a key and its id, a token's fields (key id, issue
 * and expiry times, nonce, locale), its binding and answer, the guard's
 * minimum solve time and clock skew, and up to four attempts, each with
 * a time, a binding, an answer and perhaps an alteration of the token (a
 * byte of it, a character of its text, or other text altogether). The
 * token is made here, by the page; both verifiers judge every attempt,
 * and their verdicts must agree. Any disagreement is a bug in the library
 * or in the page. One limit is the header's, not the page's: a library
 * whose clock reads past INT64_MAX fails closed rather than spend a token.
 *
 * Input layout (little-endian; missing bytes read as zeros): flags (1),
 * key (32), guard key id (4), token key id (4), min solve (4), skew (4),
 * now (8), issued-at offset or value (8), lifetime or expiry (8), nonce
 * (16), locale (1), token answer (4), then per attempt: flags (1), time
 * step (4), alteration position (1) and value (1); then NUL-separated
 * strings: the token's binding, and each attempt's binding, answer and
 * replacement text.
 *
 * Flags: 1 the token's key id instead of the guard's; 2 any times (else
 * issued within 32768 s of now, for up to 65535 s); 4 times and settings
 * cut to small values; 8 any locale byte; 16 any answer (else below
 * 1000); bits 5 and 6 the number of attempts less one. An attempt's flags:
 * 1 its own binding, 2 its own answer (else the token's), 4 a byte of the
 * token altered, 8 a character of its text, 16 the replacement text
 * instead; 32 a time step of any sign (else 0 to 4095 s forward).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "replyguard.h"

#define RAW_BYTES  70
#define TEXT_CHARS 94
#define TAG_BYTES  16

static const char *const locales[] = {"en", "ru", "de", "fr", "es"};
#define NLOCALES (sizeof locales / sizeof locales[0])

/* Times compared exactly, as the page does, past 64 bits. */
__extension__ typedef unsigned __int128 u128;

/* ---- The page: docs/token-format.md ---- */

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* LP(x): x's length as 4 bytes big-endian, then x. */
static void lp(uint8_t *msg, size_t *len, const void *x, size_t n)
{
    put_be(msg + *len, n, 4);
    memcpy(msg + *len + 4, x, n);
    *len += 4 + n;
}

/* "BLAKE2b-256 keyed with K, salt = the subkey id as 8 bytes little-endian
 * followed by 8 zero bytes, personalisation = rgtoken1 followed by 8 zero
 * bytes, empty message." */
static void subkey(const uint8_t key[32], uint64_t id, uint8_t out[32])
{
    uint8_t salt[16] = {0},
            person[16] = {'r', 'g', 't', 'o', 'k', 'e', 'n', '1'};
    for (size_t i = 0; i < 8; i++)
        salt[i] = (uint8_t)(id >> (8 * i));
    FUZZ_CHECK(crypto_generichash_blake2b_salt_personal(out, 32, NULL, 0, key,
                                                        32, salt, person) == 0,
               "blake2b");
}

/* The field MAC M of the raw token's fields, with binding hash B. */
static void field_mac(const uint8_t key[32], const uint8_t raw[RAW_BYTES],
                      const char *binding, uint8_t m[32])
{
    uint8_t k_fields[32], b[32], msg[256];
    size_t n = 0;
    subkey(key, 1, k_fields);
    crypto_generichash(b, sizeof b, (const uint8_t *)binding, strlen(binding),
                       NULL, 0);
    lp(msg, &n, "rg-v1-fields", 12);
    lp(msg, &n, raw, 1);       /* version */
    lp(msg, &n, raw + 1, 4);   /* key id */
    lp(msg, &n, raw + 5, 8);   /* issued at */
    lp(msg, &n, raw + 13, 8);  /* expires at */
    lp(msg, &n, raw + 21, 16); /* nonce */
    lp(msg, &n, raw + 37, 1);  /* locale */
    lp(msg, &n, b, sizeof b);
    crypto_auth_hmacsha256(m, msg, n, k_fields);
}

/* The answer tag for a canonical answer, from the secret M[16..32]. */
static void answer_tag(const uint8_t key[32], const uint8_t m[32],
                       uint32_t answer, uint8_t tag[TAG_BYTES])
{
    uint8_t k_answer[32], msg[128], mac[32];
    char digits[16];
    size_t n = 0;
    subkey(key, 2, k_answer);
    int len = snprintf(digits, sizeof digits, "%u", (unsigned)answer);
    lp(msg, &n, "rg-v1-answer", 12);
    lp(msg, &n, m + 16, 16);
    lp(msg, &n, digits, (size_t)len);
    crypto_auth_hmacsha256(mac, msg, n, k_answer);
    memcpy(tag, mac, TAG_BYTES);
}

typedef struct token_spec {
    uint8_t key[32];
    uint32_t key_id;
    uint64_t issued_at, expires_at;
    uint8_t nonce[16];
    uint8_t locale;
    const char *binding;
    uint32_t answer;
} token_spec;

static void make_raw(const token_spec *t, uint8_t raw[RAW_BYTES])
{
    uint8_t m[32];
    raw[0] = 1;
    put_be(raw + 1, t->key_id, 4);
    put_be(raw + 5, t->issued_at, 8);
    put_be(raw + 13, t->expires_at, 8);
    memcpy(raw + 21, t->nonce, 16);
    raw[37] = t->locale;
    field_mac(t->key, raw, t->binding, m);
    memcpy(raw + 38, m, TAG_BYTES);
    answer_tag(t->key, m, t->answer, raw + 54);
}

/* What a verifier holding one key, and the nonces it has spent, decides. */
typedef struct verifier {
    uint8_t key[32];
    uint32_t key_id;
    uint32_t min_solve, skew;
    struct {
        uint8_t nonce[16];
        u128 until;
    } spent[8];
    size_t nspent;
} verifier;

static rg_verdict page_verify(verifier *v, const char *text, const char *answer,
                              const char *binding, uint64_t now, bool *spent)
{
    uint8_t raw[RAW_BYTES], m[32], tag[TAG_BYTES];
    size_t len = strlen(text), bin_len = 0;
    const char *end = NULL;

    *spent = false;

    /* malformed: not 94 base64url characters, a non-canonical final
     * character, version not 1, locale unknown. The alphabet is checked
     * here: libsodium 1.0.18's decoder takes any byte above 0x7f for a
     * character of it. */
    if (len != TEXT_CHARS || strspn(text, alphabet) != len ||
        sodium_base642bin(raw, sizeof raw, text, len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bin_len != RAW_BYTES || end != text + len || raw[0] != 1 ||
        raw[37] >= NLOCALES)
        return RG_VERDICT_MALFORMED;

    /* forged: unknown key id, or the field tag differs. */
    if (get_be(raw + 1, 4) != v->key_id)
        return RG_VERDICT_FORGED;
    field_mac(v->key, raw, binding, m);
    if (crypto_verify_16(m, raw + 38) != 0)
        return RG_VERDICT_FORGED;

    /* expired: now >= expires at, or issued at > now + skew (exact
     * arithmetic: the page has no word on overflow). */
    u128 issued = get_be(raw + 5, 8);
    u128 expires = get_be(raw + 13, 8);
    if (now >= expires || issued > (u128)now + v->skew)
        return RG_VERDICT_EXPIRED;
    if (now < issued + v->min_solve)
        return RG_VERDICT_TOO_FAST;

    /* replayed: the nonce is already spent; otherwise it is spent now,
     * until expires at + skew. (The page also allows a store that forgot
     * a spent nonce to refuse others that expire no later; here only one
     * nonce ever reaches the store, any other is forged, and a live
     * token's own entry is never forgotten.) */
    for (size_t i = 0; i < v->nspent; i++)
        if (memcmp(v->spent[i].nonce, raw + 21, 16) == 0 &&
            now <= v->spent[i].until)
            return RG_VERDICT_REPLAYED;
    FUZZ_CHECK(v->nspent < sizeof v->spent / sizeof v->spent[0], "spent");
    memcpy(v->spent[v->nspent].nonce, raw + 21, 16);
    v->spent[v->nspent++].until = expires + v->skew;
    *spent = true;

    /* wrong: the answer is not a number (docs/answers.md), or A for its
     * value differs from the answer tag. */
    uint32_t value;
    if (rg_answer_parse(answer, locales[raw[37]], &value) != RG_OK)
        return RG_VERDICT_WRONG;
    answer_tag(v->key, m, value, tag);
    return crypto_verify_16(tag, raw + 54) == 0 ? RG_VERDICT_PASS
                                                : RG_VERDICT_WRONG;
}

/* ---- The run ---- */

static void encode(const uint8_t raw[RAW_BYTES], char text[TEXT_CHARS + 1])
{
    sodium_bin2base64(text, TEXT_CHARS + 1, raw, RAW_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_u8(&in);
    token_spec t;
    verifier v;
    memset(&v, 0, sizeof v);

    fuzz_bytes(&in, t.key, sizeof t.key);
    memcpy(v.key, t.key, sizeof v.key);
    v.key_id = fuzz_u32(&in);
    uint32_t other_id = fuzz_u32(&in);
    t.key_id = flags & 1 ? other_id : v.key_id;
    v.min_solve = fuzz_u32(&in);
    v.skew = fuzz_u32(&in);
    uint64_t now = fuzz_u64(&in);
    uint64_t a = fuzz_u64(&in), b = fuzz_u64(&in);
    if (flags & 2) {
        /* Any times at all. */
        t.issued_at = a;
        t.expires_at = b;
    } else {
        /* Issued around now, for a while: mostly live tokens. */
        t.issued_at = now + (uint64_t)(int64_t)(int16_t)a;
        t.expires_at = t.issued_at + (uint16_t)b;
    }
    if (flags & 4) {
        /* Small values, to stay clear of the edges of time. */
        now &= 0xffffffff;
        t.issued_at &= 0xffffffff;
        t.expires_at &= 0xffffffff;
        v.skew &= 0xffff;
        v.min_solve &= 0xffff;
    }
    fuzz_bytes(&in, t.nonce, sizeof t.nonce);
    t.locale = fuzz_u8(&in);
    if (!(flags & 8))
        t.locale %= NLOCALES;
    t.answer = fuzz_u32(&in);
    if (!(flags & 16))
        t.answer %= 1000;

    int attempts = 1 + (flags >> 5) % 4;
    struct {
        uint8_t flags, pos, value;
        uint32_t step;
    } at[4];
    for (int i = 0; i < attempts; i++) {
        at[i].flags = fuzz_u8(&in);
        at[i].step = fuzz_u32(&in);
        at[i].pos = fuzz_u8(&in);
        at[i].value = fuzz_u8(&in);
    }
    char *token_binding = fuzz_string(&in);
    t.binding = token_binding;

    /* The guard: one key, the clock, the two settings that verification
     * reads. A guard wants min_solve_s below ttl_s, which only issuing
     * uses. */
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = fuzz_clock;
    cfg.clock_arg = &now;
    cfg.store = "memory:?capacity=16";
    cfg.ttl_s = UINT32_MAX;
    if (v.min_solve == UINT32_MAX)
        v.min_solve--;
    cfg.min_solve_s = v.min_solve;
    cfg.clock_skew_s = v.skew;
    rg_guard *g = NULL;
    FUZZ_CHECK(rg_guard_new(&g, &cfg) == RG_OK, "rg_guard_new");
    FUZZ_CHECK(rg_guard_add_key(g, v.key_id, v.key, 1) == RG_OK, "add key");

    uint8_t raw[RAW_BYTES];
    make_raw(&t, raw);

    for (int i = 0; i < attempts; i++) {
        uint8_t f = at[i].flags;
        char *binding = fuzz_string(&in);
        char *answer = fuzz_string(&in);
        char *other = fuzz_string(&in);

        /* Mostly the token's own binding and answer. */
        const char *use_binding = f & 1 ? binding : token_binding;
        char digits[16];
        snprintf(digits, sizeof digits, "%u", (unsigned)t.answer);
        const char *use_answer = f & 2 ? answer : digits;

        uint8_t altered[RAW_BYTES];
        memcpy(altered, raw, sizeof altered);
        if (f & 4)
            altered[at[i].pos % RAW_BYTES] ^= at[i].value | 1;
        char text[TEXT_CHARS + 1];
        encode(altered, text);
        if (f & 8)
            text[at[i].pos % TEXT_CHARS] = (char)at[i].value;
        const char *use_text = f & 16 ? other : text;

        /* Time moves on (or back) between attempts. */
        if (i > 0)
            now += f & 32 ? (uint64_t)(int64_t)(int32_t)at[i].step
                          : at[i].step % 4096;

        rg_verdict lib = RG_VERDICT_PASS;
        int rc =
            rg_challenge_verify(g, use_text, use_answer, use_binding, &lib);
        bool spent;
        rg_verdict page =
            page_verify(&v, use_text, use_answer, use_binding, now, &spent);
        if (now > INT64_MAX &&
            (page == RG_VERDICT_REPLAYED || page == RG_VERDICT_WRONG ||
             page == RG_VERDICT_PASS)) {
            /* The header: no store records a time past INT64_MAX, so the
             * library refuses to spend the token, and fails closed. */
            FUZZ_CHECK(rc == RG_EINVAL && lib == RG_VERDICT_MALFORMED,
                       "clock %llu: %s (%s) where the page says %s",
                       (unsigned long long)now, rg_verdict_name(lib),
                       rg_err_name(rc), rg_verdict_name(page));
            v.nspent -= spent;
            page = lib;
            rc = RG_OK;
        }
        FUZZ_CHECK(rc == RG_OK && lib == page,
                   "attempt %d at %llu: library %s (%s), page %s\n"
                   "  token %s\n  issued %llu expires %llu skew %u "
                   "min solve %u",
                   i, (unsigned long long)now, rg_verdict_name(lib),
                   rg_err_name(rc), rg_verdict_name(page), use_text,
                   (unsigned long long)t.issued_at,
                   (unsigned long long)t.expires_at, (unsigned)v.skew,
                   (unsigned)v.min_solve);
        free(binding);
        free(answer);
        free(other);
    }
    free(token_binding);
    rg_guard_free(g);
    return 0;
}
