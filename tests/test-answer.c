/*
 * Answer normalisation (docs/answers.md): a table of what readers type,
 * each with the number it means or "not a number", plus the public
 * rg_answer_parse() and the agreement of the ASCII fast path with the full
 * Unicode path.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "answer-private.h"
#include "internal.h"
#include "replyguard.h"

Suite *answer_suite(void);

/* A string literal with its exact length, so it may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

enum { NO = -1 };

static const struct {
    const char *text;
    size_t len;
    int locale;
    long value; /* NO: not a number */
} cases[] = {
    /* Digits, spaces, sign, leading zeros. */
    {S("19"), RG__LOCALE_EN, 19},
    {S(" 19 "), RG__LOCALE_EN, 19},
    {S("\t19\r\n"), RG__LOCALE_EN, 19},
    {S("+19"), RG__LOCALE_EN, 19},
    {S("0019"), RG__LOCALE_EN, 19},
    {S("0"), RG__LOCALE_EN, 0},
    {S("000"), RG__LOCALE_EN, 0},
    {S("0000000000000000000000000000000000000019"), RG__LOCALE_EN, 19},
    {S("999999"), RG__LOCALE_EN, 999999},
    /* Digits of other scripts. */
    {S("１９"), RG__LOCALE_EN, 19},           /* full-width */
    {S("١٩"), RG__LOCALE_EN, 19},             /* Arabic-Indic */
    {S("۱۹"), RG__LOCALE_EN, 19},             /* Extended Arabic-Indic */
    {S("१९"), RG__LOCALE_EN, 19},             /* Devanagari */
    {S("\xe2\x80\x8f١٩"), RG__LOCALE_EN, 19}, /* with a right-to-left mark */
    {S("＋１９"), RG__LOCALE_EN, 19},         /* full-width plus */
    {S("⑲"), RG__LOCALE_EN, 19},              /* NFKC: circled nineteen */
    {S("1\xe2\x80\x8b"
       "9"),
     RG__LOCALE_EN, 19}, /* zero-width space */
    /* Words: case, spaces, hyphens, diacritics. */
    {S("nineteen"), RG__LOCALE_EN, 19},
    {S("Nineteen"), RG__LOCALE_EN, 19},
    {S("NINETEEN"), RG__LOCALE_EN, 19},
    {S("\xc2\xa0nineteen\xc2\xa0"), RG__LOCALE_EN, 19}, /* NBSP */
    {S("ｎｉｎｅｔｅｅｎ"), RG__LOCALE_EN, 19},         /* full-width letters */
    {S("+nineteen"), RG__LOCALE_EN, 19},
    {S("twenty-one"), RG__LOCALE_EN, 21},
    {S("Twenty One"), RG__LOCALE_EN, 21},
    {S("twenty\xe2\x80\x93one"), RG__LOCALE_EN, 21}, /* en dash */
    {S("twenty - one"), RG__LOCALE_EN, 21},
    {S("one hundred and five"), RG__LOCALE_EN, 105},
    {S("One-Hundred-Five"), RG__LOCALE_EN, 105},
    {S("neunzehn"), RG__LOCALE_DE, 19},
    {S("nineteen"), RG__LOCALE_DE, 19}, /* English is always understood */
    {S("NEUNZEHN"), RG__LOCALE_DE, 19},
    {S("Einundzwanzig"), RG__LOCALE_DE, 21},
    {S("dreißig"), RG__LOCALE_DE, 30},
    {S("DREISSIG"), RG__LOCALE_DE, 30},
    {S("fünf"), RG__LOCALE_DE, 5},
    {S("fuenf"), RG__LOCALE_DE, 5},
    {S("hundertzwei"), RG__LOCALE_DE, 102},
    {S("dix-neuf"), RG__LOCALE_FR, 19},
    {S("dix neuf"), RG__LOCALE_FR, 19},
    {S("Dix - Neuf"), RG__LOCALE_FR, 19},
    {S("vingt-et-un"), RG__LOCALE_FR, 21},
    {S("soixante-et-onze"), RG__LOCALE_FR, 71},
    {S("deux-cent-un"), RG__LOCALE_FR, 201},
    {S("quatre-vingt-dix-sept"), RG__LOCALE_FR, 97},
    {S("zéro"), RG__LOCALE_FR, 0},
    {S("ZÉRO"), RG__LOCALE_FR, 0},
    {S("ze\xcc\x81ro"), RG__LOCALE_FR, 0}, /* e + combining acute */
    {S("nonante-neuf"), RG__LOCALE_FR, 99},
    {S("diecinueve"), RG__LOCALE_ES, 19},
    {S("veintidós"), RG__LOCALE_ES, 22},
    {S("veintidos"), RG__LOCALE_ES, 22},
    {S("VEINTIDÓS"), RG__LOCALE_ES, 22},
    {S("veintiún"), RG__LOCALE_ES, 21},
    {S("девятнадцать"), RG__LOCALE_RU, 19},
    {S("ДЕВЯТНАДЦАТЬ"), RG__LOCALE_RU, 19},
    {S("Двадцать  один"), RG__LOCALE_RU, 21},
    {S("nineteen"), RG__LOCALE_RU, 19},
    /* Not numbers. */
    {S(""), RG__LOCALE_EN, NO},
    {S("   "), RG__LOCALE_EN, NO},
    {S("\xc2\xa0"), RG__LOCALE_EN, NO},
    {S("+"), RG__LOCALE_EN, NO},
    {S("-"), RG__LOCALE_EN, NO},
    {S("19 apples"), RG__LOCALE_EN, NO},
    {S("1 9"), RG__LOCALE_EN, NO},
    {S("1-9"), RG__LOCALE_EN, NO},
    {S("-19"), RG__LOCALE_EN, NO},
    {S("\xe2\x88\x92"
       "19"),
     RG__LOCALE_EN, NO}, /* minus sign */
    {S("- 19"), RG__LOCALE_EN, NO},
    {S("19-"), RG__LOCALE_EN, NO},
    {S("-nineteen"), RG__LOCALE_EN, NO},
    {S("nineteen-"), RG__LOCALE_EN, NO},
    {S("++19"), RG__LOCALE_EN, NO},
    {S("+ 19"), RG__LOCALE_EN, NO},
    {S("19.0"), RG__LOCALE_EN, NO},
    {S("1e3"), RG__LOCALE_EN, NO},
    {S("0x13"), RG__LOCALE_EN, NO},
    {S("½"), RG__LOCALE_EN, NO},
    {S("nine teen"), RG__LOCALE_EN, NO},
    {S("neunzehn"), RG__LOCALE_EN, NO}, /* only the locale and English */
    {S("dix-neuf"), RG__LOCALE_DE, NO},
    {S("1000000"), RG__LOCALE_EN, NO},
    {S("99999999999999999999"), RG__LOCALE_EN, NO},
    {S("4294967296"), RG__LOCALE_EN, NO},
    {S("18446744073709551635"), RG__LOCALE_EN, NO},
    /* 64 bytes is the limit: these are 64 and 65. */
    {S("0000000000000000000000000000000000000000000000000000000000000019"),
     RG__LOCALE_EN, 19},
    {S("00000000000000000000000000000000000000000000000000000000000000019"),
     RG__LOCALE_EN, NO},
    /* Not UTF-8. */
    {S("\xff\xfe"), RG__LOCALE_EN, NO},
    {S("19\xff"), RG__LOCALE_EN, NO},
    {S("\xc0\xaf"), RG__LOCALE_EN, NO}, /* overlong '/' */
    {S("\xc1\xb1"
       "9"),
     RG__LOCALE_EN, NO}, /* overlong '1' */
    {S("\xe0\x80\xb1"
       "9"),
     RG__LOCALE_EN, NO},                 /* overlong '1' */
    {S("1\xe2\x82"), RG__LOCALE_EN, NO}, /* truncated sequence */
    {S("\xd9"), RG__LOCALE_EN, NO},      /* truncated '١' */
    {S("\xed\xa0\x80"
       "19"),
     RG__LOCALE_EN, NO},                        /* surrogate */
    {S("\xf4\x90\x80\x80"), RG__LOCALE_EN, NO}, /* beyond U+10FFFF */
    /* Embedded NUL: the length counts, a NUL is just a wrong character. */
    {S("19\0"), RG__LOCALE_EN, NO},
    {S("1\0"
       "9"),
     RG__LOCALE_EN, NO},
    {S("nine\0teen"), RG__LOCALE_EN, NO},
    {"19\0xyz", 2, RG__LOCALE_EN, 19},
    /* A locale id out of range still understands digits and English. */
    {S("19"), -1, 19},
    {S("nineteen"), RG__LOCALE_COUNT, 19},
    {S("neunzehn"), 99, NO},
};

