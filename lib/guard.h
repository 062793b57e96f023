/*
 * What the judge (judge.c) needs of the guard beyond the public API.
 */
#ifndef RG_GUARD_H
#define RG_GUARD_H

#include "internal.h"

/* The guard's minimum solve time, in seconds. */
uint32_t rg__guard_min_solve(const rg_guard *g);

/* The guard's replay store, for the tests that look at what it holds. */
rg_store *rg__guard_store(const rg_guard *g);

/*
 * rg_challenge_verify() with another minimum solve time than the guard's:
 * the judge's, raised for a client whose challenges keep failing.
 */
int rg__challenge_verify_min(rg_guard *g, const char *token, const char *answer,
                             const char *binding, uint32_t min_solve_s,
                             rg_verdict *out);

#endif
