/*
 * The hash every table of replyguard places untrusted keys by: SipHash-2-4
 * (libsodium's crypto_shorthash) under a secret random key, so nobody can
 * choose keys that pile up in one cluster. As a number, for slot
 * arithmetic: the 8 bytes read little-endian, so that a model image
 * (model-image.h) written on one machine places its slots alike on any
 * other; on a little-endian machine that is a plain copy.
 */
#ifndef RG_KEYED_HASH_H
#define RG_KEYED_HASH_H

#include <sodium.h>

#include "bytes.h"
#include <stdint.h>
#include <string.h>

static inline uint64_t
rg__keyed_hash(const unsigned char key[crypto_shorthash_KEYBYTES],
               const void *data, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, data, len, key);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
#else
    return rg__get_le64(h);
#endif
}

#endif
