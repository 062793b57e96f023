/* One-time initialisation and the library's constants as functions. */
#include "internal.h"

#include <sodium.h>

int rg_init(void)
{
    /*
     * sodium_init() is itself idempotent and thread-safe (it takes a lock),
     * so it is the whole of our one-time work: replyguard keeps no other
     * global state.
     */
    return sodium_init() < 0 ? RG_EINIT : RG_OK;
}

int rg__ensure_init(void)
{
    return rg_init();
}

const char *rg_version(void)
{
    return RG_VERSION_STRING;
}

size_t rg_key_bytes(void)
{
    return RG_KEY_BYTES;
}

size_t rg_token_max(void)
{
    return RG_TOKEN_MAX;
}

size_t rg_question_max(void)
{
    return RG_QUESTION_MAX;
}
