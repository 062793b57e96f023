/*
 * captcha-check: the verbs that decide, judge and limit. judge reads
 * submitted comments as JSON Lines and runs every layer on each (rate
 * limits, honeypot, challenge, content filter) through rg_judge(); limit
 * is the rate limiter alone, for a script that guards something else.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <getopt.h>
#include <jansson.h>

#include "cli-jsonl.h"
#include "cli.h"

/* The limiter's bounds (include/replyguard.h, rg_limiter_config). */
#define RATE_MIN  1e-6
#define RATE_MAX  1e9
#define BURST_MAX 1000000

/* The longest limiter name the library takes, in bytes. */
#define LIMITER_NAME_MAX 256

/* The namespaces of judge's limiters in the store. */
#define LIMITER_CLIENT   "judge"
#define LIMITER_IPV6_56  "judge-56"
#define LIMITER_IPV6_48  "judge-48"
#define LIMITER_FAILURES "judge-failures"

/* ---- Small helpers ---- */

/*
 * Parses a rate "N/s", "N/m" or "N/h" into events per second. N is a
 * positive decimal number: digits, optionally a point and more digits; no
 * sign, no exponent, no spaces. False for anything else, for zero, and
 * for a rate outside what the limiter takes (RATE_MIN to RATE_MAX a
 * second).
 */
static bool parse_rate(const char *text, double *per_s)
{
    size_t whole = strspn(text, "0123456789");
    size_t len = whole;

    if (whole == 0)
        return false;
    if (text[len] == '.') {
        size_t frac = strspn(text + len + 1, "0123456789");
        if (frac == 0)
            return false;
        len += 1 + frac;
    }
    if (text[len] != '/' || text[len + 1] == '\0' || text[len + 2] != '\0')
        return false;

    double seconds;
    switch (text[len + 1]) {
    case 's':
        seconds = 1;
        break;
    case 'm':
        seconds = 60;
        break;
    case 'h':
        seconds = 3600;
        break;
    default:
        return false;
    }

    /* The text is known to be digits and a point, so strtod() reads all
     * of it; the C locale that captcha-check runs in uses a point. */
    char *end = NULL;
    errno = 0;
    double n = strtod(text, &end);
    if (errno != 0 || end != text + len || !isfinite(n) || n <= 0)
        return false;
    double rate = n / seconds;
    if (rate < RATE_MIN || rate > RATE_MAX)
        return false;
    *per_s = rate;
    return true;
}

/* What a usage error says about a rate that parse_rate() refused. */
#define RATE_WANTED "N/s, N/m or N/h, N a number above 0 (1e-6 to 1e9 a second)"

/*
 * True when the library takes this rate and burst together: it refuses a
 * burst that would take longer than 100 years (of 366 days) to earn
 * back, which is surely a mistake. Checking it here lets the message name
 * the option or the policy member.
 */
static bool burst_fits(double rate_per_s, uint32_t burst)
{
    return ((double)burst + 1) / rate_per_s <= 100.0 * 366 * 24 * 3600;
}

/* The settings of one limiter: off, or on with a rate and a burst. */
typedef struct limiter_setting {
    bool on;
    double rate_per_s;
    uint32_t burst;
} limiter_setting;

/* The library's defaults: one a minute, a burst of 4. */
static limiter_setting limiter_defaults(void)
{
    rg_limiter_config cfg;

    rg_limiter_config_init(&cfg);
    return (limiter_setting){true, cfg.rate_per_s, cfg.burst};
}

/*
 * Opens a limiter on the store `url`, named `name`. Returns CLI_EX_OK, or
 * the exit status after an error: CLI_EX_IOERR when the store cannot be
 * opened. The rate, burst and name were checked as they were read, so a
 * library that still refuses them is an internal error.
 */
static int open_limiter(const char *url, const char *name,
                        const limiter_setting *ls, rg_limiter **out)
{
    rg_limiter_config cfg;

    rg_limiter_config_init(&cfg);
    cfg.store = url;
    cfg.name = name;
    cfg.rate_per_s = ls->rate_per_s;
    cfg.burst = ls->burst;
    int rc = rg_limiter_open(out, &cfg);
    if (rc == RG_OK)
        return CLI_EX_OK;
    *out = NULL;
    char doing[LIMITER_NAME_MAX + sizeof "cannot set up limiter ''"];
    snprintf(doing, sizeof doing, "cannot set up limiter '%s'", name);
    return cli_report_error(rc, "store", url, doing);
}

