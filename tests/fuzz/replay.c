/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput() over files, without
 * libFuzzer: the seed corpus of each target is a regression test in the
 * normal suite, built by whatever compiler builds replyguard.
 *
 * Usage: fuzz-NAME-replay PATH...
 *
 * Each PATH is a file, or a directory whose files (not those starting with
 * a dot, not subdirectories) are run in the byte order of their names, so
 * that every run takes the same path. It fails when a PATH cannot be read
 * or when no file at all was run: an empty corpus would test nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads a whole file into a buffer of exactly its size (one byte for an
 * empty file), so that AddressSanitizer catches a read past the input. */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && st.st_size >= 0) {
        len = (size_t)st.st_size;
        buf = malloc(len ? len : 1);
        if (buf && fread(buf, 1, len, fp) != len) {
            free(buf);
            buf = NULL;
        }
    }
    if (!buf)
        fprintf(stderr, "%s: cannot read\n", path);
    fclose(fp);
    *size = len;
    return buf;
}

static int run_file(const char *path)
{
    size_t size;
    uint8_t *data = read_file(path, &size);
    if (!data)
        return -1;
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of a directory; returns how many, or -1 on an error. */
static long run_directory(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0, room = 0;
    struct dirent *e;
    long rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == room) {
            room = room ? 2 * room : 64;
            char **grown = realloc(names, room * sizeof *names);
            if (!grown) {
                rc = -1;
                break;
            }
            names = grown;
        }
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[count] = malloc(n))) {
            rc = -1;
            break;
        }
        snprintf(names[count++], n, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (count)
        qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (rc >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0)
                rc = -1;
            else
                rc++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    long total = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        n = S_ISDIR(st.st_mode) ? run_directory(argv[i])
                                : (run_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0)
            return 1;
        printf("%s: %ld input%s\n", argv[i], n, n == 1 ? "" : "s");
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "no input was run\n");
        return 1;
    }
    return 0;
}
