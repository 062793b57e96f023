#include "helpers.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

uint64_t rg_test_clock(void *arg)
{
    return *(const uint64_t *)arg;
}

const uint8_t rg_test_key[RG_KEY_BYTES] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

rg_guard *rg_test_guard(uint64_t *now, const char *store)
{
    rg_config cfg;
    rg_config_init(&cfg);
    cfg.clock = rg_test_clock;
    cfg.clock_arg = now;
    if (store)
        cfg.store = store;
    rg_guard *g = NULL;
    int rc = rg_guard_new(&g, &cfg);
    ck_assert_msg(rc == RG_OK, "rg_guard_new: %s", rg_strerror(rc));
    rc = rg_guard_add_key(g, 1, rg_test_key, 1);
    ck_assert_msg(rc == RG_OK, "rg_guard_add_key: %s", rg_strerror(rc));
    return g;
}

const char *rg_test_tmpdir(void)
{
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/replyguard-test-XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(path));
    return path;
}
