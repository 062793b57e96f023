#include "helpers.h"
#include "solver.h"

#if RG_HAVE_SQLITE
#include <sqlite3.h>
#endif

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

void rg_test_rmtree(const char *path)
{
    /* A test may have taken the write bit away to provoke a failure. */
    chmod(path, 0700);
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool rg_test_under_valgrind(void)
{
    const char *v = getenv("RG_TEST_VALGRIND");
    return v && *v && strcmp(v, "0") != 0;
}

/* Directories made by this process, removed when it exits. */
static char made[64][512];
static int nmade;

static void remove_made(void)
{
    for (int i = 0; i < nmade; i++)
        rg_test_rmtree(made[i]);
    nmade = 0;
}

const char *rg_test_tmpdir(void)
{
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/replyguard-test-XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(path));
    if (nmade == 0)
        atexit(remove_made);
    if (nmade < (int)(sizeof made / sizeof made[0]))
        memcpy(made[nmade++], path, sizeof path);
    return path;
}

void rg_test_write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_msg(f != NULL, "%s: cannot create", path);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

unsigned char *rg_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    size_t room = 4096, n = 0;
    unsigned char *bytes = malloc(room);
    ck_assert_ptr_nonnull(bytes);
    for (;;) {
        n += fread(bytes + n, 1, room - n, f);
        if (n < room)
            break;
        room *= 2;
        bytes = realloc(bytes, room);
        ck_assert_ptr_nonnull(bytes);
    }
    ck_assert(!ferror(f));
    fclose(f);
    *len = n; /* n < room: the spare byte is there */
    return bytes;
}

#if RG_HAVE_SQLITE

long long rg_test_sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void rg_test_sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL),
                     SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

#endif

#if RG_HAVE_REDIS
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
    pid_t pid;     /* of the server, or 0 */
    pid_t starter; /* the process that started it */
    int port;
    char dir[512];
    char url[64];
    char socket_url[600];
} redis;

/* A port nobody listens on now (the kernel's pick for port 0). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool redis_answers(void)
{
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis.port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

static void redis_stop_at_exit(void)
{
    if (redis.pid > 0 && getpid() == redis.starter)
        rg_test_redis_kill();
}

/* Starts the server on redis.port; false when it does not answer within
 * five seconds (or redis-server is missing). */
static bool redis_spawn(void)
{
    char port[16], sock[600], log[600];
    snprintf(port, sizeof port, "%d", redis.port);
    snprintf(sock, sizeof sock, "%s/redis.sock", redis.dir);
    snprintf(log, sizeof log, "%s/redis.log", redis.dir);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind",
               "127.0.0.1", "--unixsocket", sock, "--unixsocketperm", "700",
               "--save", "", "--appendonly", "no", "--dir", redis.dir,
               "--logfile", log, "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    redis.pid = pid;
    redis.starter = getpid();
    for (int i = 0; i < 250; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            redis.pid = 0;
            return false;
        }
        if (redis_answers())
            return true;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    rg_test_redis_kill();
    return false;
}

const char *rg_test_redis_url(void)
{
    if (redis.pid > 0)
        return redis.url;
    const char *base = getenv("TMPDIR");
    snprintf(redis.dir, sizeof redis.dir, "%s/replyguard-redis-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(redis.dir) || (redis.port = free_port()) < 0)
        return NULL;
    if (!redis_spawn())
        return NULL;
    snprintf(redis.url, sizeof redis.url, "redis://127.0.0.1:%d", redis.port);
    snprintf(redis.socket_url, sizeof redis.socket_url, "unix://%s/redis.sock",
             redis.dir);
    atexit(redis_stop_at_exit);
    return redis.url;
}

const char *rg_test_redis_socket_url(void)
{
    return rg_test_redis_url() ? redis.socket_url : NULL;
}

void rg_test_redis_kill(void)
{
    if (redis.pid <= 0)
        return;
    kill(redis.pid, SIGKILL);
    waitpid(redis.pid, NULL, 0);
    redis.pid = 0;
}

bool rg_test_redis_restart(void)
{
    rg_test_redis_kill();
    return redis_spawn();
}
#endif

void rg_test_issue_solved(rg_guard *g, const char *binding, rg_challenge *c,
                          char answer[16])
{
    uint32_t value;

    ck_assert_int_eq(
        rg_challenge_issue_in(g, binding, NULL, RG_STYLE_DIGITS, c), RG_OK);
    ck_assert_msg(rg_test_solve(c->question, &value), "cannot solve '%s'",
                  c->question);
    snprintf(answer, 16, "%u", value);
}
