/*
 * The spam model of sqlite:, in two tables of the store's file (created by
 * store-sqlite.c, schema version 2):
 *
 *   bayes_tokens(token BLOB PRIMARY KEY, spam, ham) WITHOUT ROWID
 *   bayes_totals(id 0, spam, ham, tokens, spam_words, ham_words): one row,
 *   the learned comments, the number of rows of bayes_tokens (so stats
 *   never count rows) and the words learned per class (see rg__totals).
 *
 *   bayes_image(id 0, tag): at most one row, the key of the model image
 *   (model-image.h) of the two tables above that rg__sqlite_model_optimize()
 *   wrote next to the file, as PATH-image. Every training deletes the row
 *   in its own transaction, so an image whose key the file names is exact;
 *   any other image file (an older one, or one whose optimize did not
 *   commit) is ignored.
 *
 * A token whose counts are 0, 0 has no row. Training is one transaction
 * per bayes_apply (BEGIN IMMEDIATE: read, check, write, COMMIT), so a
 * process killed at any moment leaves the model as of its last commit, and
 * with WAL other processes keep reading the last committed state while it
 * trains.
 *
 * Classification must not pay a query per token each time, so each handle
 * keeps a cache: a count map of the tokens it has seen, negative entries
 * (0, 0) for tokens the file lacks, and the totals. It is the file's state
 * as of one value of PRAGMA data_version, which changes when another
 * connection (in this process or any other) commits. Every operation
 * starts a transaction and reads data_version first: while it is
 * unchanged, the cache is exact and a lookup of cached tokens reads
 * nothing else; when it changes, the cache is dropped. Our own commits do
 * not change data_version, so bayes_apply writes its results into the
 * cache. The cache holds at most CACHE_MAX tokens and is emptied when full:
 * a simple policy that costs one cold lookup per hot token afterwards.
 *
 * A handle about to look up many tokens it has not cached (a batch on a
 * fresh handle: the CLI classifying a file) reads the whole model at once
 * instead: the image when the file names one, a single read of about 21
 * bytes a token (a millisecond or less for 50,000 tokens), or else a scan
 * of the token table, some twenty times slower. While the handle holds an
 * image, lookups go to it alone: like the cache, it is exact as of
 * `version`, and the handle's own training drops it.
 *
 * The caller (store-sqlite.c) serialises every call on a handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "export-private.h"
#include "model-image.h"
#include "store-bayes-private.h"

/* About 40 MB of cache per handle at most, for tokens of 8 to 12 bytes. */
#define CACHE_MAX (1u << 20)

struct rg__sqlite_model {
    sqlite3 *db;
    sqlite3_stmt *begin, *begin_write, *commit, *rollback, *data_version;
    sqlite3_stmt *get, *put, *del, *get_totals, *put_totals;
    rg__count_map cache; /* as of `version`; 0, 0 for absent tokens */
    bool have_totals;    /* totals and tokens hold as of `version` */
    bool complete;       /* the cache holds every token of the file */
    sqlite3_stmt *scan;
    sqlite3_stmt *image_tag, *put_image, *del_image;
    char *image_path;       /* PATH-image, or NULL for a file without a path */
    rg__model_image *image; /* the file's image as of `version`, or NULL */
    unsigned char *missed;  /* lookup scratch: token i not in the cache */
    size_t missed_room;
    bool image_tried; /* the file has none, or not a usable one */
    rg__totals totals;
    uint64_t tokens;
    bool have_version;
    sqlite3_int64 version;
};

static const char GET_SQL[] =
    "SELECT spam, ham FROM bayes_tokens WHERE token = ?1";
static const char PUT_SQL[] =
    "INSERT INTO bayes_tokens(token, spam, ham) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(token) DO UPDATE SET spam = excluded.spam, "
    "ham = excluded.ham";
static const char DEL_SQL[] = "DELETE FROM bayes_tokens WHERE token = ?1";
static const char SCAN_SQL[] = "SELECT token, spam, ham FROM bayes_tokens";
static const char IMAGE_TAG_SQL[] = "SELECT tag FROM bayes_image WHERE id = 0";
static const char PUT_IMAGE_SQL[] =
    "INSERT INTO bayes_image(id, tag) VALUES(0, ?1)";
