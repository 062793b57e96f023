/*
 * The redis: store, for a site that runs several web servers: every layer
 * with state (the replay guard, the rate limiter, the spam model) in one
 * Redis server that they all share, through hiredis (docs/redis.md).
 *
 * - Keys are namespaced by a prefix ("replyguard" unless the URL says
 *   otherwise), so several sites can share one server:
 *     PREFIX:n:<nonce, hex>       a spent nonce, until its token expires
 *     PREFIX:l:<hash, hex>        a rate-limit key's TAT, until it rests
 *     PREFIX:secret               the limiter's hashing secret
 *     PREFIX:b:spam, PREFIX:b:ham token -> count, one hash each
 *     PREFIX:b:totals             the model's totals
 * - Every operation is one round trip and atomic on the server: SET NX PX
 *   for a nonce; a Lua script (EVALSHA, loaded again after NOSCRIPT when
 *   the server restarted) for a rate-limit take, for a lookup of a
 *   comment's tokens and for a learning, which checks every count before
 *   it changes any, as the other stores do.
 * - The limiter runs on the server's clock (TIME, in microseconds), so web
 *   servers whose clocks disagree still agree on limits.
 * - Connections come from a small pool: a thread takes one for a call and
 *   gives it back. Each has a connect and a command timeout, so no call
 *   waits longer; one that failed is dropped, and the next call connects
 *   afresh, which is how the store comes back after the server restarts.
 *   Every failure is RG_ESTORE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export-private.h"
#include "store.h"

#define POOL_MAX           16
#define DEFAULT_PORT       6379
#define DEFAULT_PREFIX     "replyguard"
#define DEFAULT_TIMEOUT_MS 1000
#define TIMEOUT_MS_MAX     60000
#define PREFIX_MAX         64
#define DB_MAX             1000000
#define SECRET_BYTES       32
#define LIMIT_KEY_BYTES    16

/* The scripts, each loaded once per server (and again after a restart). */
enum script { SCRIPT_LIMIT, SCRIPT_LOOKUP, SCRIPT_APPLY, SCRIPT_COUNT };

/*
 * GCRA as rg__gcra_take() does it (limit.h), in microseconds of the
 * server's clock: Lua numbers are doubles, exact to 2^53, which
 * microseconds since 1970 stay far below. KEYS: the limit key, the
 * secret's key. ARGV: interval, tolerance, limit, cost, and the secret the
 * caller hashed the key with. Returns {allowed, remaining, retry_after
 * (-1: never), ahead}, all in microseconds but remaining; or "SECRET"
 * when the server holds another secret (the caller loads it and tries
 * again). A server that lost the secret (restarted, or evicted it) gets
 * the caller's back, so every web server goes on hashing keys alike.
 */
static const char LIMIT_LUA[] =
    "local secret = redis.call('GET', KEYS[2])\n"
    "if not secret then\n"
    "  redis.call('SET', KEYS[2], ARGV[5])\n"
    "elseif secret ~= ARGV[5] then\n"
    "  return 'SECRET'\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local T, tau = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local limit, cost = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if tat > now + tau then tat = now + tau end\n"
    "local ahead = 0\n"
    "if tat > now then ahead = tat - now end\n"
    "local allowed, retry = 0, 0\n"
    "if cost > limit then\n"
    "  retry = -1\n"
    "else\n"
    "  local inc = cost * T\n"
    "  if ahead + inc <= tau then\n"
    "    allowed = 1\n"
    "    ahead = ahead + inc\n"
    "    if cost > 0 then\n"
    "      redis.call('SET', KEYS[1], string.format('%.0f', now + ahead),\n"
    "                 'PX', math.ceil(ahead / 1000))\n"
    "    end\n"
    "  else\n"
    "    retry = ahead + inc - tau\n"
    "  end\n"
    "end\n"
    "return {allowed, math.floor((tau - ahead) / T), retry, ahead}\n";

/*
 * The counts of ARGV's tokens, and the totals. HMGET takes the tokens a
 * thousand at a time: Lua's unpack() has a limit of a few thousand.
 */
static const char LOOKUP_LUA[] =
    "local function counts(key)\n"
    "  local out, i = {}, 1\n"
    "  while i <= #ARGV do\n"
    "    local j = math.min(i + 999, #ARGV)\n"
    "    local part = redis.call('HMGET', key, unpack(ARGV, i, j))\n"
    "    for k = 1, #part do out[#out + 1] = part[k] or '0' end\n"
    "    i = j + 1\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local totals = redis.call('HMGET', KEYS[3], 'spam', 'ham',\n"
    "                          'spam_words', 'ham_words', 'tokens')\n"
    "for k = 1, 5 do totals[k] = totals[k] or '0' end\n"
    "return {counts(KEYS[1]), counts(KEYS[2]), totals}\n";

/*
 * Adds deltas to counts, all or nothing. ARGV: n, then n triples (token,
 * spam delta, ham delta), then the totals' deltas (spam, ham, spam words,
 * ham words). Every new count is checked before anything is written: one
 * below zero is NOTLEARNED, else one above 2^32 - 1 is RANGE. Counts are
 * exact in Lua's doubles; the totals, 64-bit, are not, so they go
 * through HINCRBY (exact, and refused on overflow) first, and are put
 * back if one fails or goes below zero. A token whose counts both reach 0
 * is deleted; `tokens` counts the tokens held.
 */
