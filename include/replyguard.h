/*
 * replyguard: keeps spam out of the comment forms of blogs and news sites.
 *
 * This header is the contract: every public item is documented here.
 *
 * Conventions that hold for every call unless its comment says otherwise:
 *
 * - Functions return int: RG_OK (0) on success, a negative RG_E* code on
 *   failure. rg_strerror() describes a code, rg_err_name() names it.
 * - The caller owns every string and buffer it passes in; the library copies
 *   what it keeps. Output buffers are allocated by the caller.
 * - Handles (rg_guard, rg_store, rg_bayes, rg_limiter) are opaque, created by
 * *_new / *_open and released by *_free / *_close; releasing NULL is a no-op.
 *   A handle that failed to open is NULL, which every other call refuses
 *   with RG_EINVAL.
 * - The *_init() functions fill the struct they are given with its
 *   defaults; given NULL, they do nothing.
 * - Text may be any bytes unless a comment says otherwise: bytes that are
 *   not UTF-8 never crash a call, and are an error only where a comment
 *   says so.
 * - Call rg_init() once before anything else (it is idempotent and
 *   thread-safe; rg_guard_new() and rg_store_open() call it for you).
 * - Every handle is safe to use from many threads at once.
 * - Times are Unix seconds from the clock in rg_config (real time by default).
 */
#ifndef REPLYGUARD_H
#define REPLYGUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(RG_BUILDING_LIBRARY)
#define RG_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define RG_EXPORT __attribute__((visibility("default")))
#else
#define RG_EXPORT
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define RG_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define RG_WARN_UNUSED
#endif

#define RG_VERSION_STRING "0.1.0"

/* Sizes. Each also exists as a function, for bindings that cannot see macros.
 */
#define RG_KEY_BYTES    32  /* a signing key */
#define RG_QUESTION_MAX 256 /* question text, with its NUL */
#define RG_TOKEN_MAX    128 /* token text, with its NUL */
#define RG_ANSWER_MAX   64  /* longest answer ever considered, in bytes */
#define RG_LOCALE_MAX   8   /* a locale name, with its NUL */

/*
 * Error codes. The X-macro generates the enum, rg_strerror() and
 * rg_err_name(). Codes are append-only and never reused.
 */
#define RG_ERRNO_MAP(XX)                                                       \
    XX(EINVAL, -1, "invalid argument")                                         \
    XX(ENOMEM, -2, "out of memory")                                            \
    XX(EINIT, -3, "the crypto library could not be initialised")               \
    XX(ENOKEY, -4, "no signing key has been added")                            \
    XX(EKEY, -5, "bad key: duplicate key id or wrong key size")                \
    XX(EKEYFILE, -6, "the key file is missing, unreadable or malformed")       \
    XX(ELOCALE, -7, "unknown locale")                                          \
    XX(ERANGE, -8, "challenge ranges are out of bounds")                       \
    XX(EURL, -9, "malformed or unsupported store URL")                         \
    XX(ESTORE, -10, "the store failed (I/O error or unreachable)")             \
    XX(EFULL, -11, "the store is full of live entries")                        \
    XX(ENOSUPPORT, -12, "this build of replyguard lacks that feature")         \
    XX(ETOOBIG, -13, "output does not fit in the buffer")                      \
    XX(EPERM, -14, "permission denied")                                        \
    XX(ENOTLEARNED, -15, "unlearning a comment that was never learned")        \
    XX(EADDRESS, -16, "not an IPv4 or IPv6 address")

typedef enum rg_error {
    RG_OK = 0,
#define RG_ERR_ENUM_(name, value, text) RG_##name = (value),
    RG_ERRNO_MAP(RG_ERR_ENUM_)
#undef RG_ERR_ENUM_
} rg_error;

/*
 * The outcome of verifying one answer: not an error, a verdict. Checked in
 * this order: MALFORMED (not a token), FORGED (unknown key id, bad tag or a
 * different binding), EXPIRED (past expiry, or issued in the future beyond
 * the clock skew), TOO_FAST (sooner than the minimum solve time), REPLAYED
 * (this token was already used), WRONG, PASS.
 */
typedef enum rg_verdict {
    RG_VERDICT_PASS,
    RG_VERDICT_WRONG,
    RG_VERDICT_EXPIRED,
    RG_VERDICT_TOO_FAST,
    RG_VERDICT_REPLAYED,
    RG_VERDICT_FORGED,
    RG_VERDICT_MALFORMED
} rg_verdict;

/* How numbers appear in a question. */
typedef enum rg_style {
    RG_STYLE_WORDS = 0,  /* "nine + ten =" (default) */
    RG_STYLE_DIGITS = 1, /* "9 + 10 =" */
    RG_STYLE_MIXED = 2   /* each number at random: "9 + ten =" */
} rg_style;

/* Operators a challenge may use: a bit set. */
typedef enum rg_operator_set {
    RG_OP_ADD = 1,
    RG_OP_SUB = 2,
    RG_OP_MUL = 4,
    RG_OP_ALL = 7
} rg_operator_set;

