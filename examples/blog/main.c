/*
 * replyguard-blog: a small blog over HTTP whose comment form is guarded by
 * every layer of replyguard: a question signed into a one-time token, a
 * honeypot, a time trap that grows with each failure, a rate limit per
 * client and a content filter trained from the moderation queue. This file
 * reads the options, opens the handles, starts the server and waits for
 * SIGINT or SIGTERM to stop it cleanly.
 *
 *   replyguard-blog --listen 127.0.0.1:8080 --db blog.db
 *
 * docs/blog.md describes every option.
 */
#include "blog.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

static const char usage[] =
    "usage: replyguard-blog [options]\n"
    "  --listen HOST:PORT   where to serve (127.0.0.1:8080; port 0 picks "
    "one)\n"
    "  --db PATH            the blog's SQLite file (replyguard-blog.db)\n"
    "  --store URL          replyguard's store: sqlite:PATH, "
    "redis://HOST:PORT/DB,\n"
    "                       memory: (default: sqlite:DB.replyguard, and an "
    "in-process\n"
    "                       rate limiter)\n"
    "  --key FILE           the signing key file, created if missing "
    "(DB.key)\n"
    "  --style STYLE        words, digits or mixed (words)\n"
    "  --min-solve SEC      the time trap: the least time to answer (5)\n"
    "  --honeypot NAME      the honeypot field's name (rg_note)\n"
    "  --rate N             comments a minute per client (1)\n"
    "  --burst N            comments at once per client (4)\n"
    "  --escalate SEC       time trap added per failed question (10)\n"
    "  --max-links N        hold comments with N or more links (2; 0: "
    "never)\n"
    "  --threads N          server threads (one per CPU)\n"
    "  --full-page-cache    pages may be cached: the script always fetches "
    "a\n"
    "                       fresh question from /captcha\n"
    "The admin password is REPLYGUARD_BLOG_PASSWORD, or made up and "
    "printed.\n";

