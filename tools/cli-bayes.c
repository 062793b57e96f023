/*
 * captcha-check: the content-filter verbs, train and classify. Both read
 * JSON Lines, one comment per line; a line that is not a comment is
 * reported with its number and skipped, and the exit status says so at the
 * end (docs/captcha-check.md).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <getopt.h>
#include <jansson.h>

#include "cli-jsonl.h"
#include "cli-pool.h"
#include "cli.h"

/*
 * Training goes to the model in batches, each one transaction with
 * sqlite:, which is what makes bulk training fast. A batch ends at this
 * many comments or this many bytes of input, whichever comes first, so
 * that a file of long lines cannot pile up in memory.
 */
#define BATCH_COMMENTS 500
#define BATCH_BYTES    (16 * 1024 * 1024)

/* Clues shown by classify --explain. */
#define EXPLAIN_CLUES 10

/* Training shows progress on a terminal once it has read more lines. */
#define PROGRESS_LINES 2000

/* Progress is redrawn at most this often, in nanoseconds. */
#define PROGRESS_PERIOD_NS 100000000LL

/* ---- Progress on a terminal ---- */

typedef struct progress {
    bool enabled;        /* stderr is a terminal */
    const char *doing;   /* "training" */
    uint64_t total;      /* input bytes, 0 when unknown */
    int64_t start, last; /* monotonic nanoseconds */
    int width;           /* of the line drawn, 0 when none is */
} progress;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void progress_init(progress *p, const char *doing, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->enabled = isatty(STDERR_FILENO);
    p->doing = doing;
    p->total = total;
    p->start = now_ns();
}

/* Erases the progress line, so that a message or the prompt can follow. */
static void progress_clear(progress *p)
{
    if (p->width > 0) {
        fprintf(stderr, "\r%*s\r", p->width, "");
        fflush(stderr);
        p->width = 0;
    }
}

/*
 * Draws "training: 12000 lines, 8000/s [=====>    ] 45%" once more
 * than PROGRESS_LINES lines were read: at once the first time, then at most
 * every PROGRESS_PERIOD_NS. The percentage and bar need the input's size.
 */
static void progress_update(progress *p, uint64_t lines, uint64_t bytes)
{
    if (!p->enabled || lines <= PROGRESS_LINES)
        return;
    /* The clock is read only every 64 lines; that is plenty often. */
    if (p->last != 0 && lines % 64 != 0)
        return;
    int64_t now = now_ns();
    if (p->last != 0 && now - p->last < PROGRESS_PERIOD_NS)
        return;
    p->last = now;

    double secs = (double)(now - p->start) / 1e9;
    double rate = secs > 0 ? (double)lines / secs : 0;
    char bar[64] = "";
    if (p->total > 0) {
        enum { BAR = 30 };
        double done = (double)bytes / (double)p->total;
        if (done > 1)
            done = 1;
        int full = (int)(done * BAR);
        char cells[BAR + 1];
        for (int i = 0; i < BAR; i++)
            cells[i] = (char)(i < full ? '=' : i == full ? '>' : ' ');
        cells[BAR] = '\0';
        snprintf(bar, sizeof bar, " [%s] %3d%%", cells, (int)(done * 100));
    }
    int width = fprintf(stderr, "\r%s: %" PRIu64 " lines, %.0f/s%s", p->doing,
                        lines, rate, bar) -
                1;
    /* Wipe what is left of a longer line drawn before. */
    if (width < p->width)
        fprintf(stderr, "%*s", p->width - width, "");
    if (width > p->width)
        p->width = width;
    fflush(stderr);
}

/* ---- Comments from JSON ---- */

/* One parsed line. The strings of `c` belong to `root`. */
typedef struct parsed {
    json_t *root;
    json_t *id; /* borrowed from root; NULL when the line has none */
    rg_comment c;
} parsed;

/*
 * Parses one line into a comment: returns 1, or 0 with the reason in why
 * when the line is not a comment, or -1 when out of memory. A line is not
 * a comment when it is not JSON (which includes invalid UTF-8, a lone
 * surrogate escape, a NUL character and a duplicate key), not an object,
 * no string "body", or a member of the wrong type. Members other than
 * body, author, email, url, ip and id are ignored, so exports with more
 * fields can be fed as they are.
 *
 * A NUL character (\u0000) makes the line bad rather than cutting the
 * string short, which is what passing it to the C API would do: the filter
 * would then judge only the text before it while a blog showed all of it.
 */
