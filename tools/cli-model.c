/*
 * captcha-check: the verbs that look after what the stores hold. stats
 * tells how big the model is and whether the stores answer; export writes
 * the model and the spent tokens as JSON Lines, import adds them back, and
 * migrate does both at once, from one store to another (a SQLite file to
 * the Redis that several web servers share, say). The file format is in
 * docs/captcha-check.md.
 *
 * These verbs walk the stores through the library's internal export calls
 * (lib/export-private.h), which captcha-check reaches because it links the
 * library's objects rather than its shared library.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>

#include "cli-jsonl.h"
#include "cli.h"
#include "export-private.h"

/* The version of the export format this code writes and reads. */
#define EXPORT_VERSION 1

/*
 * Tokens added per call of the store: one transaction with sqlite:, one
 * script (which holds the server meanwhile) with redis:. Large enough
 * that a transaction's cost is spread thin, small enough that a shared
 * Redis is never held for long.
 */
#define IMPORT_BATCH 4096

/*
 * The most tokens one import or migrate holds: the memory: model's own
 * bound. A token set's 32-bit offsets bound the bytes of its tokens to
 * 4 GiB as well, which payload_add_token() checks.
 */
#define PAYLOAD_TOKENS_MAX 100000000u

/* Spent-token times are whole seconds that every store takes (redis:
 * keeps them in milliseconds, in 64 bits). */
#define EXPIRES_AT_MAX ((uint64_t)INT64_MAX / 1000)

/* A walk's status when the output failed: no RG_ code is positive. */
#define WRITE_FAILED 1

/* ---- Small helpers ---- */

static uint64_t now_s(void)
{
    time_t t = time(NULL);
    return t < 0 ? 0 : (uint64_t)t;
}

/* The file of a sqlite: URL, or NULL for another scheme. */
static const char *sqlite_path(const char *url)
{
    return strncasecmp(url, "sqlite:", 7) == 0 ? url + 7 : NULL;
}

/*
 * Refuses a sqlite: file that does not exist, for a verb that only reads
 * it: opening would create it empty. Returns CLI_EX_OK or CLI_EX_IOERR.
 */
static int must_exist(const char *url, const char *what)
{
    const char *path = sqlite_path(url);

    if (path && access(path, F_OK) != 0 && errno == ENOENT) {
        cli_error("%s '%s': no such file", what, url);
        return CLI_EX_IOERR;
    }
    return CLI_EX_OK;
}

/* A memory: model or store would be empty, or gone when the command ends:
 * a usage error, like train's. */
static int refuse_memory(const cli_verb *self, const char *flag,
                         const char *url)
{
    if (url && cli_is_memory_url(url))
        return cli_usage_error(self,
                               "%s memory: lives only as long as "
                               "captcha-check runs; use sqlite:PATH or "
                               "redis://...",
                               flag);
    return CLI_EX_OK;
}

/* Reports a failed call on a store (what: "model" or "store"). */
static int store_error(int rc, const char *what, const char *url)
{
    /* With a model, RG_ERANGE is a count at its 32-bit limit. */
    if (rc == RG_ERANGE) {
        cli_error("%s '%s': a token's count would pass %" PRIu32, what, url,
                  UINT32_MAX);
        return CLI_EX_IOERR;
    }
    if (rc == RG_ENOMEM) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    return cli_report_error(rc, what, url, NULL);
}

static int open_store(const char *url, const char *what, rg_store **s)
{
    int rc = rg_store_open(s, url);
    if (rc == RG_OK)
        return CLI_EX_OK;
    *s = NULL;
    return store_error(rc, what, url);
}

/*
 * Writes the model image after a bulk change, as train does, so that the
 * next classify reads the model in one piece. Only speed depends on it,
 * so a failure is a warning.
 */
static void optimize(rg_store *s, const char *url)
{
    int rc = rg__store_model_optimize(s);
    if (rc != RG_OK && rc != RG_ENOSUPPORT)
        cli_error("warning: model '%s': model image not written: %s", url,
                  rg_strerror(rc));
}

/* ---- A model and spent tokens on their way into a store ---- */

/*
 * What import read from a file, or migrate from a store: every token once,
 * with the counts to add to it, the totals to add, and the spent tokens.
 */
typedef struct payload {
    rg__token_set tokens;
    rg__delta *counts; /* counts[i] for token i */
    size_t counts_room;
    rg__totals totals;
    bool have_tokens_total; /* the source said how many tokens it has */
    uint64_t tokens_total;
    rg__nonce_entry *nonces;
    size_t nnonces, nonces_room;
} payload;

static void payload_init(payload *p)
{
    memset(p, 0, sizeof *p);
    rg__token_set_init(&p->tokens, PAYLOAD_TOKENS_MAX);
}

static void payload_free(payload *p)
{
    rg__token_set_free(&p->tokens);
    free(p->counts);
    free(p->nonces);
}

/*
 * Adds counts to a token (len 1 to RG__TOKEN_LEN_MAX), which is new or
 * met before. Returns RG_OK, RG_EFULL (more than PAYLOAD_TOKENS_MAX
 * tokens, or 4 GiB of them) or RG_ENOMEM.
 */
static int payload_add_token(payload *p, const char *token, size_t len,
                             uint32_t spam, uint32_t ham)
{
    size_t before = p->tokens.count;

    if (p->tokens.text_len + len + 1 > UINT32_MAX)
        return RG_EFULL;
    long i = rg__token_set_add(&p->tokens, token, len);

    if (i < 0)
        return i == -1 ? RG_EFULL : RG_ENOMEM;
    if ((size_t)i == before) {
        if (!rg__grow(&p->counts, &p->counts_room, before + 1,
                      sizeof *p->counts, 1024, false))
            return RG_ENOMEM;
        p->counts[i] = (rg__delta){0, 0};
    }
    /* Counts of 32 bits from fewer than 2^31 lines fit in 64. */
    p->counts[i].spam += spam;
    p->counts[i].ham += ham;
    return RG_OK;
}

