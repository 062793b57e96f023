/*
 * The blog's own data in SQLite: its post, its comments and their places
 * (published, held for moderation, spam), and the day's count of what each
 * layer stopped. One connection under a mutex: writes are rare (a comment,
 * a moderation), and the post page is served from a cached rendering, so
 * the database is never on the path of a page view.
 */
#include "blog.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct blog_store {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS posts("
    " id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,"
    " published_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS comments("
    " id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts(id),"
    " author TEXT NOT NULL, email TEXT NOT NULL, url TEXT NOT NULL,"
    " body TEXT NOT NULL, client TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " status INTEGER NOT NULL, learned INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS comments_by_status"
    " ON comments(status, post_id, created_at);"
    "CREATE TABLE IF NOT EXISTS counts("
    " day TEXT NOT NULL, what TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(day, what));";

/* The sample post, written for this example, and its first readers. */
static const char post_title[] = "Bread, by the clock";
static const char post_body[] =
    "Every loaf I bake starts the evening before. Flour, water and a "
    "spoonful of last week's starter go into a bowl at nine; by seven the "
    "next morning the dough has doubled and smells faintly of apples.\n\n"
    "The trick, if there is one, is to stop measuring time in minutes. "
    "Dough does not care what the kitchen clock says. In a warm July the "
    "overnight rise is done by four in the morning; in January it wants "
    "the whole night and most of breakfast. I poke it instead: a dent that "
    "springs back slowly means it is ready.\n\n"
    "Bake it hot, in a covered pot, for twenty minutes, then uncovered "
    "until the crust is the colour of a chestnut. Let it cool for an hour "
    "before cutting. That last hour is the hardest part of the recipe.";

static const struct {
    const char *author, *url, *body;
    int64_t minutes_after;
} seeds[] = {
    {"Marta", "",
     "The poke test changed everything for me. I used to "
     "follow recipes to the minute and wonder why the crumb was so dense.",
     95},
    {"Oskar", "https://example.org/oskar",
     "Nine in the evening to seven in the morning is about my rhythm too. "
     "Do you retard it in the fridge in summer, or just use less starter?",
     240},
    {"Priya", "",
     "An hour of cooling! I have never once managed it.\n\n"
     "Lovely post, thank you.",
     1430},
};

static int exec_locked(blog_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Adds the post and its comments to a new database, in one transaction.
 * Called before the handle is shared, without the lock. */
static int seed(blog_store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t when = (int64_t)time(NULL) - 3 * 86400;
    int rc = -1;

    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM posts", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto done;
    if (sqlite3_column_int64(st, 0) > 0) {
        rc = 0;
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (exec_locked(s, "BEGIN") != 0)
        goto done;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO posts(id, title, body, published_at)"
                           " VALUES(?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto rollback;
    sqlite3_bind_int64(st, 1, BLOG_POST_ID);
    sqlite3_bind_text(st, 2, post_title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, post_body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, when);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto rollback;
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        blog_comment c = {
            .post_id = BLOG_POST_ID,
            .author = (char *)seeds[i].author,
            .email = "",
            .url = (char *)seeds[i].url,
            .body = (char *)seeds[i].body,
            .client = "",
            .created_at = when + seeds[i].minutes_after * 60,
            .status = STATUS_PUBLISHED,
        };
        int64_t id;
        if (store_comment_add(s, &c, &id) != 0)
            goto rollback;
    }
    if (exec_locked(s, "COMMIT") == 0) {
        rc = 0;
        goto done;
    }
rollback:
    exec_locked(s, "ROLLBACK");
done:
    sqlite3_finalize(st);
    return rc;
}

int store_open(blog_store **out, const char *path)
{
    blog_store *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s)
        return -1;
    pthread_mutex_init(&s->lock, NULL);
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 5000);
    /* No other thread has the handle yet: no lock, and seed() may call
     * store_comment_add(), which takes it. */
    if (exec_locked(s, schema) != 0 || seed(s) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    store_close(s);
    return -1;
}

