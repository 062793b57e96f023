/*
 * Number words: 0 to 999 spelled in each locale, and read back.
 *
 * Spelling is done by each language's rules from a small lexicon (units,
 * tens, hundreds), never from a table of a thousand rows. Reading back uses
 * the same rules: the first time a locale is asked, we spell every number in
 * every accepted variant ("one hundred and five", "hundertzwei",
 * "septante"), normalise each spelling exactly as lib/answer.c normalises an
 * answer, and keep a sorted table per locale for binary search. So whatever
 * we render parses back to itself by construction, and a lookup costs a
 * dozen string comparisons.
 */
#include "answer-private.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Longest spelling, raw or normalised, with its NUL; about twice the need. */
#define KEY_MAX 128

/* Most variant masks of any locale (French has five independent bits). */
#define MAX_VARIANTS 32

static const char *const locale_names[RG__LOCALE_COUNT] = {
    [RG__LOCALE_EN] = "en", [RG__LOCALE_RU] = "ru", [RG__LOCALE_DE] = "de",
    [RG__LOCALE_FR] = "fr", [RG__LOCALE_ES] = "es",
};

int rg__locale_find(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < RG__LOCALE_COUNT; i++) {
        if (strcmp(name, locale_names[i]) == 0)
            return i;
    }
    return -1;
}

int rg_locale_check(const char *locale)
{
    return rg__locale_find(locale) >= 0 ? RG_OK : RG_ELOCALE;
}

const char *rg__locale_name(int locale)
{
    if (locale < 0 || locale >= RG__LOCALE_COUNT)
        return NULL;
    return locale_names[locale];
}

/*
 * A caller's buffer being filled. Once something does not fit, ok turns
 * false and stays false, so the spelling functions need not check each step.
 */
struct text {
    char *buf;
    size_t size;
    size_t len;
    bool ok;
};

