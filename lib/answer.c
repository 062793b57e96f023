/*
 * Answer normalisation: what a reader types into "nine + ten = [  ]" becomes
 * a number, or nothing. The steps, in order, are documented as a table in
 * docs/answers.md; keep the two in step.
 *
 * Everything here runs on untrusted input, so every step is bounded: the
 * input is at most RG_ANSWER_MAX bytes, the normalised text at most
 * RG__NORM_MAX, and digit strings stop accumulating long before uint32_t
 * could overflow. All Unicode knowledge comes from libunistring.
 */
#include "answer-private.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/*
 * The largest number typed in digits that we still report. Challenges never
 * go above RG__NUMBER_MAX, so a larger value is wrong either way, but a
 * caller of rg_answer_parse() may want to see what was typed.
 */
#define ANSWER_VALUE_MAX 999999u

/* What lies between two characters we keep while walking folded text. */
enum gap {
    GAP_NONE,  /* nothing: the characters touch */
    GAP_SPACE, /* white space only */
    GAP_DASH   /* at least one dash, maybe with white space */
};

/*
 * Appends `n` bytes to out, keeping room for the NUL. False when they do not
 * fit.
 */
static bool append(char *out, size_t size, size_t *o, const void *bytes,
                   size_t n)
{
    if (n >= size - *o)
        return false;
    memcpy(out + *o, bytes, n);
    *o += n;
    return true;
}

/*
 * Squeezes folded text into out: drops what a reader cannot see or did not
 * mean (combining marks, which carry the diacritics after decomposition, and
 * default-ignorable characters such as a zero-width space pasted from a web
 * page), and turns each run of white space and dashes into one ASCII space.
 * A run at either end is trimmed, unless it holds a dash: "-19" must not
 * become "19", so a leading or trailing dash rejects the text.
 */
static bool squeeze(const uint8_t *s, size_t len, char *out, size_t size,
                    size_t *out_len)
{
    enum gap gap = GAP_NONE;
    size_t o = 0;

    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int n = u8_mbtouc(&uc, s + i, len - i);
        const uint8_t *ch = s + i;

        i += (size_t)n;
        if (uc_is_general_category(uc, UC_CATEGORY_M) ||
            uc_is_property_default_ignorable_code_point(uc))
            continue;
        if (uc_is_property_white_space(uc)) {
            if (gap == GAP_NONE)
                gap = GAP_SPACE;
            continue;
        }
        if (uc_is_property_dash(uc)) {
            gap = GAP_DASH;
            continue;
        }
        if (gap != GAP_NONE) {
            if (o == 0 && gap == GAP_DASH)
                return false;
            if (o > 0 && !append(out, size, &o, " ", 1))
                return false;
            gap = GAP_NONE;
        }
        if (!append(out, size, &o, ch, (size_t)n))
            return false;
    }
    if (gap == GAP_DASH)
        return false;
    out[o] = '\0';
    *out_len = o;
    return true;
}

/* squeeze(), leaving out empty when it fails. */
static bool squeeze_or_clear(const uint8_t *s, size_t len, char *out,
                             size_t size, size_t *out_len)
{
    if (squeeze(s, len, out, size, out_len))
        return true;
    out[0] = '\0';
    *out_len = 0;
    return false;
}

static bool is_ascii(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 0x80)
            return false;
    }
    return true;
}

