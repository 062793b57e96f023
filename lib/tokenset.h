/*
 * A set of tokens: the distinct features of one comment (or of a batch of
 * comments being learned), each a short byte string. Insertion order is
 * kept, duplicates are dropped, and the set is bounded so that a hostile
 * 1 MB comment costs a bounded amount of memory and time.
 */
#ifndef RG_TOKENSET_H
#define RG_TOKENSET_H

#include "internal.h"

/* Longest token kept, in bytes; longer ones are cut (on a UTF-8 boundary). */
#define RG__TOKEN_LEN_MAX 64

typedef struct rg__token_set {
    char *text; /* tokens back to back, each NUL-terminated */
    size_t text_len, text_room;
    uint32_t *offset; /* where token i starts in text */
    uint8_t *len;     /* its length */
    uint64_t *hash;   /* its rg__token_hash() */
    size_t count, room;
    uint32_t *slots; /* open addressing: token index + 1, or 0 */
    size_t nslots;
    size_t limit;   /* most tokens kept; later ones are dropped */
    bool truncated; /* some were dropped */
} rg__token_set;

/*
 * The keyed hash (SipHash, under a random key chosen once per process) of
 * a token, already cut to RG__TOKEN_LEN_MAX. Every table of tokens uses
 * it, so a token is hashed once however many tables it passes through.
 * Call rg__ensure_init() before the first use.
 */
uint64_t rg__token_hash(const char *token, size_t len);

/* An empty set keeping at most `limit` tokens. */
void rg__token_set_init(rg__token_set *ts, size_t limit);

/* Empties the set, keeping its memory for reuse. */
void rg__token_set_clear(rg__token_set *ts);

void rg__token_set_free(rg__token_set *ts);

/*
 * Adds a token (cut to RG__TOKEN_LEN_MAX bytes) unless present or the set
 * is full (then sets truncated). Returns its index, or -1 when it was not
 * added (full), or -2 on allocation failure.
 */
long rg__token_set_add(rg__token_set *ts, const char *token, size_t len);

/* rg__token_set_add() for a token whose rg__token_hash() is known. */
long rg__token_set_add_hashed(rg__token_set *ts, const char *token, size_t len,
                              uint64_t hash);

/* Makes room for `tokens` tokens (at most the limit) and `text_bytes`
 * bytes of text (each token takes its length plus one) in all, so that
 * adding them moves and rehashes nothing. False when memory runs out. */
bool rg__token_set_reserve(rg__token_set *ts, size_t tokens, size_t text_bytes);

/* The index of a token, or -1. */
long rg__token_set_find(const rg__token_set *ts, const char *token, size_t len);

/* Token i, NUL-terminated; its length in *len when len is not NULL. */
static inline const char *rg__token_set_get(const rg__token_set *ts, size_t i,
                                            size_t *len)
{
    if (len)
        *len = ts->len[i];
    return ts->text + ts->offset[i];
}

/* The rg__token_hash() of token i. */
static inline uint64_t rg__token_set_hash(const rg__token_set *ts, size_t i)
{
    return ts->hash[i];
}

#endif
