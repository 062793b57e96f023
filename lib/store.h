/*
 * The store interface: every layer with state goes through it, so the same
 * replay guard (and later limiter and spam model) runs in memory, on a
 * SQLite file, or on a shared server. A backend embeds struct rg_store as its
 * first member and fills in `ops`.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include "internal.h"

struct rg_store_ops {
    const char *scheme; /* "memory", "sqlite" */

    /*
     * Records a nonce as spent until `expires_at` (Unix seconds); `now` is
     * the caller's clock. An entry is expired once expires_at < now, and
     * then no longer counts. Sets *fresh to true when the nonce had not been
     * spent before (it is spent now), false when it already was; on any
     * error *fresh is false.
     * Errors: RG_EFULL (no room without dropping a live entry: the caller
     * must fail closed), RG_ESTORE, RG_EINVAL (a time above INT64_MAX).
     * Thread-safe.
     */
    int (*spend)(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                 uint64_t expires_at, uint64_t now, bool *fresh);

    /* Frees the backend. */
    void (*close)(rg_store *s);
};

struct rg_store {
    const struct rg_store_ops *ops;
};

/*
 * Backend constructors. `rest` is the URL after "memory:" (e.g. "" or
 * "?capacity=1000"); `path` is the file name after "sqlite:".
 */
int rg__store_memory_open(rg_store **out, const char *rest);
int rg__store_sqlite_open(rg_store **out, const char *path);

#endif