static const char APPLY_LUA[] =
    "local n = tonumber(ARGV[1])\n"
    "local news, newh, had = {}, {}, {}\n"
    "for i = 0, n - 1 do\n"
    "  local tok = ARGV[2 + 3 * i]\n"
    "  local s = tonumber(redis.call('HGET', KEYS[1], tok) or '0') or 0\n"
    "  local h = tonumber(redis.call('HGET', KEYS[2], tok) or '0') or 0\n"
    "  had[i] = s > 0 or h > 0\n"
    "  news[i] = s + tonumber(ARGV[3 + 3 * i])\n"
    "  newh[i] = h + tonumber(ARGV[4 + 3 * i])\n"
    "end\n"
    "for i = 0, n - 1 do\n"
    "  if news[i] < 0 or newh[i] < 0 then return 'NOTLEARNED' end\n"
    "end\n"
    "for i = 0, n - 1 do\n"
    "  if news[i] > 4294967295 or newh[i] > 4294967295 then\n"
    "    return 'RANGE'\n"
    "  end\n"
    "end\n"
    "local names = {'spam', 'ham', 'spam_words', 'ham_words'}\n"
    "local base = 2 + 3 * n\n"
    "local old, below, over = {}, false, false\n"
    "for k = 1, 4 do old[k] = redis.call('HGET', KEYS[3], names[k]) end\n"
    "for k = 1, 4 do\n"
    "  local r = redis.pcall('HINCRBY', KEYS[3], names[k], ARGV[base + k - "
    "1])\n"
    "  if type(r) == 'table' and r.err then over = true\n"
    "  elseif r < 0 then below = true end\n"
    "end\n"
    "if below or over then\n"
    "  for k = 1, 4 do\n"
    "    if old[k] then redis.call('HSET', KEYS[3], names[k], old[k])\n"
    "    else redis.call('HDEL', KEYS[3], names[k]) end\n"
    "  end\n"
    "  if below then return 'NOTLEARNED' end\n"
    "  return 'RANGE'\n"
    "end\n"
    "local tokens = 0\n"
    "for i = 0, n - 1 do\n"
    "  local tok = ARGV[2 + 3 * i]\n"
    "  if news[i] == 0 and newh[i] == 0 then\n"
    "    redis.call('HDEL', KEYS[1], tok)\n"
    "    redis.call('HDEL', KEYS[2], tok)\n"
    "    if had[i] then tokens = tokens - 1 end\n"
    "  else\n"
    "    redis.call('HSET', KEYS[1], tok, string.format('%.0f', news[i]))\n"
    "    redis.call('HSET', KEYS[2], tok, string.format('%.0f', newh[i]))\n"
    "    if not had[i] then tokens = tokens + 1 end\n"
    "  end\n"
    "end\n"
    "redis.call('HINCRBY', KEYS[3], 'tokens', tokens)\n"
    "return 'OK'\n";

static const char *const SCRIPTS[SCRIPT_COUNT] = {LIMIT_LUA, LOOKUP_LUA,
                                                  APPLY_LUA};

struct redis_store {
    rg_store base;
    char *host; /* or NULL for a Unix socket */
    char *socket_path;
    int port;
    int db;
    char *prefix;
    struct timeval timeout;

    pthread_mutex_t lock; /* over what follows */
    redisContext *idle[POOL_MAX];
    size_t nidle;
    char sha[SCRIPT_COUNT][41]; /* SHA-1 of each script, once loaded */
    uint8_t secret[SECRET_BYTES];
    bool have_secret;
};

/* ---- Connections ---- */

static bool reply_ok(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
}

