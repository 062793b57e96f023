/*
 * Fuzz target: store URLs (lib/store.c, docs/redis.md), through the parse
 * step that rg_store_open() runs before it opens anything, so no file is
 * created and no connection made.
 *
 * Input: the URL (up to its first NUL).
 *
 * Invariants: the result is RG_OK, RG_EINVAL (exactly for the empty URL),
 * RG_EURL or RG_ENOSUPPORT; the backend is the one the scheme names, in
 * any case. A memory: URL has its settings within their documented
 * ranges, and written back canonically it parses alike; rg_store_open()
 * agrees with it (a small memory: store is opened for real, having no
 * side effect). A sqlite: URL keeps its path as it is. A redis: or unix:
 * URL has a host (a name or an IPv4 address, or an IPv6 address in
 * brackets) or a socket path (absolute), a port, database, timeout and
 * prefix within their documented ranges, all inside the URL; written back
 * canonically it parses alike.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "rg-config.h"
#include "store.h"

static bool inside(const char *url, size_t url_len, const char *p, size_t n)
{
    return p >= url && p + n <= url + url_len;
}

static bool has_scheme(const char *url, const char *scheme)
{
    return rg__url_has_scheme(url, scheme);
}

static void check_memory(const char *url, const rg__store_url *u)
{
    FUZZ_CHECK(has_scheme(url, "memory:"), "memory: for '%s'", url);
    FUZZ_CHECK(u->capacity >= 1 && u->capacity <= 100000000 && u->tokens >= 1 &&
                   u->tokens <= 100000000,
               "capacity %zu, tokens %zu", u->capacity, u->tokens);
    FUZZ_CHECK(u->has_capacity || u->capacity == 100000, "default capacity %zu",
               u->capacity);

    char again[128];
    if (u->has_capacity)
        snprintf(again, sizeof again, "memory:?capacity=%zu&tokens=%zu",
                 u->capacity, u->tokens);
    else
        snprintf(again, sizeof again, "memory:?tokens=%zu", u->tokens);
    rg__store_url v;
    FUZZ_CHECK(rg__store_url_parse(again, &v) == RG_OK &&
                   v.kind == RG__STORE_MEMORY && v.capacity == u->capacity &&
                   v.tokens == u->tokens && v.has_capacity == u->has_capacity,
               "'%s' written back as '%s'", url, again);

    /* Small enough to open for real: 48 bytes a slot, two slots an entry. */
    if (u->capacity <= 100000) {
        rg_store *s = NULL;
        int rc = rg_store_open(&s, url);
        FUZZ_CHECK(rc == RG_OK && s, "rg_store_open('%s'): %s", url,
                   rg_err_name(rc));
        rg_store_close(s);
    }
}

