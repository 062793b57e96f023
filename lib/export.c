/*
 * Export of what a store holds: the calls of export-private.h that the
 * command-line tool makes, and the ordered walks that memory: and redis:
 * share. A model walks in token order whatever its backend (SQLite keeps
 * that order in its primary key; the hash tables of the others are sorted
 * here), so that one model exported from any of them gives the same file.
 */
#include <stdlib.h>
#include <string.h>

#include "export-private.h"

const char *rg__store_scheme(const rg_store *s)
{
    return s->ops->scheme;
}

int rg__store_export_model(rg_store *s, const rg__model_visitor *v)
{
    if (!s->ops->bayes_export)
        return RG_ENOSUPPORT;
    return s->ops->bayes_export(s, v);
}

int rg__store_export_nonces(rg_store *s, uint64_t now,
                            const rg__nonce_visitor *v)
{
    if (!s->ops->nonce_export)
        return RG_ENOSUPPORT;
    return s->ops->nonce_export(s, now, v);
}

int rg__store_check(rg_store *s, uint64_t now, rg__store_health *out)
{
    memset(out, 0, sizeof *out);
    out->nonces = -1;
    out->limit_keys = -1;
    if (!s->ops->health)
        return RG_ENOSUPPORT;
    return s->ops->health(s, now, out);
}

int rg__store_model_totals(rg_store *s, rg__totals *out, uint64_t *tokens)
{
    /* A lookup of no tokens reads just the totals, in every backend. */
    rg__token_set empty;
    rg_bayes_stats st;

    if (!s->ops->bayes_lookup || !s->ops->bayes_stats)
        return RG_ENOSUPPORT;
    rg__token_set_init(&empty, 0);
    int rc = s->ops->bayes_lookup(s, &empty, NULL, out);
    if (rc == RG_OK)
        rc = s->ops->bayes_stats(s, &st);
    if (rc == RG_OK)
        *tokens = st.tokens;
    return rc;
}

int rg__store_model_optimize(rg_store *s)
{
    if (!s->ops->bayes_optimize)
        return RG_ENOSUPPORT;
    return s->ops->bayes_optimize(s);
}

int rg__store_model_add(rg_store *s, const rg__token_set *ts,
                        const rg__delta *delta, rg__totals_delta totals)
{
    if (!s->ops->bayes_apply)
        return RG_ENOSUPPORT;
    return s->ops->bayes_apply(s, ts, delta, totals);
}

int rg__store_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                    uint64_t expires_at, uint64_t now, bool *fresh)
{
    return s->ops->spend(s, nonce, expires_at, now, fresh);
}

/* ---- Walks in order ---- */

/* One token of a count map, pointing into the map's arena. */
typedef struct entry {
    const char *token;
    size_t len;
    rg__counts counts;
} entry;

typedef struct gathered {
    entry *e;
    size_t n, room;
} gathered;

static int gather(void *arg, const char *token, size_t len, rg__counts counts)
{
    gathered *g = arg;

    if (counts.spam == 0 && counts.ham == 0)
        return RG_OK;
    if (!rg__grow(&g->e, &g->room, g->n + 1, sizeof *g->e, 1024, false))
        return RG_ENOMEM;
    g->e[g->n++] = (entry){token, len, counts};
    return RG_OK;
}

/* SQLite's order of BLOBs: memcmp() over the shorter length, then the
 * shorter first. */
static int by_token(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->token, y->token, n);

    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

int rg__count_map_visit_sorted(const rg__count_map *m,
                               const rg__model_visitor *v)
{
    gathered g = {NULL, 0, 0};
    int rc = rg__count_map_each(m, gather, &g);

    if (rc == RG_OK && g.n > 1)
        qsort(g.e, g.n, sizeof *g.e, by_token);
    for (size_t i = 0; i < g.n && rc == RG_OK; i++)
        rc = v->token(v->arg, g.e[i].token, g.e[i].len, g.e[i].counts);
    free(g.e);
    return rc;
}

static int by_nonce(const void *a, const void *b)
{
    return memcmp(((const rg__nonce_entry *)a)->nonce,
                  ((const rg__nonce_entry *)b)->nonce, RG__NONCE_BYTES);
}

int rg__nonces_visit_sorted(rg__nonce_entry *e, size_t n,
                            const rg__nonce_visitor *v)
{
    int rc = RG_OK;

    if (n > 1)
        qsort(e, n, sizeof *e, by_nonce);
    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        /* A scan (redis:) may meet a key twice: it is visited once. */
        if (i > 0 && by_nonce(&e[i - 1], &e[i]) == 0)
            continue;
        rc = v->nonce(v->arg, e[i].nonce, e[i].expires_at);
    }
    return rc;
}