static const char DEL_IMAGE_SQL[] = "DELETE FROM bayes_image";

/*
 * A cold point query costs about as much as reading ten rows in a scan.
 * When a lookup misses at least a tenth as many tokens as the file holds
 * (a batch of comments on a fresh handle, say), reading the whole table
 * into the cache is the cheaper way, and later misses need no query.
 */
#define SCAN_RATIO 10
/* Reading an image costs about as much as point queries for one token in
 * 150 of it: it pays off for far smaller batches than a scan. */
#define IMAGE_RATIO 150
/* Builds of an image tried before giving up (see optimize). */
#define IMAGE_ATTEMPTS 4
static const char GET_TOTALS_SQL[] =
    "SELECT spam, ham, tokens, spam_words, ham_words FROM bayes_totals "
    "WHERE id = 0";
static const char PUT_TOTALS_SQL[] =
    "UPDATE bayes_totals SET spam = ?1, ham = ?2, tokens = ?3, "
    "spam_words = ?4, ham_words = ?5 WHERE id = 0";

static bool is_zero(rg__counts c)
{
    return c.spam == 0 && c.ham == 0;
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);

/*
 * A statement prepared on its first use, or NULL when it cannot be. Only
 * those every transaction needs are prepared when the model is opened: a
 * command that classifies a file with the model image needs none of the
 * others, and preparing them all took a third of its opening.
 */
static sqlite3_stmt *lazy(rg__sqlite_model *sm, sqlite3_stmt **st,
                          const char *sql)
{
    if (!*st && !prepare(sm->db, sql, st))
        *st = NULL;
    return *st;
}

/* Steps a statement that returns no rows, and resets it. False for a
 * statement that could not be prepared (NULL). */
