/*
 * The form (docs/form.md): the HTML fragment and the JSON object of a
 * challenge, with real challenges from a guard and hand-made, hostile ones;
 * field names and their errors; buffers of every size too small; and the
 * largest output, which must fit in RG_FORM_MAX.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "replyguard.h"

Suite *form_suite(void);

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A challenge from a guard made with the defaults and the fixed test key. */
static rg_challenge issued_challenge(const char *locale, rg_style style)
{
    rg_guard *g = NULL;
    rg_challenge c;

    ck_assert_int_eq(rg_guard_new(&g, NULL), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 7, rg_test_key, 1), RG_OK);
    if (locale)
        ck_assert_int_eq(
            rg_challenge_issue_in(g, "post-42|comments", locale, style, &c),
            RG_OK);
    else
        ck_assert_int_eq(rg_challenge_issue(g, "post-42|comments", &c), RG_OK);
    rg_guard_free(g);
    return c;
}

/* A challenge with the given strings, which must fit their arrays. */
static rg_challenge made_challenge(const char *question, const char *token,
                                   const char *spoken, const char *locale)
{
    rg_challenge c;

    memset(&c, 0, sizeof c);
    ck_assert_uint_lt(strlen(question), sizeof c.question);
    ck_assert_uint_lt(strlen(token), sizeof c.token);
    ck_assert_uint_lt(strlen(spoken), sizeof c.spoken);
    ck_assert_uint_lt(strlen(locale), sizeof c.locale);
    strncpy(c.question, question, sizeof c.question - 1);
    strncpy(c.token, token, sizeof c.token - 1);
    strncpy(c.spoken, spoken, sizeof c.spoken - 1);
    strncpy(c.locale, locale, sizeof c.locale - 1);
    c.issued_at = 1700000000;
    c.expires_at = 1700001200;
    return c;
}

static rg_form_config names_config(const char *answer, const char *token,
                                   const char *honeypot)
{
    rg_form_config f;

    rg_form_config_init(&f);
    f.answer_field = answer;
    f.token_field = token;
    f.honeypot_field = honeypot;
    return f;
}

/* The text between the first `open` and the next `close`, into out. */
static void text_between(const char *s, const char *open, const char *close,
                         char *out, size_t size)
{
    const char *start = strstr(s, open);
    ck_assert_msg(start != NULL, "no %s in %s", open, s);
    start += strlen(open);
    const char *end = strstr(start, close);
    ck_assert_msg(end != NULL, "no %s after %s in %s", close, open, s);
    size_t n = (size_t)(end - start);
    ck_assert_uint_lt(n, size);
    memcpy(out, start, n);
    out[n] = '\0';
}

/* Undoes the escaping of the five characters, so an escaped text can be
 * compared with what it came from. */
