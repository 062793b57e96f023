/*
 * Faults of the machine under the sqlite: stores (a disk that fills, a
 * file system that turns read-only, a model image whose write is cut
 * short), and the bound on memory of the memory: stores under a spray of
 * clients.
 *
 * Disk full and read-only. A SQLite VFS of the test's own, registered as
 * the default, wraps the real "unix" VFS and refuses writes, truncations
 * and syncs on demand: once a budget of bytes is spent (a disk that fills;
 * a write that crosses the budget writes what fits first, as a short
 * write does), or every one of them (a file system turned read-only under
 * an open handle), or it opens every file read-only. A dry run counts the
 * calls an operation makes; the sweep then sets the budget at each call
 * and in the middle of each write, so that the refusal lands on every
 * write of the transaction: the WAL header and its sync, each frame, the
 * commit frame, and the checkpoint and WAL truncation when the last
 * handle closes. Each budget is tried twice: lasting (every later write
 * fails too) and passing (only that call fails, as when space is freed at
 * once), which shows whether a failure leaves a handle with state that
 * its later successes then rely on.
 *
 * After each fault: every call that failed returned RG_ESTORE, the code
 * the header documents for the store; the fault is removed, the file
 * passes PRAGMA integrity_check, and reopened it holds exactly what the
 * calls that succeeded wrote: nothing acknowledged is lost, and a failed
 * call left nothing. That is exact, not "all or nothing, either way": in
 * WAL mode with synchronous=NORMAL nothing that can fail is written after
 * the commit frame (SQLite ignores a failed WAL truncation or checkpoint
 * after it), so a call that reports an error has not committed.
 *
 * The model image (PATH-image) is written with plain file I/O, not
 * through SQLite: its write is cut short with RLIMIT_FSIZE in a child
 * process, at every part of the file. An image is trusted only when the
 * file's key is the one the database names, so the test checks the
 * stronger property whatever happened: any image the model would trust is
 * an exact copy of the model.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "rg-config.h"
#include "replyguard.h"
#include "internal.h"
#include "export-private.h"
#include "guard.h"
#include "limit.h"
#include "model-image.h"
#include "store.h"
#include "helpers.h"
#include "solver.h"

#if RG_HAVE_SQLITE
#include <sqlite3.h>
#endif

#define T0           1700000000u /* the guard's "now", in 2023 */
#define NS           1000000000ull
#define BINDING      "post-9|comments"
#define PATH_MAX_LEN 600

/* ---- What every test uses ---- */

static uint64_t now_s;

static uint64_t limiter_clock(void *arg)
{
    (void)arg;
    return now_s * NS;
}

/* A batch of comments: words of their own, so that each batch adds rows,
 * and words every batch shares, so that it also updates rows. */
#define BATCH 12

static int learn(rg_bayes *b, unsigned k, int unlearn)
{
    char text[BATCH][160];
    rg_comment c[BATCH];
    rg_class cls[BATCH];

    for (unsigned i = 0; i < BATCH; i++) {
        snprintf(text[i], sizeof text[i],
                 "cheap offer shared%u w%ux%ua w%ux%ub w%ux%uc w%ux%ud "
                 "w%ux%ue visit now",
                 i % 3, k, i, k, i, k, i, k, i, k, i);
        rg_comment_init(&c[i]);
        c[i].body = text[i];
        cls[i] = (k + i) % 2 ? RG_CLASS_SPAM : RG_CLASS_HAM;
    }
    return rg_bayes_learn_batch(b, c, cls, BATCH, unlearn);
}

#if RG_HAVE_SQLITE

/* ---- The VFS ---- */

enum fault_mode {
    FAULT_OFF,      /* every call goes through */
    FAULT_COUNT,    /* every call goes through, and is counted */
    FAULT_FULL,     /* writes spend a budget of bytes; then refusals */
    FAULT_READONLY, /* every write, truncation, sync and delete fails */
    FAULT_RO_OPEN   /* files open read-only, as on a read-only mount */
};

/* One call that writes, as the dry run saw it: the bytes written before
 * it, and its own (0 for a sync or a truncation). */
typedef struct write_event {
    int64_t at, bytes;
} write_event;

#define EVENTS_MAX 4096

static struct {
    enum fault_mode mode;
    int64_t budget;   /* FAULT_FULL: bytes that still fit */
    int error;        /* FAULT_READONLY: what a refused call returns */
    bool transient;   /* the fault ends with its first refusal */
    unsigned refused; /* calls refused so far */
    write_event events[EVENTS_MAX]; /* FAULT_COUNT */
    size_t nevents;
    int64_t total;
} fault;

static sqlite3_vfs *real_vfs;

typedef struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* the real VFS's file, right after this struct */
} shim_file;

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((shim_file *)f)->real;
}

static void fault_off(void)
{
    fault.mode = FAULT_OFF;
}

static void count_event(int64_t bytes)
{
    if (fault.nevents < EVENTS_MAX)
        fault.events[fault.nevents++] = (write_event){fault.total, bytes};
    fault.total += bytes;
}

/* A refusal: counted, and the end of a passing fault. */
static int refuse(int rc)
{
    fault.refused++;
    if (fault.transient)
        fault.mode = FAULT_OFF;
    return rc;
}

/* Whether a sync or truncation goes through; SQLITE_OK or its error. */
static int may_touch(void)
{
    switch (fault.mode) {
    case FAULT_COUNT:
        count_event(0);
        return SQLITE_OK;
    case FAULT_FULL:
        return fault.budget > 0 ? SQLITE_OK : refuse(SQLITE_FULL);
    case FAULT_READONLY:
        return refuse(fault.error);
    default:
        return SQLITE_OK;
    }
}

static int shim_close(sqlite3_file *f)
{
    return real_of(f)->pMethods->xClose(real_of(f));
}

static int shim_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}

static int shim_write(sqlite3_file *f, const void *buf, int amt,
                      sqlite3_int64 off)
{
    sqlite3_file *r = real_of(f);

    switch (fault.mode) {
    case FAULT_COUNT:
        count_event(amt);
        break;
    case FAULT_FULL:
        if (fault.budget >= amt) {
            fault.budget -= amt;
            break;
        }
        /* What fits is written, as a short write on a full disk does. */
        if (fault.budget > 0)
            r->pMethods->xWrite(r, buf, (int)fault.budget, off);
        fault.budget = 0;
        return refuse(SQLITE_FULL);
    case FAULT_READONLY:
        return refuse(fault.error);
    default:
        break;
    }
    return r->pMethods->xWrite(r, buf, amt, off);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = may_touch();
    return rc != SQLITE_OK ? rc
                           : real_of(f)->pMethods->xTruncate(real_of(f), size);
}

/* A sync that is not refused does nothing: the tests cut no power, and
 * the sweeps need not wait for the disk thousands of times. */
static int shim_sync(sqlite3_file *f, int flags)
{
    (void)f;
    (void)flags;
    return may_touch();
}

