/*
 * The memory: store: spent nonces in one fixed hash table, and a spam model
 * (store-memory-bayes.c), for a single process.
 *
 * The table is bounded so that a flood of authentic tokens cannot make the
 * process grow without limit: it holds at most `capacity` entries in
 * 2 * capacity slots (open addressing, linear probing, load at most one
 * half), allocated once at open and never resized. An expired entry frees
 * its room; a live one is never dropped, because forgetting a live nonce
 * would let its token be answered twice. When every entry is live, spend()
 * fails with RG_EFULL and the guard fails closed. "Expired" is by the
 * caller's clock, which may jump forward and back: the table keeps the
 * latest end of any entry it removed, and a nonce spent until before it
 * counts as spent (see memory_spend()).
 *
 * Deletion is by backward shift, so the table has no tombstones and a probe
 * always ends at the first empty slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "export-private.h"
#include "keyed-hash.h"
#include "store-bayes-private.h"

#define DEFAULT_CAPACITY 100000u
#define MAX_CAPACITY     100000000u
/* The spam model's bound on distinct tokens. */
#define DEFAULT_TOKENS 1000000u
#define MAX_TOKENS     100000000u

/*
 * One slot. `end` is expires_at + 1, the first second at which the entry is
 * dead, so that 0 can mark an empty slot even for an entry that expires at
 * second 0. Times are at most INT64_MAX (spend() checks), so it never wraps.
 */
struct slot {
    uint8_t nonce[RG__NONCE_BYTES];
    uint64_t end;
};

struct memory_store {
    rg_store base;
    pthread_mutex_t lock;
    struct slot *slots;
    size_t nslots;   /* 2 * capacity */
    size_t capacity; /* most entries ever held, live or expired */
    size_t used;     /* occupied slots */
    bool swept;      /* a full sweep has run, at second last_sweep */
    uint64_t last_sweep;
    uint64_t forgotten; /* the latest `end` of an entry removed: see
                           memory_spend() */
    uint8_t key[crypto_shorthash_KEYBYTES];
    rg__memory_model model; /* has a lock of its own */
};

/*
 * The slot where a nonce's probe starts. Nonces are random and
 * authenticated before they get here, but they are hashed with a key
 * chosen at open anyway, so that even a caller that picked its own nonces
 * could not aim them at one cluster of the table.
 */
static size_t home_of(const struct memory_store *m, const uint8_t *nonce)
{
    return (size_t)(rg__keyed_hash(m->key, nonce, RG__NONCE_BYTES) % m->nslots);
}

static size_t next_slot(const struct memory_store *m, size_t i)
{
    return i + 1 == m->nslots ? 0 : i + 1;
}

/* Empties slot i and closes the gap (rg__probe_stays()), remembering how
 * late the entry it forgets was spent until. */
