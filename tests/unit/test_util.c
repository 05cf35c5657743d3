/* tests/unit/test_util.c: buffers, parsers, time formats, codecs, XML escaping. */
#include "check.h"
#include "util/httpc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/uri.h"
#include "util/xmlw.h"

#include <stdlib.h>

static void test_buf_refuses_to_grow_past_its_ceiling(void)
{
    buf_t b;
    buf_init(&b, 8);
    buf_puts(&b, "12345678");
    CHECK(buf_ok(&b), "exactly max fits");
    buf_putc(&b, '9');
    CHECK(!buf_ok(&b), "past max fails");
    CHECK_EQ_STR(buf_cstr(&b), "12345678", "content not cut");
    buf_release(&b);
}

static void test_parse_u64_bounds(void)
{
    static const struct {
        const char *s;
        uint64_t max;
        parse_rc_t rc;
        uint64_t v;
    } cases[] = {
        {"0", 10, PARSE_OK, 0},
        {"10000", 10000, PARSE_OK, 10000},
        {"10001", 10000, PARSE_RANGE, 0},
        {"18446744073709551615", UINT64_MAX, PARSE_OK, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, PARSE_RANGE, 0},
        {"", 10, PARSE_EMPTY, 0},
        {"-1", 10, PARSE_EMPTY, 0},
        {"12a", 100, PARSE_SYNTAX, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint64_t v = 0;
        parse_rc_t rc = parse_u64_str(cases[i].s, cases[i].max, &v);
        CHECK_EQ_INT(rc, cases[i].rc, "case %zu: %s", i, cases[i].s);
        if (rc == PARSE_OK)
            CHECK(v == cases[i].v, "case %zu value", i);
    }
}

static void test_time_formats_round_trip(void)
{
    char s[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ms(1136214245123, s);
    CHECK_EQ_STR(s, "2006-01-02T15:04:05.123Z", "iso");
    char h[TIMEFMT_HTTP_LEN];
    timefmt_http(1136214245, h);
    CHECK_EQ_STR(h, "Mon, 02 Jan 2006 15:04:05 GMT", "http");
    int64_t t = 0;
    CHECK(timefmt_parse_http("Mon, 02 Jan 2006 15:04:05 GMT", &t) && t == 1136214245, "imf");
    CHECK(timefmt_parse_http("Monday, 02-Jan-06 15:04:05 GMT", &t) && t == 1136214245, "850");
    CHECK(timefmt_parse_http("Mon Jan  2 15:04:05 2006", &t) && t == 1136214245, "asctime");
    CHECK(!timefmt_parse_http("Mon, 32 Jan 2006 15:04:05 GMT", &t), "bad day");
    CHECK(timefmt_parse_amz("20060102T150405Z", &t) && t == 1136214245, "amz");
    CHECK(!timefmt_parse_amz("20060102T150405", &t), "amz without Z");
    int64_t ms = 0;
    CHECK(timefmt_parse_iso8601("2006-01-02T15:04:05.123Z", &ms) && ms == 1136214245123, "iso");
    CHECK(timefmt_parse_iso8601("2006-01-02T16:04:05+01:00", &ms) && ms == 1136214245000, "tz");
}

static void test_codecs(void)
{
    uint8_t raw[4];
    char hex[9];
    CHECK(codec_unhex("DEADbeef", 8, raw), "unhex");
    codec_hex(raw, 4, hex);
    CHECK_EQ_STR(hex, "deadbeef", "hex");
    char b64[16];
    codec_b64("hello", 5, b64);
    CHECK_EQ_STR(b64, "aGVsbG8=", "b64");
    uint8_t out[8];
    size_t n = 0;
    CHECK(codec_unb64("aGVsbG8=", 8, out, sizeof out, &n) && n == 5 && memcmp(out, "hello", 5) == 0,
          "unb64");
    CHECK(!codec_unb64("aGVsbG8", 7, out, sizeof out, &n), "unpadded refused");
    CHECK(!codec_unb64("aGV$bG8=", 8, out, sizeof out, &n), "bad char refused");
}

static void test_uri_encode_decode(void)
{
    buf_t b;
    buf_init(&b, 0);
    uri_encode(&b, "a b/c~d%e", 9, true);
    CHECK_EQ_STR(buf_cstr(&b), "a%20b/c~d%25e", "encode");
    buf_reset(&b);
    CHECK(uri_decode(&b, "a%20b+c", 7, false), "decode");
    CHECK_EQ_STR(buf_cstr(&b), "a b+c", "plus kept");
    buf_reset(&b);
    CHECK(!uri_decode(&b, "abc%2", 5, false), "truncated escape");
    buf_release(&b);
}

static void test_xml_escapes_markup_and_controls(void)
{
    buf_t b;
    buf_init(&b, 0);
    xmlw_elem(&b, "Key", "a<b>&\"c'\x01");
    CHECK_EQ_STR(buf_cstr(&b), "<Key>a&lt;b&gt;&amp;&quot;c&apos;&#x01;</Key>", "escape");
    buf_release(&b);
}

static void test_arena_strings(void)
{
    arena_t *a = arena_new(1 << 20);
    char *s = arena_printf(a, "%s-%d", "x", 42);
    CHECK_EQ_STR(s, "x-42", "printf");
    CHECK(arena_alloc(a, 2 << 20) == NULL, "ceiling enforced");
    arena_free(a);
}

static void test_utf8_validation(void)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"plain/key.txt", true},   {"caf\xc3\xa9", true},        {"\xf0\x9f\x98\x80", true},
        {"\xc0\xaf", false},        /* overlong '/' */
        {"\xed\xa0\x80", false},    /* surrogate */
        {"\xff", false},            {"\xe2\x82", false},          /* truncated */
        {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        CHECK(parse_utf8_valid(cases[i].s, strlen(cases[i].s)) == cases[i].ok, "case %zu", i);
}

/* Response headers as the CLI reads them: any case, trimmed, bounded. */
static void test_httpc_response_headers(void)
{
    httpc_response_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.head, sizeof r.head,
             "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n"
             "X-Kura-Column-Types:  BIGINT,VARCHAR \r\nx-kura-column-typesx: no\r\n");
    char v[64];
    CHECK(httpc_response_header(&r, "x-kura-column-types", v, sizeof v), "found");
    CHECK_EQ_STR(v, "BIGINT,VARCHAR", "trimmed value");
    CHECK(httpc_response_header(&r, "content-type", v, sizeof v) && !strcmp(v, "text/csv"), "case");
    CHECK(!httpc_response_header(&r, "x-kura-missing", v, sizeof v), "absent");
    CHECK(!httpc_response_header(&r, "HTTP/1.1 200 OK", v, sizeof v), "the status line is no header");
    char tiny[4];
    CHECK(!httpc_response_header(&r, "x-kura-column-types", tiny, sizeof tiny), "too long");
}

int main(void)
{
    RUN(test_utf8_validation);
    RUN(test_httpc_response_headers);
    RUN(test_buf_refuses_to_grow_past_its_ceiling);
    RUN(test_parse_u64_bounds);
    RUN(test_time_formats_round_trip);
    RUN(test_codecs);
    RUN(test_uri_encode_decode);
    RUN(test_xml_escapes_markup_and_controls);
    RUN(test_arena_strings);
    return check_report();
}
