/*
 * captcha-check: what the verbs share. Each verb group lives in its own
 * tools/cli-<group>.c and exports one cli_verb per verb; captcha-check.c
 * lists them in its table and dispatches.
 */
#ifndef RG_CLI_H
#define RG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "replyguard.h"

#if defined(__GNUC__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/*
 * Exit statuses. A verdict of `verify` is its own status (0 to 5, see
 * docs/captcha-check.md); failures use the sysexits(3) numbers, which are
 * spelled out here because <sysexits.h> is not in every C library.
 */
enum cli_exit {
    CLI_EX_OK = 0,
    CLI_EX_FAIL = 1,
    CLI_EX_USAGE = 64,     /* bad command line */
    CLI_EX_DATAERR = 65,   /* a malformed token, or bad input lines */
    CLI_EX_NOINPUT = 66,   /* a key or input file is missing or unreadable */
    CLI_EX_SOFTWARE = 70,  /* the library failed in a way it should not */
    CLI_EX_CANTCREAT = 73, /* an output file cannot be created */
    CLI_EX_IOERR = 74      /* store or output failure */
};

/*
 * The short options of every verb: long options only, plus -h. The
 * leading ':' makes getopt_long() report a missing value as ':' and keep
 * quiet, so the messages are ours (cli_option_error()).
 */
#define CLI_SHORT_OPTS ":h"

typedef struct cli_verb cli_verb;

struct cli_verb {
    const char *name;    /* "verify" */
    const char *summary; /* one line for the global help */
    const char *usage;   /* the whole of `captcha-check VERB --help` */
    /* Runs the verb; argv[0] is the verb's name. Returns the exit status. */
    int (*run)(const cli_verb *self, int argc, char **argv);
};

/* The verbs of tools/cli-challenge.c. */
extern const cli_verb cli_verb_keygen;
extern const cli_verb cli_verb_issue;
extern const cli_verb cli_verb_verify;
extern const cli_verb cli_verb_demo;

/* The verbs of tools/cli-bayes.c. */
extern const cli_verb cli_verb_train;
extern const cli_verb cli_verb_classify;

/* The verbs of tools/cli-judge.c. */
extern const cli_verb cli_verb_judge;
extern const cli_verb cli_verb_limit;

/* The verbs of tools/cli-model.c. */
extern const cli_verb cli_verb_stats;
extern const cli_verb cli_verb_export;
extern const cli_verb cli_verb_import;
extern const cli_verb cli_verb_migrate;

