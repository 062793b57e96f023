/*
 * Fuzz target: answer normalisation and parsing (lib/answer.c,
 * docs/answers.md).
 *
 * Input: one byte picking the locale, then the answer's bytes, up to the
 * first NUL (where every caller's answer ends).
 *
 * Invariants of rg__answer_normalise(), as answer-private.h states them:
 * the result is UTF-8 without a dash, a combining mark, an invisible
 * character or any white space but single ASCII spaces between words; it
 * is its own normal form (normalising twice equals normalising once); it
 * fits a buffer exactly when its length is below the buffer's size; and
 * ASCII text gives the same on the fast path as through libunistring.
 * Of rg_answer_parse(): it agrees with the internal parser, with the text
 * padded with spaces, in upper case and already normalised; a number it
 * reads is at most 999999, and one of 999 or less rendered in words reads
 * back as itself.
 */
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <unistr.h>

#include "fuzz.h"

#include "answer-private.h"
#include "internal.h"

static const char *const locales[RG__LOCALE_COUNT] = {"en", "ru", "de", "fr",
                                                      "es"};

/* The normal form's promises about its characters. */
static void check_normal(const char *s, size_t n)
{
    FUZZ_CHECK(fuzz_utf8(s, n), "normal form is not UTF-8");
    FUZZ_CHECK(n == 0 || (s[0] != ' ' && s[n - 1] != ' '), "untrimmed '%s'", s);
    FUZZ_CHECK(strstr(s, "  ") == NULL, "two spaces in '%s'", s);
    for (size_t i = 0; i < n;) {
        ucs4_t uc;
        int len = u8_mbtouc(&uc, (const uint8_t *)s + i, n - i);
        FUZZ_CHECK(!uc_is_property_dash(uc), "dash U+%04X in '%s'",
                   (unsigned)uc, s);
        FUZZ_CHECK(uc == ' ' || !uc_is_property_white_space(uc),
                   "space U+%04X in '%s'", (unsigned)uc, s);
        FUZZ_CHECK(!uc_is_general_category(uc, UC_CATEGORY_M) &&
                       !uc_is_property_default_ignorable_code_point(uc),
                   "mark or invisible U+%04X in '%s'", (unsigned)uc, s);
        i += (size_t)len;
    }
}

/* Normalises into a buffer of exactly `size` bytes (so that a write past
 * it is caught); *out is then malloc()ed, or NULL when it failed. */
static bool normalise(const char *in, size_t len, size_t size, char **out,
                      size_t *out_len)
{
    char *buf = malloc(size ? size : 1);
    FUZZ_CHECK(buf != NULL, "memory");
    bool ok = rg__answer_normalise(in, len, buf, size, out_len);
    if (!ok) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return ok;
}

static bool is_ascii(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return false;
    return true;
}

static void check_normalise(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *norm;
    size_t n;

    if (!normalise(in, size, RG__NORM_MAX, &norm, &n)) {
        /* A text that fails must fail on the slow path too. */
        if (is_ascii(data, size) && size + 3 <= 4 * RG__NORM_MAX) {
            char slow_in[4 * RG__NORM_MAX], *slow;
            size_t slow_n;
            memcpy(slow_in, "\xe2\x80\x8b", 3); /* U+200B, invisible */
            memcpy(slow_in + 3, data, size);
            bool ok =
                normalise(slow_in, size + 3, RG__NORM_MAX, &slow, &slow_n);
            FUZZ_CHECK(!ok, "ASCII fast path fails where folding gives '%s'",
                       slow);
        }
        return;
    }
    FUZZ_CHECK(n < RG__NORM_MAX && strlen(norm) == n, "length %zu", n);
    check_normal(norm, n);

    /* Its own normal form. */
    char *twice;
    size_t n2;
    FUZZ_CHECK(normalise(norm, n, RG__NORM_MAX, &twice, &n2),
               "normal form '%s' does not normalise", norm);
    FUZZ_CHECK(n2 == n && memcmp(twice, norm, n) == 0,
               "'%s' normalises to '%s'", norm, twice);
    free(twice);

    /* It fits exactly when its length is below the buffer's size. */
    char *tight;
    FUZZ_CHECK(normalise(in, size, n + 1, &tight, &n2) && n2 == n &&
                   memcmp(tight, norm, n + 1) == 0,
               "does not fit in %zu bytes", n + 1);
    free(tight);
    FUZZ_CHECK(!normalise(in, size, n, &tight, &n2),
               "fits in %zu bytes, without its NUL", n);

    /* The same through libunistring as on the ASCII fast path. */
    if (is_ascii(data, size) && size + 3 <= 4 * RG__NORM_MAX) {
        char slow_in[4 * RG__NORM_MAX], *slow;
        size_t slow_n;
        memcpy(slow_in, "\xe2\x80\x8b", 3);
        memcpy(slow_in + 3, data, size);
        FUZZ_CHECK(normalise(slow_in, size + 3, RG__NORM_MAX, &slow, &slow_n),
                   "ASCII '%s' fails through libunistring", norm);
        FUZZ_CHECK(slow_n == n && memcmp(slow, norm, n) == 0,
                   "ASCII fast path '%s', libunistring '%s'", norm, slow);
        free(slow);
    }
    free(norm);
}