START_TEST(answer_table)
{
    uint32_t v = 12345;
    bool ok =
        rg__answer_value(cases[_i].text, cases[_i].len, cases[_i].locale, &v);

    if (cases[_i].value == NO) {
        ck_assert_msg(!ok, "case %d accepted as %u", _i, v);
        ck_assert_uint_eq(v, 12345);
    } else {
        ck_assert_msg(ok, "case %d not accepted", _i);
        ck_assert_uint_eq(v, (uint32_t)cases[_i].value);
    }
}
END_TEST

START_TEST(answer_value_bad_arguments)
{
    uint32_t v = 12345;

    ck_assert(!rg__answer_value("19", 2, RG__LOCALE_EN, NULL));
    ck_assert(!rg__answer_value(NULL, 2, RG__LOCALE_EN, &v));
    ck_assert(!rg__answer_value(NULL, 0, RG__LOCALE_EN, &v));
    ck_assert(!rg__answer_value("19", SIZE_MAX, RG__LOCALE_EN, &v));
    ck_assert_uint_eq(v, 12345);
}
END_TEST

START_TEST(public_parse)
{
    uint32_t v = 12345;

    ck_assert_int_eq(rg_answer_parse(" 19 ", "en", &v), RG_OK);
    ck_assert_uint_eq(v, 19);
    ck_assert_int_eq(rg_answer_parse("nineteen", NULL, &v), RG_OK);
    ck_assert_uint_eq(v, 19);
    ck_assert_int_eq(rg_answer_parse("neunzehn", "de", &v), RG_OK);
    ck_assert_uint_eq(v, 19);
    ck_assert_int_eq(rg_answer_parse("двадцать один", "ru", &v), RG_OK);
    ck_assert_uint_eq(v, 21);

    v = 12345;
    ck_assert_int_eq(rg_answer_parse("neunzehn", NULL, &v), RG_EINVAL);
    ck_assert_int_eq(rg_answer_parse("", "en", &v), RG_EINVAL);
    ck_assert_int_eq(rg_answer_parse("-19", "en", &v), RG_EINVAL);
    ck_assert_int_eq(rg_answer_parse("\xff", "en", &v), RG_EINVAL);
    ck_assert_int_eq(rg_answer_parse("19", "xx", &v), RG_ELOCALE);
    ck_assert_int_eq(rg_answer_parse("19", "", &v), RG_ELOCALE);
    ck_assert_int_eq(rg_answer_parse(NULL, "en", &v), RG_EINVAL);
    ck_assert_int_eq(rg_answer_parse("19", "en", NULL), RG_EINVAL);
    ck_assert_uint_eq(v, 12345);
}
END_TEST