static void html_unescape(const char *in, char *out, size_t size)
{
    static const struct {
        const char *entity;
        char c;
    } entities[] = {{"&amp;", '&'},
                    {"&lt;", '<'},
                    {"&gt;", '>'},
                    {"&quot;", '"'},
                    {"&#39;", '\''}};
    size_t n = 0;

    while (*in) {
        ck_assert_uint_lt(n + 1, size);
        int e = 0;
        while (e < COUNT(entities) &&
               strncmp(in, entities[e].entity, strlen(entities[e].entity)))
            e++;
        if (e < COUNT(entities)) {
            out[n++] = entities[e].c;
            in += strlen(entities[e].entity);
        } else {
            ck_assert_msg(*in != '&', "an unknown entity in %s", in);
            out[n++] = *in++;
        }
    }
    out[n] = '\0';
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static size_t count_string(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/*
 * Walks every tag of the fragment and checks each attribute is one the
 * fragment is meant to have: none may be a style or an event handler, which
 * a strict Content-Security-Policy would block, and every value is quoted.
 */
static void check_attributes(const char *html)
{
    static const char *const allowed[] = {
        "class", "lang",      "for",          "type",     "id",
        "name",  "inputmode", "autocomplete", "required", "maxlength",
        "value", "hidden",    "aria-hidden",  "tabindex", "aria-label"};

    for (const char *p = strchr(html, '<'); p; p = strchr(p, '<')) {
        p++;
        if (*p == '/')
            continue;
        p += strcspn(p, " >"); /* the tag's name */
        while (*p == ' ') {
            p++;
            size_t len = strcspn(p, "= >");
            bool known = false;
            for (int i = 0; i < COUNT(allowed); i++)
                known |= strlen(allowed[i]) == len &&
                         strncmp(allowed[i], p, len) == 0;
            ck_assert_msg(known, "unexpected attribute at %.20s", p);
            p += len;
            if (*p == '=') {
                ck_assert_msg(p[1] == '"', "unquoted value at %.20s", p);
                p = strchr(p + 2, '"');
                ck_assert_ptr_nonnull(p);
                p++;
            }
        }
        ck_assert_msg(*p == '>', "tag not closed at %.20s", p);
    }
}

START_TEST(config_defaults)
{
    rg_form_config f;

    memset(&f, 0xa5, sizeof f);
    rg_form_config_init(&f);
    ck_assert_uint_eq(f.size, sizeof f);
    ck_assert_str_eq(f.answer_field, "rg_answer");
    ck_assert_str_eq(f.token_field, "rg_token");
    ck_assert_str_eq(f.honeypot_field, "rg_note");
    rg_form_config_init(NULL); /* does nothing */
}
END_TEST

/* The whole fragment, byte for byte, for a known challenge. */
START_TEST(html_exact)
{
    rg_challenge c = made_challenge("nine + ten =", "AAAA-bbbb_1234",
                                    "nine plus ten equals", "en");
    char out[RG_FORM_MAX];

    ck_assert_int_eq(rg_form_html(&c, NULL, out, sizeof out), RG_OK);
    ck_assert_str_eq(
        out,
        "<div class=\"rg-challenge\" lang=\"en\">\n"
        "<label for=\"rg_answer\">nine + ten =</label>\n"
        "<input type=\"text\" id=\"rg_answer\" name=\"rg_answer\" "
        "aria-label=\"nine plus ten equals\" "
        "inputmode=\"numeric\" autocomplete=\"off\" required "
        "maxlength=\"64\">\n"
        "<input type=\"hidden\" name=\"rg_token\" value=\"AAAA-bbbb_1234\">\n"
        "<div class=\"rg-hp\" hidden aria-hidden=\"true\">"
        "<label for=\"rg_note\">Leave this field empty</label>"
        "<input type=\"text\" id=\"rg_note\" name=\"rg_note\" value=\"\" "
        "tabindex=\"-1\" autocomplete=\"off\"></div>\n"
        "</div>");
}
END_TEST

/* A real challenge, read back with string checks as a browser test would. */
START_TEST(html_issued_structure)
{
    rg_challenge c = issued_challenge(NULL, RG_STYLE_WORDS);
    char out[RG_FORM_MAX], text[RG_FORM_MAX];

    ck_assert_int_eq(rg_form_html(&c, NULL, out, sizeof out), RG_OK);
    ck_assert_msg(
        strncmp(out, "<div class=\"rg-challenge\" lang=\"en\">", 36) == 0, "%s",
        out);
    ck_assert_str_eq(out + strlen(out) - 6, "</div>");

    text_between(out, "<label for=\"rg_answer\">", "</label>", text,
                 sizeof text);
    ck_assert_str_eq(text, c.question);

    text_between(out, "<input type=\"text\" id=\"rg_answer\"", ">", text,
                 sizeof text);
    ck_assert_ptr_nonnull(strstr(text, " name=\"rg_answer\""));
    ck_assert_ptr_nonnull(strstr(text, " inputmode=\"numeric\""));
    ck_assert_ptr_nonnull(strstr(text, " autocomplete=\"off\""));
    ck_assert_ptr_nonnull(strstr(text, " required"));
    ck_assert_ptr_nonnull(strstr(text, " maxlength=\"64\""));

    text_between(out, "<input type=\"hidden\" name=\"rg_token\" value=\"",
                 "\">", text, sizeof text);
    ck_assert_str_eq(text, c.token);

    text_between(out, "<div class=\"rg-hp\"", "</div>", text, sizeof text);
    ck_assert_ptr_nonnull(strstr(text, " hidden "));
    ck_assert_ptr_nonnull(strstr(text, " aria-hidden=\"true\""));
    ck_assert_ptr_nonnull(strstr(text, "<label for=\"rg_note\">"));
    ck_assert_ptr_nonnull(strstr(text, " id=\"rg_note\""));
    ck_assert_ptr_nonnull(strstr(text, " name=\"rg_note\""));
    ck_assert_ptr_nonnull(strstr(text, " value=\"\""));
    ck_assert_ptr_nonnull(strstr(text, " tabindex=\"-1\""));
    ck_assert_ptr_nonnull(strstr(text, " autocomplete=\"off\""));

    ck_assert_uint_eq(count_string(out, "<div"), 2);
    ck_assert_uint_eq(count_string(out, "</div>"), 2);
    ck_assert_uint_eq(count_string(out, "<label"), 2);
    ck_assert_uint_eq(count_string(out, "</label>"), 2);
    ck_assert_uint_eq(count_string(out, "<input"), 3);
    ck_assert_ptr_null(strstr(out, "<script"));
    ck_assert_ptr_null(strstr(out, "style="));
    check_attributes(out);
}
END_TEST

/*
 * Hostile strings in every place: nothing of them may open or close markup.
 * The five characters then appear exactly as often as in a harmless
 * fragment, that is only as the markup's own, and the escaped texts read
 * back as what was passed in.
 */
START_TEST(html_hostile_escaped)
{
    static const char question[] = "<script>alert(\"x & y\")</script>'",
                      token[] = "\"><script>'&amp;",
                      spoken[] = "<b onclick=\"x\">", locale[] = "\"<'&>";
    rg_challenge plain = made_challenge("q", "t", "s", "en");
    rg_challenge c = made_challenge(question, token, spoken, locale);
    rg_form_config f =
        names_config("a\"<b>", "t'&amp;x", "<img src=x onerror=alert(1)>");
    char expected[RG_FORM_MAX], out[RG_FORM_MAX], text[RG_FORM_MAX],
        raw[RG_FORM_MAX];

    ck_assert_int_eq(rg_form_html(&plain, NULL, expected, sizeof expected),
                     RG_OK);
    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_OK);
    ck_assert_ptr_null(strstr(out, "<script"));
    ck_assert_ptr_null(strstr(out, "<img"));
    ck_assert_ptr_null(strstr(out, "<b "));
    ck_assert_uint_eq(count_char(out, '<'), count_char(expected, '<'));
    ck_assert_uint_eq(count_char(out, '>'), count_char(expected, '>'));
    ck_assert_uint_eq(count_char(out, '"'), count_char(expected, '"'));
    ck_assert_uint_eq(count_char(out, '\''), 0);
    check_attributes(out);

    text_between(out, "<label for=\"a&quot;&lt;b&gt;\">", "</label>", text,
                 sizeof text);
    ck_assert_str_eq(text, "&lt;script&gt;alert(&quot;x &amp; y&quot;)"
                           "&lt;/script&gt;&#39;");
    html_unescape(text, raw, sizeof raw);
    ck_assert_str_eq(raw, question);

    text_between(out, " lang=\"", "\"", text, sizeof text);
    html_unescape(text, raw, sizeof raw);
    ck_assert_str_eq(raw, locale);

    text_between(out, "<input type=\"hidden\" name=\"", "\"", text,
                 sizeof text);
    ck_assert_str_eq(text, "t&#39;&amp;amp;x");
    text_between(out, "\" value=\"", "\"", text, sizeof text);
    html_unescape(text, raw, sizeof raw);
    ck_assert_str_eq(raw, token);

    ck_assert_uint_eq(count_string(out, "\"a&quot;&lt;b&gt;\""), 3);
    ck_assert_uint_eq(
        count_string(out, "\"&lt;img src=x onerror=alert(1)&gt;\""), 3);
}
END_TEST

/* Names of every other kind are fine, and used as they are. */
START_TEST(names_renamed)
{
    rg_challenge c = issued_challenge("ru", RG_STYLE_DIGITS);
    rg_form_config f = names_config("ответ", "t", "comment_extra");
    char out[RG_FORM_MAX], text[RG_FORM_MAX], name64[RG_FIELD_NAME_MAX + 1];

    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_OK);
    text_between(out, "<label for=\"ответ\">", "</label>", text, sizeof text);
    ck_assert_str_eq(text, c.question);
    ck_assert_ptr_nonnull(strstr(out, "<input type=\"hidden\" name=\"t\""));
    ck_assert_ptr_nonnull(strstr(out, " name=\"comment_extra\""));
    ck_assert_ptr_null(strstr(out, "\"rg_answer\""));
    ck_assert_ptr_null(strstr(out, "\"rg_token\""));
    ck_assert_ptr_null(strstr(out, "\"rg_note\""));

    /* A NULL name keeps its default. */
    f = names_config(NULL, NULL, "hp");
    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_OK);
    ck_assert_ptr_nonnull(strstr(out, "<label for=\"rg_answer\">"));
    ck_assert_ptr_nonnull(strstr(out, " name=\"rg_token\""));
    ck_assert_ptr_nonnull(strstr(out, " name=\"hp\""));

    /* RG_FIELD_NAME_MAX bytes is the longest name. */
    memset(name64, 'n', RG_FIELD_NAME_MAX);
    name64[RG_FIELD_NAME_MAX] = '\0';
    f = names_config(name64, "t", "h");
    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_OK);
    ck_assert_int_eq(rg_form_json(&c, &f, out, sizeof out), RG_OK);
}
END_TEST

