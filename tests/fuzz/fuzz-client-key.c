/*
 * Fuzz target: rg_client_key(), the rate-limit key of a client's address.
 *
 * Input: one byte, the IPv6 prefix length (above 128 is refused), then the
 * address text.
 *
 * Invariants, from the header: RG_EINVAL exactly for a prefix above 128,
 * else RG_OK or RG_EADDRESS; an IPv4 key is family 4, length 32 and four
 * address bytes; an IPv6 key is family 6, the prefix (0 meaning 64) and
 * the address bytes under it, with every bit past the prefix zero, and it
 * is the whole address's key cut to the prefix. The address written back
 * canonically (inet_ntop) gives the same key, and an IPv4 address gives
 * the key of its IPv4-mapped IPv6 form.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "replyguard.h"

static void key_of(const char *text, unsigned prefix, uint8_t *key, size_t *len)
{
    int rc = rg_client_key(text, prefix, key, len);
    FUZZ_CHECK(rc == RG_OK, "'%s' /%u: %s", text, prefix, rg_err_name(rc));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    unsigned prefix = fuzz_u8(&in);
    char *address = fuzz_string(&in);

    uint8_t key[RG_CLIENT_KEY_MAX + 1];
    size_t len = 99;
    key[RG_CLIENT_KEY_MAX] = 0xa5;
    int rc = rg_client_key(address, prefix, key, &len);
    FUZZ_CHECK(key[RG_CLIENT_KEY_MAX] == 0xa5, "wrote past the key");
    if (prefix > 128) {
        FUZZ_CHECK(rc == RG_EINVAL && len == 0, "/%u: %s", prefix,
                   rg_err_name(rc));
        free(address);
        return 0;
    }
    FUZZ_CHECK(rc == RG_OK || rc == RG_EADDRESS, "%s", rg_err_name(rc));
    if (rc != RG_OK) {
        FUZZ_CHECK(len == 0, "length %zu after an error", len);
        free(address);
        return 0;
    }

    char text[INET6_ADDRSTRLEN + 16];
    uint8_t k2[RG_CLIENT_KEY_MAX];
    size_t len2;
    if (key[0] == 4) {
        FUZZ_CHECK(len == 6 && key[1] == 32, "IPv4 key: %zu bytes, /%u", len,
                   key[1]);
        FUZZ_CHECK(inet_ntop(AF_INET, key + 2, text, sizeof text), "ntop");
        key_of(text, prefix, k2, &len2);
        FUZZ_CHECK(len2 == len && memcmp(k2, key, len) == 0,
                   "'%s' and '%s' differ", address, text);
        char mapped[sizeof text + 8];
        snprintf(mapped, sizeof mapped, "::ffff:%s", text);
        key_of(mapped, prefix, k2, &len2);
        FUZZ_CHECK(len2 == len && memcmp(k2, key, len) == 0,
                   "'%s' and '%s' differ", address, mapped);
    } else {
        unsigned p = prefix ? prefix : 64;
        size_t bytes = (p + 7) / 8;
        FUZZ_CHECK(key[0] == 6 && key[1] == p && len == 2 + bytes,
                   "IPv6 key: family %u, /%u, %zu bytes", key[0], key[1], len);
        if (p % 8)
            FUZZ_CHECK((key[1 + bytes] & (0xff >> (p % 8))) == 0,
                       "bits past /%u", p);

        /* The whole address: this key is its key cut to the prefix. */
        uint8_t whole[RG_CLIENT_KEY_MAX];
        size_t whole_len;
        key_of(address, 128, whole, &whole_len);
        FUZZ_CHECK(whole_len == 18 && whole[0] == 6 && whole[1] == 128,
                   "/128 key");
        FUZZ_CHECK(
            memcmp(whole + 2, key + 2, bytes - (p % 8 != 0)) == 0 &&
                (p % 8 == 0 ||
                 (whole[1 + bytes] & (0xff << (8 - p % 8))) == key[1 + bytes]),
            "/%u is not the /128 key cut", p);
        FUZZ_CHECK(inet_ntop(AF_INET6, whole + 2, text, sizeof text), "ntop");
        key_of(text, prefix, k2, &len2);
        FUZZ_CHECK(len2 == len && memcmp(k2, key, len) == 0,
                   "'%s' and '%s' differ", address, text);
    }
    free(address);
    return 0;
}
