/*
 * The comment tokenizer: turns a comment into the set of features the
 * Bayesian filter counts. docs/bayes.md lists every kind of token.
 */
#ifndef RG_TOKENIZE_H
#define RG_TOKENIZE_H

#include "tokenset.h"

/* Most distinct tokens taken from one comment; the rest are ignored. */
#define RG__COMMENT_TOKENS_MAX 2048

/*
 * Adds the features of every field of the comment to ts (which the caller
 * has initialised, typically with RG__COMMENT_TOKENS_MAX as its limit, and
 * cleared). Each token counts once per comment. Any bytes are accepted:
 * invalid UTF-8 becomes tokens of its own, never a failure.
 * Errors: RG_ENOMEM. Thread-safe (no shared state).
 */
int rg__tokenize_comment(const rg_comment *c, rg__token_set *ts);

#endif
