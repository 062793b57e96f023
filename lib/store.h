/*
 * The store interface: every layer with state goes through it, so the same
 * replay guard (and later limiter and spam model) runs in memory, on a
 * SQLite file, or on a shared server. A backend embeds struct rg_store as its
 * first member and fills in `ops`.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include "internal.h"
#include "limit.h"
#include "tokenset.h"

/* Counts of one token: in how many spam and ham comments it appeared. */
typedef struct rg__counts {
    uint32_t spam, ham;
} rg__counts;

/*
 * Learned comments in all, and the words they held: spam_words counts the
 * content tokens (all but the per-comment "meta:" features) of every spam
 * comment learned, each once per comment. The filter divides by it so that
 * long comments do not look spammy merely for having more words.
 */
typedef struct rg__totals {
    uint64_t spam, ham;
    uint64_t spam_words, ham_words;
} rg__totals;

/* A change to a count (learning adds, unlearning subtracts). */
typedef struct rg__delta {
    int64_t spam, ham;
} rg__delta;

/* A change to the totals. */
typedef struct rg__totals_delta {
    int64_t spam, ham;
    int64_t spam_words, ham_words;
} rg__totals_delta;

/*
 * What a walk over a model calls (the bayes_export operation): `totals`
 * once, first, with the totals and the number of distinct tokens; then
 * `token` for each token with its counts (never 0, 0), in token order: by
 * memcmp() of the bytes, a token before a longer one it begins, which is
 * SQLite's order of BLOBs. The token is not NUL-terminated and is valid
 * only during the call. A callback that returns anything but RG_OK ends
 * the walk, and the walk returns what it returned. Callbacks run with the
 * store locked: they must not call the store.
 */
typedef struct rg__model_visitor {
    int (*totals)(void *arg, const rg__totals *totals, uint64_t tokens);
    int (*token)(void *arg, const char *token, size_t len, rg__counts counts);
    void *arg;
} rg__model_visitor;

/*
 * What a walk over the spent nonces calls (nonce_export): `nonce` for each
 * one still spent, with the time it stays spent until (the expires_at of
 * spend), in the order of the nonces' bytes. As above for the rest.
 */
typedef struct rg__nonce_visitor {
    int (*nonce)(void *arg, const uint8_t nonce[RG__NONCE_BYTES],
                 uint64_t expires_at);
    void *arg;
} rg__nonce_visitor;

/*
 * What the health operation finds. -1 in a count means the backend cannot
 * tell.
 */
typedef struct rg__store_health {
    bool checked;           /* an integrity check ran (sqlite: quick_check) */
    bool ok;                /* and found nothing wrong */
    char detail[160];       /* its first complaint when not ok, else "" */
    int64_t nonces;         /* spent nonces still live */
    int64_t limit_keys;     /* rate-limit keys the store holds */
    uint64_t round_trip_ns; /* redis: one PING; 0 for the others */
} rg__store_health;

struct rg_store_ops {
    const char *scheme; /* "memory", "sqlite" */

    /*
     * Records a nonce as spent until `expires_at` (Unix seconds); `now` is
     * the caller's clock. An entry is expired once expires_at < now, and
     * then no longer counts. Sets *fresh to true when the nonce had not been
     * spent before (it is spent now), false when it already was; on any
     * error *fresh is false.
     * Errors: RG_EFULL (no room without dropping a live entry: the caller
     * must fail closed), RG_ESTORE, RG_EINVAL (a time above INT64_MAX).
     * Thread-safe.
     */
    int (*spend)(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                 uint64_t expires_at, uint64_t now, bool *fresh);

    /*
     * The spam model (a Bayesian filter's token counts).
     *
     * bayes_lookup: for each token i of ts, counts[i] (0, 0 for a token the
     * model lacks), and the totals, all from one consistent state of the
     * model. Errors: RG_ESTORE, RG_ENOMEM.
     *
     * bayes_apply: adds delta[i] to the counts of token i of ts and
     * `totals` to each of the totals, all or nothing (with sqlite:, in one
     * transaction). A token whose counts become 0, 0 is removed. Errors:
     * RG_ENOTLEARNED (a count would go below zero: nothing changes),
     * RG_EFULL (the memory model is at its token limit: nothing changes),
     * RG_ERANGE (a count would pass UINT32_MAX), RG_ESTORE, RG_ENOMEM.
     *
     * bayes_stats: the totals and the number of distinct tokens.
     *
     * bayes_optimize: readies the model for batches of lookups on new
     * handles (sqlite: writes a model image), or does nothing. Errors:
     * RG_ESTORE, RG_ENOMEM, RG_EFULL (too large for an image).
     *
     * bayes_preload: reads the whole model into the handle now, where it
     * can (sqlite: its image, or a scan into the cache), or does nothing.
     * Not reading it is no error. Errors: RG_ESTORE.
     *
     * All of them are thread-safe; several processes may share a sqlite:
     * model, and each sees the others' training (caches notice changes).
     */
    int (*bayes_lookup)(rg_store *s, const rg__token_set *ts,
                        rg__counts *counts, rg__totals *totals);
    int (*bayes_apply)(rg_store *s, const rg__token_set *ts,
                       const rg__delta *delta, rg__totals_delta totals);
    int (*bayes_stats)(rg_store *s, rg_bayes_stats *out);
    int (*bayes_optimize)(rg_store *s);
    int (*bayes_preload)(rg_store *s);