/*
 * rg_answer_parse() takes a C string, but must not read more of it than it
 * needs: 65 bytes without a NUL, in a heap block of exactly that size, so
 * AddressSanitizer sees any read beyond.
 */
START_TEST(public_parse_reads_no_further)
{
    char *p = malloc(RG_ANSWER_MAX + 1);
    uint32_t v = 12345;

    ck_assert_ptr_nonnull(p);
    memset(p, '1', RG_ANSWER_MAX + 1);
    ck_assert_int_eq(rg_answer_parse(p, "en", &v), RG_EINVAL);
    ck_assert_uint_eq(v, 12345);
    free(p);
}
END_TEST

/*
 * The ASCII fast path of rg__answer_normalise() must give what the full
 * Unicode path gives. A trailing zero-width space (an ignorable character,
 * which normalisation drops) forces the full path for the same text. Every
 * ASCII byte is tried alone and between letters, digits and spaces.
 */
START_TEST(ascii_fast_path_agrees)
{
    static const char *const frames[] = {"%c",  "A%cb", "1%c9",  " %c ",
                                         "-%c", "%c-",  "X %c-Y"};
    char c = (char)_i;

    for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
        char in[32], slow_in[40], fast[RG__NORM_MAX], slow[RG__NORM_MAX];
        size_t n = 0, fast_len = 99, slow_len = 99;

        for (const char *p = frames[f]; *p; p++) {
            if (p[0] == '%' && p[1] == 'c') {
                in[n++] = c;
                p++;
            } else {
                in[n++] = *p;
            }
        }
        memcpy(slow_in, in, n);
        memcpy(slow_in + n, "\xe2\x80\x8b", 3);

        bool fast_ok =
            rg__answer_normalise(in, n, fast, sizeof fast, &fast_len);
        bool slow_ok =
            rg__answer_normalise(slow_in, n + 3, slow, sizeof slow, &slow_len);
        ck_assert_msg(fast_ok == slow_ok, "byte %d frame %zu", _i, f);
        ck_assert_uint_eq(fast_len, slow_len);
        ck_assert_msg(memcmp(fast, slow, fast_len) == 0, "byte %d frame %zu",
                      _i, f);
    }
}
END_TEST

