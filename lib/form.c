/*
 * The form: a challenge's fields as an HTML fragment, or as one JSON object
 * for engines that render their own (docs/form.md).
 *
 * The fragment needs no script and no style attribute, so it works with
 * JavaScript off and under a strict Content-Security-Policy. Everything that
 * comes from the caller or the challenge is escaped, even what the library
 * itself made, because a caller may pass in any rg_challenge at all.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistr.h>

#include "internal.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

/*
 * The part of rg_form_config that every caller knows: the three field
 * names, which were there from the first version. A field appended later
 * is read only when the caller's size covers it, and takes its default
 * otherwise, so a program built against an older, smaller struct is never
 * read past its end. A size below this is not a rg_form_config at all.
 */
#define FORM_CONFIG_MIN_SIZE                                                   \
    (offsetof(rg_form_config, honeypot_field) + sizeof(const char *))

#define DEFAULT_ANSWER_FIELD   "rg_answer"
#define DEFAULT_TOKEN_FIELD    "rg_token"
#define DEFAULT_HONEYPOT_FIELD "rg_note"

/*
 * The honeypot's label, in the locales questions come in. Only bots read
 * it: the honeypot is hidden from sight and from screen readers, and a bot
 * that reads labels should be told the truth, in the page's language.
 */
static const char *const honeypot_labels[RG__LOCALE_COUNT] = {
    [RG__LOCALE_EN] = "Leave this field empty",
    [RG__LOCALE_RU] = "Оставьте это поле пустым",
    [RG__LOCALE_DE] = "Dieses Feld leer lassen",
    [RG__LOCALE_FR] = "Laissez ce champ vide",
    [RG__LOCALE_ES] = "Deje este campo vacío",
};

/*
 * Whether RG_FORM_MAX always fits. A challenge from rg_challenge_issue()
 * holds nothing that needs escaping: its question is words, digits, "+",
 * "−", "×", "=", "?" and punctuation of the locale; its token is base64url;
 * its locale a plain name. So the worst fragment is the markup, the longest
 * strings the arrays hold (the question twice: as shown and as spoken), and
 * three names of RG_FIELD_NAME_MAX bytes that
 * each escape to six bytes a byte ("&quot;") and appear seven times in all
 * (the answer and honeypot names as for, id and name; the token's as name).
 * tests/test-form.c renders that worst case, and challenges issued in every
 * locale and shape, and checks both fit. A hand-made challenge full of
 * characters to escape may not fit, and gets RG_ETOOBIG like any other.
 */
#define HTML_MARKUP_MAX    512 /* every tag and attribute: 365 bytes now */
#define HONEYPOT_LABEL_MAX 64
#define ESCAPED_BYTE_MAX   6
#define NAME_USES          7
_Static_assert(HTML_MARKUP_MAX + HONEYPOT_LABEL_MAX +
                       2 * (RG_QUESTION_MAX - 1) + (RG_TOKEN_MAX - 1) +
                       (RG_LOCALE_MAX - 1) +
                       NAME_USES * ESCAPED_BYTE_MAX * RG_FIELD_NAME_MAX <
                   RG_FORM_MAX,
               "RG_FORM_MAX must hold the largest fragment");

/* The field names in use, checked. */
typedef struct field_names {
    const char *answer, *token, *honeypot;
} field_names;

void rg_form_config_init(rg_form_config *f)
{
    if (!f)
        return;
    memset(f, 0, sizeof *f);
    f->size = sizeof *f;
    f->answer_field = DEFAULT_ANSWER_FIELD;
    f->token_field = DEFAULT_TOKEN_FIELD;
    f->honeypot_field = DEFAULT_HONEYPOT_FIELD;
}

/* Reads at most RG_FIELD_NAME_MAX + 1 bytes, so a name without its NUL is
 * never followed further than that. Control characters are refused: no
 * form field needs one, and HTML forbids most of them in attributes. */