/*
 * Shapes a challenge may take: a bit set; each challenge picks one of the
 * enabled shapes at random. docs/challenges.md gives the answer space of each.
 */
typedef enum rg_form_set {
    RG_FORM_TWO_TERMS = 1,   /* "nine + ten =" (default) */
    RG_FORM_THREE_TERMS = 2, /* "nine + ten - four =" */
    RG_FORM_MISSING_TERM = 4 /* "nine + ? = nineteen" */
} rg_form_set;

/*
 * Configuration. Fill it with rg_config_init(), change what you need, pass
 * it by pointer; the library copies what it keeps (including the strings).
 * Fields are only ever appended, and `size` tells the library how much of the
 * struct the caller knows about.
 */
typedef struct rg_config {
    size_t size;                  /* sizeof(rg_config), set by rg_config_init */
    uint32_t ttl_s;               /* token lifetime, default 1200 */
    uint32_t min_solve_s;         /* time trap, default 5 */
    const char *locale;           /* "en" (default), "ru", "de", "fr", "es" */
    const char *store;            /* "memory:" (default), "sqlite:PATH",
                                     "redis://HOST:PORT/DB" */
    uint64_t (*clock)(void *arg); /* wall clock, seconds; NULL = real time */
    void *clock_arg;
    rg_style style;        /* default RG_STYLE_WORDS */
    uint32_t operand_min;  /* smallest operand, default 0 */
    uint32_t operand_max;  /* largest operand, default 20, at most 999 */
    uint32_t product_max;  /* largest answer of a x b, default 100 */
    unsigned operators;    /* rg_operator_set bits, default RG_OP_ALL */
    unsigned forms;        /* rg_form_set bits, default RG_FORM_TWO_TERMS */
    uint32_t clock_skew_s; /* tolerated issued-in-the-future, default 60
                              (docs/security.md: clocks that jump) */
} rg_config;

/* One challenge, ready for the form. All strings are NUL-terminated UTF-8. */
typedef struct rg_challenge {
    char question[RG_QUESTION_MAX]; /* shown: "nine + ten =" */
    char token[RG_TOKEN_MAX];       /* base64url, for a hidden form field */
    char spoken[RG_QUESTION_MAX];   /* the question as it is said, for
                                       speech: "nine plus ten equals" */
    char locale[RG_LOCALE_MAX];     /* the locale the question is in */
    uint64_t issued_at;             /* Unix seconds */
    uint64_t expires_at;            /* Unix seconds */
} rg_challenge;

typedef struct rg_guard rg_guard;
typedef struct rg_store rg_store;

/*
 * Initialises the library (libsodium underneath). Idempotent and
 * thread-safe; returns RG_OK or RG_EINIT.
 */
RG_EXPORT RG_WARN_UNUSED int rg_init(void);

/* The library's version, "0.1.0". Never NULL; do not free. */
RG_EXPORT const char *rg_version(void);

/* RG_KEY_BYTES, RG_TOKEN_MAX, RG_QUESTION_MAX as functions. */
RG_EXPORT size_t rg_key_bytes(void);
RG_EXPORT size_t rg_token_max(void);
RG_EXPORT size_t rg_question_max(void);

/*
 * A sentence describing an error code, or "unknown error". Never NULL; the
 * string is static. Thread-safe.
 */
RG_EXPORT const char *rg_strerror(int err);

/* The name of an error code ("RG_EINVAL", "RG_OK"), or "RG_EUNKNOWN". */
RG_EXPORT const char *rg_err_name(int err);

/* The lower-case name of a verdict ("pass", "wrong", ...), or "unknown". */
RG_EXPORT const char *rg_verdict_name(rg_verdict v);

/* Fills *cfg with the defaults listed in rg_config; NULL is a no-op. */
RG_EXPORT void rg_config_init(rg_config *cfg);

/*
 * Creates a guard: it issues challenges and verifies answers. cfg may be NULL
 * for the defaults. The guard opens the store named by cfg->store for its
 * replay guard and owns it.
 *
 * Errors: RG_EINVAL (out is NULL, cfg->size too small, ttl_s 0, min_solve_s
 * not below ttl_s, style out of range, store ""), RG_ELOCALE,
 * RG_ERANGE (ranges out of bounds or too narrow to make a challenge, or
 * operators or forms with no bit or an unknown bit), RG_EURL, RG_ESTORE,
 * RG_ENOSUPPORT, RG_ENOMEM, RG_EINIT.
 * On failure *out is NULL. Free the guard with rg_guard_free().
 */
RG_EXPORT RG_WARN_UNUSED int rg_guard_new(rg_guard **out, const rg_config *cfg);