static int payload_add_nonce(payload *p, const uint8_t nonce[RG__NONCE_BYTES],
                             uint64_t expires_at)
{
    if (!rg__grow(&p->nonces, &p->nonces_room, p->nnonces + 1,
                  sizeof *p->nonces, 64, false))
        return RG_ENOMEM;
    memcpy(p->nonces[p->nnonces].nonce, nonce, RG__NONCE_BYTES);
    p->nonces[p->nnonces++].expires_at = expires_at;
    return RG_OK;
}

/*
 * Adds the payload's model to a store in batches of IMPORT_BATCH tokens,
 * each one call (one transaction with sqlite:), with the totals in the
 * last one: a model that an error cuts short then never counts comments
 * whose tokens it lacks. *added counts the tokens of the batches that
 * went in. Returns RG_OK or the store's error.
 */
static int add_model(rg_store *s, const payload *p, uint64_t *added)
{
    rg__token_set batch;
    size_t n = p->tokens.count, i = 0;
    int rc = RG_OK;

    *added = 0;
    rg__token_set_init(&batch, IMPORT_BATCH);
    do {
        size_t end = n - i > IMPORT_BATCH ? i + IMPORT_BATCH : n;
        rg__totals_delta totals = {0, 0, 0, 0};

        rg__token_set_clear(&batch);
        for (size_t k = i; k < end && rc == RG_OK; k++) {
            size_t len;
            const char *tok = rg__token_set_get(&p->tokens, k, &len);
            /* The tokens are distinct, so token k lands at k - i, next to
             * its counts. */
            if (rg__token_set_add_hashed(&batch, tok, len,
                                         rg__token_set_hash(&p->tokens, k)) !=
                (long)(k - i))
                rc = RG_ENOMEM;
        }
        if (end == n)
            totals = (rg__totals_delta){
                (int64_t)p->totals.spam, (int64_t)p->totals.ham,
                (int64_t)p->totals.spam_words, (int64_t)p->totals.ham_words};
        if (rc == RG_OK)
            rc = rg__store_model_add(s, &batch, p->counts + i, totals);
        if (rc == RG_OK)
            *added += end - i;
        i = end;
    } while (rc == RG_OK && i < n);
    rg__token_set_free(&batch);
    return rc;
}

/* What adding the spent tokens did. */
typedef struct nonce_counts {
    uint64_t fresh;   /* spent now */
    uint64_t already; /* the store had them spent */
    uint64_t expired; /* past their time: left out */
} nonce_counts;

/* Spends the payload's tokens in a store, as verify would have. */
static int add_nonces(rg_store *s, const payload *p, nonce_counts *nc)
{
    uint64_t now = now_s();

    memset(nc, 0, sizeof *nc);
    for (size_t i = 0; i < p->nnonces; i++) {
        bool fresh = false;
        if (p->nonces[i].expires_at < now) {
            nc->expired++;
            continue;
        }
        int rc = rg__store_spend(s, p->nonces[i].nonce, p->nonces[i].expires_at,
                                 now, &fresh);
        if (rc != RG_OK)
            return rc;
        if (fresh)
            nc->fresh++;
        else
            nc->already++;
    }
    return RG_OK;
}

/* ---- Writing an export ---- */

typedef struct writer {
    FILE *fp;
    rg__totals totals;
    uint64_t tokens, nonces; /* lines written */
} writer;

static int write_header(void *arg, const rg__totals *t, uint64_t tokens)
{
    writer *w = arg;

    w->totals = *t;
    fprintf(w->fp,
            "{\"replyguard\":\"export\",\"version\":%d,\"spam\":%" PRIu64
            ",\"ham\":%" PRIu64 ",\"spam_words\":%" PRIu64
            ",\"ham_words\":%" PRIu64 ",\"tokens\":%" PRIu64 "}\n",
            EXPORT_VERSION, t->spam, t->ham, t->spam_words, t->ham_words,
            tokens);
    return ferror(w->fp) ? WRITE_FAILED : RG_OK;
}

/*
 * {"token":"pills","spam":212,"ham":0}: the token as a JSON string when
 * it is UTF-8 without a NUL, which jansson reads back byte for byte; else
 * its bytes in base64 (RFC 4648, with padding) and "base64":true. A token
 * is not always text: the tokenizer keeps bytes that are not UTF-8 as
 * they came.
 */
static int write_token(void *arg, const char *token, size_t len,
                       rg__counts counts)
{
    writer *w = arg;
    char text[RG__TOKEN_LEN_MAX + 1];

    if (len == 0 || len > RG__TOKEN_LEN_MAX)
        return RG_ESTORE;
    memcpy(text, token, len);
    text[len] = '\0';
    fputs("{\"token\":", w->fp);
    if (cli_utf8_valid(text, len)) {
        cli_json_string(w->fp, text);
    } else {
        char b64[sodium_base64_ENCODED_LEN(RG__TOKEN_LEN_MAX,
                                           sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)token, len,
                          sodium_base64_VARIANT_ORIGINAL);
        fprintf(w->fp, "\"%s\",\"base64\":true", b64);
    }
    fprintf(w->fp, ",\"spam\":%" PRIu32 ",\"ham\":%" PRIu32 "}\n", counts.spam,
            counts.ham);
    w->tokens++;
    return ferror(w->fp) ? WRITE_FAILED : RG_OK;
}

/* {"nonce":"00112233...","expires_at":1795813489} */
static int write_nonce(void *arg, const uint8_t nonce[RG__NONCE_BYTES],
                       uint64_t expires_at)
{
    writer *w = arg;
    char hex[2 * RG__NONCE_BYTES + 1];

    sodium_bin2hex(hex, sizeof hex, nonce, RG__NONCE_BYTES);
    fprintf(w->fp, "{\"nonce\":\"%s\",\"expires_at\":%" PRIu64 "}\n", hex,
            expires_at);
    w->nonces++;
    return ferror(w->fp) ? WRITE_FAILED : RG_OK;
}

/*
 * Opens the output: `path`, created with mode 0600 if missing (the words
 * of a site's comments are its own business) and emptied if not; or
 * standard output for NULL or "-". Returns CLI_EX_OK, or CLI_EX_CANTCREAT
 * after an error naming the file.
 */
