/*
 * Token construction (docs/token-format.md):
 *
 *   field MAC  H = HMAC-SHA-256(K_fields, LP("rg-v1-fields") || LP(version)
 *                  || LP(key id) || LP(issued) || LP(expires) || LP(nonce)
 *                  || LP(locale) || LP(BLAKE2b-256(binding)))
 *   field tag  = H[0..16]        (in the token)
 *   secret     = H[16..32]       (never leaves the server)
 *   answer tag = HMAC-SHA-256(K_answer, LP("rg-v1-answer") || LP(secret)
 *                  || LP(decimal answer))[0..16]
 *
 * LP(x) is x's length as 4 bytes big-endian, then x: no field can borrow
 * bytes from its neighbour. The field tag proves a token authentic without
 * the answer, so a forged token is rejected before it can touch the replay
 * store; the answer tag binds the answer to exactly these fields through the
 * secret half, which only a key holder can compute.
 */
#include "token.h"

#include "base64url.h"
#include "bytes.h"

#include <string.h>

static const char field_label[] = "rg-v1-fields";
static const char answer_label[] = "rg-v1-answer";
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = {'r', 'g', 't', 'o',
                                                          'k', 'e', 'n', '1'};
enum { SUBKEY_FIELDS = 1, SUBKEY_ANSWER = 2 };

_Static_assert(RG__B64URL_LEN(RG__TOKEN_BYTES) == RG__TOKEN_CHARS,
               "token length");

/* Appends LP(data) at *pos. The buffers below are sized for the worst case. */
static void put_lp(uint8_t *buf, size_t *pos, const void *data, size_t len)
{
    rg__put_be32(buf + *pos, (uint32_t)len);
    memcpy(buf + *pos + 4, data, len);
    *pos += 4 + len;
}

void rg__token_key_init(rg__token_key *tk, const uint8_t key[RG_KEY_BYTES])
{
    uint8_t sub[32];

    crypto_kdf_derive_from_key(sub, sizeof sub, SUBKEY_FIELDS, kdf_context,
                               key);
    crypto_auth_hmacsha256_init(&tk->fields, sub, sizeof sub);
    crypto_kdf_derive_from_key(sub, sizeof sub, SUBKEY_ANSWER, kdf_context,
                               key);
    crypto_auth_hmacsha256_init(&tk->answer, sub, sizeof sub);
    sodium_memzero(sub, sizeof sub);
}

void rg__token_binding_hash(const char *binding, uint8_t out[32])
{
    if (!binding)
        binding = "";
    crypto_generichash(out, 32, (const unsigned char *)binding, strlen(binding),
                       NULL, 0);
}

void rg__token_field_mac(const rg__token_key *tk, const rg__token_fields *f,
                         const uint8_t binding_hash[32],
                         uint8_t tag[RG__TAG_BYTES],
                         uint8_t secret[RG__TAG_BYTES])
{
    uint8_t msg[128], be[8], mac[32];
    uint8_t version = RG__TOKEN_VERSION;
    size_t n = 0;

    put_lp(msg, &n, field_label, sizeof field_label - 1);
    put_lp(msg, &n, &version, 1);
    rg__put_be32(be, f->key_id);
    put_lp(msg, &n, be, 4);
    rg__put_be64(be, f->issued_at);
    put_lp(msg, &n, be, 8);
    rg__put_be64(be, f->expires_at);
    put_lp(msg, &n, be, 8);
    put_lp(msg, &n, f->nonce, RG__NONCE_BYTES);
    put_lp(msg, &n, &f->locale, 1);
    put_lp(msg, &n, binding_hash, 32);

    /* Copying the keyed state skips the key schedule on every token. */
    crypto_auth_hmacsha256_state st = tk->fields;
    crypto_auth_hmacsha256_update(&st, msg, n);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(tag, mac, RG__TAG_BYTES);
    memcpy(secret, mac + RG__TAG_BYTES, RG__TAG_BYTES);
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

void rg__token_answer_mac(const rg__token_key *tk,
                          const uint8_t secret[RG__TAG_BYTES], uint32_t answer,
                          uint8_t tag[RG__TAG_BYTES])
{
    uint8_t msg[64], mac[32];
    char digits[11];
    size_t n = 0, len = 0;

    /* The canonical answer: decimal, no sign, no leading zeros. */
    do {
        digits[sizeof digits - 1 - len++] = (char)('0' + answer % 10);
        answer /= 10;
    } while (answer);

    put_lp(msg, &n, answer_label, sizeof answer_label - 1);
    put_lp(msg, &n, secret, RG__TAG_BYTES);
    put_lp(msg, &n, digits + sizeof digits - len, len);

    crypto_auth_hmacsha256_state st = tk->answer;
    crypto_auth_hmacsha256_update(&st, msg, n);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(tag, mac, RG__TAG_BYTES);
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

void rg__token_encode(const rg__token_fields *f,
                      const uint8_t field_tag[RG__TAG_BYTES],
                      const uint8_t answer_tag[RG__TAG_BYTES], char *out,
                      size_t out_size)
{
    uint8_t raw[RG__TOKEN_BYTES];
    uint8_t *p = raw;

    *p++ = RG__TOKEN_VERSION;
    rg__put_be32(p, f->key_id);
    p += 4;
    rg__put_be64(p, f->issued_at);
    p += 8;
    rg__put_be64(p, f->expires_at);
    p += 8;
    memcpy(p, f->nonce, RG__NONCE_BYTES);
    p += RG__NONCE_BYTES;
    *p++ = f->locale;
    memcpy(p, field_tag, RG__TAG_BYTES);
    p += RG__TAG_BYTES;
    memcpy(p, answer_tag, RG__TAG_BYTES);

    if (out_size > RG__TOKEN_CHARS)
        rg__b64url_encode(raw, sizeof raw, out);
    else if (out_size > 0)
        out[0] = '\0';
}

bool rg__token_decode(const char *text, rg__token_fields *f,
                      uint8_t field_tag[RG__TAG_BYTES],
                      uint8_t answer_tag[RG__TAG_BYTES])
{
    uint8_t raw[RG__TOKEN_BYTES];

    /* strnlen: never read past what a valid token could be. */
    size_t len = strnlen(text, RG__TOKEN_CHARS + 1);
    if (!rg__b64url_decode(text, len, raw, sizeof raw))
        return false;

    const uint8_t *p = raw;
    if (*p++ != RG__TOKEN_VERSION)
        return false;
    f->key_id = rg__get_be32(p);
    p += 4;
    f->issued_at = rg__get_be64(p);
    p += 8;
    f->expires_at = rg__get_be64(p);
    p += 8;
    memcpy(f->nonce, p, RG__NONCE_BYTES);
    p += RG__NONCE_BYTES;
    f->locale = *p++;
    if (f->locale >= RG__LOCALE_COUNT)
        return false;
    memcpy(field_tag, p, RG__TAG_BYTES);
    p += RG__TAG_BYTES;
    memcpy(answer_tag, p, RG__TAG_BYTES);
    return true;
}
