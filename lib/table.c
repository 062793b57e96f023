/* Memory for tables: rg__table_alloc() and rg__grow() (internal.h). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* From this size on, a table is faulted in at once. */
#define PREFAULT_BYTES (256u * 1024)

/* From this size on, a table asks for transparent huge pages: one fault
 * (and one TLB entry) per 2 MiB instead of 512, where the kernel allows
 * them for the asking (THP "madvise"). Its memory is rounded up to whole
 * huge pages for that (less than 2 MiB more, on 2 MiB or more). */
#define HUGE_PAGE (2u * 1024 * 1024)

void *rg__table_alloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    /* calloc() of 0 bytes may return NULL, which would read as out of
     * memory: an empty table gets a byte. */
    if (bytes == 0)
        return calloc(1, 1);
    if (bytes < PREFAULT_BYTES)
        return calloc(n, size);
    void *p = NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_PAGE && bytes <= SIZE_MAX - HUGE_PAGE) {
        size_t whole = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        if ((p = aligned_alloc(HUGE_PAGE, whole)))
            madvise(p, whole, MADV_HUGEPAGE); /* a hint: failure is fine */
    }
#endif
    /* cppcheck-suppress knownConditionTrueFalse ; p is set above where
     * <sys/mman.h> defines MADV_HUGEPAGE, which cppcheck does not read. */
    if (!p)
        p = malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

bool rg__grow_to(void *array, size_t *room, size_t want, size_t size,
                 size_t first, bool zero)
{
    if (want <= *room)
        return true;
    size_t n = *room ? *room : first;
    while (n < want) {
        if (n > SIZE_MAX / 2)
            return false;
        n *= 2;
    }
    if (size != 0 && n > SIZE_MAX / size)
        return false;
    /* The pointer is read and written through memcpy: `array` is a T **
     * of some T, not a void **. */
    void *p;
    memcpy(&p, array, sizeof p);
    /* realloc() to 0 bytes may free p and return NULL: ask for a byte. */
    size_t bytes = n * size;
    char *q = realloc(p, bytes > 0 ? bytes : 1);
    if (!q)
        return false;
    if (zero)
        memset(q + *room * size, 0, (n - *room) * size);
    memcpy(array, &q, sizeof q);
    *room = n;
    return true;
}
