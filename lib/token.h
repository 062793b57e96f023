/*
 * The token: the signed, stateless form of a challenge. The byte layout and
 * the construction are specified in docs/token-format.md; this file and that
 * page must agree, and tests/test-token.c checks the page's test vectors.
 */
#ifndef RG_TOKEN_H
#define RG_TOKEN_H

#include <sodium.h>

#include "internal.h"

#define RG__TOKEN_VERSION 1
#define RG__TAG_BYTES     16
#define RG__TOKEN_BYTES                                                        \
    (1 + 4 + 8 + 8 + RG__NONCE_BYTES + 1 + 2 * RG__TAG_BYTES)
/* Base64url without padding of RG__TOKEN_BYTES (70) bytes. */
#define RG__TOKEN_CHARS 94

/* What a token says, besides its tags. */
typedef struct rg__token_fields {
    uint32_t key_id;
    uint64_t issued_at;
    uint64_t expires_at;
    uint8_t nonce[RG__NONCE_BYTES];
    uint8_t locale;
} rg__token_fields;

/*
 * The two HMAC-SHA-256 states a key is used through, keyed once with the
 * key's subkeys so that each token costs no key schedule. Lives in guarded
 * memory (sodium_malloc).
 */
typedef struct rg__token_key {
    crypto_auth_hmacsha256_state fields;
    crypto_auth_hmacsha256_state answer;
} rg__token_key;

/* Derives the subkeys of a key and keys both MAC states. */
void rg__token_key_init(rg__token_key *tk, const uint8_t key[RG_KEY_BYTES]);

/* BLAKE2b-256 of the binding string (NULL counts as ""). */
void rg__token_binding_hash(const char *binding, uint8_t out[32]);

/*
 * Computes the field tag, and the secret half of the field MAC that the
 * answer tag is keyed from.
 */
void rg__token_field_mac(const rg__token_key *tk, const rg__token_fields *f,
                         const uint8_t binding_hash[32],
                         uint8_t tag[RG__TAG_BYTES],
                         uint8_t secret[RG__TAG_BYTES]);

/* Computes the answer tag for a canonical answer. */
void rg__token_answer_mac(const rg__token_key *tk,
                          const uint8_t secret[RG__TAG_BYTES], uint32_t answer,
                          uint8_t tag[RG__TAG_BYTES]);

/*
 * Serialises fields and tags as base64url into out (at least
 * RG__TOKEN_CHARS + 1 bytes).
 */
void rg__token_encode(const rg__token_fields *f,
                      const uint8_t field_tag[RG__TAG_BYTES],
                      const uint8_t answer_tag[RG__TAG_BYTES], char *out,
                      size_t out_size);

/*
 * Parses untrusted text. False when it is not a token of this version: wrong
 * length, bad alphabet, unknown version or locale.
 */
bool rg__token_decode(const char *text, rg__token_fields *f,
                      uint8_t field_tag[RG__TAG_BYTES],
                      uint8_t answer_tag[RG__TAG_BYTES]);

#endif