static const struct {
    const char *answer, *token, *honeypot;
} bad_names[] = {
    {"", "rg_token", "rg_note"},
    {"rg_answer", "", "rg_note"},
    {"rg_answer", "rg_token", ""},
    {"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "t",
     "h"}, /* 65 bytes */
    {"a", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
     "h"},
    {"a", "t", "ннннннннннннннннннннннннннннннннн"}, /* 66 bytes, 33 letters */
    {"\xff", "t", "h"},
    {"a", "t\xc0\xaf", "h"},     /* overlong '/' */
    {"a", "t", "h\xe2\x82"},     /* truncated sequence */
    {"a\xed\xa0\x80", "t", "h"}, /* surrogate */
    {"a\x01", "t", "h"},         /* control characters */
    {"a", "t\n", "h"},
    {"a", "t", "h\x7f"},
    {"same", "same", "h"},
    {"same", "t", "same"},
    {"a", "same", "same"},
    {"rg_note", "rg_token", NULL}, /* the honeypot's default */
};

START_TEST(names_invalid)
{
    rg_challenge c = issued_challenge(NULL, RG_STYLE_WORDS);
    rg_form_config f = names_config(bad_names[_i].answer, bad_names[_i].token,
                                    bad_names[_i].honeypot);
    char out[RG_FORM_MAX];

    memset(out, 'x', sizeof out);
    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_EINVAL);
    ck_assert_int_eq(out[0], '\0');
    memset(out, 'x', sizeof out);
    ck_assert_int_eq(rg_form_json(&c, &f, out, sizeof out), RG_EINVAL);
    ck_assert_int_eq(out[0], '\0');
}
END_TEST

