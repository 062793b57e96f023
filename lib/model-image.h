/*
 * A model image: the whole spam model (every token's counts and the
 * totals) as one flat, read-only hash table in a single byte string, so
 * that a sqlite: handle about to classify a batch reads one blob instead
 * of querying or scanning the token table (see store-sqlite-bayes.c).
 *
 * Layout, every integer little-endian:
 *
 *   0   magic "rgimage1"
 *   8   the SipHash key the slots are placed by (16 bytes, random per image)
 *   24  totals: spam, ham, spam_words, ham_words (u64 each)
 *   56  nslots, ntokens, arena_bytes, 0 (u32 each)
 *   72  nslots slots of 16 bytes: ref (arena offset + 1, 0 for empty),
 *       tag (the high half of the token's hash), spam, ham (u32 each)
 *   ..  the arena: each token as a length byte and its bytes
 *
 * A token's home slot is (low half of its hash * nslots) >> 32; probing is
 * linear and wraps. The image comes from a file, so rg__model_image_check()
 * checks every slot before any lookup trusts it: a damaged or hostile image
 * is refused, never read out of bounds.
 */
#ifndef RG_MODEL_IMAGE_H
#define RG_MODEL_IMAGE_H

#include "store.h"

typedef struct rg__model_image rg__model_image;

/* Builds an image of exactly `ntokens` tokens, added one by one. */
typedef struct rg__image_builder rg__image_builder;

/* Errors: RG_ENOMEM, RG_EFULL (more tokens than an image holds). */
int rg__image_builder_new(rg__image_builder **out, uint64_t ntokens);

/* Adds a token (1 to RG__TOKEN_LEN_MAX bytes, counts not both 0) that is
 * not in the image yet. False when it does not fit or is out of range. */
bool rg__image_builder_add(rg__image_builder *b, const char *token, size_t len,
                           rg__counts counts);

/*
 * The finished image, in *blob and *len (the caller frees *blob), when
 * exactly ntokens tokens were added. The builder is freed either way.
 * Errors: RG_EINVAL (a count of tokens other than announced), RG_ENOMEM.
 */
int rg__image_builder_finish(rg__image_builder *b, const rg__totals *totals,
                             unsigned char **blob, size_t *len);

void rg__image_builder_free(rg__image_builder *b);

/*
 * Room for an image of `len` bytes, to be read into *bytes: NULL when no
 * image can be that long or memory runs out. Nothing may be looked up
 * until rg__model_image_check() has accepted the bytes.
 */
rg__model_image *rg__model_image_new(size_t len, unsigned char **bytes);

/* True when the bytes are a well-formed image; lookups may then trust it.
 */
bool rg__model_image_check(rg__model_image *im);

/* The image's totals and number of tokens. */
void rg__model_image_totals(const rg__model_image *im, rg__totals *totals,
                            uint64_t *ntokens);

/* The counts of a token: 0, 0 when the image lacks it. */
rg__counts rg__model_image_get(const rg__model_image *im, const char *token,
                               size_t len);

void rg__model_image_free(rg__model_image *im);

#endif