/* ---- The policy file ---- */

/* Everything --policy sets: the library's policy (its handles are filled
 * in once the limiters are open) and the limiters to open. */
typedef struct judge_settings {
    rg_policy policy;
    limiter_setting client, ipv6_56, ipv6_48, failures;
} judge_settings;

static void settings_init(judge_settings *s)
{
    rg_policy_init(&s->policy);
    s->client = limiter_defaults();
    s->ipv6_56 = s->ipv6_48 = s->failures = (limiter_setting){false, 0, 0};
}

/* A policy file being read: reports errors as usage errors of the verb,
 * naming the file and the member. */
typedef struct policy_reader {
    const cli_verb *verb;
    const char *path;
} policy_reader;

/* "FILE: \"member\" is a string, not ..." as a usage error. */
static int policy_type_error(const policy_reader *pr, const char *member,
                             const json_t *v, const char *wanted)
{
    return cli_usage_error(pr->verb, "%s: \"%s\" is %s, not %s", pr->path,
                           member, cli_json_kind(v), wanted);
}

/* An action: "accept", "moderate" or "reject". */
static int policy_action(const policy_reader *pr, const char *member,
                         const json_t *v, rg_action *out)
{
    static const struct {
        const char *name;
        rg_action action;
    } actions[] = {
        {"accept", RG_ACTION_ACCEPT},
        {"moderate", RG_ACTION_MODERATE},
        {"reject", RG_ACTION_REJECT},
    };
    static const char wanted[] = "\"accept\", \"moderate\" or \"reject\"";

    if (!json_is_string(v))
        return policy_type_error(pr, member, v, wanted);
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(json_string_value(v), actions[i].name) == 0) {
            *out = actions[i].action;
            return CLI_EX_OK;
        }
    }
    char got[64];
    cli_for_message(json_string_value(v), got, sizeof got);
    return cli_usage_error(pr->verb, "%s: \"%s\" is '%s', not %s", pr->path,
                           member, got, wanted);
}

/* An integer from min to max. */
static int policy_integer(const policy_reader *pr, const char *member,
                          const json_t *v, uint32_t min, uint32_t max,
                          uint32_t *out)
{
    if (!json_is_integer(v)) {
        char wanted[64];
        snprintf(wanted, sizeof wanted,
                 "an integer from %" PRIu32 " to %" PRIu32, min, max);
        return policy_type_error(pr, member, v, wanted);
    }
    json_int_t n = json_integer_value(v);
    if (n < (json_int_t)min || n > (json_int_t)max)
        return cli_usage_error(pr->verb,
                               "%s: \"%s\" is %" JSON_INTEGER_FORMAT
                               ", not from %" PRIu32 " to %" PRIu32,
                               pr->path, member, n, min, max);
    *out = (uint32_t)n;
    return CLI_EX_OK;
}

/*
 * A limiter, for `member`: null turns it off; an object turns it on with
 * its "rate" and "burst" (each optional: the library's defaults) and, for
 * the escalation, "step_s" and "cap_s" into the policy (when `policy` is
 * not NULL).
 */
