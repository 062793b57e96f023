/*
 * The HTML of the blog: every text that came from a reader or the database
 * goes through buf_html(), so nothing a comment says can become markup.
 * Pages carry no inline script or style: the Content-Security-Policy that
 * http.c sends forbids both, and the form works without JavaScript.
 *
 * The post page is the hot path (one challenge per view), so the part above
 * the form is rendered once per change and copied into each response.
 */
#include "blog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void buf_add(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_printf(buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)n);
    free(big);
}

void buf_html(buf *b, const char *s)
{
    const char *run = s;

    if (!s)
        return;
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        buf_add(b, run, (size_t)(s - run));
        buf_puts(b, rep);
        run = s + 1;
    }
    buf_add(b, run, (size_t)(s - run));
}

void buf_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void blog_today(char day[16])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(day, 16, "%Y-%m-%d", &tm);
}

static void add_date(buf *out, int64_t when)
{
    time_t t = (time_t)when;
    struct tm tm;
    char text[64];

    gmtime_r(&t, &tm);
    strftime(text, sizeof text, "%d %B %Y, %H:%M UTC", &tm);
    buf_puts(out, text);
}

void page_head(buf *out, const char *title)
{
    buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                  "<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\">\n<title>");
    buf_html(out, title);
    buf_puts(out, "</title>\n"
                  "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
                  "<script src=\"/static/app.js\" defer></script>\n"
                  "</head>\n<body>\n<header class=\"site\"><a href=\"/\">"
                  "The Slow Kitchen</a></header>\n<main>\n");
}

void page_foot(buf *out)
{
    buf_puts(out, "</main>\n<footer class=\"site\">Comments are protected "
                  "by replyguard.</footer>\n</body>\n</html>\n");
}

void page_message(buf *out, const char *title, const char *text)
{
    page_head(out, title);
    buf_puts(out, "<h1>");
    buf_html(out, title);
    buf_puts(out, "</h1>\n<p>");
    buf_html(out, text);
    buf_puts(out, "</p>\n<p><a href=\"/\">Back to the blog</a></p>\n");
    page_foot(out);
}

/* Paragraphs at blank lines, line breaks at single newlines; carriage
 * returns (browsers send CRLF) are dropped. */
void page_comment_body(buf *out, const char *body)
{
    buf para = {0};
    const char *p = body;

    while (*p) {
        buf_free(&para);
        while (*p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        const char *end = strstr(p, "\n\n");
        const char *crlf = strstr(p, "\r\n\r\n");
        if (crlf && (!end || crlf < end))
            end = crlf;
        size_t n = end ? (size_t)(end - p) : strlen(p);
        buf_add(&para, p, n);
        p += n;
        buf_puts(out, "<p>");
        char *line = para.p;
        while (line) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            char *cr = strchr(line, '\r');
            while (cr) {
                memmove(cr, cr + 1, strlen(cr + 1) + 1);
                cr = strchr(cr, '\r');
            }
            buf_html(out, line);
            if (nl)
                buf_puts(out, "<br>\n");
            line = nl ? nl + 1 : NULL;
        }
        buf_puts(out, "</p>\n");
    }
    buf_free(&para);
}

static bool linkable(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ||
           strncasecmp(url, "https://", 8) == 0;
}

static void add_comment(buf *out, const blog_comment *c)
{
    buf_printf(out, "<li class=\"comment\" id=\"comment-%lld\">\n",
               (long long)c->id);
    buf_puts(out, "<p class=\"comment-meta\"><span class=\"comment-author\">");
    const char *name = c->author[0] ? c->author : "Anonymous";
    if (c->url[0] && linkable(c->url)) {
        buf_puts(out, "<a href=\"");
        buf_html(out, c->url);
        buf_puts(out, "\" rel=\"nofollow ugc noopener\">");
        buf_html(out, name);
        buf_puts(out, "</a>");
    } else {
        buf_html(out, name);
    }
    buf_puts(out, "</span> <span class=\"comment-date\">");
    add_date(out, c->created_at);
    buf_puts(out, "</span></p>\n<div class=\"comment-body\">\n");
    page_comment_body(out, c->body);
    buf_puts(out, "</div>\n</li>\n");
}