static void remove_at(struct memory_store *m, size_t i)
{
    size_t j = i;

    if (m->slots[i].end > m->forgotten)
        m->forgotten = m->slots[i].end;

    for (;;) {
        j = next_slot(m, j);
        if (m->slots[j].end == 0)
            break;
        if (rg__probe_stays(i, j, home_of(m, m->slots[j].nonce)))
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->used--;
}

/*
 * Looks for a live entry for nonce, removing the expired entries the probe
 * meets. Returns true when one is found; otherwise *pos is the empty slot
 * where the nonce belongs. The table always has an empty slot (used never
 * exceeds half the slots), so the probe ends.
 */
static bool find(struct memory_store *m, const uint8_t *nonce, uint64_t now,
                 size_t *pos)
{
    size_t i = home_of(m, nonce);

    for (;;) {
        const struct slot *sl = &m->slots[i];
        if (sl->end == 0) {
            *pos = i;
            return false;
        }
        if (sl->end <= now) {
            /* Something from later in the cluster may now sit at i, so i
             * is looked at again. */
            remove_at(m, i);
            continue;
        }
        if (memcmp(sl->nonce, nonce, RG__NONCE_BYTES) == 0)
            return true;
        i = next_slot(m, i);
    }
}

/*
 * Removes every expired entry. The walk starts just after an empty slot,
 * which no deletion can fill, so no cluster wraps past the start and a
 * backward shift only ever moves an entry from a slot not yet visited to
 * the current one, which is then looked at again.
 */
static void sweep(struct memory_store *m, uint64_t now)
{
    size_t start = 0;

    while (m->slots[start].end != 0)
        start++;
    for (size_t k = 1; k < m->nslots;) {
        size_t i = (start + k) % m->nslots;
        if (m->slots[i].end != 0 && m->slots[i].end <= now) {
            remove_at(m, i);
            continue;
        }
        k++;
    }
}

static int memory_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                        uint64_t expires_at, uint64_t now, bool *fresh)
{
    struct memory_store *m = (struct memory_store *)s;
    size_t pos;
    int rc = RG_OK;

    *fresh = false;
    /* The SQLite backend stores signed 64-bit integers; both backends take
     * the same range so that they answer alike. */
    if (expires_at > INT64_MAX || now > INT64_MAX)
        return RG_EINVAL;

    pthread_mutex_lock(&m->lock);
    if (find(m, nonce, now, &pos))
        goto out;
    if (expires_at < now) {
        /* Spent until a moment already past: there is nothing to keep. */
        *fresh = true;
        goto out;
    }
    if (expires_at < m->forgotten) {
        /* An entry spent until this late or later was removed, because a
         * clock said it had expired. This nonce may have been one like it,
         * and is live now only because the clock went back since: it
         * counts as spent, or its token could be answered twice. With a
         * clock that never goes back, an entry is removed only once its
         * end has passed, and no token still live gets here. */
        goto out;
    }
    if (m->used >= m->capacity) {
        /* A full sweep costs a walk over every slot, so it runs at most
         * once per second of the caller's clock: within one second no
         * further entry can expire, and a table full of live entries under
         * a flood is not walked again on every call. */
        if (!m->swept || m->last_sweep != now) {
            sweep(m, now);
            m->swept = true;
            m->last_sweep = now;
            /* The sweep moved entries, so the nonce's slot is found
             * again. */
            find(m, nonce, now, &pos);
        }
        if (m->used >= m->capacity) {
            rc = RG_EFULL;
            goto out;
        }
    }
    memcpy(m->slots[pos].nonce, nonce, RG__NONCE_BYTES);
    m->slots[pos].end = expires_at + 1;
    m->used++;
    *fresh = true;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int memory_bayes_lookup(rg_store *s, const rg__token_set *ts,
                               rg__counts *counts, rg__totals *totals)
{
    struct memory_store *m = (struct memory_store *)s;

    return rg__memory_model_lookup(&m->model, ts, counts, totals);
}

static int memory_bayes_apply(rg_store *s, const rg__token_set *ts,
                              const rg__delta *delta, rg__totals_delta totals)
{
    struct memory_store *m = (struct memory_store *)s;

    return rg__memory_model_apply(&m->model, ts, delta, totals);
}

static int memory_bayes_stats(rg_store *s, rg_bayes_stats *out)
{
    struct memory_store *m = (struct memory_store *)s;

    return rg__memory_model_stats(&m->model, out);
}

/* The model is a hash table in memory already: nothing to ready. */
static int memory_bayes_optimize(rg_store *s)
{
    (void)s;
    return RG_OK;
}

/* Nor to read: the model is all in memory. */
static int memory_bayes_preload(rg_store *s)
{
    (void)s;
    return RG_OK;
}

static int memory_bayes_export(rg_store *s, const rg__model_visitor *v)
{
    struct memory_store *m = (struct memory_store *)s;

    return rg__memory_model_export(&m->model, v);
}

/* The live entries, under the lock: an entry lives while now < end. */
static int memory_nonce_export(rg_store *s, uint64_t now,
                               const rg__nonce_visitor *v)
{
    struct memory_store *m = (struct memory_store *)s;
    rg__nonce_entry *e = NULL;
    size_t n = 0;
    int rc = RG_OK;

    pthread_mutex_lock(&m->lock);
    if (m->used > 0 && !(e = malloc(m->used * sizeof *e)))
        rc = RG_ENOMEM;
    for (size_t i = 0; i < m->nslots && n < m->used && rc == RG_OK; i++) {
        if (m->slots[i].end == 0 || m->slots[i].end <= now)
            continue;
        memcpy(e[n].nonce, m->slots[i].nonce, RG__NONCE_BYTES);
        e[n++].expires_at = m->slots[i].end - 1;
    }
    if (rc == RG_OK)
        rc = rg__nonces_visit_sorted(e, n, v);
    pthread_mutex_unlock(&m->lock);
    free(e);
    return rc;
}

/* Memory always answers; there is nothing to check but what it holds. The
 * limiters of memory: keep tables of their own (limit-memory.c). */
static int memory_health(rg_store *s, uint64_t now, rg__store_health *out)
{
    struct memory_store *m = (struct memory_store *)s;
    int64_t live = 0;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nslots; i++)
        live += m->slots[i].end > now;
    pthread_mutex_unlock(&m->lock);
    out->nonces = live;
    return RG_OK;
}