/*
 * Adds a key the guard verifies with; if sign_with is non-zero, the guard
 * also signs every new challenge with it (replacing the previous signing
 * key, which goes on verifying). This is how keys rotate without failing the
 * forms already on screen. The key bytes are copied into guarded memory.
 *
 * Errors: RG_EINVAL (NULL argument), RG_EKEY (key_id already added: the
 * key that has it stays as it was), RG_ENOMEM. Safe to call while other
 * threads issue and verify.
 */
RG_EXPORT RG_WARN_UNUSED int rg_guard_add_key(rg_guard *g, uint32_t key_id,
                                              const uint8_t key[RG_KEY_BYTES],
                                              int sign_with);

/*
 * Adds every key of a key file (format in docs/key-file.md); the key marked
 * "sign" signs. Errors: RG_EKEYFILE (unreadable, malformed, larger than
 * 64 KiB, more than 64 keys, or not exactly one signing key), RG_EKEY (an
 * id twice in the file, or one the guard already has), RG_ENOMEM,
 * RG_EINVAL. On any error no key of the file is added.
 */
RG_EXPORT RG_WARN_UNUSED int rg_guard_load_keys(rg_guard *g, const char *path);

/*
 * Writes a new key file with one fresh random signing key, id key_id (0
 * means "the current time"), to `out` (a buffer of out_size bytes, NUL-
 * terminated). Errors: RG_EINVAL, RG_ETOOBIG (out_size below 160).
 */
RG_EXPORT RG_WARN_UNUSED int rg_keyfile_generate(uint32_t key_id, char *out,
                                                 size_t out_size);

/*
 * Issues a challenge: picks a question, and signs it into a token bound to
 * `binding` (any string naming the form, post and client, e.g.
 * "post-42|comments"; NULL means ""). Writes *out.
 *
 * Errors: RG_EINVAL, RG_ENOKEY (no signing key yet). Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int
rg_challenge_issue(rg_guard *g, const char *binding, rg_challenge *out);

/*
 * As rg_challenge_issue(), with the question in `locale` and `style` instead
 * of the guard's defaults (locale NULL keeps the default).
 * Errors: as rg_challenge_issue(), plus RG_ELOCALE.
 */
RG_EXPORT RG_WARN_UNUSED int
rg_challenge_issue_in(rg_guard *g, const char *binding, const char *locale,
                      rg_style style, rg_challenge *out);

/*
 * Verifies the answer a reader typed for a token, with the same binding the
 * token was issued with. Every authentic, unexpired token can be answered
 * once: the first attempt spends it, right or wrong. Writes the verdict to
 * *out (see rg_verdict for the order of the checks).
 *
 * token, answer and binding are untrusted input: any bytes, any length.
 * NULL answer or binding count as "".
 *
 * Returns RG_OK when a verdict was reached. On failure *out is
 * RG_VERDICT_MALFORMED, never PASS: RG_EINVAL (g, token or out NULL, or a
 * clock past INT64_MAX seconds, which no store can record), RG_ESTORE or
 * RG_EFULL (the replay store cannot record the token, so it fails
 * closed). Thread-safe.
 *
 * A spent token stays spent whatever the clock does. A store forgets a
 * spent token once the clock passes its expiry plus the skew; should the
 * clock then go back, the store refuses as REPLAYED every token that
 * expires no later than the latest it forgot, since it cannot tell them
 * from the ones it forgot. A clock that never goes back meets no such
 * refusal; one that goes back by J seconds refuses a token so only when
 * J is more than ttl_s + clock_skew_s, or when the token had expired by
 * the clock before it went back (docs/security.md, "Clocks that jump").
 */
RG_EXPORT RG_WARN_UNUSED int rg_challenge_verify(rg_guard *g, const char *token,
                                                 const char *answer,
                                                 const char *binding,
                                                 rg_verdict *out);

/*
 * Releases a guard, wiping its keys. NULL is a no-op. No other thread may
 * use the guard during or after this call.
 */
RG_EXPORT void rg_guard_free(rg_guard *g);

/*
 * The number an answer means, after the normalisation of docs/answers.md:
 * digits of any script, number words of `locale` or English. Writes it to
 * *value and returns RG_OK, or returns RG_EINVAL when the text is not a
 * number (or is longer than RG_ANSWER_MAX bytes, or not UTF-8), or
 * RG_ELOCALE for a locale rg_locale_check() refuses; on failure *value is
 * left as it was. locale NULL means "en". Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int
rg_answer_parse(const char *answer, const char *locale, uint32_t *value);

/*
 * RG_OK when `locale` names a locale replyguard writes challenges in ("en",
 * "ru", "de", "fr", "es"; exact, lower case), RG_ELOCALE otherwise (also
 * for NULL). Thread-safe.
 */
RG_EXPORT int rg_locale_check(const char *locale);

/*
 * Writes `value` (0 to 999) as words of `locale` into out (out_size bytes,
 * NUL-terminated): "twenty-one", "einundzwanzig"; locale NULL means "en".
 * Errors: RG_EINVAL (out NULL or out_size 0: nothing is written),
 * RG_ELOCALE, RG_ERANGE (value above 999), RG_ETOOBIG; out is then "".
 */
