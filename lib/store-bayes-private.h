/*
 * The spam model behind the stores' bayes_* operations, shared by
 * store-memory.c and store-sqlite.c.
 *
 * - rg__count_map: a hash table token -> counts. It is the whole model of
 *   memory:, and the cache of hot tokens in front of a sqlite: model.
 * - rg__memory_model: a count map with totals, a token limit and a
 *   read-write lock (store-memory-bayes.c).
 * - rg__sqlite_model: the model's tables in a SQLite file, with the
 *   statements and the cache of one connection (store-sqlite-bayes.c).
 */
#ifndef RG_STORE_BAYES_PRIVATE_H
#define RG_STORE_BAYES_PRIVATE_H

#include <pthread.h>

#include <sodium.h>

#include "store.h"

/* ---- Count maps ---- */

/*
 * One slot. `ref` is 0 for an empty slot; otherwise its low 40 bits are
 * the offset of the key in the key arena plus one, and its high 24 bits
 * are the top bits of the key's hash, so that most probes that meet
 * another key are told apart without reading the arena.
 */
typedef struct rg__count_slot {
    uint64_t ref;
    rg__counts counts;
} rg__count_slot;

typedef struct rg__count_map {
    rg__count_slot *slots;
    size_t nslots;       /* 0 or a power of two */
    size_t count;        /* entries */
    size_t max_entries;  /* the table never grows beyond what these need */
    unsigned char *keys; /* the arena: each key a length byte and its bytes */
    size_t keys_len;     /* bytes in use, live or dead */
    size_t keys_room;    /* bytes allocated */
    size_t keys_dead;    /* bytes of removed keys, reclaimed by compaction */
} rg__count_map;

/*
 * An empty map that will hold at most max_entries keys. It allocates
 * nothing until the first reserve. Every call that takes a `hash` wants
 * the key's rg__token_hash().
 */
void rg__count_map_init(rg__count_map *m, size_t max_entries);

void rg__count_map_free(rg__count_map *m);

/* Removes every entry, keeping the slot table for reuse. */
void rg__count_map_clear(rg__count_map *m);

/* The counts of a token: true and *out when the map has it. */
bool rg__count_map_get(const rg__count_map *m, uint64_t hash, const char *token,
                       size_t len, rg__counts *out);

/*
 * Makes room for `entries` entries in all and `key_bytes` more bytes of new
 * keys (each new key takes its length plus one), so that the puts that
 * follow cannot fail. The entries stay as they were whatever happens.
 * Errors: RG_EFULL (more than max_entries), RG_ENOMEM.
 */
int rg__count_map_reserve(rg__count_map *m, size_t entries, size_t key_bytes);

/*
 * Sets the counts of a token, adding it when it is new. False, with the
 * map unchanged, when a new token finds no reserved room. len is at most
 * RG__TOKEN_LEN_MAX.
 */
bool rg__count_map_put(rg__count_map *m, uint64_t hash, const char *token,
                       size_t len, rg__counts counts);

/* Removes a token if the map has it. */
void rg__count_map_remove(rg__count_map *m, uint64_t hash, const char *token,
                          size_t len);

/*
 * Hints that a lookup of this hash is coming, so the memory of its slot can
 * load meanwhile: a large map misses the cache on nearly every lookup, and
 * a loop over a set of tokens knows the hashes ahead.
 */
static inline void rg__count_map_prefetch(const rg__count_map *m, uint64_t hash)
{
#if defined(__GNUC__) || defined(__clang__)
    if (m->nslots)
        __builtin_prefetch(&m->slots[hash & (m->nslots - 1)]);
#else
    (void)m;
    (void)hash;
#endif
}

/* How far ahead loops over tokens prefetch. */
#define RG__PREFETCH_AHEAD 8

/* The bytes the map holds allocated. */
size_t rg__count_map_bytes(const rg__count_map *m);

/* ---- What bayes_apply checks, alike in both backends ---- */

/*
 * old + delta into *out when it is within 0..UINT32_MAX. Returns RG_OK,
 * RG_ENOTLEARNED (below zero) or RG_ERANGE (above UINT32_MAX).
 */
int rg__count_add(uint32_t old, int64_t delta, uint32_t *out);

/*
 * The same for a total, whose bound is INT64_MAX: SQLite integers are
 * signed 64-bit, and both backends take the same range.
 */
int rg__total_add(uint64_t old, int64_t delta, uint64_t *out);

/* rg__total_add() for each of the totals: RG_OK, or the worst outcome as
 * rg__apply_error() ranks them (with *out then unspecified). */
int rg__totals_add(const rg__totals *old, rg__totals_delta delta,
                   rg__totals *out);

/*
 * Of two outcomes of the checks, the one bayes_apply reports: a count
 * below zero first (the caller unlearns what it never taught), then a full
 * model, then a count out of range.
 */
int rg__apply_error(int a, int b);

/* ---- The memory: model ---- */

typedef struct rg__memory_model {
    pthread_rwlock_t lock; /* readers classify at once; one writer */
    rg__count_map map;     /* no entry is ever 0, 0 */
    rg__totals totals;
} rg__memory_model;

/* An empty model of at most `limit` tokens. Errors: RG_ENOMEM. */
int rg__memory_model_init(rg__memory_model *mm, size_t limit);
void rg__memory_model_free(rg__memory_model *mm);

/* The bayes_* operations of struct rg_store_ops, on a memory model. */
int rg__memory_model_lookup(rg__memory_model *mm, const rg__token_set *ts,
                            rg__counts *counts, rg__totals *totals);
int rg__memory_model_apply(rg__memory_model *mm, const rg__token_set *ts,
                           const rg__delta *delta, rg__totals_delta totals);
int rg__memory_model_stats(rg__memory_model *mm, rg_bayes_stats *out);

/* ---- The sqlite: model ---- */

struct sqlite3;
typedef struct rg__sqlite_model rg__sqlite_model;

/*
 * Readies the model (the statements every transaction needs; the others
 * are prepared on first use) on a connection whose file already has
 * the bayes tables (schema version 3). The caller serialises every call on
 * one model, and closes the model before the connection.
 * Errors: RG_ESTORE, RG_ENOMEM.
 */
int rg__sqlite_model_open(rg__sqlite_model **out, struct sqlite3 *db);
void rg__sqlite_model_close(rg__sqlite_model *sm);

/* The bayes_* operations of struct rg_store_ops, on a sqlite model. */
int rg__sqlite_model_lookup(rg__sqlite_model *sm, const rg__token_set *ts,
                            rg__counts *counts, rg__totals *totals);
int rg__sqlite_model_apply(rg__sqlite_model *sm, const rg__token_set *ts,
                           const rg__delta *delta, rg__totals_delta totals);
int rg__sqlite_model_stats(rg__sqlite_model *sm, rg_bayes_stats *out);
/* bayes_optimize: writes the model image next to the file. */
int rg__sqlite_model_optimize(rg__sqlite_model *sm);
/* bayes_preload: reads the model image, or else scans the token table
 * into the cache when it fits. */
int rg__sqlite_model_preload(rg__sqlite_model *sm);

#endif