/* A new connection, selected on the store's database; NULL on failure. */
static redisContext *connect_new(struct redis_store *q)
{
    redisContext *c =
        q->host ? redisConnectWithTimeout(q->host, q->port, q->timeout)
                : redisConnectUnixWithTimeout(q->socket_path, q->timeout);
    if (!c)
        return NULL;
    if (c->err || redisSetTimeout(c, q->timeout) != REDIS_OK) {
        redisFree(c);
        return NULL;
    }
    if (q->db != 0) {
        redisReply *r = redisCommand(c, "SELECT %d", q->db);
        bool ok = reply_ok(r);
        freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

static redisContext *conn_get(struct redis_store *q)
{
    redisContext *c = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->nidle > 0)
        c = q->idle[--q->nidle];
    pthread_mutex_unlock(&q->lock);
    return c ? c : connect_new(q);
}

/* Gives a connection back, or drops it when it failed: hiredis cannot
 * tell what state the server left it in, and the next call reconnects. */
static void conn_put(struct redis_store *q, redisContext *c)
{
    if (!c)
        return;
    if (c->err) {
        redisFree(c);
        return;
    }
    pthread_mutex_lock(&q->lock);
    if (q->nidle < POOL_MAX) {
        q->idle[q->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    if (c)
        redisFree(c);
}

/* ---- Keys ---- */

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* PREFIX:what into out (size bytes); false when it does not fit. */
static bool key_of(const struct redis_store *q, const char *what, char *out,
                   size_t size)
{
    int n = snprintf(out, size, "%s:%s", q->prefix, what);
    return n > 0 && (size_t)n < size;
}

/* ---- Scripts ---- */

static bool is_noscript(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ERROR &&
           strncmp(r->str, "NOSCRIPT", 8) == 0;
}

/* Loads a script on the server and remembers its SHA-1. */
static bool load_script(struct redis_store *q, redisContext *c, enum script s)
{
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", SCRIPTS[s]);
    bool ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
    if (ok) {
        pthread_mutex_lock(&q->lock);
        memcpy(q->sha[s], r->str, 40);
        q->sha[s][40] = '\0';
        pthread_mutex_unlock(&q->lock);
    }
    freeReplyObject(r);
    return ok;
}

/*
 * Runs script s with argc arguments (argv[0..1] are left for "EVALSHA"
 * and the SHA-1, then the key count, keys and arguments): loads it first
 * when it is not known, and again when the server forgot it. NULL on
 * failure (c->err then tells a broken connection).
 */
static redisReply *run_script(struct redis_store *q, redisContext *c,
                              enum script s, int argc, const char **argv,
                              size_t *argvlen)
{
    char sha[41];
    /* A second try after NOSCRIPT: the server restarted and forgot it. */
    for (int try = 0; try < 2; try++) {
        pthread_mutex_lock(&q->lock);
        memcpy(sha, q->sha[s], sizeof sha);
        pthread_mutex_unlock(&q->lock);
        if (sha[0] == '\0') {
            if (!load_script(q, c, s))
                return NULL;
            pthread_mutex_lock(&q->lock);
            memcpy(sha, q->sha[s], sizeof sha);
            pthread_mutex_unlock(&q->lock);
        }
        argv[0] = "EVALSHA";
        argvlen[0] = 7;
        argv[1] = sha;
        argvlen[1] = 40;
        redisReply *r = redisCommandArgv(c, argc, argv, argvlen);
        if (!is_noscript(r))
            return r;
        freeReplyObject(r);
        pthread_mutex_lock(&q->lock);
        q->sha[s][0] = '\0';
        pthread_mutex_unlock(&q->lock);
    }
    return NULL;
}

/* ---- The replay guard ---- */

static int redis_spend(rg_store *s, const uint8_t nonce[RG__NONCE_BYTES],
                       uint64_t expires_at, uint64_t now, bool *fresh)
{
    struct redis_store *q = (struct redis_store *)s;
    char name[2 * RG__NONCE_BYTES + 3], key[PREFIX_MAX + 64];
    *fresh = false;

    /* The entry lives until the token's expiry (and at least 1 ms, so that
     * a nonce spent on its last second is still spent then). */
    if (expires_at > INT64_MAX / 1000 || now > INT64_MAX / 1000)
        return RG_EINVAL;
    long long ttl_ms =
        expires_at > now ? (long long)(expires_at - now) * 1000 : 1;
    memcpy(name, "n:", 2);
    hex(nonce, RG__NONCE_BYTES, name + 2);
    if (!key_of(q, name, key, sizeof key))
        return RG_ESTORE;

    redisContext *c = conn_get(q);
    if (!c)
        return RG_ESTORE;
    redisReply *r = redisCommand(c, "SET %s 1 NX PX %lld", key, ttl_ms);
    int rc = RG_ESTORE;
    if (reply_ok(r)) {
        *fresh = true;
        rc = RG_OK;
    } else if (r && r->type == REDIS_REPLY_NIL) {
        rc = RG_OK; /* spent before */
    }
    freeReplyObject(r);
    conn_put(q, c);
    return rc;
}

/* ---- The rate limiter ---- */

/* The limiter's secret, made by the first store that finds none. */
static bool load_secret(struct redis_store *q, redisContext *c)
{
    char key[PREFIX_MAX + 16];
    uint8_t fresh[SECRET_BYTES];

    pthread_mutex_lock(&q->lock);
    bool have = q->have_secret;
    pthread_mutex_unlock(&q->lock);
    if (have)
        return true;
    if (!key_of(q, "secret", key, sizeof key))
        return false;
    randombytes_buf(fresh, sizeof fresh);
    redisReply *r = redisCommand(c, "SET %s %b NX", key, fresh, sizeof fresh);
    sodium_memzero(fresh, sizeof fresh);
    bool ok = r && (reply_ok(r) || r->type == REDIS_REPLY_NIL);
    freeReplyObject(r);
    if (!ok)
        return false;
    r = redisCommand(c, "GET %s", key);
    ok = r && r->type == REDIS_REPLY_STRING && r->len == SECRET_BYTES;
    if (ok) {
        pthread_mutex_lock(&q->lock);
        memcpy(q->secret, r->str, SECRET_BYTES);
        q->have_secret = true;
        pthread_mutex_unlock(&q->lock);
    }
    freeReplyObject(r);
    return ok;
}

/* Microseconds to milliseconds, rounded up. */
static uint64_t us_to_ms_up(long long us)
{
    return us <= 0 ? 0 : (uint64_t)(us / 1000 + (us % 1000 != 0));
}

/* Forgets the secret: the server holds another one. */
static void forget_secret(struct redis_store *q)
{
    pthread_mutex_lock(&q->lock);
    q->have_secret = false;
    sodium_memzero(q->secret, sizeof q->secret);
    pthread_mutex_unlock(&q->lock);
}

/* One run of the limit script; RG_EAGAIN-like -1 when the secret was
 * stale (the caller reloads it), else RG_OK or RG_ESTORE. */
static int limit_once(struct redis_store *q, redisContext *c, const char *name,
                      size_t name_len, const void *key, size_t key_len,
                      const rg__gcra *g, uint32_t cost, rg_limit_result *out)
{
    uint8_t secret[SECRET_BYTES], h[LIMIT_KEY_BYTES];
    crypto_generichash_state st;
    static const uint8_t separator = 0;

    pthread_mutex_lock(&q->lock);
    memcpy(secret, q->secret, sizeof secret);
    pthread_mutex_unlock(&q->lock);
    crypto_generichash_init(&st, secret, SECRET_BYTES, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)name, name_len);
    crypto_generichash_update(&st, &separator, 1);
    crypto_generichash_update(&st, key, key_len);
    crypto_generichash_final(&st, h, sizeof h);

    char rkey[PREFIX_MAX + 2 * LIMIT_KEY_BYTES + 8],
        hexed[2 * LIMIT_KEY_BYTES + 3], skey[PREFIX_MAX + 16];
    memcpy(hexed, "l:", 2);
    hex(h, sizeof h, hexed + 2);
    if (!key_of(q, hexed, rkey, sizeof rkey) ||
        !key_of(q, "secret", skey, sizeof skey)) {
        sodium_memzero(secret, sizeof secret);
        return RG_ESTORE;
    }
    char a[4][24];
    snprintf(a[0], sizeof a[0], "%llu",
             (unsigned long long)(g->interval_ns / 1000));
    snprintf(a[1], sizeof a[1], "%llu",
             (unsigned long long)(g->tolerance_ns / 1000));
    snprintf(a[2], sizeof a[2], "%u", g->limit);
    snprintf(a[3], sizeof a[3], "%u", cost);
    const char *argv[] = {NULL, NULL, "2",  rkey, skey,
                          a[0], a[1], a[2], a[3], (const char *)secret};
    size_t argvlen[] = {0,
                        0,
                        1,
                        strlen(rkey),
                        strlen(skey),
                        strlen(a[0]),
                        strlen(a[1]),
                        strlen(a[2]),
                        strlen(a[3]),
                        SECRET_BYTES};
    redisReply *r = run_script(q, c, SCRIPT_LIMIT, 10, argv, argvlen);
    sodium_memzero(secret, sizeof secret);
    int rc = RG_ESTORE;
    if (r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "SECRET") == 0) {
        rc = -1;
    } else if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
        long long v[4];
        bool ok = true;
        for (int i = 0; i < 4; i++) {
            ok = ok && r->element[i]->type == REDIS_REPLY_INTEGER;
            v[i] = ok ? r->element[i]->integer : 0;
        }
        if (ok) {
            memset(out, 0, sizeof *out);
            out->allowed = v[0] == 1;
            out->limit = g->limit;
            out->remaining = v[1] < 0 ? 0 : (uint32_t)v[1];
            out->retry_after_ms = v[2] < 0 ? UINT64_MAX : us_to_ms_up(v[2]);
            out->reset_after_ms = us_to_ms_up(v[3]);
            rc = RG_OK;
        }
    }
    freeReplyObject(r);
    return rc;
}