/*
 * A name without a NUL, in a heap block of RG_FIELD_NAME_MAX + 1 bytes:
 * refused, and AddressSanitizer sees any read beyond the block.
 */
START_TEST(names_read_no_further)
{
    rg_challenge c = issued_challenge(NULL, RG_STYLE_WORDS);
    char *name = malloc(RG_FIELD_NAME_MAX + 1);
    char out[RG_FORM_MAX];

    ck_assert_ptr_nonnull(name);
    memset(name, 'n', RG_FIELD_NAME_MAX + 1);
    rg_form_config f = names_config("a", "t", name);
    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_EINVAL);
    ck_assert_int_eq(rg_form_json(&c, &f, out, sizeof out), RG_EINVAL);
    free(name);
}
END_TEST

typedef int (*render_fn)(const rg_challenge *, const rg_form_config *, char *,
                         size_t);
static const render_fn renderers[] = {rg_form_html, rg_form_json};

START_TEST(null_arguments)
{
    render_fn render = renderers[_i];
    rg_challenge c = issued_challenge(NULL, RG_STYLE_WORDS);
    char out[RG_FORM_MAX];

    memset(out, 'x', sizeof out);
    ck_assert_int_eq(render(NULL, NULL, out, sizeof out), RG_EINVAL);
    ck_assert_int_eq(out[0], '\0');
    ck_assert_int_eq(render(&c, NULL, NULL, sizeof out), RG_EINVAL);
    ck_assert_int_eq(render(&c, NULL, NULL, 0), RG_EINVAL);
    ck_assert_int_eq(render(NULL, NULL, NULL, 0), RG_EINVAL);
    memset(out, 'x', sizeof out);
    ck_assert_int_eq(render(&c, NULL, out, 0), RG_ETOOBIG);
    ck_assert_int_eq(out[0], 'x');
    ck_assert_int_eq(render(&c, NULL, out, sizeof out), RG_OK);
}
END_TEST

