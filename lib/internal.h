/*
 * Internal declarations shared by the files of lib/. Nothing here is part
 * of the public API; names are rg__ so they never clash with a user's.
 */
#ifndef RG_INTERNAL_H
#define RG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replyguard.h"

#define RG__NONCE_BYTES 16

/* Locales, in the order of their one-byte id in the token format. */
typedef enum rg__locale {
    RG__LOCALE_EN = 0,
    RG__LOCALE_RU = 1,
    RG__LOCALE_DE = 2,
    RG__LOCALE_FR = 3,
    RG__LOCALE_ES = 4,
    RG__LOCALE_COUNT
} rg__locale;

/* Largest number a challenge may ever show or expect. */
#define RG__NUMBER_MAX 999u

/* The locale with this name ("en", "ru", ...), or -1. name may be NULL. */
int rg__locale_find(const char *name);

/* The name of a locale id; NULL when out of range. */
const char *rg__locale_name(int locale);

/*
 * Writes n (0..RG__NUMBER_MAX) as words of the locale, NUL-terminated.
 * Returns the length, or -1 when n is out of range, the locale unknown or
 * the buffer too small. Thread-safe, no allocation.
 */
int rg__number_words(uint32_t n, int locale, char *out, size_t size);

/*
 * The number that `words` names in the locale. The text must already be
 * normalised as the answer parser does it (NFKC, case-folded, diacritics
 * removed, hyphens and runs of spaces turned into one space, trimmed).
 * Accepts the usual spellings of each number (see docs/answers.md).
 */
bool rg__number_from_words(const char *words, size_t len, int locale,
                           uint32_t *value);

/*
 * The number an untrusted answer means: digits of any script, or number
 * words of the locale or of English. False for anything else, for more than
 * RG_ANSWER_MAX bytes, and for text that is not UTF-8.
 */
bool rg__answer_value(const char *answer, size_t len, int locale,
                      uint32_t *value);

/*
 * calloc() for a large hash table: zeroed memory that is written through
 * once, in order, when it is allocated. Fresh pages fault in on first
 * touch, and a hash table touches them in random order, which costs
 * several times more than this one pass (on the SMS training, 5 of the 8
 * ms spent filling the model's table). Tables of whole multiples of 2 MiB
 * also ask for transparent huge pages. Small tables come from calloc().
 * Free with free().
 */
void *rg__table_alloc(size_t n, size_t size);

/*
 * Makes room in a growing array for `want` elements of `size` bytes. The
 * array is the pointer at `array` (a T ** passed as void *) with *room
 * elements allocated; *room doubles, starting from `first`, until it holds
 * `want`. New elements are zeroed when `zero`. False, with the array and
 * *room as they were, when memory runs out or the size would overflow.
 */
bool rg__grow_to(void *array, size_t *room, size_t want, size_t size,
                 size_t first, bool zero);

/* rg__grow_to(), checked inline first: most calls find the room there. */
static inline bool rg__grow(void *array, size_t *room, size_t want, size_t size,
                            size_t first, bool zero)
{
    return want <= *room || rg__grow_to(array, room, want, size, first, zero);
}

/*
 * Backward-shift deletion, shared by the linear-probing tables: once slot
 * `hole` is emptied, each later entry of its cluster moves back into the
 * hole, except one whose home slot lies cyclically in (hole, at] (it sits
 * at `at`): moved, it would come before its home, where no probe looks.
 */
static inline bool rg__probe_stays(size_t hole, size_t at, size_t home)
{
    return hole <= at ? (hole < home && home <= at)
                      : (hole < home || home <= at);
}

/* rg_init() for the library's own entry points: 0 or RG_EINIT. */
int rg__ensure_init(void);

#endif
