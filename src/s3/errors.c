/* s3/errors.c: s3_err_t -> HTTP status, <Code>, message. The only place an
 * S3 error code is spelled (S3 API Reference, "Error responses"). */
#include "s3/s3.h"

#include "util/xmlw.h"

#include <string.h>

static const struct {
    unsigned status;
    const char *code, *msg;
} s3_errs[] = {
    [S3_OK] = {200, "OK", ""},
    [S3_ERR_ACCESS_DENIED] = {403, "AccessDenied", "Access Denied"},
    [S3_ERR_AUTH_HEADER_MALFORMED] = {400, "AuthorizationHeaderMalformed",
                                      "The authorization header is malformed."},
    [S3_ERR_AUTH_QUERY_PARAMS] = {400, "AuthorizationQueryParametersError",
                                  "Query-string authentication version 4 requires the "
                                  "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
                                  "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
    [S3_ERR_BAD_DIGEST] = {400, "BadDigest",
                           "The Content-MD5 you specified did not match what we received."},
    [S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU] = {409, "BucketAlreadyOwnedByYou",
                                            "Your previous request to create the named bucket "
                                            "succeeded and you already own it."},
    [S3_ERR_BUCKET_NOT_EMPTY] = {409, "BucketNotEmpty",
                                 "The bucket you tried to delete is not empty"},
    [S3_ERR_ENTITY_TOO_LARGE] = {400, "EntityTooLarge",
                                 "Your proposed upload exceeds the maximum allowed object size."},
    [S3_ERR_ENTITY_TOO_SMALL] = {400, "EntityTooSmall",
                                 "Your proposed upload is smaller than the minimum allowed "
                                 "object size."},
    [S3_ERR_EXPIRED_PRESIGN] = {403, "AccessDenied", "Request has expired"},
    [S3_ERR_INCOMPLETE_BODY] = {400, "IncompleteBody",
                                "You did not provide the number of bytes specified by the "
                                "Content-Length HTTP header"},
    [S3_ERR_INTERNAL] = {500, "InternalError",
                         "We encountered an internal error. Please try again."},
    [S3_ERR_INVALID_ACCESS_KEY_ID] = {403, "InvalidAccessKeyId",
                                      "The AWS Access Key Id you provided does not exist in our "
                                      "records."},
    [S3_ERR_INVALID_ARGUMENT] = {400, "InvalidArgument", "Invalid Argument"},
    [S3_ERR_INVALID_BUCKET_NAME] = {400, "InvalidBucketName",
                                    "The specified bucket is not valid."},
    [S3_ERR_INVALID_CHUNK_SIZE] = {400, "InvalidChunkSizeError",
                                   "Only the last chunk is allowed to have a size less than "
                                   "8192 bytes"},
    [S3_ERR_INVALID_DIGEST] = {400, "InvalidDigest",
                               "The Content-MD5 you specified is not valid."},
    [S3_ERR_INVALID_LOCATION_CONSTRAINT] = {400, "InvalidLocationConstraint",
                                            "The specified location-constraint is not valid"},
    [S3_ERR_INVALID_RANGE] = {416, "InvalidRange", "The requested range is not satisfiable"},
    [S3_ERR_INVALID_REQUEST] = {400, "InvalidRequest", "Invalid Request"},
    [S3_ERR_INVALID_STORAGE_CLASS] = {400, "InvalidStorageClass",
                                      "The storage class you specified is not valid"},
    [S3_ERR_KEY_TOO_LONG] = {400, "KeyTooLongError", "Your key is too long"},
    [S3_ERR_MALFORMED_XML] = {400, "MalformedXML",
                              "The XML you provided was not well-formed or did not validate "
                              "against our published schema"},
    [S3_ERR_METADATA_TOO_LARGE] = {400, "MetadataTooLarge",
                                   "Your metadata headers exceed the maximum allowed metadata "
                                   "size"},
    [S3_ERR_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowed",
                                   "The specified method is not allowed against this resource."},
    [S3_ERR_MISSING_CONTENT_LENGTH] = {411, "MissingContentLength",
                                       "You must provide the Content-Length HTTP header."},
    [S3_ERR_NO_SUCH_BUCKET] = {404, "NoSuchBucket", "The specified bucket does not exist"},
    [S3_ERR_NO_SUCH_KEY] = {404, "NoSuchKey", "The specified key does not exist."},
    [S3_ERR_NO_SUCH_VERSION] = {404, "NoSuchVersion",
                                "The specified version does not exist."},
    [S3_ERR_NOT_IMPLEMENTED] = {501, "NotImplemented",
                                "A header or query you provided implies functionality that is "
                                "not implemented."},
    [S3_ERR_PRECONDITION_FAILED] = {412, "PreconditionFailed",
                                    "At least one of the pre-conditions you specified did not "
                                    "hold"},
    [S3_ERR_REQUEST_TIME_TOO_SKEWED] = {403, "RequestTimeTooSkewed",
                                        "The difference between the request time and the "
                                        "current time is too large."},
    [S3_ERR_SIGNATURE_DOES_NOT_MATCH] = {403, "SignatureDoesNotMatch",
                                         "The request signature we calculated does not match "
                                         "the signature you provided. Check your key and "
                                         "signing method."},
    [S3_ERR_SLOW_DOWN] = {503, "SlowDown", "Please reduce your request rate."},
    [S3_ERR_CONTENT_SHA256_MISMATCH] = {400, "XAmzContentSHA256Mismatch",
                                        "The provided 'x-amz-content-sha256' header does not "
                                        "match what was computed."},
    [S3_ERR_CONDITIONAL_REQUEST_CONFLICT] = {409, "ConditionalRequestConflict",
                                             "A conflicting conditional operation is currently "
                                             "in progress against this resource. Please try "
                                             "again."},
    [S3_ERR_NOT_MODIFIED] = {304, "NotModified", "Not Modified"},
    [S3_ERR_INVALID_OBJECT_STATE] = {403, "InvalidObjectState",
                                     "The operation is not valid for the object's state"},
    [S3_ERR_SERVICE_UNAVAILABLE] = {503, "ServiceUnavailable",
                                    "Please reduce your request rate."},
    [S3_ERR_UNEXPECTED_CONTENT] = {400, "UnexpectedContent",
                                   "This request does not support content"},
    [S3_ERR_INVALID_URI] = {400, "InvalidURI", "Couldn't parse the specified URI."},
    [S3_ERR_ILLEGAL_LOCATION_CONSTRAINT] = {400, "IllegalLocationConstraintException",
                                            "The location constraint is incompatible with the "
                                            "region this server serves."},
    [S3_ERR_INVALID_VERSION_ID] = {400, "InvalidArgument", "Invalid version id specified"},
    [S3_ERR_NO_SUCH_UPLOAD] = {404, "NoSuchUpload",
                               "The specified upload does not exist. The upload ID may be "
                               "invalid, or the upload may have been aborted or completed."},
    [S3_ERR_INVALID_PART] = {400, "InvalidPart",
                             "One or more of the specified parts could not be found. The part "
                             "may not have been uploaded, or the specified entity tag may not "
                             "match the part's entity tag."},
    [S3_ERR_INVALID_PART_ORDER] = {400, "InvalidPartOrder",
                                   "The list of parts was not in ascending order. The parts list "
                                   "must be specified in order by part number."},
    [S3_ERR_INVALID_TAG] = {400, "InvalidTag", "The TagValue you have provided is invalid"},
    [S3_ERR_NO_SUCH_TAG_SET] = {404, "NoSuchTagSet", "The TagSet does not exist"},
    [S3_ERR_NO_LOCK_CONFIGURATION] = {404, "ObjectLockConfigurationNotFoundError",
                                      "Object Lock configuration does not exist for this bucket"},
    [S3_ERR_NO_LOCK_CONFIGURATION_OBJECT] = {404, "NoSuchObjectLockConfiguration",
                                             "The specified object does not have a ObjectLock "
                                             "configuration"},
    [S3_ERR_NO_SUCH_CORS] = {404, "NoSuchCORSConfiguration",
                             "The CORS configuration does not exist"},
    [S3_ERR_CORS_FORBIDDEN] = {403, "AccessForbidden", "CORSResponse: This CORS request is not "
                                                       "allowed."},
    [S3_ERR_BAD_REQUEST] = {400, "BadRequest", "Bad Request"},
    [S3_ERR_NO_SUCH_LIFECYCLE] = {404, "NoSuchLifecycleConfiguration",
                                  "The lifecycle configuration does not exist"},
    [S3_ERR_MALFORMED_POLICY] = {400, "MalformedPolicy", "Policies must be valid JSON"},
    [S3_ERR_NO_SUCH_BUCKET_POLICY] = {404, "NoSuchBucketPolicy",
                                      "The bucket policy does not exist"},
    [S3_ERR_NO_SUCH_PAB] = {404, "NoSuchPublicAccessBlockConfiguration",
                            "The public access block configuration was not found"},
    [S3_ERR_INVALID_PART_NUMBER] = {416, "InvalidPartNumber",
                                    "The requested partnumber is not satisfiable"},
    [S3_ERR_NO_METADATA_CONFIGURATION] = {404, "MetadataConfigurationNotFound",
                                          "The metadata configuration was not found."},
    [S3_ERR_NO_METADATA_TABLE_CONFIGURATION] = {404, "MetadataTableConfigurationNotFound",
                                                "The metadata table configuration was not "
                                                "found."},
    /* Not documented by AWS (specs/s3-metadata.md §2.4): the emulators' name. */
    [S3_ERR_METADATA_CONFIGURATION_EXISTS] = {409, "MetadataConfigurationAlreadyExists",
                                              "A metadata configuration already exists for this "
                                              "bucket."},
    [S3_ERR_BUCKET_ACL_WITH_OWNERSHIP] = {400, "InvalidBucketAclWithObjectOwnership",
                                          "Bucket cannot have ACLs set with ObjectOwnership's "
                                          "BucketOwnerEnforced setting"},
    [S3_ERR_ACL_NOT_SUPPORTED] = {400, "AccessControlListNotSupported",
                                  "The bucket does not allow ACLs"},
    [S3_ERR_INVALID_POLICY_DOCUMENT] = {400, "InvalidPolicyDocument",
                                        "The content of the form does not meet the conditions "
                                        "specified in the policy document."},
    [S3_ERR_MALFORMED_POST] = {400, "MalformedPOSTRequest",
                               "The body of your POST request is not well-formed "
                               "multipart/form-data."},
    [S3_ERR_INVALID_BUCKET_STATE] = {409, "InvalidBucketState",
                                     "The request is not valid with the current state of the "
                                     "bucket."},
};
_Static_assert(sizeof s3_errs / sizeof s3_errs[0] == S3_ERR__COUNT, "s3_errs incomplete");

void s3_error(http_req_t *r, s3_err_t e, const char *message)
{
    if (e <= S3_OK || e >= S3_ERR__COUNT)
        e = S3_ERR_INTERNAL;
    r->status = s3_errs[e].status;
    r->err = s3_errs[e].code;
    r->body_kind = HTTP_BODY_BUF;
    buf_reset(&r->out);
    if (e == S3_ERR_NOT_MODIFIED)
        return;
    /* HEAD responses carry no body; MHD drops it, the status says enough. */
    buf_puts(&r->out, XMLW_DECL);
    xmlw_open(&r->out, "Error");
    xmlw_elem(&r->out, "Code", s3_errs[e].code);
    xmlw_elem(&r->out, "Message", message ? message : s3_errs[e].msg);
    if (r->bucket)
        xmlw_elem(&r->out, "BucketName", r->bucket);
    if (r->key)
        xmlw_elem(&r->out, "Key", r->key);
    xmlw_elem(&r->out, "Resource", r->raw_path ? r->raw_path : "/");
    xmlw_elem(&r->out, "RequestId", r->rid);
    xmlw_elem(&r->out, "HostId", r->rid);
    xmlw_close(&r->out, "Error");
    http_set_header(r, "Content-Type", "application/xml");
}

s3_err_t s3_err_from_auth(auth_rc_t rc)
{
    switch (rc) {
    case AUTH_OK:
    case AUTH_ANONYMOUS: return S3_OK;
    case AUTH_ERR_SIGNATURE: return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
    case AUTH_ERR_ACCESS_KEY: return S3_ERR_INVALID_ACCESS_KEY_ID;
    case AUTH_ERR_SKEWED: return S3_ERR_REQUEST_TIME_TOO_SKEWED;
    case AUTH_ERR_HEADER_MALFORMED: return S3_ERR_AUTH_HEADER_MALFORMED;
    case AUTH_ERR_QUERY_PARAMS: return S3_ERR_AUTH_QUERY_PARAMS;
    case AUTH_ERR_EXPIRED: return S3_ERR_EXPIRED_PRESIGN;
    case AUTH_ERR_MISSING_AUTH: return S3_ERR_ACCESS_DENIED;
    case AUTH_ERR_CONTENT_SHA256: return S3_ERR_INVALID_ARGUMENT;
    case AUTH_ERR_SHA256_MISMATCH: return S3_ERR_CONTENT_SHA256_MISMATCH;
    case AUTH_ERR_UNSUPPORTED: return S3_ERR_INVALID_REQUEST;
    case AUTH_ERR_INCOMPLETE_BODY: return S3_ERR_INCOMPLETE_BODY;
    case AUTH_ERR_CHUNK_MALFORMED: return S3_ERR_INVALID_CHUNK_SIZE;
    case AUTH_ERR_BAD_DIGEST: return S3_ERR_BAD_DIGEST;
    case AUTH_RC__COUNT: break;
    }
    return S3_ERR_INTERNAL;
}

s3_err_t s3_err_from_store(store_rc_t rc)
{
    switch (rc) {
    case STORE_OK: return S3_OK;
    case STORE_NOT_FOUND: return S3_ERR_NO_SUCH_KEY;
    case STORE_NO_BUCKET: return S3_ERR_NO_SUCH_BUCKET;
    case STORE_EXISTS: return S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU;
    case STORE_NOT_EMPTY: return S3_ERR_BUCKET_NOT_EMPTY;
    case STORE_PRECONDITION: return S3_ERR_PRECONDITION_FAILED;
    case STORE_CONFLICT: return S3_ERR_CONDITIONAL_REQUEST_CONFLICT;
    case STORE_LOCKED: return S3_ERR_ACCESS_DENIED;
    case STORE_INVALID: return S3_ERR_INVALID_REQUEST;
    case STORE_TOO_LARGE: return S3_ERR_ENTITY_TOO_LARGE;
    case STORE_FULL: return S3_ERR_SLOW_DOWN;
    case STORE_IO:
    case STORE_CORRUPT:
    case STORE_NOMEM:
    case STORE_RC__COUNT: break;
    }
    return S3_ERR_INTERNAL;
}
