/*
 * The spam model of memory:, and the count map it is made of (which the
 * sqlite: model reuses as its cache).
 *
 * A count map is open addressing with linear probing over slots of 16
 * bytes, at most three quarters full, doubling as it fills up to what its
 * entry limit needs and never beyond. Keys live in one arena (a length byte
 * and the bytes, with no per-token allocation); a slot points into it.
 * Tokens are short (a few bytes to 64), so a pointer or a fixed 64-byte
 * key per slot would cost more than the token itself. Removing an entry
 * shifts its cluster back, so there are no tombstones, and leaves its key
 * bytes dead in the arena until the arena is compacted; compaction runs
 * when the arena is full and at least half dead, so dead bytes never cost
 * more than the live ones.
 *
 * Memory per token is therefore 16 / load bytes of slots (load between
 * 3/8 and 3/4) plus the token's length plus one, plus arena slack: about
 * 40 to 60 bytes for tokens of 8 to 12 bytes.
 *
 * Keys come from untrusted comments, so they are placed by their
 * rg__token_hash(), SipHash under a key chosen at random once per process:
 * nobody can craft tokens that all land in one cluster. Callers pass the
 * hash, which a token set already holds for each of its tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "export-private.h"
#include "store-bayes-private.h"

#define TAG_SHIFT   40
#define OFFSET_MASK (((uint64_t)1 << TAG_SHIFT) - 1)
/* An offset plus one must fit below the tag. */
#define MAX_ARENA (OFFSET_MASK - 1)
#define MIN_SLOTS 64
#define MIN_ARENA 4096

/* Linear probing keeps its probes short up to a load of three quarters. */
static size_t room_of(size_t nslots)
{
    return nslots / 4 * 3;
}

/* The smallest table with room for `entries`, or 0 when too large. */
static size_t slots_for(size_t entries)
{
    size_t n = MIN_SLOTS;

    while (room_of(n) < entries) {
        if (n > SIZE_MAX / 2 / sizeof(rg__count_slot))
            return 0;
        n *= 2;
    }
    return n;
}

static const unsigned char *key_at(const rg__count_map *m, uint64_t ref)
{
    return m->keys + (ref & OFFSET_MASK) - 1;
}

void rg__count_map_init(rg__count_map *m, size_t max_entries)
{
    memset(m, 0, sizeof *m);
    m->max_entries = max_entries;
}

void rg__count_map_free(rg__count_map *m)
{
    free(m->slots);
    free(m->keys);
    sodium_memzero(m, sizeof *m);
}

void rg__count_map_clear(rg__count_map *m)
{
    if (m->slots)
        memset(m->slots, 0, m->nslots * sizeof *m->slots);
    m->count = 0;
    m->keys_len = 0;
    m->keys_dead = 0;
}

static size_t home_of(const rg__count_map *m, uint64_t ref)
{
    const unsigned char *k = key_at(m, ref);
    return (size_t)rg__token_hash((const char *)k + 1, k[0]) & (m->nslots - 1);
}

/*
 * Looks for a token. True when found at *pos; otherwise *pos is the empty
 * slot where it belongs. The table is never full (load at most three
 * quarters), so a probe always ends.
 */
static bool find(const rg__count_map *m, uint64_t hash, const char *token,
                 size_t len, size_t *pos)
{
    if (m->nslots == 0) {
        *pos = 0;
        return false;
    }
    size_t mask = m->nslots - 1;
    uint64_t tag = hash >> TAG_SHIFT;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        uint64_t ref = m->slots[i].ref;
        if (ref == 0) {
            *pos = i;
            return false;
        }
        if (ref >> TAG_SHIFT == tag) {
            const unsigned char *k = key_at(m, ref);
            if (k[0] == len && memcmp(k + 1, token, len) == 0) {
                *pos = i;
                return true;
            }
        }
    }
}

bool rg__count_map_get(const rg__count_map *m, uint64_t hash, const char *token,
                       size_t len, rg__counts *out)
{
    size_t i;

    if (!find(m, hash, token, len, &i))
        return false;
    *out = m->slots[i].counts;
    return true;
}

