/*
 * Number words: every number 0..100 in every locale against tables typed
 * out below (not generated: they are the independent reference), samples
 * of the hundreds, a round trip of 0..999 through the answer normaliser,
 * the accepted variant spellings, and the error paths.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "answer-private.h"
#include "internal.h"
#include "replyguard.h"

Suite *numwords_suite(void);

static const char *const en_words[101] = {
    "zero",         "one",           "two",           "three",
    "four",         "five",          "six",           "seven",
    "eight",        "nine",          "ten",           "eleven",
    "twelve",       "thirteen",      "fourteen",      "fifteen",
    "sixteen",      "seventeen",     "eighteen",      "nineteen",
    "twenty",       "twenty-one",    "twenty-two",    "twenty-three",
    "twenty-four",  "twenty-five",   "twenty-six",    "twenty-seven",
    "twenty-eight", "twenty-nine",   "thirty",        "thirty-one",
    "thirty-two",   "thirty-three",  "thirty-four",   "thirty-five",
    "thirty-six",   "thirty-seven",  "thirty-eight",  "thirty-nine",
    "forty",        "forty-one",     "forty-two",     "forty-three",
    "forty-four",   "forty-five",    "forty-six",     "forty-seven",
    "forty-eight",  "forty-nine",    "fifty",         "fifty-one",
    "fifty-two",    "fifty-three",   "fifty-four",    "fifty-five",
    "fifty-six",    "fifty-seven",   "fifty-eight",   "fifty-nine",
    "sixty",        "sixty-one",     "sixty-two",     "sixty-three",
    "sixty-four",   "sixty-five",    "sixty-six",     "sixty-seven",
    "sixty-eight",  "sixty-nine",    "seventy",       "seventy-one",
    "seventy-two",  "seventy-three", "seventy-four",  "seventy-five",
    "seventy-six",  "seventy-seven", "seventy-eight", "seventy-nine",
    "eighty",       "eighty-one",    "eighty-two",    "eighty-three",
    "eighty-four",  "eighty-five",   "eighty-six",    "eighty-seven",
    "eighty-eight", "eighty-nine",   "ninety",        "ninety-one",
    "ninety-two",   "ninety-three",  "ninety-four",   "ninety-five",
    "ninety-six",   "ninety-seven",  "ninety-eight",  "ninety-nine",
    "one hundred",
};

static const char *const ru_words[101] = {
    "ноль",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
    "двадцать",
    "двадцать один",
    "двадцать два",
    "двадцать три",
    "двадцать четыре",
    "двадцать пять",
    "двадцать шесть",
    "двадцать семь",
    "двадцать восемь",
    "двадцать девять",
    "тридцать",
    "тридцать один",
    "тридцать два",
    "тридцать три",
    "тридцать четыре",
    "тридцать пять",
    "тридцать шесть",
    "тридцать семь",
    "тридцать восемь",
    "тридцать девять",
    "сорок",
    "сорок один",
    "сорок два",
    "сорок три",
    "сорок четыре",
    "сорок пять",
    "сорок шесть",
    "сорок семь",
    "сорок восемь",
    "сорок девять",
    "пятьдесят",
    "пятьдесят один",
    "пятьдесят два",
    "пятьдесят три",
    "пятьдесят четыре",
    "пятьдесят пять",
    "пятьдесят шесть",
    "пятьдесят семь",
    "пятьдесят восемь",
    "пятьдесят девять",
    "шестьдесят",
    "шестьдесят один",
    "шестьдесят два",
    "шестьдесят три",
    "шестьдесят четыре",
    "шестьдесят пять",
    "шестьдесят шесть",
    "шестьдесят семь",
    "шестьдесят восемь",
    "шестьдесят девять",
    "семьдесят",
    "семьдесят один",
    "семьдесят два",
    "семьдесят три",
    "семьдесят четыре",
    "семьдесят пять",
    "семьдесят шесть",
    "семьдесят семь",
    "семьдесят восемь",
    "семьдесят девять",
    "восемьдесят",
    "восемьдесят один",
    "восемьдесят два",
    "восемьдесят три",
    "восемьдесят четыре",
    "восемьдесят пять",
    "восемьдесят шесть",
    "восемьдесят семь",
    "восемьдесят восемь",
    "восемьдесят девять",
    "девяносто",
    "девяносто один",
    "девяносто два",
    "девяносто три",
    "девяносто четыре",
    "девяносто пять",
    "девяносто шесть",
    "девяносто семь",
    "девяносто восемь",
    "девяносто девять",
    "сто",
};

static const char *const de_words[101] = {
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
    "zwanzig",
    "einundzwanzig",
    "zweiundzwanzig",
    "dreiundzwanzig",
    "vierundzwanzig",
    "fünfundzwanzig",
    "sechsundzwanzig",
    "siebenundzwanzig",
    "achtundzwanzig",
    "neunundzwanzig",
    "dreißig",
    "einunddreißig",
    "zweiunddreißig",
    "dreiunddreißig",
    "vierunddreißig",
    "fünfunddreißig",
    "sechsunddreißig",
    "siebenunddreißig",
    "achtunddreißig",
    "neununddreißig",
    "vierzig",
    "einundvierzig",
    "zweiundvierzig",
    "dreiundvierzig",
    "vierundvierzig",
    "fünfundvierzig",
    "sechsundvierzig",
    "siebenundvierzig",
    "achtundvierzig",
    "neunundvierzig",
    "fünfzig",
    "einundfünfzig",
    "zweiundfünfzig",
    "dreiundfünfzig",
    "vierundfünfzig",
    "fünfundfünfzig",
    "sechsundfünfzig",
    "siebenundfünfzig",
    "achtundfünfzig",
    "neunundfünfzig",
    "sechzig",
    "einundsechzig",
    "zweiundsechzig",
    "dreiundsechzig",
    "vierundsechzig",
    "fünfundsechzig",
    "sechsundsechzig",
    "siebenundsechzig",
    "achtundsechzig",
    "neunundsechzig",
    "siebzig",
    "einundsiebzig",
    "zweiundsiebzig",
    "dreiundsiebzig",
    "vierundsiebzig",
    "fünfundsiebzig",
    "sechsundsiebzig",
    "siebenundsiebzig",
    "achtundsiebzig",
    "neunundsiebzig",
    "achtzig",
    "einundachtzig",
    "zweiundachtzig",
    "dreiundachtzig",
    "vierundachtzig",
    "fünfundachtzig",
    "sechsundachtzig",
    "siebenundachtzig",
    "achtundachtzig",
    "neunundachtzig",
    "neunzig",
    "einundneunzig",
    "zweiundneunzig",
    "dreiundneunzig",
    "vierundneunzig",
    "fünfundneunzig",
    "sechsundneunzig",
    "siebenundneunzig",
    "achtundneunzig",
    "neunundneunzig",
    "einhundert",
};

static const char *const fr_words[101] = {
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
    "vingt",
    "vingt et un",
    "vingt-deux",
    "vingt-trois",
    "vingt-quatre",
    "vingt-cinq",
    "vingt-six",
    "vingt-sept",
    "vingt-huit",
    "vingt-neuf",
    "trente",
    "trente et un",
    "trente-deux",
    "trente-trois",
    "trente-quatre",
    "trente-cinq",
    "trente-six",
    "trente-sept",
    "trente-huit",
    "trente-neuf",
    "quarante",
    "quarante et un",
    "quarante-deux",
    "quarante-trois",
    "quarante-quatre",
    "quarante-cinq",
    "quarante-six",
    "quarante-sept",
    "quarante-huit",
    "quarante-neuf",
    "cinquante",
    "cinquante et un",
    "cinquante-deux",
    "cinquante-trois",
    "cinquante-quatre",
    "cinquante-cinq",
    "cinquante-six",
    "cinquante-sept",
    "cinquante-huit",
    "cinquante-neuf",
    "soixante",
    "soixante et un",
    "soixante-deux",
    "soixante-trois",
    "soixante-quatre",
    "soixante-cinq",
    "soixante-six",
    "soixante-sept",
    "soixante-huit",
    "soixante-neuf",
    "soixante-dix",
    "soixante et onze",
    "soixante-douze",
    "soixante-treize",
    "soixante-quatorze",
    "soixante-quinze",
    "soixante-seize",
    "soixante-dix-sept",
    "soixante-dix-huit",
    "soixante-dix-neuf",
    "quatre-vingts",
    "quatre-vingt-un",
    "quatre-vingt-deux",
    "quatre-vingt-trois",
    "quatre-vingt-quatre",
    "quatre-vingt-cinq",
    "quatre-vingt-six",
    "quatre-vingt-sept",
    "quatre-vingt-huit",
    "quatre-vingt-neuf",
    "quatre-vingt-dix",
    "quatre-vingt-onze",
    "quatre-vingt-douze",
    "quatre-vingt-treize",
    "quatre-vingt-quatorze",
    "quatre-vingt-quinze",
    "quatre-vingt-seize",
    "quatre-vingt-dix-sept",
    "quatre-vingt-dix-huit",
    "quatre-vingt-dix-neuf",
    "cent",
};

static const char *const es_words[101] = {
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
    "treinta",
    "treinta y uno",
    "treinta y dos",
    "treinta y tres",
    "treinta y cuatro",
    "treinta y cinco",
    "treinta y seis",
    "treinta y siete",
    "treinta y ocho",
    "treinta y nueve",
    "cuarenta",
    "cuarenta y uno",
    "cuarenta y dos",
    "cuarenta y tres",
    "cuarenta y cuatro",
    "cuarenta y cinco",
    "cuarenta y seis",
    "cuarenta y siete",
    "cuarenta y ocho",
    "cuarenta y nueve",
    "cincuenta",
    "cincuenta y uno",
    "cincuenta y dos",
    "cincuenta y tres",
    "cincuenta y cuatro",
    "cincuenta y cinco",
    "cincuenta y seis",
    "cincuenta y siete",
    "cincuenta y ocho",
    "cincuenta y nueve",
    "sesenta",
    "sesenta y uno",
    "sesenta y dos",
    "sesenta y tres",
    "sesenta y cuatro",
    "sesenta y cinco",
    "sesenta y seis",
    "sesenta y siete",
    "sesenta y ocho",
    "sesenta y nueve",
    "setenta",
    "setenta y uno",
    "setenta y dos",
    "setenta y tres",
    "setenta y cuatro",
    "setenta y cinco",
    "setenta y seis",
    "setenta y siete",
    "setenta y ocho",
    "setenta y nueve",
    "ochenta",
    "ochenta y uno",
    "ochenta y dos",
    "ochenta y tres",
    "ochenta y cuatro",
    "ochenta y cinco",
    "ochenta y seis",
    "ochenta y siete",
    "ochenta y ocho",
    "ochenta y nueve",
    "noventa",
    "noventa y uno",
    "noventa y dos",
    "noventa y tres",
    "noventa y cuatro",
    "noventa y cinco",
    "noventa y seis",
    "noventa y siete",
    "noventa y ocho",
    "noventa y nueve",
    "cien",
};

/* Renders n in the locale and compares with the expected text. */
static void check_render(int locale, uint32_t n, const char *want)
{
    char buf[128];
    int len = rg__number_words(n, locale, buf, sizeof buf);

    ck_assert_msg(len >= 0, "%s %u: error", rg__locale_name(locale), n);
    ck_assert_msg(strcmp(buf, want) == 0, "%s %u: got \"%s\", want \"%s\"",
                  rg__locale_name(locale), n, buf, want);
    ck_assert_int_eq((size_t)len, strlen(want));
}

