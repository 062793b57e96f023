/*
 * captcha-check: helpers that every verb uses: messages, strict parsing,
 * key files, guards, and the default store and model.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <getopt.h>

#include "cli.h"

/* The options given before the verb; see cli_set_globals(). */
static struct {
    const char *store, *key, *db;
} globals;

void cli_set_globals(const char *store, const char *key, const char *db)
{
    globals.store = store;
    globals.key = key;
    globals.db = db;
}

static void error_to(FILE *fp, const char *fmt, va_list ap)
{
    fputs("captcha-check: ", fp);
    vfprintf(fp, fmt, ap);
    fputc('\n', fp);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_to(stderr, fmt, ap);
    va_end(ap);
}

void cli_error_to(FILE *fp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_to(fp, fmt, ap);
    va_end(ap);
}

void cli_for_message(const char *s, char *out, size_t size)
{
    size_t n = 0;

    for (; *s && n + 1 < size; s++, n++)
        out[n] = (char)((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    out[n] = '\0';
    if (*s && size >= 4)
        memcpy(out + size - 4, "...", 4);
}

int cli_usage_error(const cli_verb *v, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "captcha-check: %s: ", v->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'captcha-check %s --help')\n", v->name);
    return CLI_EX_USAGE;
}

int cli_option_error(const cli_verb *v, int c, char **argv)
{
    /* getopt leaves the offending word just before optind; a long option
     * is named best by that word, a short one by optopt, since the word may
     * be a cluster such as "-xq". */
    const char *word = optind > 0 ? argv[optind - 1] : "";
    char short_name[3] = {'-', (char)optopt, '\0'};
    const char *name =
        (strncmp(word, "--", 2) == 0 || optopt == 0) ? word : short_name;

    if (c == ':')
        return cli_usage_error(v, "option '%s' needs a value", name);
    return cli_usage_error(v, "unknown option '%s'", name);
}

int cli_help(const cli_verb *v)
{
    fputs(v->usage, stdout);
    return CLI_EX_OK;
}

int cli_version(void)
{
    printf("captcha-check %s (libreplyguard %s)\n", RG_VERSION_STRING,
           rg_version());
    return CLI_EX_OK;
}

int cli_file_operand(const cli_verb *v, int argc, char **argv,
                     const char **path)
{
    if (argc - optind > 1)
        return cli_usage_error(v, "wants at most one FILE, got %d",
                               argc - optind);
    *path = optind < argc ? argv[optind] : NULL;
    return CLI_EX_OK;
}

bool cli_parse_u32(const char *text, uint32_t max, uint32_t *out)
{
    /* strtoul() alone would take leading spaces, a sign (and negate!) and
     * an empty string; only plain digits are a number here. */
    if (!text || text[0] < '0' || text[0] > '9')
        return false;

    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool cli_parse_style(const char *text, rg_style *out)
{
    static const struct {
        const char *name;
        rg_style style;
    } styles[] = {
        {"words", RG_STYLE_WORDS},
        {"digits", RG_STYLE_DIGITS},
        {"mixed", RG_STYLE_MIXED},
    };

    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        if (strcmp(text, styles[i].name) == 0) {
            *out = styles[i].style;
            return true;
        }
    }
    return false;
}

int cli_option_locale(const cli_verb *v, const char *arg, const char **out)
{
    if (rg_locale_check(arg) != RG_OK)
        return cli_usage_error(v,
                               "unknown locale '%s' (known: en, ru, de, "
                               "fr, es)",
                               arg);
    *out = arg;
    return CLI_EX_OK;
}

int cli_option_style(const cli_verb *v, const char *arg, rg_style *out)
{
    if (!cli_parse_style(arg, out))
        return cli_usage_error(v,
                               "--style wants words, digits or mixed, "
                               "not '%s'",
                               arg);
    return CLI_EX_OK;
}

int cli_option_min_solve(const cli_verb *v, const char *arg, uint32_t *out)
{
    if (!cli_parse_u32(arg, UINT32_MAX - 1, out))
        return cli_usage_error(v,
                               "--min-solve wants seconds from 0 to "
                               "4294967294, not '%s'",
                               arg);
    return CLI_EX_OK;
}

const char *cli_key_path(const cli_verb *v, const char *option)
{
    if (option)
        return option;
    if (globals.key)
        return globals.key;

    const char *env = getenv("REPLYGUARD_KEY_FILE");
    if (env && *env)
        return env;
    cli_usage_error(v, "no key file: give --key FILE or set "
                       "REPLYGUARD_KEY_FILE");
    return NULL;
}

int cli_check_key_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cli_error("%s: %s", path, strerror(errno));
        return CLI_EX_NOINPUT;
    }
    fclose(fp);
    return CLI_EX_OK;
}

uint32_t cli_ttl_for(uint32_t min_solve, uint32_t ttl)
{
    return ttl > min_solve ? ttl : min_solve + 1;
}

int cli_load_keys(rg_guard *g, const char *path)
{
    int rc = rg_guard_load_keys(g, path);
    if (rc == RG_OK)
        return CLI_EX_OK;

    /* The library says only "missing, unreadable or malformed"; the system
     * can say which of the first two it was. */
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cli_error("%s: %s", path, strerror(errno));
        return CLI_EX_NOINPUT;
    }
    fclose(fp);
    switch (rc) {
    case RG_EKEYFILE:
        cli_error("%s: not a valid key file (see docs/key-file.md)", path);
        return CLI_EX_NOINPUT;
    case RG_EKEY:
        cli_error("%s: the same key id appears twice", path);
        return CLI_EX_NOINPUT;
    default:
        cli_error("%s: %s", path, rg_strerror(rc));
        return CLI_EX_SOFTWARE;
    }
}

/* `option`, else the global option, else $env_name when set and
 * non-empty, else NULL. */