static bool run(sqlite3_stmt *st)
{
    if (!st)
        return false;
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

static void drop_image(rg__sqlite_model *sm)
{
    rg__model_image_free(sm->image);
    sm->image = NULL;
    sm->image_tried = false;
}

static void forget(rg__sqlite_model *sm)
{
    rg__count_map_clear(&sm->cache);
    sm->have_totals = false;
    sm->complete = false;
    drop_image(sm);
}

/*
 * Ends the transaction: commits when asked, and rolls back when asked or
 * when the commit fails. True when the commit went through.
 */
static bool end_txn(rg__sqlite_model *sm, bool commit)
{
    if (commit && run(sm->commit))
        return true;
    if (!sqlite3_get_autocommit(sm->db))
        run(sm->rollback);
    return false;
}

/*
 * Reads data_version, which also starts the read transaction of the
 * enclosing BEGIN, and drops the cache when another connection has
 * committed since the cache was filled.
 */
static bool sync_version(rg__sqlite_model *sm)
{
    if (sqlite3_step(sm->data_version) != SQLITE_ROW) {
        sqlite3_reset(sm->data_version);
        return false;
    }
    sqlite3_int64 v = sqlite3_column_int64(sm->data_version, 0);
    sqlite3_reset(sm->data_version);
    if (!sm->have_version || v != sm->version) {
        forget(sm);
        sm->version = v;
        sm->have_version = true;
    }
    return true;
}

static bool read_totals(rg__sqlite_model *sm)
{
    sqlite3_stmt *st = sm->get_totals;
    bool ok = false;

    if (sm->have_totals)
        return true;
    if (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 spam = sqlite3_column_int64(st, 0);
        sqlite3_int64 ham = sqlite3_column_int64(st, 1);
        sqlite3_int64 tokens = sqlite3_column_int64(st, 2);
        sqlite3_int64 spam_words = sqlite3_column_int64(st, 3);
        sqlite3_int64 ham_words = sqlite3_column_int64(st, 4);
        if (spam >= 0 && ham >= 0 && tokens >= 0 && spam_words >= 0 &&
            ham_words >= 0) {
            sm->totals.spam = (uint64_t)spam;
            sm->totals.ham = (uint64_t)ham;
            sm->totals.spam_words = (uint64_t)spam_words;
            sm->totals.ham_words = (uint64_t)ham_words;
            sm->tokens = (uint64_t)tokens;
            sm->have_totals = ok = true;
        }
    }
    sqlite3_reset(st);
    return ok;
}

/*
 * The counts of a token in the file: 1 with *out when it has a row, 0
 * (and 0, 0) when not, -1 on failure or a row that breaks the schema's
 * rules.
 */
static int read_token(rg__sqlite_model *sm, const char *tok, size_t len,
                      rg__counts *out)
{
    sqlite3_stmt *st = lazy(sm, &sm->get, GET_SQL);
    int found = -1;

    if (!st)
        return -1;
    if (sqlite3_bind_blob(st, 1, tok, (int)len, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        *out = (rg__counts){0, 0};
        found = 0;
    } else if (step == SQLITE_ROW) {
        sqlite3_int64 spam = sqlite3_column_int64(st, 0);
        sqlite3_int64 ham = sqlite3_column_int64(st, 1);
        if (spam >= 0 && spam <= UINT32_MAX && ham >= 0 && ham <= UINT32_MAX &&
            (spam > 0 || ham > 0)) {
            *out = (rg__counts){(uint32_t)spam, (uint32_t)ham};
            found = 1;
        }
    }
out:
    sqlite3_reset(st);
    /* The token was bound without a copy: unbind it before it goes. */
    sqlite3_clear_bindings(st);
    return found;
}

/*
 * Puts a token's counts in the cache. A full cache is emptied first; when
 * memory runs out the token is simply not cached, which costs speed but
 * never correctness, since an uncached token is read from the file.
 */
static void remember(rg__sqlite_model *sm, uint64_t hash, const char *tok,
                     size_t len, rg__counts counts)
{
    rg__count_map *c = &sm->cache;

    if (rg__count_map_put(c, hash, tok, len, counts))
        return;
    if (c->count >= c->max_entries) {
        rg__count_map_clear(c);
        sm->complete = false;
    }
    if (rg__count_map_reserve(c, c->count + 1, len + 1) == RG_OK)
        rg__count_map_put(c, hash, tok, len, counts);
}

/* The counts of a token, from the cache or else from the file: as
 * read_token(). */
static int counts_of(rg__sqlite_model *sm, uint64_t hash, const char *tok,
                     size_t len, rg__counts *out)
{
    if (rg__count_map_get(&sm->cache, hash, tok, len, out))
        return !is_zero(*out);
    if (sm->image) {
        *out = rg__model_image_get(sm->image, tok, len);
        return !is_zero(*out);
    }
    if (sm->complete) {
        *out = (rg__counts){0, 0};
        return 0;
    }
    int found = read_token(sm, tok, len, out);
    if (found >= 0)
        remember(sm, hash, tok, len, *out);
    return found;
}

/*
 * Reads every row into the cache (inside the caller's transaction). False
 * on failure, after which the cache is as good as before, just not
 * complete.
 */
static bool scan_all(rg__sqlite_model *sm)
{
    sqlite3_stmt *st = lazy(sm, &sm->scan, SCAN_SQL);
    rg__count_map *c = &sm->cache;
    int step;

    if (!st)
        return false;
    bool ok = rg__count_map_reserve(c, (size_t)sm->tokens, 0) == RG_OK;

    while (ok && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *tok = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        sqlite3_int64 spam = sqlite3_column_int64(st, 1);
        sqlite3_int64 ham = sqlite3_column_int64(st, 2);
        if (len <= 0 || len > RG__TOKEN_LEN_MAX || spam < 0 ||
            spam > UINT32_MAX || ham < 0 || ham > UINT32_MAX ||
            (spam == 0 && ham == 0)) {
            ok = false;
            break;
        }
        rg__counts counts = {(uint32_t)spam, (uint32_t)ham};
        uint64_t h = rg__token_hash(tok, (size_t)len);
        if (!rg__count_map_put(c, h, tok, (size_t)len, counts) &&
            (rg__count_map_reserve(c, c->count + 1, (size_t)len + 1) != RG_OK ||
             !rg__count_map_put(c, h, tok, (size_t)len, counts)))
            ok = false;
    }
    ok = ok && step == SQLITE_DONE;
    sqlite3_reset(st);
    sm->complete = ok;
    return ok;
}

/*
 * Reads the file's image (inside the caller's transaction) when it has a
 * well-formed one that agrees with the totals. True when sm->image is set;
 * otherwise the handle does not try again until the file changes.
 */
static bool load_image(rg__sqlite_model *sm)
{
    sqlite3_stmt *st = lazy(sm, &sm->image_tag, IMAGE_TAG_SQL);
    unsigned char key[RG__IMAGE_KEY_BYTES];
    bool have_key = false;

    sm->image_tried = true;
    if (!sm->image_path || !st)
        return false;
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_bytes(st, 0) == (int)sizeof key) {
        memcpy(key, sqlite3_column_blob(st, 0), sizeof key);
        have_key = true;
    }
    sqlite3_reset(st);
    rg__model_image *im =
        have_key ? rg__model_image_read(sm->image_path, key) : NULL;
    if (!im)
        return false;
    rg__totals t;
    uint64_t tokens;
    rg__model_image_totals(im, &t, &tokens);
    if (t.spam != sm->totals.spam || t.ham != sm->totals.ham ||
        t.spam_words != sm->totals.spam_words ||
        t.ham_words != sm->totals.ham_words || tokens != sm->tokens) {
        rg__model_image_free(im);
        return false;
    }
    sm->image = im;
    return true;
}

/*
 * Before the lookup of tokens the cache lacks (`misses` of them): reads
 * the whole model when that beats querying them (see SCAN_RATIO and
 * IMAGE_RATIO), from the image if the file has one, else by a scan. A
 * failed read leaves the cache usable: lookups fall back on point queries.
 */
static void read_all_if_worth_it(rg__sqlite_model *sm, uint64_t misses)
{
    if (sm->complete || sm->image || misses == 0)
        return;
    if (!sm->image_tried && misses * IMAGE_RATIO >= sm->tokens &&
        load_image(sm))
        return;
    if (sm->tokens < CACHE_MAX && misses * SCAN_RATIO >= sm->tokens)
        scan_all(sm);
}

int rg__sqlite_model_lookup(rg__sqlite_model *sm, const rg__token_set *ts,
                            rg__counts *counts, rg__totals *totals)
{
    int rc = RG_ESTORE;

    /* A deferred BEGIN: a reader in WAL mode takes no lock that a writer
     * waits for, and sees one snapshot throughout. */
    if (!run(sm->begin))
        return RG_ESTORE;
    if (!sync_version(sm) || !read_totals(sm))
        goto out;
    /* One pass over the cache: the hits are answered, the misses marked
     * for what reads the file. */
    if (!rg__grow(&sm->missed, &sm->missed_room, ts->count, 1, 256, false)) {
        rc = RG_ENOMEM;
        goto out;
    }
    uint64_t misses = 0;
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *tok = rg__token_set_get(ts, i, &len);
        bool hit = rg__count_map_get(&sm->cache, rg__token_set_hash(ts, i), tok,
                                     len, &counts[i]);
        sm->missed[i] = !hit;
        misses += !hit;
    }
    read_all_if_worth_it(sm, misses);
    if (sm->image) {
        /* Exact as of this version, like the cache, and whole. */
        rg__model_image_lookup(sm->image, ts, counts);
    } else if (misses > 0) {
        for (size_t i = 0; i < ts->count; i++) {
            if (!sm->missed[i])
                continue;
            size_t len;
            const char *tok = rg__token_set_get(ts, i, &len);
            if (counts_of(sm, rg__token_set_hash(ts, i), tok, len, &counts[i]) <
                0)
                goto out;
        }
    }
    *totals = sm->totals;
    rc = RG_OK;
out:
    if (!end_txn(sm, rc == RG_OK) && rc == RG_OK)
        rc = RG_ESTORE;
    if (rc != RG_OK)
        forget(sm);
    return rc;
}

