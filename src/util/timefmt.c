/* util/timefmt.c: AWS time formats (see timefmt.h). */
#include "util/timefmt.h"

#include "util/parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t timefmt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void to_tm(int64_t s, struct tm *tm)
{
    time_t t = (time_t)s;
    gmtime_r(&t, tm);
}

void timefmt_iso8601_ms(int64_t ms, char out[TIMEFMT_ISO_LEN])
{
    struct tm tm;
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    to_tm(s, &tm);
    /* Years past 9999 do not occur in S3 dates; the modulo keeps the width fixed. */
    snprintf(out, TIMEFMT_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
             tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)(ms - s * 1000) % 1000);
}

void timefmt_iso8601_s(int64_t s, char out[TIMEFMT_ISO_LEN])
{
    struct tm tm;
    to_tm(s, &tm);
    strftime(out, TIMEFMT_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void timefmt_http(int64_t s, char out[TIMEFMT_HTTP_LEN])
{
    struct tm tm;
    to_tm(s, &tm);
    snprintf(out, TIMEFMT_HTTP_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday],
             tm.tm_mday % 100, mon[tm.tm_mon], (tm.tm_year + 1900) % 10000, tm.tm_hour % 100,
             tm.tm_min % 100, tm.tm_sec % 100);
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool valid_fields(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    return y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
           mi <= 59 && s <= 60;
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (!parse_is_digit((*p)[i]))
            return false;
        v = v * 10 + (unsigned)((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool timefmt_parse_amz(const char *s, int64_t *out_s)
{
    unsigned y, mo, d, h, mi, se;
    const char *p = s;
    if (strlen(s) != 16)
        return false;
    if (!digits(&p, 4, &y) || !digits(&p, 2, &mo) || !digits(&p, 2, &d) || *p++ != 'T' ||
        !digits(&p, 2, &h) || !digits(&p, 2, &mi) || !digits(&p, 2, &se) || *p != 'Z')
        return false;
    if (!valid_fields(y, mo, d, h, mi, se))
        return false;
    *out_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

static int month_index(const char *p)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(p, mon[i], 3) == 0)
            return i + 1;
    return 0;
}

bool timefmt_parse_http(const char *s, int64_t *out_s)
{
    unsigned y, d, h, mi, se;
    int mo;
    const char *p = strchr(s, ',');
    if (p) {
        p++;
        while (*p == ' ')
            p++;
        if (strlen(p) >= 20 && p[2] == ' ') { /* IMF: 02 Jan 2006 15:04:05 GMT */
            if (!digits(&p, 2, &d) || *p++ != ' ' || !(mo = month_index(p)))
                return false;
            p += 3;
            if (*p++ != ' ' || !digits(&p, 4, &y))
                return false;
        } else { /* RFC 850: 02-Jan-06 15:04:05 GMT */
            if (!digits(&p, 2, &d) || *p++ != '-' || !(mo = month_index(p)))
                return false;
            p += 3;
            if (*p++ != '-' || !digits(&p, 2, &y))
                return false;
            y += y < 70 ? 2000 : 1900;
        }
        if (*p++ != ' ' || !digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
            *p++ != ':' || !digits(&p, 2, &se) || strcmp(p, " GMT") != 0)
            return false;
    } else { /* asctime: Mon Jan  2 15:04:05 2006 */
        p = s;
        if (strlen(p) != 24)
            return false;
        p += 4;
        if (!(mo = month_index(p)))
            return false;
        p += 4;
        if (*p == ' ')
            p++;
        const char *q = p;
        if (!digits(&q, parse_is_digit(q[1]) ? 2 : 1, &d))
            return false;
        p = q;
        if (*p++ != ' ' || !digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
            *p++ != ':' || !digits(&p, 2, &se) || *p++ != ' ' || !digits(&p, 4, &y) || *p)
            return false;
    }
    if (!valid_fields(y, (unsigned)mo, d, h, mi, se))
        return false;
    *out_s = days_from_civil(y, (unsigned)mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

bool timefmt_parse_iso8601(const char *s, int64_t *out_ms)
{
    unsigned y, mo, d, h, mi, se, frac = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
        return false;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &se))
        return false;
    if (*p == '.') {
        p++;
        int n = 0;
        while (parse_is_digit(*p)) {
            if (n < 3)
                frac = frac * 10 + (unsigned)(*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return false;
        for (; n < 3; n++)
            frac *= 10;
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        unsigned oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om))
            return false;
        off_s = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p || !valid_fields(y, mo, d, h, mi, se))
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
    *out_ms = secs * 1000 + frac;
    return true;
}
