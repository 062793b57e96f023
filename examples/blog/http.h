/*
 * What http.c shares with admin.c: a request's form fields, and the
 * responses that carry the blog's security headers.
 */
#ifndef REPLYGUARD_BLOG_HTTP_H
#define REPLYGUARD_BLOG_HTTP_H

#include "blog.h"

#include <microhttpd.h>

/* The fields a POST may carry; anything else is ignored. */
typedef enum field_id {
    F_AUTHOR,
    F_EMAIL,
    F_URL,
    F_COMMENT,
    F_ANSWER,
    F_TOKEN,
    F_HONEYPOT,
    F_CSRF,
    F_ID,
    F_DO,
    F_COUNT
} field_id;

typedef struct request {
    blog *b;
    struct MHD_PostProcessor *pp;
    size_t received;
    bool too_big;
    buf fields[F_COUNT];
} request;

/* A field's value, "" when it was not sent. */
const char *req_field(const request *r, field_id f);

/* Sends body (taken: it is freed either way) with the security headers.
 * cache is the Cache-Control value. */
enum MHD_Result http_send(struct MHD_Connection *c, unsigned status,
                          const char *type, const char *cache, buf *body);
/* A 303 to location. */
enum MHD_Result http_redirect(struct MHD_Connection *c, const char *location);
/* A short HTML page: title and one sentence. */
enum MHD_Result http_message(struct MHD_Connection *c, unsigned status,
                             const char *title, const char *text);

/* GET /admin and POST /admin/action; both check the password first. */
enum MHD_Result admin_page(blog *b, struct MHD_Connection *c);
enum MHD_Result admin_action(blog *b, struct MHD_Connection *c, request *r);

#endif