START_TEST(render_en)
{
    check_render(RG__LOCALE_EN, (uint32_t)_i, en_words[_i]);
}
END_TEST

START_TEST(render_ru)
{
    check_render(RG__LOCALE_RU, (uint32_t)_i, ru_words[_i]);
}
END_TEST

START_TEST(render_de)
{
    check_render(RG__LOCALE_DE, (uint32_t)_i, de_words[_i]);
}
END_TEST

START_TEST(render_fr)
{
    check_render(RG__LOCALE_FR, (uint32_t)_i, fr_words[_i]);
}
END_TEST

START_TEST(render_es)
{
    check_render(RG__LOCALE_ES, (uint32_t)_i, es_words[_i]);
}
END_TEST

static const struct {
    int locale;
    uint32_t n;
    const char *words;
} hundreds[] = {
    {RG__LOCALE_EN, 101, "one hundred one"},
    {RG__LOCALE_EN, 110, "one hundred ten"},
    {RG__LOCALE_EN, 171, "one hundred seventy-one"},
    {RG__LOCALE_EN, 180, "one hundred eighty"},
    {RG__LOCALE_EN, 199, "one hundred ninety-nine"},
    {RG__LOCALE_EN, 200, "two hundred"},
    {RG__LOCALE_EN, 201, "two hundred one"},
    {RG__LOCALE_EN, 999, "nine hundred ninety-nine"},
    {RG__LOCALE_RU, 101, "сто один"},
    {RG__LOCALE_RU, 110, "сто десять"},
    {RG__LOCALE_RU, 171, "сто семьдесят один"},
    {RG__LOCALE_RU, 180, "сто восемьдесят"},
    {RG__LOCALE_RU, 199, "сто девяносто девять"},
    {RG__LOCALE_RU, 200, "двести"},
    {RG__LOCALE_RU, 201, "двести один"},
    {RG__LOCALE_RU, 999, "девятьсот девяносто девять"},
    {RG__LOCALE_RU, 300, "триста"},
    {RG__LOCALE_RU, 400, "четыреста"},
    {RG__LOCALE_RU, 500, "пятьсот"},
    {RG__LOCALE_RU, 600, "шестьсот"},
    {RG__LOCALE_RU, 700, "семьсот"},
    {RG__LOCALE_RU, 800, "восемьсот"},
    {RG__LOCALE_DE, 101, "einhunderteins"},
    {RG__LOCALE_DE, 110, "einhundertzehn"},
    {RG__LOCALE_DE, 171, "einhunderteinundsiebzig"},
    {RG__LOCALE_DE, 180, "einhundertachtzig"},
    {RG__LOCALE_DE, 199, "einhundertneunundneunzig"},
    {RG__LOCALE_DE, 200, "zweihundert"},
    {RG__LOCALE_DE, 201, "zweihunderteins"},
    {RG__LOCALE_DE, 999, "neunhundertneunundneunzig"},
    {RG__LOCALE_DE, 102, "einhundertzwei"},
    {RG__LOCALE_DE, 121, "einhunderteinundzwanzig"},
    {RG__LOCALE_DE, 716, "siebenhundertsechzehn"},
    {RG__LOCALE_FR, 101, "cent un"},
    {RG__LOCALE_FR, 110, "cent dix"},
    {RG__LOCALE_FR, 171, "cent soixante et onze"},
    {RG__LOCALE_FR, 180, "cent quatre-vingts"},
    {RG__LOCALE_FR, 199, "cent quatre-vingt-dix-neuf"},
    {RG__LOCALE_FR, 200, "deux cents"},
    {RG__LOCALE_FR, 201, "deux cent un"},
    {RG__LOCALE_FR, 999, "neuf cent quatre-vingt-dix-neuf"},
    {RG__LOCALE_FR, 121, "cent vingt et un"},
    {RG__LOCALE_FR, 280, "deux cent quatre-vingts"},
    {RG__LOCALE_FR, 281, "deux cent quatre-vingt-un"},
    {RG__LOCALE_FR, 300, "trois cents"},
    {RG__LOCALE_ES, 101, "ciento uno"},
    {RG__LOCALE_ES, 110, "ciento diez"},
    {RG__LOCALE_ES, 171, "ciento setenta y uno"},
    {RG__LOCALE_ES, 180, "ciento ochenta"},
    {RG__LOCALE_ES, 199, "ciento noventa y nueve"},
    {RG__LOCALE_ES, 200, "doscientos"},
    {RG__LOCALE_ES, 201, "doscientos uno"},
    {RG__LOCALE_ES, 999, "novecientos noventa y nueve"},
    {RG__LOCALE_ES, 500, "quinientos"},
    {RG__LOCALE_ES, 700, "setecientos"},
    {RG__LOCALE_ES, 900, "novecientos"},
    {RG__LOCALE_ES, 616, "seiscientos dieciséis"},
    {RG__LOCALE_ES, 822, "ochocientos veintidós"},
};

