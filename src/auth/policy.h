/* auth/policy.h: IAM policy documents (identity policies of kura users,
 * bucket / table bucket / vault resource policies): parse once, evaluate per
 * request, the way AWS documents the grammar ("IAM JSON policy element
 * reference") and the evaluation logic ("Policy evaluation logic").
 *
 * Grammar accepted:
 *   { "Version": "2012-10-17" | "2008-10-17"   (optional)
 *     "Id": string                               (optional)
 *     "Statement": statement | [statement, ...]  (non-empty) }
 *   statement: Sid?, Effect ("Allow"|"Deny"), Action|NotAction,
 *              Resource|NotResource, Principal|NotPrincipal (resource
 *              policies only, and required there), Condition?
 * Element names and Effect values are case-sensitive, as in IAM. Any other
 * field, a wrong JSON type, a duplicate JSON key, an unknown condition
 * operator or a malformed action/resource/principal is AUTH_POLICY_MALFORMED.
 *
 * Matching:
 *   Action    `*` and `?` wildcards, case-insensitive.
 *   Resource  case-sensitive; each of the first five colon-separated ARN
 *             fields is matched on its own, and `*` in the sixth (resource)
 *             field crosses `/` and `:`. "*" alone matches any resource.
 *   Principal "*" (or {"AWS": "*"}) matches everyone, anonymous included;
 *             an account id or "arn:aws:iam::ACCOUNT:root" matches every
 *             principal of that account; any other ARN matches exactly.
 *             {"Service": "name"} matches principal_service; CanonicalUser
 *             principals parse but match nobody (kura names callers by ARN).
 *   Condition operators AND, keys within one operator AND, values of one
 *             key OR (negated operators: the request value must match none).
 *             A key missing from the request makes a condition false, except
 *             negated operators (true), ...IfExists (true), Null (its test),
 *             ForAllValues: (true). Condition key names are case-insensitive.
 *   Policy variables ${key}, ${key, 'default'} and the escapes ${*} ${?} ${$}
 *             are substituted from the request context in Resource and in
 *             String and Arn condition values when Version is 2012-10-17;
 *             substituted text is literal (its `*` is not a wildcard). A
 *             variable whose key is absent (and has no default) matches
 *             nothing. Multi-valued keys substitute their first value.
 *
 * Threads: a parsed policy is immutable; any number of threads may evaluate
 * it at once. Nothing here logs. */
#ifndef KURA_AUTH_POLICY_H
#define KURA_AUTH_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Largest document accepted, counted as S3 counts it: bytes without the
 * whitespace between JSON tokens (S3 bucket policies: 20 KiB). kura applies
 * it to every kind; IAM's own identity-policy limits are lower. */
#define AUTH_POLICY_MAX_BYTES ((size_t)20 << 10)
/* Ceiling on the document as sent, whitespace included, so that indenting
 * cannot make parsing work unbounded. */
#define AUTH_POLICY_MAX_RAW_BYTES ((size_t)256 << 10)

typedef struct auth_policy auth_policy_t;

typedef enum {
    AUTH_POLICY_IDENTITY = 0, /* attached to a user: Principal forbidden */
    AUTH_POLICY_BUCKET,       /* S3 bucket policy: Principal required, actions s3:* */
    AUTH_POLICY_TABLE_BUCKET, /* S3 Tables table bucket policy: actions s3tables:* */
    AUTH_POLICY_VAULT,        /* AWS Backup vault access policy: actions backup:* */
    AUTH_POLICY_KIND__COUNT
} auth_policy_kind_t;

/* Append only; never renumber. */
typedef enum {
    AUTH_POLICY_OK = 0,
    AUTH_POLICY_MALFORMED, /* S3: MalformedPolicy 400, err holds the message */
    AUTH_POLICY_TOO_LARGE, /* over AUTH_POLICY_MAX_BYTES or _RAW_BYTES; err says
                            * "Policy exceeds the maximum allowed document size." */
    AUTH_POLICY_NOMEM,     /* out of memory: a 500, the document may be fine */
    AUTH_POLICY_RC__COUNT
} auth_policy_rc_t;