static int policy_limiter(const policy_reader *pr, const char *member,
                          const json_t *v, limiter_setting *out,
                          rg_policy *policy)
{
    char name[64];
    const char *key;
    json_t *value;

    if (json_is_null(v)) {
        out->on = false;
        return CLI_EX_OK;
    }
    if (!json_is_object(v))
        return policy_type_error(pr, member, v, "null or an object");
    *out = limiter_defaults();
    json_object_foreach((json_t *)v, key, value)
    {
        int ex = CLI_EX_OK;
        snprintf(name, sizeof name, "%s.%s", member, key);
        if (strcmp(key, "rate") == 0) {
            if (!json_is_string(value))
                ex = policy_type_error(pr, name, value,
                                       "a string such as \"5/m\"");
            else if (!parse_rate(json_string_value(value), &out->rate_per_s)) {
                char got[64];
                cli_for_message(json_string_value(value), got, sizeof got);
                ex = cli_usage_error(pr->verb, "%s: \"%s\" is '%s', not %s",
                                     pr->path, name, got, RATE_WANTED);
            }
        } else if (strcmp(key, "burst") == 0) {
            ex = policy_integer(pr, name, value, 0, BURST_MAX, &out->burst);
        } else if (policy && strcmp(key, "step_s") == 0) {
            ex = policy_integer(pr, name, value, 0, UINT32_MAX,
                                &policy->escalation_step_s);
        } else if (policy && strcmp(key, "cap_s") == 0) {
            ex = policy_integer(pr, name, value, 0, UINT32_MAX,
                                &policy->escalation_cap_s);
        } else {
            char got[64];
            cli_for_message(name, got, sizeof got);
            ex = cli_usage_error(pr->verb, "%s: unknown key \"%s\"", pr->path,
                                 got);
        }
        if (ex != CLI_EX_OK)
            return ex;
    }
    if (!burst_fits(out->rate_per_s, out->burst))
        return cli_usage_error(pr->verb,
                               "%s: \"%s\": a burst of %" PRIu32 " at this "
                               "rate would take over 100 years to earn back",
                               pr->path, member, out->burst);
    return CLI_EX_OK;
}

/* "client", "binding" or "client_binding". */
static int policy_limit_by(const policy_reader *pr, const json_t *v,
                           rg_limit_by *out)
{
    static const struct {
        const char *name;
        rg_limit_by by;
    } ways[] = {
        {"client", RG_LIMIT_BY_CLIENT},
        {"binding", RG_LIMIT_BY_BINDING},
        {"client_binding", RG_LIMIT_BY_CLIENT_BINDING},
    };
    static const char wanted[] =
        "\"client\", \"binding\" or \"client_binding\"";

    if (!json_is_string(v))
        return policy_type_error(pr, "limit_by", v, wanted);
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        if (strcmp(json_string_value(v), ways[i].name) == 0) {
            *out = ways[i].by;
            return CLI_EX_OK;
        }
    }
    char got[64];
    cli_for_message(json_string_value(v), got, sizeof got);
    return cli_usage_error(pr->verb, "%s: \"limit_by\" is '%s', not %s",
                           pr->path, got, wanted);
}

/* One member of the policy object. */
static int policy_member(const policy_reader *pr, const char *key,
                         const json_t *v, judge_settings *s)
{
    rg_policy *p = &s->policy;
    const struct {
        const char *name;
        rg_action *action;
    } actions[] = {
        {"on_honeypot", &p->on_honeypot},
        {"on_captcha_wrong", &p->on_captcha_wrong},
        {"on_captcha_expired", &p->on_captcha_expired},
        {"on_captcha_too_fast", &p->on_captcha_too_fast},
        {"on_captcha_replayed", &p->on_captcha_replayed},
        {"on_captcha_forged", &p->on_captcha_forged},
        {"on_captcha_malformed", &p->on_captcha_malformed},
        {"on_rate_limited", &p->on_rate_limited},
        {"on_spam", &p->on_spam},
        {"on_unsure", &p->on_unsure},
        {"on_store_unavailable", &p->on_store_unavailable},
    };

    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(key, actions[i].name) == 0)
            return policy_action(pr, key, v, actions[i].action);
    if (strcmp(key, "rate_limit") == 0)
        return policy_limiter(pr, key, v, &s->client, NULL);
    if (strcmp(key, "ipv6_56") == 0)
        return policy_limiter(pr, key, v, &s->ipv6_56, NULL);
    if (strcmp(key, "ipv6_48") == 0)
        return policy_limiter(pr, key, v, &s->ipv6_48, NULL);
    if (strcmp(key, "escalation") == 0)
        return policy_limiter(pr, key, v, &s->failures, p);
    if (strcmp(key, "limit_by") == 0)
        return policy_limit_by(pr, v, &p->limit_by);
    if (strcmp(key, "failure_cost") == 0)
        return policy_integer(pr, key, v, 1, 1000, &p->failure_cost);

    char got[64];
    cli_for_message(key, got, sizeof got);
    return cli_usage_error(pr->verb, "%s: unknown key \"%s\"", pr->path, got);
}

/* A policy is a few hundred bytes; a larger file is refused before it is
 * all held in memory. */
#define POLICY_MAX (64 * 1024)

/* A file read for jansson, which gives up once more than `left` bytes
 * have come. */