static bool field_name_valid(const char *name)
{
    size_t len = strnlen(name, RG_FIELD_NAME_MAX + 1);
    if (len == 0 || len > RG_FIELD_NAME_MAX ||
        u8_check((const uint8_t *)name, len) != NULL)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

/*
 * The names of f, or the defaults when f is NULL; a NULL name also means
 * its default, as NULL strings do in rg_config. RG_EINVAL for a size too
 * small, a name that is empty, too long, not UTF-8 or with a control
 * character, or a name used twice.
 */
static int field_names_read(const rg_form_config *f, field_names *names)
{
    rg_form_config cfg;

    rg_form_config_init(&cfg);
    if (f) {
        if (f->size < FORM_CONFIG_MIN_SIZE)
            return RG_EINVAL;
        memcpy(&cfg, f, f->size < sizeof cfg ? f->size : sizeof cfg);
    }
    names->answer = cfg.answer_field ? cfg.answer_field : DEFAULT_ANSWER_FIELD;
    names->token = cfg.token_field ? cfg.token_field : DEFAULT_TOKEN_FIELD;
    names->honeypot =
        cfg.honeypot_field ? cfg.honeypot_field : DEFAULT_HONEYPOT_FIELD;

    if (!field_name_valid(names->answer) || !field_name_valid(names->token) ||
        !field_name_valid(names->honeypot))
        return RG_EINVAL;
    /* Two fields of one name would send one value for both: the browser
     * submits both, and the server sees whichever its parser keeps. */
    if (strcmp(names->answer, names->token) == 0 ||
        strcmp(names->answer, names->honeypot) == 0 ||
        strcmp(names->token, names->honeypot) == 0)
        return RG_EINVAL;
    return RG_OK;
}

/* A string in one of the challenge's fixed-size arrays: it must end inside
 * the array and be UTF-8. Nothing past the array is read. */
static bool array_text_valid(const char *array, size_t array_size)
{
    size_t len = strnlen(array, array_size);
    return len < array_size && u8_check((const uint8_t *)array, len) == NULL;
}

/*
 * The challenge is the caller's and may be corrupted or hostile: an
 * unterminated array would be read past, and bytes that are not UTF-8 would
 * make output that is not either.
 */
static bool challenge_valid(const rg_challenge *c)
{
    return array_text_valid(c->question, sizeof c->question) &&
           array_text_valid(c->token, sizeof c->token) &&
           array_text_valid(c->spoken, sizeof c->spoken) &&
           array_text_valid(c->locale, sizeof c->locale);
}

/* The checks both renderings begin with. Whatever the result, out holds an
 * empty string (when it has room for one) until the output is written. */
static int form_begin(const rg_challenge *c, const rg_form_config *f, char *out,
                      size_t out_size, field_names *names)
{
    if (out && out_size > 0)
        out[0] = '\0';
    if (!c || !out || !challenge_valid(c))
        return RG_EINVAL;
    return field_names_read(f, names);
}

/*
 * The fragment is rendered twice: first with out NULL, only to count its
 * bytes, then, when it fits, into the caller's buffer. So a buffer that is
 * too small is never written past its first byte.
 */
typedef struct html {
    char *out; /* NULL while counting */
    size_t len;
} html;

static void put_bytes(html *h, const char *bytes, size_t n)
{
    if (h->out)
        memcpy(h->out + h->len, bytes, n);
    h->len += n;
}

static void put(html *h, const char *markup)
{
    put_bytes(h, markup, strlen(markup));
}

/* Text or an attribute value (always in double quotes), escaped: & < > " '
 * are all that can start a character reference, open or close a tag, or end
 * a quoted value. */
static void put_escaped(html *h, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&':
            put(h, "&amp;");
            break;
        case '<':
            put(h, "&lt;");
            break;
        case '>':
            put(h, "&gt;");
            break;
        case '"':
            put(h, "&quot;");
            break;
        case '\'':
            put(h, "&#39;");
            break;
        default:
            put_bytes(h, p, 1);
        }
    }
}

