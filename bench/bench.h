/* Small timing helpers shared by the benchmark programs. */
#ifndef RG_BENCH_H
#define RG_BENCH_H

#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
