/*
 * The replay guard: each authentic token may be answered once, because its
 * nonce is recorded as spent in a store the first time.
 */
#ifndef RG_REPLAY_H
#define RG_REPLAY_H

#include "store.h"

/*
 * Spends a token's nonce: sets *fresh to true when this is the token's first
 * use (and records it), false when it was used before. The nonce stays spent
 * until token_expires_at + clock_skew_s by the caller's clock `now`.
 *
 * Errors (with *fresh false, so a caller that ignores them still fails
 * closed): RG_EINVAL when s, nonce or fresh is NULL, when now or
 * token_expires_at + clock_skew_s exceeds INT64_MAX (the range every store
 * can hold), or when the token is already past token_expires_at +
 * clock_skew_s (it should have been judged expired; recording it would
 * protect nothing); RG_EFULL and RG_ESTORE from the store. Thread-safe as
 * the store is.
 */
int rg__replay_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                     uint64_t token_expires_at, uint64_t now,
                     uint32_t clock_skew_s, bool *fresh);

#endif