    /*
     * The rate limiter (NULL in a store without one; memory: limiters
     * keep a table of their own, limit-memory.c): one rg__gcra_take() on
     * the key `key` of the limiter named `name`, atomic across every
     * process that shares the store, at the caller's time `now` (ns).
     * The store keeps a keyed hash of name and key, never the key.
     * Errors: RG_ESTORE, RG_ENOMEM. Thread-safe.
     */
    int (*limit_take)(rg_store *s, const char *name, size_t name_len,
                      const void *key, size_t key_len, const rg__gcra *g,
                      uint64_t now, uint32_t cost, rg_limit_result *out);

    /*
     * Export, for the command-line tool (lib/export.c; NULL in a store
     * without them, such as a test's fake).
     *
     * bayes_export: walks the whole model (see rg__model_visitor), all of
     * one consistent state of it: sqlite: one read transaction; memory:
     * under its lock; redis: a scan that is read again when the totals
     * changed meanwhile. Errors: RG_ESTORE, RG_ENOMEM, or a callback's.
     *
     * nonce_export: walks the nonces spent and still live at `now` (see
     * rg__nonce_visitor). Errors: RG_ESTORE, RG_ENOMEM, or a callback's.
     *
     * health: checks that the store answers and what it holds, into *out;
     * `now` tells which nonces are still live. A check that finds damage
     * is no error (out->ok says so). Errors: RG_ESTORE (it does not
     * answer), RG_ENOMEM.
     *
     * Thread-safe, but each holds the store (or, with memory:, the table
     * it walks) for as long as it runs.
     */
    int (*bayes_export)(rg_store *s, const rg__model_visitor *v);
    int (*nonce_export)(rg_store *s, uint64_t now, const rg__nonce_visitor *v);
    int (*health)(rg_store *s, uint64_t now, rg__store_health *out);

    /* Frees the backend. */
    void (*close)(rg_store *s);
};

struct rg_store {
    const struct rg_store_ops *ops;
};

/*
 * Backend constructors. `rest` is the URL after "memory:" (e.g. "" or
 * "?capacity=1000&tokens=50000"); `path` is the file name after "sqlite:".
 */
int rg__store_memory_open(rg_store **out, const char *rest);
int rg__store_sqlite_open(rg_store **out, const char *path);
/*
 * True when url starts with scheme (lower case, ending in ':' or "://"),
 * compared in ASCII without regard to case. strncasecmp() is not used
 * because it follows the C locale, and a URL's meaning must not depend on
 * the locale.
 */
bool rg__url_has_scheme(const char *url, const char *scheme);

/* The whole URL: "redis://..." or "unix:...". */
int rg__store_redis_open(rg_store **out, const char *url);

/*
 * Parses what follows "memory:": nothing, or "?key=value&..." with the keys
 * "capacity" (live entries: spent nonces, or a limiter's keys) and
 * "tokens" (the spam model's distinct tokens), each at most once, in any
 * order. Anything else is RG_EURL rather than ignored, so a misspelt
 * option does not silently leave the default. *has_capacity tells whether
 * the capacity was given.
 */
int rg__memory_options(const char *rest, size_t *capacity, size_t *tokens,
                       bool *has_capacity);

/*
 * A redis: or unix: URL, parsed (docs/redis.md). Its strings point into
 * the URL and are not NUL-terminated.
 */
typedef struct rg__redis_url {
    const char *host; /* the host, without brackets; NULL for a socket */
    size_t host_len;
    const char *socket_path; /* the socket's absolute path; NULL for TCP */
    size_t socket_path_len;
    const char *prefix; /* NULL for the default, "replyguard" */
    size_t prefix_len;
    int port, db, timeout_ms;
} rg__redis_url;

/*
 * Parses "redis://HOST[:PORT][/DB][?query]" or "unix:PATH[?query]" into
 * *u, without allocating or connecting: RG_OK or RG_EURL. Only in a
 * build with hiredis (store-redis.c), where rg__store_redis_open() opens
 * what it parses.
 */
int rg__redis_url_parse(const char *url, rg__redis_url *u);

/* The backend a store URL names. */
typedef enum rg__store_kind {
    RG__STORE_MEMORY,
    RG__STORE_SQLITE,
    RG__STORE_REDIS /* redis:// and unix: */
} rg__store_kind;

/* A store URL, parsed. */
typedef struct rg__store_url {
    rg__store_kind kind;
    const char *rest; /* memory: what follows "memory:"; sqlite: the path */
    size_t capacity, tokens; /* memory: as rg__memory_options() gives them */
    bool has_capacity;
    rg__redis_url redis; /* redis: */
} rg__store_url;

/*
 * Parses a store URL as rg_store_open() reads it, and has no other effect:
 * no file is created, no connection made. rg_store_open() opens what it
 * parsed. Errors: RG_EINVAL (NULL or empty), RG_EURL, RG_ENOSUPPORT (the
 * backend is not built in).
 */
int rg__store_url_parse(const char *url, rg__store_url *out);

#endif
