/*
 * captcha-check: replyguard from the command line. One verb per call
 * ("captcha-check verify ..."); each verb is a cli_verb in a tools/cli-*.c
 * file, and the table below is the only place that lists them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_verb *const verbs[] = {
    /* tools/cli-challenge.c */
    &cli_verb_keygen,
    &cli_verb_issue,
    &cli_verb_verify,
    &cli_verb_demo,
    /* tools/cli-bayes.c */
    &cli_verb_train,
    &cli_verb_classify,
    /* tools/cli-judge.c */
    &cli_verb_judge,
    &cli_verb_limit,
    /* tools/cli-model.c */
    &cli_verb_stats,
    &cli_verb_export,
    &cli_verb_import,
    &cli_verb_migrate,
};

#define VERB_COUNT (sizeof verbs / sizeof verbs[0])

static const cli_verb *find_verb(const char *name)
{
    for (size_t i = 0; i < VERB_COUNT; i++)
        if (strcmp(verbs[i]->name, name) == 0)
            return verbs[i];
    return NULL;
}

static void usage(FILE *fp)
{
    fputs("Usage: captcha-check [GLOBAL OPTION]... VERB [OPTION]... "
          "[ARGUMENT]...\n"
          "       captcha-check help [VERB]\n"
          "       captcha-check --version\n"
          "\n"
          "Arithmetic challenges for comment forms, signed into stateless\n"
          "tokens, and a Bayesian filter for the comments themselves.\n"
          "\n"
          "Verbs:\n",
          fp);
    for (size_t i = 0; i < VERB_COUNT; i++)
        fprintf(fp, "  %-8s  %s\n", verbs[i]->name, verbs[i]->summary);
    fputs("  help      show this help, or a verb's\n"
          "\n"
          "Global options, before the verb, for every verb that takes them:\n"
          "  --store URL  the store (spent tokens, rate limits)\n"
          "  --key FILE   the key file\n"
          "  --db URL     the spam filter's model\n"
          "A verb's own option wins over the global one.\n"
          "\n"
          "Run 'captcha-check VERB --help' for a verb's options; every verb\n"
          "takes --help and --version.\n"
          "Environment: REPLYGUARD_KEY_FILE (the key file when --key is\n"
          "absent), REPLYGUARD_STORE (the store when --store is absent),\n"
          "REPLYGUARD_DB (the filter's model when --db is absent).\n"
          "See captcha-check(1).\n",
          fp);
}

/* `captcha-check help [VERB]`; like every verb, help also takes --help and
 * --version. */
static int help(int argc, char **argv)
{
    if (argc == 2 || (argc == 3 && (strcmp(argv[2], "--help") == 0 ||
                                    strcmp(argv[2], "-h") == 0))) {
        usage(stdout);
        return CLI_EX_OK;
    }
    if (argc == 3 && strcmp(argv[2], "--version") == 0)
        return cli_version();
    const cli_verb *v = argc == 3 ? find_verb(argv[2]) : NULL;
    if (!v) {
        cli_error("help: %s (see 'captcha-check --help')",
                  argc == 3 ? "no such verb" : "wants at most one verb");
        return CLI_EX_USAGE;
    }
    return cli_help(v);
}

/*
 * Reads the global options at argv[*i] and on (--store URL, --key FILE,
 * --db URL, each also as --name=VALUE) up to the first other word, which
 * *i is left at, and hands them to cli_set_globals(). Returns CLI_EX_OK,
 * or CLI_EX_USAGE after an error.
 */
static int global_options(int argc, char **argv, int *i)
{
    static const char *const names[] = {"--store", "--key", "--db"};
    const char *values[3] = {NULL, NULL, NULL};

    while (*i < argc) {
        const char *word = argv[*i];
        size_t k, n = 0;
        for (k = 0; k < 3; k++) {
            n = strlen(names[k]);
            if (strncmp(word, names[k], n) == 0 &&
                (word[n] == '\0' || word[n] == '='))
                break;
        }
        if (k == 3)
            break;
        if (word[n] == '=') {
            values[k] = word + n + 1;
            *i += 1;
        } else if (*i + 1 < argc) {
            values[k] = argv[*i + 1];
            *i += 2;
        } else {
            cli_error("option '%s' needs a value (see 'captcha-check "
                      "--help')",
                      names[k]);
            return CLI_EX_USAGE;
        }
    }
    cli_set_globals(values[0], values[1], values[2]);
    return CLI_EX_OK;
}

static int dispatch(int argc, char **argv)
{
    int first = 1;

    if (global_options(argc, argv, &first) != CLI_EX_OK)
        return CLI_EX_USAGE;
    if (argc <= first) {
        usage(stderr);
        return CLI_EX_USAGE;
    }
    /* What follows the global options reads as if they were not there. */
    argc -= first - 1;
    argv += first - 1;

    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        usage(stdout);
        return CLI_EX_OK;
    }
    if (strcmp(word, "--version") == 0)
        return cli_version();
    if (strcmp(word, "help") == 0)
        return help(argc, argv);

    const cli_verb *v = find_verb(word);
    if (!v) {
        cli_error("%s '%s' (see 'captcha-check --help')",
                  word[0] == '-' ? "unknown option" : "unknown verb", word);
        return CLI_EX_USAGE;
    }
    if (rg_init() != RG_OK) {
        cli_error("%s", rg_strerror(RG_EINIT));
        return CLI_EX_SOFTWARE;
    }
    return v->run(v, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    int ex = dispatch(argc, argv);

    /* Output that never arrived (a full disk, a closed pipe) is a failure,
     * unless the status already says something went wrong. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        if (ex == CLI_EX_OK)
            ex = CLI_EX_IOERR;
    }
    return ex;
}