void store_close(blog_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static char *dup_column(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

int store_post_get(blog_store *s, int64_t id, blog_post *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, title, body, published_at FROM posts"
                           " WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto done;
    out->id = sqlite3_column_int64(st, 0);
    out->title = dup_column(st, 1);
    out->body = dup_column(st, 2);
    out->published_at = sqlite3_column_int64(st, 3);
    rc = out->title && out->body ? 0 : -1;
    if (rc != 0)
        store_post_clear(out);
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void store_post_clear(blog_post *p)
{
    free(p->title);
    free(p->body);
    memset(p, 0, sizeof *p);
}

int store_comment_add(blog_store *s, const blog_comment *c, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO comments(post_id, author, email, url,"
                           " body, client, created_at, status, learned)"
                           " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(st, 1, c->post_id);
    sqlite3_bind_text(st, 2, c->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->client, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, c->created_at);
    sqlite3_bind_int(st, 8, (int)c->status);
    sqlite3_bind_int(st, 9, (int)c->learned);
    if (sqlite3_step(st) == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(s->db);
        rc = 0;
    }
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int read_comment(sqlite3_stmt *st, blog_comment *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->post_id = sqlite3_column_int64(st, 1);
    c->author = dup_column(st, 2);
    c->email = dup_column(st, 3);
    c->url = dup_column(st, 4);
    c->body = dup_column(st, 5);
    c->client = dup_column(st, 6);
    c->created_at = sqlite3_column_int64(st, 7);
    c->status = (comment_status)sqlite3_column_int(st, 8);
    c->learned = (comment_learned)sqlite3_column_int(st, 9);
    return c->author && c->email && c->url && c->body && c->client ? 0 : -1;
}

#define COMMENT_COLUMNS                                                        \
    "id, post_id, author, email, url, body, client, created_at, status,"       \
    " learned"

int store_comments_list(blog_store *s, int64_t post_id, comment_status stat,
                        size_t limit, blog_comment **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    blog_comment *list = NULL;
    size_t count = 0;
    int rc = -1;
    const char *sql = post_id ? "SELECT " COMMENT_COLUMNS " FROM comments"
                                " WHERE status = ? AND post_id = ?"
                                " ORDER BY created_at, id LIMIT ?"
                              : "SELECT " COMMENT_COLUMNS " FROM comments"
                                " WHERE status = ? AND ? = 0"
                                " ORDER BY created_at DESC, id DESC LIMIT ?";

    *out = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    list = calloc(limit, sizeof *list);
    if (!list)
        return -1;
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int(st, 1, (int)stat);
    sqlite3_bind_int64(st, 2, post_id);
    sqlite3_bind_int64(st, 3, (int64_t)limit);
    while (count < limit && sqlite3_step(st) == SQLITE_ROW)
        if (read_comment(st, &list[count++]) != 0)
            goto done;
    rc = 0;
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0) {
        store_comments_free(list, count);
        return -1;
    }
    *out = list;
    *n = count;
    return 0;
}

int store_comment_get(blog_store *s, int64_t id, blog_comment *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(
            s->db, "SELECT " COMMENT_COLUMNS " FROM comments WHERE id = ?", -1,
            &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = read_comment(st, out);
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        store_comment_clear(out);
    return rc;
}

int store_comment_set(blog_store *s, int64_t id, comment_status stat,
                      comment_learned l)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE comments SET status = ?, learned = ?"
                           " WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int(st, 1, (int)stat);
    sqlite3_bind_int(st, 2, (int)l);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->db) == 1)
        rc = 0;
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void store_comment_clear(blog_comment *c)
{
    free(c->author);
    free(c->email);
    free(c->url);
    free(c->body);
    free(c->client);
    memset(c, 0, sizeof *c);
}

void store_comments_free(blog_comment *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_comment_clear(&c[i]);
    free(c);
}

int store_count(blog_store *s, const char *day, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO counts(day, what, n) VALUES(?, ?, 1)"
                           " ON CONFLICT(day, what) DO UPDATE SET n = n + 1",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, what, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_counts(blog_store *s, const char *day,
                 void (*fn)(void *arg, const char *what, int64_t n), void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT what, n FROM counts WHERE day = ?"
                           " ORDER BY what",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(st, 0),
           sqlite3_column_int64(st, 1));
    rc = 0;
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}
