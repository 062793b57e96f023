/*
 * Export of what a store holds, for the command-line tool's stats, export,
 * import and migrate (tools/cli-model.c): a walk over a model's tokens and
 * over the spent nonces, a check of the store's health, and the calls
 * behind them. None of this is public API; it is reached by linking the
 * library's objects statically.
 *
 * - lib/export.c: the rg__store_* calls below, which check that the
 *   backend has the operation (struct rg_store_ops in store.h), and the
 *   sorting that the walks of memory: and redis: share, so that every
 *   backend walks in one order and exports of one model are alike byte
 *   for byte.
 * - Each backend's operations: store-memory*.c, store-sqlite*.c and
 *   store-redis.c.
 */
#ifndef RG_EXPORT_PRIVATE_H
#define RG_EXPORT_PRIVATE_H

#include "store-bayes-private.h"

/* ---- For the tool ---- */

/* The store's scheme, "memory", "sqlite" or "redis". */
const char *rg__store_scheme(const rg_store *s);

/*
 * Walks the whole model (see rg__model_visitor in store.h). Errors:
 * RG_ENOSUPPORT (the backend has no such walk), as the operation's.
 */
int rg__store_export_model(rg_store *s, const rg__model_visitor *v);

/*
 * Walks the nonces spent and still live at `now` (see rg__nonce_visitor).
 * Errors: RG_ENOSUPPORT, as the operation's.
 */
int rg__store_export_nonces(rg_store *s, uint64_t now,
                            const rg__nonce_visitor *v);

/* Checks the store (see rg__store_health). Errors: RG_ENOSUPPORT, as the
 * operation's. */
int rg__store_check(rg_store *s, uint64_t now, rg__store_health *out);

/*
 * The model's totals, all four of them (rg_bayes_stats_get() gives only
 * the comments), and its number of distinct tokens: two reads, which a
 * learning in between may tell apart. Errors: RG_ENOSUPPORT, RG_ESTORE,
 * RG_ENOMEM.
 */
int rg__store_model_totals(rg_store *s, rg__totals *out, uint64_t *tokens);

/* The bayes_optimize operation: sqlite: writes the model image.
 * Errors: RG_ENOSUPPORT, as the operation's. */
int rg__store_model_optimize(rg_store *s);

/*
 * Adds delta[i] to the counts of token i of ts and `totals` to the
 * totals, all or nothing: the bayes_apply operation, which with sqlite: is
 * one transaction. Errors: as bayes_apply.
 */
int rg__store_model_add(rg_store *s, const rg__token_set *ts,
                        const rg__delta *delta, rg__totals_delta totals);

/*
 * Marks a nonce spent until expires_at, as the replay guard does: *fresh
 * tells whether it was not spent before. Errors: as the spend operation.
 */
int rg__store_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                    uint64_t expires_at, uint64_t now, bool *fresh);

/* ---- For the backends ---- */

/*
 * Calls fn for every entry of a count map, in no particular order; a
 * call that returns anything but RG_OK ends the walk, which returns it.
 * The token is valid during the call (store-memory-bayes.c).
 */
int rg__count_map_each(const rg__count_map *m,
                       int (*fn)(void *arg, const char *token, size_t len,
                                 rg__counts counts),
                       void *arg);

/*
 * Calls v->token for every entry of a count map but those of 0, 0, in
 * token order (not v->totals). Errors: RG_ENOMEM, or a callback's.
 */
int rg__count_map_visit_sorted(const rg__count_map *m,
                               const rg__model_visitor *v);

/* One spent nonce, as a walk gathers them. */
typedef struct rg__nonce_entry {
    uint8_t nonce[RG__NONCE_BYTES];
    uint64_t expires_at;
} rg__nonce_entry;

/* Sorts n nonces by their bytes and calls v->nonce for each, once for a
 * nonce that appears more than once. Errors: a callback's. */
int rg__nonces_visit_sorted(rg__nonce_entry *e, size_t n,
                            const rg__nonce_visitor *v);

/* bayes_export of the memory: model, under its lock. */
int rg__memory_model_export(rg__memory_model *mm, const rg__model_visitor *v);

/* bayes_export of the sqlite: model, in one read transaction. */
int rg__sqlite_model_export(rg__sqlite_model *sm, const rg__model_visitor *v);

#endif