static int redis_limit_take(rg_store *s, const char *name, size_t name_len,
                            const void *key, size_t key_len, const rg__gcra *g,
                            uint64_t now, uint32_t cost, rg_limit_result *out)
{
    struct redis_store *q = (struct redis_store *)s;
    (void)now; /* the server's clock decides */

    /* The script works in microseconds; a rate above a million a second
     * has an interval under one. */
    if (g->interval_ns < 1000)
        return RG_EINVAL;

    redisContext *c = conn_get(q);
    if (!c)
        return RG_ESTORE;
    int rc = RG_ESTORE;
    for (int try = 0; try < 2 && rc != RG_OK; try++) {
        if (!load_secret(q, c))
            break;
        rc = limit_once(q, c, name, name_len, key, key_len, g, cost, out);
        if (rc != -1)
            break;
        forget_secret(q);
        rc = RG_ESTORE;
    }
    conn_put(q, c);
    return rc;
}

/* ---- The spam model ---- */

static bool model_keys(const struct redis_store *q,
                       char keys[3][PREFIX_MAX + 16])
{
    return key_of(q, "b:spam", keys[0], sizeof keys[0]) &&
           key_of(q, "b:ham", keys[1], sizeof keys[1]) &&
           key_of(q, "b:totals", keys[2], sizeof keys[2]);
}

/* A count as the server keeps it: decimal text of 0 .. 2^64 - 1. */
static bool parse_count(const redisReply *r, uint64_t max, uint64_t *out)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < r->len; i++) {
        unsigned d = (unsigned)(r->str[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* argv and argvlen of n tokens after `first` fixed arguments. */
static bool token_args(const rg__token_set *ts, size_t first,
                       const char ***argv, size_t **argvlen, size_t per,
                       size_t tail)
{
    size_t n = first + ts->count * per + tail;
    *argv = calloc(n, sizeof **argv);
    *argvlen = calloc(n, sizeof **argvlen);
    return *argv && *argvlen;
}

static int redis_bayes_lookup(rg_store *s, const rg__token_set *ts,
                              rg__counts *counts, rg__totals *totals)
{
    struct redis_store *q = (struct redis_store *)s;
    char keys[3][PREFIX_MAX + 16];
    const char **argv = NULL;
    size_t *argvlen = NULL;
    int rc = RG_ESTORE;

    if (!model_keys(q, keys))
        return RG_ESTORE;
    if (!token_args(ts, 6, &argv, &argvlen, 1, 0)) {
        free(argv);
        free(argvlen);
        return RG_ENOMEM;
    }
    argv[2] = "3";
    argvlen[2] = 1;
    for (int k = 0; k < 3; k++) {
        argv[3 + k] = keys[k];
        argvlen[3 + k] = strlen(keys[k]);
    }
    for (size_t i = 0; i < ts->count; i++)
        argv[6 + i] = rg__token_set_get(ts, i, &argvlen[6 + i]);

    redisContext *c = conn_get(q);
    redisReply *r =
        c ? run_script(q, c, SCRIPT_LOOKUP, (int)(6 + ts->count), argv, argvlen)
          : NULL;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[1]->type == REDIS_REPLY_ARRAY &&
        r->element[2]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements == ts->count &&
        r->element[1]->elements == ts->count && r->element[2]->elements == 5) {
        bool ok = true;
        for (size_t i = 0; i < ts->count && ok; i++) {
            uint64_t sp = 0, hm = 0;
            ok = parse_count(r->element[0]->element[i], UINT32_MAX, &sp) &&
                 parse_count(r->element[1]->element[i], UINT32_MAX, &hm);
            counts[i] = (rg__counts){(uint32_t)sp, (uint32_t)hm};
        }
        uint64_t t[5];
        for (int k = 0; k < 5 && ok; k++)
            ok = parse_count(r->element[2]->element[k], INT64_MAX, &t[k]);
        if (ok) {
            *totals = (rg__totals){t[0], t[1], t[2], t[3]};
            rc = RG_OK;
        }
    }
    freeReplyObject(r);
    conn_put(q, c);
    free(argv);
    free(argvlen);
    return rc;
}

static int redis_bayes_apply(rg_store *s, const rg__token_set *ts,
                             const rg__delta *delta, rg__totals_delta totals)
{
    struct redis_store *q = (struct redis_store *)s;
    char keys[3][PREFIX_MAX + 16];
    const char **argv = NULL;
    size_t *argvlen = NULL;
    char *nums = NULL;
    int rc = RG_ESTORE;

    if (!model_keys(q, keys))
        return RG_ESTORE;
    /* EVALSHA sha 3 k1 k2 k3 n (token ds dh)* ts th tsw thw */
    size_t fixed = 7, argc = fixed + 3 * ts->count + 4;
    if (!token_args(ts, fixed, &argv, &argvlen, 3, 4) ||
        !(nums = malloc((2 * ts->count + 5) * 24))) {
        rc = RG_ENOMEM;
        goto out;
    }
    argv[2] = "3";
    argvlen[2] = 1;
    for (int k = 0; k < 3; k++) {
        argv[3 + k] = keys[k];
        argvlen[3 + k] = strlen(keys[k]);
    }
    char *num = nums;
#define PUT_NUM(slot, fmt, v)                                                  \
    do {                                                                       \
        int len_ = snprintf(num, 24, fmt, v);                                  \
        argv[slot] = num;                                                      \
        argvlen[slot] = (size_t)len_;                                          \
        num += 24;                                                             \
    } while (0)
    PUT_NUM(6, "%zu", ts->count);
    for (size_t i = 0; i < ts->count; i++) {
        size_t at = fixed + 3 * i;
        argv[at] = rg__token_set_get(ts, i, &argvlen[at]);
        PUT_NUM(at + 1, "%lld", (long long)delta[i].spam);
        PUT_NUM(at + 2, "%lld", (long long)delta[i].ham);
    }
    size_t at = fixed + 3 * ts->count;
    PUT_NUM(at, "%lld", (long long)totals.spam);
    PUT_NUM(at + 1, "%lld", (long long)totals.ham);
    PUT_NUM(at + 2, "%lld", (long long)totals.spam_words);
    PUT_NUM(at + 3, "%lld", (long long)totals.ham_words);
#undef PUT_NUM

    redisContext *c = conn_get(q);
    redisReply *r =
        c ? run_script(q, c, SCRIPT_APPLY, (int)argc, argv, argvlen) : NULL;
    /* A script's string comes back as a bulk string. */
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)) {
        if (strcmp(r->str, "OK") == 0)
            rc = RG_OK;
        else if (strcmp(r->str, "NOTLEARNED") == 0)
            rc = RG_ENOTLEARNED;
        else if (strcmp(r->str, "RANGE") == 0)
            rc = RG_ERANGE;
    }
    freeReplyObject(r);
    conn_put(q, c);
out:
    free(argv);
    free(argvlen);
    free(nums);
    return rc;
}

