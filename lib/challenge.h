/* Questions: picking the arithmetic and writing it in a locale. */
#ifndef RG_CHALLENGE_H
#define RG_CHALLENGE_H

#include "internal.h"

#define RG__SEED_BYTES 32

typedef struct rg__challenge_rules {
    uint32_t operand_min, operand_max, product_max;
    unsigned operators; /* rg_operator_set */
    unsigned forms;     /* rg_form_set */
} rg__challenge_rules;

typedef struct rg__question {
    char text[RG_QUESTION_MAX];
    char spoken[RG_QUESTION_MAX];
    uint32_t answer;
} rg__question;

/* RG_OK when the rules can make a question, RG_ERANGE otherwise. */
int rg__challenge_rules_check(const rg__challenge_rules *r);

/*
 * Makes a question from a random seed: the same seed always makes the same
 * question, which keeps tests deterministic. Rules must have passed
 * rg__challenge_rules_check() and the locale must exist.
 */
void rg__question_make(const rg__challenge_rules *r, int locale,
                       rg_style style, const uint8_t seed[RG__SEED_BYTES],
                       rg__question *out);

#endif
