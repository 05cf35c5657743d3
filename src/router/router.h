/* router/router.h: the front door. Picks the service of each request (the
 * SigV4 credential scope, X-Amz-Target, or a kura-owned path), verifies the
 * signature, runs the payload pipeline (aws-chunked decoding with chunk
 * signatures, x-amz-content-sha256 verification) and hands the decoded body
 * to the service.
 *
 * Kura-owned paths are matched before the S3 fallback (NOTES-ON-ISSUES 5):
 *   GET /kura/health   200 without authentication
 *   /kura/admin/...    administration, root credentials only (SigV4):
 *                      POST /kura/admin/lifecycle   run the lifecycle rules now
 *                      GET|POST /kura/admin/clock   the service clock; POST
 *                        ?advance=SECONDS needs --test-clock
 *   /kura/...          kura's own APIs (later: SQL endpoint)
 *   /console, /iceberg/...  reserved for the console and the Iceberg catalog */
#ifndef KURA_ROUTER_ROUTER_H
#define KURA_ROUTER_ROUTER_H

#include "http/http.h"
#include "store/store.h"
#include "util/config.h"

typedef struct router router_t;

router_t *router_new(const kura_config_t *cfg, store_t *st);
void router_free(router_t *rt);
/* The S3 service the router owns (for its background workers). */
struct s3 *router_s3(router_t *rt);

/* The handlers to give http_server_start with the router as `app`. */
extern const http_handlers_t router_handlers;

#endif
