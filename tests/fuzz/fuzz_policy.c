/* tests/fuzz/fuzz_policy.c: IAM policy documents (auth/policy.c).
 * Input: one byte choosing the policy kind, then the document. A document
 * that parses is evaluated against a few fixed requests, so the matcher and
 * every condition operator see whatever values the fuzzer invents. */
#include "auth/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const auth_policy_kv_t ctx[] = {
        {"aws:username", "alice"},
        {"aws:SourceIp", "192.0.2.7"},
        {"aws:SourceIp", "2001:db8::1"},
        {"aws:SecureTransport", "true"},
        {"aws:CurrentTime", "2025-06-01T12:00:00Z"},
        {"aws:EpochTime", "1748779200"},
        {"s3:prefix", "home/alice/"},
        {"s3:max-keys", "100"},
        {"s3:ExistingObjectTag/Project", "blue"},
        {"aws:TagKeys", "a"},
        {"aws:TagKeys", "b*"},
        {"aws:SourceArn", "arn:aws:s3:::logs/x:y"},
    };
    static const auth_policy_request_t reqs[] = {
        {"s3:GetObject", "arn:aws:s3:::photos/a/b:c", "arn:aws:iam::123456789012:user/alice", NULL,
         NULL, ctx, sizeof ctx / sizeof ctx[0]},
        {"s3:ListBucket", "arn:aws:s3:::photos", NULL, NULL, NULL, ctx, 3},
        {"backup:DeleteRecoveryPoint", NULL, NULL, NULL, "s3.amazonaws.com", NULL, 0},
    };
    if (size == 0)
        return 0;
    auth_policy_kind_t kind = (auth_policy_kind_t)(data[0] % AUTH_POLICY_KIND__COUNT);
    auth_policy_t *p = NULL;
    char err[128];
    auth_policy_rc_t rc =
        auth_policy_parse((const char *)data + 1, size - 1, kind, &p, err, sizeof err);
    if ((rc == AUTH_POLICY_OK) != (p != NULL))
        abort(); /* *out is set exactly on success */
    if (rc != AUTH_POLICY_OK && memchr(err, '\0', sizeof err) == NULL)
        abort(); /* the message is always terminated */
    if (p) {
        for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
            auth_policy_effect_t e = auth_policy_eval(p, &reqs[i]);
            const auth_policy_t *one[] = {p};
            if (auth_policy_decide(one, 1, &reqs[i]) != e)
                abort(); /* one policy decides as it evaluates */
        }
        (void)auth_policy_is_public(p);
    }
    auth_policy_free(p);
    return 0;
}