RG_EXPORT RG_WARN_UNUSED int rg_number_words(uint32_t value, const char *locale,
                                             char *out, size_t out_size);

/*
 * Opens a store by URL: "memory:" (optionally "memory:?capacity=N", the
 * number of live entries it holds, 1 to 100000000; default 100000),
 * "sqlite:PATH" (the file is created with mode 0600 if missing), or a
 * Redis server that several web servers share:
 * "redis://HOST[:PORT][/DB][?prefix=P&timeout_ms=N]" or
 * "unix:///PATH.sock[?db=N&prefix=P&timeout_ms=N]" (docs/redis.md; the
 * server must answer a PING now). The scheme ignores case; anything else,
 * including an unknown query key, is RG_EURL.
 * Errors: RG_EINVAL (NULL or empty), RG_EURL, RG_ESTORE (cannot open or
 * create, not a replyguard database, no Redis answering), RG_ENOSUPPORT
 * (backend not built in), RG_ENOMEM; on failure *out is NULL. A SQLite
 * file that is another program's database (or a later replyguard's) is
 * refused before anything is written to it. Thread-safe handle; close it with
 * rg_store_close(). With redis:, every later call that cannot reach the
 * server within the URL's timeout fails with RG_ESTORE.
 * With sqlite:, the file and its directory must be writable, even to read
 * (WAL mode): a read-only file or file system is RG_ESTORE here. Every
 * later call that writes is one transaction: when a write fails (a full
 * disk, a file system turned read-only, a file size limit), the call
 * returns RG_ESTORE and the file is as it was before it, whole; what
 * calls that succeeded wrote stays.
 */
RG_EXPORT RG_WARN_UNUSED int rg_store_open(rg_store **out, const char *url);

/* Closes a store. NULL is a no-op. */
RG_EXPORT void rg_store_close(rg_store *s);

/*
 * ---- Content filter: a Bayesian classifier trained from moderation. ----
 *
 * A blog owner marks comments spam or ham; the filter learns their words
 * and scores new comments with Robinson's token probabilities and Fisher's
 * chi-square combining (as SpamBayes and bogofilter do). See
 * docs/bayes.md for the tokenizer, the maths and the defaults.
 */

/* A comment, as the filter sees it. */
typedef struct rg_comment {
    size_t size;        /* sizeof(rg_comment), set by rg_comment_init */
    const char *author; /* each field: UTF-8 (other bytes are tolerated), */
    const char *email;  /* NUL-terminated, or NULL for none */
    const char *url;
    const char *body;
} rg_comment;

/* Fills *c with NULL fields and its size. */
RG_EXPORT void rg_comment_init(rg_comment *c);

/* What a comment is, for learning. */
typedef enum rg_class { RG_CLASS_HAM = 0, RG_CLASS_SPAM = 1 } rg_class;

/* The three-way verdict of the filter. */
typedef enum rg_bayes_verdict {
    RG_BAYES_HAM = 0,    /* spamicity below ham_cutoff */
    RG_BAYES_UNSURE = 1, /* in between: for a moderator */
    RG_BAYES_SPAM = 2    /* spamicity at or above spam_cutoff */
} rg_bayes_verdict;

/* The filter's settings; rg_bayes_config_init() gives the defaults. */
typedef struct rg_bayes_config {
    size_t size;          /* sizeof(rg_bayes_config) */
    double ham_cutoff;    /* default 0.20 */
    double spam_cutoff;   /* default 0.90 */
    double strength;      /* Robinson's s, weight of the prior: 1.0 */
    double prior;         /* Robinson's x, an unknown token's p: 0.5 */
    double min_deviation; /* tokens with |p - 0.5| below this are
                             ignored: 0.2 */
    uint32_t max_clues;   /* most extreme tokens combined: 150 */
    uint32_t threads;     /* threads that tokenize a batch of 128 or
                             more comments in rg_bayes_learn_batch()
                             and rg_bayes_classify_batch(): 0 (the
                             default) for one per CPU, at most 8; 1 to
                             never start a thread. At most 64. */
} rg_bayes_config;

RG_EXPORT void rg_bayes_config_init(rg_bayes_config *cfg);

/* One clue: a token and what it says. */
#define RG_CLUE_TOKEN_MAX 72
typedef struct rg_clue {
    char token[RG_CLUE_TOKEN_MAX]; /* "free", "dom:example.com" */
    double probability;            /* Robinson's f(w): 0 hammy, 1 spammy */
    uint32_t spam_count;           /* spam comments that had it */
    uint32_t ham_count;            /* ham comments that had it */
} rg_clue;

/* A classification. */
typedef struct rg_bayes_result {
    double spamicity;         /* 0 (ham) to 1 (spam) */
    rg_bayes_verdict verdict; /* from the cutoffs */
    size_t nclues;            /* clues written, most extreme first */
} rg_bayes_result;

