/*
 * Questions: every shape, operator, style and locale, checked by solving the
 * question the way a reader would and comparing with the expected answer.
 */
#include <check.h>
#include <sodium.h>
#include <string.h>
#include <unistr.h>

#include "challenge.h"
#include "solver.h"

static const char *const locales[] = {"en", "ru", "de", "fr", "es"};

static rg__challenge_plan default_plan;

static const rg__challenge_plan *plan_of(const rg__challenge_rules *r)
{
    static rg__challenge_plan plan;
    ck_assert_int_eq(rg__challenge_plan_init(&plan, r), RG_OK);
    return &plan;
}

static const rg__challenge_plan *default_rules(void)
{
    static const rg__challenge_rules r = {.operand_min = 0,
                                          .operand_max = 20,
                                          .product_max = 100,
                                          .operators = RG_OP_ALL,
                                          .forms = 7};
    ck_assert_int_eq(rg__challenge_plan_init(&default_plan, &r), RG_OK);
    return &default_plan;
}

static void seed_of(unsigned i, uint8_t seed[RG__SEED_BYTES])
{
    memset(seed, 0, RG__SEED_BYTES);
    memcpy(seed, &i, sizeof i);
}

START_TEST(solvable_in_every_locale)
{
    /* Digits style: the solver reads the numbers and operator words. */
    const rg__challenge_plan *r = default_rules();
    int locale = rg__locale_find(locales[_i]);
    ck_assert_int_ge(locale, 0);
    for (unsigned i = 0; i < 3000; i++) {
        uint8_t seed[RG__SEED_BYTES];
        seed_of(i, seed);
        rg__question q;
        rg__question_make(r, locale, RG_STYLE_DIGITS, seed, &q);
        uint32_t solved = 0;
        ck_assert_msg(rg_test_solve(q.text, &solved), "cannot solve '%s'",
                      q.text);
        ck_assert_msg(solved == q.answer, "'%s': %u, expected %u", q.text,
                      (unsigned)solved, (unsigned)q.answer);
        ck_assert(u8_check((const uint8_t *)q.text, strlen(q.text)) == NULL);
        ck_assert(u8_check((const uint8_t *)q.spoken, strlen(q.spoken)) ==
                  NULL);
    }
}
END_TEST

START_TEST(spoken_is_all_words)
{
    /* A screen reader gets no digits and no symbols it might misread. */
    const rg__challenge_plan *r = default_rules();
    int locale = rg__locale_find(locales[_i]);
    for (unsigned i = 0; i < 2000; i++) {
        uint8_t seed[RG__SEED_BYTES];
        seed_of(i, seed);
        rg__question q;
        rg__question_make(r, locale, (rg_style)(i % 3), seed, &q);
        ck_assert_msg(strpbrk(q.spoken, "0123456789+=") == NULL, "'%s'",
                      q.spoken);
        ck_assert_ptr_null(strstr(q.spoken, "\xe2\x88\x92"));
        ck_assert_ptr_null(strstr(q.spoken, "\xc3\x97"));
        ck_assert_uint_gt(strlen(q.spoken), 5);
    }
}
END_TEST

START_TEST(words_style_has_no_digits)
{
    const rg__challenge_plan *r = default_rules();
    int locale = rg__locale_find(locales[_i]);
    for (unsigned i = 0; i < 1000; i++) {
        uint8_t seed[RG__SEED_BYTES];
        seed_of(i, seed);
        rg__question q;
        rg__question_make(r, locale, RG_STYLE_WORDS, seed, &q);
        ck_assert_msg(strpbrk(q.text, "0123456789") == NULL, "'%s'", q.text);
    }
}
END_TEST

START_TEST(variety)
{
    /* Every phrasing, operator and shape shows up; mixed style mixes. */
    const rg__challenge_plan *r = default_rules();
    bool seen_plus = false, seen_minus = false, seen_times = false;
    bool seen_missing = false, seen_three = false, seen_what = false;
    bool seen_how = false, seen_equals_end = false, mixed = false;
    for (unsigned i = 0; i < 3000; i++) {
        uint8_t seed[RG__SEED_BYTES];
        seed_of(i, seed);
        rg__question q;
        rg__question_make(r, RG__LOCALE_EN, RG_STYLE_MIXED, seed, &q);
        seen_plus |= strstr(q.spoken, " plus ") != NULL;
        seen_minus |= strstr(q.spoken, " minus ") != NULL;
        seen_times |= strstr(q.spoken, " times ") != NULL;
        seen_missing |= strstr(q.text, " ? ") != NULL;
        seen_what |= strncmp(q.text, "What is", 7) == 0;
        seen_how |= strncmp(q.text, "How much", 8) == 0;
        size_t len = strlen(q.text);
        seen_equals_end |= len > 2 && strcmp(q.text + len - 2, " =") == 0;
        int ops = 0;
        for (const char *p = q.spoken; (p = strstr(p, " plus ")); p++)
            ops++;
        for (const char *p = q.spoken; (p = strstr(p, " minus ")); p++)
            ops++;
        seen_three |= ops == 2;
        mixed |= strpbrk(q.text, "0123456789") != NULL &&
                 strpbrk(q.text, "abcdefghijklmnopqrstuvwxyz") != NULL &&
                 strstr(q.text, " ? ") == NULL;
    }
    ck_assert(seen_plus && seen_minus && seen_times);
    ck_assert(seen_missing && seen_three);
    ck_assert(seen_what && seen_how && seen_equals_end);
    ck_assert(mixed);
}
END_TEST

