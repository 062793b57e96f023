/*
 * Fuzz target: the form, as HTML and as JSON (lib/form.c, docs/form.md).
 *
 * Input: one byte of flags, one picking a locale and style, then the
 * question, spoken text, token, locale, and the answer, token and honeypot
 * field names (NUL-separated), then eight bytes of expiry. Flag 1 renders
 * a challenge the library issued instead of the one from the input; flags
 * 2, 4 and 8 leave a field name NULL (its default); 16 passes no form
 * configuration at all; 32 leaves the question unterminated.
 *
 * Invariants: rendering fails with RG_EINVAL exactly when a string of the
 * challenge is unterminated or not UTF-8, or a name is empty, longer than
 * RG_FIELD_NAME_MAX, not UTF-8, holds a control character or is used
 * twice (and for JSON when the expiry is past INT64_MAX). The HTML is
 * UTF-8, holds every text escaped, and has exactly the '<', '>' and '"'
 * of its markup, never one from the input; one byte less room is
 * RG_ETOOBIG with an empty output. The JSON parses (jansson) to an object
 * holding exactly the inputs, and never holds "</". A challenge the
 * library issued always fits RG_FORM_MAX, whatever valid names it gets.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "replyguard.h"

static const char *const locales[] = {"en", "ru", "de", "fr", "es"};

/* Copies s into an array, cut to fit (perhaps inside a character). */
static void fill(char *array, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n > size - 1)
        n = size - 1;
    memcpy(array, s, n);
    array[n] = '\0';
}