static int shim_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int shim_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int shim_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int shim_check_reserved(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int shim_file_control(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int shim_sector_size(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int shim_device(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int shim_shm_map(sqlite3_file *f, int page, int size, int extend,
                        void volatile **out)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}

static int shim_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void shim_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int shim_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, amt, out);
}

static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods shim_io = {
    .iVersion = 3,
    .xClose = shim_close,
    .xRead = shim_read,
    .xWrite = shim_write,
    .xTruncate = shim_truncate,
    .xSync = shim_sync,
    .xFileSize = shim_file_size,
    .xLock = shim_lock,
    .xUnlock = shim_unlock,
    .xCheckReservedLock = shim_check_reserved,
    .xFileControl = shim_file_control,
    .xSectorSize = shim_sector_size,
    .xDeviceCharacteristics = shim_device,
    .xShmMap = shim_shm_map,
    .xShmLock = shim_shm_lock,
    .xShmBarrier = shim_shm_barrier,
    .xShmUnmap = shim_shm_unmap,
    .xFetch = shim_fetch,
    .xUnfetch = shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                     int flags, int *out_flags)
{
    shim_file *f = (shim_file *)file;

    (void)vfs;
    f->real = (sqlite3_file *)(f + 1);
    if (fault.mode == FAULT_RO_OPEN && (flags & SQLITE_OPEN_READWRITE))
        flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
                SQLITE_OPEN_READONLY;
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    /* SQLite closes a file whose methods are set, even after a failure. */
    f->base.pMethods = f->real->pMethods ? &shim_io : NULL;
    return rc;
}

static int shim_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    if (fault.mode == FAULT_READONLY)
        return refuse(SQLITE_IOERR_DELETE);
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static sqlite3_vfs shim_vfs;

/* Makes the fault VFS the default, once per process. */
static void use_fault_vfs(void)
{
    ck_assert_int_eq(rg_init(), RG_OK);
    if (real_vfs)
        return;
    real_vfs = sqlite3_vfs_find("unix");
    ck_assert_ptr_nonnull(real_vfs);
    /* Everything but opening and deleting is the real VFS's own. */
    shim_vfs = *real_vfs;
    shim_vfs.pNext = NULL;
    shim_vfs.zName = "rg-faults";
    shim_vfs.szOsFile = (int)sizeof(shim_file) + real_vfs->szOsFile;
    shim_vfs.xOpen = shim_open;
    shim_vfs.xDelete = shim_delete;
    ck_assert_int_eq(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
    ck_assert_ptr_eq(sqlite3_vfs_find(NULL), &shim_vfs);
}

/* ---- Paths, files and digests ---- */

/* dir/name into buf (PATH_MAX_LEN bytes). */
static char *path_in(char *buf, const char *dir, const char *name)
{
    int n = snprintf(buf, PATH_MAX_LEN, "%s/%s", dir, name);
    ck_assert(n > 0 && n < PATH_MAX_LEN);
    return buf;
}

/* "sqlite:" and the file `name` of dir, into buf. */
static char *url_in(char *buf, const char *dir, const char *name)
{
    char path[PATH_MAX_LEN];
    int n =
        snprintf(buf, PATH_MAX_LEN + 16, "sqlite:%s", path_in(path, dir, name));
    ck_assert(n > 0 && n < PATH_MAX_LEN + 16);
    return buf;
}

/* A fresh directory under parent. */
static char *subdir(char *buf, const char *parent, const char *name)
{
    path_in(buf, parent, name);
    ck_assert_msg(mkdir(buf, 0700) == 0, "mkdir %s: %s", buf, strerror(errno));
    return buf;
}

/* PRAGMA integrity_check on the file, with no fault on: "ok", alone. */
static void ck_integrity(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const char *said = (const char *)sqlite3_column_text(st, 0);
    ck_assert_msg(said && strcmp(said, "ok") == 0, "%s: integrity_check: %s",
                  path, said ? said : "(null)");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static int hash_totals(void *arg, const rg__totals *t, uint64_t tokens)
{
    uint64_t v[5] = {t->spam, t->ham, t->spam_words, t->ham_words, tokens};
    crypto_generichash_update(arg, (const unsigned char *)v, sizeof v);
    return RG_OK;
}

static int hash_token(void *arg, const char *tok, size_t len, rg__counts c)
{
    uint64_t head[3] = {len, c.spam, c.ham};
    crypto_generichash_update(arg, (const unsigned char *)head, sizeof head);
    crypto_generichash_update(arg, (const unsigned char *)tok, len);
    return RG_OK;
}

/* A hash of the whole model at url: its export, totals and every token. */
static void model_digest(const char *url, uint8_t out[32])
{
    rg_store *s = NULL;
    crypto_generichash_state st;
    rg__model_visitor v = {hash_totals, hash_token, &st};

    ck_assert_int_eq(rg_store_open(&s, url), RG_OK);
    crypto_generichash_init(&st, NULL, 0, 32);
    ck_assert_int_eq(rg__store_export_model(s, &v), RG_OK);
    crypto_generichash_final(&st, out, 32);
    rg_store_close(s);
}

static int count_nonce(void *arg, const uint8_t nonce[RG__NONCE_BYTES],
                       uint64_t expires_at)
{
    (void)nonce;
    (void)expires_at;
    ++*(int *)arg;
    return RG_OK;
}

/* Spent nonces live at `now` in the store at url. */
static int live_nonces(const char *url, uint64_t now)
{
    rg_store *s = NULL;
    int n = 0;
    rg__nonce_visitor v = {count_nonce, &n};

    ck_assert_int_eq(rg_store_open(&s, url), RG_OK);
    ck_assert_int_eq(rg__store_export_nonces(s, now, &v), RG_OK);
    rg_store_close(s);
    return n;
}

/* ---- What the calls under a fault write ---- */

/* Comments to classify, some of each batch's words and some unknown. */
static const char *const PROBES[] = {
    "cheap offer w0x1a w1x2b visit now",
    "shared0 w2x3c w3x4d something else entirely",
    "w1x5e w0x7a w1x9b shared2",
    "a comment about bread and gardens",
};
#define NPROBES (sizeof PROBES / sizeof PROBES[0])

/* The spamicity of each probe under the model at url, read through its
 * image when it has one it trusts. */
static void classify_probes(const char *url, double out[NPROBES])
{
    rg_bayes *b = NULL;

    ck_assert_int_eq(rg_bayes_open(&b, url, NULL), RG_OK);
    ck_assert_int_eq(rg_bayes_preload(b), RG_OK);
    for (size_t i = 0; i < NPROBES; i++) {
        rg_comment c;
        rg_bayes_result r;
        rg_comment_init(&c);
        c.body = PROBES[i];
        ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
        out[i] = r.spamicity;
    }
    rg_bayes_close(b);
}

/* A challenge issued with its right answer. */
typedef struct issued {
    char token[RG_TOKEN_MAX];
    char answer[16];
} issued;

static issued issue(rg_guard *g)
{
    rg_challenge c;
    issued out;

    rg_test_issue_solved(g, BINDING, &c, out.answer);
    memcpy(out.token, c.token, sizeof out.token);
    return out;
}

static rg_verdict verify(rg_guard *g, const issued *t)
{
    rg_verdict v;
    int rc = rg_challenge_verify(g, t->token, t->answer, BINDING, &v);
    ck_assert_msg(rc == RG_OK, "verify: %s", rg_err_name(rc));
    return v;
}

/* A limiter of 1 a minute, 5 at once, on the guard's clock. */
static int limiter_open(rg_limiter **out, const char *url)
{
    rg_limiter_config cfg;

    rg_limiter_config_init(&cfg);
    cfg.store = url;
    cfg.name = "faults";
    cfg.clock_ns = limiter_clock;
    return rg_limiter_open(out, &cfg);
}

#define LIMIT 5

static rg_limiter *limiter(const char *url)
{
    rg_limiter *l = NULL;
    ck_assert_int_eq(limiter_open(&l, url), RG_OK);
    return l;
}

/* What is left of a key's allowance, looked at without taking. */
static uint32_t remaining(rg_limiter *l, const char *key)
{
    rg_limit_result r;
    ck_assert_int_eq(rg_limiter_take(l, key, strlen(key), 0, &r), RG_OK);
    return r.remaining;
}

/* ---- Sweeps ---- */

/* What a scenario's calls under a fault returned. */
#define CALLS_MAX 16
typedef struct outcome {
    int rc[CALLS_MAX];
    int allowed[CALLS_MAX]; /* limiter takes: what the result said */
    rg_verdict verdict[CALLS_MAX];
    size_t n;
} outcome;

typedef struct scenario {
    const char *name;
    /* Makes the file in dir with no fault on: the state before. */
    void (*setup)(const char *dir);
    /* The calls under the fault, from opening to closing. */
    void (*run)(const char *dir, outcome *o);
    /* With the fault off again: what the file must hold now. */
    void (*check)(const char *dir, const outcome *o);
} scenario;

static int record(outcome *o, int rc)
{
    ck_assert_uint_lt(o->n, CALLS_MAX);
    o->rc[o->n++] = rc;
    return rc;
}

/* Every call either succeeded or failed with the store's code. */
static void ck_codes(const scenario *sc, const outcome *o)
{
    for (size_t i = 0; i < o->n; i++)
        ck_assert_msg(o->rc[i] == RG_OK || o->rc[i] == RG_ESTORE,
                      "%s: call %zu: %s", sc->name, i, rg_err_name(o->rc[i]));
}

static bool any_failed(const outcome *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->rc[i] != RG_OK)
            return true;
    return false;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Runs the scenario once with no fault, counting the writes, then once
 * for each budget that lands on a write, sync or truncation (and in the
 * middle of each write), lasting or passing. Returns the number of runs
 * in which a call failed.
 */
static unsigned sweep(const scenario *sc, bool transient)
{
    char base[PATH_MAX_LEN], dir[PATH_MAX_LEN], name[32], db[PATH_MAX_LEN];
    outcome o;

    use_fault_vfs();
    snprintf(base, sizeof base, "%s", rg_test_tmpdir());

    subdir(dir, base, "dry");
    sc->setup(dir);
    memset(&o, 0, sizeof o);
    memset(&fault, 0, sizeof fault);
    fault.mode = FAULT_COUNT;
    sc->run(dir, &o);
    fault_off();
    ck_assert_msg(!any_failed(&o), "%s: the dry run failed", sc->name);
    ck_assert_msg(fault.nevents > 0 && fault.nevents < EVENTS_MAX,
                  "%s: %zu writes", sc->name, fault.nevents);
    sc->check(dir, &o);
    rg_test_rmtree(dir);

    /* Each call's first byte, and a byte in the middle of each write. */
    static int64_t budgets[2 * EVENTS_MAX + 1];
    size_t nb = 0;
    for (size_t i = 0; i < fault.nevents; i++) {
        budgets[nb++] = fault.events[i].at;
        if (fault.events[i].bytes > 1)
            budgets[nb++] = fault.events[i].at + fault.events[i].bytes / 2;
    }
    budgets[nb++] = fault.total + 1; /* enough for everything */
    qsort(budgets, nb, sizeof budgets[0], by_value);

    /* Under valgrind, where each run takes many times as long, every
     * eighth budget and the last: the same checks after each run, at an
     * eighth of the places a write can fail. */
    const size_t stride = rg_test_under_valgrind() ? 8 : 1;
    unsigned failed_runs = 0, runs = 0;
    for (size_t i = 0; i < nb; i++) {
        if (i > 0 && budgets[i] == budgets[i - 1])
            continue;
        if (i % stride != 0 && i != nb - 1)
            continue;
        snprintf(name, sizeof name, "b%zu", i);
        subdir(dir, base, name);
        sc->setup(dir);
        memset(&o, 0, sizeof o);
        fault.mode = FAULT_FULL;
        fault.budget = budgets[i];
        fault.transient = transient;
        fault.refused = 0;
        sc->run(dir, &o);
        unsigned refused = fault.refused;
        fault_off();
        ck_codes(sc, &o);
        /* No call fails unless the VFS refused something. (A refusal may
         * go unreported: SQLite ignores a failed checkpoint or WAL
         * truncation, after a commit and at close.) */
        if (!refused)
            ck_assert_msg(!any_failed(&o), "%s: a call failed unrefused",
                          sc->name);
        ck_integrity(path_in(db, dir, "s.db"));
        sc->check(dir, &o);
        failed_runs += any_failed(&o);
        runs++;
        rg_test_rmtree(dir);
    }
    ck_assert_msg(failed_runs > 0 && failed_runs < runs,
                  "%s: %u of %u runs failed", sc->name, failed_runs, runs);
    return failed_runs;
}

/* ---- The spam model: learn, unlearn ---- */

static void model_setup(const char *dir)
{
    char url[PATH_MAX_LEN + 16];
    rg_bayes *b = NULL;

    ck_assert_int_eq(rg_bayes_open(&b, url_in(url, dir, "s.db"), NULL), RG_OK);
    ck_assert_int_eq(learn(b, 0, 0), RG_OK);
    ck_assert_int_eq(learn(b, 1, 0), RG_OK);
    rg_bayes_close(b);
}

/* The calls: learn batch 2, unlearn batch 0, learn one comment. */
static void model_run(const char *dir, outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_bayes *b = NULL;

    if (record(o, rg_bayes_open(&b, url_in(url, dir, "s.db"), NULL)) != RG_OK)
        return;
    record(o, learn(b, 2, 0));
    record(o, learn(b, 0, 1));
    rg_comment c;
    rg_comment_init(&c);
    c.body = "a single late comment w9x9z";
    record(o, rg_bayes_learn(b, &c, RG_CLASS_SPAM));
    rg_bayes_close(b);
}

/* The model the calls acknowledged in `mask` leave, made afresh with no
 * fault in dir/ref-MASK. Digests are kept per mask: the sweep asks for
 * the same few again and again. */
static uint8_t ref_digest[16][32];
static bool have_ref[16];

static const uint8_t *model_reference(const char *dir, unsigned mask)
{
    char url[PATH_MAX_LEN + 16], name[32];
    rg_bayes *b = NULL;

    ck_assert_uint_lt(mask, 16);
    if (have_ref[mask])
        return ref_digest[mask];
    snprintf(name, sizeof name, "ref-%u.db", mask);
    url_in(url, dir, name);
    ck_assert_int_eq(rg_bayes_open(&b, url, NULL), RG_OK);
    ck_assert_int_eq(learn(b, 0, 0), RG_OK);
    ck_assert_int_eq(learn(b, 1, 0), RG_OK);
    if (mask & 1)
        ck_assert_int_eq(learn(b, 2, 0), RG_OK);
    if (mask & 2)
        ck_assert_int_eq(learn(b, 0, 1), RG_OK);
    if (mask & 4) {
        rg_comment c;
        rg_comment_init(&c);
        c.body = "a single late comment w9x9z";
        ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_SPAM), RG_OK);
    }
    rg_bayes_close(b);
    model_digest(url, ref_digest[mask]);
    have_ref[mask] = true;
    return ref_digest[mask];
}

static void model_check(const char *dir, const outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    uint8_t got[32];
    unsigned mask = 0;

    /* Calls 1 to 3 are the writes (call 0 opened the model). */
    for (size_t i = 1; i < o->n; i++)
        if (o->rc[i] == RG_OK)
            mask |= 1u << (i - 1);
    model_digest(url_in(url, dir, "s.db"), got);
    ck_assert_msg(memcmp(got, model_reference(dir, mask), 32) == 0,
                  "the model is not the one of the acknowledged calls "
                  "(mask %u)",
                  mask);
    /* And it goes on learning. */
    rg_bayes *b = NULL;
    ck_assert_int_eq(rg_bayes_open(&b, url, NULL), RG_OK);
    ck_assert_int_eq(learn(b, 5, 0), RG_OK);
    rg_bayes_close(b);
}

static const scenario MODEL = {"model", model_setup, model_run, model_check};

START_TEST(disk_full_model)
{
    memset(have_ref, 0, sizeof have_ref);
    ck_assert_uint_gt(sweep(&MODEL, _i), 0);
}
END_TEST

/* ---- Spent tokens: verify through a guard ---- */

#define FRESH 5
static issued old_token, live_token, fresh_tokens[FRESH];

static rg_guard *guard_on(const char *dir)
{
    char url[PATH_MAX_LEN + 16];
    return rg_test_guard(&now_s, url_in(url, dir, "s.db"));
}

/*
 * Before: a token spent long ago (its row expired, so the first spend of
 * the next handle purges it), one spent and still live, and FRESH tokens
 * issued but not yet answered.
 */
static void spend_setup(const char *dir)
{
    now_s = T0 - 5000;
    rg_guard *g = guard_on(dir);
    old_token = issue(g);
    now_s += 10;
    ck_assert_int_eq(verify(g, &old_token), RG_VERDICT_PASS);
    now_s = T0 - 100;
    live_token = issue(g);
    now_s = T0 - 90;
    ck_assert_int_eq(verify(g, &live_token), RG_VERDICT_PASS);
    now_s = T0 - 30;
    for (int i = 0; i < FRESH; i++)
        fresh_tokens[i] = issue(g);
    rg_guard_free(g);
}

/* The calls: a new guard (a new process, say) answers every fresh token
 * right. */
static void spend_run(const char *dir, outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_config cfg;
    rg_guard *g = NULL;

    now_s = T0;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now_s;
    cfg.store = url_in(url, dir, "s.db");
    if (record(o, rg_guard_new(&g, &cfg)) != RG_OK)
        return;
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    for (int i = 0; i < FRESH; i++) {
        size_t k = o->n;
        record(o, rg_challenge_verify(g, fresh_tokens[i].token,
                                      fresh_tokens[i].answer, BINDING,
                                      &o->verdict[k]));
    }
    rg_guard_free(g);
}

static void spend_check(const char *dir, const outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    int acked = 0;

    now_s = T0 + 1;
    for (size_t i = 1; i < o->n; i++) {
        if (o->rc[i] == RG_OK) {
            ck_assert_int_eq(o->verdict[i], RG_VERDICT_PASS);
            acked++;
        } else {
            /* Failed closed: no verdict, never a pass. */
            ck_assert_int_eq(o->verdict[i], RG_VERDICT_MALFORMED);
        }
    }
    /* Exactly the live token and the acknowledged ones are spent. */
    ck_assert_int_eq(live_nonces(url_in(url, dir, "s.db"), now_s), 1 + acked);

    rg_guard *g = guard_on(dir);
    ck_assert_int_eq(verify(g, &live_token), RG_VERDICT_REPLAYED);
    for (size_t i = 1; i < o->n; i++)
        ck_assert_int_eq(verify(g, &fresh_tokens[i - 1]),
                         o->rc[i] == RG_OK ? RG_VERDICT_REPLAYED
                                           : RG_VERDICT_PASS);
    /* A call that never opened the store answered nothing: every token
     * is still unspent. */
    for (size_t i = o->n == 0 ? 0 : o->n - 1; i < FRESH; i++)
        ck_assert_int_eq(verify(g, &fresh_tokens[i]), RG_VERDICT_PASS);
    rg_guard_free(g);
}

static const scenario SPEND = {"spend", spend_setup, spend_run, spend_check};

START_TEST(disk_full_spend)
{
    ck_assert_uint_gt(sweep(&SPEND, _i), 0);
}
END_TEST

/* ---- The rate limiter ---- */

static const char *const TAKES[] = {"k1", "k2", "k3", "k1", "k2",
                                    "k1", "k4", "k1", "k1"};
#define NTAKES (sizeof TAKES / sizeof TAKES[0])

static void limit_setup(const char *dir)
{
    char url[PATH_MAX_LEN + 16];
    rg_limit_result r;

    now_s = T0;
    rg_limiter *l = limiter(url_in(url, dir, "s.db"));
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(rg_limiter_take(l, "k1", 2, 1, &r), RG_OK);
        ck_assert(r.allowed);
    }
    rg_limiter_free(l);
}

