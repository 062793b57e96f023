/* Base64url without padding (RFC 4648 §5), for public data only. */
#ifndef RG_BASE64URL_H
#define RG_BASE64URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The text length of n bytes. */
#define RG__B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Writes RG__B64URL_LEN(n) characters and a NUL to out. */
void rg__b64url_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decodes exactly `len` characters into exactly `n` bytes. False for a
 * wrong length, a character outside the alphabet, or a non-canonical last
 * character (unused bits set), so each byte string has one text.
 */
bool rg__b64url_decode(const char *text, size_t len, uint8_t *out, size_t n);

#endif
