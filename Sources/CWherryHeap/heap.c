#include "CWherryHeap.h"

#include <stdlib.h> /* defines __GLIBC__ where glibc is the C library */

#if defined(__GLIBC__)
#include <malloc.h>

size_t wherry_heap_in_use(void) {
#if __GLIBC_PREREQ(2, 33)
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    /* Older glibc: int fields, right below 2 GB. */
    struct mallinfo info = mallinfo();
    return (size_t)(unsigned)info.uordblks + (size_t)(unsigned)info.hblkhd;
#endif
}

int wherry_heap_trim(void) { return malloc_trim(0); }
#else
size_t wherry_heap_in_use(void) { return 0; }

int wherry_heap_trim(void) { return 0; }
#endif
