/*
 * Model images (model-image.h): built from the token table in one pass,
 * checked whole when loaded, then read with no further checks.
 *
 * The slots are placed by SipHash under a key of the image's own, chosen
 * at random when it is built and stored in it: the tokens come from
 * comments, and without the key nobody can craft tokens that pile up in
 * one cluster. (The per-process key of rg__token_hash() cannot be used: an
 * image outlives the process that built it.)
 */
#include "model-image.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC        "rgimage1"
#define HEADER_BYTES 72
#define SLOT_BYTES   16
/* At most this many tokens, and this many bytes in all: SQLite refuses
 * blobs of more than 1,000,000,000 bytes by default. */
#define IMAGE_TOKENS_MAX ((uint64_t)1 << 24)
#define IMAGE_BYTES_MAX  ((size_t)512 << 20)

struct rg__model_image {
    unsigned char key[crypto_shorthash_KEYBYTES];
    rg__totals totals;
    uint32_t nslots, ntokens, arena_bytes;
    const unsigned char *slots, *arena;
    size_t len;
    bool ready;            /* checked: lookups may trust it */
    unsigned char bytes[]; /* the image */
};

struct rg__image_builder {
    unsigned char key[crypto_shorthash_KEYBYTES];
    uint32_t nslots, ntokens, added;
    unsigned char *slots;
    unsigned char *arena;
    size_t arena_len, arena_room;
};

/* Little-endian access that compiles to plain loads and stores on
 * little-endian machines. */
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t image_hash(const unsigned char *key, const char *token,
                           size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)token, len, key);
    return get64(h);
}

static uint32_t home_slot(uint64_t hash, uint32_t nslots)
{
    return (uint32_t)(((hash & 0xffffffffu) * nslots) >> 32);
}

/* ---- Building ---- */

int rg__image_builder_new(rg__image_builder **out, uint64_t ntokens)
{
    *out = NULL;
    if (ntokens > IMAGE_TOKENS_MAX)
        return RG_EFULL;
    rg__image_builder *b = calloc(1, sizeof *b);
    if (!b)
        return RG_ENOMEM;
    /* A load of at most three quarters keeps probes short, and one slot
     * is always empty, so every probe ends. */
    b->ntokens = (uint32_t)ntokens;
    b->nslots = b->ntokens + b->ntokens / 3 + 1;
    b->slots = calloc(b->nslots, SLOT_BYTES);
    if (!b->slots) {
        free(b);
        return RG_ENOMEM;
    }
    randombytes_buf(b->key, sizeof b->key);
    *out = b;
    return RG_OK;
}

bool rg__image_builder_add(rg__image_builder *b, const char *token, size_t len,
                           rg__counts counts)
{
    if (b->added == b->ntokens || len == 0 || len > RG__TOKEN_LEN_MAX ||
        (counts.spam == 0 && counts.ham == 0))
        return false;
    if (b->arena_room - b->arena_len < len + 1) {
        size_t room = b->arena_room ? b->arena_room * 2 : 4096;
        while (room - b->arena_len < len + 1)
            room *= 2;
        if (room > IMAGE_BYTES_MAX)
            return false;
        unsigned char *arena = realloc(b->arena, room);
        if (!arena)
            return false;
        b->arena = arena;
        b->arena_room = room;
    }
    uint64_t h = image_hash(b->key, token, len);
    uint32_t i = home_slot(h, b->nslots);
    while (get32(b->slots + (size_t)i * SLOT_BYTES) != 0)
        i = i + 1 == b->nslots ? 0 : i + 1;
    unsigned char *slot = b->slots + (size_t)i * SLOT_BYTES;
    put32(slot, (uint32_t)b->arena_len + 1);
    put32(slot + 4, (uint32_t)(h >> 32));
    put32(slot + 8, counts.spam);
    put32(slot + 12, counts.ham);
    b->arena[b->arena_len] = (unsigned char)len;
    memcpy(b->arena + b->arena_len + 1, token, len);
    b->arena_len += len + 1;
    b->added++;
    return true;
}

