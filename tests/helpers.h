/*
 * Fixtures shared by the test suites: a clock the test sets, a guard with a
 * fixed key, and a scratch directory.
 */
#ifndef RG_TEST_HELPERS_H
#define RG_TEST_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "replyguard.h"
#include "rg-config.h"

/* A clock that returns *(uint64_t *)arg: point clock_arg at a variable. */
uint64_t rg_test_clock(void *arg);

/* The fixed test key: bytes 0x00, 0x01, ..., 0x1f. */
extern const uint8_t rg_test_key[RG_KEY_BYTES];

/*
 * A new guard on `store` (NULL for "memory:") with the test clock pointing
 * at *now and the test key (id 1) signing. Fails the test on error.
 */
rg_guard *rg_test_guard(uint64_t *now, const char *store);

/*
 * A fresh empty directory under $TMPDIR (or /tmp), for store files. The
 * path is returned in static storage; each call makes a new directory, and
 * the directories go, with what they hold, when the test process exits.
 */
const char *rg_test_tmpdir(void);

/*
 * True under valgrind: `meson test --setup valgrind` sets RG_TEST_VALGRIND.
 * Code runs some 50 times slower there, so the longest loops run fewer
 * rounds of the same checks; and valgrind's heap ignores RLIMIT_AS, so the
 * tests that run out of memory through it leave that part out.
 */
bool rg_test_under_valgrind(void);

/*
 * ck_assert() and ck_assert_msg() for loops of thousands. Check logs every
 * assertion that passes (a write to a file), which in such a loop costs
 * more than what it checks, and some 50 times more under valgrind; these
 * call Check only when expr is false. expr is evaluated once.
 */
#define rg_test_assert_msg(expr, ...)                                          \
    do {                                                                       \
        if (!(expr))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)
#define rg_test_assert(expr)                                                   \
    rg_test_assert_msg(expr, "Assertion '%s' failed", #expr)

/*
 * Issues a challenge in digits for binding on g and writes its right
 * answer, in digits, to answer (16 bytes); fails the test if either step
 * does.
 */
void rg_test_issue_solved(rg_guard *g, const char *binding, rg_challenge *c,
                          char answer[16]);

/* Removes a directory tree (mode bits permitting, after restoring them on
 * the top directory). */
void rg_test_rmtree(const char *path);

/* Writes len bytes to the file at path (created or truncated). */
void rg_test_write_file(const char *path, const void *bytes, size_t len);

/* The whole file at path, with one spare byte after its *len bytes (so a
 * test may append one); the caller frees it. */
unsigned char *rg_test_read_file(const char *path, size_t *len);

#if RG_HAVE_SQLITE
/* The single integer a statement on the SQLite file at path returns. */
long long rg_test_sql_int(const char *path, const char *sql);

/* Runs SQL on the file at path (created if need be); fails the test on
 * error. */
void rg_test_sql_exec(const char *path, const char *sql);
#endif

#if RG_HAVE_REDIS
/*
 * A redis-server of the test's own, on a free loopback port and a Unix
 * socket in a scratch directory, with nothing saved to disk. Started once
 * per process by rg_test_redis_url() (NULL when redis-server is not
 * installed); killed when the process that started it exits. Check runs
 * each test in a child, so a suite starts it from its suite function, in
 * the parent, and the children share it.
 */
const char *rg_test_redis_url(void);
/* "unix:" and the server's socket. */
const char *rg_test_redis_socket_url(void);
/* Kills the server (SIGKILL), and waits for it to end when this process
 * started it (a test child cannot wait for its parent's child: it should
 * wait until connections are refused). */
void rg_test_redis_kill(void);
/* Starts it again on the same port and socket; false when it does not
 * come up. */
bool rg_test_redis_restart(void);
#endif

#endif
