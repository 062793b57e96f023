/* Small helpers shared by the benchmark programs: a clock, and reading
 * counts from the command line. */
#ifndef RG_BENCH_H
#define RG_BENCH_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A decimal count in [min, max] from a command-line argument, all of it. */
static inline bool bench_parse_count(const char *text, unsigned long min,
                                     unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

#endif