static void limit_run(const char *dir, outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_limiter *l = NULL;

    now_s = T0;
    if (record(o, limiter_open(&l, url_in(url, dir, "s.db"))) != RG_OK)
        return;
    for (size_t i = 0; i < NTAKES; i++) {
        rg_limit_result r;
        size_t k = o->n;
        record(o, rg_limiter_take(l, TAKES[i], strlen(TAKES[i]), 1, &r));
        o->allowed[k] = r.allowed;
        /* A failed take refuses, and says so in full. */
        if (o->rc[k] != RG_OK)
            ck_assert(!r.allowed && r.limit == LIMIT && r.retry_after_ms == 0);
    }
    rg_limiter_free(l);
}

static void limit_check(const char *dir, const outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    const char *keys[] = {"k1", "k2", "k3", "k4"};

    now_s = T0;
    rg_limiter *l = limiter(url_in(url, dir, "s.db"));
    for (size_t k = 0; k < 4; k++) {
        uint32_t used = strcmp(keys[k], "k1") == 0 ? 2 : 0;
        for (size_t i = 1; i < o->n; i++)
            used += o->rc[i] == RG_OK && o->allowed[i] &&
                    strcmp(TAKES[i - 1], keys[k]) == 0;
        ck_assert_msg(remaining(l, keys[k]) == LIMIT - used,
                      "%s: %u left, %u taken", keys[k], remaining(l, keys[k]),
                      used);
    }
    rg_limiter_free(l);
}

