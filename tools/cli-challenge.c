/*
 * captcha-check: the challenge verbs: keygen, issue, verify and demo.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <getopt.h>
#include <sodium.h>

#include "cli-jsonl.h"
#include "cli.h"

/* keygen */

/* Writes all of buf to fd, retrying short writes. */
static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Writes, syncs and closes fd; false with errno set on any failure. */
static bool finish_file(int fd, const char *text)
{
    bool ok = write_all(fd, text, strlen(text)) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    errno = saved;
    return ok;
}

/*
 * Creates a key file that must not exist yet. O_EXCL also refuses to follow
 * a symlink planted at the path, so the key never lands somewhere else.
 */
static int create_key_file(const char *path, const char *text)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            cli_error("%s: already exists; use --force to replace it", path);
        else
            cli_error("%s: %s", path, strerror(errno));
        return CLI_EX_CANTCREAT;
    }
    if (!finish_file(fd, text)) {
        cli_error("%s: %s", path, strerror(errno));
        unlink(path);
        return CLI_EX_IOERR;
    }
    return CLI_EX_OK;
}

/*
 * Replaces a key file: a new private file beside it, then rename(), so the
 * old key survives any failure and no reader ever sees half a file.
 */
static int replace_key_file(const char *path, const char *text)
{
    size_t len = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(len);
    if (!tmp) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    snprintf(tmp, len, "%s.XXXXXX", path);

    int ex = CLI_EX_OK;
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        ex = CLI_EX_CANTCREAT;
    } else if (!finish_file(fd, text) || rename(tmp, path) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        unlink(tmp);
        ex = CLI_EX_IOERR;
    }
    free(tmp);
    return ex;
}

static int run_keygen(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint32_t id = 0;
    const char *out = NULL;
    bool force = false;
    int c;

    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_parse_u32(optarg, UINT32_MAX, &id))
                return cli_usage_error(self,
                                       "--id wants a number from 0 "
                                       "to 4294967295, not '%s'",
                                       optarg);
            break;
        case 'o':
            out = optarg;
            break;
        case 'f':
            force = true;
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
    if (force && !out)
        return cli_usage_error(self, "--force only goes with --out");

    char text[256];
    int rc = rg_keyfile_generate(id, text, sizeof text);
    if (rc != RG_OK) {
        cli_error("cannot make a key: %s", rg_strerror(rc));
        return CLI_EX_SOFTWARE;
    }

    int ex = CLI_EX_OK;
    if (!out)
        fputs(text, stdout); /* main() checks that stdout was written */
    else if (force)
        ex = replace_key_file(out, text);
    else
        ex = create_key_file(out, text);
    sodium_memzero(text, sizeof text);
    return ex;
}

const cli_verb cli_verb_keygen = {
    "keygen",
    "write a new key file (one random signing key)",
    "Usage: captcha-check keygen [--id N] [--out FILE [--force]]\n"
    "\n"
    "Writes a new key file with one random signing key to stdout, or to\n"
    "FILE with mode 0600. See docs/key-file.md for the format and rotation.\n"
    "\n"
    "  --id N       the key id, 1 to 4294967295 (default, or 0: the current\n"
    "               Unix time, so later keys get larger ids)\n"
    "  --out FILE   write to FILE, which must not exist yet\n"
    "  --force      replace FILE if it exists\n"
    "  -h, --help   show this help\n"
    "  --version    show the version\n",
    run_keygen,
};

/* issue */

