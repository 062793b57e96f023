/* rg__table_alloc(): zeroed memory for large hash tables (internal.h). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* From this size on, a table is faulted in at once. */
#define PREFAULT_BYTES (256u * 1024)

void *rg__table_alloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes < PREFAULT_BYTES)
        return calloc(n, size);
    void *p = malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}
