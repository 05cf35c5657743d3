/* util/buf.h: growing byte string with a hard ceiling.
 *
 * Invariants: len <= max; data[len] == '\0' whenever data != NULL.
 * An append past max (or a failed allocation) sets `failed`: content is never
 * cut short, and later appends do nothing. Append freely, check buf_ok() once
 * before using the result.
 * Ownership: the buffer owns `data`; buf_release() frees it, buf_detach()
 * hands it to the caller (who free()s it) and leaves the buffer empty. */
#ifndef KURA_UTIL_BUF_H
#define KURA_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len, cap; /* bytes used / allocated, excluding the '\0' */
    size_t max;      /* ceiling on len, fixed by buf_init() */
    bool failed;
} buf_t;

#define BUF_MAX_DEFAULT ((size_t)64 << 20) /* 64 MiB: responses and request documents */

void buf_init(buf_t *b, size_t max);
void buf_release(buf_t *b);
void buf_reset(buf_t *b); /* len = 0, keeps the allocation and clears `failed` */
void buf_append(buf_t *b, const void *p, size_t n);
void buf_puts(buf_t *b, const char *s);
/* One byte: inline when it fits (escapers call this per character). */
void buf_putc_slow(buf_t *b, char c);
static inline void buf_putc(buf_t *b, char c)
{
    if (b->data && !b->failed && b->len < b->cap && b->len < b->max) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    buf_putc_slow(b, c);
}
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_ok(const buf_t *b);
char *buf_detach(buf_t *b, size_t *len);
/* A NUL-terminated view; "" for an empty buffer. Valid until the next append. */
const char *buf_cstr(const buf_t *b);

#endif
