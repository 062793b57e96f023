/*
 * Questions. Each picks a shape (two terms, three terms, or a missing term),
 * operators and operands from a seeded stream, and writes two texts: the
 * one shown ("nine + ten =") and a spoken one for screen readers ("nine plus
 * ten equals"), where symbols such as "−" and "×" are read unreliably.
 *
 * Operands are chosen by answer: first an answer, uniform over the answers
 * the operator can give within the rules, then a pair of operands that gives
 * it. Uniform operands would make some answers far likelier than others (a
 * third of all products are zero when operands start at 0), and a bot that
 * ignores the question and always sends the likeliest answer would win that
 * often. bench/answer-space measures this for each setting.
 */
#include "challenge.h"

#include <sodium.h>
#include <string.h>

enum op { OP_ADD, OP_SUB, OP_MUL };

/* Phrasings, each with one placeholder: {E} is the expression with
 * symbols, {W} with the operators in words, {S} wholly in words (for the
 * spoken text). */
typedef struct locale_text {
    const char *op_word[3]; /* plus, minus, times */
    const char *unknown;    /* spoken in place of "?" */
    const char *equals;     /* spoken in place of "=" */
    const char *shown[3], *spoken[3];
    const char *missing_shown[3], *missing_spoken[3];
} locale_text;

static const locale_text texts[RG__LOCALE_COUNT] = {
    [RG__LOCALE_EN] =
        {
            {"plus", "minus", "times"},
            "what",
            "equals",
            {"{E} =", "What is {W}?", "How much is {W}?"},
            {"{S} equals", "What is {S}?", "How much is {S}?"},
            {"{E}", "Fill in the missing number: {E}",
             "Which number is missing? {E}"},
            {"{S}", "Fill in the missing number: {S}",
             "Which number is missing? {S}"},
        },
    [RG__LOCALE_RU] =
        {
            {"плюс", "минус", "умножить на"},
            "сколько",
            "равно",
            {"{E} =", "Сколько будет {W}?", "Чему равно {W}?"},
            {"{S} равно", "Сколько будет {S}?", "Чему равно {S}?"},
            {"{E}", "Впишите пропущенное число: {E}",
             "Какое число пропущено? {E}"},
            {"{S}", "Впишите пропущенное число: {S}",
             "Какое число пропущено? {S}"},
        },
    [RG__LOCALE_DE] =
        {
            {"plus", "minus", "mal"},
            "wie viel",
            "gleich",
            {"{E} =", "Was ist {W}?", "Wie viel ist {W}?"},
            {"{S} gleich", "Was ist {S}?", "Wie viel ist {S}?"},
            {"{E}", "Ergänzen Sie die fehlende Zahl: {E}",
             "Welche Zahl fehlt? {E}"},
            {"{S}", "Ergänzen Sie die fehlende Zahl: {S}",
             "Welche Zahl fehlt? {S}"},
        },
    [RG__LOCALE_FR] =
        {
            {"plus", "moins", "fois"},
            "combien",
            "égale",
            {"{E} =", "Combien font {W} ?", "Que vaut {W} ?"},
            {"{S} égale", "Combien font {S} ?", "Que vaut {S} ?"},
            {"{E}", "Complétez le nombre manquant : {E}",
             "Quel nombre manque ? {E}"},
            {"{S}", "Complétez le nombre manquant : {S}",
             "Quel nombre manque ? {S}"},
        },
    [RG__LOCALE_ES] =
        {
            {"más", "menos", "por"},
            "cuánto",
            "es igual a",
            {"{E} =", "¿Cuánto es {W}?", "¿Cuánto da {W}?"},
            {"{S} es igual a", "¿Cuánto es {S}?", "¿Cuánto da {S}?"},
            {"{E}", "Complete el número que falta: {E}",
             "¿Qué número falta? {E}"},
            {"{S}", "Complete el número que falta: {S}",
             "¿Qué número falta? {S}"},
        },
};

/* U+2212 MINUS SIGN and U+00D7 MULTIPLICATION SIGN: what people write. */
static const char *const op_symbol[3] = {"+", "\xe2\x88\x92", "\xc3\x97"};

/*
 * A stream of uniform numbers from a seed. A question needs about eight
 * 32-bit draws, so the seed's own bytes come first, and only a question that
 * needs more expands the seed with ChaCha20 (libsodium).
 */
typedef struct draws {
    uint32_t words[16];
    size_t next, count;
    uint8_t seed[RG__SEED_BYTES];
    uint64_t block;
} draws;

