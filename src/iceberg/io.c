/* iceberg/io.c: ice_io_local, the local-directory file I/O backend for
 * tests and tools (iceberg.h "File I/O seam"). s3://b/p -> <root>/b/p. */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include "util/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCAL_PATH_MAX 4096
#define COPY_CHUNK_BYTES 65536

typedef struct {
    char *root;
} local_t;

/* A location becomes a path only when every segment is a plain name: no
 * "", ".", ".." — a location never escapes the root. */
static int map_path(const local_t *l, const char *loc, char *out, size_t cap)
{
    static const char scheme[] = "s3://";
    if (strncmp(loc, scheme, sizeof scheme - 1) != 0)
        return ICE_ERR_INVALID;
    const char *p = loc + sizeof scheme - 1;
    if (*p == '\0')
        return ICE_ERR_INVALID;
    for (const char *seg = p;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return ICE_ERR_INVALID;
        if (!slash)
            break;
        seg = slash + 1;
    }
    int w = snprintf(out, cap, "%s/%s", l->root, p);
    return (w < 0 || (size_t)w >= cap) ? ICE_ERR_TOO_LARGE : ICE_OK;
}

static int mkdirs_for(char *path)
{
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        int r = mkdir(path, 0755);
        *s = '/';
        if (r != 0 && errno != EEXIST)
            return ICE_ERR_IO;
    }
    return ICE_OK;
}

static int local_read(void *ctx, const char *loc, size_t max, arena_t *a, char **data,
                      size_t *len)
{
    char path[LOCAL_PATH_MAX];
    int rc = map_path(ctx, loc, path, sizeof path);
    if (rc != ICE_OK)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ICE_ERR_NOT_FOUND : ICE_ERR_IO;
    struct stat st;
    char *buf = NULL;
    rc = ICE_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto fail;
    if ((uint64_t)st.st_size > max) {
        rc = ICE_ERR_TOO_LARGE;
        goto fail;
    }
    size_t n = (size_t)st.st_size, got = 0;
    if (!(buf = arena_alloc(a, n + 1))) {
        rc = ICE_ERR_NOMEM;
        goto fail;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto fail;
        got += (size_t)r;
    }
    buf[n] = '\0';
    close(fd);
    *data = buf;
    *len = n;
    return ICE_OK;
fail:
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int local_write(void *ctx, const char *loc, const void *data, size_t len)
{
    char path[LOCAL_PATH_MAX], tmp[LOCAL_PATH_MAX + 40], rnd[17];
    int rc = map_path(ctx, loc, path, sizeof path);
    if (rc != ICE_OK || (rc = mkdirs_for(path)) != ICE_OK)
        return rc;
    codec_random_hex(8, rnd);
    snprintf(tmp, sizeof tmp, "%s.tmp-%s", path, rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ICE_ERR_IO;
    /* Readers must see the old object or the whole new one, never a part. */
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        close(fd);
        unlink(tmp);
        return ICE_ERR_IO;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return ICE_ERR_IO;
    }
    return ICE_OK;
}

static int local_write_file(void *ctx, const char *loc, const char *local_path)
{
    char path[LOCAL_PATH_MAX];
    int rc = map_path(ctx, loc, path, sizeof path);
    if (rc != ICE_OK || (rc = mkdirs_for(path)) != ICE_OK)
        return rc;
    if (rename(local_path, path) == 0)
        return ICE_OK;
    if (errno != EXDEV)
        return ICE_ERR_IO;
    /* Another filesystem: copy through local_write's temp + rename. */
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ICE_ERR_IO;
    buf_t b;
    buf_init(&b, (size_t)1 << 34);
    char chunk[COPY_CHUNK_BYTES];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        buf_append(&b, chunk, (size_t)r);
    close(fd);
    rc = (r == 0 && buf_ok(&b)) ? local_write(ctx, loc, b.data ? b.data : "", b.len) : ICE_ERR_IO;
    buf_release(&b);
    if (rc == ICE_OK)
        unlink(local_path);
    return rc;
}

static int local_remove(void *ctx, const char *loc)
{
    char path[LOCAL_PATH_MAX];
    int rc = map_path(ctx, loc, path, sizeof path);
    if (rc != ICE_OK)
        return rc;
    if (unlink(path) != 0)
        return errno == ENOENT ? ICE_ERR_NOT_FOUND : ICE_ERR_IO;
    return ICE_OK;
}

ice_io_t *ice_io_local(arena_t *a, const char *root_dir)
{
    ice_io_t *io = arena_alloc(a, sizeof *io);
    local_t *l = arena_alloc(a, sizeof *l);
    if (!io || !l || !(l->root = arena_strdup(a, root_dir)))
        return NULL;
    size_t n = strlen(l->root);
    while (n > 1 && l->root[n - 1] == '/')
        l->root[--n] = '\0';
    io->ctx = l;
    io->read = local_read;
    io->write = local_write;
    io->write_file = local_write_file;
    io->remove = local_remove;
    return io;
}
