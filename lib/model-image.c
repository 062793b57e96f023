/*
 * Model images (model-image.h): built from the token table in one pass,
 * read with bounded probes.
 *
 * The slots are placed by SipHash under a key of the image's own, chosen
 * at random when it is built and stored in it: the tokens come from
 * comments, and without the key nobody can craft tokens that pile up in
 * one cluster. (The per-process key of rg__token_hash() cannot be used: an
 * image outlives the process that built it.)
 */
#include "model-image.h"

#include "bytes.h"
#include "keyed-hash.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC        "rgimage2"
#define HEADER_BYTES 64
#define KEY_AT       8 /* where the key is in the header */
#define SLOT_BYTES   16
/* At most this many tokens: 16 bytes a slot, at most 4/3 slots a token,
 * stays far below the 1,000,000,000 bytes SQLite takes in one blob. */
#define IMAGE_TOKENS_MAX ((uint64_t)1 << 24)
#define IMAGE_BYTES_MAX                                                        \
    (HEADER_BYTES + (IMAGE_TOKENS_MAX + IMAGE_TOKENS_MAX / 3 + 1) * SLOT_BYTES)

_Static_assert(RG__IMAGE_KEY_BYTES == crypto_shorthash_KEYBYTES,
               "an image's key is a SipHash key");

/* How far ahead a batch of lookups hashes and prefetches. */
#define AHEAD 8

/* A loaded image: its bytes, and the numbers of its header decoded. */
struct rg__model_image {
    rg__totals totals;
    uint32_t nslots, ntokens;
    size_t len;
    unsigned char bytes[]; /* the image */
};

static const unsigned char *image_key(const rg__model_image *im)
{
    return im->bytes + KEY_AT;
}

struct rg__image_builder {
    unsigned char key[RG__IMAGE_KEY_BYTES];
    uint32_t nslots, ntokens, added;
    bool collided;
    unsigned char *slots;
};

static uint32_t home_slot(uint64_t hash, uint32_t nslots)
{
    return (uint32_t)(((hash & 0xffffffffu) * nslots) >> 32);
}

static bool slot_empty(const unsigned char *s)
{
    return rg__get_le32(s + 8) == 0 && rg__get_le32(s + 12) == 0;
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
     * is always empty. */
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
    if (b->added == b->ntokens || (counts.spam == 0 && counts.ham == 0))
        return false;
    uint64_t h = rg__keyed_hash(b->key, token, len);
    uint32_t i = home_slot(h, b->nslots);
    for (;;) {
        unsigned char *slot = b->slots + (size_t)i * SLOT_BYTES;
        if (slot_empty(slot))
            break;
        if (rg__get_le64(slot) == h) {
            b->collided = true;
            return false;
        }
        i = i + 1 == b->nslots ? 0 : i + 1;
    }
    unsigned char *slot = b->slots + (size_t)i * SLOT_BYTES;
    rg__put_le64(slot, h);
    rg__put_le32(slot + 8, counts.spam);
    rg__put_le32(slot + 12, counts.ham);
    b->added++;
    return true;
}

bool rg__image_builder_collided(const rg__image_builder *b)
{
    return b->collided;
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
    rc = RG_ENOMEM;
    unsigned char *p = malloc(HEADER_BYTES + slot_bytes);
    if (!p)
        goto out;
    memcpy(p, MAGIC, 8);
    memcpy(p + KEY_AT, b->key, sizeof b->key);
    rg__put_le64(p + 24, totals->spam);
    rg__put_le64(p + 32, totals->ham);
    rg__put_le64(p + 40, totals->spam_words);
    rg__put_le64(p + 48, totals->ham_words);
    rg__put_le32(p + 56, b->nslots);
    rg__put_le32(p + 60, b->ntokens);
    memcpy(p + HEADER_BYTES, b->slots, slot_bytes);
    *blob = p;
    *len = HEADER_BYTES + slot_bytes;
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
    free(b);
}

/* ---- Loading and reading ---- */

static rg__model_image *image_new(size_t len, unsigned char **bytes)
{
    *bytes = NULL;
    if (len < HEADER_BYTES || len > IMAGE_BYTES_MAX)
        return NULL;
    rg__model_image *im = malloc(sizeof *im + len);
    if (!im)
        return NULL;
    im->len = len;
    im->nslots = 0;
    *bytes = im->bytes;
    return im;
}