/* Model totals. */
typedef struct rg_bayes_stats {
    uint64_t spam_comments; /* learned as spam, less unlearned */
    uint64_t ham_comments;
    uint64_t tokens; /* distinct tokens with a count */
} rg_bayes_stats;

typedef struct rg_bayes rg_bayes;

/*
 * Opens a filter on a model store: "memory:" (optionally
 * "memory:?tokens=N", the most distinct tokens it holds, default 1000000),
 * "sqlite:PATH" (created if missing; several processes may read while
 * one trains), or "redis://..." (see rg_store_open(); every web server
 * that opens it learns into and scores from one model). cfg NULL means
 * the defaults.
 * Errors: as rg_store_open(), and RG_EINVAL for cutoffs outside
 * 0 <= ham_cutoff <= spam_cutoff <= 1 or other settings out of range.
 * Thread-safe handle; close it with rg_bayes_close().
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_open(rg_bayes **out, const char *url,
                                           const rg_bayes_config *cfg);

/*
 * Learns one comment as spam or ham. Errors: RG_EINVAL, RG_ESTORE,
 * RG_EFULL (a memory model at its token limit), RG_ENOMEM.
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_learn(rg_bayes *b, const rg_comment *c,
                                            rg_class cls);

/*
 * Takes back what rg_bayes_learn() taught for this comment and class,
 * exactly: learn then unlearn leaves every count as before. To move a
 * comment from ham to spam, unlearn it as ham and learn it as spam.
 * Errors: as rg_bayes_learn(), and RG_ENOTLEARNED when a count would drop
 * below zero (nothing is changed then).
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_unlearn(rg_bayes *b, const rg_comment *c,
                                              rg_class cls);

/*
 * Learns (unlearn 0) or unlearns (unlearn non-zero) n comments in one
 * atomic step: with sqlite:, one transaction, so a crash keeps all or none
 * of them. classes[i] is the class of comments[i]; n 0 does nothing (the
 * arrays may then be NULL). Errors: as above (RG_EINVAL also for a class
 * or a comment's size that is bad anywhere in the batch), and
 * RG_EFULL also when one batch holds more than 4 million distinct tokens
 * (split it); on any error nothing of the batch is kept. A batch of 128 or
 * more is tokenized on rg_bayes_config.threads threads, which end before
 * the call returns; the model it leaves is the same for any number.
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_learn_batch(rg_bayes *b,
                                                  const rg_comment *comments,
                                                  const rg_class *classes,
                                                  size_t n, int unlearn);

/*
 * Scores a comment. Writes *result; if clues is not NULL, also up to
 * max_clues of the tokens that decided, most extreme first. An empty model
 * scores everything 0.5 (unsure).
 * Errors: RG_EINVAL, RG_ESTORE, RG_ENOMEM. Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_classify(rg_bayes *b, const rg_comment *c,
                                               rg_bayes_result *result,
                                               rg_clue *clues,
                                               size_t max_clues);

/*
 * Scores n comments at once (no clues): results[i] for comments[i], each
 * what rg_bayes_classify() would give it. For bulk work (importing,
 * re-scoring a moderation queue): a batch of 128 or more is tokenized on
 * rg_bayes_config.threads threads, and each thread reads the model once
 * for its comments (with sqlite:, one read transaction, not one per
 * comment), so a training that commits meanwhile may be seen for some
 * comments and not others. The threads end before the call returns.
 * Errors: as rg_bayes_classify(); on error, results are unspecified.
 * Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_classify_batch(rg_bayes *b,
                                                     const rg_comment *comments,
                                                     size_t n,
                                                     rg_bayes_result *results);

/*
 * Readies the model for classifying batches on new handles, such as a
 * command that opens the model, classifies a file and exits. With
 * sqlite:PATH, writes a compact image of the whole model (about 21 bytes
 * per token, at most 16,777,216 tokens) to the file PATH-image, mode 0600,
 * and records its key in PATH, all in one write transaction: a handle
 * that meets many tokens it has not cached then reads the image in one
 * piece instead of scanning the token table, some twenty times faster.
 * Any later learning makes the image stale (PATH no longer names it), so
 * call this after bulk training; `captcha-check train` does. The image is
 * only ever a copy: a stale, damaged or missing one is ignored, and
 * deleting it is always safe. With memory:, does nothing.
 * Errors: RG_EINVAL, RG_ESTORE (also when PATH-image cannot be written),
 * RG_ENOMEM, RG_EFULL (too many tokens for an image; classification is
 * unaffected). Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_optimize(rg_bayes *b);

/*
 * Reads the whole model into the handle now, rather than as lookups come:
 * for a handle about to classify a batch, or a server that would rather
 * pay at start than on its first requests. With sqlite:PATH, reads the
 * model image when PATH names one (see rg_bayes_optimize()), else reads
 * the token table into the handle's cache when it holds fewer than
 * 1,048,576 tokens; a larger model without an image is read token by token as
 * before. Either way the handle keeps what it read only while the file is
 * unchanged: another handle's learning makes it read again. Failing to
 * read the image or the table is no error (lookups work as before). With
 * memory:, does nothing. Errors: RG_EINVAL, RG_ESTORE (the model cannot
 * be read at all). Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_preload(rg_bayes *b);

/* Model totals. Errors: RG_EINVAL, RG_ESTORE. */
RG_EXPORT RG_WARN_UNUSED int rg_bayes_stats_get(rg_bayes *b,
                                                rg_bayes_stats *out);