static void memory_close(rg_store *s)
{
    struct memory_store *m = (struct memory_store *)s;

    rg__memory_model_free(&m->model);
    pthread_mutex_destroy(&m->lock);
    free(m->slots);
    free(m);
}

static const struct rg_store_ops memory_ops = {
    .scheme = "memory",
    .spend = memory_spend,
    .bayes_lookup = memory_bayes_lookup,
    .bayes_apply = memory_bayes_apply,
    .bayes_stats = memory_bayes_stats,
    .bayes_optimize = memory_bayes_optimize,
    .bayes_preload = memory_bayes_preload,
    .bayes_export = memory_bayes_export,
    .nonce_export = memory_nonce_export,
    .health = memory_health,
    .close = memory_close,
};

/*
 * Parses the decimal number in [p, end) strictly: digits only (strtoull
 * alone would also take leading blanks and a sign), no overflow, within
 * [min, max].
 */
static int parse_count(const char *p, const char *end, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    char *stop;

    if (p == end || *p < '0' || *p > '9')
        return RG_EURL;
    errno = 0;
    unsigned long long v = strtoull(p, &stop, 10);
    if (errno == ERANGE || stop != end || v < min || v > max)
        return RG_EURL;
    *out = v;
    return RG_OK;
}

/* True when [p, end) is exactly the key `name`. */
static bool is_key(const char *p, const char *end, const char *name)
{
    size_t n = strlen(name);

    return (size_t)(end - p) == n && memcmp(p, name, n) == 0;
}

int rg__memory_options(const char *rest, size_t *capacity, size_t *tokens,
                       bool *has_capacity)
{
    bool seen_capacity = false, seen_tokens = false;
    const char *p;

    *has_capacity = false;
    *capacity = DEFAULT_CAPACITY;
    *tokens = DEFAULT_TOKENS;
    if (*rest == '\0')
        return RG_OK;
    if (*rest != '?')
        return RG_EURL;
    for (p = rest + 1;;) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        unsigned long long v;

        if (!eq)
            return RG_EURL;
        if (is_key(p, eq, "capacity") && !seen_capacity) {
            if (parse_count(eq + 1, end, 1, MAX_CAPACITY, &v) != RG_OK)
                return RG_EURL;
            *capacity = (size_t)v;
            seen_capacity = *has_capacity = true;
        } else if (is_key(p, eq, "tokens") && !seen_tokens) {
            if (parse_count(eq + 1, end, 1, MAX_TOKENS, &v) != RG_OK)
                return RG_EURL;
            *tokens = (size_t)v;
            seen_tokens = true;
        } else {
            return RG_EURL;
        }
        if (!amp)
            return RG_OK;
        p = amp + 1;
    }
}

int rg__store_memory_open(rg_store **out, const char *rest)
{
    struct memory_store *m;
    size_t capacity, tokens;
    int rc;

    if (!out)
        return RG_EINVAL;
    *out = NULL;
    if (!rest)
        return RG_EINVAL;
    bool has_capacity;
    rc = rg__memory_options(rest, &capacity, &tokens, &has_capacity);
    if (rc != RG_OK)
        return rc;
    if (capacity > SIZE_MAX / 2 / sizeof(struct slot))
        return RG_ENOMEM;

    m = calloc(1, sizeof *m);
    if (!m)
        return RG_ENOMEM;
    m->base.ops = &memory_ops;
    m->capacity = capacity;
    m->nslots = 2 * capacity;
    /* calloc: the zeroed slots are the empty table, and large tables cost
     * only address space until entries land in them. */
    m->slots = calloc(m->nslots, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return RG_ENOMEM;
    }
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->slots);
        free(m);
        return RG_ENOMEM;
    }
    /* The model allocates nothing until it learns, so a store used only
     * for nonces pays nothing for it. */
    if (rg__memory_model_init(&m->model, tokens) != RG_OK) {
        pthread_mutex_destroy(&m->lock);
        free(m->slots);
        free(m);
        return RG_ENOMEM;
    }
    randombytes_buf(m->key, sizeof m->key);
    *out = &m->base;
    return RG_OK;
}