static int redis_bayes_stats(rg_store *s, rg_bayes_stats *out)
{
    struct redis_store *q = (struct redis_store *)s;
    char keys[3][PREFIX_MAX + 16];
    int rc = RG_ESTORE;

    if (!model_keys(q, keys))
        return RG_ESTORE;
    redisContext *c = conn_get(q);
    if (!c)
        return RG_ESTORE;
    redisReply *r = redisCommand(c, "HMGET %s spam ham tokens", keys[2]);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        uint64_t v[3] = {0, 0, 0};
        bool ok = true;
        for (int k = 0; k < 3 && ok; k++)
            ok = r->element[k]->type == REDIS_REPLY_NIL ||
                 parse_count(r->element[k], INT64_MAX, &v[k]);
        if (ok) {
            out->spam_comments = v[0];
            out->ham_comments = v[1];
            out->tokens = v[2];
            rc = RG_OK;
        }
    }
    freeReplyObject(r);
    conn_put(q, c);
    return rc;
}

/* The model is on the server already: nothing to ready or to read. */
static int redis_bayes_nothing(rg_store *s)
{
    (void)s;
    return RG_OK;
}

/* ---- Export ---- */

/* SCAN and HSCAN read about this many entries per round trip. */
#define SCAN_COUNT "1000"

/* Scans of a model that keeps changing before the export gives up. */
#define EXPORT_ATTEMPTS 5

/* Longest cursor of a SCAN: a 64-bit number in decimal. */
#define CURSOR_MAX 24

/*
 * The cursor and the page of one reply of SCAN or HSCAN: false for a
 * reply of any other shape.
 */