typedef struct capped_file {
    FILE *fp;
    size_t left;
    bool too_big;
} capped_file;

static size_t read_capped(void *buf, size_t size, void *arg)
{
    capped_file *cf = arg;
    /* One byte past the cap tells a file of exactly POLICY_MAX bytes from
     * a larger one. */
    size_t want = size < cf->left + 1 ? size : cf->left + 1;
    size_t n = fread(buf, 1, want, cf->fp);
    if (n > cf->left) {
        cf->too_big = true;
        return (size_t)-1;
    }
    cf->left -= n;
    return n;
}

/*
 * Reads a policy file (docs/captcha-check.md) over the defaults in *s.
 * Returns CLI_EX_OK; CLI_EX_NOINPUT when the file cannot be read; or
 * CLI_EX_USAGE when it is larger than POLICY_MAX, not JSON, not an
 * object, or has a member that is unknown or of the wrong type or range:
 * each reported on one line naming the file (and the line, for JSON that
 * does not parse).
 */
static int read_policy(const cli_verb *v, const char *path, judge_settings *s)
{
    policy_reader pr = {v, path};
    json_error_t err;
    struct stat st;

    /* Opened here rather than by jansson, whose error would not say why
     * the file cannot be read. */
    FILE *fp = fopen(path, "rb");
    if (!fp || (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode))) {
        cli_error("%s: %s", path, strerror(fp ? EISDIR : errno));
        if (fp)
            fclose(fp);
        return CLI_EX_NOINPUT;
    }
    capped_file cf = {fp, POLICY_MAX, false};
    json_t *root =
        json_load_callback(read_capped, &cf, JSON_REJECT_DUPLICATES, &err);
    bool read_failed = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (!root && cf.too_big)
        return cli_usage_error(v, "%s: larger than %d bytes: not a policy",
                               path, POLICY_MAX);
    if (!root && read_failed) {
        cli_error("%s: %s", path, strerror(saved));
        return CLI_EX_NOINPUT;
    }
    if (!root) {
        if (json_error_code(&err) == json_error_out_of_memory) {
            cli_error("out of memory");
            return CLI_EX_SOFTWARE;
        }
        char why[256];
        cli_json_reason(&err, why, sizeof why);
        return cli_usage_error(v, "%s:%d: %s", path, err.line, why);
    }

    int ex = CLI_EX_OK;
    if (!json_is_object(root)) {
        ex = cli_usage_error(v, "%s: not a JSON object but %s", path,
                             cli_json_kind(root));
    } else {
        const char *key;
        json_t *value;
        json_object_foreach(root, key, value)
        {
            ex = policy_member(&pr, key, value, s);
            if (ex != CLI_EX_OK)
                break;
        }
    }
    json_decref(root);
    return ex;
}

/* ---- Submissions from JSON ---- */

/* One parsed line. The strings of `s` belong to `root`. */
typedef struct parsed {
    json_t *root;
    json_t *id; /* borrowed from root; NULL when the line has none */
    rg_submission s;
} parsed;

/*
 * Parses one line into a submission: returns 1, or 0 with the reason in
 * why when the line is not one, or -1 when out of memory. A line is not a
 * submission when it is empty, not JSON (which includes invalid UTF-8, a
 * NUL character and a duplicate key), not an object, or has a member of
 * the wrong type. Every member is optional, and other members are
 * ignored, so a form's export with more fields can be fed as it is.
 */
