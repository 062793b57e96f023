/*
 * The web server: routing, request bodies, responses and their headers, and
 * the comment form's POST, which asks rg_judge() once and acts on its
 * decision. libmicrohttpd runs a pool of threads with epoll (or poll): the
 * handles in `blog` are shared by them all.
 */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* No inline script or style anywhere, so no nonce is needed: the one
 * script is /static/app.js and the one stylesheet /static/style.css. */
static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

/* The fields' names (the honeypot's comes from the options) and the most
 * bytes each may hold once decoded. */
static const struct {
    const char *name;
    size_t max;
} field_spec[F_COUNT] = {
    [F_AUTHOR] = {"author", AUTHOR_MAX},
    [F_EMAIL] = {"email", EMAIL_MAX},
    [F_URL] = {"url", URL_MAX},
    [F_COMMENT] = {"comment", COMMENT_MAX},
    [F_ANSWER] = {"rg_answer", ANSWER_MAX},
    [F_TOKEN] = {"rg_token", TOKEN_MAX},
    [F_HONEYPOT] = {NULL, HONEYPOT_MAX},
    [F_CSRF] = {"csrf", 64},
    [F_ID] = {"id", 20},
    [F_DO] = {"do", 16},
};

/* What a page request carries between calls: nothing but this mark. */
static const char page_marker;

const char *req_field(const request *r, field_id f)
{
    return r->fields[f].p ? r->fields[f].p : "";
}

static void add_headers(struct MHD_Response *resp, const char *type,
                        const char *cache)
{
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control", cache);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result http_send(struct MHD_Connection *c, unsigned status,
                          const char *type, const char *cache, buf *body)
{
    struct MHD_Response *resp;

    if (body->failed) {
        buf_free(body);
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(body->len, body->p ? body->p : "",
                                           body->p ? MHD_RESPMEM_MUST_FREE
                                                   : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        buf_free(body);
        return MHD_NO;
    }
    /* The response owns the text now. */
    memset(body, 0, sizeof *body);
    add_headers(resp, type, cache);
    return queue(c, status, resp);
}

enum MHD_Result http_redirect(struct MHD_Connection *c, const char *location)
{
    buf body = {0};

    buf_puts(&body, "See ");
    buf_html(&body, location);
    buf_puts(&body, "\n");
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body.len, body.p, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        buf_free(&body);
        return MHD_NO;
    }
    add_headers(resp, "text/plain; charset=utf-8", "no-store");
    MHD_add_response_header(resp, "Location", location);
    return queue(c, MHD_HTTP_SEE_OTHER, resp);
}

enum MHD_Result http_message(struct MHD_Connection *c, unsigned status,
                             const char *title, const char *text)
{
    buf body = {0};

    page_message(&body, title, text);
    return http_send(c, status, "text/html; charset=utf-8", "no-store", &body);
}

static enum MHD_Result send_static(struct MHD_Connection *c, const char *text,
                                   const char *type)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

    if (!resp)
        return MHD_NO;
    add_headers(resp, type, "public, max-age=3600");
    return queue(c, MHD_HTTP_OK, resp);
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, const char *allow)
{
    buf body = {0};

    page_message(&body, "Method not allowed",
                 "This address does not accept that kind of request.");
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body.len, body.p, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        buf_free(&body);
        return MHD_NO;
    }
    add_headers(resp, "text/html; charset=utf-8", "no-store");
    MHD_add_response_header(resp, "Allow", allow);
    return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

static enum MHD_Result too_large(struct MHD_Connection *c)
{
    return http_message(c, MHD_HTTP_CONTENT_TOO_LARGE, "Too large",
                        "The form sent more than this blog accepts.");
}

static enum MHD_Result server_error(struct MHD_Connection *c)
{
    return http_message(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Server error",
                        "Something went wrong on our side. Please try again "
                        "in a moment.");
}

/* GET /: the post, its comments and the form with a fresh challenge. */
static enum MHD_Result post_page(blog *b, struct MHD_Connection *c)
{
    buf body = {0};
    const char *held =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "held");
    bool is_held = held && strcmp(held, "1") == 0;

    if (page_post(b, &body, NULL, is_held ? NOTICE_HELD : NOTICE_NONE,
                  "Thank you. Your comment is awaiting moderation: it will "
                  "appear here once the site's owner has approved it.") != 0) {
        buf_free(&body);
        return server_error(c);
    }
    /* Each view carries its own one-time token: a shared cache must not
     * hand one page to many readers (--full-page-cache is for sites that
     * do, and have the script fetch a fresh question instead). */
    return http_send(c, MHD_HTTP_OK, "text/html; charset=utf-8",
                     b->opt.full_page_cache ? "public, max-age=60"
                                            : "private, no-store",
                     &body);
}