static bool scan_page(const redisReply *r, char cursor[CURSOR_MAX],
                      const redisReply **page)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[0]->len >= CURSOR_MAX ||
        r->element[1]->type != REDIS_REPLY_ARRAY)
        return false;
    memcpy(cursor, r->element[0]->str, r->element[0]->len);
    cursor[r->element[0]->len] = '\0';
    *page = r->element[1];
    for (size_t i = 0; i < (*page)->elements; i++)
        if ((*page)->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

/* The totals as the model keeps them: spam, ham, spam_words, ham_words
 * and tokens (an absent one is 0). */
static bool model_totals(redisContext *c, const char *key, uint64_t t[5])
{
    redisReply *r =
        redisCommand(c, "HMGET %s spam ham spam_words ham_words tokens", key);
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 5;
    for (size_t k = 0; k < 5 && ok; k++) {
        t[k] = 0;
        ok = r->element[k]->type == REDIS_REPLY_NIL ||
             parse_count(r->element[k], INT64_MAX, &t[k]);
    }
    freeReplyObject(r);
    return ok;
}

/*
 * Adds a page of HSCAN's spam counts to m, with the ham counts of its
 * tokens (one HMGET). A token seen twice, which HSCAN may return, is
 * simply put again. Returns RG_OK, RG_ESTORE or RG_ENOMEM.
 */
static int add_page(redisContext *c, const char *ham_key,
                    const redisReply *page, rg__count_map *m)
{
    size_t n = page->elements / 2;
    if (page->elements % 2 != 0)
        return RG_ESTORE;
    if (n == 0)
        return RG_OK;

    const char **argv = calloc(n + 2, sizeof *argv);
    size_t *argvlen = calloc(n + 2, sizeof *argvlen);
    int rc = RG_ENOMEM;
    if (!argv || !argvlen)
        goto out;
    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = ham_key;
    argvlen[1] = strlen(ham_key);
    for (size_t i = 0; i < n; i++) {
        argv[2 + i] = page->element[2 * i]->str;
        argvlen[2 + i] = page->element[2 * i]->len;
    }
    redisReply *r = redisCommandArgv(c, (int)(n + 2), argv, argvlen);
    rc = RG_ESTORE;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == n) {
        rc = RG_OK;
        for (size_t i = 0; i < n && rc == RG_OK; i++) {
            const redisReply *tok = page->element[2 * i];
            uint64_t spam = 0, ham = 0;
            if (tok->len == 0 || tok->len > RG__TOKEN_LEN_MAX ||
                !parse_count(page->element[2 * i + 1], UINT32_MAX, &spam) ||
                (r->element[i]->type != REDIS_REPLY_NIL &&
                 !parse_count(r->element[i], UINT32_MAX, &ham))) {
                rc = RG_ESTORE;
                break;
            }
            if (spam == 0 && ham == 0)
                continue;
            rg__counts counts = {(uint32_t)spam, (uint32_t)ham};
            uint64_t h = rg__token_hash(tok->str, tok->len);
            rc = rg__count_map_reserve(m, m->count + 1, tok->len + 1);
            if (rc == RG_OK)
                rg__count_map_put(m, h, tok->str, tok->len, counts);
        }
    }
    freeReplyObject(r);
out:
    free(argv);
    free(argvlen);
    return rc;
}

/* One pass of HSCAN over the spam counts: every token, as the model is
 * while it runs. */
static int scan_model(redisContext *c, char keys[3][PREFIX_MAX + 16],
                      rg__count_map *m)
{
    char cursor[CURSOR_MAX] = "0";
    int rc = RG_OK;

    do {
        const redisReply *page = NULL;
        redisReply *r =
            redisCommand(c, "HSCAN %s %s COUNT " SCAN_COUNT, keys[0], cursor);
        rc = scan_page(r, cursor, &page) ? add_page(c, keys[1], page, m)
                                         : RG_ESTORE;
        freeReplyObject(r);
    } while (rc == RG_OK && strcmp(cursor, "0") != 0);
    return rc;
}

/*
 * A scan is no snapshot: a model that learns meanwhile can be read half
 * before and half after. Every learning changes the totals, so a scan
 * between two equal readings of them saw one state (but for a comment
 * learned and unlearned again within it, which leaves the model as it
 * was anyway). Otherwise it scans again, up to EXPORT_ATTEMPTS times.
 * The scan is gathered whole before the visitor sees any of it.
 */
static int redis_bayes_export(rg_store *s, const rg__model_visitor *v)
{
    struct redis_store *q = (struct redis_store *)s;
    char keys[3][PREFIX_MAX + 16];
    uint64_t before[5], after[5];
    rg__count_map m;
    int rc = RG_ESTORE;

    if (!model_keys(q, keys))
        return RG_ESTORE;
    redisContext *c = conn_get(q);
    if (!c)
        return RG_ESTORE;
    rg__count_map_init(&m, UINT32_MAX);
    for (int attempt = 0; attempt < EXPORT_ATTEMPTS; attempt++) {
        rg__count_map_clear(&m);
        if (!model_totals(c, keys[2], before)) {
            rc = RG_ESTORE;
            break;
        }
        rc = scan_model(c, keys, &m);
        if (rc != RG_OK)
            break;
        rc = RG_ESTORE;
        if (!model_totals(c, keys[2], after))
            break;
        if (memcmp(before, after, sizeof before) == 0) {
            rc = RG_OK;
            break;
        }
    }
    /* Tokens other than the totals count are a damaged model. */
    if (rc == RG_OK && m.count != before[4])
        rc = RG_ESTORE;
    if (rc == RG_OK) {
        rg__totals t = {before[0], before[1], before[2], before[3]};
        rc = v->totals(v->arg, &t, before[4]);
    }
    if (rc == RG_OK)
        rc = rg__count_map_visit_sorted(&m, v);
    rg__count_map_free(&m);
    conn_put(q, c);
    return rc;
}

/*
 * The nonce of a key PREFIX:n:<32 hex digits>; false for any other key
 * (SCAN's pattern lets through a longer name, say).
 */
static bool nonce_of(const struct redis_store *q, const redisReply *key,
                     uint8_t nonce[RG__NONCE_BYTES])
{
    size_t plen = strlen(q->prefix);
    size_t bin_len = 0;

    if (key->len != plen + 3 + 2 * RG__NONCE_BYTES ||
        memcmp(key->str + plen, ":n:", 3) != 0)
        return false;
    return sodium_hex2bin(nonce, RG__NONCE_BYTES, key->str + plen + 3,
                          2 * RG__NONCE_BYTES, NULL, &bin_len, NULL) == 0 &&
           bin_len == RG__NONCE_BYTES;
}