/* The name of a verdict: "ham", "unsure", "spam"; "unknown" otherwise. */
RG_EXPORT const char *rg_bayes_verdict_name(rg_bayes_verdict v);

/* Closes the filter and its store. NULL is a no-op. */
RG_EXPORT void rg_bayes_close(rg_bayes *b);

/*
 * ---- Rate limiter: GCRA, one 64-bit arrival time per key. ----
 *
 * The generic cell rate algorithm with the semantics of redis-cell's
 * CL.THROTTLE: a key that has rested may take burst + 1 at once, then
 * rate_per_s a second; each take of `cost` either fits and is charged, or
 * is refused and charges nothing. docs/limit.md has the maths, the stores
 * and what they keep.
 */

/* The outcome of one rg_limiter_take(). */
typedef struct rg_limit_result {
    int allowed;             /* 1: go ahead (the cost was charged); 0:
                                limited (nothing was charged) */
    uint32_t limit;          /* burst + 1: the most a rested key allows */
    uint32_t remaining;      /* takes of cost 1 that would fit right now */
    uint64_t retry_after_ms; /* limited: when the same take would fit;
                                UINT64_MAX when it never can (cost above
                                limit); 0 when allowed */
    uint64_t reset_after_ms; /* until the key has fully rested */
} rg_limit_result;

/* A limiter's settings; rg_limiter_config_init() gives the defaults. */
typedef struct rg_limiter_config {
    size_t size;       /* sizeof(rg_limiter_config) */
    double rate_per_s; /* sustained rate, default 1/60 (one a minute);
                          from 1e-6 to 1e9 */
    uint32_t burst;    /* default 4 (so 5 at once); at most 1000000 */
    size_t capacity;   /* memory: keys held, default 100000; 16 to
                          100000000. "memory:?capacity=N" overrides it
                          (N below 16 counts as 16). Ignored by other
                          stores. */
    const char *store; /* "memory:" (default), "sqlite:PATH" or
                          "redis://..." (shared by web servers) */
    const char *name;  /* namespace: limiters with different names share
                          a store without sharing keys; default "", at
                          most 256 bytes */
    uint64_t (*clock_ns)(void *arg); /* nanoseconds; NULL: the monotonic
                                        clock (memory:) or real time
                                        (sqlite:, shared by processes) */
    void *clock_arg;
} rg_limiter_config;

typedef struct rg_limiter rg_limiter;

RG_EXPORT void rg_limiter_config_init(rg_limiter_config *cfg);

/*
 * Opens a limiter. With memory:, allocates its whole table now (32 bytes
 * a key) and never grows it: a new key whose bucket is full evicts the
 * key there closest to rested, so a flood of new keys cannot free a
 * client that is limited (docs/limit.md). With sqlite:PATH, every process
 * on the machine that opens the file shares the limits.
 * cfg NULL means the defaults; a NULL store or name, their defaults.
 * Errors: RG_EINVAL (out NULL, cfg->size too small, a setting out of
 * range, or rate and burst whose burst would take longer than 100 years),
 * as rg_store_open() for the store. On failure *out is NULL. Thread-safe
 * handle; free it with rg_limiter_free().
 */
RG_EXPORT RG_WARN_UNUSED int rg_limiter_open(rg_limiter **out,
                                             const rg_limiter_config *cfg);

/*
 * rg_limiter_open() with the defaults but for these; store_url NULL means
 * "memory:", capacity 0 the default.
 */
RG_EXPORT RG_WARN_UNUSED int rg_limiter_new(rg_limiter **out,
                                            const char *store_url,
                                            double rate_per_s, uint32_t burst,
                                            size_t capacity);

/*
 * Takes `cost` from the key's allowance (cost 0 looks without taking).
 * The key is any bytes (key_len 0 is a key too); use rg_client_key() for
 * a client address. No store keeps the key itself: memory: keeps a 64-bit
 * keyed hash, sqlite: a 128-bit keyed hash (docs/limit.md). A clock that
 * goes back is taken as standing still.
 * Errors: RG_EINVAL (l or out NULL, key NULL with key_len > 0), RG_ESTORE;
 * *out then says limited, with retry_after_ms 0. Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_limiter_take(rg_limiter *l, const void *key,
                                             size_t key_len, uint32_t cost,
                                             rg_limit_result *out);

/* Frees a limiter. NULL is a no-op. */
RG_EXPORT void rg_limiter_free(rg_limiter *l);