/* Prints "captcha-check: <message>" and a newline on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/* cli_error() to another stream (a buffer written to stderr later). */
void cli_error_to(FILE *fp, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * Copies untrusted text into a message: control characters become '?'
 * (so that a message cannot play tricks on a terminal), and text longer
 * than the buffer is cut and ends in "...".
 */
void cli_for_message(const char *s, char *out, size_t size);

/*
 * Reports a usage error of a verb on one line, pointing at its --help, and
 * returns CLI_EX_USAGE.
 */
int cli_usage_error(const cli_verb *v, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * Reports what getopt_long() rejected: c is its return value (':' for a
 * missing value, '?' for anything else; the option string must start with
 * ':'). Returns CLI_EX_USAGE.
 */
int cli_option_error(const cli_verb *v, int c, char **argv);

/* Prints a verb's help on stdout; returns CLI_EX_OK. */
int cli_help(const cli_verb *v);

/*
 * Prints "captcha-check VERSION (libreplyguard VERSION)" on stdout, for
 * --version before or after a verb; returns CLI_EX_OK.
 */
int cli_version(void);

/*
 * The options given before the verb (captcha-check --store URL verify
 * ...): each NULL when absent. Set once, by main(), before the verb runs.
 * A verb's own option wins over them, and they win over the environment.
 */
void cli_set_globals(const char *store, const char *key, const char *db);

/*
 * The one optional FILE that may follow a verb's options (from optind):
 * *path is it, or NULL for standard input. Returns CLI_EX_OK, or
 * CLI_EX_USAGE after a usage error when there are more.
 */
int cli_file_operand(const cli_verb *v, int argc, char **argv,
                     const char **path);

/*
 * Parses a decimal number in 0..max, strictly: digits only, no sign, no
 * spaces, no trailing text, no overflow. False otherwise.
 */
bool cli_parse_u32(const char *text, uint32_t max, uint32_t *out);

/* Parses "words", "digits" or "mixed". False for anything else. */
bool cli_parse_style(const char *text, rg_style *out);

/*
 * The --locale, --style and --min-solve options of a verb: sets *out, or
 * reports a usage error. Returns CLI_EX_OK or CLI_EX_USAGE.
 */
int cli_option_locale(const cli_verb *v, const char *arg, const char **out);
int cli_option_style(const cli_verb *v, const char *arg, rg_style *out);
int cli_option_min_solve(const cli_verb *v, const char *arg, uint32_t *out);

/*
 * The key file to use: `option` when given, else the global --key, else
 * $REPLYGUARD_KEY_FILE; NULL (after a usage error naming them) when none
 * is set.
 */
const char *cli_key_path(const cli_verb *v, const char *option);

/*
 * Checks that the key file can be opened, before anything else is set up.
 * Returns CLI_EX_OK, or CLI_EX_NOINPUT after an error naming the file.
 */
int cli_check_key_file(const char *path);

/*
 * Loads a key file into a guard. Returns CLI_EX_OK, or after an error naming
 * the file, CLI_EX_NOINPUT (missing, unreadable or malformed) or
 * CLI_EX_SOFTWARE (out of memory).
 */
int cli_load_keys(rg_guard *g, const char *path);

/*
 * The URL the user gave for the store: `option`, else the global --store,
 * else $REPLYGUARD_STORE when set and non-empty, else NULL (for the
 * default, see cli_store_url()). cli_given_model() is the same for the
 * model: --db, then the global --db, then $REPLYGUARD_DB.
 */
const char *cli_given_store(const char *option);
const char *cli_given_model(const char *option);

/* True when the URL names a memory: store or model ("memory:", any case). */
bool cli_is_memory_url(const char *url);

/*
 * The store URL for verbs that keep state: `option` when given, else
 * $REPLYGUARD_STORE when set and non-empty, else the default
 * "sqlite:$XDG_DATA_HOME/replyguard/replay.sqlite" (XDG_DATA_HOME falling
 * back to $HOME/.local/share), whose missing directories are created with
 * mode 0700. Writes a string to free() into *url and returns CLI_EX_OK, or
 * returns CLI_EX_IOERR after an error.
 */
int cli_store_url(const char *option, char **url);

/*
 * The model URL for the content-filter verbs: as cli_store_url(), but from
 * --db, then $REPLYGUARD_DB, then "sqlite:.../replyguard/model.sqlite" in
 * the same data directory.
 */
int cli_model_url(const char *option, char **url);

/*
 * The default URL of the store (model false) or of the model (true), as
 * cli_store_url() and cli_model_url() make it when nothing is given, but
 * without creating any directory: for a verb that only reads, and says
 * "none" when the file is not there. Writes a string to free() into *url
 * and returns CLI_EX_OK, or returns CLI_EX_IOERR (neither XDG_DATA_HOME
 * nor HOME is set) or CLI_EX_SOFTWARE after an error.
 */
int cli_default_url(bool model, char **url);

/*
 * Refuses a sqlite: model file that does not exist, rather than let it be
 * created empty, which would score everything unsure. Returns CLI_EX_OK,
 * or CLI_EX_IOERR after an error naming it.
 */
int cli_check_model(const char *url);

/*
 * A ttl that rg_guard_new() accepts along with min_solve: the guard wants
 * min_solve < ttl. When verifying, the ttl is unused (each token carries
 * its own expiry), so any such value is right.
 */
uint32_t cli_ttl_for(uint32_t min_solve, uint32_t ttl);

/*
 * Creates a guard, reporting failure: a store that cannot be opened gives
 * CLI_EX_IOERR with the URL in the message, anything else CLI_EX_SOFTWARE.
 */
int cli_guard_new(rg_guard **g, const rg_config *cfg);

/*
 * Creates a guard and loads a key file into it: cli_guard_new(), then
 * cli_load_keys(), which report what fails. Returns CLI_EX_OK with the
 * guard in *g, for the caller to rg_guard_free(); or their exit status,
 * with *g NULL.
 */
int cli_guard_open(rg_guard **g, const rg_config *cfg, const char *key_path);

/* The exit status for a library error code (store errors give IOERR). */
int cli_exit_for_error(int err);

/*
 * Reports a failed library call on a handle over a store or a model, and
 * returns cli_exit_for_error(rc): an error of the store itself as
 * "<what> '<url>': <error>" (what: "store" or "model"), since the URL is
 * what to fix; any other as "<doing>: <error>", or as "<error>" alone when
 * doing is NULL. An empty URL, which a store refuses as RG_EINVAL, is a
 * usage error: CLI_EX_USAGE.
 */
int cli_report_error(int rc, const char *what, const char *url,
                     const char *doing);

#endif