/* The real time in milliseconds. */
static uint64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec < 0
               ? 0
               : (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Adds the nonces of a page of SCAN's keys to *e, with the second they
 * expire at (PTTL, pipelined: one round trip for the page). A key gone
 * meanwhile, or without an expiry (not one spend wrote), is left out.
 *
 * spend() gave the key (expires at - now) seconds to live at a time
 * within the second `now`, so it dies within the second `expires at`:
 * this clock's milliseconds plus the time left, rounded down, give
 * expires at back (PTTL is relative, which keeps the server's clock out
 * of it). The caller's `now` would lose the milliseconds.
 */
static int add_nonces(struct redis_store *q, redisContext *c,
                      const redisReply *page, rg__nonce_entry **e, size_t *n,
                      size_t *room)
{
    for (size_t i = 0; i < page->elements; i++)
        if (redisAppendCommand(c, "PTTL %b", page->element[i]->str,
                               page->element[i]->len) != REDIS_OK)
            return RG_ESTORE;
    int rc = RG_OK;
    for (size_t i = 0; i < page->elements; i++) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK)
            return RG_ESTORE;
        uint64_t now_ms = real_ms();
        redisReply *r = reply;
        uint8_t nonce[RG__NONCE_BYTES];
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            rc = RG_ESTORE;
        } else if (rc == RG_OK && r->integer >= 0 &&
                   nonce_of(q, page->element[i], nonce)) {
            if (!rg__grow(e, room, *n + 1, sizeof **e, 256, false)) {
                rc = RG_ENOMEM;
            } else {
                memcpy((*e)[*n].nonce, nonce, RG__NONCE_BYTES);
                (*e)[(*n)++].expires_at =
                    (now_ms + (uint64_t)r->integer) / 1000;
            }
        }
        freeReplyObject(r);
    }
    return rc;
}

static int redis_nonce_export(rg_store *s, uint64_t now,
                              const rg__nonce_visitor *v)
{
    struct redis_store *q = (struct redis_store *)s;
    char pattern[PREFIX_MAX + 16], cursor[CURSOR_MAX] = "0";
    rg__nonce_entry *e = NULL;
    size_t n = 0, room = 0;
    int rc = RG_OK;

    (void)now; /* the server drops what has expired */
    if (!key_of(q, "n:*", pattern, sizeof pattern))
        return RG_EINVAL;
    redisContext *c = conn_get(q);
    if (!c)
        return RG_ESTORE;
    do {
        const redisReply *page = NULL;
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT " SCAN_COUNT,
                                     cursor, pattern);
        rc = scan_page(r, cursor, &page) ? add_nonces(q, c, page, &e, &n, &room)
                                         : RG_ESTORE;
        freeReplyObject(r);
    } while (rc == RG_OK && strcmp(cursor, "0") != 0);
    conn_put(q, c);
    if (rc == RG_OK)
        rc = rg__nonces_visit_sorted(e, n, v);
    free(e);
    return rc;
}

/* One PING, timed; then a SCAN over the prefix counts the spent nonces
 * and the rate-limit keys (which expire when they rest). */
static int redis_health(rg_store *s, uint64_t now, rg__store_health *out)
{
    struct redis_store *q = (struct redis_store *)s;
    char pattern[PREFIX_MAX + 16], cursor[CURSOR_MAX] = "0";
    struct timespec t0, t1;
    int rc = RG_ESTORE;
    (void)now; /* the server expires what is spent */

    if (!key_of(q, "*", pattern, sizeof pattern))
        return RG_ESTORE;
    redisContext *c = conn_get(q);
    if (!c)
        return RG_ESTORE;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    redisReply *r = redisCommand(c, "PING");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!ok)
        goto out;
    out->round_trip_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
                         (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;

    size_t plen = strlen(q->prefix);
    out->nonces = out->limit_keys = 0;
    do {
        const redisReply *page = NULL;
        r = redisCommand(c, "SCAN %s MATCH %s COUNT " SCAN_COUNT, cursor,
                         pattern);
        ok = scan_page(r, cursor, &page);
        for (size_t i = 0; ok && i < page->elements; i++) {
            const redisReply *k = page->element[i];
            if (k->len > plen + 3 && memcmp(k->str + plen, ":n:", 3) == 0)
                out->nonces++;
            else if (k->len > plen + 3 && memcmp(k->str + plen, ":l:", 3) == 0)
                out->limit_keys++;
        }
        freeReplyObject(r);
    } while (ok && strcmp(cursor, "0") != 0);
    if (ok)
        rc = RG_OK;
out:
    conn_put(q, c);
    return rc;
}

static void redis_close(rg_store *s)
{
    struct redis_store *q = (struct redis_store *)s;
    for (size_t i = 0; i < q->nidle; i++)
        redisFree(q->idle[i]);
    pthread_mutex_destroy(&q->lock);
    sodium_memzero(q->secret, sizeof q->secret);
    free(q->host);
    free(q->socket_path);
    free(q->prefix);
    free(q);
}

static const struct rg_store_ops redis_ops = {
    .scheme = "redis",
    .spend = redis_spend,
    .bayes_lookup = redis_bayes_lookup,
    .bayes_apply = redis_bayes_apply,
    .bayes_stats = redis_bayes_stats,
    .bayes_optimize = redis_bayes_nothing,
    .bayes_preload = redis_bayes_nothing,
    .limit_take = redis_limit_take,
    .bayes_export = redis_bayes_export,
    .nonce_export = redis_nonce_export,
    .health = redis_health,
    .close = redis_close,
};

/* ---- The URL ---- */

