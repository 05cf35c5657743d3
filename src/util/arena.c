/* util/arena.c: chunked bump allocator (see arena.h). */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES ((size_t)16 << 10)
#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct arena {
    struct chunk *head;
    size_t total, max;
};

arena_t *arena_new(size_t max_bytes)
{
    arena_t *a = calloc(1, sizeof *a);
    if (a)
        a->max = max_bytes ? max_bytes : ARENA_MAX_DEFAULT;
    return a;
}

void arena_free(arena_t *a)
{
    if (!a)
        return;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *arena_alloc(arena_t *a, size_t n)
{
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (n == 0)
        n = ALIGN;
    struct chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        if (a->total > a->max || cap > a->max - a->total)
            return NULL;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        a->total += cap;
        if (a->head && n > CHUNK_BYTES) { /* big one-off: keep the current chunk in front */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *arena_memdup(arena_t *a, const void *p, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

char *arena_strndup(arena_t *a, const char *s, size_t n) { return arena_memdup(a, s, n); }

char *arena_strdup(arena_t *a, const char *s) { return s ? arena_memdup(a, s, strlen(s)) : NULL; }

char *arena_printf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
