#ifndef CWHERRY_HEAP_H
#define CWHERRY_HEAP_H

#include <stddef.h>

/// Bytes the C allocator holds in allocations, in its arenas and mapped on their own; 0 where it cannot tell.
size_t wherry_heap_in_use(void);

/// Gives the free pages of every allocator arena back to the system; returns 1 when some were released.
int wherry_heap_trim(void);

#endif
