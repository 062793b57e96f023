/*
 * The redis:// store's calls against Redis's own benchmark tool, on the
 * same server in the same run: rg_challenge_verify(), whose store work is
 * one SET NX PX to spend the token's nonce, and rg_limiter_take(), one
 * EVALSHA of the limiter's GCRA script. The anchor is redis-benchmark
 * sending a comparable command: a C client that does nothing but send
 * it and read the reply, so replyguard's rate over its rate says what
 * replyguard's own work (decoding and checking the token, hashing the
 * limiter's key, the connection pool, a blocking client) costs on top of
 * the round trip.
 *
 * The bench starts its own redis-server on a free port of 127.0.0.1,
 * with no persistence, in a fresh directory, and stops it by its pid at
 * the end: on error paths too, on SIGINT, SIGTERM and SIGHUP, and (on
 * Linux) when the bench itself dies. Without redis-server or
 * redis-benchmark on PATH it says so and exits 77.
 *
 * The comparison that counts is like for like: one connection and no
 * pipelining (redis-benchmark -c 1 -P 1), as replyguard makes one round
 * trip per call on one connection per calling thread. redis-benchmark
 * gains much from a second connection on a second CPU, so the bench also
 * runs replyguard on two threads against redis-benchmark -c 2, as
 * figures only.
 *
 * - verify: a guard on the server with a fixed key and a clock that is a
 *   variable the bench moves on, so that tokens are answered after the
 *   minimum solve time without sleeping. Each measurement issues N fresh
 *   challenges (additions in digits, whose answers the bench works out)
 *   before the timing starts, then verifies each once, rightly. Anchor:
 *   SET nonce:<random> 1 NX PX 60000.
 * - limiter: takes of cost 1 on 10,000 IPv4 client keys drawn from a
 *   fixed seed, at one a second with a burst of 1,000,000, so that every
 *   take is allowed and every key stays on the server between its takes.
 *   The first take of each key is made before any timing. Anchor: EVALSHA
 *   of a small script that does on the server what the GCRA script does
 *   (TIME, a GET and a SET with PX of one key) over 10,000 random keys.
 *
 * Each call is timed on its own with the monotonic clock, for the median
 * and the 99th percentile. Beside them: the server's own time a call
 * (from its command statistics) and the client's CPU time a call (its
 * rusage), which say where the round trip goes. After every measurement
 * the statistics must show one call of the command per call timed and
 * none failed, so that neither side is measured doing less than it says.
 *
 * Machines are noisy, so the measurements take turns in rounds and each
 * keeps its best round (its rate, with that round's other figures).
 * Target: replyguard at least 0.7 x redis-benchmark's rate for the same
 * command on one connection, for both calls. The exit status is 0 when
 * the measurements ran, whatever the figures.
 *
 * Usage: bench-redis [--n N] [--rounds R]   (defaults 20000 and 3)
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <replyguard.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "bench.h"

#define N_DEFAULT      20000ul
#define N_MAX          1000000ul
#define ROUNDS_DEFAULT 3ul
#define ROUNDS_MAX     100ul
#define THREADS        2
#define TARGET         0.7
#define LIMIT_KEYS     10000u
#define LIMIT_RATE     1.0
#define LIMIT_BURST    1000000u
#define SEED           0x9e3779b97f4a7c15ull
#define BINDING        "post-1|comments"
#define ANSWER_TEXT    12
#define ADDRESS_TEXT   16
#define PATH_TEXT      4096
#define ARG_TEXT       24
#define OUTPUT_MAX     8192
#define PORT_TRIES     3
#define START_WAIT_S   10.0
#define STOP_WAIT_S    5.0
#define LOG_TAIL       2048
/* The anchors' key spaces: the verify's wide enough that every SET NX
 * writes a new key, as every spend does (with 100,000 keys and a minute
 * to live, most SETs of the later rounds would find their key and write
 * nothing); the limiter's as many as its client keys. */
#define SET_KEYSPACE    "1000000000"
#define LIMIT_KEYSPACE  "10000"
#define ANCHOR_INTERVAL "1000000" /* the limiter's, in microseconds */

/*
 * The anchor of a limiter take: on the server, what the GCRA script does
 * (the server's TIME, a GET and a SET with PX of one key, four numbers
 * back), without its sums of tolerance and retry. ARGV[1] is the
 * interval in microseconds.
 */
