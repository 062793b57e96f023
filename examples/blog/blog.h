/*
 * replyguard-blog: a small blog engine whose comment form uses every layer
 * of replyguard the way a real engine would. This header holds what the
 * files of the program share: the options, the handles, a growable text
 * buffer, the SQLite store of posts and comments, and the pages.
 *
 * Every handle here is shared by the web server's threads: the replyguard
 * handles are thread-safe, the blog's store serialises itself with a mutex,
 * and the cached page has a mutex of its own.
 */
#ifndef REPLYGUARD_BLOG_H
#define REPLYGUARD_BLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <replyguard.h>

/* The limits on what a reader may send, in bytes after decoding. The form's
 * maxlength attributes count characters (UTF-16 units), so each limit is
 * three times its form's: a browser never sends more than we accept. */
enum {
    AUTHOR_CHARS = 100,
    EMAIL_CHARS = 100,
    URL_CHARS = 200,
    COMMENT_CHARS = 5000,
    AUTHOR_MAX = 3 * AUTHOR_CHARS,
    EMAIL_MAX = 3 * EMAIL_CHARS,
    URL_MAX = 3 * URL_CHARS,
    COMMENT_MAX = 3 * COMMENT_CHARS,
    ANSWER_MAX = 3 * RG_ANSWER_MAX,
    TOKEN_MAX = RG_TOKEN_MAX - 1,
    HONEYPOT_MAX = 300,
    /* A whole request body: the fields above, percent-encoded. */
    BODY_MAX = 64 * 1024
};

/* A comment's place: on the page, in the moderation queue, or spam. */
typedef enum comment_status {
    STATUS_PUBLISHED = 0,
    STATUS_HELD = 1,
    STATUS_SPAM = 2
} comment_status;

/* What the content filter was taught about a comment. */
typedef enum comment_learned {
    LEARNED_NONE = 0,
    LEARNED_HAM = 1,
    LEARNED_SPAM = 2
} comment_learned;

/* ---- A growable text buffer: appends never fail loudly; a buffer that
 * could not grow is marked failed and the page becomes a 500. ---- */

typedef struct buf {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
} buf;

void buf_add(buf *b, const char *s, size_t n);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped: for text and attribute values. */
void buf_html(buf *b, const char *s);
void buf_free(buf *b);

/* ---- The blog's own SQLite store: posts, comments, counts. ---- */

typedef struct blog_store blog_store;

typedef struct blog_post {
    int64_t id;
    char *title;
    char *body; /* plain text, paragraphs separated by blank lines */
    int64_t published_at;
} blog_post;

typedef struct blog_comment {
    int64_t id;
    int64_t post_id;
    char *author;
    char *email;
    char *url;
    char *body;
    char *client;
    int64_t created_at;
    comment_status status;
    comment_learned learned;
} blog_comment;

/* Opens (creating and seeding on first use) the database at path. */
int store_open(blog_store **out, const char *path);
void store_close(blog_store *s);
int store_post_get(blog_store *s, int64_t id, blog_post *out);
void store_post_clear(blog_post *p);
/* Adds a comment; writes its id. */
int store_comment_add(blog_store *s, const blog_comment *c, int64_t *id);
/* Comments with status st (of one post, or of all when post_id is 0): the
 * oldest first for a post, the newest first otherwise, at most limit. */
int store_comments_list(blog_store *s, int64_t post_id, comment_status st,
                        size_t limit, blog_comment **out, size_t *n);
int store_comment_get(blog_store *s, int64_t id, blog_comment *out);
int store_comment_set(blog_store *s, int64_t id, comment_status st,
                      comment_learned l);
void store_comments_free(blog_comment *c, size_t n);
void store_comment_clear(blog_comment *c);
/* Counts one finding of a day ("2024-05-01") by its name. */
int store_count(blog_store *s, const char *day, const char *what);
/* Calls fn for each count of the day. */
int store_counts(blog_store *s, const char *day,
                 void (*fn)(void *arg, const char *what, int64_t n), void *arg);

/* ---- The program's state. ---- */

typedef struct blog_options {
    const char *listen;   /* HOST:PORT */
    const char *db;       /* the blog's SQLite file */
    const char *store;    /* replyguard's store URL, or NULL */
    const char *key;      /* the key file */
    const char *honeypot; /* the honeypot field's name */
    rg_style style;       /* words or digits */
    uint32_t min_solve_s; /* the time trap */
    double rate_per_min;  /* comments a minute per client */
    uint32_t burst;       /* and at once */
    uint32_t escalate_s;  /* time trap step per failed challenge */
    unsigned max_links;   /* links that send a comment to moderation */
    unsigned threads;     /* web server threads, 0: one per CPU */
    bool full_page_cache; /* pages are cached: always refresh by script */
} blog_options;

typedef struct blog {
    blog_options opt;
    rg_guard *guard;
    rg_limiter *limiter;
    rg_limiter *failures;
    rg_bayes *bayes;
    rg_policy policy;
    rg_form_config names;
    blog_store *store;
    char password[64]; /* the admin's, "admin" being the user name */
    char csrf[48];     /* the admin forms' hidden token */
    /* The post page above the form, rendered once per change. */
    pthread_mutex_t page_lock;
    char *page_top;
    size_t page_top_len;
    bool page_stale;
} blog;

/* The one post this blog shows, and the binding of its form. */
#define BLOG_POST_ID 1
#define BLOG_BINDING "post-1|comments"

/* What a reader typed into the form, to put back after a failure. */
typedef struct form_values {
    const char *author;
    const char *email;
    const char *url;
    const char *comment;
} form_values;

/* A note above the form. */
typedef enum notice_kind { NOTICE_NONE, NOTICE_HELD, NOTICE_ERROR } notice_kind;

/* Appends the whole post page: the cached top, a notice, the form with a
 * fresh challenge and the values given, and the bottom. Returns 0, or -1
 * when no challenge could be issued. */
int page_post(blog *b, buf *out, const form_values *v, notice_kind kind,
              const char *notice);
/* Marks the cached top stale: a comment was published or removed. */
void page_invalidate(blog *b);
/* Appends a short page with a title and one escaped sentence. */
void page_message(buf *out, const char *title, const char *text);
/* Appends the page head shared by every page, up to <main>. */
void page_head(buf *out, const char *title);
void page_foot(buf *out);
/* Appends a comment's body as paragraphs, escaped. */
void page_comment_body(buf *out, const char *body);

/* The day, UTC, as "YYYY-MM-DD" (11 bytes with the NUL). */
void blog_today(char day[16]);

/* The static files, and the server. */
extern const char blog_app_js[];
extern const char blog_style_css[];

struct MHD_Daemon;
struct MHD_Daemon *http_start(blog *b, int *port_out);

#endif
