/*
 * The sqlite: store's rate limiter: one row per key that is inside its
 * burst, in table `limits` (key, tat), shared by every process that opens
 * the file.
 *
 * - The key column is never the key: it is a 128-bit BLAKE2b
 *   (crypto_generichash) of the limiter's name and the key under a random
 *   32-byte secret made for the file (table `limit_secret`). The file
 *   holds no client address in the clear, and nobody without the file can
 *   test an address against it. Someone with the file can test guesses
 *   (all of IPv4 is only 2^32 of them): keep it as private as a server
 *   log (it is created mode 0600).
 * - Each take is one write transaction (BEGIN IMMEDIATE): the read of the
 *   TAT and its update are atomic across processes.
 * - TATs are nanoseconds of real time, so processes agree and a reboot
 *   changes nothing. rg__gcra_take() pulls back a TAT that a clock set
 *   back leaves too far ahead.
 * - Rows of keys that have rested are deleted on a handle's first take
 *   and every PURGE_EVERY takes after, at most PURGE_LIMIT at a time.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store-sqlite-limit.h"

#define KEY_BYTES    16
#define SECRET_BYTES 32
#define PURGE_EVERY  256u
#define PURGE_LIMIT  1024

struct rg__sqlite_limits {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *get, *put, *purge, *get_secret, *put_secret;
    uint8_t secret[SECRET_BYTES];
    bool have_secret;
    uint32_t takes;
};

static const char GET_SQL[] = "SELECT tat FROM limits WHERE key = ?1";
static const char PUT_SQL[] =
    "INSERT INTO limits(key, tat) VALUES(?1, ?2) "
    "ON CONFLICT(key) DO UPDATE SET tat = excluded.tat";
static const char PURGE_SQL[] =
    "DELETE FROM limits WHERE key IN (SELECT key FROM limits "
    "WHERE tat <= ?1 ORDER BY tat LIMIT ?2)";
static const char GET_SECRET_SQL[] =
    "SELECT secret FROM limit_secret WHERE id = 0";
static const char PUT_SECRET_SQL[] =
    "INSERT OR IGNORE INTO limit_secret(id, secret) VALUES(0, ?1)";

rg__sqlite_limits *rg__sqlite_limits_new(sqlite3 *db)
{
    rg__sqlite_limits *sl = calloc(1, sizeof *sl);
    if (sl)
        sl->db = db;
    return sl;
}

void rg__sqlite_limits_close(rg__sqlite_limits *sl)
{
    if (!sl)
        return;
    sqlite3_stmt *all[] = {sl->begin,      sl->commit,    sl->rollback,
                           sl->get,        sl->put,       sl->purge,
                           sl->get_secret, sl->put_secret};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sodium_memzero(sl->secret, sizeof sl->secret);
    free(sl);
}

/* A statement prepared on its first use; NULL when it cannot be. */
static sqlite3_stmt *lazy(rg__sqlite_limits *sl, sqlite3_stmt **st,
                          const char *sql)
{
    if (!*st && sqlite3_prepare_v3(sl->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                   st, NULL) != SQLITE_OK)
        *st = NULL;
    return *st;
}

/* Steps a statement that returns no rows, and resets it. */
static bool run(sqlite3_stmt *st)
{
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE;
}

/* The file's secret, made by the first take that finds none (inside the
 * caller's write transaction, so two processes cannot make two). */
static bool load_secret(rg__sqlite_limits *sl)
{
    sqlite3_stmt *get = lazy(sl, &sl->get_secret, GET_SECRET_SQL);
    sqlite3_stmt *put = lazy(sl, &sl->put_secret, PUT_SECRET_SQL);
    uint8_t fresh[SECRET_BYTES];

    if (sl->have_secret)
        return true;
    if (!get || !put)
        return false;
    randombytes_buf(fresh, sizeof fresh);
    bool ok = sqlite3_bind_blob(put, 1, fresh, sizeof fresh, SQLITE_STATIC) ==
                  SQLITE_OK &&
              run(put);
    sodium_memzero(fresh, sizeof fresh);
    if (ok && sqlite3_step(get) == SQLITE_ROW &&
        sqlite3_column_bytes(get, 0) == SECRET_BYTES) {
        memcpy(sl->secret, sqlite3_column_blob(get, 0), SECRET_BYTES);
        sl->have_secret = true;
    }
    sqlite3_reset(get);
    return sl->have_secret;
}