/* The page down to the form's heading: the post and its comments. */
static int render_top(blog *b, buf *out)
{
    blog_post post;
    blog_comment *list;
    size_t n;

    if (store_post_get(b->store, BLOG_POST_ID, &post) != 0)
        return -1;
    if (store_comments_list(b->store, BLOG_POST_ID, STATUS_PUBLISHED, 1000,
                            &list, &n) != 0) {
        store_post_clear(&post);
        return -1;
    }
    page_head(out, post.title);
    buf_puts(out, "<article class=\"post\">\n<h1>");
    buf_html(out, post.title);
    buf_puts(out, "</h1>\n<p class=\"post-date\">");
    add_date(out, post.published_at);
    buf_puts(out, "</p>\n");
    page_comment_body(out, post.body);
    buf_puts(out, "</article>\n<section class=\"comments\" id=\"comments\">\n");
    buf_printf(out, "<h2>%zu %s</h2>\n<ol class=\"comment-list\">\n", n,
               n == 1 ? "Comment" : "Comments");
    for (size_t i = 0; i < n; i++)
        add_comment(out, &list[i]);
    buf_puts(out, "</ol>\n</section>\n"
                  "<section class=\"respond\" id=\"respond\">\n"
                  "<h2>Leave a Reply</h2>\n");
    store_comments_free(list, n);
    store_post_clear(&post);
    return out->failed ? -1 : 0;
}

void page_invalidate(blog *b)
{
    pthread_mutex_lock(&b->page_lock);
    b->page_stale = true;
    pthread_mutex_unlock(&b->page_lock);
}

static int add_top(blog *b, buf *out)
{
    int rc = 0;

    pthread_mutex_lock(&b->page_lock);
    if (!b->page_top || b->page_stale) {
        buf top = {0};
        if (render_top(b, &top) == 0) {
            free(b->page_top);
            b->page_top = top.p;
            b->page_top_len = top.len;
            b->page_stale = false;
        } else {
            buf_free(&top);
            rc = -1;
        }
    }
    if (rc == 0)
        buf_add(out, b->page_top, b->page_top_len);
    pthread_mutex_unlock(&b->page_lock);
    return rc;
}

static void add_field(buf *out, const char *id, const char *label,
                      const char *type, const char *autocomplete,
                      unsigned maxlength, const char *value, const char *note)
{
    buf_printf(out, "<p class=\"field\"><label for=\"%s\">%s</label>\n", id,
               label);
    buf_printf(out,
               "<input type=\"%s\" id=\"%s\" name=\"%s\" maxlength=\"%u\" "
               "autocomplete=\"%s\" value=\"",
               type, id, id, maxlength, autocomplete);
    buf_html(out, value);
    buf_puts(out, "\">");
    if (note)
        buf_printf(out, " <span class=\"note\">%s</span>", note);
    buf_puts(out, "</p>\n");
}

int page_post(blog *b, buf *out, const form_values *v, notice_kind kind,
              const char *notice)
{
    static const form_values empty = {"", "", "", ""};
    rg_challenge ch;
    char fragment[RG_FORM_MAX];

    if (!v)
        v = &empty;
    if (rg_challenge_issue(b->guard, BLOG_BINDING, &ch) != RG_OK ||
        rg_form_html(&ch, &b->names, fragment, sizeof fragment) != RG_OK ||
        add_top(b, out) != 0)
        return -1;
    if (kind == NOTICE_HELD)
        buf_puts(out, "<p class=\"notice held\" role=\"status\">");
    else if (kind == NOTICE_ERROR)
        buf_puts(out, "<p class=\"notice error\" role=\"alert\" "
                      "id=\"form-error\">");
    if (kind != NOTICE_NONE) {
        buf_html(out, notice);
        buf_puts(out, "</p>\n");
    }
    buf_printf(out,
               "<form class=\"comment-form\" method=\"post\" "
               "action=\"/comment\" data-rg-captcha=\"/captcha\" "
               "data-rg-expires=\"%llu\"%s>\n",
               (unsigned long long)ch.expires_at,
               b->opt.full_page_cache ? " data-rg-refresh=\"load\"" : "");
    buf_puts(out, "<p class=\"note\">Your e-mail address is never "
                  "published.</p>\n");
    add_field(out, "author", "Name", "text", "name", AUTHOR_CHARS, v->author,
              NULL);
    add_field(out, "email", "E-mail", "email", "email", EMAIL_CHARS, v->email,
              "(not published)");
    add_field(out, "url", "Website", "url", "url", URL_CHARS, v->url, NULL);
    buf_printf(out,
               "<p class=\"field\"><label for=\"comment\">Comment</label>\n"
               "<textarea id=\"comment\" name=\"comment\" rows=\"8\" "
               "maxlength=\"%u\" required>",
               (unsigned)COMMENT_CHARS);
    /* A newline right after <textarea> is dropped by the parser: start the
     * text on a line of its own so a leading newline survives. */
    buf_puts(out, "\n");
    buf_html(out, v->comment);
    buf_puts(out, "</textarea></p>\n");
    buf_puts(out, fragment);
    buf_puts(out, "\n<p class=\"submit\"><button type=\"submit\">Post "
                  "Comment</button></p>\n</form>\n</section>\n");
    page_foot(out);
    return out->failed ? -1 : 0;
}
