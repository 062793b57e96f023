/*
 * Fuzz target: number words per locale (lib/numwords.c).
 *
 * Input: one byte picking the locale (of the library's list), two bytes
 * of a value, one byte of a buffer size, then text.
 *
 * Invariants: rg_number_words() writes the words of 0 to 999 and refuses
 * larger values; into a buffer of any size it writes the whole words and
 * their NUL or nothing but an empty string (RG_ETOOBIG); the words read
 * back as the value, through rg_answer_parse() and through the lookup on
 * their normal form. Text that the lookup reads as a number is read as
 * that number by rg_answer_parse() too, and it is at most 999; German
 * words read the same without their spaces. The text also goes to
 * rg_locale_check() and, as it is, to the lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "answer-private.h"
#include "internal.h"

static const char *const locales[RG__LOCALE_COUNT] = {"en", "ru", "de", "fr",
                                                      "es"};

static void check_render(int locale, uint32_t value, size_t size)
{
    const char *name = locales[locale];
    char words[256];
    int rc = rg_number_words(value, name, words, sizeof words);
    if (value > RG__NUMBER_MAX) {
        FUZZ_CHECK(rc == RG_ERANGE && words[0] == '\0', "%u: %s",
                   (unsigned)value, rg_err_name(rc));
        return;
    }
    FUZZ_CHECK(rc == RG_OK, "%u in %s: %s", (unsigned)value, name,
               rg_err_name(rc));
    size_t len = strlen(words);
    FUZZ_CHECK(len > 0 && fuzz_utf8(words, len), "words of %u",
               (unsigned)value);

    /* Into a buffer of exactly `size` bytes: all or nothing. */
    char *small = malloc(size);
    FUZZ_CHECK(small != NULL, "memory");
    rc = rg_number_words(value, name, small, size);
    if (len < size)
        FUZZ_CHECK(rc == RG_OK && strcmp(small, words) == 0, "%zu bytes: %s",
                   size, rg_err_name(rc));
    else
        FUZZ_CHECK(rc == RG_ETOOBIG && small[0] == '\0', "%zu bytes: %s", size,
                   rg_err_name(rc));
    free(small);

    /* A NULL locale is English. */
    if (locale == RG__LOCALE_EN) {
        char en[256];
        FUZZ_CHECK(rg_number_words(value, NULL, en, sizeof en) == RG_OK &&
                       strcmp(en, words) == 0,
                   "NULL locale: '%s'", en);
    }

    /* The internal speller agrees, and its words read back. */
    char again[256];
    FUZZ_CHECK(rg__number_words(value, locale, again, sizeof again) ==
                       (int)len &&
                   strcmp(again, words) == 0,
               "rg__number_words: '%s'", again);
    uint32_t back = 0;
    FUZZ_CHECK(rg_answer_parse(words, name, &back) == RG_OK && back == value,
               "'%s' (%s) reads %u, not %u", words, name, (unsigned)back,
               (unsigned)value);
    char norm[RG__NORM_MAX];
    size_t n;
    FUZZ_CHECK(rg__answer_normalise(words, len, norm, sizeof norm, &n),
               "'%s' does not normalise", words);
    back = 0;
    FUZZ_CHECK(rg__number_from_words(norm, n, locale, &back) && back == value,
               "'%s' looks up as %u, not %u", norm, (unsigned)back,
               (unsigned)value);
}

static void check_read(int locale, const char *text, size_t len)
{
    const char *name = locales[locale];
    uint32_t value = 0, v2 = 0;

    /* The lookup's precondition is normalised text, but whatever it is
     * given, it must not read or write out of bounds. */
    rg__number_from_words(text, len, locale, &value);

    char norm[RG__NORM_MAX];
    size_t n;
    if (!rg__answer_normalise(text, len, norm, sizeof norm, &n))
        return;
    if (!rg__number_from_words(norm, n, locale, &value))
        return;
    FUZZ_CHECK(value <= RG__NUMBER_MAX, "'%s' reads %u", norm, (unsigned)value);
    if (len <= RG_ANSWER_MAX && memchr(text, 0, len) == NULL) {
        int rc = rg_answer_parse(text, name, &v2);
        FUZZ_CHECK(rc == RG_OK && v2 == value,
                   "'%s' (%s): lookup %u, rg_answer_parse %s %u", text, name,
                   (unsigned)value, rg_err_name(rc), (unsigned)v2);
    }
    if (locale == RG__LOCALE_DE) {
        /* One word: spaces mean nothing. */
        char joined[RG__NORM_MAX];
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (norm[i] != ' ')
                joined[j++] = norm[i];
        joined[j] = '\0';
        v2 = 0;
        FUZZ_CHECK(j > 0 && rg__number_from_words(joined, j, locale, &v2) &&
                       v2 == value,
                   "'%s' without spaces reads %u, not %u", norm, (unsigned)v2,
                   (unsigned)value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    int locale = fuzz_u8(&in) % RG__LOCALE_COUNT;
    /* Mostly 0 to 999, sometimes above. */
    uint16_t raw = fuzz_u16(&in);
    uint32_t value = raw & 0x8000 ? raw & 0x7fff : (raw & 0x7fff) % 1000;
    size_t buf_size = 1 + fuzz_u8(&in) % 128;
    check_render(locale, value, buf_size);

    char *text = fuzz_string(&in);
    size_t len = strlen(text);
    FUZZ_CHECK(rg_locale_check(text) ==
                   (rg__locale_find(text) >= 0 ? RG_OK : RG_ELOCALE),
               "rg_locale_check");
    check_read(locale, text, len);
    free(text);
    return 0;
}