/*
 * The size field: a struct smaller than the three names is refused, and
 * only its own bytes are read (each is a heap block of exactly that size,
 * for AddressSanitizer). A larger one, from a newer header, is fine.
 */
START_TEST(config_size)
{
    render_fn render = renderers[_i];
    rg_challenge c = issued_challenge(NULL, RG_STYLE_WORDS);
    char out[RG_FORM_MAX];
    static const size_t small[] = {0, sizeof(size_t),
                                   offsetof(rg_form_config, honeypot_field),
                                   sizeof(rg_form_config) - 1};

    for (int i = 0; i < COUNT(small); i++) {
        size_t block = small[i] < sizeof(size_t) ? sizeof(size_t) : small[i];
        rg_form_config *f = malloc(block);
        ck_assert_ptr_nonnull(f);
        memset(f, 0, block);
        f->size = small[i];
        ck_assert_int_eq(render(&c, f, out, sizeof out), RG_EINVAL);
        free(f);
    }

    struct newer {
        rg_form_config f;
        const char *later_field;
    } newer = {.later_field = "x"};
    newer.f = names_config("a", "t", "h");
    newer.f.size = sizeof newer;
    ck_assert_int_eq(render(&c, &newer.f, out, sizeof out), RG_OK);
    ck_assert_ptr_nonnull(strstr(out, "\"a\""));
}
END_TEST

/*
 * A challenge the caller corrupted: each string in turn fills its whole
 * array with no NUL, or holds bytes that are not UTF-8. Refused, whatever
 * the other strings are, and by both calls.
 */
START_TEST(challenge_invalid)
{
    render_fn render = renderers[_i % 2];
    int field = _i / 2 % 4;
    bool unterminated = _i / 8 == 0;
    rg_challenge *c = malloc(sizeof *c);
    char out[RG_FORM_MAX];

    ck_assert_ptr_nonnull(c);
    *c = made_challenge("nine + ten =", "AAAA", "nine plus ten equals", "en");
    char *arrays[] = {c->question, c->token, c->spoken, c->locale};
    size_t sizes[] = {sizeof c->question, sizeof c->token, sizeof c->spoken,
                      sizeof c->locale};
    if (unterminated)
        memset(arrays[field], 'a', sizes[field]);
    else
        memcpy(arrays[field], "a\xff", 3);
    memset(out, 'x', sizeof out);
    ck_assert_int_eq(render(c, NULL, out, sizeof out), RG_EINVAL);
    ck_assert_int_eq(out[0], '\0');

    /* One byte shorter, each string is fine again. */
    if (unterminated) {
        arrays[field][sizes[field] - 1] = '\0';
        ck_assert_int_eq(render(c, NULL, out, sizeof out), RG_OK);
    }
    free(c);
}
END_TEST

/* The first byte of buf[from, to) that is not the canary, or `to`. */
static size_t canary_broken_at(const char *buf, size_t from, size_t to)
{
    size_t i = from;
    while (i < to && (unsigned char)buf[i] == 0xa5)
        i++;
    return i;
}

/*
 * Every buffer size from 0 to the one needed. Too small: RG_ETOOBIG, an
 * empty string when there is room for one, and nothing else written. The
 * buffer is a heap block of exactly out_size bytes (AddressSanitizer sees a
 * write past it), and then the start of a larger one filled with a canary.
 */
static void check_every_size(render_fn render, const rg_challenge *c,
                             const rg_form_config *f)
{
    char full[RG_FORM_MAX];
    ck_assert_int_eq(render(c, f, full, sizeof full), RG_OK);
    size_t need = strlen(full) + 1;

    for (size_t size = 0; size <= need; size++) {
        char *exact = malloc(size ? size : 1);
        char canary[RG_FORM_MAX + 16];
        ck_assert_ptr_nonnull(exact);
        memset(exact, 0xa5, size ? size : 1);
        memset(canary, 0xa5, sizeof canary);

        int expected = size < need ? RG_ETOOBIG : RG_OK;
        ck_assert_int_eq(render(c, f, exact, size), expected);
        ck_assert_int_eq(render(c, f, canary, size), expected);
        if (expected == RG_OK) {
            ck_assert_str_eq(exact, full);
            ck_assert_str_eq(canary, full);
        } else if (size > 0) {
            ck_assert_int_eq(exact[0], '\0');
            ck_assert_int_eq(canary[0], '\0');
            ck_assert_uint_eq(canary_broken_at(canary, 1, size), size);
        }
        ck_assert_msg(canary_broken_at(canary, size, sizeof canary) ==
                          sizeof canary,
                      "written past out_size %zu", size);
        free(exact);
    }
}