static const char ANCHOR_LUA[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if tat < now then tat = now end\n"
    "tat = tat + tonumber(ARGV[1])\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX',\n"
    "           math.ceil((tat - now) / 1000))\n"
    "return {1, 0, 0, tat - now}\n";

/* What each measurement times: replyguard's two calls, and redis-
 * benchmark's two anchors. */
enum { VERIFY, TAKE, ANCHOR_SET, ANCHOR_EVAL, MEASURES };
enum { ONE, TWO, WAYS }; /* one connection, two */

static const char *const MEASURE_NAMES[MEASURES] = {
    "rg_challenge_verify",
    "rg_limiter_take",
    "redis-benchmark SET NX PX",
    "redis-benchmark EVALSHA",
};

/* The command each measurement must run once a call, as the server's
 * statistics name it. */
static const char *const MEASURE_COMMANDS[MEASURES] = {"set", "evalsha", "set",
                                                       "evalsha"};

/* One measurement's figures; a measure keeps its best round's. */
typedef struct figure {
    double rate; /* calls a second */
    double p50_us, p99_us;
    double server_us; /* the server's own time a call */
    double client_us; /* the client's CPU time a call, user and system */
} figure;

/* The redis-server the bench started. */
typedef struct server {
    pid_t pid; /* 0: not running */
    int port;
    char dir[PATH_TEXT]; /* "": not made */
    char log[PATH_TEXT];
    char version[ARG_TEXT];
    redisContext *admin; /* for scripts and statistics */
} server;

/* Everything the measurements work with. */
typedef struct bench {
    size_t n;
    server srv;
    char benchmark[PATH_TEXT]; /* redis-benchmark's path */
    char sha[41];              /* the anchor script's */
    rg_guard *g;
    rg_config cfg;
    rg_limiter *limiter;
    char (*token)[RG_TOKEN_MAX];
    char (*answer)[ANSWER_TEXT];
    uint8_t (*keys)[RG_CLIENT_KEY_MAX];
    size_t *key_len;
    uint32_t *seq; /* each take's key */
    double *lat;   /* each call's time, seconds */
} bench;

/* One thread's share of a timed run: calls first to first + count - 1. */
typedef struct job {
    bench *b;
    int measure;
    size_t first, count;
    pthread_barrier_t *start_line;
    double start, end;
    int rc;             /* RG_OK, or the first error */
    bool bad;           /* a verdict not PASS, or a take not allowed */
    rg_verdict verdict; /* the first bad verdict */
} job;

/* The guard's clock: the bench moves it on instead of sleeping. Written
 * only while no thread times. */
static uint64_t fake_now = 1700000000;

static uint64_t bench_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

/* The server to stop when a signal ends the bench (Ctrl-C), so that
 * neither it nor its directory outlives the bench: set from the moment
 * the directory exists. */
static server *volatile signal_server;

/* Stops the server and removes its directory with calls that are safe in
 * a handler, then ends the bench by the same signal. */
static void on_signal(int sig)
{
    server *s = signal_server;
    if (s && s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    if (s && s->dir[0]) {
        unlink(s->log);
        rmdir(s->dir);
    }
    /* The handler was reset on entry (SA_RESETHAND) and the signal is
     * held until it returns: then it ends the process as it would have. */
    raise(sig);
}

static void catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* xorshift64*: a fixed seed gives the same keys and order on every run. */
static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static int fail_rg(const char *what, int rc)
{
    fprintf(stderr, "bench-redis: %s: %s\n", what, rg_strerror(rc));
    return -1;
}

static int fail_redis(const char *what, const redisContext *c,
                      const redisReply *r)
{
    const char *why = c && c->err                         ? c->errstr
                      : r && r->type == REDIS_REPLY_ERROR ? r->str
                      : !r                                ? "no reply"
                                                          : "unexpected reply";
    fprintf(stderr, "bench-redis: %s: %s\n", what, why);
    return -1;
}

/* ---- Programs ---- */

/* The full path of `name` on PATH (or, without PATH, the system's
 * default, as execvp() would), in out; false when it is not there. */
static bool find_program(const char *name, char out[PATH_TEXT])
{
    char fallback[PATH_TEXT];
    const char *path = getenv("PATH");
    if (!path || !*path) {
        size_t len = confstr(_CS_PATH, fallback, sizeof fallback);
        if (len == 0 || len > sizeof fallback)
            return false;
        path = fallback;
    }
    while (*path) {
        size_t len = strcspn(path, ":");
        /* An empty entry means the current directory, which a bench
         * has no business running programs from. */
        if (len > 0) {
            int w = snprintf(out, PATH_TEXT, "%.*s/%s", (int)len, path, name);
            if (w > 0 && w < PATH_TEXT && access(out, X_OK) == 0)
                return true;
        }
        path += len + (path[len] == ':');
    }
    return false;
}

/* In a child, before exec: stdin from /dev/null, stdout to fd `out` (or
 * left alone when -1), stderr to `err` (likewise); on Linux, SIGTERM when
 * the bench dies, so that no server outlives it. Only calls that are
 * safe after fork. */
static void child_setup(int out, int err)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        close(null);
    }
    if (out >= 0)
        dup2(out, STDOUT_FILENO);
    if (err >= 0)
        dup2(err, STDERR_FILENO);
}