/* The longest key rg_client_key() writes. */
#define RG_CLIENT_KEY_MAX 18

/*
 * The rate-limit key of a client's address, as text ("203.0.113.7",
 * "2001:db8::1"): an IPv4 address whole (/32); an IPv6 address cut to its
 * first ipv6_prefix bits (1 to 128; 0 means 64, one customer's network),
 * so that one client cannot take a fresh key from each of its 2^64
 * addresses; an IPv4-mapped IPv6 address (::ffff:203.0.113.7) as the IPv4
 * address it holds. Writes *out_len bytes to out: the family (4 or 6), the
 * prefix length, then the address bytes under the prefix.
 * Errors: RG_EINVAL (NULL argument, ipv6_prefix above 128), RG_EADDRESS
 * (not an address: a host name, a zone index "fe80::1%eth0", a port); on
 * failure *out_len is 0 (unless out_len is NULL).
 */
RG_EXPORT RG_WARN_UNUSED int rg_client_key(const char *address,
                                           unsigned ipv6_prefix,
                                           uint8_t out[RG_CLIENT_KEY_MAX],
                                           size_t *out_len);

/*
 * ---- The form: the challenge's fields, rendered. ----
 */

/* Room that rg_form_html() and rg_form_json() always fit in. */
#define RG_FORM_MAX 4096
/* The longest field name, in bytes, without its NUL. */
#define RG_FIELD_NAME_MAX 64

/* Names of the form's fields; rg_form_config_init() gives the defaults. */
typedef struct rg_form_config {
    size_t size;                /* sizeof(rg_form_config) */
    const char *answer_field;   /* "rg_answer" */
    const char *token_field;    /* "rg_token" */
    const char *honeypot_field; /* "rg_note": a name that browsers and
                                   password managers do not fill in */
} rg_form_config;

RG_EXPORT void rg_form_config_init(rg_form_config *f);

/*
 * Writes the challenge's part of a comment form as an HTML fragment into
 * out (out_size bytes, NUL-terminated): the question as the label of the
 * answer box, its spoken form as the box's aria-label, for screen readers
 * (inputmode numeric, autocomplete off), the token in a hidden
 * field, and the honeypot, a text field hidden from sight and from screen
 * readers that no keyboard reaches. Every text and name is escaped; no
 * script, no style attribute, so a strict Content-Security-Policy allows
 * it, and it works without JavaScript. f NULL (or a NULL name) means the
 * defaults; the wrapper carries the challenge's locale as lang="…".
 * Errors: RG_EINVAL (c or out NULL, a field name empty, longer than
 * RG_FIELD_NAME_MAX, not UTF-8 or with a control character, two fields
 * with one name, a challenge whose strings are not terminated UTF-8),
 * RG_ETOOBIG (out_size too small). On failure out is "" when out_size is
 * at least 1, and nothing is ever written past out_size. RG_FORM_MAX always
 * fits a challenge this library issued, with any valid names; a made-up
 * challenge full of characters to escape may need more. docs/form.md
 * shows the fragment. Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_form_html(const rg_challenge *c,
                                          const rg_form_config *f, char *out,
                                          size_t out_size);

/*
 * The same as one JSON object, for engines that render their own form:
 * {"question":…,"spoken":…,"token":…,"locale":…,"expires_at":…,
 *  "fields":{"answer":…,"token":…,"honeypot":…}}. Errors: as
 * rg_form_html(), and RG_EINVAL for an expires_at above INT64_MAX (which
 * JSON readers cannot hold), RG_ENOMEM.
 */
RG_EXPORT RG_WARN_UNUSED int rg_form_json(const rg_challenge *c,
                                          const rg_form_config *f, char *out,
                                          size_t out_size);

/*
 * ---- The judge: every layer in one call. ----
 *
 * rg_judge() takes a submitted comment with its challenge fields and the
 * client's address, runs the layers a policy names, and decides.
 * docs/judge.md has the default policy as a table.
 */

typedef enum rg_action {
    RG_ACTION_ACCEPT = 0,   /* publish */
    RG_ACTION_MODERATE = 1, /* hold for a moderator */
    RG_ACTION_REJECT = 2    /* refuse; show the form again */
} rg_action;

/* Why: a bit for each finding. */
typedef enum rg_reason {
    RG_REASON_HONEYPOT = 1 << 0,      /* the hidden field was filled */
    RG_REASON_CAPTCHA_WRONG = 1 << 1, /* the challenge's verdicts */
    RG_REASON_CAPTCHA_EXPIRED = 1 << 2,
    RG_REASON_CAPTCHA_TOO_FAST = 1 << 3,
    RG_REASON_CAPTCHA_REPLAYED = 1 << 4,
    RG_REASON_CAPTCHA_FORGED = 1 << 5,
    RG_REASON_CAPTCHA_MALFORMED = 1 << 6,
    RG_REASON_RATE_LIMITED = 1 << 7, /* the client posts too often */
    RG_REASON_SPAM = 1 << 8,         /* the content filter's verdicts */
    RG_REASON_UNSURE = 1 << 9,
    RG_REASON_STORE_UNAVAILABLE = 1 << 10 /* a store failed: no verdict */
} rg_reason;

