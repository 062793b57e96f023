/*
 * What every fuzz target shares: the entry points libFuzzer calls, a
 * reader that takes typed values from the input, and a check that aborts
 * with a message, so that a broken invariant is a crash that libFuzzer
 * keeps as a reproducer and the corpus replay (replay.c) reports.
 *
 * Each target is one tests/fuzz/fuzz-<name>.c defining
 * LLVMFuzzerTestOneInput(); this file's fuzz-common.c defines
 * LLVMFuzzerInitialize() for all of them.
 */
#ifndef RG_FUZZ_H
#define RG_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs one input; always returns 0 (a broken invariant aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Called once before the first input: makes libsodium's random bytes a
 * fixed stream (so that a run over a corpus is the same every time) and
 * initialises replyguard.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input, consumed from the front. Reading past its end gives zeros. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
} fuzz_input;

uint8_t fuzz_u8(fuzz_input *in);
uint16_t fuzz_u16(fuzz_input *in);
uint32_t fuzz_u32(fuzz_input *in);
uint64_t fuzz_u64(fuzz_input *in);
bool fuzz_bool(fuzz_input *in);

/* n bytes into out, zeros for what the input lacks. */
void fuzz_bytes(fuzz_input *in, void *out, size_t n);

/*
 * The input up to the next NUL byte (which is consumed) or its end, as a
 * NUL-terminated string in a buffer of exactly its length plus one, so
 * that AddressSanitizer sees a read past its end. Free it with free().
 */
char *fuzz_string(fuzz_input *in);

/*
 * Checks an invariant: when cond is false, prints the file, the line, the
 * condition and a message, and aborts.
 */
#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond))                                                           \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                 \
    } while (0)

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
_Noreturn void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* True when the n bytes at s are well-formed UTF-8 without a NUL. */
bool fuzz_utf8(const char *s, size_t n);

/* A clock for rg_config: returns *(uint64_t *)arg. */
uint64_t fuzz_clock(void *arg);

#endif