static int parse_comment(const char *line, size_t len, parsed *out, char *why,
                         size_t why_size)
{
    const char *ip;

    memset(out, 0, sizeof *out);
    int got = cli_jsonl_parse(line, len, &out->root, why, why_size);
    if (got <= 0)
        return got;

    rg_comment_init(&out->c);
    const json_t *body = json_object_get(out->root, "body");
    if (!body) {
        snprintf(why, why_size, "no \"body\"");
        goto bad;
    }
    if (!json_is_string(body)) {
        snprintf(why, why_size, "\"body\" is %s, not a string",
                 cli_json_kind(body));
        goto bad;
    }
    out->c.body = json_string_value(body);
    if (!cli_json_optional_string(out->root, "author", &out->c.author, why,
                                  why_size) ||
        !cli_json_optional_string(out->root, "email", &out->c.email, why,
                                  why_size) ||
        !cli_json_optional_string(out->root, "url", &out->c.url, why,
                                  why_size) ||
        !cli_json_optional_string(out->root, "ip", &ip, why, why_size) ||
        !cli_jsonl_id(out->root, &out->id, why, why_size))
        goto bad;
    return 1;
bad:
    json_decref(out->root);
    out->root = NULL;
    return 0;
}

/* ---- Common to both verbs ---- */

/* Reports a bad line, clearing the progress line p first unless it is
 * NULL. */
static void bad_line(const cli_reader *r, progress *p, const char *why)
{
    if (p)
        progress_clear(p);
    cli_reader_bad_line(r, why);
}

/*
 * Reads lines until one holds a comment, reporting and counting the bad
 * ones (p, the progress line to keep clear of, may be NULL). Returns 1
 * with *pc filled (the caller releases pc->root), 0 at the end of the
 * input, or -1 with *ex set after a read error or when out of memory.
 */
static int next_comment(cli_reader *r, progress *p, parsed *pc, uint64_t *bad,
                        int *ex)
{
    char why[256];
    int rc;

    while ((rc = cli_reader_next(r)) > 0) {
        int got = 0;
        if (r->too_long)
            snprintf(why, sizeof why, CLI_LINE_TOO_LONG);
        else
            got = parse_comment(r->line, r->len, pc, why, sizeof why);
        if (got > 0)
            return 1;
        if (got < 0) {
            rc = -2;
            break;
        }
        bad_line(r, p, why);
        ++*bad;
        if (p)
            progress_update(p, r->lineno, r->bytes);
    }
    if (rc == 0)
        return 0;
    *ex = cli_reader_error(r, rc);
    return -1;
}

/* True for errors that say nothing about a comment, only about the model
 * or the machine: no later comment could fare better. */
static bool is_fatal(int rc)
{
    return cli_exit_for_error(rc) == CLI_EX_IOERR || rc == RG_ENOMEM ||
           rc == RG_ERANGE;
}

/* Reports a failed library call on the model; returns the exit status. */
static int model_error(const char *url, int rc)
{
    /* With the model, RG_ERANGE means a count at its 32-bit limit, not a
     * challenge's range: the model is full, like RG_EFULL. */
    if (rc == RG_ERANGE) {
        cli_error("model '%s': a token's count would pass %" PRIu32, url,
                  UINT32_MAX);
        return CLI_EX_IOERR;
    }
    return cli_report_error(rc, "model", url, NULL);
}

/*
 * Resolves the model URL and opens the input, in the order that reports a
 * usage error before touching any file. A memory: model is refused: it
 * would be gone when captcha-check exits, so training it is lost work and
 * classifying with it scores everything 0.5. When `must_exist`, a sqlite:
 * file that does not exist yet is refused too, rather than created empty
 * later by open_model().
 */
static int open_input(const cli_verb *self, const char *db, const char *path,
                      bool must_exist, cli_reader *r, uint64_t *size,
                      char **url)
{
    const char *given = cli_given_model(db);
    if (given && cli_is_memory_url(given))
        return cli_usage_error(self,
                               "a memory: model lives only as long as "
                               "captcha-check runs; use --db sqlite:PATH");

    int ex = cli_reader_open(r, path, size);
    if (ex == CLI_EX_OK)
        ex = cli_model_url(db, url);
    if (ex == CLI_EX_OK && must_exist)
        ex = cli_check_model(*url);
    return ex;
}

/* Opens the model; `threads` is the handle's rg_bayes_config.threads.
 * Returns CLI_EX_OK, or the exit status after reporting the error. */
static int open_model(const char *url, uint32_t threads, rg_bayes **b)
{
    rg_bayes_config cfg;
    rg_bayes_config_init(&cfg);
    cfg.threads = threads;
    int rc = rg_bayes_open(b, url, &cfg);
    if (rc != RG_OK)
        return model_error(url, rc);
    return CLI_EX_OK;
}

