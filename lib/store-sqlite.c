/*
 * The sqlite: store: spent nonces and a spam model (store-sqlite-bayes.c)
 * in a SQLite file, for every process on one machine (the CLI runs as a new
 * process per verification) and across restarts.
 *
 * - WAL mode, so readers never block the writer and each spend is one
 *   short write transaction. The WAL is persistent (PATH-wal and
 *   PATH-shm stay when the last connection closes) and cut to nothing
 *   after each checkpoint (journal_size_limit=0, so the next opener has
 *   no old frames to read): creating both files on every open and
 *   deleting them on every close took a tenth of a short CLI run.
 * - synchronous=NORMAL, not FULL. In WAL mode NORMAL loses nothing when a
 *   process crashes and never corrupts the file; only an OS crash or power
 *   cut can roll back the last few commits. For a replay guard that means
 *   a token spent just before a power cut might be accepted once more
 *   within its lifetime (20 minutes by default): a single extra guess. FULL
 *   would pay an fsync on every verification to close that window, which
 *   is not worth it here. For the spam model, the same crash loses at
 *   most the last trainings, and never half of one.
 * - busy_timeout of 5 s: other processes hold the write lock for one
 *   upsert, or for one training batch (a few milliseconds per thousand
 *   tokens), so waiting beats failing. Readers of the model never wait.
 * - One connection per handle, used under a mutex, with its statements
 *   prepared once. A handle must not be used in a child after fork(); the
 *   child opens its own.
 * - Every SQLite failure is RG_ESTORE; nothing here aborts.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "export-private.h"
#include "store-bayes-private.h"
#include "store-sqlite-limit.h"

/* The schema this code writes and reads, kept in PRAGMA user_version. */
#define SCHEMA_VERSION 5
#define STR_(x)        #x
#define STR(x)         STR_(x)

/* Expired rows are deleted on the first spend of each handle (so short-lived
 * CLI processes clean up too) and then every PURGE_EVERY spends, at most
 * PURGE_LIMIT rows at a time so one spend never pays for a long backlog. */
#define PURGE_EVERY 256u
#define PURGE_LIMIT 1024

#define BUSY_TIMEOUT_MS 5000
#define WAL_RETRY_MS    5

struct sqlite_store {
    rg_store base;
    pthread_mutex_t lock;
    sqlite3 *db;
    sqlite3_stmt *spend; /* the upsert */
    sqlite3_stmt *purge; /* the bounded delete of expired rows */
    uint32_t spends;     /* spends so far, for the purge schedule */
    rg__sqlite_model *model;
    rg__sqlite_limits *limits;
};

/*
 * Inserts the nonce, or replaces a row of the same nonce that has expired
 * (expires_at < now); a live row is left alone. sqlite3_changes() then
 * tells which happened: 1 for fresh, 0 for already spent. One statement,
 * so the check and the write are atomic across processes.
 *
 * A nonce spent until before the horizon (the latest expires_at of a row
 * ever deleted, plus one: see version 5 below) is not inserted either: it
 * counts as spent. Such a row was deleted because a clock said it had
 * expired, and a nonce that is live now yet expires no later was live
 * again only because the clock went back; it may be the very one deleted.
 * With a clock that never goes back, every deleted row expired before
 * now, so no live nonce is ever refused this way. A nonce spent until a
 * moment already past is inserted as before: it protects nothing either
 * way.
 */
static const char SPEND_SQL[] =
    "INSERT INTO spent(nonce, expires_at) SELECT ?1, ?2 "
    "WHERE ?2 < ?3 OR ?2 >= (SELECT horizon FROM spent_horizon WHERE id = 0) "
    "ON CONFLICT(nonce) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE spent.expires_at < ?3";

static const char PURGE_SQL[] =
    "DELETE FROM spent WHERE nonce IN (SELECT nonce FROM spent "
    "WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)";

