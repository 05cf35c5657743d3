/* http/form.h: multipart/form-data request bodies, parsed as they stream in
 * (libmicrohttpd's post processor). Used by S3's browser uploads (POST
 * Object), where the file part may be gigabytes. */
#ifndef KURA_HTTP_FORM_H
#define KURA_HTTP_FORM_H

#include "http/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_form http_form_t;

/* One piece of one field's value: off is the offset of `data` within the
 * field's value; filename is set for file parts. Return false to stop
 * parsing (the form then reports an error). */
typedef bool (*http_form_cb)(void *arg, const char *name, const char *filename,
                             const char *content_type, const char *data, uint64_t off,
                             size_t n);

/* NULL if the request is not multipart/form-data (or out of memory). */
http_form_t *http_form_new(http_req_t *r, http_form_cb cb, void *arg);
/* false on a framing error or when the callback stopped. */
bool http_form_feed(http_form_t *f, const void *p, size_t n);
/* Frees the parser; false if the body ended inside a part. NULL is a no-op. */
bool http_form_free(http_form_t *f);

#endif
