/*
 * One fold of a cross-validation of the content filter, in process: learn
 * a training set, score a test set, and say how long each took.
 *
 * Usage: bayes-cv [--store URL] [--stats FILE] [--threads N] TRAIN.jsonl
 *                 TEST.jsonl
 *
 * Both files are JSON Lines, one comment a line:
 *   {"id": "17", "label": "spam"|"ham", "body": "..."}
 * TRAIN needs "label"; in TEST it is ignored (the program never reads it),
 * so a test label cannot leak into a score. "id" is a string or an integer
 * and defaults to the line number.
 *
 * Everything is parsed into memory first, so the timings cover only the
 * filter: one rg_bayes_learn_batch() over the whole training set, then one
 * rg_bayes_classify_batch() over the test set, both with the default
 * threads (one per CPU) unless --threads says otherwise. For comparison it also
 * times, without reporting their scores, one rg_bayes_classify() per test
 * comment (which must agree exactly with the batch) and, with memory:, the same
 * training on a second model with a single thread. The store URL defaults to
 * "memory:"; with "sqlite:PATH" the model lives in that file.
 *
 * stdout: one line per test comment, "id<TAB>spamicity<TAB>verdict".
 * stderr (or --stats FILE): one JSON object with train_seconds,
 * classify_seconds, classify_one_by_one_seconds,
 * train_one_thread_seconds (-1 unless memory:), cpus, the counts, and the
 * memory the model took: the growth of the peak resident set (VmHWM) over
 * opening and training, and of the resident set (VmRSS) itself.
 *
 * Exit status: 0 on success, 1 on bad input or a failing library call,
 * 2 on bad usage.
 */
#include <jansson.h>
#include <replyguard.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* One comment of an input file. */
struct item {
    char *id;
    char *body;
    rg_class cls;
};

struct items {
    struct item *v;
    size_t n, cap;
    size_t spam, ham;
};

static void items_free(struct items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].id);
        free(it->v[i].body);
    }
    free(it->v);
    memset(it, 0, sizeof *it);
}

/* Copies a JSON id (string or integer) into a new string, or the line
 * number when there is none. Returns NULL on a bad id or no memory. */
static char *id_string(json_t *id, size_t lineno)
{
    char buf[32];
    if (json_is_string(id))
        return strdup(json_string_value(id));
    if (json_is_integer(id))
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
    else if (id == NULL)
        snprintf(buf, sizeof buf, "%zu", lineno);
    else
        return NULL;
    return strdup(buf);
}

/* Reads a JSON Lines file into *out. need_label: TRAIN (label required and
 * kept) or TEST (label never read). Returns false after printing why. */
static bool read_items(const char *path, bool need_label, struct items *out)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t linecap = 0, lineno = 0;
    bool ok = false;
    if (!f) {
        perror(path);
        return false;
    }
    while (getline(&line, &linecap, f) != -1) {
        json_error_t err;
        json_t *obj, *body;
        struct item item = {0};
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        obj = json_loads(line, JSON_DISABLE_EOF_CHECK, &err);
        body = json_object_get(obj, "body");
        if (!json_is_object(obj) || !json_is_string(body)) {
            fprintf(stderr, "%s:%zu: not an object with a string body%s%s\n",
                    path, lineno, obj ? "" : ": ", obj ? "" : err.text);
            json_decref(obj);
            goto done;
        }
        if (need_label) {
            const char *label =
                json_string_value(json_object_get(obj, "label"));
            if (label && strcmp(label, "spam") == 0)
                item.cls = RG_CLASS_SPAM;
            else if (label && strcmp(label, "ham") == 0)
                item.cls = RG_CLASS_HAM;
            else {
                fprintf(stderr, "%s:%zu: label must be \"spam\" or \"ham\"\n",
                        path, lineno);
                json_decref(obj);
                goto done;
            }
        }
        item.id = id_string(json_object_get(obj, "id"), lineno);
        item.body = strdup(json_string_value(body));
        json_decref(obj);
        if (!item.id || !item.body) {
            fprintf(stderr, "%s:%zu: bad id or out of memory\n", path, lineno);
            free(item.id);
            free(item.body);
            goto done;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 1024;
            struct item *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                fprintf(stderr, "out of memory\n");
                free(item.id);
                free(item.body);
                goto done;
            }
            out->v = v;
            out->cap = cap;
        }
        out->v[out->n++] = item;
        if (need_label && item.cls == RG_CLASS_SPAM)
            out->spam++;
        else if (need_label)
            out->ham++;
    }
    if (ferror(f)) {
        perror(path);
        goto done;
    }
    ok = true;