/*
 * The schema, as the steps that take a file from each version to the next:
 * MIGRATIONS[v] takes version v to v + 1. A new file runs them all; a file
 * of an older version runs the rest, in the same transaction that bumps
 * user_version, so that a file is always wholly at one version.
 *
 * Version 1, the replay guard: the index on expires_at keeps the purge a
 * short index walk instead of a scan of the whole table under the write
 * lock.
 *
 * Version 2, the spam model (see store-sqlite-bayes.c): the CHECKs keep
 * counts in the range the code reads back and forbid the 0, 0 rows that
 * bayes_apply deletes.
 *
 * Version 3, the key of the model image written next to the file (see
 * store-sqlite-bayes.c): one row at most.
 *
 * Version 4, the rate limiter (see store-sqlite-limit.c): a row per key
 * inside its burst, known by a 16-byte keyed hash; the index on tat keeps
 * the purge of rested keys short; the secret of the hash, one row.
 *
 * Version 5, the replay guard's horizon: one row, the latest expires_at
 * of a spent row ever deleted, plus one (0 in a new file, and in a file
 * from before, which kept no count). The trigger keeps it for every
 * DELETE, the purge's or anyone's, in the deleting transaction. See
 * SPEND_SQL for why.
 *
 * CREATE TABLE without IF NOT EXISTS: a table of one of these names in a
 * file of a lower version belongs to someone else, and the open fails
 * without touching the file.
 */
static const char *const MIGRATIONS[SCHEMA_VERSION] = {
    "CREATE TABLE spent("
    "nonce BLOB PRIMARY KEY NOT NULL, "
    "expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX spent_expires ON spent(expires_at);",

    "CREATE TABLE bayes_tokens("
    "token BLOB PRIMARY KEY NOT NULL, "
    "spam INTEGER NOT NULL CHECK (spam BETWEEN 0 AND 4294967295), "
    "ham INTEGER NOT NULL CHECK (ham BETWEEN 0 AND 4294967295), "
    "CHECK (spam > 0 OR ham > 0)) WITHOUT ROWID;"
    "CREATE TABLE bayes_totals("
    "id INTEGER PRIMARY KEY CHECK (id = 0), "
    "spam INTEGER NOT NULL CHECK (spam >= 0), "
    "ham INTEGER NOT NULL CHECK (ham >= 0), "
    "tokens INTEGER NOT NULL CHECK (tokens >= 0), "
    "spam_words INTEGER NOT NULL CHECK (spam_words >= 0), "
    "ham_words INTEGER NOT NULL CHECK (ham_words >= 0));"
    "INSERT INTO bayes_totals(id, spam, ham, tokens, spam_words, ham_words) "
    "VALUES(0, 0, 0, 0, 0, 0);",

    "CREATE TABLE bayes_image("
    "id INTEGER PRIMARY KEY CHECK (id = 0), "
    "tag BLOB NOT NULL CHECK (length(tag) = 16));",

    "CREATE TABLE limits("
    "key BLOB PRIMARY KEY NOT NULL CHECK (length(key) = 16), "
    "tat INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX limits_tat ON limits(tat);"
    "CREATE TABLE limit_secret("
    "id INTEGER PRIMARY KEY CHECK (id = 0), "
    "secret BLOB NOT NULL CHECK (length(secret) = 32));",

    "CREATE TABLE spent_horizon("
    "id INTEGER PRIMARY KEY CHECK (id = 0), "
    "horizon INTEGER NOT NULL CHECK (horizon >= 0));"
    "INSERT INTO spent_horizon(id, horizon) VALUES(0, 0);"
    "CREATE TRIGGER spent_forget AFTER DELETE ON spent BEGIN "
    "UPDATE spent_horizon SET horizon = "
    "max(horizon, min(OLD.expires_at, 9223372036854775806) + 1) "
    "WHERE id = 0; END;",
};

/* Runs one statement that returns a single integer, such as a PRAGMA. */
static bool query_int(sqlite3 *db, const char *sql, sqlite3_int64 *out)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    *out = sqlite3_column_int64(st, 0);
    ok = true;
out:
    sqlite3_finalize(st);
    return ok;
}

/*
 * True when the file is a database that is not replyguard's: a
 * user_version other than one of ours, or version 0 (a new file) with
 * tables in it, which are another program's. A mistyped URL must not
 * alter someone else's data. A file that cannot be read now (not a
 * database, or busy while another process creates it) is not known to be
 * foreign: set_wal() and setup_schema() decide about it.
 */
static bool foreign_file(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    bool foreign = false;

    /* One statement, so one read: another process that creates the file
     * meanwhile commits its tables and its version together. */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT user_version FROM "
                           "pragma_user_version), count(*) FROM sqlite_master",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 version = sqlite3_column_int64(st, 0);
        sqlite3_int64 objects = sqlite3_column_int64(st, 1);
        foreign = version < 0 || version > SCHEMA_VERSION ||
                  (version == 0 && objects != 0);
    }
    sqlite3_finalize(st);
    return foreign;
}