/* User and system CPU time, in seconds. */
static double cpu_seconds(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/*
 * Runs `path` with argv and reads what it writes on stdout into out (at
 * most size - 1 bytes, NUL-terminated; the rest is read and dropped).
 * Its stderr is the bench's. Writes the CPU time it used to *cpu_s. 0
 * when it exited with status 0.
 */
static int run_capture(const char *path, char *const argv[], char *out,
                       size_t size, double *cpu_s)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("bench-redis: pipe");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench-redis: fork");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_setup(fds[1], -1);
        close(fds[1]);
        execv(path, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    for (;;) {
        char drop[512];
        bool room = used + 1 < size;
        ssize_t got = room ? read(fds[0], out + used, size - 1 - used)
                           : read(fds[0], drop, sizeof drop);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (room)
            used += (size_t)got;
    }
    out[used] = '\0';
    close(fds[0]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("bench-redis: wait4");
            return -1;
        }
    }
    *cpu_s = cpu_seconds(&ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench-redis: %s failed (%s %d)\n", path,
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* ---- The server ---- */

/* A port of 127.0.0.1 that is free now: the kernel's pick for port 0.
 * Another program may take it before the server does; the caller tries
 * again then. */
static int free_port(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("bench-redis: cannot find a free port");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    close(fd);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Stops the server by its pid: SIGTERM, then SIGKILL if it lingers. */
static void server_kill(server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    double deadline = bench_now() + STOP_WAIT_S;
    for (;;) {
        pid_t w = waitpid(s->pid, NULL, WNOHANG);
        if (w == s->pid || (w < 0 && errno != EINTR))
            break;
        if (bench_now() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            break;
        }
        sleep_ms(10);
    }
    s->pid = 0;
}

/* Prints the end of the server's log, which says why it did not start. */
static void print_log_tail(const server *s)
{
    FILE *f = fopen(s->log, "r");
    char text[LOG_TAIL + 1];
    if (!f)
        return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > LOG_TAIL)
            fseek(f, size - LOG_TAIL, SEEK_SET);
        else
            rewind(f);
    }
    size_t got = fread(text, 1, LOG_TAIL, f);
    text[got] = '\0';
    fclose(f);
    fprintf(stderr, "bench-redis: the end of redis-server's log:\n%s\n", text);
}

/* The value of `field` in an INFO reply ("redis_version:7.0.15\r\n"),
 * into out; false when it is missing. */
static bool info_field(const char *info, const char *field, char *out,
                       size_t size)
{
    size_t flen = strlen(field);
    const char *p = info;
    while (p) {
        if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
            const char *v = p + flen + 1;
            size_t len = strcspn(v, "\r\n");
            if (len >= size)
                return false;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

/*
 * Waits until the server answers and is the process the bench started
 * (its INFO names its pid: another server that happens to hold the port
 * would be no use). Keeps the connection for later. 1 when it
 * is ready, 0 when it exited (a port taken: try another), -1 otherwise.
 */
static int server_wait(server *s)
{
    double deadline = bench_now() + START_WAIT_S;
    struct timeval tv = {0, 200000};
    while (bench_now() < deadline) {
        int status;
        pid_t w = waitpid(s->pid, &status, WNOHANG);
        if (w == s->pid) {
            s->pid = 0;
            return 0;
        }
        redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
        redisReply *r = NULL;
        if (c && !c->err && redisSetTimeout(c, tv) == REDIS_OK)
            r = redisCommand(c, "INFO server");
        if (r && r->type == REDIS_REPLY_STRING) {
            char pid[ARG_TEXT];
            char want[ARG_TEXT];
            snprintf(want, sizeof want, "%ld", (long)s->pid);
            bool ours = info_field(r->str, "process_id", pid, sizeof pid) &&
                        strcmp(pid, want) == 0;
            if (!info_field(r->str, "redis_version", s->version,
                            sizeof s->version))
                snprintf(s->version, sizeof s->version, "unknown");
            freeReplyObject(r);
            if (!ours) {
                redisFree(c);
                fprintf(stderr,
                        "bench-redis: another server answers on "
                        "port %d\n",
                        s->port);
                return -1;
            }
            s->admin = c;
            return 1;
        }
        /* Still loading, or not listening yet. */
        freeReplyObject(r);
        if (c)
            redisFree(c);
        sleep_ms(20);
    }
    fprintf(stderr, "bench-redis: redis-server did not answer within %.0f s\n",
            START_WAIT_S);
    return -1;
}

/* Starts redis-server on a free port, in a directory of its own. */
static int server_start(server *s, const char *exe)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int w = snprintf(s->dir, sizeof s->dir, "%s/bench-redis-XXXXXX", tmp);
    if (w <= 0 || w >= (int)sizeof s->dir || !mkdtemp(s->dir)) {
        fprintf(stderr, "bench-redis: cannot make a directory in %s: %s\n", tmp,
                strerror(errno));
        s->dir[0] = '\0';
        return -1;
    }
    w = snprintf(s->log, sizeof s->log, "%s/redis-server.log", s->dir);
    if (w <= 0 || w >= (int)sizeof s->log) {
        fprintf(stderr, "bench-redis: TMPDIR is too long\n");
        rmdir(s->dir);
        s->dir[0] = '\0';
        return -1;
    }
    signal_server = s;
    for (int attempt = 0; attempt < PORT_TRIES; attempt++) {
        char port[ARG_TEXT];
        if (free_port(&s->port) != 0)
            return -1;
        snprintf(port, sizeof port, "%d", s->port);
        /* clang-format off */
        char *const argv[] = {
            "redis-server", "--port", port, "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", s->dir, NULL};
        /* clang-format on */
        int log = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log < 0) {
            fprintf(stderr, "bench-redis: %s: %s\n", s->log, strerror(errno));
            return -1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            child_setup(log, log);
            execv(exe, argv);
            _exit(127);
        }
        close(log);
        if (pid < 0) {
            perror("bench-redis: fork");
            return -1;
        }
        s->pid = pid;
        int ready = server_wait(s);
        if (ready == 1)
            return 0;
        if (ready < 0)
            break;
    }
    print_log_tail(s);
    return -1;
}

/* Stops the server and removes its directory. */
static void server_stop(server *s)
{
    signal_server = NULL;
    if (s->admin) {
        redisFree(s->admin);
        s->admin = NULL;
    }
    server_kill(s);
    if (!s->dir[0])
        return;
    /* With no persistence the log is the only file the server writes. */
    unlink(s->log);
    if (rmdir(s->dir) != 0)
        fprintf(stderr, "bench-redis: cannot remove %s: %s\n", s->dir,
                strerror(errno));
    s->dir[0] = '\0';
}

/* ---- The server's statistics ---- */

static int reset_stats(server *s)
{
    redisReply *r = redisCommand(s->admin, "CONFIG RESETSTAT");
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok)
        fail_redis("CONFIG RESETSTAT", s->admin, r);
    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* A number after "name=" in a line of INFO commandstats; 0 when absent. */
static double stat_of(const char *line, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = line; p + nlen < line + len; p++)
        if ((p == line || p[-1] == ',' || p[-1] == ':') &&
            strncmp(p, name, nlen) == 0 && p[nlen] == '=')
            return strtod(p + nlen + 1, NULL);
    return 0;
}

