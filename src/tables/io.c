/* tables/io.c: the Iceberg file-I/O seam (iceberg.h ice_io_t) over kura's
 * object store. Locations are "s3://<bucket>/<key>"; only the internal
 * table-bucket buckets ("<id>--table-s3") are reachable, so a location a
 * client put into metadata can never make the catalog read or write a user's
 * bucket. */
#include "tables/tables_int.h"

#include "util/clock.h"
#include "util/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_CHUNK_BYTES ((size_t)1 << 20)

typedef struct {
    tables_t *t;
    arena_t *a;
} io_ctx_t;

/* Splits "s3://bucket/key" (key non-empty, no "..", "." or empty segments). */
static bool split_location(arena_t *a, const char *loc, char **bucket, char **key)
{
    static const char scheme[] = "s3://";
    if (!loc || strncmp(loc, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *b = loc + sizeof scheme - 1, *slash = strchr(b, '/');
    if (!slash || slash == b || (size_t)(slash - b) > STORE_BUCKET_NAME_MAX)
        return false;
    size_t bl = (size_t)(slash - b), sl = strlen(TABLES_WAREHOUSE_SUFFIX);
    if (bl <= sl || memcmp(slash - sl, TABLES_WAREHOUSE_SUFFIX, sl) != 0)
        return false;
    const char *k = slash + 1;
    if (!*k || strlen(k) > 1024 || strstr(k, "//") || strstr(k, "/../") || strstr(k, "/./") ||
        strncmp(k, "../", 3) == 0 || strncmp(k, "./", 2) == 0)
        return false;
    *bucket = arena_strndup(a, b, bl);
    *key = arena_strdup(a, k);
    return *bucket && *key;
}

static int io_read(void *ctx, const char *location, size_t max_bytes, arena_t *a, char **data,
                   size_t *len)
{
    io_ctx_t *c = ctx;
    char *bucket, *key;
    if (!split_location(a, location, &bucket, &key))
        return ICE_ERR_INVALID;
    store_object_t o;
    store_rc_t rc = store_object_get(c->t->st, a, bucket, key, strlen(key), NULL, &o);
    if (rc == STORE_NOT_FOUND || rc == STORE_NO_BUCKET || (rc == STORE_OK && o.delete_marker))
        return ICE_ERR_NOT_FOUND;
    if (rc != STORE_OK)
        return ICE_ERR_IO;
    if (o.size > max_bytes)
        return ICE_ERR_TOO_LARGE;
    char *out = arena_alloc(a, (size_t)o.size + 1);
    if (!out)
        return ICE_ERR_NOMEM;
    if (o.inline_data) {
        memcpy(out, o.inline_data, o.inline_len);
    } else {
        size_t pos = 0;
        for (size_t i = 0; i < o.nsegs; i++) {
            int fd = -1;
            if (store_blob_open(c->t->st, o.segs[i].blob_id, &fd) != STORE_OK)
                return ICE_ERR_IO;
            uint64_t done = 0;
            while (done < o.segs[i].length) {
                ssize_t n = pread(fd, out + pos, (size_t)(o.segs[i].length - done),
                                  (off_t)(o.segs[i].offset + done));
                if (n <= 0) {
                    close(fd);
                    return ICE_ERR_IO;
                }
                done += (uint64_t)n;
                pos += (size_t)n;
            }
            close(fd);
        }
    }
    out[o.size] = '\0';
    *data = out;
    *len = (size_t)o.size;
    return ICE_OK;
}

/* Puts bytes streamed by `fill` as the object at location. */
static int put_blob(io_ctx_t *c, const char *location, store_blob_t *w, const char *md5hex,
                    uint64_t size)
{
    char *bucket, *key;
    if (!split_location(c->a, location, &bucket, &key)) {
        store_blob_abort(w);
        return ICE_ERR_INVALID;
    }
    store_put_t in = {.bucket = bucket, .blob = w};
    in.obj.key = key;
    in.obj.key_len = strlen(key);
    in.obj.size = size;
    in.obj.mtime_ms = clock_now_ms();
    in.obj.etag = md5hex;
    in.obj.owner = c->t->cfg->account_id;
    const char *dot = strrchr(key, '.');
    in.obj.content_type = dot && strcmp(dot, ".json") == 0 ? "application/json"
                                                             : "application/octet-stream";
    store_rc_t rc = store_object_put(c->t->st, c->a, &in, NULL); /* consumes w */
    if (rc == STORE_NO_BUCKET)
        return ICE_ERR_NOT_FOUND;
    return rc == STORE_OK ? ICE_OK : ICE_ERR_IO;
}

static int io_write(void *ctx, const char *location, const void *data, size_t len)
{
    io_ctx_t *c = ctx;
    store_blob_t *w;
    if (store_blob_begin(c->t->st, &w) != STORE_OK)
        return ICE_ERR_IO;
    uint8_t md5[16];
    unsigned md5n = 0;
    char hex[33];
    if (store_blob_write(w, data, len) != STORE_OK || store_blob_finish_file(w) != STORE_OK ||
        EVP_Digest(data, len, md5, &md5n, EVP_md5(), NULL) != 1) {
        store_blob_abort(w);
        return ICE_ERR_IO;
    }
    codec_hex(md5, sizeof md5, hex);
    return put_blob(c, location, w, hex, len);
}

static int io_write_file(void *ctx, const char *location, const char *local_path)
{
    io_ctx_t *c = ctx;
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ICE_ERR_NOT_FOUND : ICE_ERR_IO;
    store_blob_t *w = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *chunk = malloc(IO_CHUNK_BYTES);
    uint64_t size = 0;
    int rc = ICE_ERR_IO;
    if (!md || !chunk || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
        store_blob_begin(c->t->st, &w) != STORE_OK)
        goto fail;
    for (;;) {
        ssize_t n = read(fd, chunk, IO_CHUNK_BYTES);
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        if (store_blob_write(w, chunk, (size_t)n) != STORE_OK ||
            EVP_DigestUpdate(md, chunk, (size_t)n) != 1)
            goto fail;
        size += (uint64_t)n;
    }
    uint8_t dig[16];
    unsigned dn = 0;
    char hex[33];
    if (store_blob_finish_file(w) != STORE_OK || EVP_DigestFinal_ex(md, dig, &dn) != 1)
        goto fail;
    codec_hex(dig, sizeof dig, hex);
    rc = put_blob(c, location, w, hex, size);
    w = NULL; /* consumed */
    if (rc == ICE_OK)
        unlink(local_path);
fail:
    store_blob_abort(w);
    EVP_MD_CTX_free(md);
    free(chunk);
    close(fd);
    return rc;
}

static int io_remove(void *ctx, const char *location)
{
    io_ctx_t *c = ctx;
    char *bucket, *key;
    if (!split_location(c->a, location, &bucket, &key))
        return ICE_ERR_INVALID;
    store_rc_t rc = store_object_delete(c->t->st, c->a, bucket, key, strlen(key), NULL, true,
                                        clock_now_ms(), NULL);
    if (rc == STORE_NO_BUCKET || rc == STORE_NOT_FOUND)
        return ICE_ERR_NOT_FOUND;
    return rc == STORE_OK ? ICE_OK : ICE_ERR_IO;
}

ice_io_t *tables_io(tables_t *t, arena_t *a)
{
    ice_io_t *io = arena_alloc(a, sizeof *io);
    io_ctx_t *c = arena_alloc(a, sizeof *c);
    if (!io || !c)
        return NULL;
    c->t = t;
    c->a = a;
    io->ctx = c;
    io->read = io_read;
    io->write = io_write;
    io->write_file = io_write_file;
    io->remove = io_remove;
    return io;
}
