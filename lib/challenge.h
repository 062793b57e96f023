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

/* Rules, and what follows from them, worked out once per guard. */
typedef struct rg__challenge_plan {
    rg__challenge_rules rules;
    uint16_t products[RG__NUMBER_MAX + 1]; /* every possible a x b, ascending */
    uint32_t nproducts;
} rg__challenge_plan;

/*
 * Checks the rules and works out the plan: RG_OK, or RG_ERANGE when the
 * rules cannot make a question.
 */
int rg__challenge_plan_init(rg__challenge_plan *plan,
                            const rg__challenge_rules *rules);

/*
 * Makes a question from a random seed: the same seed always makes the same
 * question, which keeps tests deterministic. The locale must exist.
 */
void rg__question_make(const rg__challenge_plan *plan, int locale,
                       rg_style style, const uint8_t seed[RG__SEED_BYTES],
                       rg__question *out);

#endif
