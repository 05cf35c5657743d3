/* tests/fuzz/fuzz_sigv4_canonical.c: SigV4 parsing and canonicalisation
 * (auth/sigv4.c) on hostile requests.
 * Input: lines "METHOD", "raw path", "raw query" ("-" for none), then
 * "name:value" headers (names lowercased here, as the HTTP layer does).
 * Every entry point runs: canonical request in S3 and non-S3 modes, scope
 * service, header and presigned verification, with a known key so the
 * signature comparison is reached. */
#include "auth/auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool lookup(void *arg, const char *access_key, char *secret, size_t cap)
{
    (void)arg;
    static const char s[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    if (strcmp(access_key, "AKIDEXAMPLE") != 0 || sizeof s > cap)
        return false;
    memcpy(secret, s, sizeof s);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* inputs with NUL bytes just end early: C strings */

    char *lines[3 + FUZZ_MAX_HEADERS];
    size_t nlines = 0;
    for (char *s = text; nlines < sizeof lines / sizeof lines[0];) {
        lines[nlines++] = s;
        char *nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    while (nlines < 3)
        lines[nlines++] = (char *)"";

    auth_header_t headers[FUZZ_MAX_HEADERS];
    size_t nh = 0;
    for (size_t i = 3; i < nlines; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        for (char *p = lines[i]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        headers[nh].name = lines[i];
        headers[nh].value = colon + 1;
        nh++;
    }
    auth_request_t req = {
        .method = lines[0],
        .raw_path = lines[1],
        .raw_query = strcmp(lines[2], "-") == 0 ? NULL : lines[2],
        .headers = headers,
        .nheaders = nh,
        .now_s = 1440938160, /* the AKIDEXAMPLE suite's date */
        .body = size > 0 ? data : NULL,
        .body_len = size,
    };

    char *c = auth_canonical_request(&req, "s3", "host;x-amz-date", "UNSIGNED-PAYLOAD");
    free(c);
    c = auth_canonical_request(&req, "service", "host;x-amz-date;my-header1", "x");
    free(c);
    char svc[33];
    (void)auth_scope_service(&req, svc, sizeof svc);
    auth_result_t res;
    auth_rc_t rc = auth_sigv4_verify(&req, lookup, NULL, &res);
    (void)auth_rc_name(rc);
    free(text);
    return 0;
}
