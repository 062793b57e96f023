/*
 * The answer normaliser, shared by lib/answer.c (which applies it to what a
 * reader typed) and lib/numwords.c (which applies it to its own spellings
 * when it builds the lookup tables). Using one function for both is what
 * makes a rendered number always parse back to itself.
 */
#ifndef RG_ANSWER_PRIVATE_H
#define RG_ANSWER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Longest normalised text we ever keep, with its NUL. Compatibility
 * decomposition can make text several times longer, but no number is
 * spelled in anything near this many bytes, so longer text is not a number.
 */
#define RG__NORM_MAX 256

/*
 * Normalises `len` bytes of UTF-8 at `in` into `out` (`size` bytes,
 * NUL-terminated) and stores the length in *out_len: case-folded with
 * compatibility decomposition, combining marks and invisible (default
 * ignorable) characters dropped, every run of white space and dashes turned
 * into one ASCII space, trimmed. Returns false when the text is not UTF-8,
 * starts or ends with a dash ("-19"), the result does not fit, or memory
 * runs out. The caller owns both buffers. Thread-safe.
 */
bool rg__answer_normalise(const char *in, size_t len, char *out, size_t size,
                          size_t *out_len);

#endif