START_TEST(render_hundreds)
{
    check_render(hundreds[_i].locale, hundreds[_i].n, hundreds[_i].words);
}
END_TEST

/*
 * Every number of the locale (_i) rendered, normalised as an answer is, and
 * read back: through rg__number_from_words() directly, and through the
 * whole answer parser, also in upper case where case exists.
 */
START_TEST(round_trip)
{
    int locale = _i;

    for (uint32_t n = 0; n <= RG__NUMBER_MAX; n++) {
        char raw[128], norm[RG__NORM_MAX];
        size_t len;
        uint32_t v = 12345;
        int rlen = rg__number_words(n, locale, raw, sizeof raw);

        ck_assert_int_gt(rlen, 0);
        ck_assert(
            rg__answer_normalise(raw, (size_t)rlen, norm, sizeof norm, &len));
        ck_assert_msg(rg__number_from_words(norm, len, locale, &v),
                      "%s %u \"%s\" -> \"%s\" not recognised",
                      rg__locale_name(locale), n, raw, norm);
        ck_assert_uint_eq(v, n);

        v = 12345;
        ck_assert(rg__answer_value(raw, (size_t)rlen, locale, &v));
        ck_assert_uint_eq(v, n);
    }
}
END_TEST

/* Spellings besides the canonical one, already normalised. */
static const struct {
    int locale;
    const char *words;
    uint32_t value;
} variants[] = {
    {RG__LOCALE_EN, "one hundred and five", 105},
    {RG__LOCALE_EN, "nine hundred and ninety nine", 999},
    {RG__LOCALE_EN, "twenty one", 21},
    {RG__LOCALE_RU, "нуль", 0},
    {RG__LOCALE_RU, "одна", 1},
    {RG__LOCALE_RU, "две", 2},
    {RG__LOCALE_RU, "двадцать одна", 21},
    {RG__LOCALE_RU, "сто две", 102},
    {RG__LOCALE_DE, "hundert", 100},
    {RG__LOCALE_DE, "hundertzwei", 102},
    {RG__LOCALE_DE, "hunderteinundzwanzig", 121},
    {RG__LOCALE_DE, "einhundertzwei", 102},
    {RG__LOCALE_DE, "dreissig", 30},
    {RG__LOCALE_DE, "funf", 5},
    {RG__LOCALE_DE, "fuenf", 5},
    {RG__LOCALE_DE, "zwoelf", 12},
    {RG__LOCALE_DE, "fuenfhundertzwoelf", 512},
    {RG__LOCALE_DE, "ein und zwanzig", 21},
    {RG__LOCALE_DE, "zwei hundert drei", 203},
    {RG__LOCALE_FR, "zero", 0},
    {RG__LOCALE_FR, "vingt et un", 21},
    {RG__LOCALE_FR, "soixante et onze", 71},
    {RG__LOCALE_FR, "quatre vingt", 80},
    {RG__LOCALE_FR, "quatre vingts", 80},
    {RG__LOCALE_FR, "deux cent", 200},
    {RG__LOCALE_FR, "deux cent quatre vingt", 280},
    {RG__LOCALE_FR, "septante", 70},
    {RG__LOCALE_FR, "septante et un", 71},
    {RG__LOCALE_FR, "septante deux", 72},
    {RG__LOCALE_FR, "huitante", 80},
    {RG__LOCALE_FR, "octante huit", 88},
    {RG__LOCALE_FR, "nonante", 90},
    {RG__LOCALE_FR, "nonante et un", 91},
    {RG__LOCALE_FR, "cent nonante neuf", 199},
    {RG__LOCALE_ES, "veintidos", 22},
    {RG__LOCALE_ES, "veintiun", 21},
    {RG__LOCALE_ES, "un", 1},
    {RG__LOCALE_ES, "treinta y un", 31},
    {RG__LOCALE_ES, "ciento un", 101},
    {RG__LOCALE_ES, "dieciseis", 16},
};

