/* util/log.c: key=value lines on stderr (see log.h). */
#include "util/log.h"

#include "util/timefmt.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static atomic_int min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level_t lvl) { atomic_store(&min_level, (int)lvl); }

void log_raw(const char *line, size_t n)
{
    buf_t b;
    buf_init(&b, 1 << 16);
    buf_append(&b, line, n);
    buf_putc(&b, '\n');
    if (buf_ok(&b)) {
        ssize_t w = write(STDERR_FILENO, b.data, b.len);
        (void)w; /* nowhere left to report a failed log write */
    }
    buf_release(&b);
}

void log_line(log_level_t lvl, const log_ctx_t *ctx, const char *event, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&min_level))
        return;
    char ts[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ms(timefmt_now_ms(), ts);
    buf_t b;
    buf_init(&b, 1 << 16);
    buf_printf(&b, "ts=%s lvl=%s", ts, level_names[lvl]);
    if (ctx && ctx->rid)
        buf_printf(&b, " rid=%s", ctx->rid);
    buf_printf(&b, " event=%s ", event);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_append(&b, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    log_raw(b.data ? b.data : "", b.len);
    buf_release(&b);
}

void log_quote(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, 4);
        } else {
            buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
}
