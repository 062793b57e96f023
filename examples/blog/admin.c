/*
 * /admin: the moderation queue, behind HTTP basic authentication (user
 * "admin", the password from REPLYGUARD_BLOG_PASSWORD or printed at start).
 * Approving publishes a held comment; "spam" and "not spam" also teach the
 * content filter, and take back what it was taught before when a moderator
 * changes their mind, so each comment counts once, as its last verdict.
 *
 * Every change is a POST carrying a token from the page: a browser sends
 * basic credentials to any site's form aimed here, so the password alone
 * would not tell the moderator's clicks from another site's forms.
 */
#include "http.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char realm[] = "Basic realm=\"replyguard-blog admin\", "
                            "charset=\"UTF-8\"";

/* Compares two secrets in constant time, whatever their lengths: their
 * hashes are compared. */
static bool same_secret(const char *a, const char *b)
{
    unsigned char ha[32], hb[32];

    crypto_generichash(ha, sizeof ha, (const unsigned char *)a, strlen(a), NULL,
                       0);
    crypto_generichash(hb, sizeof hb, (const unsigned char *)b, strlen(b), NULL,
                       0);
    return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

static bool authorised(blog *b, struct MHD_Connection *c)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    bool ok = user && pass && strcmp(user, "admin") == 0 &&
              same_secret(pass, b->password);

    if (pass) {
        sodium_memzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
}

static enum MHD_Result ask_password(struct MHD_Connection *c)
{
    buf body = {0};

    page_message(&body, "Password needed",
                 "The moderation pages need the admin password.");
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body.len, body.p, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        buf_free(&body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "WWW-Authenticate", realm);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Today's counts, read into a small table. */
typedef struct counts {
    char what[32][48];
    int64_t n[32];
    size_t len;
} counts;

static void collect(void *arg, const char *what, int64_t n)
{
    counts *cs = arg;

    if (cs->len < 32 && strlen(what) < sizeof cs->what[0]) {
        memcpy(cs->what[cs->len], what, strlen(what) + 1);
        cs->n[cs->len++] = n;
    }
}

static int64_t count_of(const counts *cs, const char *what)
{
    for (size_t i = 0; i < cs->len; i++)
        if (strcmp(cs->what[i], what) == 0)
            return cs->n[i];
    return 0;
}

static void add_counts(blog *b, buf *out)
{
    static const struct {
        const char *key, *label;
    } layers[] = {
        {"layer.rate_limit", "Rate limit"},
        {"layer.honeypot", "Honeypot"},
        {"layer.challenge", "Challenge (the question)"},
        {"layer.content_filter", "Content filter"},
    };
    counts cs = {0};
    char day[16];

    blog_today(day);
    store_counts(b->store, day, collect, &cs);
    buf_printf(out,
               "<section id=\"today\">\n<h2>Stopped today (%s, UTC)</h2>"
               "\n<table class=\"counts\">\n<tr><th>Layer</th>"
               "<th>Comments stopped</th></tr>\n",
               day);
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        buf_printf(out, "<tr data-layer=\"%s\"><td>%s</td><td>%lld</td></tr>\n",
                   layers[i].key + 6, layers[i].label,
                   (long long)count_of(&cs, layers[i].key));
    buf_printf(out,
               "</table>\n<p>Published %lld, held for moderation %lld, "
               "refused %lld.</p>\n",
               (long long)count_of(&cs, "action.accept"),
               (long long)count_of(&cs, "action.moderate"),
               (long long)count_of(&cs, "action.reject"));
    buf_puts(out, "<p class=\"note\">Every finding today:");
    bool any = false;
    for (size_t i = 0; i < cs.len; i++)
        if (strncmp(cs.what[i], "reason.", 7) == 0) {
            buf_printf(out, "%s ", any ? "," : "");
            buf_html(out, cs.what[i] + 7);
            buf_printf(out, " %lld", (long long)cs.n[i]);
            any = true;
        }
    buf_printf(out, "%s.</p>\n</section>\n", any ? "" : " none");
}

static void add_button(blog *b, buf *out, int64_t id, const char *action,
                       const char *label)
{
    buf_puts(out, "<form method=\"post\" action=\"/admin/action\" "
                  "class=\"inline\"><input type=\"hidden\" name=\"csrf\" "
                  "value=\"");
    buf_html(out, b->csrf);
    buf_printf(out,
               "\"><input type=\"hidden\" name=\"id\" value=\"%lld\">"
               "<button type=\"submit\" name=\"do\" value=\"%s\">%s</button>"
               "</form>\n",
               (long long)id, action, label);
}

static void add_list(blog *b, buf *out, comment_status st, const char *id,
                     const char *title, const char *empty)
{
    blog_comment *list = NULL;
    size_t n = 0;

    buf_printf(out, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
    if (store_comments_list(b->store, 0, st, 50, &list, &n) != 0) {
        buf_puts(out, "<p>The list could not be read.</p>\n</section>\n");
        return;
    }
    if (n == 0)
        buf_printf(out, "<p class=\"empty\">%s</p>\n", empty);
    else
        buf_puts(out, "<ol class=\"queue\">\n");
    for (size_t i = 0; i < n; i++) {
        const blog_comment *c = &list[i];
        buf_printf(out, "<li class=\"comment\" data-id=\"%lld\">\n",
                   (long long)c->id);
        buf_puts(out, "<p class=\"comment-meta\"><strong>");
        buf_html(out, c->author[0] ? c->author : "Anonymous");
        buf_puts(out, "</strong> ");
        buf_html(out, c->email);
        buf_puts(out, " ");
        buf_html(out, c->url);
        buf_puts(out, " <span class=\"client\">");
        buf_html(out, c->client);
        buf_puts(out, "</span></p>\n<div class=\"comment-body\">\n");
        page_comment_body(out, c->body);
        buf_puts(out, "</div>\n<div class=\"actions\">\n");
        if (st == STATUS_HELD)
            add_button(b, out, c->id, "approve", "Approve");
        if (st != STATUS_SPAM)
            add_button(b, out, c->id, "spam", "Spam");
        if (st != STATUS_PUBLISHED || c->learned != LEARNED_HAM)
            add_button(b, out, c->id, "ham", "Not spam");
        buf_puts(out, "</div>\n</li>\n");
    }
    if (n)
        buf_puts(out, "</ol>\n");
    buf_puts(out, "</section>\n");
    store_comments_free(list, n);
}

enum MHD_Result admin_page(blog *b, struct MHD_Connection *c)
{
    buf out = {0};
    rg_bayes_stats st = {0};

    if (!authorised(b, c))
        return ask_password(c);
    page_head(&out, "Moderation");
    buf_puts(&out, "<h1>Moderation</h1>\n");
    add_counts(b, &out);
    add_list(b, &out, STATUS_HELD, "queue", "Waiting for moderation",
             "Nothing is waiting.");
    add_list(b, &out, STATUS_PUBLISHED, "published", "Published, newest first",
             "Nothing is published.");
    add_list(b, &out, STATUS_SPAM, "spam", "Spam", "No spam.");
    if (rg_bayes_stats_get(b->bayes, &st) == RG_OK)
        buf_printf(&out,
                   "<p class=\"note\" id=\"filter\">The content filter has "
                   "learned %llu spam and %llu good comments.</p>\n",
                   (unsigned long long)st.spam_comments,
                   (unsigned long long)st.ham_comments);
    page_foot(&out);
    return http_send(c, MHD_HTTP_OK, "text/html; charset=utf-8", "no-store",
                     &out);
}

/* Moves a comment's filter training from what it was to what it is now. */
static int retrain(blog *b, const blog_comment *bc, comment_learned now)
{
    rg_comment rc;

    if (bc->learned == now)
        return 0;
    rg_comment_init(&rc);
    rc.author = bc->author;
    rc.email = bc->email;
    rc.url = bc->url;
    rc.body = bc->body;
    if (bc->learned != LEARNED_NONE) {
        rg_class was =
            bc->learned == LEARNED_SPAM ? RG_CLASS_SPAM : RG_CLASS_HAM;
        int rc2 = rg_bayes_unlearn(b->bayes, &rc, was);
        if (rc2 != RG_OK && rc2 != RG_ENOTLEARNED)
            return -1;
    }
    return rg_bayes_learn(b->bayes, &rc,
                          now == LEARNED_SPAM ? RG_CLASS_SPAM : RG_CLASS_HAM) ==
                   RG_OK
               ? 0
               : -1;
}

enum MHD_Result admin_action(blog *b, struct MHD_Connection *c, request *r)
{
    const char *what = req_field(r, F_DO);
    char *end;
    blog_comment bc;

    if (!authorised(b, c))
        return ask_password(c);
    if (!same_secret(req_field(r, F_CSRF), b->csrf))
        return http_message(c, MHD_HTTP_FORBIDDEN, "Forbidden",
                            "This form did not come from the moderation "
                            "page. Reload it and try again.");
    long long id = strtoll(req_field(r, F_ID), &end, 10);
    if (*end || end == req_field(r, F_ID) ||
        store_comment_get(b->store, id, &bc) != 0)
        return http_message(c, MHD_HTTP_NOT_FOUND, "Not found",
                            "There is no such comment.");

    comment_status st;
    comment_learned l = bc.learned;
    int rc = 0;
    if (strcmp(what, "approve") == 0) {
        st = STATUS_PUBLISHED;
    } else if (strcmp(what, "spam") == 0) {
        st = STATUS_SPAM;
        l = LEARNED_SPAM;
    } else if (strcmp(what, "ham") == 0) {
        st = STATUS_PUBLISHED;
        l = LEARNED_HAM;
    } else {
        store_comment_clear(&bc);
        return http_message(c, MHD_HTTP_BAD_REQUEST, "Unknown action",
                            "The moderation page sent an unknown action.");
    }
    rc = retrain(b, &bc, l);
    if (rc == 0)
        rc = store_comment_set(b->store, id, st, l);
    bool page_changes = st != bc.status && (st == STATUS_PUBLISHED ||
                                            bc.status == STATUS_PUBLISHED);
    store_comment_clear(&bc);
    if (rc != 0)
        return http_message(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Not saved",
                            "The change could not be saved. Please try "
                            "again.");
    if (page_changes)
        page_invalidate(b);
    return http_redirect(c, "/admin");
}