done:
    free(line);
    fclose(f);
    return ok;
}

/* A "VmHWM:" or "VmRSS:" figure of this process in KiB, or -1. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t len = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0) {
            kib = strtol(line + len, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* The peak resident set in KiB: VmHWM, or ru_maxrss where there is no
 * /proc. */
static long peak_kib(void)
{
    struct rusage ru;
    long kib = status_kib("VmHWM:");
    if (kib >= 0)
        return kib;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        return ru.ru_maxrss;
    return -1;
}

/*
 * The training of the timed run again, on a second model of the same store
 * URL with a single thread: what a caller that sets threads to 1 gets.
 */
static bool train_one_thread(const char *store, const rg_comment *comments,
                             const rg_class *classes, size_t n, double *seconds)
{
    rg_bayes_config cfg;
    rg_bayes *b = NULL;

    rg_bayes_config_init(&cfg);
    cfg.threads = 1;
    int rc = rg_bayes_open(&b, store, &cfg);
    if (rc == RG_OK) {
        double t0 = bench_now();
        rc = rg_bayes_learn_batch(b, comments, classes, n, 0);
        *seconds = bench_now() - t0;
    }
    if (rc != RG_OK)
        fprintf(stderr, "one-thread training: %s\n", rg_strerror(rc));
    rg_bayes_close(b);
    return rc == RG_OK;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: bayes-cv [--store URL] [--stats FILE] [--threads N] "
                "TRAIN.jsonl TEST.jsonl\n");
}