static void put(struct text *t, const char *s)
{
    /* The tables leave the entries no spelling reaches NULL; reaching one
     * would be a bug, which fails the spelling, not the process. */
    if (!s) {
        t->ok = false;
        return;
    }
    size_t n = strlen(s);

    if (!t->ok || n >= t->size - t->len) {
        t->ok = false;
        return;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

/*
 * English. Variant EN_AND adds the British "and" after the hundreds: "one
 * hundred and five".
 */
enum { EN_AND = 1, EN_VARIANTS = 2 };

static const char *const en_small[20] = {
    "zero",    "one",     "two",       "three",    "four",
    "five",    "six",     "seven",     "eight",    "nine",
    "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
};

static const char *const en_tens[10] = {
    NULL,    NULL,    "twenty",  "thirty", "forty",
    "fifty", "sixty", "seventy", "eighty", "ninety",
};

static void en_below_100(struct text *t, uint32_t n)
{
    if (n < 20) {
        put(t, en_small[n]);
        return;
    }
    put(t, en_tens[n / 10]);
    if (n % 10) {
        put(t, "-");
        put(t, en_small[n % 10]);
    }
}

static void spell_en(struct text *t, uint32_t n, unsigned variant)
{
    uint32_t h = n / 100, r = n % 100;

    if (h == 0) {
        en_below_100(t, r);
        return;
    }
    put(t, en_small[h]);
    put(t, " hundred");
    if (r == 0)
        return;
    put(t, (variant & EN_AND) ? " and " : " ");
    en_below_100(t, r);
}

/*
 * Russian, in the form used for counting: "один", "два" (masculine). Variant
 * RU_NUL is the older "нуль" for zero; RU_FEMININE ends in "одна" or "две",
 * as people answer when they think of a feminine noun.
 */
enum { RU_NUL = 1, RU_FEMININE = 2, RU_VARIANTS = 4 };

static const char *const ru_small[20] = {
    "ноль",       "один",        "два",        "три",          "четыре",
    "пять",       "шесть",       "семь",       "восемь",       "девять",
    "десять",     "одиннадцать", "двенадцать", "тринадцать",   "четырнадцать",
    "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать",
};

static const char *const ru_tens[10] = {
    NULL,        NULL,         "двадцать",  "тридцать",    "сорок",
    "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто",
};

static const char *const ru_hundreds[10] = {
    NULL,      "сто",      "двести",  "триста",    "четыреста",
    "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот",
};

/* A unit at the end of a number, in the variant's gender. */
static const char *ru_unit(uint32_t u, unsigned variant)
{
    if (variant & RU_FEMININE) {
        if (u == 1)
            return "одна";
        if (u == 2)
            return "две";
    }
    if (u == 0 && (variant & RU_NUL))
        return "нуль";
    return ru_small[u];
}

static void spell_ru(struct text *t, uint32_t n, unsigned variant)
{
    uint32_t h = n / 100, r = n % 100;

    if (n == 0) {
        put(t, ru_unit(0, variant));
        return;
    }
    /* Words are separated by spaces; sep is empty before the first. */
    const char *sep = "";
    if (h) {
        put(t, ru_hundreds[h]);
        sep = " ";
    }
    if (r == 0)
        return;
    put(t, sep);
    if (r < 20) {
        put(t, r < 3 ? ru_unit(r, variant) : ru_small[r]);
        return;
    }
    put(t, ru_tens[r / 10]);
    if (r % 10) {
        put(t, " ");
        put(t, ru_unit(r % 10, variant));
    }
}

/*
 * German writes a number as one word, units before tens: "einundzwanzig".
 * One is "eins" alone or at the end ("hunderteins"), "ein" at the start of
 * a compound ("einundzwanzig", "einhundert"). Variant DE_BARE_HUNDERT drops
 * the "ein" of 100..199 ("hundertzwei"); DE_ASCII writes the umlauts as
 * "ue", "oe", "ae", as on a keyboard without them ("fuenf", "zwoelf").
 */
enum { DE_BARE_HUNDERT = 1, DE_ASCII = 2, DE_VARIANTS = 4 };

static const char *const de_small[20] = {
    "null",     "eins",     "zwei",     "drei",     "vier",
    "fünf",     "sechs",    "sieben",   "acht",     "neun",
    "zehn",     "elf",      "zwölf",    "dreizehn", "vierzehn",
    "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn",
};

static const char *const de_tens[10] = {
    NULL,      NULL,      "zwanzig", "dreißig", "vierzig",
    "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig",
};

/* A unit as the first part of a compound. */
static const char *de_prefix(uint32_t u)
{
    return u == 1 ? "ein" : de_small[u];
}

static void de_below_100(struct text *t, uint32_t n)
{
    if (n < 20) {
        put(t, de_small[n]);
        return;
    }
    if (n % 10) {
        put(t, de_prefix(n % 10));
        put(t, "und");
    }
    put(t, de_tens[n / 10]);
}

/*
 * Rewrites the umlauts of t as two ASCII letters. Only lower-case umlauts
 * occur in our spellings.
 */
static void de_transliterate(struct text *t)
{
    static const struct {
        const char *from, *to;
    } map[] = {{"ä", "ae"}, {"ö", "oe"}, {"ü", "ue"}};
    char copy[KEY_MAX];

    if (!t->ok || t->len >= sizeof copy) {
        t->ok = false;
        return;
    }
    memcpy(copy, t->buf, t->len + 1);
    t->len = 0;
    t->buf[0] = '\0';
    for (const char *p = copy; *p && t->ok;) {
        size_t i;
        for (i = 0; i < sizeof map / sizeof map[0]; i++) {
            size_t n = strlen(map[i].from);
            if (strncmp(p, map[i].from, n) == 0) {
                put(t, map[i].to);
                p += n;
                break;
            }
        }
        if (i == sizeof map / sizeof map[0]) {
            char one[2] = {*p++, '\0'};
            put(t, one);
        }
    }
}

static void spell_de(struct text *t, uint32_t n, unsigned variant)
{
    uint32_t h = n / 100, r = n % 100;

    if (h == 0) {
        de_below_100(t, r);
    } else {
        if (h > 1 || !(variant & DE_BARE_HUNDERT))
            put(t, de_prefix(h));
        put(t, "hundert");
        if (r)
            de_below_100(t, r);
    }
    if (variant & DE_ASCII)
        de_transliterate(t);
}

/*
 * French. 17..19 are "dix-sept".., 70..79 "soixante-dix"..,
 * 80..99 "quatre-vingts", "quatre-vingt-un" ... "quatre-vingt-dix-neuf";
 * "et un" joins 21..61 and "et onze" 71, but not 81 or 91. "Vingt" and
 * "cent" take an s when multiplied and last: "quatre-vingts", "deux cents".
 *
 * Variants: FR_REFORM is the 1990 spelling with hyphens everywhere
 * ("vingt-et-un", "deux-cent-un"); FR_NO_S forgets the plural s of
 * "vingts" and "cents", a common slip; FR_SEPTANTE, FR_HUITANTE and
 * FR_OCTANTE are the decades of Belgium and Switzerland ("septante",
 * "nonante"; "huitante" in Vaud, Valais and Fribourg; the older "octante").
 */
enum {
    FR_REFORM = 1,
    FR_NO_S = 2,
    FR_SEPTANTE = 4,
    FR_HUITANTE = 8,
    FR_OCTANTE = 16,
    FR_VARIANTS = 32
};

static const char *const fr_small[17] = {
    "zéro",  "un",     "deux",     "trois",  "quatre", "cinq",
    "six",   "sept",   "huit",     "neuf",   "dix",    "onze",
    "douze", "treize", "quatorze", "quinze", "seize",
};

static const char *const fr_tens[7] = {
    NULL, "dix", "vingt", "trente", "quarante", "cinquante", "soixante",
};

/* A decade word and its unit: "trente et un", "trente-deux". */
static void fr_decade(struct text *t, const char *tens, uint32_t u,
                      const char *sep)
{
    put(t, tens);
    if (u == 1) {
        put(t, sep);
        put(t, "et");
        put(t, sep);
        put(t, "un");
    } else if (u > 1) {
        put(t, "-");
        put(t, fr_small[u]);
    }
}

static void fr_below_100(struct text *t, uint32_t n, unsigned variant)
{
    const char *sep = (variant & FR_REFORM) ? "-" : " ";
    uint32_t d = n / 10, u = n % 10;

    if (n < 17) {
        put(t, fr_small[n]);
    } else if (n < 20) {
        put(t, "dix-");
        put(t, fr_small[u]);
    } else if (n < 70) {
        fr_decade(t, fr_tens[d], u, sep);
    } else if (d == 7 && (variant & FR_SEPTANTE)) {
        fr_decade(t, "septante", u, sep);
    } else if (d == 8 && (variant & FR_HUITANTE)) {
        fr_decade(t, "huitante", u, sep);
    } else if (d == 8 && (variant & FR_OCTANTE)) {
        fr_decade(t, "octante", u, sep);
    } else if (d == 9 && (variant & FR_SEPTANTE)) {
        fr_decade(t, "nonante", u, sep);
    } else if (n < 80) {
        /* 70..79 count on from sixty: "soixante-dix", "soixante et onze". */
        if (n == 71) {
            put(t, "soixante");
            put(t, sep);
            put(t, "et");
            put(t, sep);
            put(t, "onze");
        } else {
            put(t, "soixante-");
            fr_below_100(t, n - 60, variant);
        }
    } else if (n == 80) {
        put(t, (variant & FR_NO_S) ? "quatre-vingt" : "quatre-vingts");
    } else {
        put(t, "quatre-vingt-");
        fr_below_100(t, n - 80, variant);
    }
}

static void spell_fr(struct text *t, uint32_t n, unsigned variant)
{
    const char *sep = (variant & FR_REFORM) ? "-" : " ";
    uint32_t h = n / 100, r = n % 100;

    if (h == 0) {
        fr_below_100(t, r, variant);
        return;
    }
    if (h > 1) {
        put(t, fr_small[h]);
        put(t, sep);
    }
    put(t, "cent");
    if (r == 0) {
        if (h > 1 && !(variant & FR_NO_S))
            put(t, "s");
        return;
    }
    put(t, sep);
    fr_below_100(t, r, variant);
}

/*
 * Spanish. 16..19 and 21..29 are one word ("dieciséis", "veintidós"), with
 * the written accent where the stress falls on the last syllable; 31..99
 * are "treinta y uno". 100 is "cien" alone and "ciento" before more.
 * Variant ES_UN is the shortened one before a noun: "un", "veintiún",
 * "treinta y un", "ciento un".
 */
enum { ES_UN = 1, ES_VARIANTS = 2 };

static const char *const es_small[16] = {
    "cero", "uno",   "dos",  "tres", "cuatro", "cinco", "seis",    "siete",
    "ocho", "nueve", "diez", "once", "doce",   "trece", "catorce", "quince",
};

/* Units at the end of the one-word "dieci-" and "veinti-" compounds. */
static const char *const es_joined[10] = {
    NULL,    "uno",  "dós",   "trés", "cuatro",
    "cinco", "séis", "siete", "ocho", "nueve",
};

static const char *const es_tens[10] = {
    NULL,        NULL,      "veinte",  "treinta", "cuarenta",
    "cincuenta", "sesenta", "setenta", "ochenta", "noventa",
};

/* 500, 700 and 900 are irregular; the others are unit + "cientos". */
static const char *es_hundreds(uint32_t h, bool alone)
{
    switch (h) {
    case 1:
        return alone ? "cien" : "ciento";
    case 5:
        return "quinientos";
    case 7:
        return "setecientos";
    case 9:
        return "novecientos";
    default:
        return NULL;
    }
}

static void es_below_100(struct text *t, uint32_t n, unsigned variant)
{
    uint32_t d = n / 10, u = n % 10;
    bool un = (variant & ES_UN) && u == 1 && d != 1;

    if (n < 16) {
        put(t, un ? "un" : es_small[n]);
    } else if (n < 20) {
        put(t, "dieci");
        put(t, es_joined[u]);
    } else if (n == 20) {
        put(t, "veinte");
    } else if (n < 30) {
        put(t, "veinti");
        put(t, un ? "ún" : es_joined[u]);
    } else {
        put(t, es_tens[d]);
        if (u) {
            put(t, " y ");
            put(t, un ? "un" : es_small[u]);
        }
    }
}

static void spell_es(struct text *t, uint32_t n, unsigned variant)
{
    uint32_t h = n / 100, r = n % 100;

    if (h == 0) {
        es_below_100(t, r, variant);
        return;
    }
    const char *hw = es_hundreds(h, r == 0);
    if (hw) {
        put(t, hw);
    } else {
        put(t, es_small[h]);
        put(t, "cientos");
    }
    if (r) {
        put(t, " ");
        es_below_100(t, r, variant);
    }
}

_Static_assert(EN_VARIANTS <= MAX_VARIANTS && RU_VARIANTS <= MAX_VARIANTS &&
                   DE_VARIANTS <= MAX_VARIANTS && FR_VARIANTS <= MAX_VARIANTS &&
                   ES_VARIANTS <= MAX_VARIANTS,
               "build_table() keeps MAX_VARIANTS spellings per number");

typedef void (*speller)(struct text *t, uint32_t n, unsigned variant);

/* Each locale's rules, and how many variant masks (0 is canonical) exist. */
static const struct {
    speller spell;
    unsigned variants;
} langs[RG__LOCALE_COUNT] = {
    [RG__LOCALE_EN] = {spell_en, EN_VARIANTS},
    [RG__LOCALE_RU] = {spell_ru, RU_VARIANTS},
    [RG__LOCALE_DE] = {spell_de, DE_VARIANTS},
    [RG__LOCALE_FR] = {spell_fr, FR_VARIANTS},
    [RG__LOCALE_ES] = {spell_es, ES_VARIANTS},
};

int rg__number_words(uint32_t n, int locale, char *out, size_t size)
{
    if (!out || size == 0)
        return -1;
    out[0] = '\0';
    if (n > RG__NUMBER_MAX || locale < 0 || locale >= RG__LOCALE_COUNT)
        return -1;

    struct text t = {out, size, 0, true};
    langs[locale].spell(&t, n, 0);
    if (!t.ok) {
        out[0] = '\0';
        return -1;
    }
    return (int)t.len;
}

int rg_number_words(uint32_t value, const char *locale, char *out,
                    size_t out_size)
{
    if (!out || out_size == 0)
        return RG_EINVAL;
    out[0] = '\0';

    int loc = locale ? rg__locale_find(locale) : RG__LOCALE_EN;
    if (loc < 0)
        return RG_ELOCALE;
    if (value > RG__NUMBER_MAX)
        return RG_ERANGE;
    return rg__number_words(value, loc, out, out_size) < 0 ? RG_ETOOBIG : RG_OK;
}

/*
 * The lookup tables. An entry's key points into its table's pool once the
 * pool has stopped moving; until then `off` says where it starts.
 */
struct entry {
    const char *key;
    uint32_t off;
    uint16_t len;
    uint16_t value;
};

struct table {
    struct entry *entries;
    size_t count, cap;
    char *pool;
    size_t pool_len, pool_cap;
    bool ready;
};

/*
 * Each locale's table is built on first use by pthread_once(), so a site in
 * one language pays only for its own and the English one (a few
 * milliseconds; Russian costs most, as it needs full Unicode folding).
 */
static struct table tables[RG__LOCALE_COUNT];

/*
 * German number words are single words, so spaces carry no meaning in
 * them: "ein und zwanzig" and "einund zwanzig" are read as one word, both
 * when the tables are built and when an answer is looked up.
 */
static size_t drop_spaces(char *s, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ')
            s[o++] = s[i];
    }
    s[o] = '\0';
    return o;
}

static bool table_add(struct table *tb, const char *key, size_t len,
                      uint32_t value)
{
    if (tb->count == tb->cap) {
        size_t cap = tb->cap ? tb->cap * 2 : 1024;
        struct entry *e = realloc(tb->entries, cap * sizeof *e);
        if (!e)
            return false;
        tb->entries = e;
        tb->cap = cap;
    }
    if (tb->pool_cap - tb->pool_len < len) {
        size_t cap = tb->pool_cap ? tb->pool_cap * 2 : 16384;
        char *p = realloc(tb->pool, cap);
        if (!p)
            return false;
        tb->pool = p;
        tb->pool_cap = cap;
    }
    memcpy(tb->pool + tb->pool_len, key, len);
    tb->entries[tb->count++] = (struct entry){
        .off = (uint32_t)tb->pool_len,
        .len = (uint16_t)len,
        .value = (uint16_t)value,
    };
    tb->pool_len += len;
    return true;
}

static int compare_keys(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return compare_keys(x->key, x->len, y->key, y->len);
}

/*
 * Spells every number of one locale in every variant into its table.
 * Variants that do not apply to a number spell it canonically; they are
 * skipped before normalisation, which is the costly step.
 */
static bool fill_table(int locale)
{
    struct table *tb = &tables[locale];
    char seen[MAX_VARIANTS][KEY_MAX];

    for (uint32_t n = 0; n <= RG__NUMBER_MAX; n++) {
        size_t nseen = 0;
        for (unsigned v = 0; v < langs[locale].variants; v++) {
            char *raw = seen[nseen];
            struct text t = {raw, KEY_MAX, 0, true};
            raw[0] = '\0';
            langs[locale].spell(&t, n, v);
            if (!t.ok)
                return false;

            bool dup = false;
            for (size_t i = 0; i < nseen && !dup; i++)
                dup = strcmp(seen[i], raw) == 0;
            if (dup)
                continue;
            nseen++;

            char key[KEY_MAX];
            size_t len;
            if (!rg__answer_normalise(raw, t.len, key, sizeof key, &len))
                return false;
            if (locale == RG__LOCALE_DE)
                len = drop_spaces(key, len);
            if (!table_add(tb, key, len, n))
                return false;
        }
    }

    for (size_t i = 0; i < tb->count; i++)
        tb->entries[i].key = tb->pool + tb->entries[i].off;
    qsort(tb->entries, tb->count, sizeof *tb->entries, compare_entries);

    /*
     * Different variants of one number may normalise alike ("vingt et un"
     * and "vingt-et-un"): keep one. Two numbers with one spelling would be
     * a bug in the rules above; refuse the table so tests catch it.
     */
    size_t o = 0;
    for (size_t i = 0; i < tb->count; i++) {
        struct entry *e = &tb->entries[i];
        if (o > 0 && compare_entries(&tb->entries[o - 1], e) == 0) {
            if (tb->entries[o - 1].value != e->value)
                return false;
            continue;
        }
        tb->entries[o++] = *e;
    }
    tb->count = o;
    return true;
}

/*
 * If memory runs out, the locale's words are never recognised (digits still
 * are) rather than half-recognised; the table stays empty.
 */
static void build_table(int locale)
{
    struct table *tb = &tables[locale];

    if (fill_table(locale)) {
        tb->ready = true;
        return;
    }
    free(tb->entries);
    free(tb->pool);
    *tb = (struct table){0};
}

/* pthread_once() passes no argument, hence one function per locale. */
static void build_en(void)
{
    build_table(RG__LOCALE_EN);
}

static void build_ru(void)
{
    build_table(RG__LOCALE_RU);
}

static void build_de(void)
{
    build_table(RG__LOCALE_DE);
}

static void build_fr(void)
{
    build_table(RG__LOCALE_FR);
}

static void build_es(void)
{
    build_table(RG__LOCALE_ES);
}

static pthread_once_t table_once[RG__LOCALE_COUNT] = {
    PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
    PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
};

static void (*const table_build[RG__LOCALE_COUNT])(void) = {
    [RG__LOCALE_EN] = build_en, [RG__LOCALE_RU] = build_ru,
    [RG__LOCALE_DE] = build_de, [RG__LOCALE_FR] = build_fr,
    [RG__LOCALE_ES] = build_es,
};

bool rg__number_from_words(const char *words, size_t len, int locale,
                           uint32_t *value)
{
    if (!words || !value || locale < 0 || locale >= RG__LOCALE_COUNT ||
        len == 0 || len >= KEY_MAX)
        return false;
    if (pthread_once(&table_once[locale], table_build[locale]) != 0 ||
        !tables[locale].ready)
        return false;

    char buf[KEY_MAX];
    memcpy(buf, words, len);
    buf[len] = '\0';
    if (locale == RG__LOCALE_DE)
        len = drop_spaces(buf, len);

    const struct table *tb = &tables[locale];
    size_t lo = 0, hi = tb->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct entry *e = &tb->entries[mid];
        int c = compare_keys(buf, len, e->key, e->len);
        if (c == 0) {
            *value = e->value;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}
