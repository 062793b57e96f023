/*
 * rg_store_open(): picks a store backend by the scheme of a URL.
 *
 * Schemes are matched without regard to ASCII case, as RFC 3986 (section
 * 3.1) asks of URL schemes, so "MEMORY:" and "SQLite:/var/x.db" work; what
 * follows the scheme (the query keys of memory:, the path of sqlite:) is
 * case-sensitive.
 */
#include <stddef.h>

#include "rg-config.h"
#include "store.h"

bool rg__url_has_scheme(const char *url, const char *scheme)
{
    for (; *scheme; url++, scheme++) {
        char c = *url;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *scheme)
            return false;
    }
    return true;
}

int rg__store_url_parse(const char *url, rg__store_url *out)
{
    if (!out)
        return RG_EINVAL;
    *out = (rg__store_url){.kind = RG__STORE_MEMORY};
    if (!url || !*url)
        return RG_EINVAL;

    if (rg__url_has_scheme(url, "memory:")) {
        out->rest = url + sizeof "memory:" - 1;
        return rg__memory_options(out->rest, &out->capacity, &out->tokens,
                                  &out->has_capacity);
    }

    if (rg__url_has_scheme(url, "sqlite:")) {
        out->kind = RG__STORE_SQLITE;
        out->rest = url + sizeof "sqlite:" - 1;
        if (!*out->rest)
            return RG_EURL;
        return RG_HAVE_SQLITE ? RG_OK : RG_ENOSUPPORT;
    }

    if (rg__url_has_scheme(url, "redis:") || rg__url_has_scheme(url, "unix:")) {
        out->kind = RG__STORE_REDIS;
#if RG_HAVE_REDIS
        return rg__redis_url_parse(url, &out->redis);
#else
        return RG_ENOSUPPORT;
#endif
    }
    return RG_EURL;
}

int rg_store_open(rg_store **out, const char *url)
{
    int rc = rg__ensure_init();
    if (rc != RG_OK)
        return rc;
    if (!out)
        return RG_EINVAL;
    *out = NULL;

    /* The backends read the URL with the parsers rg__store_url_parse()
     * used, so what it accepts is what opens. */
    rg__store_url u;
    if ((rc = rg__store_url_parse(url, &u)) != RG_OK)
        return rc;
    switch (u.kind) {
    case RG__STORE_MEMORY:
        return rg__store_memory_open(out, u.rest);
    case RG__STORE_SQLITE:
#if RG_HAVE_SQLITE
        return rg__store_sqlite_open(out, u.rest);
#else
        return RG_ENOSUPPORT;
#endif
    case RG__STORE_REDIS:
#if RG_HAVE_REDIS
        return rg__store_redis_open(out, url);
#else
        return RG_ENOSUPPORT;
#endif
    }
    return RG_EURL;
}

void rg_store_close(rg_store *s)
{
    if (s)
        s->ops->close(s);
}