/* Whose submissions a rate limit counts together. */
typedef enum rg_limit_by {
    RG_LIMIT_BY_CLIENT = 0,        /* the client's address (default) */
    RG_LIMIT_BY_BINDING = 1,       /* the binding (a post, a form) */
    RG_LIMIT_BY_CLIENT_BINDING = 2 /* each client on each binding */
} rg_limit_by;

/* One submitted comment. Strings are untrusted UTF-8, NULL for none. */
typedef struct rg_submission {
    size_t size;        /* sizeof(rg_submission), set by rg_submission_init */
    const char *author; /* the comment */
    const char *email;
    const char *url;
    const char *body;
    const char *token;    /* the challenge's hidden field */
    const char *answer;   /* what the reader typed */
    const char *honeypot; /* the honeypot field's value */
    const char *client;   /* the client's IP address, as text */
    const char *binding;  /* as given to rg_challenge_issue() */
} rg_submission;

RG_EXPORT void rg_submission_init(rg_submission *s);

/*
 * What to do about each finding, and the layers to run. The handles are
 * the caller's, used and not owned; NULL turns a layer off.
 */
typedef struct rg_policy {
    size_t size;                    /* sizeof(rg_policy) */
    rg_action on_honeypot;          /* REJECT */
    rg_action on_captcha_wrong;     /* REJECT */
    rg_action on_captcha_expired;   /* REJECT */
    rg_action on_captcha_too_fast;  /* REJECT */
    rg_action on_captcha_replayed;  /* REJECT */
    rg_action on_captcha_forged;    /* REJECT */
    rg_action on_captcha_malformed; /* REJECT */
    rg_action on_rate_limited;      /* REJECT */
    rg_action on_spam;              /* REJECT */
    rg_action on_unsure;            /* MODERATE */
    rg_action on_store_unavailable; /* MODERATE */
    rg_limiter *limiter;            /* NULL; per rg_client_key(client, 64) */
    rg_limiter *limiter_ipv6_56;    /* NULL; per /56 of an IPv6 client */
    rg_limiter *limiter_ipv6_48;    /* NULL; per /48 of an IPv6 client */
    rg_limit_by limit_by;           /* RG_LIMIT_BY_CLIENT */
    uint32_t failure_cost;          /* 3: what a failed challenge takes
                                       from the limiters, 1 to 1000 */
    rg_limiter *failures;           /* NULL; counts each client's failed
                                       challenges, for escalation */
    uint32_t escalation_step_s;     /* 10: added to the minimum solve
                                       time per failure counted */
    uint32_t escalation_cap_s;      /* 300: the most it can grow to */
    rg_bayes *bayes;                /* NULL; the content filter */
} rg_policy;

RG_EXPORT void rg_policy_init(rg_policy *p);

/* The decision on one submission. */
typedef struct rg_decision {
    rg_action action;        /* the most severe action of any finding */
    uint32_t reasons;        /* rg_reason bits: every finding */
    rg_verdict verdict;      /* the challenge's, when it was verified */
    int verified;            /* 1 when the challenge was verified */
    double spamicity;        /* the filter's score, or -1 when it did not
                                run */
    uint64_t retry_after_ms; /* when rate limited: when to try again */
    uint32_t min_solve_s;    /* the minimum solve time applied */
} rg_decision;

/*
 * Judges one submission. The layers run in this order: the rate limits
 * (every submission pays 1), the honeypot, the challenge (not verified
 * once the decision is REJECT: a limited client gets no guess), then the
 * content filter (not run once the decision is REJECT). A failed challenge
 * pays failure_cost in all and counts one failure; each failure counted
 * raises the client's minimum solve time by escalation_step_s, up to
 * escalation_cap_s. A store that fails adds RG_REASON_STORE_UNAVAILABLE,
 * never an error and never an acceptance by default. p NULL means the
 * default policy (no limiter, no filter).
 * Errors: RG_EINVAL (g, s or out NULL, a size too small, an action or
 * setting out of range), RG_EADDRESS (s->client is not an IP address
 * while a limiter counts by client); *out is then a REJECT with no
 * reasons. Thread-safe.
 */
RG_EXPORT RG_WARN_UNUSED int rg_judge(rg_guard *g, const rg_submission *s,
                                      const rg_policy *p, rg_decision *out);

/* "accept", "moderate", "reject"; "unknown" otherwise. */
RG_EXPORT const char *rg_action_name(rg_action a);

/* The name of one reason bit: "honeypot", "captcha_wrong", ...,
 * "store_unavailable"; "unknown" for anything else. */
RG_EXPORT const char *rg_reason_name(uint32_t reason);

#ifdef __cplusplus
}
#endif

#endif /* REPLYGUARD_H */