/* rg_answer_parse() of the len bytes at s, as a string of its own. */
static int parse(const char *s, size_t len, const char *locale, uint32_t *value)
{
    char *copy = malloc(len + 1);
    FUZZ_CHECK(copy != NULL, "memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    int rc = rg_answer_parse(copy, locale, value);
    free(copy);
    return rc;
}

static void check_parse(const uint8_t *data, size_t size, int locale)
{
    const char *in = (const char *)data;
    const char *name = locale < RG__LOCALE_COUNT ? locales[locale] : NULL;
    int loc = locale < RG__LOCALE_COUNT ? locale : RG__LOCALE_EN;
    uint32_t value = 0, internal = 0;

    int rc = parse(in, size, name, &value);
    FUZZ_CHECK(rc == RG_OK || rc == RG_EINVAL, "%s", rg_err_name(rc));
    bool ok = rg__answer_value(in, size, loc, &internal);
    FUZZ_CHECK(ok == (rc == RG_OK) && (!ok || internal == value),
               "internal parser %d/%u, public %s/%u", ok, (unsigned)internal,
               rg_err_name(rc), (unsigned)value);
    if (!ok)
        return;
    FUZZ_CHECK(size <= RG_ANSWER_MAX, "read %zu bytes", size);
    FUZZ_CHECK(value <= 999999, "value %u", (unsigned)value);

    /* Spaces around it change nothing. */
    if (size + 2 <= RG_ANSWER_MAX) {
        char padded[RG_ANSWER_MAX + 1];
        padded[0] = ' ';
        memcpy(padded + 1, in, size);
        padded[size + 1] = '\t';
        uint32_t v2 = 0;
        FUZZ_CHECK(parse(padded, size + 2, name, &v2) == RG_OK && v2 == value,
                   "padded: %u, not %u", (unsigned)v2, (unsigned)value);
    }

    /* Nor does case. */
    if (is_ascii(data, size)) {
        char upper[RG_ANSWER_MAX + 1];
        for (size_t i = 0; i < size; i++)
            upper[i] = (char)(data[i] >= 'a' && data[i] <= 'z' ? data[i] - 32
                                                               : data[i]);
        uint32_t v2 = 0;
        FUZZ_CHECK(parse(upper, size, name, &v2) == RG_OK && v2 == value,
                   "upper case: %u, not %u", (unsigned)v2, (unsigned)value);
    }

    /* Its normal form means the same. */
    char norm[RG__NORM_MAX];
    size_t n;
    FUZZ_CHECK(rg__answer_normalise(in, size, norm, sizeof norm, &n),
               "parsed but does not normalise");
    if (n <= RG_ANSWER_MAX) {
        uint32_t v2 = 0;
        FUZZ_CHECK(parse(norm, n, name, &v2) == RG_OK && v2 == value,
                   "normal form '%s': %u, not %u", norm, (unsigned)v2,
                   (unsigned)value);
    }

    /* Its words read back as itself. */
    if (value <= RG__NUMBER_MAX) {
        char words[128];
        uint32_t v2 = 0;
        FUZZ_CHECK(rg_number_words(value, name, words, sizeof words) == RG_OK,
                   "words of %u", (unsigned)value);
        FUZZ_CHECK(
            parse(words, strlen(words), name, &v2) == RG_OK && v2 == value,
            "'%s' reads %u, not %u", words, (unsigned)v2, (unsigned)value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int locale = data[0] % (RG__LOCALE_COUNT + 1);
    data++;
    size--;
    /* Every caller's answer ends at its first NUL. */
    const uint8_t *nul = memchr(data, 0, size);
    if (nul)
        size = (size_t)(nul - data);
    check_normalise(data, size);
    check_parse(data, size, locale);
    return 0;
}