START_TEST(small_buffers)
{
    render_fn render = renderers[_i];
    rg_challenge issued = issued_challenge("fr", RG_STYLE_MIXED);
    rg_challenge hostile =
        made_challenge("<q> & \"q\" 'q'", "<t>", "<s> \x01", "<'>");
    rg_form_config f = names_config("<a>", "\"t\"", "'h'");

    check_every_size(render, &issued, NULL);
    check_every_size(render, &hostile, &f);
}
END_TEST

/* Names of RG_FIELD_NAME_MAX bytes that cost the most to escape: three
 * different ones, so the last byte differs. */
static void costly_names(char names[3][RG_FIELD_NAME_MAX + 1], char fill,
                         const char last[3])
{
    for (int i = 0; i < 3; i++) {
        memset(names[i], fill, RG_FIELD_NAME_MAX);
        names[i][RG_FIELD_NAME_MAX - 1] = last[i];
        names[i][RG_FIELD_NAME_MAX] = '\0';
    }
}

/*
 * The largest output of a challenge the library can issue: the longest
 * strings the arrays hold, of characters that need no escaping (the
 * library's questions and tokens have none), in each locale, with the
 * costliest names to escape: '"' for HTML (six bytes), '\\' for JSON (two
 * bytes; control characters, which cost six, are no name). Both must fit in
 * RG_FORM_MAX.
 */
START_TEST(largest_output_fits)
{
    static const char *const locales[] = {"en", "ru", "de",
                                          "fr", "es", "zz-long"};
    char question[RG_QUESTION_MAX], token[RG_TOKEN_MAX];
    char names[3][RG_FIELD_NAME_MAX + 1], out[RG_FORM_MAX];

    memset(question, 'q', sizeof question - 1);
    question[sizeof question - 1] = '\0';
    memset(token, 'T', sizeof token - 1);
    token[sizeof token - 1] = '\0';

    for (int i = 0; i < COUNT(locales); i++) {
        rg_challenge c = made_challenge(question, token, question, locales[i]);
        c.expires_at = INT64_MAX;

        costly_names(names, '"', "\"'&");
        rg_form_config f = names_config(names[0], names[1], names[2]);
        ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_OK);

        costly_names(names, '\\', "\\\"/");
        f = names_config(names[0], names[1], names[2]);
        ck_assert_int_eq(rg_form_json(&c, &f, out, sizeof out), RG_OK);
    }
}
END_TEST

/*
 * Real challenges of every locale, style and shape, with numbers up to
 * 999, the longest the library writes, and the costliest names: all fit.
 */
START_TEST(issued_challenges_fit)
{
    static const char *const locales[] = {"en", "ru", "de", "fr", "es"};
    rg_config cfg;
    rg_guard *g = NULL;
    char names[3][RG_FIELD_NAME_MAX + 1], json_names[3][RG_FIELD_NAME_MAX + 1];
    char out[RG_FORM_MAX];

    rg_config_init(&cfg);
    cfg.operand_max = 999;
    cfg.product_max = 999;
    cfg.forms = RG_FORM_TWO_TERMS | RG_FORM_THREE_TERMS | RG_FORM_MISSING_TERM;
    ck_assert_int_eq(rg_guard_new(&g, &cfg), RG_OK);
    ck_assert_int_eq(rg_guard_add_key(g, 1, rg_test_key, 1), RG_OK);
    costly_names(names, '"', "\"'&");
    costly_names(json_names, '\\', "\\\"/");
    rg_form_config f = names_config(names[0], names[1], names[2]);
    rg_form_config jf =
        names_config(json_names[0], json_names[1], json_names[2]);

    for (int l = 0; l < COUNT(locales); l++) {
        for (int style = RG_STYLE_WORDS; style <= RG_STYLE_MIXED; style++) {
            for (int n = 0; n < 200; n++) {
                rg_challenge c;
                ck_assert_int_eq(rg_challenge_issue_in(g, "b", locales[l],
                                                       (rg_style)style, &c),
                                 RG_OK);
                ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_OK);
                ck_assert_int_eq(rg_form_json(&c, &jf, out, sizeof out), RG_OK);
            }
        }
    }
    rg_guard_free(g);
}
END_TEST