START_TEST(variant_spellings)
{
    uint32_t v = 12345;

    ck_assert_msg(rg__number_from_words(variants[_i].words,
                                        strlen(variants[_i].words),
                                        variants[_i].locale, &v),
                  "%s \"%s\" not recognised",
                  rg__locale_name(variants[_i].locale), variants[_i].words);
    ck_assert_uint_eq(v, variants[_i].value);
}
END_TEST

/* Text that names no number in the locale, or is not normalised. */
static const struct {
    int locale;
    const char *words;
} not_numbers[] = {
    {RG__LOCALE_EN, "hundred"},
    {RG__LOCALE_EN, "one hundred and"},
    {RG__LOCALE_EN, "and five"},
    {RG__LOCALE_EN, "twenty twenty"},
    {RG__LOCALE_EN, "one thousand"},
    {RG__LOCALE_EN, "minus one"},
    {RG__LOCALE_EN, "Nine"},
    {RG__LOCALE_EN, "twenty-one"},
    {RG__LOCALE_EN, " nine"},
    {RG__LOCALE_EN, "nine "},
    {RG__LOCALE_EN, "nine  teen"},
    {RG__LOCALE_EN, "neunzehn"},
    {RG__LOCALE_EN, "ninety ten"},
    {RG__LOCALE_RU, "сто ноль"},
    {RG__LOCALE_RU, "девятнадцать один"},
    {RG__LOCALE_DE, "einszwei"},
    {RG__LOCALE_DE, "zwanzigeins"},
    {RG__LOCALE_DE, "ein"},
    {RG__LOCALE_DE, "eins und zwanzig"},
    {RG__LOCALE_FR, "vingt un"},
    {RG__LOCALE_FR, "quatre vingts dix"},
    {RG__LOCALE_FR, "soixante dix et un"},
    {RG__LOCALE_FR, "cent cent"},
    {RG__LOCALE_ES, "ciento"},
    {RG__LOCALE_ES, "veinte y uno"},
    {RG__LOCALE_ES, "cientos"},
};