/* Checks that the server ran `cmd` n times since the last reset, and
 * that none of them failed or was refused; writes the server's own time
 * a call (for EVALSHA, with the commands its script runs). */
static int check_stats(server *s, const char *cmd, size_t n, const char *who,
                       double *server_us)
{
    redisReply *r = redisCommand(s->admin, "INFO commandstats");
    if (!r || r->type != REDIS_REPLY_STRING) {
        fail_redis("INFO commandstats", s->admin, r);
        freeReplyObject(r);
        return -1;
    }
    char head[ARG_TEXT + 16];
    snprintf(head, sizeof head, "cmdstat_%s:", cmd);
    double calls = 0, failed = 0;
    *server_us = 0;
    const char *line = strstr(r->str, head);
    if (line) {
        size_t len = strcspn(line, "\r\n");
        calls = stat_of(line, len, "calls");
        failed = stat_of(line, len, "failed_calls") +
                 stat_of(line, len, "rejected_calls");
        *server_us = stat_of(line, len, "usec_per_call");
    }
    freeReplyObject(r);
    if (calls != (double)n || failed != 0) {
        fprintf(stderr,
                "bench-redis: %s: the server ran %s %.0f times (%.0f "
                "failed) for %zu calls\n",
                who, cmd, calls, failed, n);
        return -1;
    }
    return 0;
}