static int run_issue(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"bind", required_argument, NULL, 'b'},
        {"locale", required_argument, NULL, 'l'},
        {"style", required_argument, NULL, 's'},
        {"ttl", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rg_config cfg;
    const char *key = NULL, *binding = NULL, *locale = NULL;
    rg_style style = RG_STYLE_WORDS;
    bool json = false;
    int c;

    rg_config_init(&cfg);
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key = optarg;
            break;
        case 'b':
            binding = optarg;
            break;
        case 'l':
            if (cli_option_locale(self, optarg, &locale) != CLI_EX_OK)
                return CLI_EX_USAGE;
            break;
        case 's':
            if (cli_option_style(self, optarg, &style) != CLI_EX_OK)
                return CLI_EX_USAGE;
            break;
        case 't':
            if (!cli_parse_u32(optarg, UINT32_MAX, &cfg.ttl_s) ||
                cfg.ttl_s == 0)
                return cli_usage_error(self,
                                       "--ttl wants seconds from 1 "
                                       "to 4294967295, not '%s'",
                                       optarg);
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
    if (!(key = cli_key_path(self, key)))
        return CLI_EX_USAGE;

    /* Issuing spends nothing, so no store is needed; the time trap only
     * matters when verifying. */
    cfg.min_solve_s = 0;
    cfg.store = "memory:";

    rg_guard *g = NULL;
    rg_challenge ch;
    int ex = cli_guard_open(&g, &cfg, key);
    if (ex == CLI_EX_OK) {
        int rc = rg_challenge_issue_in(g, binding, locale, style, &ch);
        if (rc != RG_OK) {
            cli_error("cannot issue a challenge: %s", rg_strerror(rc));
            ex = CLI_EX_SOFTWARE;
        }
    }
    rg_guard_free(g);
    if (ex != CLI_EX_OK)
        return ex;

    if (json) {
        fputs("{\"question\":", stdout);
        cli_json_string(stdout, ch.question);
        fputs(",\"spoken\":", stdout);
        cli_json_string(stdout, ch.spoken);
        fputs(",\"token\":", stdout);
        cli_json_string(stdout, ch.token);
        fputs(",\"locale\":", stdout);
        cli_json_string(stdout, ch.locale);
        printf(",\"expires_at\":%" PRIu64 "}\n", ch.expires_at);
    } else {
        printf("%s\n%s\n", ch.question, ch.token);
    }
    return CLI_EX_OK;
}

const cli_verb cli_verb_issue = {
    "issue",
    "issue a challenge: print the question and its token",
    "Usage: captcha-check issue --key FILE [--bind S] [--locale L]\n"
    "                           [--style words|digits|mixed] [--ttl SEC]\n"
    "                           [--json]\n"
    "\n"
    "Prints a question (\"nine + ten =\") on one line and its token on the\n"
    "next. The token holds no answer; only a holder of the key can check\n"
    "one, once.\n"
    "\n"
    "  --key FILE     the key file (default: $REPLYGUARD_KEY_FILE)\n"
    "  --bind S       bind the token to S (form, post, client); verify must\n"
    "                 be given the same S (default: empty)\n"
    "  --locale L     en (default), ru, de, fr or es\n"
    "  --style S      numbers as words (default), digits or mixed\n"
    "  --ttl SEC      the token's lifetime in seconds (default 1200)\n"
    "  --json         print one JSON object instead: question, spoken,\n"
    "                 token, locale, expires_at\n"
    "  -h, --help     show this help\n"
    "  --version      show the version\n",
    run_issue,
};

/* verify */

/* The exit status of each verdict, in rg_verdict order. */
static int verdict_exit(rg_verdict v)
{
    switch (v) {
    case RG_VERDICT_PASS:
        return 0;
    case RG_VERDICT_WRONG:
        return 1;
    case RG_VERDICT_EXPIRED:
        return 2;
    case RG_VERDICT_TOO_FAST:
        return 3;
    case RG_VERDICT_REPLAYED:
        return 4;
    case RG_VERDICT_FORGED:
        return 5;
    case RG_VERDICT_MALFORMED:
        break;
    }
    return CLI_EX_DATAERR;
}

