/* util/arena.h: a per-request allocator, freed once.
 * Everything allocated from an arena lives until arena_free(). A function
 * taking an arena_t * allocates its results there; the caller frees nothing.
 * Exhausting the ceiling (or memory) returns NULL: callers map that to an
 * error, never abort.
 * Threads: an arena belongs to one thread at a time. */
#ifndef KURA_UTIL_ARENA_H
#define KURA_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;

#define ARENA_MAX_DEFAULT ((size_t)256 << 20)

arena_t *arena_new(size_t max_bytes); /* 0: ARENA_MAX_DEFAULT */
void arena_free(arena_t *a);          /* NULL is a no-op */
void *arena_alloc(arena_t *a, size_t n);   /* 16-byte aligned, zeroed */
char *arena_strdup(arena_t *a, const char *s);
char *arena_strndup(arena_t *a, const char *s, size_t n); /* always NUL-terminated */
void *arena_memdup(arena_t *a, const void *p, size_t n);
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