static const scenario LIMITS = {"limit", limit_setup, limit_run, limit_check};

/* A file whose limiter never took: the first take also makes the file's
 * secret, in the same transaction as its row. */
static void limit_fresh_setup(const char *dir)
{
    char url[PATH_MAX_LEN + 16];
    rg_store *s = NULL;

    ck_assert_int_eq(rg_store_open(&s, url_in(url, dir, "s.db")), RG_OK);
    rg_store_close(s);
}

static void limit_fresh_check(const char *dir, const outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    const char *keys[] = {"k1", "k2", "k3", "k4"};

    now_s = T0;
    rg_limiter *l = limiter(url_in(url, dir, "s.db"));
    for (size_t k = 0; k < 4; k++) {
        uint32_t used = 0;
        for (size_t i = 1; i < o->n; i++)
            used += o->rc[i] == RG_OK && o->allowed[i] &&
                    strcmp(TAKES[i - 1], keys[k]) == 0;
        ck_assert_msg(remaining(l, keys[k]) == LIMIT - used,
                      "%s: %u left, %u taken", keys[k], remaining(l, keys[k]),
                      used);
    }
    rg_limiter_free(l);
}

static const scenario LIMITS_FRESH = {"limit, fresh file", limit_fresh_setup,
                                      limit_run, limit_fresh_check};