/* Normalised text that does not fit the caller's buffer is refused. */
START_TEST(normalise_small_buffer)
{
    char out[8];
    size_t len = 99;

    ck_assert(rg__answer_normalise("  Nine  ", 8, out, sizeof out, &len));
    ck_assert_str_eq(out, "nine");
    ck_assert_uint_eq(len, 4);
    ck_assert(!rg__answer_normalise("nineteen", 8, out, sizeof out, &len));
    ck_assert_str_eq(out, "");
    ck_assert(
        !rg__answer_normalise("ｎｉｎｅｔｅｅｎ", 24, out, sizeof out, &len));
    ck_assert(!rg__answer_normalise("19", 2, out, 0, &len));
    ck_assert(!rg__answer_normalise("19", 2, NULL, 8, &len));
    ck_assert(!rg__answer_normalise("19", 2, out, sizeof out, NULL));

    /* Compatibility decomposition can grow text tenfold: still bounded. */
    char big[RG__NORM_MAX];
    char in[64];
    for (size_t i = 0; i + 3 <= sizeof in; i += 3)
        memcpy(in + i, "\xef\xb7\xba", 3); /* U+FDFA, 18 letters in NFKD */
    ck_assert(!rg__answer_normalise(in, 63, big, sizeof big, &len));
    uint32_t v;
    ck_assert(!rg__answer_value(in, 63, RG__LOCALE_EN, &v));
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *answer_suite(void)
{
    Suite *s = suite_create("answer");
    TCase *tc;

    tc = tcase_create("normalise");
    tcase_add_loop_test(tc, answer_table, 0, COUNT(cases));
    tcase_add_test(tc, answer_value_bad_arguments);
    tcase_add_loop_test(tc, ascii_fast_path_agrees, 0, 128);
    tcase_add_test(tc, normalise_small_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("public");
    tcase_add_test(tc, public_parse);
    tcase_add_test(tc, public_parse_reads_no_further);
    suite_add_tcase(s, tc);

    return s;
}
