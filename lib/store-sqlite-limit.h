/*
 * The sqlite: store's rate limiter (store-sqlite-limit.c), for
 * store-sqlite.c.
 */
#ifndef RG_STORE_SQLITE_LIMIT_H
#define RG_STORE_SQLITE_LIMIT_H

#include "limit.h"

struct sqlite3;
typedef struct rg__sqlite_limits rg__sqlite_limits;

/*
 * The limiter's statements on a connection whose file has the limits
 * tables (schema version 4), or NULL when out of memory. Nothing is
 * prepared until the first take. The caller serialises every call and
 * closes this before the connection.
 */
rg__sqlite_limits *rg__sqlite_limits_new(struct sqlite3 *db);
void rg__sqlite_limits_close(rg__sqlite_limits *sl);

/* The store's limit_take (store.h), in one write transaction. */
int rg__sqlite_limits_take(rg__sqlite_limits *sl, const char *name,
                           size_t name_len, const void *key, size_t key_len,
                           const rg__gcra *g, uint64_t now, uint32_t cost,
                           rg_limit_result *out);

#endif