START_TEST(disk_full_limiter)
{
    /* _i: bit 0 passing faults, bit 1 a file whose limiter never took. */
    ck_assert_uint_gt(sweep(_i & 2 ? &LIMITS_FRESH : &LIMITS, _i & 1), 0);
}
END_TEST

/* ---- The model image ---- */

/* The image key the database names, if any. */
static bool image_tag(const char *path, uint8_t tag[RG__IMAGE_KEY_BYTES])
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool found = false;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT tag FROM bayes_image "
                                        "WHERE id = 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        ck_assert_int_eq(sqlite3_column_bytes(st, 0), RG__IMAGE_KEY_BYTES);
        memcpy(tag, sqlite3_column_blob(st, 0), RG__IMAGE_KEY_BYTES);
        found = true;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

typedef struct image_match {
    const rg__model_image *im;
    uint64_t tokens;
} image_match;

static int match_totals(void *arg, const rg__totals *t, uint64_t tokens)
{
    image_match *m = arg;
    rg__totals it;
    uint64_t n;

    rg__model_image_totals(m->im, &it, &n);
    ck_assert(it.spam == t->spam && it.ham == t->ham &&
              it.spam_words == t->spam_words && it.ham_words == t->ham_words);
    ck_assert_uint_eq(n, tokens);
    return RG_OK;
}

static int match_token(void *arg, const char *tok, size_t len, rg__counts c)
{
    image_match *m = arg;
    rg__counts got = rg__model_image_get(m->im, tok, len);

    ck_assert_msg(got.spam == c.spam && got.ham == c.ham,
                  "the image has %u/%u for '%.*s', the table %u/%u", got.spam,
                  got.ham, (int)len, tok, c.spam, c.ham);
    m->tokens++;
    return RG_OK;
}

/*
 * The image the model in dir/s.db would trust (the file whose key the
 * database names), checked against the table token by token; true when
 * there is one. Whatever image is not trusted is ignored, so that is
 * never wrong.
 */
static bool trusted_image_is_exact(const char *dir)
{
    char path[PATH_MAX_LEN], image[PATH_MAX_LEN], url[PATH_MAX_LEN + 16];
    uint8_t tag[RG__IMAGE_KEY_BYTES];

    if (!image_tag(path_in(path, dir, "s.db"), tag))
        return false;
    rg__model_image *im =
        rg__model_image_read(path_in(image, dir, "s.db-image"), tag);
    if (!im)
        return false;
    image_match m = {im, 0};
    rg__model_visitor v = {match_totals, match_token, &m};
    rg_store *s = NULL;
    ck_assert_int_eq(rg_store_open(&s, url_in(url, dir, "s.db")), RG_OK);
    ck_assert_int_eq(rg__store_export_model(s, &v), RG_OK);
    rg_store_close(s);
    rg__model_image_free(im);
    return true;
}

/* No temporary image (PATH-image.XXXXXX) is left beside the file. */
static void ck_no_stray_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        ck_assert_msg(!strstr(e->d_name, "-image."),
                      "a temporary image was left: %s/%s", dir, e->d_name);
    closedir(d);
}

static bool image_stale; /* learn after the last image, making it stale */
static double image_probes[NPROBES];

static void image_setup(const char *dir)
{
    char url[PATH_MAX_LEN + 16];
    rg_bayes *b = NULL;

    ck_assert_int_eq(rg_bayes_open(&b, url_in(url, dir, "s.db"), NULL), RG_OK);
    ck_assert_int_eq(learn(b, 0, 0), RG_OK);
    ck_assert_int_eq(learn(b, 1, 0), RG_OK);
    ck_assert_int_eq(rg_bayes_optimize(b), RG_OK);
    if (image_stale)
        ck_assert_int_eq(learn(b, 2, 0), RG_OK);
    rg_bayes_close(b);
    ck_assert(trusted_image_is_exact(dir) == !image_stale);
    classify_probes(url, image_probes);
}

static void image_run(const char *dir, outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_bayes *b = NULL;

    if (record(o, rg_bayes_open(&b, url_in(url, dir, "s.db"), NULL)) != RG_OK)
        return;
    record(o, rg_bayes_optimize(b));
    rg_bayes_close(b);
}

static void image_check(const char *dir, const outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    double probes[NPROBES];

    /* An image the model trusts is exact; a written one is trusted. */
    bool trusted = trusted_image_is_exact(dir);
    if (o->n == 2 && o->rc[1] == RG_OK)
        ck_assert(trusted);
    ck_no_stray_files(dir);
    /* The model classifies as before, image or not. */
    classify_probes(url_in(url, dir, "s.db"), probes);
    for (size_t i = 0; i < NPROBES; i++)
        ck_assert_msg(probes[i] == image_probes[i], "probe %zu: %f, was %f", i,
                      probes[i], image_probes[i]);
}

static const scenario IMAGE = {"image", image_setup, image_run, image_check};

START_TEST(disk_full_optimize)
{
    /* _i: bit 0 passing faults, bit 1 a stale image before. */
    image_stale = _i & 2;
    ck_assert_uint_gt(sweep(&IMAGE, _i & 1), 0);
}
END_TEST

/* ---- A new file, and a file of the schema before ---- */

static const uint8_t NONCE[RG__NONCE_BYTES] = {0x66, 0x61, 0x75, 0x6c,
                                               0x74, 0x73, 1,    2};

static void nothing(const char *dir)
{
    (void)dir;
}

static void new_file_run(const char *dir, outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_store *s = NULL;
    bool fresh = false;

    if (record(o, rg_store_open(&s, url_in(url, dir, "s.db"))) != RG_OK)
        return;
    record(o, rg__store_spend(s, NONCE, T0 + 100, T0, &fresh));
    rg_store_close(s);
}

/* A file whose creation failed opens later as a new one. */
static void new_file_check(const char *dir, const outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_store *s = NULL;
    bool fresh = false;

    url_in(url, dir, "s.db");
    ck_assert_int_eq(rg_store_open(&s, url), RG_OK);
    ck_assert_int_eq(rg__store_spend(s, NONCE, T0 + 100, T0, &fresh), RG_OK);
    ck_assert(fresh == !(o->n == 2 && o->rc[1] == RG_OK));
    rg_store_close(s);
}

static const scenario NEW_FILE = {"new file", nothing, new_file_run,
                                  new_file_check};

START_TEST(disk_full_new_file)
{
    ck_assert_uint_gt(sweep(&NEW_FILE, _i), 0);
}
END_TEST

/* ---- A file system that turns read-only under open handles ---- */

/*
 * One file with all three: a model, a spent token and a fresh one, and a
 * key of the limiter twice into its allowance.
 */
static issued unspent;
static uint8_t model_before[32];

static void shared_setup(const char *dir)
{
    char url[PATH_MAX_LEN + 16];

    model_setup(dir);
    spend_setup(dir);
    unspent = fresh_tokens[0];
    limit_setup(dir);
    model_digest(url_in(url, dir, "s.db"), model_before);
}

