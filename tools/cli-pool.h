/*
 * A small pool of worker threads for captcha-check, started early so that
 * they are awake by the time there is work: a thread started just when a
 * batch is ready can take milliseconds to get going, as long as a short
 * run lasts. For the same reason an idle worker polls for a new job for a
 * few milliseconds before it sleeps: waking a sleeping CPU can take as
 * long (measured on a virtual machine: 2.5 ms).
 *
 * cli_pool_run() runs a job on the calling thread and on every worker that
 * wakes while the job is still open; the job claims its own pieces of work
 * (an atomic counter, say), so however many threads join, each piece is
 * done once, and a worker that wakes after the caller has claimed the last
 * piece just goes back to sleep.
 */
#ifndef CLI_POOL_H
#define CLI_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CLI_POOL_MAX 8

typedef struct cli_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake, left;
    void (*job)(void *arg); /* the open job, or NULL */
    void *arg;
    atomic_ulong generation; /* of the latest job; written under lock */
    atomic_bool quitting;    /* quit, for workers that poll */
    size_t inside;           /* workers running the open job */
    bool quit;
    size_t workers; /* started */
    pthread_t tid[CLI_POOL_MAX];
} cli_pool;

/* The CPUs this process may run on (its affinity set). */
size_t cli_pool_cpus(void);

/* Starts up to `workers` threads (fewer if some cannot start; none is
 * fine). The calling thread stays on the CPU it is on from now on, and
 * each worker gets one of the others (see place_workers()). */
void cli_pool_start(cli_pool *p, size_t workers);

/* Runs job(arg) here and on the workers that wake in time; returns when
 * every thread that ran it has returned. Not reentrant. */
void cli_pool_run(cli_pool *p, void (*job)(void *arg), void *arg);

/* cli_pool_run() in two halves, so the caller can do something else while
 * the workers start on the job: cli_pool_begin() hands it to the workers,
 * cli_pool_join() runs it here too and waits as cli_pool_run() does. Every
 * begin is followed by one join before the next begin. */
void cli_pool_begin(cli_pool *p, void (*job)(void *arg), void *arg);
void cli_pool_join(cli_pool *p);

/* Stops and joins the workers. */
void cli_pool_stop(cli_pool *p);

#endif
