/*
 * A model image: the whole spam model (every token's counts and the
 * totals) as one flat, read-only hash table in a file of its own, so that
 * a sqlite: handle about to classify a batch reads one file in one go
 * instead of querying or scanning the token table (see
 * store-sqlite-bayes.c).
 *
 * Layout, every integer little-endian:
 *
 *   0   magic "rgimage2"
 *   8   the SipHash key of the image (16 bytes, random per image)
 *   24  totals: spam, ham, spam_words, ham_words (u64 each)
 *   56  nslots, ntokens (u32 each)
 *   64  nslots slots of 16 bytes: the token's SipHash under the image's
 *       key (u64), spam, ham (u32 each); counts 0, 0 mark an empty slot
 *
 * A token is known by its 64-bit keyed hash alone, not its text: that
 * halves the image and spares a lookup a second cache miss. Two tokens
 * of a model share a hash with a chance of about n^2 / 2^65 (1 in 10^10
 * for 50,000 tokens), and the builder refuses such a model rather than
 * mix their counts; a token the model lacks matches another's hash with a
 * chance of 1 in 2^64 per slot it probes.
 *
 * A token's home slot is (low half of its hash * nslots) >> 32; probing
 * is linear, wraps, and stops after nslots slots at most, so even a
 * hostile image (from a file, after all) cannot make a lookup loop or
 * read out of bounds. rg__model_image_read() checks the header and the
 * size, which is all that bounds depend on.
 */
#ifndef RG_MODEL_IMAGE_H
#define RG_MODEL_IMAGE_H

#include "store.h"

typedef struct rg__model_image rg__model_image;

/* Builds an image of exactly `ntokens` tokens, added one by one. */
typedef struct rg__image_builder rg__image_builder;

/* Errors: RG_ENOMEM, RG_EFULL (more tokens than an image holds). */
int rg__image_builder_new(rg__image_builder **out, uint64_t ntokens);

/*
 * Adds a token (counts not both 0) that is not in the image yet. False
 * when there are more tokens than announced, the counts are 0, 0, or the
 * token's hash is another's (see rg__image_builder_collided()).
 */
bool rg__image_builder_add(rg__image_builder *b, const char *token, size_t len,
                           rg__counts counts);

/* True when a failed add was two tokens with one hash: building again
 * (under a new random key) will almost surely succeed. */
bool rg__image_builder_collided(const rg__image_builder *b);

/*
 * The finished image, in *blob and *len (the caller frees *blob), when
 * exactly ntokens tokens were added. The builder is freed either way.
 * Errors: RG_EINVAL (another count of tokens than announced), RG_ENOMEM.
 */
int rg__image_builder_finish(rg__image_builder *b, const rg__totals *totals,
                             unsigned char **blob, size_t *len);

void rg__image_builder_free(rg__image_builder *b);

/* The key of an image: it places the slots, and names the image. */
#define RG__IMAGE_KEY_BYTES 16

/* The key of a finished image (from rg__image_builder_finish()). */
void rg__image_blob_key(const unsigned char *blob,
                        unsigned char key[RG__IMAGE_KEY_BYTES]);

/*
 * Writes a finished image to path as a new file (mode 0600) renamed over
 * any old one, so that a reader opens either the old image or the new,
 * never half of one. Errors: RG_ESTORE (errno says why).
 */
int rg__model_image_write(const char *path, const unsigned char *blob,
                          size_t len);

/*
 * Reads the image at path: NULL when there is none, it cannot be read, it
 * is malformed, or its key is not `key` (the file holds another image than
 * the one asked for), or memory runs out.
 */
rg__model_image *
rg__model_image_read(const char *path,
                     const unsigned char key[RG__IMAGE_KEY_BYTES]);

/* The image's totals and number of tokens. */
void rg__model_image_totals(const rg__model_image *im, rg__totals *totals,
                            uint64_t *ntokens);

/* The counts of a token: 0, 0 when the image lacks it. */
rg__counts rg__model_image_get(const rg__model_image *im, const char *token,
                               size_t len);

/*
 * The counts of every token of ts into counts[i] (0, 0 for a token the
 * image lacks). Many lookups at once, so that the memory of later slots
 * loads while earlier ones are compared.
 */
void rg__model_image_lookup(const rg__model_image *im, const rg__token_set *ts,
                            rg__counts *counts);

void rg__model_image_free(rg__model_image *im);

#endif
