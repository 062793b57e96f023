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

int rg_store_open(rg_store **out, const char *url)
{
    int rc = rg__ensure_init();
    if (rc != RG_OK)
        return rc;
    if (!out)
        return RG_EINVAL;
    *out = NULL;
    if (!url || !*url)
        return RG_EINVAL;

    if (rg__url_has_scheme(url, "memory:"))
        return rg__store_memory_open(out, url + sizeof "memory:" - 1);

    if (rg__url_has_scheme(url, "sqlite:")) {
        const char *path = url + sizeof "sqlite:" - 1;
        if (!*path)
            return RG_EURL;
#if RG_HAVE_SQLITE
        return rg__store_sqlite_open(out, path);
#else
        return RG_ENOSUPPORT;
#endif
    }

    if (rg__url_has_scheme(url, "redis:") || rg__url_has_scheme(url, "unix:")) {
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