/* What bayes_apply does to one token, decided before anything is written.
 */
struct change {
    rg__counts old, now;
};

static bool write_token(rg__sqlite_model *sm, const char *tok, size_t len,
                        rg__counts now)
{
    sqlite3_stmt *st = is_zero(now) ? lazy(sm, &sm->del, DEL_SQL)
                                    : lazy(sm, &sm->put, PUT_SQL);
    bool ok = false;

    if (!st)
        return false;
    if (sqlite3_bind_blob(st, 1, tok, (int)len, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    if (!is_zero(now) && (sqlite3_bind_int64(st, 2, now.spam) != SQLITE_OK ||
                          sqlite3_bind_int64(st, 3, now.ham) != SQLITE_OK))
        goto out;
    ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(sm->db) == 1;
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

static bool write_totals(rg__sqlite_model *sm, rg__totals t, uint64_t tokens)
{
    sqlite3_stmt *st = lazy(sm, &sm->put_totals, PUT_TOTALS_SQL);

    if (!st)
        return false;
    if (sqlite3_bind_int64(st, 1, (sqlite3_int64)t.spam) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)t.ham) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, (sqlite3_int64)tokens) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, (sqlite3_int64)t.spam_words) != SQLITE_OK ||
        sqlite3_bind_int64(st, 5, (sqlite3_int64)t.ham_words) != SQLITE_OK) {
        sqlite3_reset(st);
        return false;
    }
    return run(st) && sqlite3_changes(sm->db) == 1;
}