/* The model's totals as "20 spam, 18 ham, 1234 tokens", for messages. */
static bool model_totals(rg_bayes *b, char *out, size_t size)
{
    rg_bayes_stats st;

    if (rg_bayes_stats_get(b, &st) != RG_OK)
        return false;
    snprintf(out, size, "%" PRIu64 " spam, %" PRIu64 " ham, %" PRIu64 " tokens",
             st.spam_comments, st.ham_comments, st.tokens);
    return true;
}

/* ---- train ---- */

/* Comments waiting to be learned, with what keeps their strings alive. */
typedef struct batch {
    rg_comment comments[BATCH_COMMENTS];
    rg_class classes[BATCH_COMMENTS];
    json_t *roots[BATCH_COMMENTS];
    uint64_t lines[BATCH_COMMENTS];
    size_t n;
    size_t bytes;
} batch;

/* What a training run has done so far. */
typedef struct training {
    rg_bayes *b;
    const char *url;
    const cli_reader *r;
    progress *prog;
    rg_class cls;
    bool unlearn;
    uint64_t done; /* comments learned (or unlearned) */
    uint64_t bad;  /* lines skipped */
} training;

static void batch_clear(batch *bt)
{
    for (size_t i = 0; i < bt->n; i++)
        json_decref(bt->roots[i]);
    bt->n = 0;
    bt->bytes = 0;
}

/*
 * Learns the batch in one call (one transaction). If the library refuses
 * the batch for something one comment did (unlearning a comment that was
 * never learned), nothing of it was kept, so the comments go again one at
 * a time: each good one is learned and each bad one reported by its line.
 * Returns CLI_EX_OK, or the exit status after a fatal error.
 */
static int batch_flush(training *t, batch *bt)
{
    if (bt->n == 0)
        return CLI_EX_OK;

    int rc = rg_bayes_learn_batch(t->b, bt->comments, bt->classes, bt->n,
                                  t->unlearn);
    if (rc == RG_OK) {
        t->done += bt->n;
        batch_clear(bt);
        return CLI_EX_OK;
    }
    for (size_t i = 0; i < bt->n && !is_fatal(rc); i++) {
        rc = t->unlearn ? rg_bayes_unlearn(t->b, &bt->comments[i], t->cls)
                        : rg_bayes_learn(t->b, &bt->comments[i], t->cls);
        if (rc == RG_OK) {
            t->done++;
        } else if (!is_fatal(rc)) {
            progress_clear(t->prog);
            if (rc == RG_ENOTLEARNED)
                cli_error("%s:%" PRIu64 ": this comment was never learned "
                          "as %s; nothing unlearned",
                          t->r->name, bt->lines[i],
                          t->cls == RG_CLASS_SPAM ? "spam" : "ham");
            else
                cli_error("%s:%" PRIu64 ": %s", t->r->name, bt->lines[i],
                          rg_strerror(rc));
            t->bad++;
        }
    }
    batch_clear(bt);
    if (is_fatal(rc)) {
        progress_clear(t->prog);
        return model_error(t->url, rc);
    }
    return CLI_EX_OK;
}

/* Reads every line, learning comments in batches. */
static int train_loop(training *t, cli_reader *r)
{
    batch *bt = calloc(1, sizeof *bt);
    int ex = CLI_EX_OK;
    parsed pc;

    if (!bt) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    while (next_comment(r, t->prog, &pc, &t->bad, &ex) > 0) {
        bt->comments[bt->n] = pc.c;
        bt->classes[bt->n] = t->cls;
        bt->roots[bt->n] = pc.root;
        bt->lines[bt->n] = r->lineno;
        bt->n++;
        bt->bytes += r->len;
        if (bt->n == BATCH_COMMENTS || bt->bytes >= BATCH_BYTES) {
            ex = batch_flush(t, bt);
            if (ex != CLI_EX_OK)
                break;
        }
        progress_update(t->prog, r->lineno, r->bytes);
    }
    /* What is left are good comments read before the end, or before a
     * read error: they are learned either way. After a model error the
     * batch is empty. */
    int ex2 = batch_flush(t, bt);
    if (ex == CLI_EX_OK)
        ex = ex2;
    free(bt);
    return ex;
}