START_TEST(not_a_number)
{
    uint32_t v = 12345;

    ck_assert_msg(!rg__number_from_words(not_numbers[_i].words,
                                         strlen(not_numbers[_i].words),
                                         not_numbers[_i].locale, &v),
                  "%s \"%s\" accepted as %u",
                  rg__locale_name(not_numbers[_i].locale),
                  not_numbers[_i].words, v);
    ck_assert_uint_eq(v, 12345);
}
END_TEST

START_TEST(from_words_bad_arguments)
{
    uint32_t v = 12345;
    char big[300];

    memset(big, 'a', sizeof big);
    ck_assert(!rg__number_from_words("nine", 4, -1, &v));
    ck_assert(!rg__number_from_words("nine", 4, RG__LOCALE_COUNT, &v));
    ck_assert(!rg__number_from_words(NULL, 4, RG__LOCALE_EN, &v));
    ck_assert(!rg__number_from_words("nine", 4, RG__LOCALE_EN, NULL));
    ck_assert(!rg__number_from_words("", 0, RG__LOCALE_EN, &v));
    ck_assert(!rg__number_from_words(big, sizeof big, RG__LOCALE_EN, &v));
    /* Only `len` bytes count: an embedded NUL is just another byte. */
    ck_assert(!rg__number_from_words("nine\0", 5, RG__LOCALE_EN, &v));
    ck_assert_uint_eq(v, 12345);
    ck_assert(rg__number_from_words("nineteen", 4, RG__LOCALE_EN, &v));
    ck_assert_uint_eq(v, 9);
}
END_TEST