/*
 * One write transaction: read every count (from the cache when it is
 * current), check them all, and only then write, so that a refusal writes
 * nothing. BEGIN IMMEDIATE takes the write lock before the reads, so no
 * other process can change a count between its check and its write.
 */
int rg__sqlite_model_apply(rg__sqlite_model *sm, const rg__token_set *ts,
                           const rg__delta *delta, rg__totals_delta totals)
{
    struct change *ch = NULL;
    rg__totals t = {0, 0, 0, 0};
    uint64_t tokens = 0;
    int rc = RG_ESTORE;

    if (ts->count > 0) {
        ch = malloc(ts->count * sizeof *ch);
        if (!ch)
            return RG_ENOMEM;
    }
    if (!run(lazy(sm, &sm->begin_write, "BEGIN IMMEDIATE")))
        goto out;
    if (!sync_version(sm) || !read_totals(sm))
        goto out;

    rc = rg__totals_add(&sm->totals, totals, &t);
    tokens = sm->tokens;
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *tok = rg__token_set_get(ts, i, &len);
        struct change *c = &ch[i];

        if (counts_of(sm, rg__token_set_hash(ts, i), tok, len, &c->old) < 0) {
            rc = RG_ESTORE;
            goto out;
        }
        /* A count that fails its check keeps its old value here. */
        c->now = c->old;
        rc = rg__apply_error(
            rc, rg__count_add(c->old.spam, delta[i].spam, &c->now.spam));
        rc = rg__apply_error(
            rc, rg__count_add(c->old.ham, delta[i].ham, &c->now.ham));
        if (is_zero(c->old) && !is_zero(c->now))
            tokens++;
        else if (!is_zero(c->old) && is_zero(c->now))
            tokens--;
    }
    if (rc != RG_OK)
        goto out;

    rc = RG_ESTORE;
    for (size_t i = 0; i < ts->count; i++) {
        size_t len;
        const char *tok = rg__token_set_get(ts, i, &len);
        if (ch[i].now.spam == ch[i].old.spam && ch[i].now.ham == ch[i].old.ham)
            continue;
        if (!write_token(sm, tok, len, ch[i].now))
            goto out;
    }
    if (!write_totals(sm, t, tokens) ||
        !run(lazy(sm, &sm->del_image, DEL_IMAGE_SQL)))
        goto out;
    rc = RG_OK;
out:
    if (!end_txn(sm, rc == RG_OK) && rc == RG_OK)
        rc = RG_ESTORE;
    if (rc == RG_OK) {
        /* Committed: the cache follows, since data_version will not tell
         * this connection about its own commit. */
        sm->totals = t;
        sm->tokens = tokens;
        sm->have_totals = true;
        drop_image(sm);
        sm->image_tried = true; /* the commit deleted it */
        for (size_t i = 0; i < ts->count; i++) {
            size_t len;
            const char *tok = rg__token_set_get(ts, i, &len);
            remember(sm, rg__token_set_hash(ts, i), tok, len, ch[i].now);
        }
    } else if (rc == RG_ESTORE) {
        /* Whether a failed COMMIT wrote anything is not known for sure:
         * read the file again next time. */
        forget(sm);
    }
    free(ch);
    return rc;
}

/*
 * Builds the image of the model and stores it in place of any older one,
 * in one write transaction, so it matches the tables it was read from.
 */