static int run_train(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"spam", no_argument, NULL, 's'},
        {"ham", no_argument, NULL, 'H'},
        {"unlearn", no_argument, NULL, 'u'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    bool spam = false, ham = false, unlearn = false;
    int c;

    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 's':
            spam = true;
            break;
        case 'H':
            ham = true;
            break;
        case 'u':
            unlearn = true;
            break;
        case 'V':
            return cli_version();
        case 'h':
            return cli_help(self);
        default:
            return cli_option_error(self, c, argv);
        }
    }
    if (spam == ham)
        return cli_usage_error(self, "wants exactly one of --spam and --ham");
    const char *path;
    if (cli_file_operand(self, argc, argv, &path) != CLI_EX_OK)
        return CLI_EX_USAGE;

    cli_reader r;
    uint64_t size = 0;
    char *url = NULL;
    rg_bayes *b = NULL;
    progress prog;
    training t = {0};
    /* Closed at the end whatever fails: a usage error can come after the
     * input is open (an empty --db, which the library refuses). */
    cli_reader_init(&r);
    int ex = open_input(self, db, path, false, &r, &size, &url);
    if (ex == CLI_EX_OK)
        ex = open_model(url, 0, &b);
    if (ex != CLI_EX_OK)
        goto out;

    progress_init(&prog, unlearn ? "unlearning" : "training", size);
    t.b = b;
    t.url = url;
    t.r = &r;
    t.prog = &prog;
    t.cls = spam ? RG_CLASS_SPAM : RG_CLASS_HAM;
    t.unlearn = unlearn;
    ex = train_loop(&t, &r);
    progress_clear(&prog);
    /* A fresh process classifying a file then reads the model in one
     * piece. Only speed depends on it, so a failure is a warning. */
    if (t.done > 0) {
        int rc = rg_bayes_optimize(b);
        if (rc != RG_OK)
            cli_error("%s: model image not written (classification will be "
                      "slower): %s",
                      url, rg_strerror(rc));
    }

    char totals[128];
    if (!model_totals(b, totals, sizeof totals))
        snprintf(totals, sizeof totals, "totals unavailable");
    printf("%s %" PRIu64 " comment%s as %s (model: %s)",
           unlearn ? "unlearned" : "learned", t.done, t.done == 1 ? "" : "s",
           spam ? "spam" : "ham", totals);
    if (t.bad > 0)
        printf("; %" PRIu64 " bad line%s skipped", t.bad,
               t.bad == 1 ? "" : "s");
    putchar('\n');
    if (ex == CLI_EX_OK && t.bad > 0)
        ex = CLI_EX_DATAERR;
out:
    rg_bayes_close(b);
    free(url);
    cli_reader_close(&r);
    return ex;
}

const cli_verb cli_verb_train = {
    "train",
    "teach the spam filter comments marked spam or ham (JSON Lines)",
    "Usage: captcha-check train [--db URL] (--spam|--ham) [--unlearn]\n"
    "                           [FILE|-]\n"
    "\n"
    "Learns every comment of FILE (or standard input) as spam or as ham.\n"
    "Input is JSON Lines: one object per line with a string \"body\" and\n"
    "optional \"author\", \"email\", \"url\", \"ip\" and \"id\". A bad line\n"
    "is reported as FILE:LINE and skipped. Prints how many comments were\n"
    "learned and the model's totals. Then writes an image of the model to\n"
    "PATH-image, from which a later classify reads it in one piece.\n"
    "\n"
    "  --db URL     the model: sqlite:PATH, or redis://HOST:PORT/DB to share\n"
    "               it between web servers (default: $REPLYGUARD_DB, else\n"
    "               $XDG_DATA_HOME/replyguard/model.sqlite, or\n"
    "               ~/.local/share/replyguard/model.sqlite)\n"
    "  --spam       the comments are spam\n"
    "  --ham        the comments are ham (good)\n"
    "  --unlearn    take back what training with the same class taught, to\n"
    "               correct a mistake: unlearn as ham, then learn as spam\n"
    "  -h, --help   show this help\n"
    "  --version    show the version\n"
    "\n"
    "Exits 0 when every line was learned; 65 when some lines were bad (the\n"
    "others are learned); 64 usage error; 66 FILE unreadable; 74 model or\n"
    "read error (batches learned before it are kept); 70 internal error.\n",
    run_train,
};

/* ---- classify ---- */

