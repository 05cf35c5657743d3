/* tests/fault/faultfs.c: an LD_PRELOAD shim that makes file I/O fail on
 * demand, for the fault-injection driver (tests/fault/fault.py, issue 14).
 *
 * Build:  cc -O2 -shared -fPIC -o faultfs.so faultfs.c -ldl
 * Use:    FAULTFS_DIR=/abs/data FAULTFS_CTL=/tmp/ctl LD_PRELOAD=./faultfs.so kura serve ...
 *
 * Only calls on files under FAULTFS_DIR fail (an fd's path comes from
 * /proc/self/fd; a rename's from its arguments), so stderr, sockets and
 * libraries are never touched. The control file is read on every call, so
 * a driver flips faults while the process runs. Its content is
 * whitespace-separated words:
 *
 *   fsync=EIO        fsync and fdatasync fail
 *   write=ENOSPC     write, pwrite, pwrite64, writev, pwritev fail
 *   rename=EIO       rename, renameat, renameat2 fail
 *   all=ENOSPC       every call above fails
 *   path=SUBSTR      only files whose path contains SUBSTR (e.g. /blobs/,
 *                    /tmp/, kura.mdb); repeatable, any match suffices
 *
 * Errors: EIO, ENOSPC, EDQUOT, EROFS. An empty or missing file means no
 * faults. Every injected failure appends one line to FAULTFS_LOG when set.
 * Reading the control file uses open/read/close, which are not wrapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_FSYNC, OP_WRITE, OP_RENAME, OP__COUNT };

#define CTL_MAX 4096
#define PATHS_MAX 8

typedef struct {
    int err[OP__COUNT]; /* 0: no fault */
    const char *paths[PATHS_MAX];
    size_t npaths;
    char buf[CTL_MAX + 1];
} ctl_t;