START_TEST(no_answer_dominates)
{
    /* Answers are drawn uniformly per operator: with the defaults no answer
     * may come up much more often than one in 77 (uniform would be 1.3%;
     * uniform operands instead gave 0 for 10.6% of questions). */
    const rg__challenge_rules r = {0, 20, 100, RG_OP_ALL, RG_FORM_TWO_TERMS};
    const rg__challenge_plan *plan = plan_of(&r);
    static unsigned count[RG__NUMBER_MAX + 1];
    memset(count, 0, sizeof count);
    const unsigned n = 60000;
    for (unsigned i = 0; i < n; i++) {
        uint8_t seed[RG__SEED_BYTES];
        seed_of(i, seed);
        rg__question q;
        rg__question_make(plan, RG__LOCALE_EN, RG_STYLE_DIGITS, seed, &q);
        count[q.answer]++;
    }
    unsigned best = 0, distinct = 0;
    for (unsigned a = 0; a <= RG__NUMBER_MAX; a++) {
        distinct += count[a] > 0;
        if (count[a] > best)
            best = count[a];
    }
    ck_assert_uint_eq(distinct, 77);
    ck_assert_msg(best < n * 4 / 100, "most common answer: %u of %u", best, n);
}
END_TEST

START_TEST(same_seed_same_question)
{
    const rg__challenge_plan *r = default_rules();
    uint8_t seed[RG__SEED_BYTES];
    randombytes_buf(seed, sizeof seed);
    rg__question a, b;
    rg__question_make(r, RG__LOCALE_DE, RG_STYLE_MIXED, seed, &a);
    rg__question_make(r, RG__LOCALE_DE, RG_STYLE_MIXED, seed, &b);
    ck_assert_str_eq(a.text, b.text);
    ck_assert_str_eq(a.spoken, b.spoken);
    ck_assert_uint_eq(a.answer, b.answer);
}
END_TEST

/* Ranges are respected: operands, products and answers. */
static const rg__challenge_rules range_cases[] = {
    {0, 20, 100, RG_OP_ALL, 1},
    {0, 20, 100, RG_OP_ALL, 7},
    {5, 9, 81, RG_OP_MUL, 1},
    {0, 999, 999, RG_OP_ADD, 1},
    {0, 999, 999, RG_OP_ADD | RG_OP_SUB, 2},
    {10, 10, 100, RG_OP_SUB, 4},
    {0, 50, 0, RG_OP_MUL, 4},
    {1, 1, 1, RG_OP_ALL, 7},
};

START_TEST(ranges_respected)
{
    const rg__challenge_rules *r = &range_cases[_i];
    const rg__challenge_plan *plan = plan_of(r);
    for (unsigned i = 0; i < 3000; i++) {
        uint8_t seed[RG__SEED_BYTES];
        seed_of(i * 7919u + (unsigned)_i, seed);
        rg__question q;
        rg__question_make(plan, RG__LOCALE_EN, RG_STYLE_DIGITS, seed, &q);
        uint32_t solved = 0;
        ck_assert_msg(rg_test_solve(q.text, &solved), "'%s'", q.text);
        ck_assert_uint_eq(solved, q.answer);
        ck_assert_uint_le(q.answer, RG__NUMBER_MAX);
        /* Every number shown is an operand within range, or a result. */
        const char *p = q.text;
        bool after_equals = false;
        while (*p) {
            if (*p == '=')
                after_equals = true;
            if (*p >= '0' && *p <= '9') {
                unsigned v = 0;
                while (*p >= '0' && *p <= '9')
                    v = v * 10 + (unsigned)(*p++ - '0');
                if (!after_equals) {
                    ck_assert_uint_ge(v, r->operand_min);
                    ck_assert_uint_le(v, r->operand_max);
                }
                continue;
            }
            p++;
        }
        if (strstr(q.text, "\xc3\x97") && !strstr(q.text, " ? "))
            ck_assert_uint_le(q.answer, r->product_max);
    }
}
END_TEST

static const rg__challenge_rules bad_rules[] = {
    {21, 20, 100, RG_OP_ALL, 1},  /* min above max */
    {0, 1000, 100, RG_OP_ALL, 1}, /* beyond the words we have */
    {0, 20, 1000, RG_OP_ALL, 1},
    {0, 20, 100, 0, 1},            /* no operator */
    {0, 20, 100, 8, 1},            /* unknown operator bit */
    {0, 20, 100, RG_OP_ALL, 0},    /* no form */
    {0, 20, 100, RG_OP_ALL, 9},    /* unknown form bit */
    {11, 20, 100, RG_OP_MUL, 1},   /* 11 x 11 > 100 */
    {600, 999, 999, RG_OP_ADD, 1}, /* every sum above 999 */
};

START_TEST(rules_rejected)
{
    rg__challenge_plan plan;
    ck_assert_int_eq(rg__challenge_plan_init(&plan, &bad_rules[_i]), RG_ERANGE);
}
END_TEST

Suite *challenge_suite(void);

Suite *challenge_suite(void)
{
    Suite *s = suite_create("challenge");
    TCase *tc = tcase_create("questions");
    tcase_add_loop_test(tc, solvable_in_every_locale, 0, 5);
    tcase_add_loop_test(tc, spoken_is_all_words, 0, 5);
    tcase_add_loop_test(tc, words_style_has_no_digits, 0, 5);
    tcase_add_test(tc, variety);
    tcase_add_test(tc, same_seed_same_question);
    tcase_add_test(tc, no_answer_dominates);
    suite_add_tcase(s, tc);

    tc = tcase_create("rules");
    tcase_add_loop_test(tc, ranges_respected, 0,
                        sizeof range_cases / sizeof range_cases[0]);
    tcase_add_loop_test(tc, rules_rejected, 0,
                        sizeof bad_rules / sizeof bad_rules[0]);
    suite_add_tcase(s, tc);
    return s;
}