/*
 * Switches the file to WAL and checks that it took: SQLite answers with the
 * mode in force, which stays the old one when the switch is impossible.
 *
 * The mode is kept in the file, so this changes something only on the first
 * open of a new file. When several processes open a new file at once, the
 * switch can fail with SQLITE_BUSY at once, without calling the busy
 * handler (SQLite declines to wait there, to avoid a deadlock between
 * connections upgrading their locks). Resetting the statement lets go of
 * this connection's lock, so a retry after a short sleep succeeds; the
 * retries stop at the busy timeout like every other wait.
 */
static bool set_wal(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    struct timespec start, now;
    bool ok = false;
    int rc;

    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) !=
        SQLITE_OK)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((rc = sqlite3_step(st)) == SQLITE_BUSY) {
        sqlite3_reset(st);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 +
                (now.tv_nsec - start.tv_nsec) / 1000000 >=
            BUSY_TIMEOUT_MS)
            goto out;
        sqlite3_sleep(WAL_RETRY_MS);
    }
    if (rc != SQLITE_ROW)
        goto out;
    const unsigned char *mode = sqlite3_column_text(st, 0);
    ok = mode && strcmp((const char *)mode, "wal") == 0;
out:
    sqlite3_finalize(st);
    return ok;
}

/*
 * Creates the schema in a new file, brings an older file up to date, or
 * checks the version of a current one.
 *
 * A current file, the common case, needs only a read, and in WAL mode a
 * read waits for no writer: opening a store (as every CLI run does) does
 * not stall behind another process's long training transaction. Otherwise
 * BEGIN IMMEDIATE takes the write lock before user_version is read again,
 * so two processes opening a new file at once do not both create it.
 */
static bool setup_schema(sqlite3 *db)
{
    sqlite3_int64 version = -1;

    if (!query_int(db, "PRAGMA user_version", &version))
        return false;
    if (version == SCHEMA_VERSION)
        return true;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return false;
    if (!query_int(db, "PRAGMA user_version", &version))
        goto fail;
    if (version < 0 || version > SCHEMA_VERSION) {
        /* A newer (or foreign) layout: leave it untouched. */
        goto fail;
    }
    /* Version 0 with tables: another program's database (foreign_file()
     * saw it already, unless the file was busy then). */
    sqlite3_int64 objects = -1;
    if (version == 0 &&
        (!query_int(db, "SELECT count(*) FROM sqlite_master", &objects) ||
         objects != 0))
        goto fail;
    if (version < SCHEMA_VERSION) {
        for (sqlite3_int64 v = version; v < SCHEMA_VERSION; v++)
            if (sqlite3_exec(db, MIGRATIONS[v], NULL, NULL, NULL) != SQLITE_OK)
                goto fail;
        if (sqlite3_exec(db, "PRAGMA user_version = " STR(SCHEMA_VERSION), NULL,
                         NULL, NULL) != SQLITE_OK)
            goto fail;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return true;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

/*
 * Creates the file with mode 0600 if it is missing: SQLite itself would use
 * 0644 less the umask, and the list of spent tokens is nobody else's
 * business. SQLite gives the -wal and -shm files the mode of the database.
 * An existing file keeps its mode, but must be a regular file (a FIFO or
 * device would make SQLite block or misbehave).
 */
static bool create_file(const char *path)
{
    struct stat st;
    int fd =
        open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0)
        return false;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return ok;
}

static bool prepare_stmt(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                              NULL) == SQLITE_OK;
}