int rg__image_builder_finish(rg__image_builder *b, const rg__totals *totals,
                             unsigned char **blob, size_t *len)
{
    int rc = RG_EINVAL;
    size_t slot_bytes = (size_t)b->nslots * SLOT_BYTES;

    *blob = NULL;
    *len = 0;
    if (b->added != b->ntokens)
        goto out;
    rc = RG_EFULL;
    if (slot_bytes > IMAGE_BYTES_MAX - HEADER_BYTES - b->arena_len)
        goto out;
    rc = RG_ENOMEM;
    size_t total = HEADER_BYTES + slot_bytes + b->arena_len;
    unsigned char *p = malloc(total);
    if (!p)
        goto out;
    memcpy(p, MAGIC, 8);
    memcpy(p + 8, b->key, sizeof b->key);
    put64(p + 24, totals->spam);
    put64(p + 32, totals->ham);
    put64(p + 40, totals->spam_words);
    put64(p + 48, totals->ham_words);
    put32(p + 56, b->nslots);
    put32(p + 60, b->ntokens);
    put32(p + 64, (uint32_t)b->arena_len);
    put32(p + 68, 0);
    memcpy(p + HEADER_BYTES, b->slots, slot_bytes);
    if (b->arena_len)
        memcpy(p + HEADER_BYTES + slot_bytes, b->arena, b->arena_len);
    *blob = p;
    *len = total;
    rc = RG_OK;
out:
    rg__image_builder_free(b);
    return rc;
}

void rg__image_builder_free(rg__image_builder *b)
{
    if (!b)
        return;
    free(b->slots);
    free(b->arena);
    free(b);
}

/* ---- Loading and reading ---- */

/* True when every slot is well formed and exactly ntokens are in use (so
 * at least one is empty and every probe ends). Tokens are not rehashed:
 * a token in the wrong slot is merely never found, which a hostile file
 * could achieve anyway by storing other counts. */
static bool slots_valid(const rg__model_image *im)
{
    uint32_t used = 0;

    for (uint32_t i = 0; i < im->nslots; i++) {
        const unsigned char *s = im->slots + (size_t)i * SLOT_BYTES;
        uint32_t ref = get32(s);
        if (ref == 0)
            continue;
        uint32_t at = ref - 1;
        if (at >= im->arena_bytes)
            return false;
        uint32_t n = im->arena[at];
        if (n == 0 || n > RG__TOKEN_LEN_MAX || n > im->arena_bytes - at - 1)
            return false;
        if (get32(s + 8) == 0 && get32(s + 12) == 0)
            return false;
        used++;
    }
    return used == im->ntokens;
}

rg__model_image *rg__model_image_new(size_t len, unsigned char **bytes)
{
    *bytes = NULL;
    if (len < HEADER_BYTES || len > IMAGE_BYTES_MAX)
        return NULL;
    rg__model_image *im = malloc(sizeof *im + len);
    if (!im)
        return NULL;
    im->len = len;
    im->ready = false;
    *bytes = im->bytes;
    return im;
}

bool rg__model_image_check(rg__model_image *im)
{
    const unsigned char *p = im->bytes;

    if (memcmp(p, MAGIC, 8))
        return false;
    uint32_t nslots = get32(p + 56), ntokens = get32(p + 60);
    uint32_t arena_bytes = get32(p + 64);
    if (ntokens >= nslots || get32(p + 68) != 0 ||
        (uint64_t)nslots * SLOT_BYTES + arena_bytes != im->len - HEADER_BYTES)
        return false;
    rg__totals t = {get64(p + 24), get64(p + 32), get64(p + 40), get64(p + 48)};
    if (t.spam > INT64_MAX || t.ham > INT64_MAX || t.spam_words > INT64_MAX ||
        t.ham_words > INT64_MAX)
        return false;
    memcpy(im->key, p + 8, sizeof im->key);
    im->totals = t;
    im->nslots = nslots;
    im->ntokens = ntokens;
    im->arena_bytes = arena_bytes;
    im->slots = im->bytes + HEADER_BYTES;
    im->arena = im->slots + (size_t)nslots * SLOT_BYTES;
    im->ready = slots_valid(im);
    return im->ready;
}

void rg__model_image_totals(const rg__model_image *im, rg__totals *totals,
                            uint64_t *ntokens)
{
    *totals = im->totals;
    *ntokens = im->ntokens;
}

rg__counts rg__model_image_get(const rg__model_image *im, const char *token,
                               size_t len)
{
    uint64_t h = image_hash(im->key, token, len);
    uint32_t tag = (uint32_t)(h >> 32);

    for (uint32_t i = home_slot(h, im->nslots);;
         i = i + 1 == im->nslots ? 0 : i + 1) {
        const unsigned char *s = im->slots + (size_t)i * SLOT_BYTES;
        uint32_t ref = get32(s);
        if (ref == 0)
            return (rg__counts){0, 0};
        if (get32(s + 4) != tag)
            continue;
        const unsigned char *k = im->arena + ref - 1;
        if (k[0] == len && memcmp(k + 1, token, len) == 0)
            return (rg__counts){get32(s + 8), get32(s + 12)};
    }
}

void rg__model_image_free(rg__model_image *im)
{
    free(im);
}
