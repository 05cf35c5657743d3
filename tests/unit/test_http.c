/* tests/unit/test_http.c: Range and conditional headers as S3 applies them. */
#include "check.h"
#include "http/range.h"

static void test_range_resolves_against_object_size(void)
{
    static const struct {
        const char *hdr;
        uint64_t size;
        http_range_rc_t rc;
        uint64_t first, last;
    } cases[] = {
        {"bytes=0-9", 100, HTTP_RANGE_OK, 0, 9},
        {"bytes=90-", 100, HTTP_RANGE_OK, 90, 99},
        {"bytes=-10", 100, HTTP_RANGE_OK, 90, 99},
        {"bytes=-100", 40, HTTP_RANGE_OK, 0, 39},     /* suffix > size */
        {"bytes=10-1000", 100, HTTP_RANGE_OK, 10, 99}, /* last clamped */
        {"bytes=1000-", 1000, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0}, /* empty object */
        {"bytes=-0", 10, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=5-1", 1000, HTTP_RANGE_IGNORE, 0, 0}, /* whole object */
        {"bytes=0-1,5-6", 1000, HTTP_RANGE_IGNORE, 0, 0},
        {"items=0-1", 1000, HTTP_RANGE_IGNORE, 0, 0},
        {"bytes=a-b", 1000, HTTP_RANGE_IGNORE, 0, 0},
        {"bytes=99999999999999999999-", 10, HTTP_RANGE_UNSATISFIABLE, 0, 0}, /* > u64 */
        {"bytes=0-99999999999999999999", 10, HTTP_RANGE_OK, 0, 9},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        http_range_t r = {0, 0};
        http_range_rc_t rc = http_range_parse(cases[i].hdr, cases[i].size, &r);
        CHECK_EQ_INT(rc, cases[i].rc, "case %zu: %s", i, cases[i].hdr);
        if (rc == HTTP_RANGE_OK)
            CHECK(r.first == cases[i].first && r.last == cases[i].last, "case %zu: %s", i,
                  cases[i].hdr);
    }
}

static void test_conditionals_follow_rfc_precedence(void)
{
    /* mtime 1136214245 = Mon, 02 Jan 2006 15:04:05 GMT */
    static const char *const before = "Sun, 01 Jan 2006 00:00:00 GMT";
    static const char *const after = "Tue, 03 Jan 2006 00:00:00 GMT";
    static const struct {
        const char *im, *ius, *inm, *ims;
        http_cond_rc_t rc;
    } cases[] = {
        {NULL, NULL, NULL, NULL, HTTP_COND_PASS},
        {"\"abc\"", NULL, NULL, NULL, HTTP_COND_PASS},
        {"\"xyz\", \"abc\"", NULL, NULL, NULL, HTTP_COND_PASS},
        {"*", NULL, NULL, NULL, HTTP_COND_PASS},
        {"\"xyz\"", NULL, NULL, NULL, HTTP_COND_FAILED},
        {NULL, before, NULL, NULL, HTTP_COND_FAILED},
        {NULL, after, NULL, NULL, HTTP_COND_PASS},
        {"\"abc\"", before, NULL, NULL, HTTP_COND_PASS}, /* If-Match wins */
        {NULL, NULL, "\"abc\"", NULL, HTTP_COND_NOT_MODIFIED},
        {NULL, NULL, "\"xyz\"", NULL, HTTP_COND_PASS},
        {NULL, NULL, NULL, after, HTTP_COND_NOT_MODIFIED},
        {NULL, NULL, NULL, before, HTTP_COND_PASS},
        {NULL, NULL, "\"xyz\"", after, HTTP_COND_PASS}, /* If-None-Match wins */
        {NULL, NULL, NULL, "not a date", HTTP_COND_PASS},
        {"\"xyz\"", NULL, "\"abc\"", NULL, HTTP_COND_FAILED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        http_cond_rc_t rc = http_conditional(cases[i].im, cases[i].ius, cases[i].inm,
                                             cases[i].ims, "abc", 1136214245);
        CHECK_EQ_INT(rc, cases[i].rc, "case %zu", i);
    }
}

int main(void)
{
    RUN(test_range_resolves_against_object_size);
    RUN(test_conditionals_follow_rfc_precedence);
    return check_report();
}