/* Reads a whole number within [min, max], or fails. */
static int parse_uint(const char *s, unsigned long min, unsigned long max,
                      unsigned long *out)
{
    char *end;

    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, blog_options *o)
{
    enum {
        O_LISTEN = 256,
        O_DB,
        O_STORE,
        O_KEY,
        O_STYLE,
        O_MIN_SOLVE,
        O_HONEYPOT,
        O_RATE,
        O_BURST,
        O_ESCALATE,
        O_MAX_LINKS,
        O_THREADS,
        O_CACHE,
        O_HELP,
        O_VERSION
    };
    static const struct option longs[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"db", required_argument, NULL, O_DB},
        {"store", required_argument, NULL, O_STORE},
        {"key", required_argument, NULL, O_KEY},
        {"style", required_argument, NULL, O_STYLE},
        {"min-solve", required_argument, NULL, O_MIN_SOLVE},
        {"honeypot", required_argument, NULL, O_HONEYPOT},
        {"rate", required_argument, NULL, O_RATE},
        {"burst", required_argument, NULL, O_BURST},
        {"escalate", required_argument, NULL, O_ESCALATE},
        {"max-links", required_argument, NULL, O_MAX_LINKS},
        {"threads", required_argument, NULL, O_THREADS},
        {"full-page-cache", no_argument, NULL, O_CACHE},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    unsigned long v;
    int opt;

    *o = (blog_options){
        .listen = "127.0.0.1:8080",
        .db = "replyguard-blog.db",
        .style = RG_STYLE_WORDS,
        .min_solve_s = 5,
        .rate_per_min = 1,
        .burst = 4,
        .escalate_s = 10,
        .max_links = 2,
    };
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (opt) {
        case O_LISTEN:
            o->listen = optarg;
            break;
        case O_DB:
            o->db = optarg;
            break;
        case O_STORE:
            o->store = optarg;
            break;
        case O_KEY:
            o->key = optarg;
            break;
        case O_STYLE:
            if (strcmp(optarg, "words") == 0)
                o->style = RG_STYLE_WORDS;
            else if (strcmp(optarg, "digits") == 0)
                o->style = RG_STYLE_DIGITS;
            else if (strcmp(optarg, "mixed") == 0)
                o->style = RG_STYLE_MIXED;
            else
                goto bad;
            break;
        case O_MIN_SOLVE:
            if (parse_uint(optarg, 0, 3600, &v) != 0)
                goto bad;
            o->min_solve_s = (uint32_t)v;
            break;
        case O_HONEYPOT:
            o->honeypot = optarg;
            break;
        case O_RATE:
            if (parse_uint(optarg, 1, 1000000, &v) != 0)
                goto bad;
            o->rate_per_min = (double)v;
            break;
        case O_BURST:
            if (parse_uint(optarg, 0, 1000000, &v) != 0)
                goto bad;
            o->burst = (uint32_t)v;
            break;
        case O_ESCALATE:
            if (parse_uint(optarg, 0, 300, &v) != 0)
                goto bad;
            o->escalate_s = (uint32_t)v;
            break;
        case O_MAX_LINKS:
            if (parse_uint(optarg, 0, 1000, &v) != 0)
                goto bad;
            o->max_links = (unsigned)v;
            break;
        case O_THREADS:
            if (parse_uint(optarg, 1, 256, &v) != 0)
                goto bad;
            o->threads = (unsigned)v;
            break;
        case O_CACHE:
            o->full_page_cache = true;
            break;
        case O_HELP:
            fputs(usage, stdout);
            exit(0);
        case O_VERSION:
            printf("replyguard-blog %s\n", rg_version());
            exit(0);
        default:
            fputs(usage, stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "replyguard-blog: bad value for --%s: %s\n",
            longs[opt - O_LISTEN].name, optarg);
    return -1;
}

/* Writes a fresh key file at path if there is none, readable only by its
 * owner; an existing file is left alone (O_EXCL), so two instances that
 * start together agree on one key. */
static int ensure_key(const char *path)
{
    char text[512];

    if (access(path, F_OK) == 0)
        return 0;
    if (rg_keyfile_generate(0, text, sizeof text) != RG_OK)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        return errno == EEXIST ? 0 : -1;
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    sodium_memzero(text, sizeof text);
    ok = close(fd) == 0 && ok;
    if (!ok)
        unlink(path);
    return ok ? 0 : -1;
}

/* A random secret as base64url text. */
static void random_text(char *out, size_t out_size, size_t bytes)
{
    unsigned char raw[32];

    randombytes_buf(raw, bytes);
    sodium_bin2base64(out, out_size, raw, bytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static int fail(const char *what, int err)
{
    fprintf(stderr, "replyguard-blog: %s: %s\n", what, rg_strerror(err));
    return -1;
}

/* Opens replyguard's handles: the guard with its replay store, the content
 * filter, and the two rate limiters (comments, and failed questions for
 * the growing time trap). */
static int open_guard(blog *b, const char *key_path, const char *store)
{
    const char *limits = b->opt.store ? b->opt.store : "memory:";
    rg_config cfg;
    rg_limiter_config lc;
    int err;

    rg_config_init(&cfg);
    cfg.store = store;
    cfg.style = b->opt.style;
    cfg.min_solve_s = b->opt.min_solve_s;
    if ((err = rg_guard_new(&b->guard, &cfg)) != RG_OK)
        return fail(store, err);
    if ((err = rg_guard_load_keys(b->guard, key_path)) != RG_OK)
        return fail(key_path, err);
    if ((err = rg_bayes_open(&b->bayes, store, NULL)) != RG_OK)
        return fail(store, err);

    rg_limiter_config_init(&lc);
    lc.store = limits;
    lc.name = "blog-comments";
    lc.rate_per_s = b->opt.rate_per_min / 60.0;
    lc.burst = b->opt.burst;
    if ((err = rg_limiter_open(&b->limiter, &lc)) != RG_OK)
        return fail(limits, err);
    /* A failure is forgotten after five minutes; thirty are counted at
     * most, more than the time trap's cap needs. */
    lc.name = "blog-failures";
    lc.rate_per_s = 1.0 / 300;
    lc.burst = 29;
    if ((err = rg_limiter_open(&b->failures, &lc)) != RG_OK)
        return fail(limits, err);

    rg_policy_init(&b->policy);
    b->policy.limiter = b->limiter;
    b->policy.failures = b->failures;
    b->policy.escalation_step_s = b->opt.escalate_s;
    b->policy.bayes = b->bayes;

    rg_form_config_init(&b->names);
    if (b->opt.honeypot)
        b->names.honeypot_field = b->opt.honeypot;
    /* Check the field names once, now, rather than on every page. */
    rg_challenge ch;
    char html[RG_FORM_MAX];
    if ((err = rg_challenge_issue(b->guard, BLOG_BINDING, &ch)) != RG_OK)
        return fail("issuing a challenge", err);
    if (rg_form_html(&ch, &b->names, html, sizeof html) != RG_OK ||
        strcmp(b->names.honeypot_field, "rg_answer") == 0 ||
        strcmp(b->names.honeypot_field, "rg_token") == 0) {
        fprintf(stderr, "replyguard-blog: unusable --honeypot name\n");
        return -1;
    }
    for (const char *const *n =
             (const char *const[]){"author", "email", "url", "comment", "csrf",
                                   "id", "do", NULL};
         *n; n++)
        if (strcmp(*n, b->names.honeypot_field) == 0) {
            fprintf(stderr, "replyguard-blog: --honeypot may not be %s\n", *n);
            return -1;
        }
    return 0;
}

static void close_all(blog *b)
{
    rg_limiter_free(b->failures);
    rg_limiter_free(b->limiter);
    rg_bayes_close(b->bayes);
    rg_guard_free(b->guard);
    store_close(b->store);
    free(b->page_top);
    pthread_mutex_destroy(&b->page_lock);
    sodium_memzero(b->password, sizeof b->password);
}

/* The address to print: the listen host with the port the server got. */
static void print_url(const char *listen, int port, char *out, size_t size)
{
    const char *colon = strrchr(listen, ':');
    int hostlen = colon ? (int)(colon - listen) : 0;
    const char *host = listen;

    if (hostlen == 0 || (hostlen == 7 && strncmp(host, "0.0.0.0", 7) == 0)) {
        host = "127.0.0.1";
        hostlen = 9;
    }
    snprintf(out, size, "http://%.*s:%d/", hostlen, host, port);
}

int main(int argc, char **argv)
{
    blog b = {0};
    char *key_path = NULL, *store = NULL;
    struct MHD_Daemon *daemon = NULL;
    sigset_t stop;
    int sig, port = 0, rc = 1;
    char url[320];

    if (parse_options(argc, argv, &b.opt) != 0)
        return 2;
    /* The database holds commenters' e-mail addresses: only its owner
     * may read the files this program creates. */
    umask(077);
    pthread_mutex_init(&b.page_lock, NULL);
    if (rg_init() != RG_OK || sodium_init() < 0) {
        fputs("replyguard-blog: cannot initialise libsodium\n", stderr);
        return 1;
    }
    size_t dblen = strlen(b.opt.db);
    key_path = malloc(dblen + 5);
    store = malloc(dblen + 32);
    if (!key_path || !store)
        goto done;
    snprintf(key_path, dblen + 5, "%s.key", b.opt.db);
    snprintf(store, dblen + 32, "sqlite:%s.replyguard", b.opt.db);
    if (b.opt.key) {
        free(key_path);
        key_path = strdup(b.opt.key);
        if (!key_path)
            goto done;
    }
    if (ensure_key(key_path) != 0) {
        fprintf(stderr, "replyguard-blog: cannot create the key file %s\n",
                key_path);
        goto done;
    }
    if (store_open(&b.store, b.opt.db) != 0) {
        fprintf(stderr, "replyguard-blog: cannot open the database %s\n",
                b.opt.db);
        goto done;
    }
    if (open_guard(&b, key_path, b.opt.store ? b.opt.store : store) != 0)
        goto done;

    const char *env = getenv("REPLYGUARD_BLOG_PASSWORD");
    bool generated = !env || !*env;
    if (!generated && strlen(env) >= sizeof b.password) {
        fputs("replyguard-blog: REPLYGUARD_BLOG_PASSWORD is too long\n",
              stderr);
        goto done;
    }
    if (generated)
        random_text(b.password, sizeof b.password, 15);
    else
        memcpy(b.password, env, strlen(env) + 1);
    random_text(b.csrf, sizeof b.csrf, 24);

    /* The server's threads inherit this mask, so only sigwait() below
     * sees SIGINT and SIGTERM; a write to a closed socket must not kill
     * the process. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    daemon = http_start(&b, &port);
    if (!daemon)
        goto done;
    print_url(b.opt.listen, port, url, sizeof url);
    printf("replyguard-blog: serving %s (Ctrl-C stops it)\n", url);
    if (generated)
        printf("replyguard-blog: moderation at %sadmin, user admin, "
               "password %s\n",
               url, b.password);
    else
        printf("replyguard-blog: moderation at %sadmin, user admin, "
               "password from REPLYGUARD_BLOG_PASSWORD\n",
               url);
    fflush(stdout);

    if (sigwait(&stop, &sig) == 0)
        printf("replyguard-blog: stopping (%s)\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    rc = 0;
done:
    if (daemon)
        MHD_stop_daemon(daemon);
    close_all(&b);
    free(key_path);
    free(store);
    return rc;
}
