/*
 * Solves a question as a reader would: for tests that need the right answer
 * of a challenge issued by a guard. Understands digits, the symbols + − ×,
 * the operator words of every locale and a "?" standing for a missing term.
 */
#ifndef RG_TEST_SOLVER_H
#define RG_TEST_SOLVER_H

#include <stdbool.h>
#include <stdint.h>

/* The answer to a question in digits style, in any locale; false if not
 * understood. */
bool rg_test_solve(const char *question, uint32_t *answer);

#endif