static int open_output(const char *path, FILE **fp)
{
    if (!path || strcmp(path, "-") == 0) {
        *fp = stdout;
        return CLI_EX_OK;
    }
    int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0 || !(*fp = fdopen(fd, "w"))) {
        cli_error("%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_EX_CANTCREAT;
    }
    return CLI_EX_OK;
}

/*
 * Closes the output, reporting a write error; after a failure (`failed`)
 * a regular file is removed, so that no half export is left to import.
 * Returns CLI_EX_OK or CLI_EX_IOERR.
 */
static int close_output(FILE *fp, const char *path, bool failed)
{
    struct stat st;

    if (fp == stdout)
        return failed ? CLI_EX_IOERR : CLI_EX_OK;
    bool is_file = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
    int ex = CLI_EX_OK;
    if (fclose(fp) != 0 && !failed) {
        cli_error("%s: %s", path, strerror(errno));
        ex = CLI_EX_IOERR;
    }
    if ((failed || ex != CLI_EX_OK) && is_file)
        unlink(path);
    return failed ? CLI_EX_IOERR : ex;
}

/* Reports what made a walk fail; returns the exit status. */
static int walk_error(int rc, const char *what, const char *url,
                      const char *path)
{
    if (rc == WRITE_FAILED) {
        /* main() reports standard output that could not be written. */
        if (path && strcmp(path, "-") != 0)
            cli_error("%s: %s", path, strerror(errno));
        return CLI_EX_IOERR;
    }
    return store_error(rc, what, url);
}

/* ---- Reading an export ---- */

/*
 * An integer member from 0 to max. Absent: true with *present false when
 * `required` is false. False, with the reason in why, otherwise.
 */