/* What the row of a key is known by. */
static void row_key(const rg__sqlite_limits *sl, const char *name,
                    size_t name_len, const void *key, size_t key_len,
                    uint8_t out[KEY_BYTES])
{
    crypto_generichash_state st;
    static const uint8_t separator = 0;

    crypto_generichash_init(&st, sl->secret, SECRET_BYTES, KEY_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)name, name_len);
    crypto_generichash_update(&st, &separator, 1);
    crypto_generichash_update(&st, key, key_len);
    crypto_generichash_final(&st, out, KEY_BYTES);
}

/* The TAT stored for a row key, or 0 when there is none. False on error. */
static bool read_tat(rg__sqlite_limits *sl, const uint8_t k[KEY_BYTES],
                     uint64_t *tat)
{
    sqlite3_stmt *st = lazy(sl, &sl->get, GET_SQL);
    if (!st ||
        sqlite3_bind_blob(st, 1, k, KEY_BYTES, SQLITE_STATIC) != SQLITE_OK)
        return false;
    int rc = sqlite3_step(st);
    *tat = 0;
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        /* A negative TAT can only come from a damaged file: rested. */
        *tat = v > 0 ? (uint64_t)v : 0;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static bool write_tat(rg__sqlite_limits *sl, const uint8_t k[KEY_BYTES],
                      uint64_t tat)
{
    sqlite3_stmt *st = lazy(sl, &sl->put, PUT_SQL);
    return st &&
           sqlite3_bind_blob(st, 1, k, KEY_BYTES, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_int64(st, 2, (sqlite3_int64)tat) == SQLITE_OK &&
           run(st);
}

static bool purge(rg__sqlite_limits *sl, uint64_t now)
{
    sqlite3_stmt *st = lazy(sl, &sl->purge, PURGE_SQL);
    return st && sqlite3_bind_int64(st, 1, (sqlite3_int64)now) == SQLITE_OK &&
           sqlite3_bind_int(st, 2, PURGE_LIMIT) == SQLITE_OK && run(st);
}

int rg__sqlite_limits_take(rg__sqlite_limits *sl, const char *name,
                           size_t name_len, const void *key, size_t key_len,
                           const rg__gcra *g, uint64_t now, uint32_t cost,
                           rg_limit_result *out)
{
    /* SQLite integers are signed 64-bit; TATs run up to now + tau. */
    if (now > (uint64_t)INT64_MAX - g->tolerance_ns)
        return RG_EINVAL;
    if (!lazy(sl, &sl->begin, "BEGIN IMMEDIATE") ||
        !lazy(sl, &sl->commit, "COMMIT") ||
        !lazy(sl, &sl->rollback, "ROLLBACK"))
        return RG_ESTORE;
    if (!run(sl->begin))
        return RG_ESTORE;

    uint8_t k[KEY_BYTES];
    uint64_t tat = 0;
    bool had_secret = sl->have_secret;
    bool ok = load_secret(sl);
    if (ok) {
        row_key(sl, name, name_len, key, key_len, k);
        ok = read_tat(sl, k, &tat);
    }
    if (ok && rg__gcra_take(g, &tat, now, cost, out))
        ok = write_tat(sl, k, tat);
    if (ok && sl->takes++ % PURGE_EVERY == 0)
        ok = purge(sl, now);
    if (ok && run(sl->commit))
        return RG_OK;
    run(sl->rollback);
    /* A secret this transaction made is rolled back with it (a full disk,
     * say): kept, it would key every later row of this handle with a
     * secret the file never holds, and the next handle would make
     * another and find none of those rows, setting their keys free. */
    if (!had_secret && sl->have_secret) {
        sodium_memzero(sl->secret, sizeof sl->secret);
        sl->have_secret = false;
    }
    return RG_ESTORE;
}