static int sqlite_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                        uint64_t expires_at, uint64_t now, bool *fresh)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    int rc = RG_ESTORE;

    *fresh = false;
    /* SQLite integers are signed 64-bit. */
    if (expires_at > INT64_MAX || now > INT64_MAX)
        return RG_EINVAL;

    pthread_mutex_lock(&q->lock);
    if ((!q->spend && !prepare_stmt(q->db, SPEND_SQL, &q->spend)) ||
        (!q->purge && !prepare_stmt(q->db, PURGE_SQL, &q->purge)))
        goto out;
    if (q->spends++ % PURGE_EVERY == 0) {
        /* Before the upsert, so a failure here leaves the nonce unspent and
         * the RG_ESTORE that follows is the whole truth. */
        int step;
        sqlite3_bind_int64(q->purge, 1, (sqlite3_int64)now);
        sqlite3_bind_int(q->purge, 2, PURGE_LIMIT);
        step = sqlite3_step(q->purge);
        sqlite3_reset(q->purge);
        if (step != SQLITE_DONE)
            goto out;
    }

    if (sqlite3_bind_blob(q->spend, 1, nonce, RG__NONCE_BYTES, SQLITE_STATIC) !=
            SQLITE_OK ||
        sqlite3_bind_int64(q->spend, 2, (sqlite3_int64)expires_at) !=
            SQLITE_OK ||
        sqlite3_bind_int64(q->spend, 3, (sqlite3_int64)now) != SQLITE_OK)
        goto out;
    if (sqlite3_step(q->spend) != SQLITE_DONE)
        goto out;
    *fresh = sqlite3_changes(q->db) > 0;
    rc = RG_OK;
out:
    if (q->spend) {
        sqlite3_reset(q->spend);
        /* The nonce was bound without a copy: unbind it before it goes. */
        sqlite3_clear_bindings(q->spend);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_bayes_lookup(rg_store *s, const rg__token_set *ts,
                               rg__counts *counts, rg__totals *totals)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_model_lookup(q->model, ts, counts, totals);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_bayes_apply(rg_store *s, const rg__token_set *ts,
                              const rg__delta *delta, rg__totals_delta totals)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_model_apply(q->model, ts, delta, totals);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_bayes_stats(rg_store *s, rg_bayes_stats *out)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_model_stats(q->model, out);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_bayes_optimize(rg_store *s)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_model_optimize(q->model);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_bayes_preload(rg_store *s)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_model_preload(q->model);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_limit_take(rg_store *s, const char *name, size_t name_len,
                             const void *key, size_t key_len, const rg__gcra *g,
                             uint64_t now, uint32_t cost, rg_limit_result *out)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_limits_take(q->limits, name, name_len, key, key_len, g,
                                    now, cost, out);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static int sqlite_bayes_export(rg_store *s, const rg__model_visitor *v)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    pthread_mutex_lock(&q->lock);
    int rc = rg__sqlite_model_export(q->model, v);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

/*
 * The live rows, by the primary key's order: one SELECT, which is one
 * read transaction of its own. Statements of these rare walks are
 * prepared for the call alone, like the model's export.
 */
static int sqlite_nonce_export(rg_store *s, uint64_t now,
                               const rg__nonce_visitor *v)
{
    static const char sql[] = "SELECT nonce, expires_at FROM spent "
                              "WHERE expires_at >= ?1 ORDER BY nonce";
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    int rc = RG_ESTORE;
    int step = SQLITE_DONE;

    if (now > INT64_MAX)
        return RG_EINVAL;
    pthread_mutex_lock(&q->lock);
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, (sqlite3_int64)now) != SQLITE_OK)
        goto out;
    rc = RG_OK;
    while (rc == RG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 expires_at = sqlite3_column_int64(st, 1);
        if (sqlite3_column_bytes(st, 0) != RG__NONCE_BYTES || expires_at < 0) {
            rc = RG_ESTORE;
            break;
        }
        rc = v->nonce(v->arg, sqlite3_column_blob(st, 0), (uint64_t)expires_at);
    }
    if (rc == RG_OK && step != SQLITE_DONE)
        rc = RG_ESTORE;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

/* One integer from a statement with an optional parameter; false on
 * failure. */
static bool count_rows(sqlite3 *db, const char *sql, bool bind_now,
                       uint64_t now, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
              (!bind_now ||
               sqlite3_bind_int64(st, 1, (sqlite3_int64)now) == SQLITE_OK) &&
              sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ok;
}

/*
 * PRAGMA quick_check(1): the checks of integrity_check but those that
 * cost an index lookup per row, in one pass over the file, and at most
 * one complaint; "ok" when it finds none. Then what the file holds.
 */
