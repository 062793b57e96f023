/*
 * How guessable each challenge setting is. For a setting, it draws many
 * questions and counts how often each answer comes up: a bot that ignores
 * the question and always sends the most common answer succeeds with that
 * answer's share. The anchor is a uniform answer over the same range; the
 * ratio says how much the setting's skew helps such a bot.
 *
 * Usage: answer-space [QUESTIONS_PER_SETTING]   (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "challenge.h"

#include <sodium.h>

typedef struct setting {
    const char *name;
    rg__challenge_rules rules;
} setting;

static const setting settings[] = {
    {"default: 0-20, + - x (x up to 100), two terms",
     {0, 20, 100, RG_OP_ALL, RG_FORM_TWO_TERMS}},
    {"default ranges, three terms only",
     {0, 20, 100, RG_OP_ALL, RG_FORM_THREE_TERMS}},
    {"default ranges, missing term only",
     {0, 20, 100, RG_OP_ALL, RG_FORM_MISSING_TERM}},
    {"default ranges, all three shapes",
     {0, 20, 100, RG_OP_ALL,
      RG_FORM_TWO_TERMS | RG_FORM_THREE_TERMS | RG_FORM_MISSING_TERM}},
    {"0-20, + only", {0, 20, 100, RG_OP_ADD, RG_FORM_TWO_TERMS}},
    {"0-20, - only", {0, 20, 100, RG_OP_SUB, RG_FORM_TWO_TERMS}},
    {"0-10, x only (up to 100)", {0, 10, 100, RG_OP_MUL, RG_FORM_TWO_TERMS}},
    {"0-99, + - , two terms",
     {0, 99, 100, RG_OP_ADD | RG_OP_SUB, RG_FORM_TWO_TERMS}},
    {"0-99, + - x (x up to 999), all shapes",
     {0, 99, 999, RG_OP_ALL,
      RG_FORM_TWO_TERMS | RG_FORM_THREE_TERMS | RG_FORM_MISSING_TERM}},
};

int main(int argc, char **argv)
{
    long per = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (per < 1000 || per > 100000000 || rg_init() != RG_OK) {
        fprintf(stderr, "usage: answer-space [QUESTIONS_PER_SETTING]\n");
        return 64;
    }
    printf("answer-space: %ld questions per setting\n", per);
    printf("| setting | distinct answers | largest answer | best single "
           "guess | uniform over the same range | ratio |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
        static long count[RG__NUMBER_MAX + 1];
        memset(count, 0, sizeof count);
        uint8_t seed[RG__SEED_BYTES];
        rg__question q;
        static rg__challenge_plan plan;
        if (rg__challenge_plan_init(&plan, &settings[s].rules) != RG_OK)
            return 1;
        for (long i = 0; i < per; i++) {
            randombytes_buf(seed, sizeof seed);
            rg__question_make(&plan, RG__LOCALE_EN, RG_STYLE_DIGITS, seed, &q);
            count[q.answer]++;
        }
        long distinct = 0, best = 0, largest = 0;
        for (long a = 0; a <= (long)RG__NUMBER_MAX; a++) {
            if (count[a]) {
                distinct++;
                largest = a;
            }
            if (count[a] > best)
                best = count[a];
        }
        double best_share = (double)best / (double)per;
        double uniform = 1.0 / (double)(largest + 1);
        printf("| %s | %ld | %ld | %.2f%% | %.2f%% | %.1f |\n",
               settings[s].name, distinct, largest, 100 * best_share,
               100 * uniform, best_share / uniform);
    }
    return 0;
}