static void draws_init(draws *d, const uint8_t seed[RG__SEED_BYTES])
{
    memcpy(d->seed, seed, RG__SEED_BYTES);
    memcpy(d->words, seed, RG__SEED_BYTES);
    d->count = RG__SEED_BYTES / sizeof d->words[0];
    d->next = 0;
    d->block = 0;
}

static void draws_refill(draws *d)
{
    /* A fresh block per refill: the seed with a counter mixed in. */
    uint8_t seed[RG__SEED_BYTES];
    memcpy(seed, d->seed, sizeof seed);
    for (int i = 0; i < 8; i++)
        seed[i] ^= (uint8_t)(d->block >> (8 * i));
    seed[8] ^= 0x80; /* never the seed itself, whose words came first */
    d->block++;
    randombytes_buf_deterministic(d->words, sizeof d->words, seed);
    d->count = sizeof d->words / sizeof d->words[0];
    d->next = 0;
}

static uint32_t draw32(draws *d)
{
    if (d->next == d->count)
        draws_refill(d);
    return d->words[d->next++];
}

/* Uniform in [lo, hi], without modulo bias (as randombytes_uniform). */
static uint32_t draw_range(draws *d, uint32_t lo, uint32_t hi)
{
    uint32_t n = hi - lo + 1;
    /* cppcheck-suppress knownConditionTrueFalse ; no caller asks for the
     * whole range today, and this stays correct if one does. */
    if (n == 0) /* the whole 32-bit range */
        return draw32(d);
    uint32_t min = (uint32_t)(-n) % n;
    uint32_t r;
    do
        r = draw32(d);
    while (r < min);
    return lo + r % n;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The largest b with a op b defined and <= RG__NUMBER_MAX, given the rules;
 * false when no b >= operand_min exists. */
static bool second_range(const rg__challenge_rules *r, enum op op, uint32_t a,
                         uint32_t *hi)
{
    switch (op) {
    case OP_ADD:
        if (a > RG__NUMBER_MAX - r->operand_min)
            return false;
        *hi = min_u32(r->operand_max, RG__NUMBER_MAX - a);
        return true;
    case OP_SUB:
        if (a < r->operand_min)
            return false;
        *hi = min_u32(r->operand_max, a);
        return true;
    case OP_MUL:
        *hi = a == 0 ? r->operand_max
                     : min_u32(r->operand_max, r->product_max / a);
        return *hi >= r->operand_min;
    }
    return false;
}

static uint32_t apply(enum op op, uint32_t a, uint32_t b)
{
    return op == OP_ADD ? a + b : op == OP_SUB ? a - b : a * b;
}

/* The largest first operand from which some second operand works. */
static bool first_range(const rg__challenge_rules *r, enum op op, uint32_t *hi)
{
    uint32_t top = r->operand_max;
    if (op == OP_ADD)
        top = min_u32(top, RG__NUMBER_MAX - r->operand_min);
    if (op == OP_MUL && r->operand_min > 0)
        top = min_u32(top, r->product_max / r->operand_min);
    *hi = top;
    return top >= r->operand_min;
}

int rg__challenge_plan_init(rg__challenge_plan *plan,
                            const rg__challenge_rules *r)
{
    if (r->operand_min > r->operand_max || r->operand_max > RG__NUMBER_MAX ||
        r->product_max > RG__NUMBER_MAX || r->operators == 0 ||
        (r->operators & ~(unsigned)RG_OP_ALL) || r->forms == 0 ||
        (r->forms & ~7u))
        return RG_ERANGE;
    for (int op = OP_ADD; op <= OP_MUL; op++) {
        uint32_t hi;
        if ((r->operators & (1u << op)) && !first_range(r, (enum op)op, &hi))
            return RG_ERANGE;
    }

    plan->rules = *r;
    plan->nproducts = 0;
    if (r->operators & RG_OP_MUL) {
        /* Mark every product the rules allow; at most a few thousand
         * steps, since b stops at product_max / a. */
        bool seen[RG__NUMBER_MAX + 1] = {false};
        uint32_t a_hi;
        first_range(r, OP_MUL, &a_hi);
        for (uint32_t a = r->operand_min; a <= a_hi; a++) {
            uint32_t b_hi;
            second_range(r, OP_MUL, a, &b_hi);
            for (uint32_t b = r->operand_min; b <= b_hi; b++)
                seen[a * b] = true;
        }
        for (uint32_t c = 0; c <= RG__NUMBER_MAX; c++)
            if (seen[c])
                plan->products[plan->nproducts++] = (uint16_t)c;
    }
    return RG_OK;
}

static enum op pick_op(draws *d, unsigned allowed)
{
    enum op ops[3];
    uint32_t n = 0;
    for (int op = OP_ADD; op <= OP_MUL; op++)
        if (allowed & (1u << op))
            ops[n++] = (enum op)op;
    /* cppcheck-suppress uninitvar ; n >= 1: rg__challenge_plan_init()
     * refuses rules without an operator, and the three-term form passes
     * add_sub only when it is not empty. */
    return ops[draw_range(d, 0, n - 1)];
}

/* Appends text at *len, truncating safely at size - 1. */
static void append(char *out, size_t size, size_t *len, const char *text)
{
    size_t room = *len < size ? size - 1 - *len : 0;
    size_t n = strnlen(text, room);
    /* A cut text ends on a whole character: the output stays UTF-8. */
    while (n > 0 && text[n] != '\0' && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--;
    memcpy(out + *len, text, n);
    *len += n;
    out[*len] = '\0';
}

/* A number as the style wants it; words when `spoken`. */
static void append_number(char *out, size_t size, size_t *len, uint32_t n,
                          int locale, bool words)
{
    char buf[96];
    if (words) {
        rg__number_words(n, locale, buf, sizeof buf);
    } else {
        /* By hand: snprintf costs more than the rest of the question. */
        char *p = buf + sizeof buf - 1;
        *p = '\0';
        do
            *--p = (char)('0' + n % 10);
        while (n /= 10);
        memmove(buf, p, (size_t)(buf + sizeof buf - p));
    }
    append(out, size, len, buf);
}

/* An expression: terms[0] ops[0] terms[1] ... and, with has_result,
 * "= result"; the term at `hidden` (or none, when -1) shows as "?". */
typedef struct expression {
    uint32_t terms[3];
    bool term_words[3];
    enum op ops[2];
    int nterms;
    int hidden;
    bool has_result;
    uint32_t result;
    bool result_words;
} expression;

enum render { RENDER_SYMBOLS, RENDER_OP_WORDS, RENDER_SPOKEN };

static void render_expr(const expression *e, int locale, enum render how,
                        char *out, size_t size)
{
    const locale_text *t = &texts[locale];
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < e->nterms; i++) {
        if (i > 0) {
            append(out, size, &len, " ");
            append(out, size, &len,
                   how == RENDER_SYMBOLS ? op_symbol[e->ops[i - 1]]
                                         : t->op_word[e->ops[i - 1]]);
            append(out, size, &len, " ");
        }
        if (i == e->hidden)
            append(out, size, &len, how == RENDER_SPOKEN ? t->unknown : "?");
        else
            append_number(out, size, &len, e->terms[i], locale,
                          how == RENDER_SPOKEN || e->term_words[i]);
    }
    if (e->has_result) {
        append(out, size, &len, how == RENDER_SPOKEN ? " " : " = ");
        if (how == RENDER_SPOKEN) {
            append(out, size, &len, t->equals);
            append(out, size, &len, " ");
        }
        append_number(out, size, &len, e->result, locale,
                      how == RENDER_SPOKEN || e->result_words);
    }
}

/* Copies a template, replacing its one placeholder ({E}, {W} or {S}). */
static void fill(char *out, size_t size, const char *tmpl, const char *value)
{
    const char *brace = strchr(tmpl, '{');
    size_t len = 0;
    out[0] = '\0';
    if (!brace) {
        append(out, size, &len, tmpl);
        return;
    }
    char head[RG_QUESTION_MAX];
    size_t n = min_u32((uint32_t)(brace - tmpl), sizeof head - 1);
    memcpy(head, tmpl, n);
    head[n] = '\0';
    append(out, size, &len, head);
    append(out, size, &len, value);
    append(out, size, &len, brace + 3);
}

static bool pick_style(draws *d, rg_style style)
{
    if (style == RG_STYLE_MIXED)
        return draw_range(d, 0, 1) == 1;
    return style != RG_STYLE_DIGITS;
}

/* In a x b = c with c > 0: does d work as a, with c / d as b? */
static bool is_factor(const rg__challenge_rules *r, uint32_t c, uint32_t d)
{
    return d != 0 && c % d == 0 && c / d >= r->operand_min &&
           c / d <= r->operand_max;
}

/*
 * Two terms a op b within the rules, chosen by answer (see the top of this
 * file); op must be allowed.
 */
static void make_pair(const rg__challenge_plan *plan, draws *d, enum op op,
                      uint32_t *a, uint32_t *b)
{
    const rg__challenge_rules *r = &plan->rules;
    uint32_t min = r->operand_min, max = r->operand_max, c;

    switch (op) {
    case OP_ADD:
        c = draw_range(d, 2 * min, min_u32(2 * max, RG__NUMBER_MAX));
        *a =
            draw_range(d, c > min + max ? c - max : min, min_u32(max, c - min));
        *b = c - *a;
        return;
    case OP_SUB:
        c = draw_range(d, 0, max - min);
        *a = draw_range(d, min + c, max);
        *b = *a - c;
        return;
    case OP_MUL:
        c = plan->products[draw_range(d, 0, plan->nproducts - 1)];
        if (c == 0) {
            /* 0 x n or n x 0, for any n in range. */
            uint32_t n = draw_range(d, min, max);
            bool zero_first = draw_range(d, 0, 1) == 0;
            *a = zero_first ? 0 : n;
            *b = zero_first ? n : 0;
            return;
        }
        /* Count the factor pairs of c, then take one of them. */
        uint32_t count = 0, pick;
        for (uint32_t f = min; f <= max && f <= c; f++)
            count += is_factor(r, c, f);
        pick = draw_range(d, 0, count - 1);
        for (uint32_t f = min; f <= max && f <= c; f++) {
            if (is_factor(r, c, f) && pick-- == 0) {
                *a = f;
                *b = c / f;
                return;
            }
        }
    }
}

void rg__question_make(const rg__challenge_plan *plan, int locale,
                       rg_style style, const uint8_t seed[RG__SEED_BYTES],
                       rg__question *out)
{
    const rg__challenge_rules *r = &plan->rules;
    draws d;
    draws_init(&d, seed);

    unsigned forms[3], nforms = 0;
    for (unsigned f = 1; f <= RG_FORM_MISSING_TERM; f <<= 1)
        if (r->forms & f)
            forms[nforms++] = f;
    /* cppcheck-suppress uninitvar ; nforms >= 1: rg__challenge_plan_init()
     * refuses rules without a form. */
    unsigned form = forms[draw_range(&d, 0, nforms - 1)];
    unsigned add_sub = r->operators & (RG_OP_ADD | RG_OP_SUB);

    expression e = {.hidden = -1};
    if (form == RG_FORM_THREE_TERMS && add_sub) {
        /* Only + and −, so there is no precedence to get wrong. */
        e.nterms = 3;
        e.ops[0] = pick_op(&d, add_sub);
        make_pair(plan, &d, e.ops[0], &e.terms[0], &e.terms[1]);
        uint32_t x = apply(e.ops[0], e.terms[0], e.terms[1]), hi;
        e.ops[1] = pick_op(&d, add_sub);
        if (!second_range(r, e.ops[1], x, &hi)) {
            /* x is too large to add to, or too small to subtract from:
             * the other operator always works then. */
            e.ops[1] = e.ops[1] == OP_ADD ? OP_SUB : OP_ADD;
            if (!second_range(r, e.ops[1], x, &hi))
                hi = 0, e.ops[1] = OP_ADD;
        }
        e.terms[2] = draw_range(&d, min_u32(r->operand_min, hi), hi);
        out->answer = apply(e.ops[1], x, e.terms[2]);
    } else {
        e.nterms = 2;
        e.ops[0] = pick_op(&d, r->operators);
        make_pair(plan, &d, e.ops[0], &e.terms[0], &e.terms[1]);
        out->answer = apply(e.ops[0], e.terms[0], e.terms[1]);
        if (form == RG_FORM_MISSING_TERM) {
            /* Hide a term whose value the others determine: in a × b = c,
             * hiding b is only unambiguous when a is not zero. */
            int hidden = (int)draw_range(&d, 0, 1);
            if (e.ops[0] == OP_MUL && e.terms[1 - hidden] == 0)
                hidden = 1 - hidden;
            if (e.ops[0] != OP_MUL || e.terms[1 - hidden] != 0) {
                e.hidden = hidden;
                e.has_result = true;
                e.result = out->answer;
                out->answer = e.terms[hidden];
            }
        }
    }
    for (int i = 0; i < e.nterms; i++)
        e.term_words[i] = pick_style(&d, style);
    e.result_words = pick_style(&d, style);

    const locale_text *t = &texts[locale];
    uint32_t phrasing = draw_range(&d, 0, 2);
    const char *shown =
        e.has_result ? t->missing_shown[phrasing] : t->shown[phrasing];
    const char *spoken =
        e.has_result ? t->missing_spoken[phrasing] : t->spoken[phrasing];

    /* Only the two renderings the phrasing uses: symbols or operator words
     * for the text shown, all words for the spoken one. */
    char expr[RG_QUESTION_MAX];
    render_expr(&e, locale,
                strstr(shown, "{W}") ? RENDER_OP_WORDS : RENDER_SYMBOLS, expr,
                sizeof expr);
    fill(out->text, sizeof out->text, shown, expr);
    render_expr(&e, locale, RENDER_SPOKEN, expr, sizeof expr);
    fill(out->spoken, sizeof out->spoken, spoken, expr);
}