/* ---- replyguard's calls ---- */

/* The answer to "4 + 15 =" or "What is 4 plus 15?": the guard asks only
 * additions of two terms, so the sum of the numbers in the question.
 * False for anything else, so that a change in the questions stops the
 * bench rather than skewing it. */
static bool solve(const char *q, uint32_t *answer)
{
    uint32_t sum = 0;
    int terms = 0;
    for (const char *p = q; *p;) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9' && v < 100000)
            v = v * 10 + (uint32_t)(*p++ - '0');
        sum += v;
        terms++;
    }
    *answer = sum;
    return terms == 2;
}

/* Issues n fresh challenges and works out their answers; then moves the
 * clock past the minimum solve time. Untimed. */
static int issue_all(bench *b)
{
    for (size_t i = 0; i < b->n; i++) {
        rg_challenge c;
        uint32_t a;
        int rc = rg_challenge_issue(b->g, BINDING, &c);
        if (rc != RG_OK)
            return fail_rg("rg_challenge_issue", rc);
        if (!solve(c.question, &a)) {
            fprintf(stderr, "bench-redis: cannot solve \"%s\"\n", c.question);
            return -1;
        }
        memcpy(b->token[i], c.token, sizeof c.token);
        snprintf(b->answer[i], sizeof b->answer[i], "%u", a);
    }
    fake_now += b->cfg.min_solve_s + 1;
    return 0;
}

/* Times each call of the job's share on its own. */
static void run_job(job *j)
{
    bench *b = j->b;
    if (j->start_line)
        pthread_barrier_wait(j->start_line);
    j->start = bench_now();
    for (size_t i = j->first; i < j->first + j->count; i++) {
        double t0 = bench_now();
        if (j->measure == VERIFY) {
            rg_verdict v;
            j->rc = rg_challenge_verify(b->g, b->token[i], b->answer[i],
                                        BINDING, &v);
            if (j->rc == RG_OK && v != RG_VERDICT_PASS) {
                j->bad = true;
                j->verdict = v;
            }
        } else {
            rg_limit_result res;
            uint32_t k = b->seq[i];
            j->rc =
                rg_limiter_take(b->limiter, b->keys[k], b->key_len[k], 1, &res);
            if (j->rc == RG_OK && !res.allowed)
                j->bad = true;
        }
        double t1 = bench_now();
        b->lat[i] = t1 - t0;
        if (j->rc != RG_OK || j->bad)
            break;
    }
    j->end = bench_now();
}

