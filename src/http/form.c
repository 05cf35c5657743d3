/* http/form.c: multipart/form-data via libmicrohttpd's post processor. */
#include "http/form.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <strings.h>

#define FORM_BUFFER_BYTES ((size_t)64 << 10)

struct http_form {
    struct MHD_PostProcessor *pp;
    http_form_cb cb;
    void *arg;
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    (void)kind, (void)transfer_encoding;
    http_form_t *f = cls;
    return f->cb(f->arg, key ? key : "", filename, content_type, data ? data : "", off, size)
               ? MHD_YES
               : MHD_NO;
}

http_form_t *http_form_new(http_req_t *r, http_form_cb cb, void *arg)
{
    const char *ct = http_header(r, "content-type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return NULL;
    http_form_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->cb = cb;
    f->arg = arg;
    f->pp = MHD_create_post_processor(r->conn, FORM_BUFFER_BYTES, on_field, f);
    if (!f->pp) {
        free(f);
        return NULL;
    }
    return f;
}

bool http_form_feed(http_form_t *f, const void *p, size_t n)
{
    return MHD_post_process(f->pp, p, n) == MHD_YES;
}

bool http_form_free(http_form_t *f)
{
    if (!f)
        return true;
    bool ok = MHD_destroy_post_processor(f->pp) == MHD_YES;
    free(f);
    return ok;
}