typedef enum {
    AUTH_POLICY_IMPLICIT_DENY = 0, /* no statement allowed the request */
    AUTH_POLICY_ALLOW,
    AUTH_POLICY_EXPLICIT_DENY,
} auth_policy_effect_t;

/* One condition context value, e.g. {"aws:SourceIp", "192.0.2.7"}. Names
 * compare case-insensitively; a multi-valued key (s3:RequestObjectTagKeys)
 * repeats its name once per value. */
typedef struct {
    const char *name;
    const char *value;
} auth_policy_kv_t;

typedef struct {
    const char *action;            /* "s3:GetObject"; NULL matches no Action */
    const char *resource;          /* "arn:aws:s3:::bucket/key"; NULL: the action has no
                                    * resource, only Resource "*" matches */
    const char *principal_arn;     /* "arn:aws:iam::123456789012:user/alice", or
                                    * NULL for an anonymous caller */
    const char *principal_account; /* "123456789012"; NULL: taken from
                                    * principal_arn's account field */
    const char *principal_service; /* "s3.amazonaws.com" when kura acts as a
                                    * service, else NULL */
    const auth_policy_kv_t *ctx;   /* condition context and policy variables */
    size_t nctx;
} auth_policy_request_t;

/* Parse and validate a policy document of `kind`.
 * json:     `len` bytes, need not be NUL-terminated; the first non-blank
 *           byte must be '{'.
 * err:      on AUTH_POLICY_MALFORMED / TOO_LARGE, a NUL-terminated message
 *           for the client (S3 sends it as <Message>), cut to errcap; may be
 *           NULL when errcap is 0. Messages echo at most a short field name.
 * Ownership: `json` borrowed; *out owned by the caller, auth_policy_free().
 * Threads:  any.
 * Returns:  AUTH_POLICY_OK (*out set), AUTH_POLICY_MALFORMED,
 *           AUTH_POLICY_TOO_LARGE, AUTH_POLICY_NOMEM (*out NULL on error). */
auth_policy_rc_t auth_policy_parse(const char *json, size_t len, auth_policy_kind_t kind,
                                   auth_policy_t **out, char *err, size_t errcap);

/* Release a parsed policy. NULL is a no-op. */
void auth_policy_free(auth_policy_t *p);

/* The kind the policy was parsed as. */
auth_policy_kind_t auth_policy_kind(const auth_policy_t *p);

/* Evaluate one policy: EXPLICIT_DENY if any matching statement denies,
 * else ALLOW if one allows, else IMPLICIT_DENY. Never allocates.
 * Ownership: both borrowed. Threads: any, concurrently on one policy.
 * A NULL policy is IMPLICIT_DENY. */
auth_policy_effect_t auth_policy_eval(const auth_policy_t *p, const auth_policy_request_t *req);

/* The combination rule across the policies that apply to a request (the
 * caller's identity policies and the resource's policy): an explicit Deny in
 * any wins, else an Allow from any, else implicit deny. NULL entries are
 * skipped. Cross-account rules (both sides must allow) are the caller's:
 * call this once per side. */
auth_policy_effect_t auth_policy_decide(const auth_policy_t *const *policies, size_t n,
                                        const auth_policy_request_t *req);

/* GetBucketPolicyStatus' IsPublic: true if some Allow statement grants to
 * Principal "*" (or uses NotPrincipal) without a condition pinning one of
 * aws:SourceIp (prefix at least /8, IPv6 /32), aws:SourceArn,
 * aws:SourceAccount, aws:SourceOwner, aws:SourceVpc, aws:SourceVpce,
 * aws:SourceOrgID, aws:PrincipalArn, aws:PrincipalAccount,
 * aws:PrincipalOrgID, aws:userid, s3:DataAccessPointArn or
 * s3:DataAccessPointAccount to fixed (wildcard-free) values with a positive,
 * non-IfExists operator. Threads: any. */
bool auth_policy_is_public(const auth_policy_t *p);

#endif