static const char *given(const char *option, const char *global,
                         const char *env_name)
{
    if (option)
        return option;
    if (global)
        return global;
    const char *env = getenv(env_name);
    return env && *env ? env : NULL;
}

const char *cli_given_store(const char *option)
{
    return given(option, globals.store, "REPLYGUARD_STORE");
}

const char *cli_given_model(const char *option)
{
    return given(option, globals.db, "REPLYGUARD_DB");
}

bool cli_is_memory_url(const char *url)
{
    return strncasecmp(url, "memory:", 7) == 0;
}

/* Joins strings into a new string; NULL when out of memory. */
static char *join(const char *a, const char *b, const char *c)
{
    size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s%s", a, b, c);
    return out;
}

/*
 * Creates a directory and its missing parents, each with mode 0700 as the
 * XDG base directory spec asks. Existing directories are left as they are.
 * False, with errno set, on failure. `path` is modified while it works and
 * restored before it returns.
 */
static bool make_dirs(char *path)
{
    struct stat st;

    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        /* stat first: mkdir on a parent we may not write, such as /home,
         * could fail with EACCES rather than EEXIST. */
        if (stat(path, &st) != 0) {
            if (errno != ENOENT || mkdir(path, 0700) != 0) {
                if (errno != EEXIST) {
                    *p = saved;
                    return false;
                }
            }
        } else if (!S_ISDIR(st.st_mode)) {
            *p = saved;
            errno = ENOTDIR;
            return false;
        }
        *p = saved;
        if (saved == '\0')
            return true;
    }
}

/*
 * The URL of a database: `option` when given (see given()), else "sqlite:"
 * and `file` (which starts with '/') in the replyguard data directory,
 * which is created when `create`. `what` ("store") and `flag` ("--store")
 * name the database in messages, env_name its variable. See
 * cli_store_url().
 */
static int data_url(const char *option, const char *env_name, const char *flag,
                    const char *what, const char *file, bool create, char **url)
{
    *url = NULL;
    if (option) {
        *url = join(option, "", "");
        goto done;
    }

    /* The spec says a relative XDG_DATA_HOME is invalid and to be ignored. */
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *dir = NULL;
    if (xdg && xdg[0] == '/')
        dir = join(xdg, "/replyguard", "");
    else if (home && home[0] == '/')
        dir = join(home, "/.local/share/replyguard", "");
    else {
        cli_error("no directory for the default %s: neither "
                  "XDG_DATA_HOME nor HOME is set; use %s or %s",
                  what, flag, env_name);
        return CLI_EX_IOERR;
    }
    if (!dir)
        goto done;
    if (create && !make_dirs(dir)) {
        cli_error("%s: cannot create the %s directory: %s", dir, what,
                  strerror(errno));
        free(dir);
        return CLI_EX_IOERR;
    }
    *url = join("sqlite:", dir, file);
    free(dir);
done:
    if (!*url) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    return CLI_EX_OK;
}

int cli_store_url(const char *option, char **url)
{
    return data_url(cli_given_store(option), "REPLYGUARD_STORE", "--store",
                    "store", "/replay.sqlite", true, url);
}

int cli_model_url(const char *option, char **url)
{
    return data_url(cli_given_model(option), "REPLYGUARD_DB", "--db", "model",
                    "/model.sqlite", true, url);
}

int cli_default_url(bool model, char **url)
{
    return model ? data_url(NULL, "REPLYGUARD_DB", "--db", "model",
                            "/model.sqlite", false, url)
                 : data_url(NULL, "REPLYGUARD_STORE", "--store", "store",
                            "/replay.sqlite", false, url);
}

int cli_check_model(const char *url)
{
    if (strncasecmp(url, "sqlite:", 7) == 0 && access(url + 7, F_OK) != 0 &&
        errno == ENOENT) {
        cli_error("model '%s': no such file; train it first "
                  "(captcha-check train --help)",
                  url);
        return CLI_EX_IOERR;
    }
    return CLI_EX_OK;
}

int cli_exit_for_error(int err)
{
    switch (err) {
    case RG_EURL:
    case RG_ESTORE:
    case RG_EFULL:
    case RG_ENOSUPPORT:
        return CLI_EX_IOERR;
    case RG_EKEYFILE:
    case RG_EKEY:
        return CLI_EX_NOINPUT;
    default:
        return CLI_EX_SOFTWARE;
    }
}

int cli_report_error(int rc, const char *what, const char *url,
                     const char *doing)
{
    /* An empty URL (--store '', --db '') is the one argument a store
     * refuses as RG_EINVAL: the user's mistake, not an internal error. */
    if (rc == RG_EINVAL && url && !*url) {
        cli_error("%s '': an empty URL (see captcha-check(1))", what);
        return CLI_EX_USAGE;
    }
    int ex = cli_exit_for_error(rc);
    if (ex == CLI_EX_IOERR)
        cli_error("%s '%s': %s", what, url, rg_strerror(rc));
    else if (doing)
        cli_error("%s: %s", doing, rg_strerror(rc));
    else
        cli_error("%s", rg_strerror(rc));
    return ex;
}

int cli_guard_new(rg_guard **g, const rg_config *cfg)
{
    int rc = rg_guard_new(g, cfg);
    if (rc == RG_OK)
        return CLI_EX_OK;
    return cli_report_error(rc, "store", cfg->store, "cannot set up");
}

int cli_guard_open(rg_guard **g, const rg_config *cfg, const char *key_path)
{
    int ex = cli_guard_new(g, cfg);
    if (ex == CLI_EX_OK)
        ex = cli_load_keys(*g, key_path);
    if (ex != CLI_EX_OK) {
        rg_guard_free(*g);
        *g = NULL;
    }
    return ex;
}
