/*
 * The replay guard on top of a store.
 *
 * How long a nonce must stay spent: until no verifier could still accept its
 * token. Verifiers sharing a store (several web servers, or the CLI and the
 * blog) may disagree about the time by up to the clock skew, and each
 * compares the token's expiry and the store's entries with its own clock. A
 * verifier whose clock runs ahead would otherwise let the entry lapse at the
 * token's expiry by its clock, while one whose clock lags still accepts the
 * token for up to clock_skew_s seconds more, and would then see it as fresh
 * and accept it a second time. Keeping the entry until expiry plus the skew
 * closes that window; the cost is a little more room for a few seconds.
 */
#include "replay.h"

int rg__replay_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                     uint64_t token_expires_at, uint64_t now,
                     uint32_t clock_skew_s, bool *fresh)
{
    if (fresh)
        *fresh = false;
    if (!s || !nonce || !fresh)
        return RG_EINVAL;
    if (now > INT64_MAX ||
        token_expires_at > (uint64_t)INT64_MAX - clock_skew_s)
        return RG_EINVAL;

    uint64_t keep_until = token_expires_at + clock_skew_s;
    if (keep_until < now)
        return RG_EINVAL;
    int rc = s->ops->spend(s, nonce, keep_until, now, fresh);
    if (rc != RG_OK)
        *fresh = false; /* whatever the backend left there */
    return rc;
}
