/*
 * Random bytes for nonces and question seeds, from libsodium's generator,
 * drawn in blocks.
 *
 * Each randombytes_buf() call is a system call, which costs as much as a
 * whole HMAC here; a challenge needs 48 bytes, so each thread draws a block
 * at a time and hands it out in pieces. Nothing drawn this way is secret:
 * nonces travel in tokens, and a question is shown to the reader. They only
 * need to be unpredictable before they are used and never repeat, so a
 * block is used once, front to back, and wiped as it is consumed.
 *
 * After fork() the child would inherit its parent's unused bytes and issue
 * the same nonces (pre-forking web servers do exactly this), so a fork
 * handler retires every block drawn before it.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "random.h"

#define BLOCK_BYTES 1024

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* Bumped in the child after each fork; read with relaxed ordering is fine,
 * as the child is single-threaded when the handler runs. */
static unsigned long fork_generation;

static _Thread_local struct {
    uint8_t bytes[BLOCK_BYTES];
    size_t used; /* bytes handed out (and wiped) */
    unsigned long generation;
    bool filled;
} block;

static void after_fork_in_child(void)
{
    fork_generation++;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

void rg__random_buf(void *out, size_t n)
{
    pthread_once(&atfork_once, register_atfork);
    if (n > BLOCK_BYTES / 4) {
        randombytes_buf(out, n); /* large requests gain nothing here */
        return;
    }
    if (!block.filled || block.generation != fork_generation ||
        BLOCK_BYTES - block.used < n) {
        randombytes_buf(block.bytes, sizeof block.bytes);
        block.used = 0;
        block.generation = fork_generation;
        block.filled = true;
    }
    memcpy(out, block.bytes + block.used, n);
    sodium_memzero(block.bytes + block.used, n);
    block.used += n;
}