static bool image_check(rg__model_image *im)
{
    const unsigned char *p = im->bytes;

    if (memcmp(p, MAGIC, 8) != 0)
        return false;
    uint32_t nslots = rg__get_le32(p + 56), ntokens = rg__get_le32(p + 60);
    if (nslots == 0 || ntokens >= nslots ||
        (uint64_t)nslots * SLOT_BYTES != im->len - HEADER_BYTES)
        return false;
    rg__totals t = {rg__get_le64(p + 24), rg__get_le64(p + 32),
                    rg__get_le64(p + 40), rg__get_le64(p + 48)};
    if (t.spam > INT64_MAX || t.ham > INT64_MAX || t.spam_words > INT64_MAX ||
        t.ham_words > INT64_MAX)
        return false;
    im->totals = t;
    im->nslots = nslots;
    im->ntokens = ntokens;
    return true;
}

void rg__image_blob_key(const unsigned char *blob,
                        unsigned char key[RG__IMAGE_KEY_BYTES])
{
    memcpy(key, blob + KEY_AT, RG__IMAGE_KEY_BYTES);
}

/* Reads (reading) or writes all len bytes at p, through short transfers
 * and interruptions. */
static bool transfer_all(int fd, unsigned char *p, size_t len, bool reading)
{
    while (len > 0) {
        ssize_t n = reading ? read(fd, p, len) : write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

int rg__model_image_write(const char *path, const unsigned char *blob,
                          size_t len)
{
    size_t n = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(n);
    if (!tmp)
        return RG_ENOMEM;
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return RG_ESTORE;
    }
    bool ok = transfer_all(fd, (unsigned char *)blob, len, false);
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    free(tmp);
    return ok ? RG_OK : RG_ESTORE;
}

rg__model_image *
rg__model_image_read(const char *path,
                     const unsigned char key[RG__IMAGE_KEY_BYTES])
{
    rg__model_image *im = NULL;
    unsigned char *bytes;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= IMAGE_BYTES_MAX &&
        (im = image_new((size_t)st.st_size, &bytes)) &&
        (!transfer_all(fd, bytes, im->len, true) || !image_check(im) ||
         memcmp(image_key(im), key, RG__IMAGE_KEY_BYTES) != 0)) {
        free(im);
        im = NULL;
    }
    close(fd);
    return im;
}

void rg__model_image_totals(const rg__model_image *im, rg__totals *totals,
                            uint64_t *ntokens)
{
    *totals = im->totals;
    *ntokens = im->ntokens;
}

static const unsigned char *slot_at(const rg__model_image *im, uint32_t i)
{
    return im->bytes + HEADER_BYTES + (size_t)i * SLOT_BYTES;
}

static rg__counts find(const rg__model_image *im, uint64_t h)
{
    uint32_t i = home_slot(h, im->nslots);

    for (uint32_t n = 0; n < im->nslots; n++) {
        const unsigned char *s = slot_at(im, i);
        if (slot_empty(s))
            break;
        if (rg__get_le64(s) == h)
            return (rg__counts){rg__get_le32(s + 8), rg__get_le32(s + 12)};
        i = i + 1 == im->nslots ? 0 : i + 1;
    }
    return (rg__counts){0, 0};
}

rg__counts rg__model_image_get(const rg__model_image *im, const char *token,
                               size_t len)
{
    return find(im, rg__keyed_hash(image_key(im), token, len));
}

void rg__model_image_lookup(const rg__model_image *im, const rg__token_set *ts,
                            rg__counts *counts)
{
    uint64_t ahead[AHEAD];
    size_t n = ts->count;

    /* Hash AHEAD tokens before their turn and prefetch their home slots:
     * in a large image nearly every lookup misses the cache. */
    for (size_t i = 0; i < n + AHEAD; i++) {
        if (i >= AHEAD)
            counts[i - AHEAD] = find(im, ahead[(i - AHEAD) % AHEAD]);
        if (i < n) {
            size_t len;
            const char *tok = rg__token_set_get(ts, i, &len);
            uint64_t h = rg__keyed_hash(image_key(im), tok, len);
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(slot_at(im, home_slot(h, im->nslots)));
#endif
            ahead[i % AHEAD] = h;
        }
    }
}

void rg__model_image_free(rg__model_image *im)
{
    free(im);
}