/* A decimal in [min, max] that fills [p, end) exactly. */
static bool parse_int(const char *p, const char *end, long min, long max,
                      long *out)
{
    long v = 0;
    if (p == end || end - p > 9)
        return false;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

static char *dup_range(const char *p, const char *end)
{
    char *s = malloc((size_t)(end - p) + 1);
    if (s) {
        memcpy(s, p, (size_t)(end - p));
        s[end - p] = '\0';
    }
    return s;
}

/*
 * The query: prefix=P (1 to 64 bytes of letters, digits and "-_.:"),
 * timeout_ms=N (1 to 60000), and for a socket db=N. Each at most once.
 */
static int parse_query(rg__redis_url *u, const char *query, bool socket)
{
    bool seen_prefix = false, seen_timeout = false, seen_db = false;
    const char *p = query ? query + 1 : "";

    if (query && !*p)
        return RG_EURL; /* a "?" with nothing after it */

    while (*p) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return RG_EURL;
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
        if (klen == 6 && memcmp(p, "prefix", 6) == 0 && !seen_prefix) {
            size_t n = (size_t)(end - v);
            if (n == 0 || n > PREFIX_MAX ||
                strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
                          "YZ0123456789-_.:") < n)
                return RG_EURL;
            u->prefix = v;
            u->prefix_len = n;
            seen_prefix = true;
        } else if (klen == 10 && memcmp(p, "timeout_ms", 10) == 0 &&
                   !seen_timeout) {
            long timeout_ms;
            if (!parse_int(v, end, 1, TIMEOUT_MS_MAX, &timeout_ms))
                return RG_EURL;
            u->timeout_ms = (int)timeout_ms;
            seen_timeout = true;
        } else if (socket && klen == 2 && memcmp(p, "db", 2) == 0 && !seen_db) {
            long db;
            if (!parse_int(v, end, 0, DB_MAX, &db))
                return RG_EURL;
            u->db = (int)db;
            seen_db = true;
        } else {
            return RG_EURL;
        }
        p = amp ? amp + 1 : end;
        if (amp && !*p)
            return RG_EURL;
    }
    return RG_OK;
}

/*
 * HOST as docs/redis.md has it: in brackets an IPv6 address, otherwise a
 * name or an IPv4 address, of letters, digits, '-', '.' and '_'. Anything
 * else (a user part, a space, a zone index) would only fail later, when
 * connecting, and with a vaguer error.
 */
static bool host_valid(const char *host, size_t n, bool bracketed)
{
    if (n == 0 || n > 255)
        return false;
    if (bracketed) {
        char text[64];
        struct in6_addr a;
        if (n >= sizeof text)
            return false;
        memcpy(text, host, n);
        text[n] = '\0';
        return inet_pton(AF_INET6, text, &a) == 1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

/*
 * "redis://HOST[:PORT][/DB][?query]" (HOST a name, an IPv4 address or an
 * IPv6 address in brackets) or "unix:PATH[?query]" (PATH absolute, one or
 * three slashes: "unix:///run/redis.sock").
 */
int rg__redis_url_parse(const char *url, rg__redis_url *u)
{
    const char *query = strchr(url, '?');
    const char *end = query ? query : url + strlen(url);

    *u =
        (rg__redis_url){.port = DEFAULT_PORT, .timeout_ms = DEFAULT_TIMEOUT_MS};
    if (rg__url_has_scheme(url, "unix:")) {
        const char *path = url + 5;
        if (end - path >= 3 && memcmp(path, "///", 3) == 0)
            path += 2;
        if (path >= end || *path != '/' || end - path > 4000)
            return RG_EURL;
        u->socket_path = path;
        u->socket_path_len = (size_t)(end - path);
        return parse_query(u, query, true);
    }
    if (!rg__url_has_scheme(url, "redis://"))
        return RG_EURL;
    const char *host = url + 8, *host_end, *p;
    bool bracketed = *host == '[';
    if (bracketed) {
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end)
            return RG_EURL;
        host++;
        p = host_end + 1;
    } else {
        host_end = host + strcspn(host, ":/?");
        if (host_end > end)
            host_end = end;
        p = host_end;
    }
    if (!host_valid(host, (size_t)(host_end - host), bracketed))
        return RG_EURL; /* nor a user or password, never in this URL */
    long port = DEFAULT_PORT, db = 0;
    if (p < end && *p == ':') {
        const char *port_end = p + 1 + strcspn(p + 1, "/?");
        if (port_end > end)
            port_end = end;
        if (!parse_int(p + 1, port_end, 1, 65535, &port))
            return RG_EURL;
        p = port_end;
    }
    if (p < end && *p == '/') {
        if (p + 1 < end && !parse_int(p + 1, end, 0, DB_MAX, &db))
            return RG_EURL;
        p = end;
    }
    if (p != end)
        return RG_EURL;
    u->host = host;
    u->host_len = (size_t)(host_end - host);
    u->port = (int)port;
    u->db = (int)db;
    return parse_query(u, query, false);
}

int rg__store_redis_open(rg_store **out, const char *url)
{
    if (!out || !url)
        return RG_EINVAL;
    *out = NULL;
    rg__redis_url u;
    int rc = rg__redis_url_parse(url, &u);
    if (rc != RG_OK)
        return rc;
    struct redis_store *q = calloc(1, sizeof *q);
    if (!q)
        return RG_ENOMEM;
    q->base.ops = &redis_ops;
    q->port = u.port;
    q->db = u.db;
    q->timeout.tv_sec = u.timeout_ms / 1000;
    q->timeout.tv_usec = (u.timeout_ms % 1000) * 1000;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return RG_ENOMEM;
    }
    if ((u.host && !(q->host = dup_range(u.host, u.host + u.host_len))) ||
        (u.socket_path &&
         !(q->socket_path =
               dup_range(u.socket_path, u.socket_path + u.socket_path_len))) ||
        !(q->prefix = u.prefix ? dup_range(u.prefix, u.prefix + u.prefix_len)
                               : strdup(DEFAULT_PREFIX)))
        rc = RG_ENOMEM;
    if (rc == RG_OK) {
        /* A server that is not there is an error now, not at the first
         * comment: one PING on a first connection, kept for later. */
        redisContext *c = connect_new(q);
        redisReply *r = c ? redisCommand(c, "PING") : NULL;
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (ok)
            conn_put(q, c);
        else if (c)
            redisFree(c);
        if (!ok)
            rc = RG_ESTORE;
    }
    if (rc != RG_OK) {
        redis_close(&q->base);
        return rc;
    }
    *out = &q->base;
    return RG_OK;
}