int main(int argc, char **argv)
{
    const char *store = "memory:", *stats_path = NULL;
    const char *train_path = NULL, *test_path = NULL;
    struct items train = {0}, test = {0};
    rg_comment *comments = NULL, *tests = NULL;
    rg_class *classes = NULL;
    rg_bayes_result *results = NULL;
    rg_bayes *b = NULL;
    rg_bayes_stats model = {0};
    size_t verdicts[3] = {0};
    double t0, train_s, classify_s, single_s, train1_s = -1;
    long hwm0, rss0, hwm1, rss1;
    json_t *stats = NULL;
    FILE *stats_out = stderr;
    int rc, status = 1;
    uint32_t threads = 0;
    rg_bayes_config cfg;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            store = argv[++i];
        else if (strcmp(argv[i], "--stats") == 0 && i + 1 < argc)
            stats_path = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage(stderr);
            return 2;
        } else if (!train_path)
            train_path = argv[i];
        else if (!test_path)
            test_path = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!test_path) {
        usage(stderr);
        return 2;
    }

    if (!read_items(train_path, true, &train) ||
        !read_items(test_path, false, &test))
        goto done;
    comments = calloc(train.n ? train.n : 1, sizeof *comments);
    classes = calloc(train.n ? train.n : 1, sizeof *classes);
    results = calloc(test.n ? test.n : 1, sizeof *results);
    if (!comments || !classes || !results) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < train.n; i++) {
        rg_comment_init(&comments[i]);
        comments[i].body = train.v[i].body;
        classes[i] = train.v[i].cls;
    }

    rc = rg_init();
    if (rc != RG_OK) {
        fprintf(stderr, "rg_init: %s\n", rg_strerror(rc));
        goto done;
    }
    /* The model's memory: what opening and training add to this
     * process, whose inputs are all parsed by now. */
    hwm0 = peak_kib();
    rss0 = status_kib("VmRSS:");
    rg_bayes_config_init(&cfg);
    cfg.threads = threads;
    rc = rg_bayes_open(&b, store, &cfg);
    if (rc != RG_OK) {
        fprintf(stderr, "rg_bayes_open(%s): %s\n", store, rg_strerror(rc));
        goto done;
    }

    t0 = bench_now();
    rc = rg_bayes_learn_batch(b, comments, classes, train.n, 0);
    train_s = bench_now() - t0;
    if (rc != RG_OK) {
        fprintf(stderr, "rg_bayes_learn_batch: %s\n", rg_strerror(rc));
        goto done;
    }
    hwm1 = peak_kib();
    rss1 = status_kib("VmRSS:");

    tests = calloc(test.n ? test.n : 1, sizeof *tests);
    if (!tests) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < test.n; i++) {
        rg_comment_init(&tests[i]);
        tests[i].body = test.v[i].body;
    }
    t0 = bench_now();
    rc = rg_bayes_classify_batch(b, tests, test.n, results);
    classify_s = bench_now() - t0;
    if (rc != RG_OK) {
        fprintf(stderr, "rg_bayes_classify_batch: %s\n", rg_strerror(rc));
        goto done;
    }

    t0 = bench_now();
    for (size_t i = 0; i < test.n; i++) {
        rg_bayes_result one;
        rc = rg_bayes_classify(b, &tests[i], &one, NULL, 0);
        if (rc != RG_OK) {
            fprintf(stderr, "rg_bayes_classify (%s): %s\n", test.v[i].id,
                    rg_strerror(rc));
            goto done;
        }
        if (one.spamicity != results[i].spamicity ||
            one.verdict != results[i].verdict) {
            fprintf(stderr,
                    "%s: rg_bayes_classify and "
                    "rg_bayes_classify_batch disagree\n",
                    test.v[i].id);
            goto done;
        }
    }
    single_s = bench_now() - t0;

    if (strncmp(store, "memory:", 7) == 0 &&
        !train_one_thread(store, comments, classes, train.n, &train1_s))
        goto done;

    for (size_t i = 0; i < test.n; i++) {
        rg_bayes_verdict v = results[i].verdict;
        if ((unsigned)v < 3)
            verdicts[v]++;
        printf("%s\t%.17g\t%s\n", test.v[i].id, results[i].spamicity,
               rg_bayes_verdict_name(v));
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("stdout");
        goto done;
    }
    rc = rg_bayes_stats_get(b, &model);
    if (rc != RG_OK) {
        fprintf(stderr, "rg_bayes_stats_get: %s\n", rg_strerror(rc));
        goto done;
    }

    stats = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:{s:I, s:I, "
        "s:I}, s:I, s:I, s:I, s:I, s:I}",
        "store", store, "train", (json_int_t)train.n, "train_spam",
        (json_int_t)train.spam, "train_ham", (json_int_t)train.ham, "test",
        (json_int_t)test.n, "train_seconds", train_s, "classify_seconds",
        classify_s, "classify_one_by_one_seconds", single_s,
        "train_one_thread_seconds", train1_s, "cpus",
        (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "verdicts", "ham",
        (json_int_t)verdicts[RG_BAYES_HAM], "unsure",
        (json_int_t)verdicts[RG_BAYES_UNSURE], "spam",
        (json_int_t)verdicts[RG_BAYES_SPAM], "model_spam",
        (json_int_t)model.spam_comments, "model_ham",
        (json_int_t)model.ham_comments, "model_tokens",
        (json_int_t)model.tokens, "peak_rss_increase_kb",
        (json_int_t)(hwm0 >= 0 && hwm1 >= 0 ? hwm1 - hwm0 : -1),
        "rss_increase_kb",
        (json_int_t)(rss0 >= 0 && rss1 >= 0 ? rss1 - rss0 : -1));
    if (!stats) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    if (stats_path && !(stats_out = fopen(stats_path, "w"))) {
        perror(stats_path);
        goto done;
    }
    if (json_dumpf(stats, stats_out, JSON_COMPACT) != 0 ||
        fputc('\n', stats_out) == EOF) {
        fprintf(stderr, "cannot write the stats\n");
        goto done;
    }
    status = 0;
done:
    if (stats_out != stderr && stats_out && fclose(stats_out) != 0) {
        perror(stats_path);
        status = 1;
    }
    json_decref(stats);
    rg_bayes_close(b);
    free(results);
    free(classes);
    free(tests);
    free(comments);
    items_free(&train);
    items_free(&test);
    return status;
}