/* What a failed write must not have changed. */
static void shared_check(const char *dir)
{
    char url[PATH_MAX_LEN + 16], path[PATH_MAX_LEN];
    uint8_t now[32];

    ck_integrity(path_in(path, dir, "s.db"));
    model_digest(url_in(url, dir, "s.db"), now);
    ck_assert(memcmp(now, model_before, 32) == 0);
    trusted_image_is_exact(dir);
    now_s = T0;
    rg_guard *g = guard_on(dir);
    ck_assert_int_eq(verify(g, &live_token), RG_VERDICT_REPLAYED);
    ck_assert_int_eq(verify(g, &unspent), RG_VERDICT_PASS);
    rg_guard_free(g);
    rg_limiter *l = limiter(url);
    ck_assert_uint_eq(remaining(l, "k1"), LIMIT - 2);
    rg_limiter_free(l);
}

/* Every write fails; reading goes on. */
static void ck_writes_fail(rg_bayes *b, rg_guard *g, rg_limiter *l)
{
    rg_bayes_result r;
    rg_bayes_stats stats;
    rg_comment c;
    rg_verdict v;
    rg_limit_result lr;

    rg_comment_init(&c);
    c.body = PROBES[0];
    if (b) {
        ck_assert_int_eq(learn(b, 3, 0), RG_ESTORE);
        ck_assert_int_eq(learn(b, 0, 1), RG_ESTORE);
        ck_assert_int_eq(rg_bayes_learn(b, &c, RG_CLASS_HAM), RG_ESTORE);
        ck_assert_int_eq(rg_bayes_optimize(b), RG_ESTORE);
        ck_assert_int_eq(rg_bayes_classify(b, &c, &r, NULL, 0), RG_OK);
        ck_assert_int_eq(rg_bayes_stats_get(b, &stats), RG_OK);
        ck_assert_uint_eq(stats.spam_comments + stats.ham_comments, 2 * BATCH);
    }
    if (g) {
        ck_assert_int_eq(
            rg_challenge_verify(g, unspent.token, unspent.answer, BINDING, &v),
            RG_ESTORE);
        ck_assert_int_eq(v, RG_VERDICT_MALFORMED);
    }
    if (l) {
        ck_assert_int_eq(rg_limiter_take(l, "k1", 2, 1, &lr), RG_ESTORE);
        ck_assert(!lr.allowed);
        ck_assert_int_eq(rg_limiter_take(l, "k9", 2, 1, &lr), RG_ESTORE);
        ck_assert(!lr.allowed);
    }
}

static const int READONLY_ERRORS[] = {SQLITE_READONLY, SQLITE_IOERR_WRITE,
                                      SQLITE_PERM};

/* Handles open first, then every write fails (EROFS under SQLite's
 * feet), for each code SQLite may get. */
START_TEST(readonly_under_open_handles)
{
    char dir[PATH_MAX_LEN], url[PATH_MAX_LEN + 16];
    rg_bayes *b = NULL;
    rg_limiter *l = NULL;

    use_fault_vfs();
    snprintf(dir, sizeof dir, "%s", rg_test_tmpdir());
    shared_setup(dir);
    url_in(url, dir, "s.db");
    now_s = T0;
    ck_assert_int_eq(rg_bayes_open(&b, url, NULL), RG_OK);
    rg_guard *g = guard_on(dir);
    l = limiter(url);

    fault.mode = FAULT_READONLY;
    fault.error = READONLY_ERRORS[_i];
    fault.transient = false;
    fault.refused = 0;
    ck_writes_fail(b, g, l);
    rg_bayes_close(b);
    rg_guard_free(g);
    rg_limiter_free(l);
    ck_assert_uint_gt(fault.refused, 0);
    fault_off();
    shared_check(dir);
}
END_TEST

/* Files opened read-only from the start, as SQLite does with a file it
 * may read but not write: the handles open and read, and every write
 * fails. (replyguard itself refuses to open a file it cannot write: see
 * readonly_file_system.) */
START_TEST(readonly_open)
{
    char dir[PATH_MAX_LEN], url[PATH_MAX_LEN + 16];
    rg_bayes *b = NULL;
    rg_limiter *l = NULL;
    rg_guard *g = NULL;
    rg_config cfg;

    use_fault_vfs();
    snprintf(dir, sizeof dir, "%s", rg_test_tmpdir());
    shared_setup(dir);
    url_in(url, dir, "s.db");
    now_s = T0;

    fault.mode = FAULT_RO_OPEN;
    int rc = rg_bayes_open(&b, url, NULL);
    ck_assert_int_eq(rc, RG_OK);
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now_s;
    cfg.store = url;
    rc = rg_guard_new(&g, &cfg);
    ck_assert_int_eq(rc, RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    rc = limiter_open(&l, url);
    ck_assert_int_eq(rc, RG_OK);
    ck_writes_fail(b, g, l);
    rg_bayes_close(b);
    rg_guard_free(g);
    rg_limiter_free(l);
    fault_off();
    shared_check(dir);
}
END_TEST

/*
 * What a file holds, as a hash of its bytes (all zero when there is no
 * such file). A hash rather than the bytes, so that no buffer lives
 * across the fork() of the tests below: a child that exits without
 * freeing it would leak it under valgrind.
 */
typedef struct file_hash {
    uint8_t h[crypto_generichash_BYTES];
} file_hash;

static file_hash hash_file(const char *path)
{
    file_hash out;
    struct stat st;
    size_t len;

    memset(&out, 0, sizeof out);
    if (stat(path, &st) != 0)
        return out;
    unsigned char *bytes = rg_test_read_file(path, &len);
    /* Keyed with the length, so that an empty file is not "no file". */
    uint64_t key = len + 1;
    crypto_generichash(out.h, sizeof out.h, bytes, len,
                       (const unsigned char *)&key, sizeof key);
    free(bytes);
    return out;
}

static bool same_file(const char *path, file_hash before)
{
    file_hash now = hash_file(path);
    return memcmp(&now, &before, sizeof now) == 0;
}

/*
 * The real thing, in a child: the directory mounted read-only in a mount
 * namespace of its own when running as root (who may write whatever the
 * mode bits say), else the mode bits taken away. Every open is refused
 * with RG_ESTORE (sqlite: needs to write even to read, for its WAL), and
 * nothing changes.
 */
START_TEST(readonly_file_system)
{
    char dir[PATH_MAX_LEN], url[PATH_MAX_LEN + 16], path[PATH_MAX_LEN],
        wal[PATH_MAX_LEN], fresh_url[PATH_MAX_LEN + 16];

    use_fault_vfs();
    snprintf(dir, sizeof dir, "%s", rg_test_tmpdir());
    shared_setup(dir);
    url_in(url, dir, "s.db");
    url_in(fresh_url, dir, "new.db");
    file_hash db_before = hash_file(path_in(path, dir, "s.db"));
    file_hash wal_before = hash_file(path_in(wal, dir, "s.db-wal"));
    ck_assert_int_eq(access(path, F_OK), 0);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0) {
            if (unshare(CLONE_NEWNS) != 0 ||
                mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
                mount(dir, dir, "none", MS_BIND, NULL) != 0 ||
                mount("none", dir, "none", MS_BIND | MS_REMOUNT | MS_RDONLY,
                      NULL) != 0)
                _exit(10);
        } else if (chmod(path, 0444) != 0 || chmod(wal, 0444) != 0 ||
                   chmod(dir, 0555) != 0) {
            _exit(11);
        }
        /* The file system really refuses now. */
        int fd = open(path, O_RDWR);
        if (fd >= 0)
            _exit(12);
        rg_store *s = NULL;
        rg_bayes *b = NULL;
        rg_limiter *l = NULL;
        rg_config cfg;
        rg_guard *g = NULL;
        rg_config_init(&cfg);
        cfg.store = url;
        if (rg_store_open(&s, url) != RG_ESTORE || s)
            _exit(20);
        if (rg_bayes_open(&b, url, NULL) != RG_ESTORE || b)
            _exit(21);
        if (limiter_open(&l, url) != RG_ESTORE || l)
            _exit(22);
        if (rg_guard_new(&g, &cfg) != RG_ESTORE || g)
            _exit(23);
        if (rg_store_open(&s, fresh_url) != RG_ESTORE || s)
            _exit(24);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    chmod(dir, 0700);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child: status %d", status);
    ck_assert(same_file(path, db_before));
    ck_assert(same_file(wal, wal_before));
    ck_assert_int_ne(access(path_in(path, dir, "new.db"), F_OK), 0);
    chmod(path_in(path, dir, "s.db"), 0600);
    chmod(wal, 0600);
    shared_check(dir);
}
END_TEST