int rg__count_map_each(const rg__count_map *m,
                       int (*fn)(void *arg, const char *token, size_t len,
                                 rg__counts counts),
                       void *arg)
{
    for (size_t i = 0; i < m->nslots; i++) {
        uint64_t ref = m->slots[i].ref;
        if (ref == 0)
            continue;
        const unsigned char *k = key_at(m, ref);
        int rc = fn(arg, (const char *)k + 1, k[0], m->slots[i].counts);
        if (rc != RG_OK)
            return rc;
    }
    return RG_OK;
}

/* Moves every entry into a new table of nslots slots. */
static int grow_slots(rg__count_map *m, size_t nslots)
{
    rg__count_slot *slots = rg__table_alloc(nslots, sizeof *slots);
    size_t mask = nslots - 1;

    if (!slots)
        return RG_ENOMEM;
    for (size_t i = 0; i < m->nslots; i++) {
        uint64_t ref = m->slots[i].ref;
        if (ref == 0)
            continue;
        const unsigned char *k = key_at(m, ref);
        size_t j = (size_t)rg__token_hash((const char *)k + 1, k[0]) & mask;
        while (slots[j].ref != 0)
            j = (j + 1) & mask;
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return RG_OK;
}

/* Copies the live keys into a new arena of `room` bytes. */
static int compact_keys(rg__count_map *m, size_t room)
{
    unsigned char *keys = malloc(room);
    size_t len = 0;

    if (!keys)
        return RG_ENOMEM;
    for (size_t i = 0; i < m->nslots; i++) {
        uint64_t ref = m->slots[i].ref;
        if (ref == 0)
            continue;
        const unsigned char *k = key_at(m, ref);
        size_t n = (size_t)k[0] + 1;
        memcpy(keys + len, k, n);
        m->slots[i].ref = (ref & ~OFFSET_MASK) | (uint64_t)(len + 1);
        len += n;
    }
    free(m->keys);
    m->keys = keys;
    m->keys_len = len;
    m->keys_room = room;
    m->keys_dead = 0;
    return RG_OK;
}

static int reserve_keys(rg__count_map *m, size_t more)
{
    size_t live = m->keys_len - m->keys_dead;

    if (m->keys_room - m->keys_len >= more)
        return RG_OK;
    if (more > MAX_ARENA - m->keys_len)
        return RG_ENOMEM;
    if (m->keys_dead >= live && m->keys_dead > 0) {
        /* Half the arena is dead: compacting frees at least as much as
         * doubling would add. Room to spare keeps the next compaction
         * far off. */
        size_t need = live + more;
        return compact_keys(m, need > MAX_ARENA / 2 ? MAX_ARENA : need * 2);
    }
    size_t need = m->keys_len + more;
    size_t room = m->keys_room ? m->keys_room : MIN_ARENA;
    while (room < need)
        room = room > MAX_ARENA / 2 ? MAX_ARENA : room * 2;
    unsigned char *keys = realloc(m->keys, room);
    if (!keys)
        return RG_ENOMEM;
    m->keys = keys;
    m->keys_room = room;
    return RG_OK;
}

int rg__count_map_reserve(rg__count_map *m, size_t entries, size_t key_bytes)
{
    int rc;

    if (entries > m->max_entries)
        return RG_EFULL;
    if (entries > room_of(m->nslots)) {
        size_t nslots = slots_for(entries);
        if (nslots == 0)
            return RG_ENOMEM;
        rc = grow_slots(m, nslots);
        if (rc != RG_OK)
            return rc;
    }
    return reserve_keys(m, key_bytes);
}

bool rg__count_map_put(rg__count_map *m, uint64_t hash, const char *token,
                       size_t len, rg__counts counts)
{
    size_t i;

    if (find(m, hash, token, len, &i)) {
        m->slots[i].counts = counts;
        return true;
    }
    if (len > RG__TOKEN_LEN_MAX || m->count + 1 > room_of(m->nslots) ||
        m->count + 1 > m->max_entries || m->keys_room - m->keys_len < len + 1)
        return false;
    size_t off = m->keys_len;
    m->keys[off] = (unsigned char)len;
    memcpy(m->keys + off + 1, token, len);
    m->keys_len += len + 1;
    m->slots[i].ref = (hash & ~OFFSET_MASK) | (uint64_t)(off + 1);
    m->slots[i].counts = counts;
    m->count++;
    return true;
}

/* Backward-shift deletion (rg__probe_stays()): no tombstones. */
void rg__count_map_remove(rg__count_map *m, uint64_t hash, const char *token,
                          size_t len)
{
    size_t i, j, mask = m->nslots - 1;

    if (!find(m, hash, token, len, &i))
        return;
    m->keys_dead += (size_t)key_at(m, m->slots[i].ref)[0] + 1;
    for (j = i;;) {
        j = (j + 1) & mask;
        if (m->slots[j].ref == 0)
            break;
        if (rg__probe_stays(i, j, home_of(m, m->slots[j].ref)))
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->count--;
}

size_t rg__count_map_bytes(const rg__count_map *m)
{
    return m->nslots * sizeof *m->slots + m->keys_room;
}

/* ---- Checks ---- */

int rg__count_add(uint32_t old, int64_t delta, uint32_t *out)
{
    if (delta < -(int64_t)old)
        return RG_ENOTLEARNED;
    if (delta > (int64_t)UINT32_MAX - (int64_t)old)
        return RG_ERANGE;
    *out = (uint32_t)((int64_t)old + delta);
    return RG_OK;
}

int rg__total_add(uint64_t old, int64_t delta, uint64_t *out)
{
    if (old > INT64_MAX)
        return RG_ERANGE;
    if (delta < -(int64_t)old)
        return RG_ENOTLEARNED;
    if (delta > INT64_MAX - (int64_t)old)
        return RG_ERANGE;
    *out = (uint64_t)((int64_t)old + delta);
    return RG_OK;
}

static int rank(int rc)
{
    switch (rc) {
    case RG_OK:
        return 0;
    case RG_ERANGE:
        return 1;
    case RG_EFULL:
        return 2;
    case RG_ENOTLEARNED:
        return 3;
    default:
        return 4; /* anything else is a failure of its own, reported first */
    }
}

int rg__apply_error(int a, int b)
{
    return rank(b) > rank(a) ? b : a;
}

int rg__totals_add(const rg__totals *old, rg__totals_delta delta,
                   rg__totals *out)
{
    int rc = rg__total_add(old->spam, delta.spam, &out->spam);
    rc = rg__apply_error(rc, rg__total_add(old->ham, delta.ham, &out->ham));
    rc = rg__apply_error(
        rc, rg__total_add(old->spam_words, delta.spam_words, &out->spam_words));
    return rg__apply_error(
        rc, rg__total_add(old->ham_words, delta.ham_words, &out->ham_words));
}

/* ---- The memory: model ---- */

int rg__memory_model_init(rg__memory_model *mm, size_t limit)
{
    pthread_rwlockattr_t attr;
    int rc;

    memset(mm, 0, sizeof *mm);
    if (pthread_rwlockattr_init(&attr) != 0)
        return RG_ENOMEM;
#ifdef __GLIBC__
    /* glibc's default lets a steady stream of classifying readers starve
     * the writer, and a busy blog would never learn. */
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    rc = pthread_rwlock_init(&mm->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0)
        return RG_ENOMEM;
    rg__count_map_init(&mm->map, limit);
    return RG_OK;
}

void rg__memory_model_free(rg__memory_model *mm)
{
    pthread_rwlock_destroy(&mm->lock);
    rg__count_map_free(&mm->map);
}

int rg__memory_model_lookup(rg__memory_model *mm, const rg__token_set *ts,
                            rg__counts *counts, rg__totals *totals)
{
    pthread_rwlock_rdlock(&mm->lock);
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        if (i + RG__PREFETCH_AHEAD < ts->count)
            rg__count_map_prefetch(
                &mm->map, rg__token_set_hash(ts, i + RG__PREFETCH_AHEAD));
        const char *t = rg__token_set_get(ts, i, &len);
        uint64_t h = rg__token_set_hash(ts, i);
        if (!rg__count_map_get(&mm->map, h, t, len, &counts[i]))
            counts[i] = (rg__counts){0, 0};
    }
    *totals = mm->totals;
    pthread_rwlock_unlock(&mm->lock);
    return RG_OK;
}

/* What bayes_apply does to one token, decided before anything changes. */
struct change {
    rg__counts counts; /* the new counts */
    bool had;          /* the model has the token now */
};

static bool is_zero(rg__counts c)
{
    return c.spam == 0 && c.ham == 0;
}

/*
 * Checks every token first and makes room for the new ones, and only then
 * changes anything, so that a refusal or a failed allocation leaves the
 * model exactly as it was. Removals go before insertions: a batch that
 * drops some tokens and adds as many fits a model at its limit.
 */
int rg__memory_model_apply(rg__memory_model *mm, const rg__token_set *ts,
                           const rg__delta *delta, rg__totals_delta totals)
{
    rg__count_map *m = &mm->map;
    struct change *ch = NULL;
    size_t adds = 0, drops = 0, key_bytes = 0;
    rg__totals t;
    int rc;

    if (ts->count > 0) {
        ch = malloc(ts->count * sizeof *ch);
        if (!ch)
            return RG_ENOMEM;
    }

    pthread_rwlock_wrlock(&mm->lock);
    rc = rg__totals_add(&mm->totals, totals, &t);
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *tok = rg__token_set_get(ts, i, &len);
        rg__counts old = {0, 0};

        if (i + RG__PREFETCH_AHEAD < ts->count)
            rg__count_map_prefetch(
                m, rg__token_set_hash(ts, i + RG__PREFETCH_AHEAD));
        ch[i].had =
            rg__count_map_get(m, rg__token_set_hash(ts, i), tok, len, &old);
        /* A count that fails its check keeps its old value here. */
        ch[i].counts = old;
        rc = rg__apply_error(
            rc, rg__count_add(old.spam, delta[i].spam, &ch[i].counts.spam));
        rc = rg__apply_error(
            rc, rg__count_add(old.ham, delta[i].ham, &ch[i].counts.ham));
        if (!ch[i].had && !is_zero(ch[i].counts)) {
            adds++;
            key_bytes += len + 1;
        } else if (ch[i].had && is_zero(ch[i].counts)) {
            drops++;
        }
    }
    size_t after = m->count - drops + adds;
    if (after > m->max_entries)
        rc = rg__apply_error(rc, RG_EFULL);
    if (rc != RG_OK)
        goto out;
    rc = rg__count_map_reserve(m, after, key_bytes);
    if (rc != RG_OK)
        goto out;

    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *tok = rg__token_set_get(ts, i, &len);
        if (!ch[i].had)
            continue;
        if (is_zero(ch[i].counts))
            rg__count_map_remove(m, rg__token_set_hash(ts, i), tok, len);
        else
            rg__count_map_put(m, rg__token_set_hash(ts, i), tok, len,
                              ch[i].counts);
    }
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *tok = rg__token_set_get(ts, i, &len);
        if (i + RG__PREFETCH_AHEAD < ts->count &&
            !ch[i + RG__PREFETCH_AHEAD].had)
            rg__count_map_prefetch(
                m, rg__token_set_hash(ts, i + RG__PREFETCH_AHEAD));
        /* Cannot fail: the room was reserved above. */
        if (!ch[i].had && !is_zero(ch[i].counts))
            rg__count_map_put(m, rg__token_set_hash(ts, i), tok, len,
                              ch[i].counts);
    }
    mm->totals = t;
out:
    pthread_rwlock_unlock(&mm->lock);
    free(ch);
    return rc;
}

int rg__memory_model_stats(rg__memory_model *mm, rg_bayes_stats *out)
{
    pthread_rwlock_rdlock(&mm->lock);
    out->spam_comments = mm->totals.spam;
    out->ham_comments = mm->totals.ham;
    out->tokens = mm->map.count;
    pthread_rwlock_unlock(&mm->lock);
    return RG_OK;
}

int rg__memory_model_export(rg__memory_model *mm, const rg__model_visitor *v)
{
    pthread_rwlock_rdlock(&mm->lock);
    int rc = v->totals(v->arg, &mm->totals, mm->map.count);
    if (rc == RG_OK)
        rc = rg__count_map_visit_sorted(&mm->map, v);
    pthread_rwlock_unlock(&mm->lock);
    return rc;
}