static bool array_ok(const char *array, size_t size)
{
    size_t n = strnlen(array, size);
    return n < size && fuzz_utf8(array, n);
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RG_FIELD_NAME_MAX || !fuzz_utf8(name, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

/* The HTML escape of s, as form.c promises it: & < > " ' as references. */
static char *escaped(const char *s)
{
    char *out = malloc(6 * strlen(s) + 1), *o = out;
    FUZZ_CHECK(out != NULL, "memory");
    for (; *s; s++) {
        const char *r = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (r) {
            memcpy(o, r, strlen(r));
            o += strlen(r);
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static void count_markup(const char *html, size_t counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    for (; *html; html++) {
        counts[0] += *html == '<';
        counts[1] += *html == '>';
        counts[2] += *html == '"';
    }
}

static void check_html(const rg_challenge *c, const rg_form_config *f,
                       const char *names[3], size_t markup[3])
{
    char out[3 * RG_FORM_MAX];
    int rc = rg_form_html(c, f, out, sizeof out);
    FUZZ_CHECK(rc == RG_OK, "rg_form_html: %s", rg_err_name(rc));
    size_t len = strlen(out);
    FUZZ_CHECK(fuzz_utf8(out, len), "HTML is not UTF-8");

    size_t counts[3];
    count_markup(out, counts);
    FUZZ_CHECK(counts[0] == markup[0] && counts[1] == markup[1] &&
                   counts[2] == markup[2],
               "< > \" counted %zu %zu %zu, markup has %zu %zu %zu: %s",
               counts[0], counts[1], counts[2], markup[0], markup[1], markup[2],
               out);

    const char *texts[] = {c->question, c->spoken, c->token, c->locale,
                           names[0],    names[1],  names[2]};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *e = escaped(texts[i]);
        FUZZ_CHECK(strstr(out, e) != NULL, "'%s' not in the HTML", e);
        free(e);
    }

    /* One byte short: nothing but an empty string. */
    char *tight = malloc(len);
    if (len > 0) {
        FUZZ_CHECK(tight != NULL, "memory");
        rc = rg_form_html(c, f, tight, len);
        FUZZ_CHECK(rc == RG_ETOOBIG && tight[0] == '\0', "%zu bytes: %s", len,
                   rg_err_name(rc));
    }
    free(tight);
}

static bool member_is(json_t *obj, const char *key, const char *value)
{
    json_t *v = json_object_get(obj, key);
    return v && json_is_string(v) && strcmp(json_string_value(v), value) == 0;
}

static void check_json(const rg_challenge *c, const rg_form_config *f,
                       const char *names[3])
{
    char out[3 * RG_FORM_MAX];
    int rc = rg_form_json(c, f, out, sizeof out);
    if (c->expires_at > (uint64_t)INT64_MAX) {
        FUZZ_CHECK(rc == RG_EINVAL, "expiry %llu: %s",
                   (unsigned long long)c->expires_at, rg_err_name(rc));
        return;
    }
    FUZZ_CHECK(rc == RG_OK, "rg_form_json: %s", rg_err_name(rc));
    FUZZ_CHECK(strstr(out, "</") == NULL, "'</' in %s", out);

    json_error_t err;
    json_t *root = json_loads(out, 0, &err);
    FUZZ_CHECK(root && json_is_object(root), "%s: %s", out, err.text);
    json_t *fields = json_object_get(root, "fields");
    json_t *expires = json_object_get(root, "expires_at");
    FUZZ_CHECK(member_is(root, "question", c->question) &&
                   member_is(root, "spoken", c->spoken) &&
                   member_is(root, "token", c->token) &&
                   member_is(root, "locale", c->locale) && expires &&
                   json_is_integer(expires) &&
                   (uint64_t)json_integer_value(expires) == c->expires_at &&
                   json_object_size(root) == 6 && fields &&
                   json_object_size(fields) == 3 &&
                   member_is(fields, "answer", names[0]) &&
                   member_is(fields, "token", names[1]) &&
                   member_is(fields, "honeypot", names[2]),
               "JSON differs from the inputs: %s", out);
    json_decref(root);

    size_t len = strlen(out);
    char *tight = malloc(len);
    if (len > 0) {
        FUZZ_CHECK(tight != NULL, "memory");
        rc = rg_form_json(c, f, tight, len);
        FUZZ_CHECK(rc == RG_ETOOBIG && tight[0] == '\0', "%zu bytes: %s", len,
                   rg_err_name(rc));
    }
    free(tight);
}

/* The '<', '>' and '"' of the markup alone: the fragment of a challenge
 * and names with nothing to escape. */
static void markup_counts(size_t counts[3])
{
    rg_challenge c;
    memset(&c, 0, sizeof c);
    fill(c.question, sizeof c.question, "q");
    fill(c.spoken, sizeof c.spoken, "s");
    fill(c.token, sizeof c.token, "t");
    fill(c.locale, sizeof c.locale, "en");
    char out[RG_FORM_MAX];
    FUZZ_CHECK(rg_form_html(&c, NULL, out, sizeof out) == RG_OK, "markup");
    count_markup(out, counts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_u8(&in), pick = fuzz_u8(&in);
    char *text[7];
    for (int i = 0; i < 7; i++)
        text[i] = fuzz_string(&in);
    uint64_t expires = fuzz_u64(&in);

    rg_challenge c;
    memset(&c, 0, sizeof c);
    rg_guard *g = NULL;
    if (flags & 1) {
        uint64_t now = 1700000000;
        rg_config cfg;
        rg_config_init(&cfg);
        cfg.clock = fuzz_clock;
        cfg.clock_arg = &now;
        cfg.store = "memory:?capacity=16";
        cfg.forms =
            RG_FORM_TWO_TERMS | RG_FORM_THREE_TERMS | RG_FORM_MISSING_TERM;
        uint8_t key[RG_KEY_BYTES] = {0};
        FUZZ_CHECK(rg_guard_new(&g, &cfg) == RG_OK &&
                       rg_guard_add_key(g, 1, key, 1) == RG_OK,
                   "guard");
        FUZZ_CHECK(rg_challenge_issue_in(g, text[0], locales[pick % 5],
                                         (rg_style)(pick / 5 % 3), &c) == RG_OK,
                   "issue");
    } else {
        fill(c.question, sizeof c.question, text[0]);
        fill(c.spoken, sizeof c.spoken, text[1]);
        fill(c.token, sizeof c.token, text[2]);
        fill(c.locale, sizeof c.locale, text[3]);
        c.expires_at = expires;
        if (flags & 32)
            memset(c.question, 'x', sizeof c.question);
    }

    rg_form_config f;
    rg_form_config_init(&f);
    const char *names[3] = {"rg_answer", "rg_token", "rg_note"};
    const char **fields[3] = {&f.answer_field, &f.token_field,
                              &f.honeypot_field};
    for (int i = 0; i < 3; i++) {
        if (flags & (2 << i)) {
            *fields[i] = NULL;
        } else if (!(flags & 16)) {
            *fields[i] = text[4 + i];
            names[i] = text[4 + i];
        }
    }
    const rg_form_config *fp = flags & 16 ? NULL : &f;

    bool valid = array_ok(c.question, sizeof c.question) &&
                 array_ok(c.spoken, sizeof c.spoken) &&
                 array_ok(c.token, sizeof c.token) &&
                 array_ok(c.locale, sizeof c.locale) && name_ok(names[0]) &&
                 name_ok(names[1]) && name_ok(names[2]) &&
                 strcmp(names[0], names[1]) != 0 &&
                 strcmp(names[0], names[2]) != 0 &&
                 strcmp(names[1], names[2]) != 0;

    if (!valid) {
        char out[RG_FORM_MAX];
        FUZZ_CHECK(rg_form_html(&c, fp, out, sizeof out) == RG_EINVAL &&
                       out[0] == '\0',
                   "invalid input rendered as HTML");
        FUZZ_CHECK(rg_form_json(&c, fp, out, sizeof out) == RG_EINVAL &&
                       out[0] == '\0',
                   "invalid input rendered as JSON");
    } else {
        size_t markup[3];
        markup_counts(markup);
        check_html(&c, fp, names, markup);
        check_json(&c, fp, names);
        if (g) {
            /* RG_FORM_MAX always fits what the library issued. */
            char out[RG_FORM_MAX];
            int rc = rg_form_html(&c, fp, out, sizeof out);
            FUZZ_CHECK(rc == RG_OK, "RG_FORM_MAX: %s", rg_err_name(rc));
            rc = rg_form_json(&c, fp, out, sizeof out);
            FUZZ_CHECK(rc == RG_OK, "RG_FORM_MAX (JSON): %s", rg_err_name(rc));
        }
    }

    rg_guard_free(g);
    for (int i = 0; i < 7; i++)
        free(text[i]);
    return 0;
}