static int err_named(const char *s, size_t n)
{
    static const struct { const char *name; int e; } tab[] = {
        {"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
            return tab[i].e;
    return 0;
}

/* Reads the control file into *c; false when no fault is configured. */
static int ctl_read(ctl_t *c)
{
    const char *path = getenv("FAULTFS_CTL");
    memset(c->err, 0, sizeof c->err);
    c->npaths = 0;
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, c->buf, CTL_MAX);
    close(fd);
    if (n <= 0)
        return 0;
    c->buf[n] = '\0';
    int any = 0;
    for (char *save = NULL, *w = strtok_r(c->buf, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        char *eq = strchr(w, '=');
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - w);
        const char *v = eq + 1;
        if (kl == 4 && memcmp(w, "path", 4) == 0) {
            if (c->npaths < PATHS_MAX)
                c->paths[c->npaths++] = v;
            continue;
        }
        int e = err_named(v, strlen(v));
        if (!e)
            continue;
        if (kl == 5 && memcmp(w, "fsync", 5) == 0)
            c->err[OP_FSYNC] = e;
        else if (kl == 5 && memcmp(w, "write", 5) == 0)
            c->err[OP_WRITE] = e;
        else if (kl == 6 && memcmp(w, "rename", 6) == 0)
            c->err[OP_RENAME] = e;
        else if (kl == 3 && memcmp(w, "all", 3) == 0)
            c->err[OP_FSYNC] = c->err[OP_WRITE] = c->err[OP_RENAME] = e;
        else
            continue;
        any = 1;
    }
    return any;
}

static void note(const char *op, const char *path, int e)
{
    const char *log = getenv("FAULTFS_LOG");
    if (!log)
        return;
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    char line[PATH_MAX + 64];
    int n = snprintf(line, sizeof line, "%s %s errno=%d\n", op, path, e);
    if (n > 0) {
        ssize_t (*real_write)(int, const void *, size_t) =
            (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
        if (real_write)
            (void)real_write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    close(fd);
}

/* The error to inject for `op` on `path`, or 0. */
static int should_fail(int op, const char *path)
{
    const char *dir = getenv("FAULTFS_DIR");
    if (!dir || !path)
        return 0;
    size_t dl = strlen(dir);
    if (strncmp(path, dir, dl) != 0 || (path[dl] != '/' && path[dl] != '\0'))
        return 0;
    ctl_t c;
    if (!ctl_read(&c) || !c.err[op])
        return 0;
    if (c.npaths) {
        size_t i = 0;
        while (i < c.npaths && !strstr(path, c.paths[i]))
            i++;
        if (i == c.npaths)
            return 0;
    }
    return c.err[op];
}

static int fd_fails(int op, int fd, const char *name)
{
    if (!getenv("FAULTFS_DIR"))
        return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    int e = should_fail(op, path);
    if (e)
        note(name, path, e);
    return e;
}

/* An absolute form of `p` (relative to the cwd or to dirfd). */
static const char *abs_path(int dirfd, const char *p, char *out, size_t cap)
{
    char base[PATH_MAX];
    if (!p)
        return NULL;
    if (p[0] == '/')
        return p;
    if (dirfd == AT_FDCWD) {
        if (!getcwd(base, sizeof base))
            return p;
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, base, sizeof base - 1);
        if (n <= 0)
            return p;
        base[n] = '\0';
    }
    snprintf(out, cap, "%s/%s", base, p);
    return out;
}

static int path_fails(int dirfd, const char *a, int dirfd2, const char *b)
{
    char x[PATH_MAX * 2], y[PATH_MAX * 2];
    if (!getenv("FAULTFS_DIR"))
        return 0;
    const char *pa = abs_path(dirfd, a, x, sizeof x), *pb = abs_path(dirfd2, b, y, sizeof y);
    int e = should_fail(OP_RENAME, pa);
    if (!e)
        e = should_fail(OP_RENAME, pb);
    if (e)
        note("rename", pa, e);
    return e;
}

/* The next definition of `name` (libc's); looked up once per wrapper. */
#define REAL(name) \
    static __typeof__(name) *real_##name; \
    if (!real_##name) \
        real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

int fsync(int fd)
{
    REAL(fsync);
    int e = fd_fails(OP_FSYNC, fd, "fsync");
    if (e) {
        errno = e;
        return -1;
    }
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(fdatasync);
    int e = fd_fails(OP_FSYNC, fd, "fdatasync");
    if (e) {
        errno = e;
        return -1;
    }
    return real_fdatasync(fd);
}

ssize_t write(int fd, const void *p, size_t n)
{
    REAL(write);
    int e = fd_fails(OP_WRITE, fd, "write");
    if (e) {
        errno = e;
        return -1;
    }
    return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
    REAL(pwrite);
    int e = fd_fails(OP_WRITE, fd, "pwrite");
    if (e) {
        errno = e;
        return -1;
    }
    return real_pwrite(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off_t off)
{
    REAL(pwrite64);
    int e = fd_fails(OP_WRITE, fd, "pwrite64");
    if (e) {
        errno = e;
        return -1;
    }
    return real_pwrite64(fd, p, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL(writev);
    int e = fd_fails(OP_WRITE, fd, "writev");
    if (e) {
        errno = e;
        return -1;
    }
    return real_writev(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    REAL(pwritev);
    int e = fd_fails(OP_WRITE, fd, "pwritev");
    if (e) {
        errno = e;
        return -1;
    }
    return real_pwritev(fd, iov, n, off);
}

int rename(const char *a, const char *b)
{
    REAL(rename);
    int e = path_fails(AT_FDCWD, a, AT_FDCWD, b);
    if (e) {
        errno = e;
        return -1;
    }
    return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
    REAL(renameat);
    int e = path_fails(da, a, db, b);
    if (e) {
        errno = e;
        return -1;
    }
    return real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
    REAL(renameat2);
    int e = path_fails(da, a, db, b);
    if (e) {
        errno = e;
        return -1;
    }
    return real_renameat2(da, a, db, b, flags);
}