/* ---- A file of the schema before, brought up to date under faults ---- */

/* Version 4, from before the replay guard kept its horizon. */
static void v4_setup(const char *dir)
{
    char path[PATH_MAX_LEN];

    shared_setup(dir);
    rg_test_sql_exec(path_in(path, dir, "s.db"),
                     "DROP TRIGGER spent_forget; DROP TABLE spent_horizon;"
                     "PRAGMA user_version = 4");
}

static void v4_run(const char *dir, outcome *o)
{
    char url[PATH_MAX_LEN + 16];
    rg_store *s = NULL;

    record(o, rg_store_open(&s, url_in(url, dir, "s.db")));
    rg_store_close(s);
}

/* The upgrade is one transaction: done when the open succeeded, not
 * begun when it failed; and the next open does it, losing nothing. */
static void v4_check(const char *dir, const outcome *o)
{
    char path[PATH_MAX_LEN];
    static const char horizon[] =
        "SELECT count(*) FROM sqlite_master "
        "WHERE name IN ('spent_horizon', 'spent_forget')";

    path_in(path, dir, "s.db");
    bool upgraded = o->rc[0] == RG_OK;
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"),
                     upgraded ? 5 : 4);
    ck_assert_int_eq(rg_test_sql_int(path, horizon), upgraded ? 2 : 0);
    shared_check(dir);
    ck_assert_int_eq(rg_test_sql_int(path, "PRAGMA user_version"), 5);
    ck_assert_int_eq(rg_test_sql_int(path, horizon), 2);
}

static const scenario UPGRADE = {"upgrade", v4_setup, v4_run, v4_check};

START_TEST(disk_full_upgrade)
{
    ck_assert_uint_gt(sweep(&UPGRADE, _i), 0);
}
END_TEST

/* ---- The model image cut short ---- */

/*
 * rg_bayes_optimize() in a child whose files may not grow past `limit`
 * bytes (SIGXFSZ ignored, so the write fails with EFBIG): what it
 * returned, or -1000 - status when the child did not finish.
 */
static int optimize_with_limit(const char *url, rlim_t limit)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        rg_bayes *b = NULL;
        if (rg_bayes_open(&b, url, NULL) != RG_OK)
            _exit(100);
        struct rlimit rl = {limit, limit};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(101);
        int rc = rg_bayes_optimize(b);
        rg_bayes_close(b);
        _exit(rc == RG_OK ? 0 : rc == RG_ESTORE ? 1 : 2);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
        return -1000 - status;
    return WEXITSTATUS(status) == 0 ? RG_OK : RG_ESTORE;
}

/*
 * Every cut of the image file, from nothing to one byte short, fails with
 * RG_ESTORE and leaves the image before it (none, the current one or a
 * stale one) as it was, no temporary file, and no image trusted that is
 * not exact. The WAL of the transaction fits in every limit tried above
 * the header, so the image is what is cut.
 */
START_TEST(image_write_cut_short)
{
    char dir[PATH_MAX_LEN], url[PATH_MAX_LEN + 16], image[PATH_MAX_LEN];
    double probes[NPROBES], before[NPROBES];
    struct stat st;

    use_fault_vfs();
    snprintf(dir, sizeof dir, "%s", rg_test_tmpdir());
    url_in(url, dir, "s.db");
    path_in(image, dir, "s.db-image");
    rg_bayes *b = NULL;
    ck_assert_int_eq(rg_bayes_open(&b, url, NULL), RG_OK);
    for (unsigned k = 0; k < 40; k++)
        ck_assert_int_eq(learn(b, k, 0), RG_OK);
    rg_bayes_close(b);
    /* The full image, to learn its size. */
    ck_assert_int_eq(optimize_with_limit(url, RLIM_INFINITY), RG_OK);
    ck_assert_int_eq(stat(image, &st), 0);
    const rlim_t len = (rlim_t)st.st_size;
    ck_assert_uint_gt(len, 16384);
    ck_assert(trusted_image_is_exact(dir));
    classify_probes(url, before);

    const rlim_t cuts[] = {0,  1,    63,      64,          65,       79,     80,
                           81, 4096, len / 3, len / 2 + 7, len - 16, len - 1};
    for (int round = 0; round < 3; round++) {
        /* Round 0: the image is current; 1: stale; 2: removed. */
        if (round == 1) {
            ck_assert_int_eq(rg_bayes_open(&b, url, NULL), RG_OK);
            ck_assert_int_eq(learn(b, 0, 1), RG_OK);
            ck_assert_int_eq(learn(b, 0, 0), RG_OK);
            rg_bayes_close(b);
        }
        if (round == 2)
            ck_assert_int_eq(unlink(image), 0);
        file_hash old = hash_file(image);
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            ck_assert_msg(optimize_with_limit(url, cuts[i]) == RG_ESTORE,
                          "round %d: a limit of %llu bytes", round,
                          (unsigned long long)cuts[i]);
            ck_assert_msg(same_file(image, old),
                          "round %d: the image changed at %llu bytes", round,
                          (unsigned long long)cuts[i]);
            ck_no_stray_files(dir);
            ck_assert(trusted_image_is_exact(dir) == (round == 0));
            classify_probes(url, probes);
            for (size_t p = 0; p < NPROBES; p++)
                ck_assert(probes[p] == before[p]);
        }
    }
    /* With room again, the image is written and trusted. */
    ck_assert_int_eq(optimize_with_limit(url, len), RG_OK);
    ck_assert(trusted_image_is_exact(dir));
    ck_integrity(path_in(image, dir, "s.db"));
}
END_TEST

#endif /* RG_HAVE_SQLITE */

/* ---- The memory: stores under a spray of clients ---- */

#define SPRAY_CLIENTS  200000
#define SPRAY_CAPACITY 1000
#define SPRAY_PER_S    100 /* submissions a second of the guard's clock */
#define HEAVY_EVERY    10  /* one submission in 10 is the heavy poster's */
#define SPRAY_RATE     (1.0 / 60)
#define SPRAY_BURST    4

/* A challenge issued 6 s before now, with its right answer: answered in
 * good time (the minimum solve time is 5 s). */
static void issue_earlier(rg_guard *g, char token[RG_TOKEN_MAX],
                          char answer[16])
{
    rg_challenge c;
    uint32_t value;

    now_s -= 6;
    ck_assert_int_eq(
        rg_challenge_issue_in(g, BINDING, NULL, RG_STYLE_DIGITS, &c), RG_OK);
    now_s += 6;
    ck_assert(rg_test_solve(c.question, &value));
    memcpy(token, c.token, RG_TOKEN_MAX);
    snprintf(answer, 16, "%u", value);
}

