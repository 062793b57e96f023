/*
 * rg_client_key(): the rate-limit key of a client's address. The address
 * is parsed by inet_pton(), which takes only the plain forms: dotted quad
 * (no leading zeros, no octal, no shorthand like "127.1") and RFC 4291
 * IPv6 text, so every spelling of one address gives one key.
 */
#include <arpa/inet.h>
#include <string.h>

#include "internal.h"

/* Longer text cannot be an address (INET6_ADDRSTRLEN is 46, with NUL). */
#define ADDRESS_TEXT_MAX 64

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int rg_client_key(const char *address, unsigned ipv6_prefix,
                  uint8_t out[RG_CLIENT_KEY_MAX], size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!address || !out || !out_len || ipv6_prefix > 128)
        return RG_EINVAL;
    if (ipv6_prefix == 0)
        ipv6_prefix = 64;

    /* inet_pton() wants a C string of reasonable length. */
    char text[ADDRESS_TEXT_MAX + 1];
    size_t len = strnlen(address, sizeof text);
    if (len == sizeof text)
        return RG_EADDRESS;
    memcpy(text, address, len + 1);

    uint8_t a[16];
    if (inet_pton(AF_INET, text, a) == 1) {
        out[0] = 4;
        out[1] = 32;
        memcpy(out + 2, a, 4);
        *out_len = 6;
        return RG_OK;
    }
    if (inet_pton(AF_INET6, text, a) != 1)
        return RG_EADDRESS;
    if (memcmp(a, V4_MAPPED, sizeof V4_MAPPED) == 0) {
        /* ::ffff:a.b.c.d is the IPv4 client a.b.c.d on a dual stack. */
        out[0] = 4;
        out[1] = 32;
        memcpy(out + 2, a + 12, 4);
        *out_len = 6;
        return RG_OK;
    }
    size_t bytes = (ipv6_prefix + 7) / 8;
    out[0] = 6;
    out[1] = (uint8_t)ipv6_prefix;
    memcpy(out + 2, a, bytes);
    if (ipv6_prefix % 8)
        out[1 + bytes] &= (uint8_t)(0xff << (8 - ipv6_prefix % 8));
    *out_len = 2 + bytes;
    return RG_OK;
}
