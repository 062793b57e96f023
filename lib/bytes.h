/*
 * Integers as bytes in a fixed order, for formats that leave the process:
 * big-endian in tokens (docs/token-format.md), little-endian in model
 * images (model-image.h). Spelt out byte by byte, they compile to plain
 * loads and stores (with a byte swap where the order differs).
 */
#ifndef RG_BYTES_H
#define RG_BYTES_H

#include <stdint.h>

static inline void rg__put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void rg__put_be64(uint8_t *p, uint64_t v)
{
    rg__put_be32(p, (uint32_t)(v >> 32));
    rg__put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t rg__get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline uint64_t rg__get_be64(const uint8_t *p)
{
    return (uint64_t)rg__get_be32(p) << 32 | rg__get_be32(p + 4);
}

static inline void rg__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void rg__put_le64(uint8_t *p, uint64_t v)
{
    rg__put_le32(p, (uint32_t)v);
    rg__put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t rg__get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t rg__get_le64(const uint8_t *p)
{
    return (uint64_t)rg__get_le32(p) | (uint64_t)rg__get_le32(p + 4) << 32;
}

#endif