int rg__sqlite_model_optimize(rg__sqlite_model *sm)
{
    rg__image_builder *b = NULL;
    unsigned char *blob = NULL;
    size_t len = 0;
    int rc = RG_ESTORE;
    int step;

    if (!sm->image_path)
        return RG_OK; /* a file with no path of its own has no image */
    if (!run(lazy(sm, &sm->begin_write, "BEGIN IMMEDIATE")))
        return RG_ESTORE;
    sqlite3_stmt *scan = lazy(sm, &sm->scan, SCAN_SQL);
    sqlite3_stmt *put_image = lazy(sm, &sm->put_image, PUT_IMAGE_SQL);
    if (!scan || !put_image || !sync_version(sm) || !read_totals(sm))
        goto out;
    /* Two tokens with one 64-bit hash (about 1 in 10^10 for a model of
     * 50,000 tokens) make the build fail; a new random key fixes that. */
    for (int attempt = 0; attempt < IMAGE_ATTEMPTS; attempt++) {
        if ((rc = rg__image_builder_new(&b, sm->tokens)) != RG_OK)
            goto out;
        rc = RG_ESTORE;
        while ((step = sqlite3_step(scan)) == SQLITE_ROW) {
            const char *tok = sqlite3_column_blob(scan, 0);
            int n = sqlite3_column_bytes(scan, 0);
            sqlite3_int64 spam = sqlite3_column_int64(scan, 1);
            sqlite3_int64 ham = sqlite3_column_int64(scan, 2);
            if (n <= 0 || spam < 0 || spam > UINT32_MAX || ham < 0 ||
                ham > UINT32_MAX ||
                !rg__image_builder_add(
                    b, tok, (size_t)n,
                    (rg__counts){(uint32_t)spam, (uint32_t)ham}))
                break;
        }
        sqlite3_reset(scan);
        if (step == SQLITE_DONE || !rg__image_builder_collided(b))
            break;
        rg__image_builder_free(b);
        b = NULL;
    }
    if (step != SQLITE_DONE)
        goto out;
    /* A count of rows other than the totals say is a damaged file. */
    int built = rg__image_builder_finish(b, &sm->totals, &blob, &len);
    b = NULL;
    if (built != RG_OK) {
        rc = built == RG_EINVAL ? RG_ESTORE : built;
        goto out;
    }
    /* The file first, then its key in the table: if the commit fails, the
     * new file is just an image nobody names. */
    unsigned char key[RG__IMAGE_KEY_BYTES];
    rg__image_blob_key(blob, key);
    if ((rc = rg__model_image_write(sm->image_path, blob, len)) != RG_OK)
        goto out;
    rc = RG_ESTORE;
    if (!run(lazy(sm, &sm->del_image, DEL_IMAGE_SQL)) ||
        sqlite3_bind_blob(put_image, 1, key, sizeof key, SQLITE_STATIC) !=
            SQLITE_OK ||
        !run(put_image))
        goto out;
    rc = RG_OK;
out:
    if (sm->put_image)
        sqlite3_clear_bindings(sm->put_image);
    rg__image_builder_free(b);
    free(blob);
    if (!end_txn(sm, rc == RG_OK) && rc == RG_OK)
        rc = RG_ESTORE;
    /* The next batch lookup reads the new image (our own commit does not
     * change data_version); after a failure, read everything again. */
    if (rc == RG_OK) {
        drop_image(sm);
    } else {
        forget(sm);
    }
    return rc;
}

int rg__sqlite_model_preload(rg__sqlite_model *sm)
{
    if (!run(sm->begin))
        return RG_ESTORE;
    bool ok = sync_version(sm) && read_totals(sm);
    /* As a lookup that misses every token would: the image if the file
     * has a current one, else a scan if the cache can hold the model. A
     * failure of either leaves lookups as they were, so it is no error. */
    if (ok && !sm->complete && !sm->image && sm->tokens > 0 &&
        !(!sm->image_tried && load_image(sm)) && sm->tokens < CACHE_MAX)
        scan_all(sm);
    if (!end_txn(sm, ok) || !ok) {
        forget(sm);
        return RG_ESTORE;
    }
    return RG_OK;
}

int rg__sqlite_model_stats(rg__sqlite_model *sm, rg_bayes_stats *out)
{
    bool ok;

    if (!run(sm->begin))
        return RG_ESTORE;
    ok = sync_version(sm) && read_totals(sm);
    if (!end_txn(sm, ok) || !ok) {
        forget(sm);
        return RG_ESTORE;
    }
    out->spam_comments = sm->totals.spam;
    out->ham_comments = sm->totals.ham;
    out->tokens = sm->tokens;
    return RG_OK;
}