bool rg__answer_normalise(const char *in, size_t len, char *out, size_t size,
                          size_t *out_len)
{
    if (!out || size == 0 || !out_len || (!in && len > 0))
        return false;
    out[0] = '\0';
    *out_len = 0;
    if (len == 0)
        return true;

    const uint8_t *s = (const uint8_t *)in;
    if (len <= RG__NORM_MAX && is_ascii(s, len)) {
        /*
         * Most answers are "19" or "nineteen". For ASCII text both
         * compatibility decomposition and case folding are the identity
         * except that A-Z fold to a-z, so we skip libunistring's folding,
         * which costs microseconds, and squeeze the same bytes it would
         * have produced. tests/test-answer.c checks the two paths agree.
         * Longer text takes the slow path, whose result may still fit
         * once runs of spaces are squeezed.
         */
        uint8_t lower[RG__NORM_MAX];
        for (size_t i = 0; i < len; i++) {
            uint8_t c = s[i];
            lower[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
        }
        return squeeze_or_clear(lower, len, out, size, out_len);
    }
    if (u8_check(s, len) != NULL)
        return false;

    /*
     * Case folding with compatibility decomposition (NFKD) rather than
     * composition (NFKC): the compatibility mappings are the same (full-width
     * and Arabic-Indic forms, ligatures, NBSP), but decomposition leaves
     * each diacritic as a separate combining mark that squeeze() can drop,
     * so "veintidós" and "veintidos" meet. libunistring folds, decomposes
     * and folds again as Unicode's toNFKC_Casefold does, so "㎆" becomes
     * "mb". The result usually fits in the stack buffer; when it does not,
     * libunistring allocates.
     */
    uint8_t stack[RG__NORM_MAX];
    size_t flen = sizeof stack;
    uint8_t *folded = u8_casefold(s, len, NULL, UNINORM_NFKD, stack, &flen);
    if (!folded)
        return false;

    bool ok = squeeze_or_clear(folded, flen, out, size, out_len);
    if (folded != stack)
        free(folded);
    return ok;
}

/*
 * The value of a string made only of decimal digits, of any one or several
 * scripts (uc_decimal_value: the digits of Unicode category Nd, which are
 * positional; uc_digit_value would also admit digit-like signs that are
 * not). Leading zeros are fine. Values above ANSWER_VALUE_MAX are rejected
 * without ever overflowing: accumulation stops as soon as it passes the
 * limit, and the limit times ten still fits.
 */
static bool digits_value(const char *s, size_t len, uint32_t *value)
{
    const uint8_t *p = (const uint8_t *)s;
    uint32_t v = 0;
    bool too_big = false;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int n = u8_mbtouc(&uc, p + i, len - i);
        int d = uc_decimal_value(uc);

        if (d < 0)
            return false;
        i += (size_t)n;
        if (!too_big) {
            v = v * 10 + (uint32_t)d;
            too_big = v > ANSWER_VALUE_MAX;
        }
    }
    if (too_big)
        return false;
    *value = v;
    return true;
}

bool rg__answer_value(const char *answer, size_t len, int locale,
                      uint32_t *value)
{
    char norm[RG__NORM_MAX];
    size_t n;

    if (!value || (!answer && len > 0) || len > RG_ANSWER_MAX)
        return false;
    if (!rg__answer_normalise(answer, len, norm, sizeof norm, &n))
        return false;

    /* One optional '+', glued to what follows: "+19", never "+ 19". */
    const char *s = norm;
    if (n > 0 && s[0] == '+') {
        s++;
        n--;
    }
    if (n == 0)
        return false;
    if (digits_value(s, n, value))
        return true;
    if (locale >= 0 && locale < RG__LOCALE_COUNT &&
        rg__number_from_words(s, n, locale, value))
        return true;

    /* English is understood everywhere, whatever the challenge's locale. */
    return locale != RG__LOCALE_EN &&
           rg__number_from_words(s, n, RG__LOCALE_EN, value);
}

int rg_answer_parse(const char *answer, const char *locale, uint32_t *value)
{
    if (!answer || !value)
        return RG_EINVAL;

    int loc = locale ? rg__locale_find(locale) : RG__LOCALE_EN;
    if (loc < 0)
        return RG_ELOCALE;

    /*
     * Never read further than one byte past the limit: that byte is enough
     * to know the answer is too long.
     */
    size_t len = strnlen(answer, RG_ANSWER_MAX + 1);
    return rg__answer_value(answer, len, loc, value) ? RG_OK : RG_EINVAL;
}
