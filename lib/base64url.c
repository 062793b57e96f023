/*
 * Base64url for tokens. libsodium's codec is constant-time, which matters
 * for secrets and costs as much as an HMAC per token; a token is public (it
 * sits in the page's HTML), so its encoding uses plain table lookups. Key
 * files, which are secret, still go through libsodium.
 */
#include "base64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of each character, or 0xff. */
/* clang-format off */
static const uint8_t values[256] = {
#define X 0xff
#define ROW16 X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
    ROW16, ROW16,
    /* 0x20 */ X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    /* 0x30 */ 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    /* 0x40 */ X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    /* 0x50 */ 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    /* 0x60 */ X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    /* 0x70 */ 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    ROW16, ROW16, ROW16, ROW16, ROW16, ROW16, ROW16, ROW16,
#undef ROW16
#undef X
};
/* clang-format on */

void rg__b64url_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = alphabet[(v >> 6) & 63];
        *out++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        *out++ = alphabet[in[i] >> 2];
        *out++ = alphabet[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
        *out++ = alphabet[v >> 10];
        *out++ = alphabet[(v >> 4) & 63];
        *out++ = alphabet[(v & 15) << 2];
    }
    *out = '\0';
}

bool rg__b64url_decode(const char *text, size_t len, uint8_t *out, size_t n)
{
    if (len != RG__B64URL_LEN(n))
        return false;
    const unsigned char *t = (const unsigned char *)text;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t v = values[t[i]];
        if (v == 0xff)
            return false;
        acc = (acc << 6 | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero: one text per byte string. */
    return (acc & ((1u << bits) - 1)) == 0;
}