static void render_html(html *h, const rg_challenge *c, const field_names *n)
{
    /* English for a locale the library does not know, or one added to it
     * without a label here yet. */
    int locale = rg__locale_find(c->locale);
    const char *honeypot_label = locale >= 0 && honeypot_labels[locale]
                                     ? honeypot_labels[locale]
                                     : honeypot_labels[RG__LOCALE_EN];

    /* lang tells screen readers which voice reads the question. */
    put(h, "<div class=\"rg-challenge\" lang=\"");
    put_escaped(h, c->locale);
    put(h, "\">\n");

    /* The question is the answer box's label, on the page and for a click;
     * screen readers announce the spoken form instead ("ten minus one
     * equals"), which aria-label gives the box, because symbols such as
     * "−" and "=" are read inconsistently or not at all. Numeric input
     * brings up a keypad on phones; autocomplete off keeps old answers out
     * of the box. */
    put(h, "<label for=\"");
    put_escaped(h, n->answer);
    put(h, "\">");
    put_escaped(h, c->question);
    put(h, "</label>\n<input type=\"text\" id=\"");
    put_escaped(h, n->answer);
    put(h, "\" name=\"");
    put_escaped(h, n->answer);
    put(h, "\" aria-label=\"");
    put_escaped(h, c->spoken);
    put(h, "\" inputmode=\"numeric\" autocomplete=\"off\" required "
           "maxlength=\"" STRINGIFY(RG_ANSWER_MAX) "\">\n");

    put(h, "<input type=\"hidden\" name=\"");
    put_escaped(h, n->token);
    put(h, "\" value=\"");
    put_escaped(h, c->token);
    put(h, "\">\n");

    /* The honeypot: `hidden` keeps it off the screen without CSS,
     * aria-hidden keeps it from screen readers, tabindex -1 keeps the
     * keyboard out, and autocomplete off asks the browser not to fill it
     * (its name matters more: see docs/form.md). A bot that fills every
     * field fills it too. */
    put(h, "<div class=\"rg-hp\" hidden aria-hidden=\"true\"><label for=\"");
    put_escaped(h, n->honeypot);
    put(h, "\">");
    put_escaped(h, honeypot_label);
    put(h, "</label><input type=\"text\" id=\"");
    put_escaped(h, n->honeypot);
    put(h, "\" name=\"");
    put_escaped(h, n->honeypot);
    put(h, "\" value=\"\" tabindex=\"-1\" autocomplete=\"off\"></div>\n"
           "</div>");
}

int rg_form_html(const rg_challenge *c, const rg_form_config *f, char *out,
                 size_t out_size)
{
    field_names names;
    int rc = form_begin(c, f, out, out_size, &names);
    if (rc != RG_OK)
        return rc;

    html counted = {.out = NULL, .len = 0};
    render_html(&counted, c, &names);
    if (counted.len >= out_size)
        return RG_ETOOBIG;
    html written = {.out = out, .len = 0};
    render_html(&written, c, &names);
    out[written.len] = '\0';
    return RG_OK;
}

/*
 * Compact, and with "/" escaped so that "</script>" never appears: an
 * engine may put the object inside a <script type="application/json">.
 */
#define JSON_FLAGS (JSON_COMPACT | JSON_ESCAPE_SLASH)

int rg_form_json(const rg_challenge *c, const rg_form_config *f, char *out,
                 size_t out_size)
{
    field_names names;
    int rc = form_begin(c, f, out, out_size, &names);
    if (rc != RG_OK)
        return rc;
    /* JSON integers here are signed 64 bits; a later expiry is no time a
     * guard could have written. */
    _Static_assert(sizeof(json_int_t) >= sizeof(int64_t),
                   "json_int_t must hold every expiry");
    if (c->expires_at > (uint64_t)INT64_MAX)
        return RG_EINVAL;

    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:{s:s, s:s, s:s}}", "question", c->question,
        "spoken", c->spoken, "token", c->token, "locale", c->locale,
        "expires_at", (json_int_t)c->expires_at, "fields", "answer",
        names.answer, "token", names.token, "honeypot", names.honeypot);
    /* Every string was checked to be UTF-8, so only memory can fail. */
    if (!root)
        return RG_ENOMEM;

    /* As with the HTML, count first so a small buffer is never filled with
     * a truncated object. */
    size_t len = json_dumpb(root, NULL, 0, JSON_FLAGS);
    if (len == 0) {
        rc = RG_ENOMEM;
        goto cleanup;
    }
    if (len >= out_size) {
        rc = RG_ETOOBIG;
        goto cleanup;
    }
    if (json_dumpb(root, out, out_size, JSON_FLAGS) != len) {
        out[0] = '\0';
        rc = RG_ENOMEM;
        goto cleanup;
    }
    out[len] = '\0';

cleanup:
    json_decref(root);
    return rc;
}