static int parse_submission(const char *line, size_t len, parsed *out,
                            char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    int got = cli_jsonl_parse(line, len, &out->root, why, why_size);
    if (got <= 0)
        return got;

    rg_submission *s = &out->s;
    rg_submission_init(s);
    const struct {
        const char *name;
        const char **field;
    } members[] = {
        {"body", &s->body},       {"author", &s->author},
        {"email", &s->email},     {"url", &s->url},
        {"ip", &s->client},       {"token", &s->token},
        {"answer", &s->answer},   {"honeypot", &s->honeypot},
        {"binding", &s->binding},
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (!cli_json_optional_string(out->root, members[i].name,
                                      members[i].field, why, why_size))
            goto bad;
    if (!cli_jsonl_id(out->root, &out->id, why, why_size))
        goto bad;
    return 1;
bad:
    json_decref(out->root);
    out->root = NULL;
    return 0;
}

/* ---- judge ---- */

/* Writes one decision line. */
static void put_decision(FILE *fp, const json_t *id, const rg_decision *d)
{
    putc('{', fp);
    cli_jsonl_put_id(fp, id);
    fputs("\"action\":", fp);
    cli_json_string(fp, rg_action_name(d->action));
    fputs(",\"reasons\":[", fp);
    bool first = true;
    for (unsigned bit = 0; bit < 32; bit++) {
        uint32_t reason = (uint32_t)1 << bit;
        if (!(d->reasons & reason))
            continue;
        if (!first)
            putc(',', fp);
        cli_json_string(fp, rg_reason_name(reason));
        first = false;
    }
    fputs("],\"spamicity\":", fp);
    /* The filter's score is from 0 to 1; below 0 it did not run. */
    if (d->spamicity >= 0)
        cli_json_number(fp, d->spamicity);
    else
        fputs("null", fp);
    fprintf(fp, ",\"retry_after_ms\":%" PRIu64 "}\n", d->retry_after_ms);
}

/* The limiters judge may open: per client, per IPv6 /56 and /48, and
 * the failures counted for escalation. */
#define JUDGE_LIMITERS 4

/* Everything judge holds open. */
typedef struct judge_run {
    rg_guard *guard;
    rg_bayes *bayes;
    /* Per client, per /56, per /48, failures; NULL when off. */
    rg_limiter *limiters[JUDGE_LIMITERS];
    const char *store; /* the store's URL, for messages */
} judge_run;

/* Why rg_judge() refused a submission's address. */
static void address_reason(const rg_submission *s, char *why, size_t size)
{
    char got[64];

    if (!s->client) {
        snprintf(why, size,
                 "no \"ip\", and the rate limit counts by client "
                 "address");
        return;
    }
    cli_for_message(s->client, got, sizeof got);
    snprintf(why, size, "\"ip\" is not an IPv4 or IPv6 address: '%s'", got);
}

/*
 * Judges every line of the input, writing one decision per good line.
 * Returns CLI_EX_OK, or the exit status of a fatal error; counts the bad
 * lines in *bad.
 */
static int judge_loop(judge_run *run, const rg_policy *policy, cli_reader *r,
                      uint64_t *bad)
{
    char why[256];
    int rc;

    while ((rc = cli_reader_next(r)) > 0) {
        parsed pc;
        int got = 0;
        if (r->too_long)
            snprintf(why, sizeof why, CLI_LINE_TOO_LONG);
        else
            got = parse_submission(r->line, r->len, &pc, why, sizeof why);
        if (got < 0) {
            rc = -2;
            break;
        }
        if (got == 0) {
            cli_reader_bad_line(r, why);
            ++*bad;
            continue;
        }

        /* An address that is not one is bad data whatever the policy,
         * not only when a limiter happens to count by it. */
        uint8_t client_key[RG_CLIENT_KEY_MAX];
        size_t client_key_len;
        if (pc.s.client && rg_client_key(pc.s.client, 64, client_key,
                                         &client_key_len) != RG_OK) {
            address_reason(&pc.s, why, sizeof why);
            cli_reader_bad_line(r, why);
            ++*bad;
            json_decref(pc.root);
            continue;
        }

        rg_decision d;
        int jr = rg_judge(run->guard, &pc.s, policy, &d);
        if (jr == RG_OK) {
            put_decision(stdout, pc.id, &d);
        } else if (jr == RG_EADDRESS) {
            address_reason(&pc.s, why, sizeof why);
            cli_reader_bad_line(r, why);
            ++*bad;
        }
        json_decref(pc.root);
        if (jr != RG_OK && jr != RG_EADDRESS) {
            /* rg_judge() makes a failing store a reason, not an error,
             * so what is left (out of memory, a setting it refuses) is
             * no fault of this line, and no later line would fare
             * better. */
            cli_error("%s:%" PRIu64 ": cannot judge: %s", r->name, r->lineno,
                      rg_strerror(jr));
            return CLI_EX_SOFTWARE;
        }
        /* Nobody reads the decisions any more (a closed pipe, a full
         * disk): stop; main() reports it. */
        if (ferror(stdout))
            return CLI_EX_IOERR;
    }
    return rc < 0 ? cli_reader_error(r, rc) : CLI_EX_OK;
}

/* Opens the guard, the limiters and the model the settings name, and
 * points the policy at them. */
static int judge_open(judge_run *run, judge_settings *js, const char *key,
                      uint32_t min_solve, const char *model_url)
{
    rg_config cfg;

    rg_config_init(&cfg);
    cfg.store = run->store;
    cfg.min_solve_s = min_solve;
    cfg.ttl_s = cli_ttl_for(min_solve, cfg.ttl_s);
    int ex = cli_guard_open(&run->guard, &cfg, key);

    const struct {
        const limiter_setting *ls;
        const char *name;
        rg_limiter **slot;
    } limiters[] = {
        {&js->client, LIMITER_CLIENT, &js->policy.limiter},
        {&js->ipv6_56, LIMITER_IPV6_56, &js->policy.limiter_ipv6_56},
        {&js->ipv6_48, LIMITER_IPV6_48, &js->policy.limiter_ipv6_48},
        {&js->failures, LIMITER_FAILURES, &js->policy.failures},
    };
    for (size_t i = 0; i < sizeof limiters / sizeof limiters[0]; i++) {
        if (ex != CLI_EX_OK)
            break;
        if (!limiters[i].ls->on)
            continue;
        ex = open_limiter(run->store, limiters[i].name, limiters[i].ls,
                          &run->limiters[i]);
        *limiters[i].slot = run->limiters[i];
    }

    if (ex == CLI_EX_OK && model_url) {
        int rc = rg_bayes_open(&run->bayes, model_url, NULL);
        if (rc != RG_OK) {
            run->bayes = NULL;
            ex = cli_report_error(rc, "model", model_url,
                                  "cannot open the model");
        }
        js->policy.bayes = run->bayes;
    }
    return ex;
}

static void judge_close(judge_run *run)
{
    for (size_t i = 0; i < JUDGE_LIMITERS; i++)
        rg_limiter_free(run->limiters[i]);
    rg_bayes_close(run->bayes);
    rg_guard_free(run->guard);
}

static int run_judge(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"store", required_argument, NULL, 'S'},
        {"db", required_argument, NULL, 'd'},
        {"policy", required_argument, NULL, 'p'},
        {"min-solve", required_argument, NULL, 'm'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key = NULL, *store = NULL, *db = NULL, *policy_path = NULL;
    rg_config defaults;
    int c;

    rg_config_init(&defaults);
    uint32_t min_solve = defaults.min_solve_s;
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key = optarg;
            break;
        case 'S':
            store = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'p':
            policy_path = optarg;
            break;
        case 'm':
            if (cli_option_min_solve(self, optarg, &min_solve) != CLI_EX_OK)
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
    const char *path;
    if (cli_file_operand(self, argc, argv, &path) != CLI_EX_OK)
        return CLI_EX_USAGE;
    if (!(key = cli_key_path(self, key)))
        return CLI_EX_USAGE;

    judge_settings js;
    settings_init(&js);
    int ex = policy_path ? read_policy(self, policy_path, &js) : CLI_EX_OK;
    if (ex != CLI_EX_OK)
        return ex;

    /* Unlike classify there is no default model: one that happens to lie
     * in the default place must not start rejecting comments unasked.
     * A memory: model would be empty and score everything unsure: a
     * usage error, reported like the others before any file is opened. */
    const char *model = cli_given_model(db);
    if (model && cli_is_memory_url(model))
        return cli_usage_error(self, "a memory: model would be empty; use "
                                     "--db sqlite:PATH with a trained model");

    /* Then the files in the order verify and classify check them, so
     * that a missing key file is reported before the default store's
     * directories are made for nothing. */
    char *store_url = NULL;
    judge_run run = {0};
    cli_reader r;
    cli_reader_init(&r);
    ex = cli_check_key_file(key);
    if (ex == CLI_EX_OK)
        ex = cli_reader_open(&r, path, NULL);
    if (ex == CLI_EX_OK)
        ex = cli_store_url(store, &store_url);
    if (ex == CLI_EX_OK && model)
        ex = cli_check_model(model);
    if (ex == CLI_EX_OK) {
        run.store = store_url;
        ex = judge_open(&run, &js, key, min_solve, model);
    }

    /* Standard output is flushed before each read that may wait, so that
     * a program can write one submission and read the decision before it
     * writes the next. */
    r.flush_stdout = true;
    uint64_t bad = 0;
    if (ex == CLI_EX_OK)
        ex = judge_loop(&run, &js.policy, &r, &bad);
    if (ex == CLI_EX_OK && bad > 0)
        ex = CLI_EX_DATAERR;
    judge_close(&run);
    cli_reader_close(&r);
    free(store_url);
    return ex;
}

const cli_verb cli_verb_judge = {
    "judge",
    "decide on submitted comments: every layer at once (JSON Lines)",
    "Usage: captcha-check judge --key FILE [--store URL] [--db URL]\n"
    "                           [--policy FILE] [--min-solve SEC] [FILE|-]\n"
    "\n"
    "Judges every submission of FILE (or standard input), one JSON object\n"
    "per line with optional string members body, author, email, url, ip,\n"
    "token, answer, honeypot and binding, and an optional id. Runs the rate\n"
    "limits, the honeypot, the challenge and the content filter, and prints\n"
    "one line of JSON per good input line, in order:\n"
    "{\"id\":...,\"action\":\"reject\",\"reasons\":[\"captcha_wrong\"],\n"
    "\"spamicity\":null,\"retry_after_ms\":0}, with the input's id when it\n"
    "has one; the action is accept, moderate or reject. A bad line (not a\n"
    "submission, or an ip that is not an address) is reported as FILE:LINE\n"
    "on stderr and gets no output line.\n"
    "\n"
    "  --key FILE       the key file (default: $REPLYGUARD_KEY_FILE)\n"
    "  --store URL      where spent tokens and rate limits are kept, as for\n"
    "                   verify (default: $REPLYGUARD_STORE, else sqlite: in\n"
    "                   $XDG_DATA_HOME/replyguard/replay.sqlite)\n"
    "  --db URL         the spam filter's model, sqlite:PATH; it must exist\n"
    "                   (default: $REPLYGUARD_DB, else no content filter)\n"
    "  --policy FILE    a JSON object of actions and limits (see\n"
    "                   docs/captcha-check.md); default: reject every\n"
    "                   finding but unsure and store_unavailable, which\n"
    "                   are moderated, and limit each client to 1 a\n"
    "                   minute with a burst of 4\n"
    "  --min-solve SEC  answers sooner than this after issue are too fast\n"
    "                   (default 5)\n"
    "  -h, --help       show this help\n"
    "  --version        show the version\n"
    "\n"
    "Exits 0 when every line was judged, whatever the actions; 65 when some\n"
    "lines were bad; 64 usage error (a bad policy file too); 66 key file,\n"
    "policy file or FILE missing or unreadable; 74 store, model, read or\n"
    "write error; 70 internal error.\n",
    run_judge,
};

/* ---- limit ---- */

/* Writes the outcome of a take, as text or JSON. */
static void put_limit(const rg_limit_result *res, bool json)
{
    bool never = res->retry_after_ms == UINT64_MAX;

    if (json) {
        printf("{\"allowed\":%s,\"limit\":%" PRIu32 ",\"remaining\":%" PRIu32
               ",\"retry_after_ms\":",
               res->allowed ? "true" : "false", res->limit, res->remaining);
        if (never)
            fputs("null", stdout);
        else
            printf("%" PRIu64, res->retry_after_ms);
        printf(",\"reset_after_ms\":%" PRIu64 "}\n", res->reset_after_ms);
        return;
    }
    printf("%s remaining=%" PRIu32 " retry_after_ms=",
           res->allowed ? "allowed" : "limited", res->remaining);
    if (never)
        fputs("never", stdout);
    else
        printf("%" PRIu64, res->retry_after_ms);
    printf(" reset_after_ms=%" PRIu64 "\n", res->reset_after_ms);
}

static int run_limit(const cli_verb *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 'S'},
        {"rate", required_argument, NULL, 'r'},
        {"burst", required_argument, NULL, 'b'},
        {"cost", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    limiter_setting ls = limiter_defaults();
    const char *store = NULL, *name = "";
    uint32_t cost = 1;
    bool json = false;
    int c;

    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTS, opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            store = optarg;
            break;
        case 'r':
            if (!parse_rate(optarg, &ls.rate_per_s))
                return cli_usage_error(self, "--rate wants %s, not '%s'",
                                       RATE_WANTED, optarg);
            break;
        case 'b':
            if (!cli_parse_u32(optarg, BURST_MAX, &ls.burst))
                return cli_usage_error(self,
                                       "--burst wants a number from 0 to "
                                       "%d, not '%s'",
                                       BURST_MAX, optarg);
            break;
        case 'c':
            if (!cli_parse_u32(optarg, UINT32_MAX, &cost))
                return cli_usage_error(self,
                                       "--cost wants a number from 0 to "
                                       "4294967295, not '%s'",
                                       optarg);
            break;
        case 'n':
            if (strlen(optarg) > LIMITER_NAME_MAX)
                return cli_usage_error(self, "--name wants at most %d bytes",
                                       LIMITER_NAME_MAX);
            name = optarg;
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
    if (argc - optind != 1)
        return cli_usage_error(self, "wants one KEY, got %d arguments",
                               argc - optind);
    const char *key = argv[optind];
    if (!burst_fits(ls.rate_per_s, ls.burst))
        return cli_usage_error(self,
                               "a burst of %" PRIu32 " at this rate would "
                               "take over 100 years to earn back",
                               ls.burst);

    /* A memory: store would forget the take as soon as the command ends,
     * so every run would be allowed. */
    const char *given = cli_given_store(store);
    if (given && cli_is_memory_url(given))
        return cli_usage_error(self,
                               "a memory: store forgets everything when "
                               "captcha-check exits; use --store sqlite:PATH");

    char *url = NULL;
    int ex = cli_store_url(store, &url);
    if (ex != CLI_EX_OK)
        return ex;

    rg_limiter *l = NULL;
    rg_limit_result res;
    ex = open_limiter(url, name, &ls, &l);
    if (ex == CLI_EX_OK) {
        int rc = rg_limiter_take(l, key, strlen(key), cost, &res);
        if (rc != RG_OK)
            ex = cli_report_error(rc, "store", url,
                                  "cannot take from the limit");
    }
    rg_limiter_free(l);
    free(url);
    if (ex != CLI_EX_OK)
        return ex;

    put_limit(&res, json);
    return res.allowed ? CLI_EX_OK : CLI_EX_FAIL;
}

const cli_verb cli_verb_limit = {
    "limit",
    "take from a rate limit: exit 0 when allowed, 1 when limited",
    "Usage: captcha-check limit [--store URL] [--rate N/s|N/m|N/h]\n"
    "                           [--burst B] [--cost C] [--name NAME]\n"
    "                           [--json] [--] KEY\n"
    "\n"
    "Takes C from KEY's allowance in a rate limiter (GCRA) kept in the\n"
    "store, and prints one line: \"allowed remaining=N retry_after_ms=M\n"
    "reset_after_ms=R\", or \"limited ...\" with nothing taken (and\n"
    "retry_after_ms=never when C is above B + 1). A key that has rested\n"
    "may take B + 1 at once, then the rate. KEY is any text, taken byte\n"
    "for byte; every process using the store shares the limits.\n"
    "\n"
    "  --store URL   the store: sqlite:PATH or redis://... (default:\n"
    "                $REPLYGUARD_STORE,\n"
    "                else sqlite: in $XDG_DATA_HOME/replyguard/replay.sqlite\n"
    "                as for verify); memory: is refused\n"
    "  --rate R      the sustained rate: N a second, minute or hour, N a\n"
    "                number above 0 such as 5 or 0.5 (default 1/m)\n"
    "  --burst B     how many more than one a rested key may take at once,\n"
    "                0 to 1000000 (default 4)\n"
    "  --cost C      how much to take, 0 to look without taking (default 1)\n"
    "  --name NAME   the limiter's name: limiters with different names keep\n"
    "                their keys apart in one store (default: empty)\n"
    "  --json        print {\"allowed\",\"limit\",\"remaining\",\n"
    "                \"retry_after_ms\",\"reset_after_ms\"} instead;\n"
    "                retry_after_ms is null when C can never fit\n"
    "  -h, --help    show this help\n"
    "  --version     show the version\n"
    "\n"
    "Use the same rate and burst for a key on every call. Exits 0 when\n"
    "allowed, 1 when limited; 64 usage error; 74 store error; 70 internal\n"
    "error.\n",
    run_limit,
};
