/* Random bytes for values that must be unique and unpredictable, not secret.
 */
#ifndef RG_RANDOM_H
#define RG_RANDOM_H

#include <stddef.h>

#include "internal.h"

/*
 * Fills out with n random bytes from libsodium's generator, buffered per
 * thread and safe across fork(). Not for keys: use randombytes_buf().
 */
void rg__random_buf(void *out, size_t n);

#endif