static void *job_main(void *arg)
{
    run_job(arg);
    return NULL;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The value below which `percent` per cent of n sorted values lie, by
 * nearest rank. */
static double percentile(const double *sorted, size_t n, unsigned percent)
{
    size_t rank = (n * percent + 99) / 100;
    return sorted[rank > 0 ? rank - 1 : 0];
}

/* Times one of replyguard's calls on `threads` threads, each with its
 * share of the calls, all of them on the server's statistics. */
static int time_replyguard(bench *b, int measure, int threads, figure *out)
{
    if (measure == VERIFY && issue_all(b) != 0)
        return -1;
    if (reset_stats(&b->srv) != 0)
        return -1;

    job jobs[THREADS];
    pthread_barrier_t start_line;
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    for (int t = 0; t < threads; t++)
        jobs[t] = (job){.b = b,
                        .measure = measure,
                        .first = b->n * (size_t)t / (size_t)threads,
                        .count = b->n * (size_t)(t + 1) / (size_t)threads -
                                 b->n * (size_t)t / (size_t)threads,
                        .start_line = threads > 1 ? &start_line : NULL,
                        .rc = RG_OK};
    if (threads == 1) {
        run_job(&jobs[0]);
    } else {
        pthread_t id[THREADS];
        int started = 0;
        if (pthread_barrier_init(&start_line, NULL, (unsigned)threads) != 0) {
            fprintf(stderr, "bench-redis: pthread_barrier_init failed\n");
            return -1;
        }
        for (; started < threads; started++)
            if (pthread_create(&id[started], NULL, job_main, &jobs[started]) !=
                0)
                break;
        /* A thread that did not start would leave the others at the
         * barrier for ever: stand in for it there. */
        for (int t = started; t < threads; t++)
            pthread_barrier_wait(&start_line);
        for (int t = 0; t < started; t++)
            pthread_join(id[t], NULL);
        pthread_barrier_destroy(&start_line);
        if (started < threads) {
            fprintf(stderr, "bench-redis: cannot start a thread\n");
            return -1;
        }
    }

    getrusage(RUSAGE_SELF, &after);
    double start = jobs[0].start, end = jobs[0].end;
    for (int t = 0; t < threads; t++) {
        const job *j = &jobs[t];
        if (j->rc != RG_OK)
            return fail_rg(MEASURE_NAMES[measure], j->rc);
        if (j->bad && measure == VERIFY) {
            fprintf(stderr, "bench-redis: a right answer was %s\n",
                    rg_verdict_name(j->verdict));
            return -1;
        }
        if (j->bad) {
            fprintf(stderr, "bench-redis: a take was limited; the limit is "
                            "not generous enough\n");
            return -1;
        }
        if (j->start < start)
            start = j->start;
        if (j->end > end)
            end = j->end;
    }
    if (check_stats(&b->srv, MEASURE_COMMANDS[measure], b->n,
                    MEASURE_NAMES[measure], &out->server_us) != 0)
        return -1;
    qsort(b->lat, b->n, sizeof *b->lat, compare_double);
    out->rate = (double)b->n / (end - start);
    out->client_us =
        (cpu_seconds(&after) - cpu_seconds(&before)) / (double)b->n * 1e6;
    out->p50_us = percentile(b->lat, b->n, 50) * 1e6;
    out->p99_us = percentile(b->lat, b->n, 99) * 1e6;
    return 0;
}

/* ---- redis-benchmark ---- */

/* The next field of a CSV line of quoted fields, into out; p moves past
 * it. False at the end of the line. */
static bool csv_field(const char **p, char *out, size_t size)
{
    const char *s = *p;
    if (*s != '"')
        return false;
    const char *close = strchr(s + 1, '"');
    if (!close || (size_t)(close - s - 1) >= size)
        return false;
    memcpy(out, s + 1, (size_t)(close - s - 1));
    out[close - s - 1] = '\0';
    *p = close + 1 + (close[1] == ',');
    return true;
}

static bool parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && *out >= 0;
}

/*
 * Reads redis-benchmark's --csv output: a header line, then one line per
 * test: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
 * "p95_latency_ms","p99_latency_ms","max_latency_ms".
 */
static bool parse_benchmark(const char *text, figure *out)
{
    const char *line = strchr(text, '\n');
    if (strncmp(text, "\"test\",\"rps\"", 12) != 0 || !line)
        return false;
    line++;
    char field[8][128];
    for (int i = 0; i < 8; i++)
        if (!csv_field(&line, field[i], sizeof field[i]))
            return false;
    double p50_ms, p99_ms;
    if (!parse_double(field[1], &out->rate) || out->rate <= 0 ||
        !parse_double(field[4], &p50_ms) || !parse_double(field[6], &p99_ms))
        return false;
    out->p50_us = p50_ms * 1000;
    out->p99_us = p99_ms * 1000;
    return true;
}

/* Runs redis-benchmark on one anchor with `clients` connections, no
 * pipelining, n requests. */