static rg_limiter *spray_limiter(double rate, uint32_t burst)
{
    rg_limiter_config cfg;
    rg_limiter *l = NULL;
    char url[64];

    snprintf(url, sizeof url, "memory:?capacity=%d", SPRAY_CAPACITY);
    rg_limiter_config_init(&cfg);
    cfg.store = url;
    cfg.rate_per_s = rate;
    cfg.burst = burst;
    cfg.clock_ns = limiter_clock;
    ck_assert_int_eq(rg_limiter_open(&l, &cfg), RG_OK);
    return l;
}

/* What a memory: limiter holds: its slots, and the keys in them that are
 * still inside their burst. */
static void limiter_holds(rg_limiter *l, size_t *slots, size_t *live)
{
    uint64_t now;
    rg__limit_table *t = rg__limiter_table(l, &now);
    ck_assert_ptr_nonnull(t);
    *slots = rg__limit_table_capacity(t);
    *live = rg__limit_table_count(t, now);
}

/*
 * 200,000 distinct client addresses through rg_judge() with every layer
 * on and memory: stores of 1,000 entries, while one heavy poster sends
 * one submission in ten, each with a challenge answered right. The heavy
 * poster stays limited throughout: never more than a burst (5) plus one a
 * minute of the guard's clock. And no store grows: the limiters' tables
 * keep their slots (twice the capacity, 16 bytes each), the replay store
 * never holds more live nonces than its capacity (it fails closed when
 * full: the decision says store_unavailable), and the model never more
 * tokens than it had.
 */
START_TEST(spray_stays_bounded)
{
    char url[64], token[RG_TOKEN_MAX], answer[16], client[32];
    rg_config cfg;
    rg_guard *g = NULL;
    rg_bayes *b = NULL;

    ck_assert_int_eq(rg_init(), RG_OK);
    now_s = T0;
    snprintf(url, sizeof url, "memory:?capacity=%d", SPRAY_CAPACITY);
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = &now_s;
    cfg.store = url;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    rg_limiter *per_client = spray_limiter(SPRAY_RATE, SPRAY_BURST);
    rg_limiter *failures = spray_limiter(1.0 / 600, 30);
    ck_assert_int_eq(rg_bayes_open(&b, "memory:?tokens=5000", NULL), RG_OK);
    for (unsigned k = 0; k < 4; k++)
        ck_assert_int_eq(learn(b, k, 0), RG_OK);
    rg_bayes_stats model;
    ck_assert_int_eq(rg_bayes_stats_get(b, &model), RG_OK);

    rg_policy p;
    rg_policy_init(&p);
    p.limiter = per_client;
    p.failures = failures;
    p.bayes = b;

    size_t slots0, live, failure_slots0;
    limiter_holds(per_client, &slots0, &live);
    limiter_holds(failures, &failure_slots0, &live);
    ck_assert_uint_le(slots0, 2 * SPRAY_CAPACITY + 8);

    /* A tenth of the clients under valgrind, where each judgement takes
     * many times as long: still ten times the capacity of each store. */
    const uint32_t clients =
        rg_test_under_valgrind() ? SPRAY_CLIENTS / 10 : SPRAY_CLIENTS;
    const uint64_t start = now_s;
    unsigned heavy = 0, heavy_allowed = 0, full = 0;
    for (uint32_t i = 0, sent = 0; i < clients; sent++) {
        if (sent % SPRAY_PER_S == 0)
            now_s++;
        bool is_heavy = sent % HEAVY_EVERY == 0;
        if (is_heavy) {
            snprintf(client, sizeof client, "192.0.2.1");
        } else {
            snprintf(client, sizeof client, "10.%u.%u.%u", i >> 16,
                     (i >> 8) & 0xff, i & 0xff);
            i++;
        }
        issue_earlier(g, token, answer);
        rg_submission sub;
        rg_submission_init(&sub);
        sub.body = "Thanks, this was useful to me.";
        sub.token = token;
        sub.answer = answer;
        sub.client = client;
        sub.binding = BINDING;
        rg_decision d;
        ck_assert_int_eq(rg_judge(g, &sub, &p, &d), RG_OK);
        full += (d.reasons & RG_REASON_STORE_UNAVAILABLE) != 0;
        if (is_heavy) {
            heavy++;
            heavy_allowed += !(d.reasons & RG_REASON_RATE_LIMITED);
            uint64_t earned = SPRAY_BURST + 1 +
                              (uint64_t)((double)(now_s - start) * SPRAY_RATE);
            ck_assert_msg(heavy_allowed <= earned,
                          "the heavy poster got %u through after %llu s "
                          "and %u clients",
                          heavy_allowed, (unsigned long long)(now_s - start),
                          i);
        } else {
            /* A client that posts once is never limited. */
            ck_assert(!(d.reasons & RG_REASON_RATE_LIMITED));
        }
        if (sent % 5000 == 0 || i == clients) {
            size_t slots;
            limiter_holds(per_client, &slots, &live);
            ck_assert_uint_eq(slots, slots0);
            ck_assert_uint_le(live, slots);
            limiter_holds(failures, &slots, &live);
            ck_assert_uint_eq(slots, failure_slots0);
            rg__store_health h;
            memset(&h, 0, sizeof h);
            ck_assert_int_eq(rg__store_check(rg__guard_store(g), now_s, &h),
                             RG_OK);
            ck_assert_int_le(h.nonces, SPRAY_CAPACITY);
            rg_bayes_stats st;
            ck_assert_int_eq(rg_bayes_stats_get(b, &st), RG_OK);
            ck_assert_uint_eq(st.tokens, model.tokens);
        }
    }
    /* The run reached what it is about: a replay store full most of the
     * time, and a heavy poster that kept trying and was let through at
     * its rate. */
    ck_assert_uint_gt(full, clients / 2);
    ck_assert_uint_gt(heavy, clients / HEAVY_EVERY);
    ck_assert_uint_ge(heavy_allowed, SPRAY_BURST + 1);
    rg_bayes_close(b);
    rg_limiter_free(failures);
    rg_limiter_free(per_client);
    rg_guard_free(g);
}
END_TEST

Suite *faults_suite(void);

Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc;
#if RG_HAVE_SQLITE
    tc = tcase_create("disk full");
    tcase_set_timeout(tc, 300);
    /* Loop index: 0 lasting faults, 1 passing ones. */
    tcase_add_loop_test(tc, disk_full_model, 0, 2);
    tcase_add_loop_test(tc, disk_full_spend, 0, 2);
    tcase_add_loop_test(tc, disk_full_limiter, 0, 4);
    tcase_add_loop_test(tc, disk_full_optimize, 0, 4);
    tcase_add_loop_test(tc, disk_full_new_file, 0, 2);
    tcase_add_loop_test(tc, disk_full_upgrade, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("read-only");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, readonly_under_open_handles, 0,
                        sizeof READONLY_ERRORS / sizeof READONLY_ERRORS[0]);
    tcase_add_test(tc, readonly_open);
    tcase_add_test(tc, readonly_file_system);
    tcase_add_test(tc, image_write_cut_short);
    suite_add_tcase(s, tc);
#endif

    tc = tcase_create("memory bound");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, spray_stays_bounded);
    suite_add_tcase(s, tc);
    return s;
}
