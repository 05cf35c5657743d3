/* tables/service.c: entry point of the S3 Tables service. Until the
 * operations land every request is answered as an unknown operation, in
 * the service's own error shape. */
#include "tables/tables.h"

#include <stdlib.h>

struct tables {
    const kura_config_t *cfg;
    store_t *st;
};

tables_t *tables_new(const kura_config_t *cfg, store_t *st)
{
    tables_t *t = calloc(1, sizeof *t);
    if (t) {
        t->cfg = cfg;
        t->st = st;
    }
    return t;
}

void tables_free(tables_t *t) { free(t); }

void tables_handle(tables_t *t, http_req_t *r, bool iceberg, const auth_result_t *auth,
                   const char *body, size_t len)
{
    (void)t, (void)auth, (void)body, (void)len;
    r->svc = iceberg ? "iceberg" : "s3tables";
    r->status = iceberg ? 404 : 400;
    r->err = "UnknownOperationException";
    buf_reset(&r->out);
    if (iceberg)
        buf_puts(&r->out, "{\"error\":{\"message\":\"Unknown route\",\"type\":"
                          "\"UnknownOperationException\",\"code\":404}}");
    else
        buf_puts(&r->out, "{\"__type\":\"UnknownOperationException\",\"message\":\"The operation "
                          "is not supported by this server yet.\"}");
    http_set_header(r, "Content-Type", "application/json");
    if (!iceberg)
        http_set_header(r, "x-amzn-ErrorType", "UnknownOperationException");
}