/*
 * A hand-made challenge full of characters to escape may not fit: that is
 * RG_ETOOBIG, and a larger buffer takes it.
 */
START_TEST(hostile_output_may_not_fit)
{
    char question[RG_QUESTION_MAX], token[RG_TOKEN_MAX];
    char names[3][RG_FIELD_NAME_MAX + 1];
    char *big = malloc(2 * RG_FORM_MAX);
    char out[RG_FORM_MAX];

    ck_assert_ptr_nonnull(big);
    memset(question, '"', sizeof question - 1);
    question[sizeof question - 1] = '\0';
    memset(token, '"', sizeof token - 1);
    token[sizeof token - 1] = '\0';
    rg_challenge c = made_challenge(question, token, question, "\"\"\"");
    costly_names(names, '"', "\"'&");
    rg_form_config f = names_config(names[0], names[1], names[2]);

    ck_assert_int_eq(rg_form_html(&c, &f, out, sizeof out), RG_ETOOBIG);
    ck_assert_int_eq(out[0], '\0');
    ck_assert_int_eq(rg_form_html(&c, &f, big, 2 * RG_FORM_MAX), RG_OK);
    ck_assert_uint_gt(strlen(big), RG_FORM_MAX);
    free(big);
}
END_TEST

/* The honeypot's label speaks the challenge's language; lang says which. */
static const struct {
    const char *locale, *label;
} locale_labels[] = {
    {"en", "Leave this field empty"},  {"ru", "Оставьте это поле пустым"},
    {"de", "Dieses Feld leer lassen"}, {"fr", "Laissez ce champ vide"},
    {"es", "Deje este campo vacío"},   {"pt", "Leave this field empty"},
    {"EN", "Leave this field empty"},  {"", "Leave this field empty"},
};

START_TEST(honeypot_label_locale)
{
    const char *locale = locale_labels[_i].locale;
    rg_challenge c;
    char out[RG_FORM_MAX], text[RG_FORM_MAX], lang[64];

    if (_i < 5)
        c = issued_challenge(locale, RG_STYLE_WORDS);
    else
        c = made_challenge("1 + 1 =", "AAAA", "one plus one equals", locale);
    ck_assert_str_eq(c.locale, locale);
    ck_assert_int_eq(rg_form_html(&c, NULL, out, sizeof out), RG_OK);
    snprintf(lang, sizeof lang, "<div class=\"rg-challenge\" lang=\"%s\">",
             locale);
    ck_assert_msg(strncmp(out, lang, strlen(lang)) == 0, "%s", out);
    text_between(out, "<label for=\"rg_note\">", "</label>", text, sizeof text);
    ck_assert_str_eq(text, locale_labels[_i].label);
    text_between(out, "<label for=\"rg_answer\">", "</label>", text,
                 sizeof text);
    ck_assert_str_eq(text, c.question);
}
END_TEST

/* The whole object, byte for byte, for a known challenge: compact, keys in
 * the documented order. */
START_TEST(json_exact)
{
    rg_challenge c = made_challenge("nine + ten =", "AAAA-bbbb_1234",
                                    "nine plus ten equals", "en");
    char out[RG_FORM_MAX];

    ck_assert_int_eq(rg_form_json(&c, NULL, out, sizeof out), RG_OK);
    ck_assert_str_eq(out, "{\"question\":\"nine + ten =\","
                          "\"spoken\":\"nine plus ten equals\","
                          "\"token\":\"AAAA-bbbb_1234\",\"locale\":\"en\","
                          "\"expires_at\":1700001200,"
                          "\"fields\":{\"answer\":\"rg_answer\","
                          "\"token\":\"rg_token\",\"honeypot\":\"rg_note\"}}");
}
END_TEST

/* Parses out with jansson and checks every member against c and names. */
static void check_json(const char *out, const rg_challenge *c,
                       const char *answer, const char *token,
                       const char *honeypot)
{
    json_error_t error;
    json_t *root = json_loads(out, JSON_REJECT_DUPLICATES, &error);
    ck_assert_msg(root != NULL, "%s: %s", error.text, out);
    const char *question, *spoken, *token_value, *locale, *answer_field,
        *token_field, *honeypot_field;
    json_int_t expires_at;
    int rc = json_unpack_ex(root, &error, JSON_STRICT,
                            "{s:s, s:s, s:s, s:s, s:I, s:{s:s, s:s, s:s}}",
                            "question", &question, "spoken", &spoken, "token",
                            &token_value, "locale", &locale, "expires_at",
                            &expires_at, "fields", "answer", &answer_field,
                            "token", &token_field, "honeypot", &honeypot_field);
    ck_assert_msg(rc == 0, "%s: %s", error.text, out);
    ck_assert_str_eq(question, c->question);
    ck_assert_str_eq(spoken, c->spoken);
    ck_assert_str_eq(token_value, c->token);
    ck_assert_str_eq(locale, c->locale);
    ck_assert_uint_eq((uint64_t)expires_at, c->expires_at);
    ck_assert_str_eq(answer_field, answer);
    ck_assert_str_eq(token_field, token);
    ck_assert_str_eq(honeypot_field, honeypot);
    json_decref(root);
}