START_TEST(render_errors)
{
    char buf[64];

    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(rg__number_words(1000, RG__LOCALE_EN, buf, sizeof buf),
                     -1);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(
        rg__number_words(UINT32_MAX, RG__LOCALE_EN, buf, sizeof buf), -1);
    ck_assert_int_eq(rg__number_words(1, -1, buf, sizeof buf), -1);
    ck_assert_int_eq(rg__number_words(1, RG__LOCALE_COUNT, buf, sizeof buf),
                     -1);
    ck_assert_int_eq(rg__number_words(1, RG__LOCALE_EN, NULL, 10), -1);
    ck_assert_int_eq(rg__number_words(1, RG__LOCALE_EN, buf, 0), -1);
}
END_TEST

/*
 * Every buffer size from 0 to one past the need, for the longest spelling
 * of each locale: too small fails and leaves an empty string, never
 * writes past the end, and the exact size works.
 */
START_TEST(render_buffer_sizes)
{
    static const uint32_t longest[RG__LOCALE_COUNT] = {
        [RG__LOCALE_EN] = 777, [RG__LOCALE_RU] = 888, [RG__LOCALE_DE] = 777,
        [RG__LOCALE_FR] = 797, [RG__LOCALE_ES] = 777,
    };
    int locale = _i;
    char want[128];
    int need = rg__number_words(longest[locale], locale, want, sizeof want);

    ck_assert_int_gt(need, 0);
    for (size_t size = 1; size <= (size_t)need + 1; size++) {
        char buf[130];
        memset(buf, '#', sizeof buf);
        int rc = rg__number_words(longest[locale], locale, buf, size);
        ck_assert_msg(buf[size] == '#', "wrote past %zu bytes", size);
        if (size <= (size_t)need) {
            ck_assert_int_eq(rc, -1);
            ck_assert_str_eq(buf, "");
        } else {
            ck_assert_int_eq(rc, need);
            ck_assert_str_eq(buf, want);
        }
    }
}
END_TEST

