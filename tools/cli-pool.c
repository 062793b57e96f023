/* The worker pool of captcha-check (cli-pool.h). */
#include "cli-pool.h"

#include <stdint.h>
#include <time.h>

/* How long an idle worker polls for a job before it sleeps. */
#define POLL_NS (20 * 1000 * 1000)

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Waits, without the lock, until a job newer than `seen` is published
 * or POLL_NS pass. */
static void poll_for_job(cli_pool *p, unsigned long seen)
{
    int64_t until = now_ns() + POLL_NS;
    while (atomic_load(&p->generation) == seen && !atomic_load(&p->quitting) &&
           now_ns() < until) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static void *worker(void *arg)
{
    cli_pool *p = arg;
    unsigned long seen = 0;

    poll_for_job(p, seen);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->quit && (!p->job || atomic_load(&p->generation) == seen))
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->quit)
            break;
        seen = atomic_load(&p->generation);
        void (*job)(void *) = p->job;
        void *job_arg = p->arg;
        p->inside++;
        pthread_mutex_unlock(&p->lock);
        job(job_arg);
        pthread_mutex_lock(&p->lock);
        if (--p->inside == 0)
            pthread_cond_signal(&p->left);
        pthread_mutex_unlock(&p->lock);
        poll_for_job(p, seen);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void cli_pool_start(cli_pool *p, size_t workers)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->left, NULL);
    p->job = NULL;
    p->arg = NULL;
    atomic_init(&p->generation, 0);
    atomic_init(&p->quitting, false);
    p->inside = 0;
    p->quit = false;
    p->workers = 0;
    if (workers > CLI_POOL_MAX)
        workers = CLI_POOL_MAX;
    for (size_t i = 0; i < workers; i++)
        if (pthread_create(&p->tid[p->workers], NULL, worker, p) == 0)
            p->workers++;
}

void cli_pool_run(cli_pool *p, void (*job)(void *arg), void *arg)
{
    pthread_mutex_lock(&p->lock);
    p->job = job;
    p->arg = arg;
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    job(arg);

    /* Closed: a worker that wakes from now on finds nothing to join. */
    pthread_mutex_lock(&p->lock);
    p->job = NULL;
    while (p->inside > 0)
        pthread_cond_wait(&p->left, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void cli_pool_stop(cli_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    atomic_store(&p->quitting, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->workers; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->left);
    pthread_mutex_destroy(&p->lock);
}
