/* Error codes and verdicts as text, generated from the tables in the header. */
#include "replyguard.h"

#include <stddef.h>

const char *rg_strerror(int err)
{
    switch (err) {
    case RG_OK:
        return "success";
#define RG_ERR_TEXT_(name, value, text)                                        \
    case RG_##name:                                                            \
        return text;
        RG_ERRNO_MAP(RG_ERR_TEXT_)
#undef RG_ERR_TEXT_
    }
    return "unknown error";
}

const char *rg_err_name(int err)
{
    switch (err) {
    case RG_OK:
        return "RG_OK";
#define RG_ERR_NAME_(name, value, text)                                        \
    case RG_##name:                                                            \
        return "RG_" #name;
        RG_ERRNO_MAP(RG_ERR_NAME_)
#undef RG_ERR_NAME_
    }
    return "RG_EUNKNOWN";
}

const char *rg_verdict_name(rg_verdict v)
{
    /* The names are part of the CLI and binding contracts: never change. */
    static const char *const names[] = {
        [RG_VERDICT_PASS] = "pass",
        [RG_VERDICT_WRONG] = "wrong",
        [RG_VERDICT_EXPIRED] = "expired",
        [RG_VERDICT_TOO_FAST] = "too_fast",
        [RG_VERDICT_REPLAYED] = "replayed",
        [RG_VERDICT_FORGED] = "forged",
        [RG_VERDICT_MALFORMED] = "malformed",
    };
    if ((unsigned)v >= sizeof names / sizeof names[0])
        return "unknown";
    return names[v];
}
