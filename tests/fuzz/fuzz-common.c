/*
 * Shared by every fuzz target: see fuzz.h.
 */
#include "fuzz.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "replyguard.h"

/*
 * libsodium's random bytes, as a fixed ChaCha20 stream. Nonces, question
 * seeds and the keys of hash tables all come from it, so that a run over
 * a corpus takes the same paths every time. Nothing here is secret.
 */
static const uint8_t stream_key[crypto_stream_chacha20_KEYBYTES] = {'r', 'g'};
static uint64_t stream_block;

static void fixed_buf(void *buf, size_t size)
{
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(stream_block >> (8 * i));
    stream_block++;
    crypto_stream_chacha20(buf, size, nonce, stream_key);
}

static uint32_t fixed_random(void)
{
    uint32_t v;
    fixed_buf(&v, sizeof v);
    return v;
}

static const char *fixed_name(void)
{
    return "replyguard-fuzz";
}

static randombytes_implementation fixed_random_bytes = {
    .implementation_name = fixed_name,
    .random = fixed_random,
    .buf = fixed_buf,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Before sodium_init(), which rg_init() calls: afterwards it is too
     * late to change the generator. */
    if (randombytes_set_implementation(&fixed_random_bytes) != 0 ||
        rg_init() != RG_OK) {
        fprintf(stderr, "fuzz: cannot initialise replyguard\n");
        abort();
    }
    return 0;
}

uint8_t fuzz_u8(fuzz_input *in)
{
    if (in->size == 0)
        return 0;
    in->size--;
    return *in->data++;
}

void fuzz_bytes(fuzz_input *in, void *out, size_t n)
{
    size_t take = n < in->size ? n : in->size;
    if (take)
        memcpy(out, in->data, take);
    memset((uint8_t *)out + take, 0, n - take);
    in->data += take;
    in->size -= take;
}

uint16_t fuzz_u16(fuzz_input *in)
{
    uint8_t b[2];
    fuzz_bytes(in, b, sizeof b);
    return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t fuzz_u32(fuzz_input *in)
{
    uint8_t b[4];
    fuzz_bytes(in, b, sizeof b);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

uint64_t fuzz_u64(fuzz_input *in)
{
    uint64_t lo = fuzz_u32(in);
    return lo | (uint64_t)fuzz_u32(in) << 32;
}

bool fuzz_bool(fuzz_input *in)
{
    return fuzz_u8(in) & 1;
}

char *fuzz_string(fuzz_input *in)
{
    const uint8_t *nul = in->size ? memchr(in->data, 0, in->size) : NULL;
    size_t len = nul ? (size_t)(nul - in->data) : in->size;
    char *s = malloc(len + 1);
    if (!s) {
        fprintf(stderr, "fuzz: out of memory\n");
        abort();
    }
    if (len)
        memcpy(s, in->data, len);
    s[len] = '\0';
    len += nul != NULL;
    in->data += len;
    in->size -= len;
    return s;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
               ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: invariant broken: %s\n  ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

bool fuzz_utf8(const char *s, size_t n)
{
    return memchr(s, 0, n) == NULL && u8_check((const uint8_t *)s, n) == NULL;
}

uint64_t fuzz_clock(void *arg)
{
    return *(const uint64_t *)arg;
}