static bool integer_member(const json_t *obj, const char *key, uint64_t max,
                           bool required, uint64_t *out, bool *present,
                           char *why, size_t why_size)
{
    const json_t *v = json_object_get(obj, key);

    if (present)
        *present = v != NULL;
    if (!v) {
        if (required)
            snprintf(why, why_size, "no \"%s\"", key);
        return !required;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max) {
        snprintf(why, why_size,
                 "\"%s\" is %s, not an integer from 0 to %" PRIu64, key,
                 json_is_integer(v) ? "out of range" : cli_json_kind(v), max);
        return false;
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/*
 * The first line: {"replyguard":"export","version":1,"spam":N,"ham":N,
 * "spam_words":N,"ham_words":N,"tokens":N}, "tokens" optional (what the
 * file must then hold). False, with why, for anything else: a file that
 * is no export, or one of another version, is refused whole.
 */
static bool parse_header(const json_t *root, payload *p, char *why,
                         size_t why_size)
{
    const json_t *magic = json_object_get(root, "replyguard");
    const json_t *version = json_object_get(root, "version");

    if (!json_is_string(magic) ||
        strcmp(json_string_value(magic), "export") != 0) {
        snprintf(why, why_size,
                 "not a replyguard export: the first line must be its "
                 "header, {\"replyguard\":\"export\",\"version\":%d,...}",
                 EXPORT_VERSION);
        return false;
    }
    if (!json_is_integer(version) ||
        json_integer_value(version) != EXPORT_VERSION) {
        if (json_is_integer(version))
            snprintf(why, why_size,
                     "an export of version %" JSON_INTEGER_FORMAT
                     "; this captcha-check reads version %d",
                     json_integer_value(version), EXPORT_VERSION);
        else
            snprintf(why, why_size,
                     "the header's \"version\" is %s, not an integer",
                     version ? cli_json_kind(version) : "missing");
        return false;
    }
    return integer_member(root, "spam", INT64_MAX, true, &p->totals.spam, NULL,
                          why, why_size) &&
           integer_member(root, "ham", INT64_MAX, true, &p->totals.ham, NULL,
                          why, why_size) &&
           integer_member(root, "spam_words", INT64_MAX, true,
                          &p->totals.spam_words, NULL, why, why_size) &&
           integer_member(root, "ham_words", INT64_MAX, true,
                          &p->totals.ham_words, NULL, why, why_size) &&
           integer_member(root, "tokens", PAYLOAD_TOKENS_MAX, false,
                          &p->tokens_total, &p->have_tokens_total, why,
                          why_size);
}

/*
 * A token line: "token" (a string; with "base64":true, its bytes in
 * base64), "spam" and "ham" (integers from 0 to 2^32 - 1). Returns 1, 0
 * with why for a bad line, or -1 when out of memory.
 */
static int parse_token(const json_t *root, payload *p, char *why,
                       size_t why_size)
{
    const json_t *token = json_object_get(root, "token");
    const json_t *b64 = json_object_get(root, "base64");
    uint64_t spam, ham;
    unsigned char bytes[RG__TOKEN_LEN_MAX];
    const char *tok;
    size_t len;

    if (!json_is_string(token)) {
        snprintf(why, why_size, "\"token\" is %s, not a string",
                 cli_json_kind(token));
        return 0;
    }
    if (b64 && !json_is_boolean(b64)) {
        snprintf(why, why_size, "\"base64\" is %s, not true or false",
                 cli_json_kind(b64));
        return 0;
    }
    if (json_is_true(b64)) {
        if (sodium_base642bin(bytes, sizeof bytes, json_string_value(token),
                              json_string_length(token), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) {
            snprintf(why, why_size,
                     "\"token\" is not base64 of at most %d bytes",
                     RG__TOKEN_LEN_MAX);
            return 0;
        }
        tok = (const char *)bytes;
    } else {
        tok = json_string_value(token);
        len = json_string_length(token);
    }
    if (len == 0) {
        snprintf(why, why_size, "the token is empty");
        return 0;
    }
    if (len > RG__TOKEN_LEN_MAX) {
        snprintf(why, why_size, "the token is longer than %d bytes",
                 RG__TOKEN_LEN_MAX);
        return 0;
    }
    if (!integer_member(root, "spam", UINT32_MAX, true, &spam, NULL, why,
                        why_size) ||
        !integer_member(root, "ham", UINT32_MAX, true, &ham, NULL, why,
                        why_size))
        return 0;
    int rc = payload_add_token(p, tok, len, (uint32_t)spam, (uint32_t)ham);
    if (rc == RG_EFULL) {
        snprintf(why, why_size, "more tokens than one import takes (%u)",
                 PAYLOAD_TOKENS_MAX);
        return 0;
    }
    return rc == RG_OK ? 1 : -1;
}

/* A spent token: "nonce" (32 hex digits) and "expires_at" (Unix
 * seconds). As parse_token(). */
static int parse_nonce(const json_t *root, payload *p, char *why,
                       size_t why_size)
{
    const json_t *hex = json_object_get(root, "nonce");
    uint8_t nonce[RG__NONCE_BYTES];
    size_t len = 0;
    uint64_t expires_at;

    if (!json_is_string(hex) ||
        json_string_length(hex) != 2 * RG__NONCE_BYTES ||
        sodium_hex2bin(nonce, sizeof nonce, json_string_value(hex),
                       2 * RG__NONCE_BYTES, NULL, &len, NULL) != 0 ||
        len != RG__NONCE_BYTES) {
        snprintf(why, why_size, "\"nonce\" is not %d hexadecimal digits",
                 2 * RG__NONCE_BYTES);
        return 0;
    }
    if (!integer_member(root, "expires_at", EXPIRES_AT_MAX, true, &expires_at,
                        NULL, why, why_size))
        return 0;
    return payload_add_nonce(p, nonce, expires_at) == RG_OK ? 1 : -1;
}

/* One line after the header: a token or a spent token. As parse_token(). */
static int parse_line(const cli_reader *r, payload *p, char *why,
                      size_t why_size)
{
    json_t *root;

    if (r->too_long) {
        snprintf(why, why_size, CLI_LINE_TOO_LONG);
        return 0;
    }
    int got = cli_jsonl_parse(r->line, r->len, &root, why, why_size);
    if (got <= 0)
        return got;
    bool is_token = json_object_get(root, "token") != NULL;
    bool is_nonce = json_object_get(root, "nonce") != NULL;
    if (json_object_get(root, "replyguard")) {
        snprintf(why, why_size, "a second header");
        got = 0;
    } else if (is_token == is_nonce) {
        snprintf(why, why_size, "%s \"token\" and \"nonce\"",
                 is_token ? "both" : "neither");
        got = 0;
    } else {
        got = is_token ? parse_token(root, p, why, why_size)
                       : parse_nonce(root, p, why, why_size);
    }
    json_decref(root);
    return got;
}

/*
 * Reads a whole export into *p before anything is written, so that a bad
 * line leaves the stores as they were: every bad line is reported as
 * FILE:LINE, and the import refused. Returns CLI_EX_OK; CLI_EX_DATAERR
 * (no header, another version, bad lines, or fewer or more tokens than
 * the header says); or CLI_EX_IOERR or CLI_EX_SOFTWARE after a read error
 * or when out of memory.
 */
static int read_export(cli_reader *r, payload *p)
{
    char why[256];
    uint64_t bad = 0;
    int rc;

    rc = cli_reader_next(r);
    if (rc < 0)
        return cli_reader_error(r, rc);
    if (rc == 0) {
        cli_error("%s: empty: not a replyguard export", r->name);
        return CLI_EX_DATAERR;
    }
    json_t *root = NULL;
    int got = r->too_long
                  ? 0
                  : cli_jsonl_parse(r->line, r->len, &root, why, sizeof why);
    if (r->too_long)
        snprintf(why, sizeof why, CLI_LINE_TOO_LONG);
    if (got > 0 && !parse_header(root, p, why, sizeof why))
        got = 0;
    json_decref(root);
    if (got < 0) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    if (got == 0) {
        cli_reader_bad_line(r, why);
        return CLI_EX_DATAERR;
    }

    while ((rc = cli_reader_next(r)) > 0) {
        got = parse_line(r, p, why, sizeof why);
        if (got < 0) {
            rc = -2;
            break;
        }
        if (got == 0) {
            cli_reader_bad_line(r, why);
            bad++;
        }
    }
    if (rc < 0)
        return cli_reader_error(r, rc);
    if (bad > 0) {
        cli_error("%s: %" PRIu64 " bad line%s; nothing imported", r->name, bad,
                  bad == 1 ? "" : "s");
        return CLI_EX_DATAERR;
    }
    if (p->have_tokens_total && p->tokens_total != p->tokens.count) {
        cli_error("%s: the header says %" PRIu64 " tokens, the file holds "
                  "%zu (cut short?); nothing imported",
                  r->name, p->tokens_total, p->tokens.count);
        return CLI_EX_DATAERR;
    }
    return CLI_EX_OK;
}

/* ---- Gathering from a store, for migrate ---- */

static int gather_totals(void *arg, const rg__totals *t, uint64_t tokens)
{
    payload *p = arg;

    p->totals = *t;
    p->have_tokens_total = true;
    p->tokens_total = tokens;
    return RG_OK;
}

static int gather_token(void *arg, const char *token, size_t len,
                        rg__counts counts)
{
    return payload_add_token(arg, token, len, counts.spam, counts.ham);
}

static int gather_nonce(void *arg, const uint8_t nonce[RG__NONCE_BYTES],
                        uint64_t expires_at)
{
    return payload_add_nonce(arg, nonce, expires_at);
}

/* ---- stats ---- */

/* What stats reports of one database. */
typedef struct report {
    const char *role; /* "model" or "store" */
    char *url;        /* NULL when there is none to report */
    const char *backend;
    bool is_model;
    rg_bayes_stats st;
    rg__totals totals;
    rg__store_health health;
    int64_t file_bytes, wal_bytes; /* sqlite: the file and its WAL, or -1 */
} report;

/* The size of a file, or -1 when it cannot be seen. */
static int64_t file_size(const char *path, const char *suffix)
{
    struct stat st;
    char buf[4096];

    if (snprintf(buf, sizeof buf, "%s%s", path, suffix) >= (int)sizeof buf ||
        stat(buf, &st) != 0)
        return -1;
    return (int64_t)st.st_size;
}

/*
 * Which database to report: the one given (option, global option or
 * environment), which must exist; else the default one when its file
 * exists; else none (rp->url NULL). Returns CLI_EX_OK or the exit status
 * after an error.
 */
static int pick(report *rp, const char *given, bool model)
{
    if (given) {
        if (!(rp->url = strdup(given))) {
            cli_error("out of memory");
            return CLI_EX_SOFTWARE;
        }
        return model ? cli_check_model(rp->url) : must_exist(rp->url, "store");
    }
    /* Without a data directory there is no default to look for; stats
     * says so only when it has nothing else to report. */
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (!(xdg && xdg[0] == '/') && !(home && home[0] == '/'))
        return CLI_EX_OK;
    int ex = cli_default_url(model, &rp->url);
    if (ex != CLI_EX_OK)
        return ex;
    if (access(rp->url + 7, F_OK) != 0) {
        free(rp->url);
        rp->url = NULL;
    }
    return CLI_EX_OK;
}

/* Opens a database and reads what stats reports of it. */
static int gather_report(report *rp)
{
    rg_store *s = NULL;
    int ex = open_store(rp->url, rp->role, &s);
    if (ex != CLI_EX_OK)
        return ex;
    rp->backend = rg__store_scheme(s);
    int rc = RG_OK;
    if (rp->is_model) {
        /* The comments and tokens as the filter's own call gives them;
         * the words, which it does not, from the store. */
        rg_bayes *b = NULL;
        uint64_t tokens;
        rc = rg_bayes_open(&b, rp->url, NULL);
        if (rc == RG_OK)
            rc = rg_bayes_stats_get(b, &rp->st);
        rg_bayes_close(b);
        if (rc == RG_OK)
            rc = rg__store_model_totals(s, &rp->totals, &tokens);
    }
    if (rc == RG_OK)
        rc = rg__store_check(s, now_s(), &rp->health);
    rg_store_close(s);
    if (rc != RG_OK)
        return store_error(rc, rp->role, rp->url);
    const char *path = sqlite_path(rp->url);
    rp->file_bytes = path ? file_size(path, "") : -1;
    rp->wal_bytes = path ? file_size(path, "-wal") : -1;
    return CLI_EX_OK;
}

/* The health in words: "ok (quick_check)", "ok (PING 0.153 ms)". */
static void health_text(const report *rp, char *out, size_t size)
{
    const rg__store_health *h = &rp->health;

    if (h->checked && !h->ok) {
        char detail[sizeof h->detail];
        cli_for_message(h->detail, detail, sizeof detail);
        snprintf(out, size, "damaged: %s", detail);
    } else if (h->checked) {
        snprintf(out, size, "ok (quick_check)");
    } else if (h->round_trip_ns > 0) {
        snprintf(out, size, "ok (PING %.3f ms)",
                 (double)h->round_trip_ns / 1e6);
    } else {
        snprintf(out, size, "ok");
    }
}

/* A count that may be unknown (-1): the number, or null / "unknown". */
static void put_count(FILE *fp, int64_t n, bool json)
{
    if (n >= 0)
        fprintf(fp, "%" PRId64, n);
    else
        fputs(json ? "null" : "unknown", fp);
}

static void put_report_text(const report *rp)
{
    char health[sizeof rp->health.detail + 64];

    if (!rp->url) {
        printf("%s: none\n", rp->role);
        return;
    }
    printf("%s: %s\n", rp->role, rp->url);
    if (rp->is_model) {
        printf("  spam comments: %" PRIu64 "\n", rp->st.spam_comments);
        printf("  ham comments: %" PRIu64 "\n", rp->st.ham_comments);
        printf("  spam words: %" PRIu64 "\n", rp->totals.spam_words);
        printf("  ham words: %" PRIu64 "\n", rp->totals.ham_words);
        printf("  tokens: %" PRIu64 "\n", rp->st.tokens);
    } else {
        fputs("  spent tokens: ", stdout);
        put_count(stdout, rp->health.nonces, false);
        fputs("\n  rate-limit keys: ", stdout);
        put_count(stdout, rp->health.limit_keys, false);
        putchar('\n');
    }
    if (rp->file_bytes >= 0) {
        printf("  file: %" PRId64 " bytes", rp->file_bytes);
        if (rp->wal_bytes >= 0)
            printf(", WAL %" PRId64 " bytes", rp->wal_bytes);
        putchar('\n');
    }
    health_text(rp, health, sizeof health);
    printf("  health: %s\n", health);
}

static void put_report_json(const report *rp)
{
    const rg__store_health *h = &rp->health;

    printf("\"%s\":", rp->role);
    if (!rp->url) {
        fputs("null", stdout);
        return;
    }
    fputs("{\"url\":", stdout);
    cli_json_string(stdout, rp->url);
    printf(",\"backend\":\"%s\"", rp->backend);
    if (rp->is_model)
        printf(",\"spam\":%" PRIu64 ",\"ham\":%" PRIu64
               ",\"spam_words\":%" PRIu64 ",\"ham_words\":%" PRIu64
               ",\"tokens\":%" PRIu64,
               rp->st.spam_comments, rp->st.ham_comments, rp->totals.spam_words,
               rp->totals.ham_words, rp->st.tokens);
    else {
        fputs(",\"spent\":", stdout);
        put_count(stdout, h->nonces, true);
        fputs(",\"limit_keys\":", stdout);
        put_count(stdout, h->limit_keys, true);
    }
    fputs(",\"file_bytes\":", stdout);
    put_count(stdout, rp->file_bytes, true);
    fputs(",\"wal_bytes\":", stdout);
    put_count(stdout, rp->wal_bytes, true);
    printf(",\"health\":\"%s\",\"checked\":%s",
           h->ok || !h->checked ? "ok" : "damaged",
           h->checked ? "true" : "false");
    if (h->checked && !h->ok) {
        fputs(",\"problem\":", stdout);
        cli_json_string(stdout, h->detail);
    }
    fputs(",\"ping_ms\":", stdout);
    if (h->round_trip_ns > 0)
        printf("%.3f", (double)h->round_trip_ns / 1e6);
    else
        fputs("null", stdout);
    putchar('}');
}

static int run_stats(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"store", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *store = NULL;
    bool json = false;
    int c;

    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'S':
            store = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'V':
            return cli_version();
        case 'h':
            return cli_help(self);
        default:
            return cli_option_error(self, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    const char *given_db = cli_given_model(db);
    const char *given_store = cli_given_store(store);
    if (refuse_memory(self, "--db", given_db) != CLI_EX_OK ||
        refuse_memory(self, "--store", given_store) != CLI_EX_OK)
        return CLI_EX_USAGE;

    report model = {.role = "model", .is_model = true};
    report st = {.role = "store"};
    int ex = pick(&model, given_db, true);
    if (ex == CLI_EX_OK)
        ex = pick(&st, given_store, false);
    if (ex == CLI_EX_OK && !model.url && !st.url) {
        char *m = NULL, *s = NULL;
        ex = cli_default_url(true, &m);
        if (ex == CLI_EX_OK)
            ex = cli_default_url(false, &s);
        if (ex == CLI_EX_OK) {
            cli_error("no model at '%s' and no store at '%s': nothing to "
                      "report; give --db or --store",
                      m, s);
            ex = CLI_EX_IOERR;
        }
        free(m);
        free(s);
    }
    if (ex == CLI_EX_OK && model.url)
        ex = gather_report(&model);
    if (ex == CLI_EX_OK && st.url)
        ex = gather_report(&st);

    if (ex == CLI_EX_OK) {
        if (json) {
            putchar('{');
            put_report_json(&model);
            putchar(',');
            put_report_json(&st);
            puts("}");
        } else {
            put_report_text(&model);
            put_report_text(&st);
        }
        /* A damaged file is reported, and is a failure. */
        const report *both[] = {&model, &st};
        for (size_t i = 0; i < 2; i++) {
            const rg__store_health *h = &both[i]->health;
            if (both[i]->url && h->checked && !h->ok) {
                cli_error("%s '%s': damaged (PRAGMA quick_check)",
                          both[i]->role, both[i]->url);
                ex = CLI_EX_IOERR;
            }
        }
    }
    free(model.url);
    free(st.url);
    return ex;
}

const cli_verb cli_verb_stats = {
    "stats",
    "show the model's size and the stores' health",
    "Usage: captcha-check stats [--db URL] [--store URL] [--json]\n"
    "\n"
    "Shows the spam filter's model (comments, words and distinct tokens\n"
    "learned) and the store (spent tokens not yet expired, rate-limit\n"
    "keys), and whether each answers: sqlite: runs PRAGMA quick_check and\n"
    "gives the file's size, redis: times a PING. Without --db or --store\n"
    "(or their variables) it reports the default model and store when their\n"
    "files exist.\n"
    "\n"
    "  --db URL      the model: sqlite:PATH or redis://... (default:\n"
    "                $REPLYGUARD_DB, else the default model if it exists)\n"
    "  --store URL   the store: sqlite:PATH or redis://... (default:\n"
    "                $REPLYGUARD_STORE, else the default store if it exists)\n"
    "  --json        print one JSON object: {\"model\":{...},\"store\":{...}}\n"
    "  -h, --help    show this help\n"
    "  --version     show the version\n"
    "\n"
    "Exits 0; 64 usage error; 74 a model or store that cannot be opened or\n"
    "read, is damaged, or none to report; 70 internal error.\n",
    run_stats,
};

/*
 * The command line of export and import, which take the same options:
 * --db, --store and one FILE. Returns -1 to go on, with *db, *store_url and
 * *path set, or the exit status to end with (help, version, usage error).
 */
static int model_file_options(const cli_verb *self, int argc, char **argv,
                              const char **db, const char **store_url,
                              const char **path)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"store", required_argument, NULL, 'S'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *store = NULL;
    int c;

    *db = *store_url = *path = NULL;
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            *db = optarg;
            break;
        case 'S':
            store = optarg;
            break;
        case 'V':
            return cli_version();
        case 'h':
            return cli_help(self);
        default:
            return cli_option_error(self, c, argv);
        }
    }
    if (cli_file_operand(self, argc, argv, path) != CLI_EX_OK)
        return CLI_EX_USAGE;
    *store_url = cli_given_store(store);
    if (refuse_memory(self, "--db", cli_given_model(*db)) != CLI_EX_OK ||
        refuse_memory(self, "--store", *store_url) != CLI_EX_OK)
        return CLI_EX_USAGE;
    return -1;
}

/* ---- export ---- */

static int run_export(const cli_verb *self, int argc, char **argv)
{
    const char *db, *store_url, *path;
    int ex = model_file_options(self, argc, argv, &db, &store_url, &path);
    if (ex >= 0)
        return ex;

    char *model_url = NULL;
    rg_store *model = NULL, *spent = NULL;
    FILE *fp = NULL;
    ex = cli_model_url(db, &model_url);
    if (ex == CLI_EX_OK)
        ex = cli_check_model(model_url);
    if (ex == CLI_EX_OK && store_url)
        ex = must_exist(store_url, "store");
    if (ex == CLI_EX_OK)
        ex = open_store(model_url, "model", &model);
    if (ex == CLI_EX_OK && store_url)
        ex = open_store(store_url, "store", &spent);
    if (ex == CLI_EX_OK)
        ex = open_output(path, &fp);
    if (ex != CLI_EX_OK)
        goto out;

    writer w = {.fp = fp};
    rg__model_visitor mv = {write_header, write_token, &w};
    int rc = rg__store_export_model(model, &mv);
    if (rc != RG_OK)
        ex = walk_error(rc, "model", model_url, path);
    if (ex == CLI_EX_OK && spent) {
        rg__nonce_visitor nv = {write_nonce, &w};
        rc = rg__store_export_nonces(spent, now_s(), &nv);
        if (rc != RG_OK)
            ex = walk_error(rc, "store", store_url, path);
    }
    if (fflush(fp) != 0 && ex == CLI_EX_OK)
        ex = walk_error(WRITE_FAILED, NULL, NULL, path);
    int closed = close_output(fp, path, ex != CLI_EX_OK);
    if (ex == CLI_EX_OK)
        ex = closed;
    if (ex == CLI_EX_OK && fp != stdout)
        printf("exported %" PRIu64 " tokens (%" PRIu64 " spam, %" PRIu64
               " ham comments) and %" PRIu64 " spent token%s to %s\n",
               w.tokens, w.totals.spam, w.totals.ham, w.nonces,
               w.nonces == 1 ? "" : "s", path);
out:
    rg_store_close(model);
    rg_store_close(spent);
    free(model_url);
    return ex;
}

const cli_verb cli_verb_export = {
    "export",
    "write the model (and spent tokens) as JSON Lines",
    "Usage: captcha-check export [--db URL] [--store URL] [FILE|-]\n"
    "\n"
    "Writes the spam filter's model to FILE (or standard output): a header\n"
    "line {\"replyguard\":\"export\",\"version\":1,\"spam\":N,\"ham\":N,\n"
    "\"spam_words\":N,\"ham_words\":N,\"tokens\":N}, then one line per\n"
    "token in byte order, {\"token\":\"pills\",\"spam\":N,\"ham\":N} (a\n"
    "token that is not UTF-8 in base64, with \"base64\":true), then, with\n"
    "--store, one line per spent token not yet expired,\n"
    "{\"nonce\":\"HEX\",\"expires_at\":SECONDS}. import reads it back.\n"
    "\n"
    "  --db URL      the model: sqlite:PATH or redis://..., which must exist\n"
    "                (default: $REPLYGUARD_DB, else the default model)\n"
    "  --store URL   also the spent tokens of this store (default:\n"
    "                $REPLYGUARD_STORE; none without either)\n"
    "  -h, --help    show this help\n"
    "  --version     show the version\n"
    "\n"
    "A new FILE is made with mode 0600; a FILE left by a failed export is\n"
    "removed. Exits 0; 64 usage error; 73 FILE cannot be created; 74 model,\n"
    "store or write error; 70 internal error.\n",
    run_export,
};

/* ---- import ---- */

/* The model's totals after a change, for the closing message. */
static void model_line(rg_store *s, char *out, size_t size)
{
    rg__totals t;
    uint64_t tokens;

    if (rg__store_model_totals(s, &t, &tokens) == RG_OK)
        snprintf(out, size,
                 " (model: %" PRIu64 " spam, %" PRIu64 " ham, %" PRIu64
                 " tokens)",
                 t.spam, t.ham, tokens);
    else
        out[0] = '\0';
}

/* "3 spent tokens (1 already spent, 2 expired)" */
static void nonces_line(const nonce_counts *nc, char *out, size_t size)
{
    snprintf(out, size,
             "%" PRIu64 " spent token%s (%" PRIu64 " already spent, %" PRIu64
             " expired)",
             nc->fresh, nc->fresh == 1 ? "" : "s", nc->already, nc->expired);
}

static int run_import(const cli_verb *self, int argc, char **argv)
{
    const char *db, *store_url, *path;
    int ex = model_file_options(self, argc, argv, &db, &store_url, &path);
    if (ex >= 0)
        return ex;

    cli_reader r;
    payload p;
    char *model_url = NULL;
    rg_store *model = NULL, *spent = NULL;
    payload_init(&p);
    ex = cli_reader_open(&r, path, NULL);
    if (ex == CLI_EX_OK)
        ex = read_export(&r, &p);
    if (ex == CLI_EX_OK)
        ex = cli_model_url(db, &model_url);
    if (ex == CLI_EX_OK)
        ex = open_store(model_url, "model", &model);
    if (ex == CLI_EX_OK && store_url)
        ex = open_store(store_url, "store", &spent);
    if (ex != CLI_EX_OK)
        goto out;

    uint64_t added = 0;
    int rc = add_model(model, &p, &added);
    if (rc != RG_OK) {
        ex = store_error(rc, "model", model_url);
        if (added > 0)
            cli_error("%" PRIu64 " of %zu tokens were added before the "
                      "error; the totals were not",
                      added, p.tokens.count);
        goto out;
    }
    optimize(model, model_url);
    char totals[160], nonces[160] = "";
    model_line(model, totals, sizeof totals);
    if (spent) {
        nonce_counts nc;
        rc = add_nonces(spent, &p, &nc);
        if (rc != RG_OK) {
            ex = store_error(rc, "store", store_url);
            goto out;
        }
        nonces_line(&nc, nonces, sizeof nonces);
    } else if (p.nnonces > 0) {
        cli_error("%s: %zu spent tokens left out: no --store to put them in",
                  r.name, p.nnonces);
    }
    printf("imported %zu tokens%s%s%s\n", p.tokens.count, totals,
           nonces[0] ? " and " : "", nonces);
out:
    rg_store_close(model);
    rg_store_close(spent);
    free(model_url);
    payload_free(&p);
    cli_reader_close(&r);
    return ex;
}

const cli_verb cli_verb_import = {
    "import",
    "add an export's model (and spent tokens) to a store",
    "Usage: captcha-check import [--db URL] [--store URL] [FILE|-]\n"
    "\n"
    "Reads what export wrote, from FILE (or standard input), and adds it:\n"
    "each token's counts and the totals to the model, so that importing\n"
    "into an empty model makes the exported one again; the spent tokens to\n"
    "the store. The whole file is read first: a bad line is reported as\n"
    "FILE:LINE and nothing is imported. The model is then written in\n"
    "batches of 4096 tokens, each one transaction.\n"
    "\n"
    "  --db URL      the model: sqlite:PATH (created if missing) or\n"
    "                redis://... (default: $REPLYGUARD_DB, else the default\n"
    "                model)\n"
    "  --store URL   where the spent tokens go (default: $REPLYGUARD_STORE;\n"
    "                without either they are left out, with a warning)\n"
    "  -h, --help    show this help\n"
    "  --version     show the version\n"
    "\n"
    "Exits 0; 65 a file that is no export of version 1, has bad lines, or\n"
    "holds other than the header's number of tokens (nothing imported); 64\n"
    "usage error; 66 FILE missing or unreadable; 74 model or store error\n"
    "(the batches written before it stay); 70 internal error.\n",
    run_import,
};

/* ---- migrate ---- */

/* The totals and tokens of a model, before or after. */
typedef struct model_state {
    rg__totals t;
    uint64_t tokens;
} model_state;

/*
 * Checks that the destination gained exactly what was copied: each total
 * by the source's, and the tokens by at most the source's (tokens it had
 * already count once), or exactly when it was empty. False, with the
 * difference in why, when not: another process changed it meanwhile.
 */
static bool check_migrated(const model_state *before, const model_state *after,
                           const payload *p, char *why, size_t why_size)
{
    /* The four totals as arrays, member by member: a pointer to the first
     * member may not be indexed past it. */
    const uint64_t b[] = {before->t.spam, before->t.ham, before->t.spam_words,
                          before->t.ham_words};
    const uint64_t a[] = {after->t.spam, after->t.ham, after->t.spam_words,
                          after->t.ham_words};
    const uint64_t d[] = {p->totals.spam, p->totals.ham, p->totals.spam_words,
                          p->totals.ham_words};
    static const char *const names[] = {"spam", "ham", "spam_words",
                                        "ham_words"};

    for (size_t k = 0; k < 4; k++) {
        if (a[k] != b[k] + d[k]) {
            snprintf(why, why_size,
                     "%s: %" PRIu64 " before, %" PRIu64 " copied, %" PRIu64
                     " after",
                     names[k], b[k], d[k], a[k]);
            return false;
        }
    }
    uint64_t copied = p->tokens.count;
    bool empty = before->tokens == 0;
    if (empty ? after->tokens != copied
              : after->tokens < copied || after->tokens < before->tokens ||
                    after->tokens > before->tokens + copied) {
        snprintf(why, why_size,
                 "tokens: %" PRIu64 " before, %" PRIu64 " copied, %" PRIu64
                 " after",
                 before->tokens, copied, after->tokens);
        return false;
    }
    return true;
}

static int run_migrate(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *to = NULL;
    int c;

    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'V':
            return cli_version();
        case 'h':
            return cli_help(self);
        default:
            return cli_option_error(self, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    if (!from || !to)
        return cli_usage_error(self, "wants both --from URL and --to URL");
    if (refuse_memory(self, "--from", from) != CLI_EX_OK ||
        refuse_memory(self, "--to", to) != CLI_EX_OK)
        return CLI_EX_USAGE;
    /* Copying a store into itself would double every count. */
    if (strcmp(from, to) == 0)
        return cli_usage_error(self, "--from and --to are the same store");

    rg_store *src = NULL, *dst = NULL;
    payload p;
    model_state before, after;
    payload_init(&p);
    int ex = must_exist(from, "store");
    if (ex == CLI_EX_OK)
        ex = open_store(from, "store", &src);
    if (ex == CLI_EX_OK)
        ex = open_store(to, "store", &dst);
    if (ex != CLI_EX_OK)
        goto out;

    /* All of the source first, so that the destination is written from
     * one consistent reading of it. */
    rg__model_visitor mv = {gather_totals, gather_token, &p};
    rg__nonce_visitor nv = {gather_nonce, &p};
    int rc = rg__store_export_model(src, &mv);
    if (rc == RG_EFULL) {
        cli_error("store '%s': more than %u tokens to copy", from,
                  PAYLOAD_TOKENS_MAX);
        ex = CLI_EX_IOERR;
        goto out;
    }
    if (rc == RG_OK)
        rc = rg__store_export_nonces(src, now_s(), &nv);
    if (rc != RG_OK) {
        ex = store_error(rc, "store", from);
        goto out;
    }

    uint64_t added = 0;
    nonce_counts nc;
    rc = rg__store_model_totals(dst, &before.t, &before.tokens);
    if (rc == RG_OK) {
        rc = add_model(dst, &p, &added);
        if (rc != RG_OK && added > 0)
            cli_error("%" PRIu64 " of %zu tokens were copied before the "
                      "error; the totals were not",
                      added, p.tokens.count);
    }
    if (rc == RG_OK)
        rc = add_nonces(dst, &p, &nc);
    if (rc == RG_OK)
        rc = rg__store_model_totals(dst, &after.t, &after.tokens);
    if (rc != RG_OK) {
        ex = store_error(rc, "store", to);
        goto out;
    }
    char why[256];
    if (!check_migrated(&before, &after, &p, why, sizeof why)) {
        cli_error("store '%s': its model does not add up after the copy "
                  "(%s): was it trained meanwhile?",
                  to, why);
        ex = CLI_EX_IOERR;
        goto out;
    }
    optimize(dst, to);
    char nonces[160];
    nonces_line(&nc, nonces, sizeof nonces);
    printf("migrated %zu tokens (%" PRIu64 " spam, %" PRIu64
           " ham comments) and %s from %s to %s; the totals match\n",
           p.tokens.count, p.totals.spam, p.totals.ham, nonces, from, to);
out:
    rg_store_close(src);
    rg_store_close(dst);
    payload_free(&p);
    return ex;
}

const cli_verb cli_verb_migrate = {
    "migrate",
    "copy the model and spent tokens from one store to another",
    "Usage: captcha-check migrate --from URL --to URL\n"
    "\n"
    "Copies the spam filter's model and the spent tokens not yet expired\n"
    "from the store at --from to the one at --to, as export and import\n"
    "would (say sqlite:PATH to redis://HOST/DB, when a site grows to\n"
    "several web servers), then checks that the totals of --to grew by\n"
    "exactly those of --from. Counts add to what --to holds. Rate limits\n"
    "are not copied: they rest within minutes.\n"
    "\n"
    "  --from URL    the source: sqlite:PATH (which must exist) or\n"
    "                redis://...\n"
    "  --to URL      the destination: sqlite:PATH (created if missing) or\n"
    "                redis://...\n"
    "  -h, --help    show this help\n"
    "  --version     show the version\n"
    "\n"
    "Exits 0; 64 usage error; 74 store error, or totals that do not add up\n"
    "afterwards; 70 internal error.\n",
    run_migrate,
};