/* Writes one result line. */
static void put_result(FILE *fp, const json_t *id, const rg_bayes_result *res,
                       const rg_clue *clues, bool explain)
{
    putc('{', fp);
    cli_jsonl_put_id(fp, id);
    fputs("\"spamicity\":", fp);
    cli_json_number(fp, res->spamicity);
    fputs(",\"verdict\":", fp);
    cli_json_string(fp, rg_bayes_verdict_name(res->verdict));
    if (explain && clues) {
        fputs(",\"clues\":[", fp);
        for (size_t i = 0; i < res->nclues && i < EXPLAIN_CLUES; i++) {
            fputs(i ? ",{\"token\":" : "{\"token\":", fp);
            cli_json_string(fp, clues[i].token);
            fputs(",\"p\":", fp);
            cli_json_number(fp, clues[i].probability);
            fprintf(fp, ",\"spam\":%" PRIu32 ",\"ham\":%" PRIu32 "}",
                    clues[i].spam_count, clues[i].ham_count);
        }
        putc(']', fp);
    }
    fputs("}\n", fp);
}

/*
 * Classifying reads lines into a batch, parses the batch in chunks of 32
 * lines on threads of its own (JSON parsing costs as much as scoring),
 * then scores each chunk in one rg_bayes_classify_batch() into buffers
 * that are then written out in input order.
 */
#define CLASSIFY_BATCH       1024
#define CHUNK_LINES          32
#define LINES_PER_THREAD_MIN 64
#define CLASSIFY_THREADS_MAX CLI_POOL_MAX
/* About LINES_PER_THREAD_MIN comments of JSON. */
#define SCORERS_EARLY_BYTES (8 * 1024)

/* Read lines waiting to be scored, back to back, each NUL-terminated. */
typedef struct pending {
    char *text;
    size_t text_len, text_room;
    size_t start[CLASSIFY_BATCH]; /* SIZE_MAX: the line was too long */
    size_t len[CLASSIFY_BATCH];
    uint64_t lineno[CLASSIFY_BATCH];
    size_t n;
} pending;

/* Adds the reader's current line; false when out of memory. */
static bool pending_add(pending *pd, const cli_reader *r)
{
    size_t i = pd->n;
    pd->lineno[i] = r->lineno;
    pd->len[i] = r->len;
    if (r->too_long) {
        pd->start[i] = SIZE_MAX;
        pd->n++;
        return true;
    }
    if (pd->text_room - pd->text_len < r->len + 1) {
        size_t room = pd->text_room ? pd->text_room : 64 * 1024;
        while (room - pd->text_len < r->len + 1)
            room *= 2;
        char *text = realloc(pd->text, room);
        if (!text)
            return false;
        pd->text = text;
        pd->text_room = room;
    }
    pd->start[i] = pd->text_len;
    memcpy(pd->text + pd->text_len, r->line, r->len + 1);
    pd->text_len += r->len + 1;
    pd->n++;
    return true;
}

/* One chunk of a batch: lines [first, first + n), parsed into comments
 * first, then scored. */
typedef struct share_job {
    rg_bayes *b;
    const char *name; /* of the input, for messages */
    const pending *pd;
    size_t first, n;
    parsed *items;             /* [n]: the good lines, parsed */
    rg_comment *comments;      /* [n]: their comments */
    size_t *line_of;           /* [n]: the batch index of each */
    size_t good;               /* comments parsed */
    FILE *out, *err;           /* memory streams over what follows */
    char *out_text, *err_text; /* for stdout and stderr */
    size_t out_len, err_len;
    uint64_t bad;
    int fatal; /* RG_OK, or the error that ends the command */
} share_job;

static void share_bad_line(share_job *j, size_t i, const char *why)
{
    cli_error_to(j->err, "%s:%" PRIu64 ": %s", j->name, j->pd->lineno[i], why);
    j->bad++;
}

/* Parses a chunk's lines into comments, reporting the bad ones. */
static void parse_share(share_job *j)
{
    const pending *pd = j->pd;

    j->out = open_memstream(&j->out_text, &j->out_len);
    j->err = open_memstream(&j->err_text, &j->err_len);
    j->items = malloc(j->n * sizeof *j->items);
    j->comments = malloc(j->n * sizeof *j->comments);
    j->line_of = malloc(j->n * sizeof *j->line_of);
    if (!j->out || !j->err || !j->items || !j->comments || !j->line_of) {
        j->fatal = RG_ENOMEM;
        return;
    }
    for (size_t i = j->first; i < j->first + j->n; i++) {
        char why[256];
        int got = 0;
        if (pd->start[i] == SIZE_MAX)
            snprintf(why, sizeof why, CLI_LINE_TOO_LONG);
        else
            got = parse_comment(pd->text + pd->start[i], pd->len[i],
                                &j->items[j->good], why, sizeof why);
        if (got < 0) {
            j->fatal = RG_ENOMEM;
            return;
        }
        if (got == 0) {
            share_bad_line(j, i, why);
            continue;
        }
        j->comments[j->good] = j->items[j->good].c;
        j->line_of[j->good++] = i;
    }
}

