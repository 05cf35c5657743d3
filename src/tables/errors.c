/* tables/errors.c: tables_err_t -> the S3 Tables error (HTTP status, __type,
 * x-amzn-ErrorType; s3tables-api §1 "Errors") and the Iceberg REST ErrorModel
 * (iceberg.md §8.4). The only place either service spells an error type. */
#include "tables/tables_int.h"

#include <stdio.h>

static const struct {
    unsigned status;
    const char *type, *msg;
    unsigned ice_status;
    const char *ice_type;
} tables_errs[] = {
    [TABLES_OK] = {200, "", "", 200, ""},
    [TABLES_ERR_BAD_REQUEST] = {400, "BadRequestException", "The request is invalid.", 400,
                                "BadRequestException"},
    [TABLES_ERR_NO_BUCKET] = {404, "NotFoundException", "The specified table bucket does not exist.",
                              404, "NoSuchWarehouseException"},
    [TABLES_ERR_NO_NAMESPACE] = {404, "NotFoundException",
                                 "The specified namespace does not exist.", 404,
                                 "NoSuchNamespaceException"},
    [TABLES_ERR_NO_TABLE] = {404, "NotFoundException", "The specified table does not exist.", 404,
                             "NoSuchTableException"},
    [TABLES_ERR_NO_CONFIG] = {404, "NotFoundException",
                              "The requested configuration does not exist.", 404,
                              "NotFoundException"},
    [TABLES_ERR_BUCKET_EXISTS] = {409, "ConflictException",
                                  "A table bucket with this name already exists.", 409,
                                  "AlreadyExistsException"},
    [TABLES_ERR_NAMESPACE_EXISTS] = {409, "ConflictException",
                                     "A namespace with this name already exists.", 409,
                                     "AlreadyExistsException"},
    [TABLES_ERR_TABLE_EXISTS] = {409, "ConflictException",
                                 "A table with this name already exists.", 409,
                                 "AlreadyExistsException"},
    /* The live service answers 400 here (NOTES-ON-ISSUES 24). */
    [TABLES_ERR_BUCKET_NOT_EMPTY] = {400, "BadRequestException",
                                     "The table bucket is not empty.", 400,
                                     "BadRequestException"},
    [TABLES_ERR_NAMESPACE_NOT_EMPTY] = {409, "ConflictException", "The namespace is not empty.",
                                        409, "NamespaceNotEmptyException"},
    [TABLES_ERR_STALE_TOKEN] = {409, "ConflictException",
                                "Provided version token does not match the table version token.",
                                409, "CommitFailedException"},
    [TABLES_ERR_COMMIT_FAILED] = {409, "ConflictException",
                                  "The commit conflicts with a concurrent change.", 409,
                                  "CommitFailedException"},
    [TABLES_ERR_MANAGED] = {403, "ForbiddenException",
                            "This resource is managed by the service and is read-only.", 403,
                            "ForbiddenException"},
    [TABLES_ERR_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowedException",
                                       "The operation is not allowed on this resource.", 406,
                                       "UnsupportedOperationException"},
    [TABLES_ERR_NOT_AUTHORIZED] = {403, "ForbiddenException", "Not authorized.", 401,
                                   "NotAuthorizedException"},
    [TABLES_ERR_FORBIDDEN] = {403, "ForbiddenException", "Access denied.", 403,
                              "ForbiddenException"},
    [TABLES_ERR_UNKNOWN_OP] = {400, "UnknownOperationException",
                               "The operation is not supported by this server.", 404,
                               "UnknownOperationException"},
    [TABLES_ERR_UNSUPPORTED] = {400, "BadRequestException",
                                "The operation is not supported by S3 Tables.", 406,
                                "UnsupportedOperationException"},
    [TABLES_ERR_UNPROCESSABLE] = {400, "BadRequestException", "The request is invalid.", 422,
                                  "UnprocessableEntityException"},
    [TABLES_ERR_INTERNAL] = {500, "InternalServerErrorException",
                             "We encountered an internal error. Please try again.", 500,
                             "InternalServerError"},
};
_Static_assert(sizeof tables_errs / sizeof tables_errs[0] == TABLES_ERR__COUNT,
               "tables_errs incomplete");

const char *tables_err_name(tables_err_t e)
{
    return (unsigned)e < TABLES_ERR__COUNT ? tables_errs[e].type : "InternalServerErrorException";
}

tables_err_t tables_err_from_store(store_rc_t rc)
{
    switch (rc) {
    case STORE_OK:
        return TABLES_OK;
    case STORE_INVALID:
    case STORE_TOO_LARGE:
        return TABLES_ERR_BAD_REQUEST;
    default:
        return TABLES_ERR_INTERNAL;
    }
}

void tables_error(http_req_t *r, bool iceberg, tables_err_t e, const char *msg)
{
    if ((unsigned)e >= TABLES_ERR__COUNT || e == TABLES_OK)
        e = TABLES_ERR_INTERNAL;
    const char *type = iceberg ? tables_errs[e].ice_type : tables_errs[e].type;
    unsigned status = iceberg ? tables_errs[e].ice_status : tables_errs[e].status;
    json_t *o = iceberg ? json_pack("{s:{s:s,s:s,s:i}}", "error", "message",
                                    msg ? msg : tables_errs[e].msg, "type", type, "code",
                                    (int)status)
                        : json_pack("{s:s,s:s}", "__type", type, "message",
                                    msg ? msg : tables_errs[e].msg);
    r->status = status;
    r->err = type;
    buf_reset(&r->out);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    buf_puts(&r->out, s ? s : "{}");
    free(s);
    json_decref(o);
    http_set_header(r, "Content-Type", "application/json");
    if (!iceberg)
        http_set_header(r, "x-amzn-ErrorType", type);
}

void tables_oauth_error(http_req_t *r, unsigned status, const char *code, const char *desc)
{
    json_t *o = json_pack("{s:s,s:s}", "error", code, "error_description", desc);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    r->status = status;
    r->err = code;
    buf_reset(&r->out);
    buf_puts(&r->out, s ? s : "{}");
    free(s);
    json_decref(o);
    http_set_header(r, "Content-Type", "application/json");
}