static int time_benchmark(bench *b, int measure, int clients, figure *out)
{
    char port[ARG_TEXT], c[ARG_TEXT], n[ARG_TEXT];
    snprintf(port, sizeof port, "%d", b->srv.port);
    snprintf(c, sizeof c, "%d", clients);
    snprintf(n, sizeof n, "%zu", b->n);
    /* The flags, then the anchor's command. */
    /* clang-format off */
    char *const set[] = {
        "redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", c, "-P", "1",
        "-n", n, "-r", SET_KEYSPACE, "-q", "--csv",
        "SET", "nonce:__rand_int__", "1", "NX", "PX", "60000", NULL};
    char *const eval[] = {
        "redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", c, "-P", "1",
        "-n", n, "-r", LIMIT_KEYSPACE, "-q", "--csv",
        "EVALSHA", b->sha, "1", "limit:__rand_int__", ANCHOR_INTERVAL, NULL};
    /* clang-format on */
    char output[OUTPUT_MAX];
    double cpu_s;
    if (reset_stats(&b->srv) != 0 ||
        run_capture(b->benchmark, measure == ANCHOR_SET ? set : eval, output,
                    sizeof output, &cpu_s) != 0)
        return -1;
    if (!parse_benchmark(output, out)) {
        fprintf(stderr,
                "bench-redis: cannot read redis-benchmark's output:\n%s\n",
                output);
        return -1;
    }
    out->client_us = cpu_s / (double)b->n * 1e6;
    return check_stats(&b->srv, MEASURE_COMMANDS[measure], b->n,
                       MEASURE_NAMES[measure], &out->server_us);
}

/* ---- Setting up ---- */

/* The IPv4 client keys of the limiter, and the key of each take. */
static int make_keys(bench *b)
{
    for (uint32_t i = 0; i < LIMIT_KEYS; i++) {
        uint32_t a = (i * 2654435761u) & 0xffffff;
        char text[ADDRESS_TEXT];
        snprintf(text, sizeof text, "10.%u.%u.%u", a >> 16, (a >> 8) & 0xff,
                 a & 0xff);
        int rc = rg_client_key(text, 0, b->keys[i], &b->key_len[i]);
        if (rc != RG_OK)
            return fail_rg("rg_client_key", rc);
    }
    uint64_t state = SEED;
    for (size_t i = 0; i < b->n; i++)
        b->seq[i] = (uint32_t)(xorshift(&state) % LIMIT_KEYS);
    return 0;
}

/* The guard, the limiter and the anchor's script, all on the server. The
 * limiter takes from every key once, untimed: its first take loads its
 * secret and its script, and the server then holds every key, as it
 * does for clients that post. */