static void check_redis(const char *url, size_t url_len, const rg__redis_url *r)
{
    FUZZ_CHECK(has_scheme(url, "redis://") || has_scheme(url, "unix:"),
               "redis for '%s'", url);
    FUZZ_CHECK((r->host == NULL) != (r->socket_path == NULL),
               "host and socket");
    FUZZ_CHECK(r->port >= 1 && r->port <= 65535 && r->db >= 0 &&
                   r->db <= 1000000 && r->timeout_ms >= 1 &&
                   r->timeout_ms <= 60000,
               "port %d, db %d, timeout %d", r->port, r->db, r->timeout_ms);
    if (r->host) {
        FUZZ_CHECK(has_scheme(url, "redis://"), "a host in '%s'", url);
        FUZZ_CHECK(r->host_len >= 1 && r->host_len <= 255 &&
                       inside(url, url_len, r->host, r->host_len),
                   "host of %zu bytes", r->host_len);
        /* A name or an IPv4 address, or an IPv6 address (in brackets). */
        char text[256];
        memcpy(text, r->host, r->host_len);
        text[r->host_len] = '\0';
        struct in6_addr a6;
        bool ipv6 = inet_pton(AF_INET6, text, &a6) == 1;
        FUZZ_CHECK(ipv6 || strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
                                        "KLMNOPQRSTUVWXYZ0123456789-._") ==
                               r->host_len,
                   "host '%s' is neither a name nor an address", text);
        FUZZ_CHECK(ipv6 == (url[8] == '['), "brackets around '%s'", text);
    } else {
        FUZZ_CHECK(r->socket_path_len >= 1 && r->socket_path_len <= 4000 &&
                       r->socket_path[0] == '/' &&
                       inside(url, url_len, r->socket_path, r->socket_path_len),
                   "socket path of %zu bytes", r->socket_path_len);
    }
    if (r->prefix) {
        FUZZ_CHECK(r->prefix_len >= 1 && r->prefix_len <= 64 &&
                       inside(url, url_len, r->prefix, r->prefix_len),
                   "prefix of %zu bytes", r->prefix_len);
        for (size_t i = 0; i < r->prefix_len; i++) {
            char c = r->prefix[i];
            FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || strchr("-_.:", c),
                       "prefix byte %#x", (unsigned char)c);
        }
    }

    /* Written back canonically, it parses alike. A host that holds ':' (an
     * IPv6 address) came in brackets, and goes back in them. */
    size_t room = url_len + 128;
    char *again = malloc(room);
    FUZZ_CHECK(again != NULL, "memory");
    int n;
    if (r->host) {
        bool brackets = memchr(r->host, ':', r->host_len) != NULL;
        n = snprintf(again, room, "redis://%s%.*s%s:%d/%d?timeout_ms=%d",
                     brackets ? "[" : "", (int)r->host_len, r->host,
                     brackets ? "]" : "", r->port, r->db, r->timeout_ms);
    } else {
        n = snprintf(again, room, "unix://%.*s?db=%d&timeout_ms=%d",
                     (int)r->socket_path_len, r->socket_path, r->db,
                     r->timeout_ms);
    }
    FUZZ_CHECK(n > 0 && (size_t)n < room, "room");
    if (r->prefix)
        snprintf(again + n, room - (size_t)n, "&prefix=%.*s",
                 (int)r->prefix_len, r->prefix);

    rg__redis_url v;
    int rc = rg__redis_url_parse(again, &v);
    FUZZ_CHECK(rc == RG_OK, "'%s' written back as '%s': %s", url, again,
               rg_err_name(rc));
    FUZZ_CHECK(
        v.port == r->port && v.db == r->db && v.timeout_ms == r->timeout_ms &&
            (v.host != NULL) == (r->host != NULL) &&
            v.host_len == r->host_len &&
            (!v.host || memcmp(v.host, r->host, v.host_len) == 0) &&
            v.socket_path_len == r->socket_path_len &&
            (!v.socket_path ||
             memcmp(v.socket_path, r->socket_path, v.socket_path_len) == 0) &&
            v.prefix_len == r->prefix_len &&
            (!v.prefix || memcmp(v.prefix, r->prefix, v.prefix_len) == 0),
        "'%s' written back as '%s' parses otherwise", url, again);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    char *url = fuzz_string(&in);
    size_t len = strlen(url);

    rg__store_url u;
    int rc = rg__store_url_parse(url, &u);
    FUZZ_CHECK(rc == RG_OK || rc == RG_EINVAL || rc == RG_EURL ||
                   rc == RG_ENOSUPPORT,
               "'%s': %s", url, rg_err_name(rc));
    FUZZ_CHECK((rc == RG_EINVAL) == (len == 0), "'%s': %s", url,
               rg_err_name(rc));
    if (rc == RG_ENOSUPPORT)
        FUZZ_CHECK((u.kind == RG__STORE_SQLITE && !RG_HAVE_SQLITE) ||
                       (u.kind == RG__STORE_REDIS && !RG_HAVE_REDIS),
                   "'%s': not supported", url);

    /* A URL that does not parse does not open either. */
    if (rc == RG_EURL || rc == RG_EINVAL) {
        rg_store *s = NULL;
        FUZZ_CHECK(rg_store_open(&s, url) == rc && !s, "'%s' opens", url);
    }

    if (rc == RG_OK) {
        switch (u.kind) {
        case RG__STORE_MEMORY:
            check_memory(url, &u);
            break;
        case RG__STORE_SQLITE:
            FUZZ_CHECK(has_scheme(url, "sqlite:") && u.rest == url + 7 &&
                           *u.rest,
                       "sqlite: '%s'", url);
            break;
        case RG__STORE_REDIS:
            check_redis(url, len, &u.redis);
            break;
        }
    }
    free(url);
    return 0;
}