START_TEST(public_number_words)
{
    char buf[64];

    ck_assert_int_eq(rg_number_words(21, "de", buf, sizeof buf), RG_OK);
    ck_assert_str_eq(buf, "einundzwanzig");
    ck_assert_int_eq(rg_number_words(21, NULL, buf, sizeof buf), RG_OK);
    ck_assert_str_eq(buf, "twenty-one");
    ck_assert_int_eq(rg_number_words(999, "ru", buf, sizeof buf), RG_OK);
    ck_assert_str_eq(buf, "девятьсот девяносто девять");
    ck_assert_int_eq(rg_number_words(1000, "en", buf, sizeof buf), RG_ERANGE);
    ck_assert_int_eq(rg_number_words(1, "xx", buf, sizeof buf), RG_ELOCALE);
    ck_assert_int_eq(rg_number_words(1, "", buf, sizeof buf), RG_ELOCALE);

    static const char *const known[] = {"en", "ru", "de", "fr", "es"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ck_assert_int_eq(rg_locale_check(known[i]), RG_OK);
    ck_assert_int_eq(rg_locale_check("EN"), RG_ELOCALE);
    ck_assert_int_eq(rg_locale_check("en-US"), RG_ELOCALE);
    ck_assert_int_eq(rg_locale_check(""), RG_ELOCALE);
    ck_assert_int_eq(rg_locale_check(NULL), RG_ELOCALE);
    ck_assert_int_eq(rg_number_words(1, "en", NULL, 8), RG_EINVAL);
    ck_assert_int_eq(rg_number_words(1, "en", buf, 0), RG_EINVAL);
    ck_assert_int_eq(rg_number_words(21, "en", buf, 10), RG_ETOOBIG);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(rg_number_words(21, "en", buf, 11), RG_OK);
    ck_assert_str_eq(buf, "twenty-one");
}
END_TEST

START_TEST(locale_names)
{
    static const char *const names[RG__LOCALE_COUNT] = {"en", "ru", "de", "fr",
                                                        "es"};

    for (int i = 0; i < RG__LOCALE_COUNT; i++) {
        ck_assert_int_eq(rg__locale_find(names[i]), i);
        ck_assert_str_eq(rg__locale_name(i), names[i]);
    }
    ck_assert_int_eq(rg__locale_find(NULL), -1);
    ck_assert_int_eq(rg__locale_find(""), -1);
    ck_assert_int_eq(rg__locale_find("e"), -1);
    ck_assert_int_eq(rg__locale_find("eng"), -1);
    ck_assert_int_eq(rg__locale_find("xx"), -1);
    ck_assert_ptr_null(rg__locale_name(-1));
    ck_assert_ptr_null(rg__locale_name(RG__LOCALE_COUNT));
}
END_TEST

/*
 * Several threads reach the lazily built tables at once: each must see
 * them complete (run under ThreadSanitizer in CI).
 */
static void *parse_many(void *arg)
{
    int locale = *(const int *)arg;
    uintptr_t bad = 0;

    for (uint32_t n = 0; n <= RG__NUMBER_MAX; n += 7) {
        char raw[128];
        uint32_t v;
        int len = rg__number_words(n, locale, raw, sizeof raw);
        if (len < 0 || !rg__answer_value(raw, (size_t)len, locale, &v) ||
            v != n)
            bad++;
    }
    return (void *)bad;
}

START_TEST(first_use_from_threads)
{
    pthread_t threads[8];
    int locales[8];

    for (int i = 0; i < 8; i++) {
        locales[i] = i % RG__LOCALE_COUNT;
        ck_assert_int_eq(
            pthread_create(&threads[i], NULL, parse_many, &locales[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        void *bad;
        ck_assert_int_eq(pthread_join(threads[i], &bad), 0);
        ck_assert_ptr_null(bad);
    }
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *numwords_suite(void)
{
    Suite *s = suite_create("numwords");
    TCase *tc;

    tc = tcase_create("render");
    tcase_add_loop_test(tc, render_en, 0, COUNT(en_words));
    tcase_add_loop_test(tc, render_ru, 0, COUNT(ru_words));
    tcase_add_loop_test(tc, render_de, 0, COUNT(de_words));
    tcase_add_loop_test(tc, render_fr, 0, COUNT(fr_words));
    tcase_add_loop_test(tc, render_es, 0, COUNT(es_words));
    tcase_add_loop_test(tc, render_hundreds, 0, COUNT(hundreds));
    tcase_add_test(tc, render_errors);
    tcase_add_loop_test(tc, render_buffer_sizes, 0, RG__LOCALE_COUNT);
    tcase_add_test(tc, public_number_words);
    tcase_add_test(tc, locale_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_loop_test(tc, round_trip, 0, RG__LOCALE_COUNT);
    tcase_add_loop_test(tc, variant_spellings, 0, COUNT(variants));
    tcase_add_loop_test(tc, not_a_number, 0, COUNT(not_numbers));
    tcase_add_test(tc, from_words_bad_arguments);
    tcase_add_test(tc, first_use_from_threads);
    suite_add_tcase(s, tc);

    return s;
}