/* Scores a parsed chunk and prints its results. */
static void score_share(share_job *j)
{
    rg_bayes_result *results = malloc((j->good + 1) * sizeof *results);
    if (!results)
        j->fatal = RG_ENOMEM;
    int rc = j->fatal == RG_OK
                 ? rg_bayes_classify_batch(j->b, j->comments, j->good, results)
                 : j->fatal;
    for (size_t c = 0; c < j->good && j->fatal == RG_OK; c++) {
        /* A batch that failed is retried comment by comment, so a
         * comment the filter refuses is reported on its own line. */
        int one = rc == RG_OK ? RG_OK
                              : rg_bayes_classify(j->b, &j->comments[c],
                                                  &results[c], NULL, 0);
        if (one == RG_OK)
            put_result(j->out, j->items[c].id, &results[c], NULL, false);
        else if (is_fatal(one))
            j->fatal = one;
        else
            share_bad_line(j, j->line_of[c], rg_strerror(one));
    }
    free(results);
}

/* Closes the chunk's streams, so their text is complete, and lets go of
 * its comments. */
static void share_finish(share_job *j)
{
    if ((j->out && fclose(j->out) != 0) || (j->err && fclose(j->err) != 0) ||
        !j->out || !j->err)
        j->fatal = RG_ENOMEM;
    for (size_t c = 0; c < j->good; c++)
        json_decref(j->items[c].root);
    free(j->items);
    free(j->comments);
    free(j->line_of);
}

/* The lines of a batch, cut into chunks that threads claim one by one,
 * so that a thread that starts late just claims fewer. */
typedef struct flush_work {
    share_job *chunks;
    size_t nchunks;
    atomic_size_t next; /* the first chunk no thread has claimed */
} flush_work;

static void parse_chunks(void *arg)
{
    flush_work *fw = arg;
    size_t c;

    while ((c = atomic_fetch_add(&fw->next, 1)) < fw->nchunks)
        parse_share(&fw->chunks[c]);
}

static void score_chunks(void *arg)
{
    flush_work *fw = arg;
    size_t c;

    while ((c = atomic_fetch_add(&fw->next, 1)) < fw->nchunks) {
        share_job *j = &fw->chunks[c];
        if (j->b && j->fatal == RG_OK)
            score_share(j);
        share_finish(j);
    }
}

/* Workers to help this thread: one per other CPU, within the bound. */
static size_t classify_workers(void)
{
    size_t n = cli_pool_cpus();
    if (n > CLASSIFY_THREADS_MAX)
        n = CLASSIFY_THREADS_MAX;
    return n - 1;
}

/* The threads that score batches, started at most once. */
typedef struct scorers {
    cli_pool pool;
    bool started;
} scorers;

static void scorers_start(scorers *sc)
{
    if (sc->started)
        return;
    cli_pool_start(&sc->pool, classify_workers());
    sc->started = true;
}

static void scorers_stop(scorers *sc)
{
    if (sc->started)
        cli_pool_stop(&sc->pool);
    sc->started = false;
}

/* A classify run: the model (opened late, see classify_loop()), the
 * input and the lines read but not yet answered. */
typedef struct classify_ctx {
    rg_bayes *b; /* NULL until open_model() */
    const char *url;
    cli_reader *r;
    pending *pd;
    uint64_t *bad;
    scorers *sc;
    bool open_late; /* the model is opened while the first batch parses */
    bool preloaded; /* rg_bayes_preload() was called */
    int ex;         /* the first fatal exit status, or CLI_EX_OK */
} classify_ctx;

/* Opens the model unless it is open; false after an error (cx->ex set). */
static bool model_ready(classify_ctx *cx)
{
    if (!cx->b && cx->ex == CLI_EX_OK)
        cx->ex = open_model(cx->url, 1, &cx->b);
    return cx->ex == CLI_EX_OK;
}

/* Opens the model and reads it whole, for a batch worth it. */
static void model_preload(classify_ctx *cx)
{
    if (!model_ready(cx) || cx->preloaded)
        return;
    int rc = rg_bayes_preload(cx->b);
    if (rc != RG_OK)
        cx->ex = model_error(cx->url, rc);
    cx->preloaded = true;
}