/* GET /captcha: a fresh question and token as JSON, for pages that come
 * out of a full-page cache. */
static enum MHD_Result captcha_json(blog *b, struct MHD_Connection *c)
{
    rg_challenge ch;
    char json[RG_FORM_MAX];
    buf body = {0};

    if (rg_challenge_issue(b->guard, BLOG_BINDING, &ch) != RG_OK ||
        rg_form_json(&ch, &b->names, json, sizeof json) != RG_OK)
        return server_error(c);
    buf_puts(&body, json);
    return http_send(c, MHD_HTTP_OK, "application/json", "no-store", &body);
}

/* The client's address as text, for the rate limits. */
static void client_address(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    out[0] = '\0';
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

/* Links in a comment: WordPress holds a comment with two or more. */
static unsigned count_links(const char *s)
{
    unsigned n = 0;

    for (; *s; s++)
        if (strncasecmp(s, "http://", 7) == 0 ||
            strncasecmp(s, "https://", 8) == 0)
            n++;
    return n;
}

/* Why a comment was refused, in the words the author reads. */
static void reason_text(const rg_decision *d, char *out, size_t size)
{
    uint32_t r = d->reasons;

    if (r & RG_REASON_RATE_LIMITED)
        snprintf(out, size,
                 "You have sent several comments in a short time. Please "
                 "wait %llu seconds, answer the new question and send it "
                 "again; your comment is kept below.",
                 (unsigned long long)((d->retry_after_ms + 999) / 1000));
    else if (r & RG_REASON_HONEYPOT)
        snprintf(out, size,
                 "The form came back with a hidden field filled in, which "
                 "people never see, so it looked automated. If you are a "
                 "person, please answer the new question and send it again.");
    else if (r & RG_REASON_CAPTCHA_WRONG)
        snprintf(out, size,
                 "The answer to the question was not right. Here is a new "
                 "question; your comment is kept below.");
    else if (r & RG_REASON_CAPTCHA_EXPIRED)
        snprintf(out, size,
                 "The question had expired before the comment was sent. "
                 "Here is a new question; your comment is kept below.");
    else if (r & RG_REASON_CAPTCHA_TOO_FAST)
        snprintf(out, size,
                 "The comment was sent sooner after the form appeared than "
                 "people can type. Please take at least %u seconds, answer "
                 "the new question and send it again; your comment is kept "
                 "below.",
                 (unsigned)d->min_solve_s);
    else if (r & RG_REASON_CAPTCHA_REPLAYED)
        snprintf(out, size,
                 "This form had already been sent once. Please answer the "
                 "new question to send your comment; it is kept below.");
    else if (r & (RG_REASON_CAPTCHA_FORGED | RG_REASON_CAPTCHA_MALFORMED))
        snprintf(out, size,
                 "The question's hidden token was missing or damaged. Please "
                 "answer the new question and send it again; your comment "
                 "is kept below.");
    else if (r & RG_REASON_SPAM)
        snprintf(out, size,
                 "Our spam filter took this comment for spam. If it is not, "
                 "please rephrase it and send it again.");
    else
        snprintf(out, size,
                 "The comment could not be accepted. Please try again.");
}

/* The layer that stopped a refused comment: the first in the judge's
 * order, so each refusal is counted once. */
static const char *stopping_layer(uint32_t r)
{
    if (r & RG_REASON_RATE_LIMITED)
        return "layer.rate_limit";
    if (r & RG_REASON_HONEYPOT)
        return "layer.honeypot";
    if (r & (RG_REASON_CAPTCHA_WRONG | RG_REASON_CAPTCHA_EXPIRED |
             RG_REASON_CAPTCHA_TOO_FAST | RG_REASON_CAPTCHA_REPLAYED |
             RG_REASON_CAPTCHA_FORGED | RG_REASON_CAPTCHA_MALFORMED))
        return "layer.challenge";
    if (r & RG_REASON_SPAM)
        return "layer.content_filter";
    return "layer.other";
}

/* Counts a decision for the admin's page of today's figures. */
static void count_decision(blog *b, const rg_decision *d, bool links)
{
    char day[16], key[64];

    blog_today(day);
    if (d->action == RG_ACTION_REJECT)
        store_count(b->store, day, stopping_layer(d->reasons));
    for (uint32_t bit = 1; bit <= RG_REASON_STORE_UNAVAILABLE; bit <<= 1)
        if (d->reasons & bit) {
            snprintf(key, sizeof key, "reason.%s", rg_reason_name(bit));
            store_count(b->store, day, key);
        }
    if (links)
        store_count(b->store, day, "reason.links");
    snprintf(key, sizeof key, "action.%s",
             links ? "moderate" : rg_action_name(d->action));
    store_count(b->store, day, key);
}

/* Until the filter has learned from some moderation, "unsure" is all it
 * can say: it would hold every comment. It holds them only once it knows
 * ten of each kind; until then it still rejects what it calls spam. */
static rg_action unsure_action(blog *b)
{
    rg_bayes_stats st;

    if (rg_bayes_stats_get(b->bayes, &st) != RG_OK)
        return RG_ACTION_MODERATE;
    return st.spam_comments >= 10 && st.ham_comments >= 10 ? RG_ACTION_MODERATE
                                                           : RG_ACTION_ACCEPT;
}

/* POST /comment. */
static enum MHD_Result comment_post(blog *b, struct MHD_Connection *c,
                                    request *r)
{
    form_values v = {req_field(r, F_AUTHOR), req_field(r, F_EMAIL),
                     req_field(r, F_URL), req_field(r, F_COMMENT)};
    char client[INET6_ADDRSTRLEN];
    char why[512];
    rg_submission s;
    rg_policy policy = b->policy;
    rg_decision d;
    buf body = {0};

    client_address(c, client, sizeof client);
    if (strspn(v.comment, " \t\r\n") == strlen(v.comment)) {
        if (page_post(b, &body, &v, NOTICE_ERROR,
                      "Please write a comment before sending the form.") != 0) {
            buf_free(&body);
            return server_error(c);
        }
        return http_send(c, MHD_HTTP_OK, "text/html; charset=utf-8", "no-store",
                         &body);
    }

    rg_submission_init(&s);
    s.author = v.author;
    s.email = v.email;
    s.url = v.url;
    s.body = v.comment;
    s.token = req_field(r, F_TOKEN);
    s.answer = req_field(r, F_ANSWER);
    s.honeypot = req_field(r, F_HONEYPOT);
    s.client = client;
    s.binding = BLOG_BINDING;
    policy.on_unsure = unsure_action(b);
    if (rg_judge(b->guard, &s, &policy, &d) != RG_OK)
        return server_error(c);

    bool links = d.action == RG_ACTION_ACCEPT && b->opt.max_links &&
                 count_links(v.comment) >= b->opt.max_links;
    count_decision(b, &d, links);

    if (d.action == RG_ACTION_REJECT) {
        unsigned status = MHD_HTTP_OK;
        reason_text(&d, why, sizeof why);
        if (page_post(b, &body, &v, NOTICE_ERROR, why) != 0) {
            buf_free(&body);
            return server_error(c);
        }
        if (d.reasons & RG_REASON_RATE_LIMITED)
            status = MHD_HTTP_TOO_MANY_REQUESTS;
        return http_send(c, status, "text/html; charset=utf-8", "no-store",
                         &body);
    }

    blog_comment bc = {
        .post_id = BLOG_POST_ID,
        .author = (char *)v.author,
        .email = (char *)v.email,
        .url = (char *)v.url,
        .body = (char *)v.comment,
        .client = client,
        .created_at = (int64_t)time(NULL),
        .status = d.action == RG_ACTION_ACCEPT && !links ? STATUS_PUBLISHED
                                                         : STATUS_HELD,
    };
    int64_t id;
    if (store_comment_add(b->store, &bc, &id) != 0)
        return server_error(c);
    if (bc.status == STATUS_HELD)
        return http_redirect(c, "/?held=1#respond");
    page_invalidate(b);
    char location[64];
    snprintf(location, sizeof location, "/#comment-%lld", (long long)id);
    return http_redirect(c, location);
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *filename,
                                  const char *content_type,
                                  const char *transfer_encoding,
                                  const char *data, uint64_t off, size_t size)
{
    request *r = cls;

    for (int f = 0; f < F_COUNT; f++) {
        const char *name =
            f == F_HONEYPOT ? r->b->names.honeypot_field : field_spec[f].name;
        if (strcmp(key, name) != 0)
            continue;
        buf *v = &r->fields[f];
        if (v->len + size > field_spec[f].max) {
            r->too_big = true;
            return MHD_YES;
        }
        buf_add(v, data, size);
        if (!v->p)
            buf_add(v, "", 0);
        return MHD_YES;
    }
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    request *r = *con_cls;

    if (!r || r == (request *)&page_marker)
        return;
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    for (int f = 0; f < F_COUNT; f++)
        buf_free(&r->fields[f]);
    free(r);
    *con_cls = NULL;
}

static bool is_post_route(const char *url)
{
    return strcmp(url, "/comment") == 0 || strcmp(url, "/admin/action") == 0;
}

static bool is_page_route(const char *url)
{
    return strcmp(url, "/") == 0 || strcmp(url, "/captcha") == 0 ||
           strcmp(url, "/admin") == 0 || strcmp(url, "/static/app.js") == 0 ||
           strcmp(url, "/static/style.css") == 0;
}

static enum MHD_Result get_route(blog *b, struct MHD_Connection *c,
                                 const char *url)
{
    if (strcmp(url, "/") == 0)
        return post_page(b, c);
    if (strcmp(url, "/captcha") == 0)
        return captcha_json(b, c);
    if (strcmp(url, "/admin") == 0)
        return admin_page(b, c);
    if (strcmp(url, "/static/app.js") == 0)
        return send_static(c, blog_app_js, "text/javascript; charset=utf-8");
    return send_static(c, blog_style_css, "text/css; charset=utf-8");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_size, void **con_cls)
{
    blog *b = cls;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
               strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    request *r = *con_cls;

    /* A page is answered on the second call, once the request has been
     * read: answered on the first, libmicrohttpd closes the connection
     * instead of keeping it alive for the next request. */
    if (r == (request *)&page_marker)
        return get_route(b, c, url);
    if (!r) {
        if (is_page_route(url)) {
            if (!get)
                return not_allowed(c, "GET, HEAD");
            *con_cls = (void *)&page_marker;
            return MHD_YES;
        }
        if (!is_post_route(url))
            return http_message(c, MHD_HTTP_NOT_FOUND, "Not found",
                                "There is no page at this address.");
        if (!post)
            return not_allowed(c, "POST");
        const char *len = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (len && strtoull(len, NULL, 10) > BODY_MAX)
            return too_large(c);
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->b = b;
        r->pp = MHD_create_post_processor(c, 16 * 1024, post_field, r);
        if (!r->pp) {
            free(r);
            return http_message(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                "Unsupported form",
                                "Send the form as a web browser does.");
        }
        *con_cls = r;
        return MHD_YES;
    }

    if (*upload_size) {
        r->received += *upload_size;
        if (r->received > BODY_MAX)
            r->too_big = true;
        /* Past the limit the rest is read and dropped, so that the
         * answer, a 413, reaches a client still sending. */
        if (!r->too_big &&
            MHD_post_process(r->pp, upload_data, *upload_size) != MHD_YES)
            r->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big)
        return too_large(c);
    if (strcmp(url, "/comment") == 0)
        return comment_post(b, c, r);
    return admin_action(b, c, r);
}

/* Splits "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
                        bool *v6)
{
    char host[256];
    const char *port;
    struct addrinfo hints = {0}, *res = NULL;

    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':' || (size_t)(end - listen) > sizeof host)
            return -1;
        memcpy(host, listen + 1, (size_t)(end - listen - 1));
        host[end - listen - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            return -1;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

struct MHD_Daemon *http_start(blog *b, int *port_out)
{
    struct sockaddr_storage ss = {0};
    bool v6 = false;
    unsigned threads = b->opt.threads;

    if (parse_listen(b->opt.listen, &ss, &v6) != 0) {
        fprintf(stderr, "replyguard-blog: cannot listen on %s\n",
                b->opt.listen);
        return NULL;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
            (v6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, handle, b, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED,
        completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "replyguard-blog: cannot listen on %s\n",
                b->opt.listen);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : 0;
    return d;
}