/*
 * One read transaction: the totals, then every row in the order of the
 * primary key, which is the order of export-private.h. The statement is
 * prepared for the walk alone, which is rare (an export), rather than
 * kept for the life of the handle. A row that breaks the schema's rules,
 * or a number of rows other than the totals say, is a damaged file.
 */
int rg__sqlite_model_export(rg__sqlite_model *sm, const rg__model_visitor *v)
{
    static const char sql[] =
        "SELECT token, spam, ham FROM bayes_tokens ORDER BY token";
    sqlite3_stmt *st = NULL;
    uint64_t rows = 0;
    int rc = RG_ESTORE;
    int step = SQLITE_DONE;

    if (!run(sm->begin))
        return RG_ESTORE;
    if (!sync_version(sm) || !read_totals(sm) ||
        sqlite3_prepare_v2(sm->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    rc = v->totals(v->arg, &sm->totals, sm->tokens);
    while (rc == RG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *tok = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        sqlite3_int64 spam = sqlite3_column_int64(st, 1);
        sqlite3_int64 ham = sqlite3_column_int64(st, 2);
        if (len <= 0 || len > RG__TOKEN_LEN_MAX || spam < 0 ||
            spam > UINT32_MAX || ham < 0 || ham > UINT32_MAX ||
            (spam == 0 && ham == 0)) {
            rc = RG_ESTORE;
            break;
        }
        rows++;
        rc = v->token(v->arg, tok, (size_t)len,
                      (rg__counts){(uint32_t)spam, (uint32_t)ham});
    }
    if (rc == RG_OK && (step != SQLITE_DONE || rows != sm->tokens))
        rc = RG_ESTORE;
out:
    sqlite3_finalize(st);
    if (!end_txn(sm, rc == RG_OK) && rc == RG_OK)
        rc = RG_ESTORE;
    if (rc == RG_ESTORE)
        forget(sm);
    return rc;
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                              NULL) == SQLITE_OK;
}

int rg__sqlite_model_open(rg__sqlite_model **out, sqlite3 *db)
{
    rg__sqlite_model *sm = calloc(1, sizeof *sm);

    *out = NULL;
    if (!sm)
        return RG_ENOMEM;
    sm->db = db;
    rg__count_map_init(&sm->cache, CACHE_MAX);
    const char *file = sqlite3_db_filename(db, "main");
    if (file && *file) {
        size_t n = strlen(file) + sizeof "-image";
        if (!(sm->image_path = malloc(n))) {
            free(sm);
            return RG_ENOMEM;
        }
        snprintf(sm->image_path, n, "%s-image", file);
    }
    /* What every transaction needs, rollback included (it must not fail
     * for want of a statement); the rest on first use (lazy()). */
    if (!prepare(db, "BEGIN", &sm->begin) ||
        !prepare(db, "COMMIT", &sm->commit) ||
        !prepare(db, "ROLLBACK", &sm->rollback) ||
        !prepare(db, "PRAGMA data_version", &sm->data_version) ||
        !prepare(db, GET_TOTALS_SQL, &sm->get_totals)) {
        rg__sqlite_model_close(sm);
        return RG_ESTORE;
    }
    *out = sm;
    return RG_OK;
}

void rg__sqlite_model_close(rg__sqlite_model *sm)
{
    if (!sm)
        return;
    sqlite3_finalize(sm->begin);
    sqlite3_finalize(sm->begin_write);
    sqlite3_finalize(sm->commit);
    sqlite3_finalize(sm->rollback);
    sqlite3_finalize(sm->data_version);
    sqlite3_finalize(sm->get);
    sqlite3_finalize(sm->put);
    sqlite3_finalize(sm->del);
    sqlite3_finalize(sm->scan);
    sqlite3_finalize(sm->get_totals);
    sqlite3_finalize(sm->put_totals);
    sqlite3_finalize(sm->image_tag);
    free(sm->image_path);
    sqlite3_finalize(sm->put_image);
    sqlite3_finalize(sm->del_image);
    rg__model_image_free(sm->image);
    free(sm->missed);
    rg__count_map_free(&sm->cache);
    free(sm);
}
