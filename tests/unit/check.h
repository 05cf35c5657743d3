/* tests/unit/check.h: the unit tests' assertions and runner.
 * A failed CHECK prints file:line and the message, counts a failure and the
 * test goes on; main() returns non-zero if any check failed. The closing line
 * is "N passed, N failed" (checks, not tests). */
#ifndef KURA_TESTS_CHECK_H
#define KURA_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b, ...)                                                                    \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_)                                                                            \
            fprintf(stderr, "  %s = %lld, %s = %lld\n", #a, va_, #b, vb_);                          \
        CHECK(va_ == vb_, __VA_ARGS__);                                                            \
    } while (0)

#define CHECK_EQ_STR(a, b, ...)                                                                    \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        int eq_ = sa_ && sb_ && strcmp(sa_, sb_) == 0;                                             \
        if (!eq_)                                                                                  \
            fprintf(stderr, "  %s = \"%s\"\n  %s = \"%s\"\n", #a, sa_ ? sa_ : "(null)", #b,       \
                    sb_ ? sb_ : "(null)");                                                         \
        CHECK(eq_, __VA_ARGS__);                                                                   \
    } while (0)

#define RUN(test)                                                                                  \
    do {                                                                                           \
        int before_ = check_failed;                                                                \
        test();                                                                                    \
        fprintf(stderr, "%s %s\n", check_failed == before_ ? "ok  " : "FAIL", #test);             \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