/*
 * Scores and prints the pending lines, in order: first every chunk is
 * parsed (JSON parsing costs as much as scoring), then every chunk is
 * scored, each phase on the threads when there are enough lines. The
 * first such batch is parsed while this thread opens the model (if it is
 * not open yet) and reads it whole, which the scoring threads would
 * otherwise wait for.
 * Sets cx->ex to the exit status of a fatal error.
 */
static void pending_flush(classify_ctx *cx)
{
    pending *pd = cx->pd;
    share_job chunks[(CLASSIFY_BATCH + CHUNK_LINES - 1) / CHUNK_LINES];
    flush_work fw = {.chunks = chunks,
                     .nchunks = (pd->n + CHUNK_LINES - 1) / CHUNK_LINES};
    bool threads = pd->n >= LINES_PER_THREAD_MIN;

    for (size_t c = 0; c < fw.nchunks; c++) {
        size_t first = c * CHUNK_LINES;
        chunks[c] = (share_job){.name = cx->r->name,
                                .pd = pd,
                                .first = first,
                                .n = pd->n - first < CHUNK_LINES ? pd->n - first
                                                                 : CHUNK_LINES};
    }
    atomic_init(&fw.next, 0);
    if (threads) {
        scorers_start(cx->sc);
        cli_pool_begin(&cx->sc->pool, parse_chunks, &fw);
        model_preload(cx);
        cli_pool_join(&cx->sc->pool);
    } else {
        model_ready(cx);
        parse_chunks(&fw);
    }

    /* Without a model (cx->ex says why) the chunks are only let go of. */
    for (size_t c = 0; c < fw.nchunks; c++)
        chunks[c].b = cx->b;
    atomic_store(&fw.next, 0);
    if (threads)
        cli_pool_run(&cx->sc->pool, score_chunks, &fw);
    else
        score_chunks(&fw);

    for (size_t c = 0; c < fw.nchunks; c++) {
        share_job *j = &chunks[c];
        if (cx->ex == CLI_EX_OK) {
            if (j->err_len)
                fwrite(j->err_text, 1, j->err_len, stderr);
            if (j->out_len)
                fwrite(j->out_text, 1, j->out_len, stdout);
            *cx->bad += j->bad;
            if (j->fatal != RG_OK)
                cx->ex = model_error(cx->url, j->fatal);
        }
        free(j->out_text);
        free(j->err_text);
    }
    pd->n = 0;
    pd->text_len = 0;
}

/* The reader is about to wait for input: answer what was read so far. A
 * model not opened late is opened now, before the first wait, so that an
 * error in it is reported before anything is typed. */
static void flush_before_read(void *arg)
{
    classify_ctx *cx = arg;
    if (!cx->open_late && !model_ready(cx))
        return;
    if (cx->pd->n > 0 && cx->ex == CLI_EX_OK)
        pending_flush(cx);
}

/* Scores each comment alone, for its clues. */
static int explain_loop(rg_bayes *b, const char *url, cli_reader *r,
                        uint64_t *bad)
{
    rg_clue clues[EXPLAIN_CLUES];
    int ex = CLI_EX_OK;
    parsed pc;

    while (next_comment(r, NULL, &pc, bad, &ex) > 0) {
        rg_bayes_result res;
        int rc = rg_bayes_classify(b, &pc.c, &res, clues, EXPLAIN_CLUES);
        if (rc == RG_OK)
            put_result(stdout, pc.id, &res, clues, true);
        json_decref(pc.root);
        if (rc != RG_OK && is_fatal(rc))
            return model_error(url, rc);
        if (rc != RG_OK) {
            bad_line(r, NULL, rg_strerror(rc));
            ++*bad;
        }
        /* Nobody reads the results any more (a closed pipe, a full
         * disk): stop; the caller reports it. */
        if (ferror(stdout))
            return CLI_EX_IOERR;
    }
    return ex;
}

/*
 * Classifies every line, writing one result line per good input line.
 *
 * Lines are scored in batches (one read of the model per share, which
 * with sqlite: is one transaction and, on a fresh handle, one read of the
 * model image instead of a query per token), but never wait for a batch to
 * fill: the batch is scored before the reader waits for more input, so a
 * program that writes one line and waits still gets its answer at once.
 *
 * With `open_late` (a file big enough for the threads) the model is
 * opened only once the first batch is read, while the threads parse it;
 * a file never makes the reader wait, so nobody waits for an answer in
 * the meantime. *b is the model once open (or NULL), for the caller to
 * close.
 */
