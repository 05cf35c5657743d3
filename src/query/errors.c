/* query/errors.c: query_err_t -> the POST /kura/sql error (status + code)
 * and the Athena shapes (athena.c uses athena_type / athena_category). The
 * only place a query error code is spelled. */
#include "query/query_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
    unsigned status;
    const char *code;
} query_errs[] = {
    [QUERY_OK] = {200, ""},
    [QUERY_ERR_SYNTAX] = {400, "SyntaxError"},
    [QUERY_ERR_INVALID] = {400, "InvalidRequest"},
    [QUERY_ERR_NO_TABLE] = {400, "TableNotFound"},
    [QUERY_ERR_NO_SNAPSHOT] = {400, "SnapshotNotFound"},
    [QUERY_ERR_EXEC] = {400, "QueryFailed"},
    [QUERY_ERR_FORBIDDEN] = {403, "AccessDenied"},
    [QUERY_ERR_READ_ONLY] = {403, "ReadOnlyTable"},
    [QUERY_ERR_TIMEOUT] = {408, "QueryTimeout"},
    [QUERY_ERR_CANCELLED] = {499, "QueryCancelled"},
    [QUERY_ERR_TOO_LARGE] = {413, "TooLarge"},
    [QUERY_ERR_CONFLICT] = {409, "CommitConflict"},
    [QUERY_ERR_UNSUPPORTED] = {400, "NotSupported"},
    [QUERY_ERR_NO_EXECUTION] = {400, "NotFound"},
    [QUERY_ERR_UNKNOWN_OP] = {400, "UnknownOperation"},
    [QUERY_ERR_BUSY] = {503, "TooManyQueries"},
    [QUERY_ERR_INTERNAL] = {500, "InternalError"},
};
_Static_assert(sizeof query_errs / sizeof query_errs[0] == QUERY_ERR__COUNT, "query_errs incomplete");

const char *query_err_code(query_err_t e)
{
    return (unsigned)e < QUERY_ERR__COUNT ? query_errs[e].code : "InternalError";
}

unsigned query_err_status(query_err_t e)
{
    return (unsigned)e < QUERY_ERR__COUNT ? query_errs[e].status : 500;
}

/* ---- wire shapes ------------------------------------------------------------ */

#include <jansson.h>

/* POST /kura/sql: {"error":{"code","message"}} with the table's status. */
void query_http_error(http_req_t *r, query_err_t e, const char *msg)
{
    json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", query_err_code(e), "message",
                          msg && *msg ? msg : query_err_code(e));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    buf_reset(&r->out);
    r->status = query_err_status(e);
    r->err = query_err_code(e);
    http_set_header(r, "Content-Type", "application/json");
    buf_puts(&r->out, s ? s : "{\"error\":{\"code\":\"InternalError\",\"message\":\"\"}}");
    free(s);
    json_decref(j);
}

/* Athena: the __type of a refused call. Everything a statement does wrong
 * after it parsed is a FAILED execution instead (NOTES 22). */
const char *query_athena_type(query_err_t e)
{
    switch (e) {
    case QUERY_ERR_INTERNAL: return "InternalServerException";
    case QUERY_ERR_BUSY: return "TooManyRequestsException";
    case QUERY_ERR_NO_EXECUTION: return "InvalidRequestException";
    case QUERY_ERR_UNKNOWN_OP: return "UnknownOperationException";
    case QUERY_ERR_FORBIDDEN: return "AccessDeniedException";
    default: return "InvalidRequestException";
    }
}

/* Athena AthenaError.ErrorCategory: 1 system, 2 user, 3 other. */
int query_athena_category(query_err_t e)
{
    switch (e) {
    case QUERY_ERR_INTERNAL: return 1;
    case QUERY_ERR_CANCELLED:
    case QUERY_ERR_BUSY: return 3;
    default: return 2;
    }
}

void query_athena_error(http_req_t *r, query_err_t e, const char *msg)
{
    const char *type = query_athena_type(e);
    json_t *j = json_pack("{s:s,s:s}", "__type", type, "Message", msg && *msg ? msg : type);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    buf_reset(&r->out);
    r->status = e == QUERY_ERR_INTERNAL ? 500 : 400;
    r->err = type;
    http_set_header(r, "Content-Type", "application/x-amz-json-1.1");
    http_set_header(r, "x-amzn-ErrorType", type);
    buf_puts(&r->out, s ? s : "{}");
    free(s);
    json_decref(j);
}