static int run_verify(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"bind", required_argument, NULL, 'b'},
        {"store", required_argument, NULL, 'S'},
        {"min-solve", required_argument, NULL, 'm'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rg_config cfg;
    const char *key = NULL, *binding = NULL, *store = NULL;
    int c;

    rg_config_init(&cfg);
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key = optarg;
            break;
        case 'b':
            binding = optarg;
            break;
        case 'S':
            store = optarg;
            break;
        case 'm':
            if (cli_option_min_solve(self, optarg, &cfg.min_solve_s) !=
                CLI_EX_OK)
                return CLI_EX_USAGE;
            break;
        case 'V':
            return cli_version();
        case 'h':
            return cli_help(self);
        default:
            return cli_option_error(self, c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(self,
                               "wants TOKEN and ANSWER, got %d "
                               "argument%s",
                               argc - optind, argc - optind == 1 ? "" : "s");
    const char *token = argv[optind], *answer = argv[optind + 1];
    if (!(key = cli_key_path(self, key)))
        return CLI_EX_USAGE;

    /* A missing key file is reported before the default store's
     * directories are made for nothing. */
    int ex = cli_check_key_file(key);
    char *url = NULL;
    if (ex == CLI_EX_OK)
        ex = cli_store_url(store, &url);
    if (ex != CLI_EX_OK)
        return ex;

    cfg.store = url;
    cfg.ttl_s = cli_ttl_for(cfg.min_solve_s, cfg.ttl_s);
    rg_guard *g = NULL;
    rg_verdict v = RG_VERDICT_MALFORMED;
    ex = cli_guard_open(&g, &cfg, key);
    if (ex == CLI_EX_OK) {
        int rc = rg_challenge_verify(g, token, answer, binding, &v);
        /* The store could not record the token, so the library failed
         * closed: no verdict at all, rather than a guess. */
        if (rc != RG_OK)
            ex = cli_report_error(rc, "store", url, "cannot verify");
    }
    rg_guard_free(g);
    free(url);
    if (ex != CLI_EX_OK)
        return ex;

    puts(rg_verdict_name(v));
    return verdict_exit(v);
}

const cli_verb cli_verb_verify = {
    "verify",
    "check an answer to a token; the exit status is the verdict",
    "Usage: captcha-check verify --key FILE [--bind S] [--store URL]\n"
    "                            [--min-solve SEC] [--] TOKEN ANSWER\n"
    "\n"
    "Checks ANSWER against TOKEN and prints the verdict. A token can be\n"
    "answered once: the first authentic attempt spends it, right or wrong,\n"
    "and the store remembers that across processes.\n"
    "\n"
    "  --key FILE       the key file (default: $REPLYGUARD_KEY_FILE)\n"
    "  --bind S         the binding the token was issued with (default:\n"
    "                   empty)\n"
    "  --store URL      where spent tokens are kept: sqlite:PATH, redis://...\n"
    "                   (shared by web servers) or memory:\n"
    "                   (default: $REPLYGUARD_STORE, else sqlite: in\n"
    "                   $XDG_DATA_HOME/replyguard/replay.sqlite, or\n"
    "                   ~/.local/share/replyguard/replay.sqlite)\n"
    "  --min-solve SEC  answers sooner than this after issue are too_fast\n"
    "                   (default 5)\n"
    "  -h, --help       show this help\n"
    "  --version        show the version\n"
    "\n"
    "Prints and exits with: pass 0, wrong 1, expired 2, too_fast 3,\n"
    "replayed 4, forged 5, malformed 65. Other exits: 64 usage error,\n"
    "66 key file missing or malformed, 74 store error, 70 internal error.\n",
    run_verify,
};

/* demo */

/* What a verdict means, for a person at a terminal. */
static void say_verdict(rg_verdict v, uint32_t min_solve)
{
    switch (v) {
    case RG_VERDICT_PASS:
        puts("Correct!");
        break;
    case RG_VERDICT_WRONG:
        /* The token does not hold the answer, so there is none to show. */
        puts("Wrong.");
        break;
    case RG_VERDICT_TOO_FAST:
        printf("Too fast: answers sooner than %" PRIu32 " s after the "
               "question look like a bot's.\n",
               min_solve);
        break;
    case RG_VERDICT_EXPIRED:
        puts("Too late: the question expired.");
        break;
    default:
        printf("Rejected: %s.\n", rg_verdict_name(v));
        break;
    }
}

/* True for "q" or "quit", with any spaces around. */
static bool is_quit(const char *line)
{
    line += strspn(line, " \t");
    size_t n = strcspn(line, " \t");
    if (line[n + strspn(line + n, " \t")] != '\0')
        return false;
    return (n == 1 && line[0] == 'q') || (n == 4 && !strncmp(line, "quit", 4));
}

/*
 * Asks and checks questions until EOF or "q". Lines are read as the
 * JSON Lines verbs read them (at most 1 MiB each, never buffered beyond
 * that): a longer line, or one holding a NUL byte (which would cut the
 * answer short), is reported on stderr and not checked, and makes the exit
 * status CLI_EX_DATAERR once the input ends.
 */
static int demo_loop(rg_guard *g, const char *locale, rg_style style,
                     uint32_t min_solve)
{
    bool echo = !isatty(STDIN_FILENO);
    unsigned asked = 0, right = 0;
    uint64_t bad = 0;
    cli_reader r;
    int ex = cli_reader_open(&r, NULL, NULL);

    if (ex == CLI_EX_OK)
        printf("Answer with a number, in digits or words; q quits.\n");
    while (ex == CLI_EX_OK) {
        rg_challenge ch;
        int rc = rg_challenge_issue_in(g, "demo", locale, style, &ch);
        if (rc != RG_OK) {
            cli_error("cannot issue a challenge: %s", rg_strerror(rc));
            ex = CLI_EX_SOFTWARE;
            break;
        }
        printf("\n%s\n> ", ch.question);
        fflush(stdout);

        int got = cli_reader_next(&r);
        if (got <= 0) {
            putchar('\n');
            if (got < 0)
                ex = cli_reader_error(&r, got);
            break;
        }
        const char *why = NULL;
        if (r.too_long)
            why = CLI_LINE_TOO_LONG;
        else if (memchr(r.line, '\0', r.len))
            why = "a NUL byte";
        /* Piped input is not echoed by a terminal: echo it, so the
         * transcript reads as a dialogue. */
        if (echo)
            printf("%s\n", why ? "" : r.line);
        if (why) {
            fflush(stdout);
            cli_reader_bad_line(&r, why);
            bad++;
            continue;
        }
        if (is_quit(r.line))
            break;

        rg_verdict v;
        rc = rg_challenge_verify(g, ch.token, r.line, "demo", &v);
        if (rc != RG_OK) {
            cli_error("cannot verify: %s", rg_strerror(rc));
            ex = cli_exit_for_error(rc);
            break;
        }
        say_verdict(v, min_solve);
        asked++;
        right += v == RG_VERDICT_PASS;
    }
    if (asked > 0)
        printf("%u of %u right.\n", right, asked);
    cli_reader_close(&r);
    return ex == CLI_EX_OK && bad > 0 ? CLI_EX_DATAERR : ex;
}

static int run_demo(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"locale", required_argument, NULL, 'l'},
        {"style", required_argument, NULL, 's'},
        {"min-solve", required_argument, NULL, 'm'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rg_config cfg;
    const char *locale = NULL;
    rg_style style = RG_STYLE_WORDS;
    int c;

    rg_config_init(&cfg);
    /* Shorter than the library's 5 s: someone trying the tool reads fast,
     * and still sees the time trap if they answer at once. */
    cfg.min_solve_s = 2;
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (cli_option_locale(self, optarg, &locale) != CLI_EX_OK)
                return CLI_EX_USAGE;
            break;
        case 's':
            if (cli_option_style(self, optarg, &style) != CLI_EX_OK)
                return CLI_EX_USAGE;
            break;
        case 'm':
            if (cli_option_min_solve(self, optarg, &cfg.min_solve_s) !=
                CLI_EX_OK)
                return CLI_EX_USAGE;
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

    /* Everything in memory: a key made for this run, forgotten after. */
    cfg.store = "memory:";
    cfg.ttl_s = cli_ttl_for(cfg.min_solve_s, cfg.ttl_s);
    rg_guard *g = NULL;
    int ex = cli_guard_new(&g, &cfg);
    if (ex != CLI_EX_OK)
        return ex;

    uint8_t key[RG_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    int rc = rg_guard_add_key(g, 1, key, 1);
    sodium_memzero(key, sizeof key);
    if (rc != RG_OK) {
        cli_error("cannot add a key: %s", rg_strerror(rc));
        rg_guard_free(g);
        return CLI_EX_SOFTWARE;
    }

    ex = demo_loop(g, locale, style, cfg.min_solve_s);
    rg_guard_free(g);
    return ex;
}

const cli_verb cli_verb_demo = {
    "demo",
    "answer challenges in the terminal",
    "Usage: captcha-check demo [--locale L] [--style S] [--min-solve SEC]\n"
    "\n"
    "Asks questions and checks the answers typed, one line each, until\n"
    "end of input or q. Uses a key made for the run and keeps nothing.\n"
    "\n"
    "  --locale L       en (default), ru, de, fr or es\n"
    "  --style S        numbers as words (default), digits or mixed\n"
    "  --min-solve SEC  answers sooner than this are too fast (default 2,\n"
    "                   below the library's 5 so that trying it is quick)\n"
    "  -h, --help       show this help\n"
    "  --version        show the version\n",
    run_demo,
};
