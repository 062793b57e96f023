/*
 * Token sets: an arena of NUL-terminated strings with an open-addressing
 * index for duplicates. Tokens come from untrusted comments, so the index
 * hashes them with SipHash (crypto_shorthash) under a key chosen once per
 * process: nobody can craft tokens that all land in one chain. The hash is
 * kept with each token for the model's tables, which use the same key.
 */
#include "tokenset.h"

#include "keyed-hash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static uint8_t hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;
/* Set once the key is made: then every call skips pthread_once(). */
static atomic_bool hash_key_ready;

static void make_hash_key(void)
{
    randombytes_buf(hash_key, sizeof hash_key);
    atomic_store_explicit(&hash_key_ready, true, memory_order_release);
}

uint64_t rg__token_hash(const char *token, size_t len)
{
    if (!atomic_load_explicit(&hash_key_ready, memory_order_acquire))
        pthread_once(&hash_key_once, make_hash_key);
    return rg__keyed_hash(hash_key, token, len);
}

void rg__token_set_init(rg__token_set *ts, size_t limit)
{
    memset(ts, 0, sizeof *ts);
    ts->limit = limit;
}

static size_t probe(const rg__token_set *ts, uint64_t hash, const char *token,
                    size_t len);

void rg__token_set_clear(rg__token_set *ts)
{
    /*
     * A small index is wiped whole. In a large one (a set reused for a
     * short comment after a long one), only the slots in use are emptied,
     * last token first: a token's probe passes only slots of earlier
     * tokens, so every probe stays intact while it is needed.
     */
    if (ts->nslots <= 16 * ts->count) {
        if (ts->slots)
            memset(ts->slots, 0, ts->nslots * sizeof *ts->slots);
    } else {
        for (size_t i = ts->count; i-- > 0;) {
            const char *tok = ts->text + ts->offset[i];
            ts->slots[probe(ts, ts->hash[i], tok, ts->len[i])] = 0;
        }
    }
    ts->text_len = 0;
    ts->count = 0;
    ts->truncated = false;
}

void rg__token_set_free(rg__token_set *ts)
{
    free(ts->text);
    free(ts->offset);
    free(ts->len);
    free(ts->hash);
    free(ts->slots);
    memset(ts, 0, sizeof *ts);
}

/* Cuts len to at most RG__TOKEN_LEN_MAX without splitting a UTF-8
 * sequence (continuation bytes are 10xxxxxx). */
static size_t cut(const char *token, size_t len)
{
    if (len <= RG__TOKEN_LEN_MAX)
        return len;
    len = RG__TOKEN_LEN_MAX;
    while (len > 0 && ((unsigned char)token[len] & 0xc0) == 0x80)
        len--;
    return len;
}

static bool same(const rg__token_set *ts, uint32_t i, const char *token,
                 size_t len)
{
    return ts->len[i] == len &&
           memcmp(ts->text + ts->offset[i], token, len) == 0;
}

/* The slot holding the token, or the empty slot where it would go. */
static size_t probe(const rg__token_set *ts, uint64_t hash, const char *token,
                    size_t len)
{
    size_t mask = ts->nslots - 1;
    size_t s = hash & mask;
    while (ts->slots[s] && !same(ts, ts->slots[s] - 1, token, len))
        s = (s + 1) & mask;
    return s;
}

long rg__token_set_find(const rg__token_set *ts, const char *token, size_t len)
{
    len = cut(token, len);
    if (!ts->nslots)
        return -1;
    uint32_t v = ts->slots[probe(ts, rg__token_hash(token, len), token, len)];
    return v ? (long)(v - 1) : -1;
}

/* Keeps the index at most half full for `want` tokens, so probes stay
 * short. */
static bool grow_index(rg__token_set *ts, size_t want)
{
    if (want * 2 <= ts->nslots)
        return true;
    size_t nslots = ts->nslots ? ts->nslots * 2 : 64;
    while (nslots < want * 2)
        nslots *= 2;
    uint32_t *slots = rg__table_alloc(nslots, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < ts->count; i++) {
        size_t s = ts->hash[i] & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(ts->slots);
    ts->slots = slots;
    ts->nslots = nslots;
    return true;
}

/* Room for `want` tokens in the per-token arrays, which share ts->room. */
static bool grow_arrays(rg__token_set *ts, size_t want)
{
    /* cppcheck-suppress duplicateAssignExpression ; two counters that
     * start from the one room, and rg__grow() moves each of them. */
    size_t offset_room = ts->room, len_room = ts->room;
    if (!rg__grow(&ts->offset, &offset_room, want, sizeof *ts->offset, 64,
                  false) ||
        !rg__grow(&ts->len, &len_room, want, sizeof *ts->len, 64, false) ||
        !rg__grow(&ts->hash, &ts->room, want, sizeof *ts->hash, 64, false))
        return false;
    return true;
}

/* Room for `want` bytes of text in all. */
static bool grow_text(rg__token_set *ts, size_t want)
{
    return rg__grow(&ts->text, &ts->text_room, want, 1, 1024, false);
}

static bool reserve(rg__token_set *ts, size_t len)
{
    return grow_arrays(ts, ts->count + 1) &&
           grow_text(ts, ts->text_len + len + 1) &&
           grow_index(ts, ts->count + 1);
}

bool rg__token_set_reserve(rg__token_set *ts, size_t tokens, size_t text_bytes)
{
    if (tokens > ts->limit)
        tokens = ts->limit;
    return grow_arrays(ts, tokens) && grow_text(ts, text_bytes) &&
           grow_index(ts, tokens);
}

long rg__token_set_add(rg__token_set *ts, const char *token, size_t len)
{
    len = cut(token, len);
    return rg__token_set_add_hashed(ts, token, len, rg__token_hash(token, len));
}

long rg__token_set_add_hashed(rg__token_set *ts, const char *token, size_t len,
                              uint64_t hash)
{
    /* One hash per token: it finds a duplicate and places a new one. */
    len = cut(token, len);
    size_t s = 0, nslots = ts->nslots;
    if (nslots) {
        s = probe(ts, hash, token, len);
        if (ts->slots[s])
            return (long)(ts->slots[s] - 1);
    }
    if (ts->count >= ts->limit) {
        ts->truncated = true;
        return -1;
    }
    if (!reserve(ts, len))
        return -2;

    uint32_t i = (uint32_t)ts->count++;
    ts->offset[i] = (uint32_t)ts->text_len;
    ts->len[i] = (uint8_t)len;
    ts->hash[i] = hash;
    memcpy(ts->text + ts->text_len, token, len);
    ts->text[ts->text_len + len] = '\0';
    ts->text_len += len + 1;
    /* The slot found above, unless reserve() grew the index. */
    if (ts->nslots != nslots)
        s = probe(ts, hash, token, len);
    ts->slots[s] = i + 1;
    return (long)i;
}