static int classify_loop(rg_bayes **b, const char *url, cli_reader *r,
                         bool open_late, uint64_t *bad, scorers *sc)
{
    pending *pd = calloc(1, sizeof *pd);
    if (!pd) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    classify_ctx cx = {.url = url,
                       .r = r,
                       .pd = pd,
                       .bad = bad,
                       .sc = sc,
                       .open_late = open_late,
                       .ex = CLI_EX_OK};
    int rc, ex = CLI_EX_OK;

    r->before_read = flush_before_read;
    /* cppcheck-suppress autoVariables ; only for this call: both are reset
     * to NULL before it returns. */
    r->before_read_arg = &cx;
    while (cx.ex == CLI_EX_OK && (rc = cli_reader_next(r)) > 0) {
        if (!pending_add(pd, r)) {
            rc = -2;
            break;
        }
        if (pd->n == CLASSIFY_BATCH || pd->text_len >= BATCH_BYTES)
            flush_before_read(&cx);
        if (ferror(stdout))
            break;
    }
    if (cx.ex == CLI_EX_OK && rc < 0)
        ex = cli_reader_error(r, rc);
    flush_before_read(&cx);
    /* An empty input still needs a model that opens. */
    model_ready(&cx);
    r->before_read = NULL;
    r->before_read_arg = NULL;
    free(pd->text);
    free(pd);
    *b = cx.b;
    if (cx.ex != CLI_EX_OK)
        return cx.ex;
    if (ferror(stdout))
        return CLI_EX_IOERR;
    return ex;
}

/* The size of the input when it is a regular file (given, or standard
 * input redirected from one), else 0. */
static uint64_t input_bytes(const char *path)
{
    struct stat st;
    bool stdin_input = !path || strcmp(path, "-") == 0;
    if ((stdin_input ? fstat(STDIN_FILENO, &st) : stat(path, &st)) != 0 ||
        !S_ISREG(st.st_mode) || st.st_size < 0)
        return 0;
    return (uint64_t)st.st_size;
}

static int run_classify(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"explain", no_argument, NULL, 'e'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    bool explain = false;
    int c;

    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'e':
            explain = true;
            break;
        case 'V':
            return cli_version();
        case 'h':
            return cli_help(self);
        default:
            return cli_option_error(self, c, argv);
        }
    }
    const char *path;
    if (cli_file_operand(self, argc, argv, &path) != CLI_EX_OK)
        return CLI_EX_USAGE;

    cli_reader r;
    uint64_t size, bad = 0;
    char *url = NULL;
    rg_bayes *b = NULL;
    scorers sc = {.started = false};
    /* Closed at the end whatever fails, as in run_train(). */
    cli_reader_init(&r);
    /* An input big enough for the scoring threads gets them now, so that
     * they are awake when the first batch is read. */
    bool early = !explain && input_bytes(path) >= SCORERS_EARLY_BYTES;
    if (early)
        scorers_start(&sc);
    int ex = open_input(self, db, path, true, &r, &size, &url);
    if (ex == CLI_EX_OK) {
        r.flush_stdout = true;
        /* Classifying splits its batches across threads itself. */
        if (explain) {
            ex = open_model(url, 1, &b);
            if (ex == CLI_EX_OK)
                ex = explain_loop(b, url, &r, &bad);
        } else {
            ex = classify_loop(&b, url, &r, early, &bad, &sc);
        }
    }
    scorers_stop(&sc);
    if (ex == CLI_EX_OK && bad > 0)
        ex = CLI_EX_DATAERR;
    rg_bayes_close(b);
    free(url);
    cli_reader_close(&r);
    return ex;
}

const cli_verb cli_verb_classify = {
    "classify",
    "score comments with the spam filter (JSON Lines in and out)",
    "Usage: captcha-check classify [--db URL] [--explain] [FILE|-]\n"
    "\n"
    "Scores every comment of FILE (or standard input), one JSON object per\n"
    "line as for train, and prints one line of JSON per good input line, in\n"
    "order: {\"id\":...,\"spamicity\":0.981234,\"verdict\":\"spam\"}, with\n"
    "the input's id when it has one; the verdict is ham, unsure or spam.\n"
    "A bad line is reported as FILE:LINE on stderr and gets no output line.\n"
    "\n"
    "  --db URL     the model, as for train; a sqlite: file must exist\n"
    "  --explain    add \"clues\": the 10 tokens that weighed most, each\n"
    "               {\"token\",\"p\",\"spam\",\"ham\"}\n"
    "  -h, --help   show this help\n"
    "  --version    show the version\n"
    "\n"
    "Exits 0 when every line was scored; 65 when some lines were bad; 64\n"
    "usage error; 66 FILE unreadable; 74 model, read or write error; 70\n"
    "internal error.\n",
    run_classify,
};
