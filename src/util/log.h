/* util/log.h: key=value log lines on stderr.
 *
 * Every line: ts=<iso8601 ms> lvl=<level> [rid=<request id>] event=<name> <fields>.
 * User data (keys, tags, SQL) must go through log_quote() so that a key
 * cannot forge a line. Never log Authorization, signatures, secrets,
 * presigned queries or bodies.
 * Threads: any; each line is written with one write(2). */
#ifndef KURA_UTIL_LOG_H
#define KURA_UTIL_LOG_H

#include "util/buf.h"

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* Request context carried down to lower layers so their lines name the request. */
typedef struct {
    const char *rid; /* request id, or NULL outside a request */
} log_ctx_t;

void log_set_level(log_level_t lvl);
void log_line(log_level_t lvl, const log_ctx_t *ctx, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends `s` as a double-quoted value with ", \ and control bytes escaped. */
void log_quote(buf_t *b, const char *s, size_t n);
/* Writes a preformatted access line (without trailing newline). */
void log_raw(const char *line, size_t n);

#define log_info(ctx, ev, ...) log_line(LOG_INFO, ctx, ev, __VA_ARGS__)
#define log_warn(ctx, ev, ...) log_line(LOG_WARN, ctx, ev, __VA_ARGS__)
#define log_error(ctx, ev, ...) log_line(LOG_ERROR, ctx, ev, __VA_ARGS__)
#define log_debug(ctx, ev, ...) log_line(LOG_DEBUG, ctx, ev, __VA_ARGS__)

#endif
