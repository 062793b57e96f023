/* The worker pool of captcha-check (cli-pool.h). */
#include "cli-pool.h"

#include <sched.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* How long an idle worker polls for a job before it sleeps. */
#define POLL_NS (20 * 1000 * 1000)

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * Waits, without the lock, until a job newer than `seen` is published or
 * POLL_NS pass. It yields rather than spins: a thread just created often
 * starts on its creator's CPU, and a spinning one would keep the creator
 * off it until the scheduler moves one of them (measured: 1 to 2 ms).
 */
static void poll_for_job(cli_pool *p, unsigned long seen)
{
    int64_t until = now_ns() + POLL_NS;
    while (atomic_load(&p->generation) == seen && !atomic_load(&p->quitting) &&
           now_ns() < until)
        sched_yield();
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

size_t cli_pool_cpus(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        return (size_t)CPU_COUNT(&allowed);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online < 1 ? 1 : (size_t)online;
}

/*
 * Keeps the calling thread on the CPU it is on and gives each worker one
 * of the other CPUs it may use, in turn. Left to itself, the scheduler of
 * a small virtual machine was measured running a new thread on its
 * creator's CPU for several milliseconds while the other CPU idled, which
 * is the whole run of a short job. False when the threads cannot be
 * placed: they then go where the scheduler puts them.
 */
static bool place_workers(pthread_attr_t *attr, size_t workers)
{
    cpu_set_t allowed, here;
    int cpu = sched_getcpu();

    if (cpu < 0 || cpu >= CPU_SETSIZE ||
        sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
        !CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2)
        return false;
    int next = cpu;
    size_t ready = 0;
    for (; ready < workers; ready++) {
        do
            next = (next + 1) % CPU_SETSIZE;
        while (!CPU_ISSET(next, &allowed) || next == cpu);
        cpu_set_t there;
        CPU_ZERO(&there);
        CPU_SET(next, &there);
        if (pthread_attr_init(&attr[ready]) != 0)
            break;
        if (pthread_attr_setaffinity_np(&attr[ready], sizeof there, &there) !=
            0) {
            pthread_attr_destroy(&attr[ready]);
            break;
        }
    }
    CPU_ZERO(&here);
    CPU_SET(cpu, &here);
    if (ready == workers &&
        pthread_setaffinity_np(pthread_self(), sizeof here, &here) == 0)
        return true;
    while (ready > 0)
        pthread_attr_destroy(&attr[--ready]);
    return false;
}

void cli_pool_start(cli_pool *p, size_t workers)
{
    pthread_attr_t attr[CLI_POOL_MAX];

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
    bool placed = workers > 0 && place_workers(attr, workers);
    for (size_t i = 0; i < workers; i++)
        if (pthread_create(&p->tid[p->workers], placed ? &attr[i] : NULL,
                           worker, p) == 0)
            p->workers++;
    if (placed)
        for (size_t i = 0; i < workers; i++)
            pthread_attr_destroy(&attr[i]);
}

void cli_pool_begin(cli_pool *p, void (*job)(void *arg), void *arg)
{
    pthread_mutex_lock(&p->lock);
    p->job = job;
    p->arg = arg;
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void cli_pool_join(cli_pool *p)
{
    p->job(p->arg);

    /* Closed: a worker that wakes from now on finds nothing to join. */
    pthread_mutex_lock(&p->lock);
    p->job = NULL;
    while (p->inside > 0)
        pthread_cond_wait(&p->left, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void cli_pool_run(cli_pool *p, void (*job)(void *arg), void *arg)
{
    cli_pool_begin(p, job, arg);
    cli_pool_join(p);
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