START_TEST(json_issued_round_trip)
{
    rg_challenge c = issued_challenge("ru", RG_STYLE_WORDS);
    rg_form_config f = names_config("ответ", "t", "h");
    char out[RG_FORM_MAX];

    ck_assert_int_eq(rg_form_json(&c, NULL, out, sizeof out), RG_OK);
    check_json(out, &c, "rg_answer", "rg_token", "rg_note");
    ck_assert_int_eq(rg_form_json(&c, &f, out, sizeof out), RG_OK);
    check_json(out, &c, "ответ", "t", "h");
}
END_TEST

/* Quotes, backslashes, control characters and "</script>" in every string
 * read back the same, and no "</" appears raw. */
START_TEST(json_hostile_round_trip)
{
    rg_challenge c =
        made_challenge("</script><script>alert(\"x\\y\")</script>'&",
                       "\"}\n{\"token\":\"", "\x01\x1f\x7f \\u0000", "\"\\/");
    rg_form_config f = names_config("a\"b", "\\", "</h>");
    char out[RG_FORM_MAX];

    c.expires_at = INT64_MAX;
    ck_assert_int_eq(rg_form_json(&c, &f, out, sizeof out), RG_OK);
    ck_assert_ptr_null(strstr(out, "</"));
    ck_assert_ptr_null(strchr(out, '\n'));
    check_json(out, &c, "a\"b", "\\", "</h>");
}
END_TEST

/* JSON integers are signed 64 bits: an expiry past that is no guard's. */
START_TEST(json_expiry_out_of_range)
{
    rg_challenge c = issued_challenge(NULL, RG_STYLE_WORDS);
    char out[RG_FORM_MAX];

    c.expires_at = (uint64_t)INT64_MAX + 1;
    memset(out, 'x', sizeof out);
    ck_assert_int_eq(rg_form_json(&c, NULL, out, sizeof out), RG_EINVAL);
    ck_assert_int_eq(out[0], '\0');
    c.expires_at = UINT64_MAX;
    ck_assert_int_eq(rg_form_json(&c, NULL, out, sizeof out), RG_EINVAL);
    /* The HTML has no expiry in it, so it does not care. */
    ck_assert_int_eq(rg_form_html(&c, NULL, out, sizeof out), RG_OK);
}
END_TEST

Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc;

    tc = tcase_create("html");
    tcase_add_test(tc, config_defaults);
    tcase_add_test(tc, html_exact);
    tcase_add_test(tc, html_issued_structure);
    tcase_add_test(tc, html_hostile_escaped);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_test(tc, names_renamed);
    tcase_add_loop_test(tc, names_invalid, 0, COUNT(bad_names));
    tcase_add_test(tc, names_read_no_further);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, null_arguments, 0, COUNT(renderers));
    tcase_add_loop_test(tc, config_size, 0, COUNT(renderers));
    tcase_add_loop_test(tc, challenge_invalid, 0, 16);
    tcase_add_loop_test(tc, small_buffers, 0, COUNT(renderers));
    suite_add_tcase(s, tc);

    tc = tcase_create("size");
    tcase_add_test(tc, largest_output_fits);
    tcase_add_test(tc, issued_challenges_fit);
    tcase_add_test(tc, hostile_output_may_not_fit);
    suite_add_tcase(s, tc);

    tc = tcase_create("locale");
    tcase_add_loop_test(tc, honeypot_label_locale, 0, COUNT(locale_labels));
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, json_exact);
    tcase_add_test(tc, json_issued_round_trip);
    tcase_add_test(tc, json_hostile_round_trip);
    tcase_add_test(tc, json_expiry_out_of_range);
    suite_add_tcase(s, tc);

    return s;
}