static int open_layers(bench *b)
{
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", b->srv.port);
    rg_config_init(&b->cfg);
    b->cfg.store = url;
    b->cfg.clock = bench_clock;
    b->cfg.style = RG_STYLE_DIGITS;
    b->cfg.operators = RG_OP_ADD;
    uint8_t key[RG_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    int rc;
    if ((rc = rg_guard_new(&b->g, &b->cfg)) != RG_OK ||
        (rc = rg_guard_add_key(b->g, 1, key, 1)) != RG_OK)
        return fail_rg("cannot make the guard", rc);
    /* The guard copied the store's name; the pointer must not outlive
     * this function. */
    b->cfg.store = NULL;

    rg_limiter_config lc;
    rg_limiter_config_init(&lc);
    lc.store = url;
    lc.rate_per_s = LIMIT_RATE;
    lc.burst = LIMIT_BURST;
    if ((rc = rg_limiter_open(&b->limiter, &lc)) != RG_OK)
        return fail_rg("rg_limiter_open", rc);
    for (uint32_t i = 0; i < LIMIT_KEYS; i++) {
        rg_limit_result res;
        rc = rg_limiter_take(b->limiter, b->keys[i], b->key_len[i], 1, &res);
        if (rc != RG_OK)
            return fail_rg("rg_limiter_take", rc);
    }

    redisReply *r = redisCommand(b->srv.admin, "SCRIPT LOAD %s", ANCHOR_LUA);
    bool ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
    if (ok)
        memcpy(b->sha, r->str, sizeof b->sha);
    else
        fail_redis("SCRIPT LOAD", b->srv.admin, r);
    freeReplyObject(r);
    b->sha[40] = '\0';
    return ok ? 0 : -1;
}

/* ---- The report ---- */

static void print_line(int measure, const figure *f, const figure *anchor)
{
    printf("    %-25s %8.0f %7.1f %7.1f %7.1f %7.1f", MEASURE_NAMES[measure],
           f->rate, f->p50_us, f->p99_us, f->server_us, f->client_us);
    if (anchor)
        printf(" %5.2f x\n", f->rate / anchor->rate);
    else
        printf("\n");
}

static void report(const bench *b, unsigned long rounds,
                   figure best[WAYS][MEASURES])
{
    printf("bench-redis: redis-server %s on 127.0.0.1, %zu calls a "
           "measurement; best of %lu rounds\n",
           b->srv.version, b->n, rounds);
    printf("  (every verify passed and spent its token with one SET; every "
           "take was\n   allowed, with one EVALSHA; %u limiter keys)\n",
           LIMIT_KEYS);
    for (int w = 0; w < WAYS; w++) {
        printf("  %-27s %8s %7s %7s %7s %7s %7s\n",
               w == ONE ? "1 connection, 1 thread" : "2 connections, 2 threads",
               "calls/s", "p50 us", "p99 us", "srv us", "cpu us", "ratio");
        print_line(ANCHOR_SET, &best[w][ANCHOR_SET], NULL);
        print_line(VERIFY, &best[w][VERIFY], &best[w][ANCHOR_SET]);
        print_line(ANCHOR_EVAL, &best[w][ANCHOR_EVAL], NULL);
        print_line(TAKE, &best[w][TAKE], &best[w][ANCHOR_EVAL]);
    }
    for (int m = VERIFY; m <= TAKE; m++) {
        int anchor = m == VERIFY ? ANCHOR_SET : ANCHOR_EVAL;
        double ratio = best[ONE][m].rate / best[ONE][anchor].rate;
        printf("  target: %s >= %.1f x redis-benchmark, 1 connection: %s\n",
               MEASURE_NAMES[m], TARGET, ratio >= TARGET ? "PASS" : "FAIL");
    }
}

int main(int argc, char **argv)
{
    unsigned long n = N_DEFAULT, rounds = ROUNDS_DEFAULT;
    for (int i = 1; i < argc; i += 2) {
        bool ok = i + 1 < argc;
        if (ok && strcmp(argv[i], "--n") == 0)
            ok = bench_parse_count(argv[i + 1], THREADS, N_MAX, &n);
        else if (ok && strcmp(argv[i], "--rounds") == 0)
            ok = bench_parse_count(argv[i + 1], 1, ROUNDS_MAX, &rounds);
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "usage: bench-redis [--n N] [--rounds R]\n");
            return 64;
        }
    }

    bench b = {.n = n};
    char server_exe[PATH_TEXT];
    if (!find_program("redis-server", server_exe) ||
        !find_program("redis-benchmark", b.benchmark)) {
        printf("bench-redis: skipped: redis-server and redis-benchmark must "
               "both be on PATH\n");
        return 77;
    }
    /* A server that goes away must show as an error from a call, not kill
     * the bench before it can stop what it started. */
    signal(SIGPIPE, SIG_IGN);
    catch_signals();
    int rc = rg_init();
    if (rc != RG_OK) {
        fail_rg("rg_init", rc);
        return 1;
    }

    int status = 1;
    b.token = malloc(n * sizeof *b.token);
    b.answer = malloc(n * sizeof *b.answer);
    b.keys = malloc(LIMIT_KEYS * sizeof *b.keys);
    b.key_len = malloc(LIMIT_KEYS * sizeof *b.key_len);
    b.seq = malloc(n * sizeof *b.seq);
    b.lat = malloc(n * sizeof *b.lat);
    if (!b.token || !b.answer || !b.keys || !b.key_len || !b.seq || !b.lat) {
        fprintf(stderr, "bench-redis: out of memory\n");
        goto done;
    }
    if (make_keys(&b) != 0 || server_start(&b.srv, server_exe) != 0 ||
        open_layers(&b) != 0)
        goto done;

    /* Each round: the four measurements on one connection, then on two;
     * each figure keeps its best round. */
    figure best[WAYS][MEASURES];
    memset(best, 0, sizeof best);
    static const int order[MEASURES] = {ANCHOR_SET, VERIFY, ANCHOR_EVAL, TAKE};
    for (unsigned long r = 0; r < rounds; r++)
        for (int w = 0; w < WAYS; w++)
            for (int k = 0; k < MEASURES; k++) {
                int m = order[k];
                figure f;
                int err = m == VERIFY || m == TAKE
                              ? time_replyguard(&b, m, w + 1, &f)
                              : time_benchmark(&b, m, w + 1, &f);
                if (err != 0)
                    goto done;
                if (f.rate > best[w][m].rate)
                    best[w][m] = f;
            }
    report(&b, rounds, best);
    status = 0;

done:
    rg_limiter_free(b.limiter);
    rg_guard_free(b.g);
    server_stop(&b.srv);
    free(b.lat);
    free(b.seq);
    free(b.key_len);
    free(b.keys);
    free(b.answer);
    free(b.token);
    return status;
}