static int sqlite_health(rg_store *s, uint64_t now, rg__store_health *out)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    int rc = RG_ESTORE;

    if (now > INT64_MAX)
        return RG_EINVAL;
    pthread_mutex_lock(&q->lock);
    if (sqlite3_prepare_v2(q->db, "PRAGMA quick_check(1)", -1, &st, NULL) !=
        SQLITE_OK)
        goto out;
    /* A file damaged enough makes the check itself fail: that is its
     * finding, not a failure to check. */
    const char *said = sqlite3_step(st) == SQLITE_ROW
                           ? (const char *)sqlite3_column_text(st, 0)
                           : sqlite3_errmsg(q->db);
    out->checked = true;
    out->ok = said && strcmp(said, "ok") == 0;
    /* The check names the schema before its first complaint. */
    static const char schema[] = "*** in database main ***\n";
    if (said && strncmp(said, schema, sizeof schema - 1) == 0)
        said += sizeof schema - 1;
    if (!out->ok)
        snprintf(out->detail, sizeof out->detail, "%s",
                 said ? said : "no answer");
    /* The counts of a damaged file may fail too; then they are unknown. */
    if (!count_rows(q->db, "SELECT count(*) FROM spent WHERE expires_at >= ?1",
                    true, now, &out->nonces))
        out->nonces = -1;
    if (!count_rows(q->db, "SELECT count(*) FROM limits", false, 0,
                    &out->limit_keys))
        out->limit_keys = -1;
    /* A sound file answers them: one that does not, failed. */
    rc = RG_OK;
    if (out->ok && (out->nonces < 0 || out->limit_keys < 0))
        rc = RG_ESTORE;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static void sqlite_close(rg_store *s)
{
    struct sqlite_store *q = (struct sqlite_store *)s;

    rg__sqlite_limits_close(q->limits);
    rg__sqlite_model_close(q->model);
    sqlite3_finalize(q->spend);
    sqlite3_finalize(q->purge);
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static const struct rg_store_ops sqlite_ops = {
    .scheme = "sqlite",
    .spend = sqlite_spend,
    .bayes_lookup = sqlite_bayes_lookup,
    .bayes_apply = sqlite_bayes_apply,
    .bayes_stats = sqlite_bayes_stats,
    .bayes_optimize = sqlite_bayes_optimize,
    .bayes_preload = sqlite_bayes_preload,
    .limit_take = sqlite_limit_take,
    .bayes_export = sqlite_bayes_export,
    .nonce_export = sqlite_nonce_export,
    .health = sqlite_health,
    .close = sqlite_close,
};

/*
 * Opens the connection and readies the file: busy timeout first, so every
 * later step waits for other processes instead of failing at once.
 */
static bool open_db(struct sqlite_store *q, const char *path)
{
    /* SQLITE_OPEN_NOMUTEX: the handle's own mutex already serialises every
     * use of the connection. No SQLITE_OPEN_CREATE: create_file() made it. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK)
        return false;
    /* Refuse the schema tricks that could corrupt the file. */
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    int persist_wal = 1;
    sqlite3_file_control(q->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
    if (sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS) != SQLITE_OK)
        return false;
    /* The first statements read the file: a file that is not a database,
     * or another program's, fails here, before anything is written to it
     * (set_wal() would switch its journal mode for good). */
    if (foreign_file(q->db) || !set_wal(q->db))
        return false;
    if (sqlite3_exec(q->db,
                     "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=0",
                     NULL, NULL, NULL) != SQLITE_OK)
        return false;
    if (!setup_schema(q->db))
        return false;
    /* The replay guard's statements wait for its first spend: a handle of
     * the spam filter never needs them. */
    if (!(q->limits = rg__sqlite_limits_new(q->db)))
        return false;
    return rg__sqlite_model_open(&q->model, q->db) == RG_OK;
}

int rg__store_sqlite_open(rg_store **out, const char *path)
{
    struct sqlite_store *q;

    if (!out)
        return RG_EINVAL;
    *out = NULL;
    if (!path || !*path)
        return RG_EINVAL;

    q = calloc(1, sizeof *q);
    if (!q)
        return RG_ENOMEM;
    q->base.ops = &sqlite_ops;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return RG_ENOMEM;
    }
    if (!create_file(path) || !open_db(q, path)) {
        /* sqlite_close() copes with whatever open_db() got to: finalizing
         * or closing NULL is a no-op in SQLite. */
        sqlite_close(&q->base);
        return RG_ESTORE;
    }
    *out = &q->base;
    return RG_OK;
}
