/* tests/unit/test_store.c: buckets, objects, versions, listing, multipart,
 * blobs and refcounts, group commit, crash leftovers, fsck, map growth.
 * Every test runs on a fresh data directory under /tmp, removed at the end. */
#include "check.h"
#include "store/store.h"
#include "util/arena.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG_BYTES 20000 /* > inline_max_bytes (8192): a blob file */

/* ---- helpers ---------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_dir(void)
{
    char *d = strdup("/tmp/kura-store-test-XXXXXX");
    if (!mkdtemp(d)) {
        perror("mkdtemp");
        exit(2);
    }
    return d;
}

static store_t *open_store(const char *dir, bool sync)
{
    store_opts_t o = {.no_sync = !sync};
    store_t *st = NULL;
    store_rc_t rc = store_open(dir, &o, &st);
    CHECK_EQ_INT(rc, STORE_OK, "open %s", dir);
    return st;
}

static int count_files_cb_n;
static int count_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)p;
    (void)sb;
    (void)f;
    if (flag == FTW_F)
        count_files_cb_n++;
    return 0;
}

static int count_blob_files(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/blobs", dir);
    count_files_cb_n = 0;
    nftw(p, count_one, 16, FTW_PHYS);
    return count_files_cb_n;
}

static bool file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void blob_file(const char *dir, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/blobs/%.2s/%.2s/%s", dir, id, id + 2, id);
}

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + seed) % 26);
}

/* PUT of n bytes through a blob writer. */
static store_rc_t put_bytes(store_t *st, arena_t *a, const char *bucket, const char *key,
                            size_t klen, const void *data, size_t n, store_object_t *out)
{
    store_blob_t *w;
    store_rc_t rc = store_blob_begin(st, &w);
    if (rc != STORE_OK)
        return rc;
    /* In two writes, so a spill happens mid-stream for big bodies. */
    if ((rc = store_blob_write(w, data, n / 2)) != STORE_OK ||
        (rc = store_blob_write(w, (const char *)data + n / 2, n - n / 2)) != STORE_OK ||
        (rc = store_blob_finish(w)) != STORE_OK) {
        store_blob_abort(w);
        return rc;
    }
    store_put_t in = {.bucket = bucket, .blob = w};
    in.obj.key = key;
    in.obj.key_len = klen;
    in.obj.size = n;
    in.obj.mtime_ms = 1000;
    in.obj.etag = "e";
    return store_object_put(st, a, &in, out);
}

static store_rc_t put_str(store_t *st, arena_t *a, const char *bucket, const char *key,
                          const char *body, store_object_t *out)
{
    return put_bytes(st, a, bucket, key, strlen(key), body, strlen(body), out);
}

/* The object's bytes (inline or concatenated segments) into a. */
static char *read_object(store_t *st, arena_t *a, const store_object_t *o)
{
    char *buf = arena_alloc(a, o->size + 1);
    size_t at = 0;
    if (o->inline_len) {
        memcpy(buf, o->inline_data, o->inline_len);
        return buf;
    }
    for (size_t i = 0; i < o->nsegs; i++) {
        int fd;
        if (store_blob_open(st, o->segs[i].blob_id, &fd) != STORE_OK)
            return NULL;
        ssize_t r = pread(fd, buf + at, o->segs[i].length, (off_t)o->segs[i].offset);
        close(fd);
        if (r != (ssize_t)o->segs[i].length)
            return NULL;
        at += (size_t)r;
    }
    return buf;
}

static void make_bucket(store_t *st, const char *name, store_versioning_t v, bool lock)
{
    store_bucket_t b = {.name = name, .region = "us-east-1", .created_ms = 42,
                        .versioning = v, .object_lock = lock};
    CHECK_EQ_INT(store_bucket_create(st, &b), STORE_OK, "create %s", name);
}

/* Collects what a listing callback sees, as "key" or "key@vid" / "key@vid*"
 * (latest) / "key#dm" (marker), joined by ' '. */
typedef struct {
    buf_t out;
    const char *delim; /* emulate a delimiter with SKIP */
    size_t prelen;
    bool versions;
    int stop_after;
    int seen;
} collect_t;

static store_iter_rc_t collect_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    collect_t *c = arg;
    if (c->out.len)
        buf_putc(&c->out, ' ');
    if (c->delim) {
        const char *d = memchr(o->key + c->prelen, c->delim[0], o->key_len - c->prelen);
        if (d) {
            buf_append(&c->out, o->key, (size_t)(d - o->key) + 1);
            buf_append(skip, o->key, (size_t)(d - o->key) + 1);
            return STORE_ITER_SKIP;
        }
    }
    buf_append(&c->out, o->key, o->key_len);
    if (c->versions)
        buf_printf(&c->out, "@%s%s", strcmp(o->version_id, "null") == 0 ? "null" : "v",
                   o->is_latest ? "*" : "");
    if (o->delete_marker)
        buf_puts(&c->out, "#dm");
    if (c->stop_after && ++c->seen == c->stop_after)
        return STORE_ITER_STOP;
    return STORE_ITER_NEXT;
}

/* ---- buckets ---------------------------------------------------------- */

static bool bucket_names_cb(void *arg, const store_bucket_t *b)
{
    buf_t *out = arg;
    if (out->len)
        buf_putc(out, ' ');
    buf_puts(out, b->name);
    return true;
}

static void test_buckets_create_list_delete(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "bravo", STORE_VERSIONING_OFF, false);
    make_bucket(st, "alpha", STORE_VERSIONING_OFF, false);
    make_bucket(st, "charlie", STORE_VERSIONING_ENABLED, true);
    store_bucket_t b = {.name = "alpha", .created_ms = 1};
    CHECK_EQ_INT(store_bucket_create(st, &b), STORE_EXISTS, "duplicate");

    store_bucket_t got;
    CHECK_EQ_INT(store_bucket_get(st, a, "charlie", &got), STORE_OK, "get");
    CHECK(got.versioning == STORE_VERSIONING_ENABLED && got.object_lock && got.created_ms == 42,
          "fields");
    CHECK_EQ_STR(got.region, "us-east-1", "region");
    CHECK_EQ_INT(store_bucket_get(st, a, "nope", &got), STORE_NO_BUCKET, "absent");

    buf_t names;
    buf_init(&names, 1024);
    CHECK_EQ_INT(store_bucket_list(st, a, NULL, bucket_names_cb, &names), STORE_OK, "list");
    CHECK_EQ_STR(buf_cstr(&names), "alpha bravo charlie", "name order");
    buf_reset(&names);
    store_bucket_list(st, a, "alpha", bucket_names_cb, &names);
    CHECK_EQ_STR(buf_cstr(&names), "bravo charlie", "start_after");
    buf_release(&names);

    CHECK_EQ_INT(store_bucket_set_versioning(st, "charlie", STORE_VERSIONING_OFF), STORE_INVALID,
                 "never back to unversioned");
    CHECK_EQ_INT(store_bucket_conf_put(st, "bravo", "policy", "{}", 2), STORE_OK, "conf put");
    char *doc;
    size_t len;
    CHECK_EQ_INT(store_bucket_conf_get(st, a, "bravo", "policy", &doc, &len), STORE_OK, "conf");
    CHECK(len == 2 && memcmp(doc, "{}", 2) == 0, "conf bytes");
    CHECK_EQ_INT(store_bucket_conf_get(st, a, "bravo", "cors", &doc, &len), STORE_NOT_FOUND,
                 "absent conf");
    CHECK_EQ_INT(store_bucket_conf_put(st, "nope", "policy", "{}", 2), STORE_NO_BUCKET, "conf nb");

    /* A version keeps the bucket; so does a delete marker; so does an upload. */
    CHECK_EQ_INT(put_str(st, a, "bravo", "k", "v", NULL), STORE_OK, "put");
    CHECK_EQ_INT(store_bucket_delete(st, "bravo"), STORE_NOT_EMPTY, "object left");
    store_delete_result_t dr;
    CHECK_EQ_INT(store_object_delete(st, a, "bravo", "k", 1, NULL, false, 0, &dr), STORE_OK, "del");
    CHECK(dr.version_id == NULL, "unversioned delete names no version");

    CHECK_EQ_INT(put_str(st, a, "charlie", "k", "v", NULL), STORE_OK, "put");
    CHECK_EQ_INT(store_object_delete(st, a, "charlie", "k", 1, NULL, false, 0, &dr), STORE_OK,
                 "marker");
    CHECK(dr.delete_marker, "marker made");
    CHECK_EQ_INT(store_bucket_delete(st, "charlie"), STORE_NOT_EMPTY, "versions + marker left");

    store_upload_t up = {.key = "u", .key_len = 1, .initiated_ms = 5};
    CHECK_EQ_INT(store_upload_create(st, a, "bravo", &up), STORE_OK, "upload");
    CHECK_EQ_INT(store_bucket_delete(st, "bravo"), STORE_NOT_EMPTY, "upload left");
    CHECK_EQ_INT(store_upload_abort(st, "bravo", up.upload_id), STORE_OK, "abort");
    CHECK_EQ_INT(store_bucket_delete(st, "bravo"), STORE_OK, "empty: deleted");
    CHECK_EQ_INT(store_bucket_delete(st, "bravo"), STORE_NO_BUCKET, "gone");
    /* Its configuration went with it. */
    make_bucket(st, "bravo", STORE_VERSIONING_OFF, false);
    CHECK_EQ_INT(store_bucket_conf_get(st, a, "bravo", "policy", &doc, &len), STORE_NOT_FOUND,
                 "conf gone with bucket");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

/* ---- objects ---------------------------------------------------------- */

static void test_put_get_inline_and_blob(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, true);
    arena_t *a = arena_new(0);
    make_bucket(st, "b", STORE_VERSIONING_OFF, false);

    static char big[BIG_BYTES];
    fill(big, sizeof big, 1);
    store_object_t o, g;
    CHECK_EQ_INT(put_str(st, a, "b", "small", "hello", &o), STORE_OK, "inline put");
    CHECK_EQ_INT(count_blob_files(dir), 0, "inline: no file");
    CHECK_EQ_STR(o.version_id, "null", "unversioned id");

    store_kv_t meta[] = {{"color", "blue"}, {"empty", ""}};
    store_kv_t tags[] = {{"t", "1"}};
    store_blob_t *w;
    store_blob_begin(st, &w);
    store_blob_write(w, big, sizeof big);
    CHECK_EQ_INT(store_blob_finish(w), STORE_OK, "finish");
    store_put_t in = {.bucket = "b", .blob = w};
    in.obj = (store_object_t){.key = "big", .key_len = 3, .size = sizeof big, .mtime_ms = 7,
                              .etag = "abc", .content_type = "text/plain", .meta = meta,
                              .nmeta = 2, .tags = tags, .ntags = 1, .checksum_algo = "CRC32",
                              .checksum_value = "AAAAAA==", .checksum_type = "FULL_OBJECT",
                              .owner = "123456789012"};
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "blob put");
    CHECK_EQ_INT(count_blob_files(dir), 1, "one blob file");
    CHECK(o.nsegs == 1 && o.segs[0].length == sizeof big, "one segment");

    CHECK_EQ_INT(store_object_get(st, a, "b", "small", 5, NULL, &g), STORE_OK, "get small");
    CHECK(g.inline_len == 5 && memcmp(g.inline_data, "hello", 5) == 0 && g.is_latest, "inline");
    CHECK_EQ_INT(store_object_get(st, a, "b", "big", 3, NULL, &g), STORE_OK, "get big");
    char *body = read_object(st, a, &g);
    CHECK(body && memcmp(body, big, sizeof big) == 0, "blob content read back");
    CHECK_EQ_STR(g.content_type, "text/plain", "content type");
    CHECK(g.nmeta == 2 && g.ntags == 1, "meta + tags");
    CHECK_EQ_STR(g.meta[0].name, "color", "meta name");
    CHECK_EQ_STR(g.meta[1].value, "", "empty meta value");
    CHECK_EQ_STR(g.checksum_value, "AAAAAA==", "checksum");
    CHECK_EQ_STR(g.owner, "123456789012", "owner");
    CHECK(g.content_encoding == NULL, "absent stays NULL");
    CHECK_EQ_INT(store_object_get(st, a, "b", "nope", 4, NULL, &g), STORE_NOT_FOUND, "absent");
    CHECK_EQ_INT(store_object_get(st, a, "x", "big", 3, NULL, &g), STORE_NO_BUCKET, "no bucket");
    CHECK_EQ_INT(store_object_get(st, a, "b", "big", 3, "bogus", &g), STORE_INVALID, "bad vid");
    CHECK_EQ_INT(put_str(st, a, "nope", "k", "v", NULL), STORE_NO_BUCKET, "put no bucket");

    /* Size must match the bytes; a refused put leaves no file behind. */
    store_blob_begin(st, &w);
    store_blob_write(w, big, sizeof big);
    store_blob_finish(w);
    in.blob = w;
    in.obj.size = 1;
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_INVALID, "size mismatch");
    CHECK_EQ_INT(count_blob_files(dir), 1, "refused blob unlinked");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_replace_in_place_frees_old_blob(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, true);
    arena_t *a = arena_new(0);
    make_bucket(st, "b", STORE_VERSIONING_OFF, false);
    static char big[BIG_BYTES];
    char path[4096];
    store_object_t o1, o2, g;

    fill(big, sizeof big, 2);
    CHECK_EQ_INT(put_bytes(st, a, "b", "k", 1, big, sizeof big, &o1), STORE_OK, "put 1");
    blob_file(dir, o1.segs[0].blob_id, path, sizeof path);
    CHECK(file_exists(path), "first blob on disk");
    fill(big, sizeof big, 3);
    CHECK_EQ_INT(put_bytes(st, a, "b", "k", 1, big, sizeof big, &o2), STORE_OK, "put 2");
    CHECK(!file_exists(path), "replaced blob unlinked after the commit");
    CHECK_EQ_INT(count_blob_files(dir), 1, "one file");
    CHECK_EQ_INT(store_object_get(st, a, "b", "k", 1, NULL, &g), STORE_OK, "get");
    CHECK(g.nsegs == 1 && strcmp(g.segs[0].blob_id, o2.segs[0].blob_id) == 0, "new bytes");

    collect_t c = {.versions = true};
    buf_init(&c.out, 4096);
    store_version_list(st, a, "b", NULL, NULL, NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k@null*", "one null version");
    buf_release(&c.out);

    /* Replaced by an inline object: the blob goes too. */
    CHECK_EQ_INT(put_str(st, a, "b", "k", "tiny", NULL), STORE_OK, "put inline");
    CHECK_EQ_INT(count_blob_files(dir), 0, "no files");
    store_delete_result_t dr;
    CHECK_EQ_INT(store_object_delete(st, a, "b", "k", 1, NULL, false, 0, &dr), STORE_OK, "del");
    CHECK_EQ_INT(store_object_get(st, a, "b", "k", 1, NULL, &g), STORE_NOT_FOUND, "gone");
    CHECK_EQ_INT(store_object_delete(st, a, "b", "k", 1, NULL, false, 0, &dr), STORE_OK,
                 "absent: OK");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_versioning_enabled(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "v", STORE_VERSIONING_ENABLED, false);
    store_object_t o1, o2, g;
    store_delete_result_t dr;

    CHECK_EQ_INT(put_str(st, a, "v", "k", "one", &o1), STORE_OK, "v1");
    CHECK_EQ_INT(put_str(st, a, "v", "k", "two", &o2), STORE_OK, "v2");
    CHECK(strlen(o1.version_id) == 32 && strcmp(o1.version_id, o2.version_id) != 0, "fresh ids");
    CHECK_EQ_INT(store_object_get(st, a, "v", "k", 1, NULL, &g), STORE_OK, "latest");
    CHECK(g.inline_len == 3 && memcmp(g.inline_data, "two", 3) == 0 && g.is_latest, "v2 latest");
    CHECK_EQ_INT(store_object_get(st, a, "v", "k", 1, o1.version_id, &g), STORE_OK, "by id");
    CHECK(memcmp(g.inline_data, "one", 3) == 0 && !g.is_latest, "v1 not latest");
    /* A well-formed id whose random half differs is someone else's. */
    char forged[33];
    memcpy(forged, o1.version_id, 33);
    forged[31] = forged[31] == '0' ? '1' : '0';
    CHECK_EQ_INT(store_object_get(st, a, "v", "k", 1, forged, &g), STORE_NOT_FOUND, "forged id");

    CHECK_EQ_INT(store_object_delete(st, a, "v", "k", 1, NULL, false, 0, &dr), STORE_OK, "del");
    CHECK(dr.delete_marker && dr.version_id && strlen(dr.version_id) == 32, "marker with id");
    const char *dm = dr.version_id;
    CHECK_EQ_INT(store_object_get(st, a, "v", "k", 1, NULL, &g), STORE_OK, "latest is marker");
    CHECK(g.delete_marker && g.is_latest, "marker latest");

    collect_t c = {.versions = true};
    buf_init(&c.out, 4096);
    store_version_list(st, a, "v", NULL, NULL, NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k@v*#dm k@v k@v", "marker, v2, v1");

    /* Removing the marker brings v2 back; removing v2 brings v1. */
    CHECK_EQ_INT(store_object_delete(st, a, "v", "k", 1, dm, false, 0, &dr), STORE_OK, "del dm");
    CHECK(dr.delete_marker, "removed a marker");
    CHECK_EQ_INT(store_object_get(st, a, "v", "k", 1, NULL, &g), STORE_OK, "latest");
    CHECK_EQ_STR(g.version_id, o2.version_id, "v2 latest again");
    CHECK_EQ_INT(store_object_delete(st, a, "v", "k", 1, o2.version_id, false, 0, &dr), STORE_OK,
                 "del v2");
    CHECK(!dr.delete_marker && strcmp(dr.version_id, o2.version_id) == 0, "echoes id");
    CHECK_EQ_INT(store_object_get(st, a, "v", "k", 1, NULL, &g), STORE_OK, "latest");
    CHECK(strcmp(g.version_id, o1.version_id) == 0 && g.is_latest, "v1 promoted");
    CHECK_EQ_INT(store_object_delete(st, a, "v", "k", 1, o2.version_id, false, 0, &dr), STORE_OK,
                 "absent version: OK");
    buf_release(&c.out);

    /* Tags in place: no new version. */
    store_kv_t tags[] = {{"a", "b"}};
    store_object_t f = {.tags = tags, .ntags = 1};
    CHECK_EQ_INT(store_object_update(st, a, "v", "k", 1, NULL, STORE_UPD_TAGS, &f, &g), STORE_OK,
                 "tag");
    CHECK(g.ntags == 1 && strcmp(g.version_id, o1.version_id) == 0, "same version tagged");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_suspended_null_version(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "s", STORE_VERSIONING_ENABLED, false);
    store_object_t o, g;
    store_delete_result_t dr;
    collect_t c = {.versions = true};
    buf_init(&c.out, 4096);

    CHECK_EQ_INT(put_str(st, a, "s", "k", "enabled", &o), STORE_OK, "versioned put");
    CHECK_EQ_INT(store_bucket_set_versioning(st, "s", STORE_VERSIONING_SUSPENDED), STORE_OK, "sus");
    CHECK_EQ_INT(put_str(st, a, "s", "k", "null1", &g), STORE_OK, "null put");
    CHECK_EQ_STR(g.version_id, "null", "null id");
    CHECK_EQ_INT(put_str(st, a, "s", "k", "null2", &g), STORE_OK, "null put again");
    store_version_list(st, a, "s", NULL, NULL, NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k@null* k@v", "null replaced in place, old version kept");
    CHECK_EQ_INT(store_object_get(st, a, "s", "k", 1, "null", &g), STORE_OK, "get null");
    CHECK(g.inline_len == 5 && memcmp(g.inline_data, "null2", 5) == 0, "newest null bytes");

    CHECK_EQ_INT(store_object_delete(st, a, "s", "k", 1, NULL, false, 0, &dr), STORE_OK, "del");
    CHECK(dr.delete_marker && strcmp(dr.version_id, "null") == 0, "null marker");
    buf_reset(&c.out);
    store_version_list(st, a, "s", NULL, NULL, NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k@null*#dm k@v", "marker replaced the null version");

    CHECK_EQ_INT(store_object_delete(st, a, "s", "k", 1, "null", false, 0, &dr), STORE_OK,
                 "del null marker");
    CHECK_EQ_INT(store_object_get(st, a, "s", "k", 1, NULL, &g), STORE_OK, "latest");
    CHECK_EQ_STR(g.version_id, o.version_id, "enabled-era version is latest again");
    buf_release(&c.out);

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_conditional_put(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "c", STORE_VERSIONING_ENABLED, false);
    store_put_t in = {.bucket = "c"};
    in.obj = (store_object_t){.key = "k", .key_len = 1, .etag = "e1"};
    store_object_t o;
    store_delete_result_t dr;

    in.if_match = "e1";
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_NOT_FOUND, "If-Match, no object");
    in.if_match = NULL;
    in.if_none_match = true;
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "If-None-Match, absent");
    in.obj.etag = "e2";
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_PRECONDITION, "If-None-Match, exists");
    in.if_none_match = false;
    in.if_match = "zz";
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_PRECONDITION, "If-Match mismatch");
    in.if_match = "e1";
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "If-Match match");
    CHECK_EQ_INT(store_object_get(st, a, "c", "k", 1, NULL, &o), STORE_OK, "get");
    CHECK_EQ_STR(o.etag, "e2", "the conditional write landed");

    /* A delete marker is no object. */
    store_object_delete(st, a, "c", "k", 1, NULL, false, 0, &dr);
    in.if_match = "e2";
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_NOT_FOUND, "If-Match behind marker");
    in.if_match = NULL;
    in.if_none_match = true;
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "If-None-Match behind marker");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

/* ---- listing ---------------------------------------------------------- */

static void list_into(store_t *st, arena_t *a, collect_t *c, const char *prefix,
                      const char *start_after)
{
    buf_reset(&c->out);
    c->seen = 0;
    c->prelen = prefix ? strlen(prefix) : 0;
    CHECK_EQ_INT(store_object_list(st, a, "l", prefix, start_after,
                                   start_after ? strlen(start_after) : 0, collect_cb, c),
                 STORE_OK, "list");
}

static void test_list_prefix_start_after_skip(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "l", STORE_VERSIONING_ENABLED, false);
    static const char *keys[] = {"d/y", "a", "b/1", "b/2", "b/3", "c", "d/x/1", "e"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        CHECK_EQ_INT(put_str(st, a, "l", keys[i], "x", NULL), STORE_OK, "put %s", keys[i]);
        CHECK_EQ_INT(put_str(st, a, "l", keys[i], "y", NULL), STORE_OK, "2nd version");
    }
    store_delete_result_t dr;
    store_object_delete(st, a, "l", "e", 1, NULL, false, 0, &dr);
    collect_t c = {0};
    buf_init(&c.out, 4096);

    list_into(st, a, &c, NULL, NULL);
    CHECK_EQ_STR(buf_cstr(&c.out), "a b/1 b/2 b/3 c d/x/1 d/y e#dm", "latest of each key");
    list_into(st, a, &c, "b/", NULL);
    CHECK_EQ_STR(buf_cstr(&c.out), "b/1 b/2 b/3", "prefix");
    list_into(st, a, &c, NULL, "b/1");
    CHECK_EQ_STR(buf_cstr(&c.out), "b/2 b/3 c d/x/1 d/y e#dm", "start_after");
    list_into(st, a, &c, "b/", "a");
    CHECK_EQ_STR(buf_cstr(&c.out), "b/1 b/2 b/3", "start_after before prefix");
    list_into(st, a, &c, NULL, "b");
    CHECK_EQ_STR(buf_cstr(&c.out), "b/1 b/2 b/3 c d/x/1 d/y e#dm", "start_after non-key");
    c.delim = "/";
    list_into(st, a, &c, NULL, NULL);
    CHECK_EQ_STR(buf_cstr(&c.out), "a b/ c d/ e#dm", "SKIP gives common prefixes");
    list_into(st, a, &c, "d/", NULL);
    CHECK_EQ_STR(buf_cstr(&c.out), "d/x/ d/y", "SKIP under a prefix");
    c.delim = NULL;
    c.stop_after = 2;
    list_into(st, a, &c, NULL, NULL);
    CHECK_EQ_STR(buf_cstr(&c.out), "a b/1", "STOP");
    c.stop_after = 0;
    list_into(st, a, &c, "zz", NULL);
    CHECK_EQ_STR(buf_cstr(&c.out), "", "empty prefix range");
    CHECK_EQ_INT(store_object_list(st, a, "nope", NULL, NULL, 0, collect_cb, &c), STORE_NO_BUCKET,
                 "no bucket");

    /* More keys than a chunk, with SKIP crossing chunk borders. */
    char k[32];
    for (int i = 0; i < 300; i++) {
        snprintf(k, sizeof k, "m/%03d/%d", i / 3, i % 3);
        put_str(st, a, "l", k, "z", NULL);
    }
    list_into(st, a, &c, "m/", NULL);
    CHECK_EQ_INT(c.seen, 0, "no stop");
    size_t words = 1;
    for (size_t i = 0; i < c.out.len; i++)
        words += c.out.data[i] == ' ';
    CHECK_EQ_INT(words, 300, "all 300 listed across chunks");
    c.delim = "/";
    c.prelen = 2;
    buf_reset(&c.out);
    store_object_list(st, a, "l", "m/", NULL, 0, collect_cb, &c);
    words = 1;
    for (size_t i = 0; i < c.out.len; i++)
        words += c.out.data[i] == ' ';
    CHECK_EQ_INT(words, 100, "100 common prefixes");
    CHECK(strncmp(buf_cstr(&c.out), "m/000/ m/001/ ", 14) == 0, "prefix order");

    buf_release(&c.out);
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

typedef struct {
    arena_t *a;
    const char *key, *vid;
    bool latest, got;
} page_t;

static store_iter_rc_t page_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    page_t *p = arg;
    (void)skip;
    p->key = arena_strndup(p->a, o->key, o->key_len);
    p->vid = arena_strdup(p->a, o->version_id);
    p->latest = o->is_latest;
    p->got = true;
    return STORE_ITER_STOP;
}

static void test_version_list_markers(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "l", STORE_VERSIONING_ENABLED, false);
    store_object_t v[3];
    for (int i = 0; i < 3; i++)
        put_str(st, a, "l", "k1", "x", &v[i]);
    put_str(st, a, "l", "k2", "x", NULL);
    put_str(st, a, "l", "k2", "x", NULL);
    collect_t c = {.versions = true};
    buf_init(&c.out, 4096);

    store_version_list(st, a, "l", NULL, NULL, NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k1@v* k1@v k1@v k2@v* k2@v", "all versions");
    buf_reset(&c.out);
    store_version_list(st, a, "l", NULL, "k1", v[2].version_id, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k1@v k1@v k2@v* k2@v", "after newest of k1");
    buf_reset(&c.out);
    store_version_list(st, a, "l", NULL, "k1", v[1].version_id, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k1@v k2@v* k2@v", "after the middle version");
    buf_reset(&c.out);
    store_version_list(st, a, "l", NULL, "k1", NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k2@v* k2@v", "key marker alone: after all of k1");
    buf_reset(&c.out);
    store_version_list(st, a, "l", "k2", NULL, NULL, collect_cb, &c);
    CHECK_EQ_STR(buf_cstr(&c.out), "k2@v* k2@v", "prefix");
    CHECK_EQ_INT(store_version_list(st, a, "l", NULL, "k1", "garbage", collect_cb, &c),
                 STORE_INVALID, "bad version marker");

    /* Paging one version at a time with (key, version) markers visits
     * every version exactly once. */
    buf_t all;
    buf_init(&all, 4096);
    page_t pg = {.a = a};
    for (int page = 0; page < 10; page++) {
        pg.got = false;
        store_version_list(st, a, "l", NULL, pg.key, pg.vid, page_cb, &pg);
        if (!pg.got)
            break;
        if (all.len)
            buf_putc(&all, ' ');
        buf_printf(&all, "%s%s", pg.key, pg.latest ? "*" : "");
    }
    CHECK_EQ_STR(buf_cstr(&all), "k1* k1 k1 k2* k2", "paged walk");
    buf_release(&all);
    buf_release(&c.out);
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static int cmp_keys(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    return strcmp(a, b);
}

/* 300 keys sharing one 384-byte head: a row-key group bigger than a
 * listing chunk, listed in order, paged by markers, skipped by prefix. */
static void test_long_key_group_spans_chunks(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "o", STORE_VERSIONING_ENABLED, false);
    static char key[600];
    memset(key, 'h', 500);
    for (int i = 299; i >= 0; i--) { /* reverse order: hashes decide the rows' order */
        snprintf(key + 500, 100, "/%03d/x", i);
        CHECK_EQ_INT(put_str(st, a, "o", key, "v", NULL), STORE_OK, "put %d", i);
    }
    collect_t c = {0};
    buf_init(&c.out, 1 << 20);
    store_object_list(st, a, "o", NULL, NULL, 0, collect_cb, &c);
    buf_t want;
    buf_init(&want, 1 << 20);
    for (int i = 0; i < 300; i++) {
        snprintf(key + 500, 100, "/%03d/x", i);
        if (i)
            buf_putc(&want, ' ');
        buf_puts(&want, key);
    }
    CHECK(strcmp(buf_cstr(&c.out), buf_cstr(&want)) == 0, "group sorted across chunks");
    /* Delimiter at byte 504: 300 common prefixes, each skipped by seek. */
    c.delim = "/";
    c.prelen = 501;
    buf_reset(&c.out);
    key[501] = 0;
    store_object_list(st, a, "o", key, NULL, 0, collect_cb, &c);
    size_t words = 1;
    for (size_t i = 0; i < c.out.len; i++)
        words += c.out.data[i] == ' ';
    CHECK_EQ_INT(words, 300, "common prefixes inside a group");
    /* Paging with markers. */
    page_t pg = {.a = a};
    int pages = 0;
    const char *prev = "";
    bool ordered = true;
    for (;; pages++) {
        pg.got = false;
        store_version_list(st, a, "o", NULL, pg.key, pg.vid, page_cb, &pg);
        if (!pg.got)
            break;
        ordered &= strcmp(prev, pg.key) < 0;
        prev = pg.key;
    }
    CHECK_EQ_INT(pages, 300, "every version once");
    CHECK(ordered, "in key order");
    buf_release(&want);
    buf_release(&c.out);
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_odd_keys_round_trip(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "o", STORE_VERSIONING_ENABLED, false);

    /* Long keys: several share their first 384 bytes (one row-key group),
     * one is exactly 384 bytes (the group's head as a short key). */
    static char k1024a[1025], k1024b[1025], k500[501], k384[385], k385[386], kff[1025];
    memset(k1024a, 'a', 1024);
    memset(k1024b, 'a', 1024);
    k1024b[1023] = 'b';
    memset(k500, 'a', 500);
    memset(k384, 'a', 384);
    memset(k385, 'a', 385);
    k385[384] = '!';
    memset(kff, 'a', 1024);
    kff[400] = '\xff';
    const char *keys[] = {"../x", "a//b", "\xf0\x9f\x93\xb7 photo", "100%", "a b",
                          "\x01", "\x7f", "\xff", k1024a, k1024b, k500, k384, k385, kff,
                          "a/../../etc/passwd"};
    size_t n = ARRAY_LEN(keys);
    for (size_t i = 0; i < n; i++) {
        char body[16];
        snprintf(body, sizeof body, "%zu", i);
        CHECK_EQ_INT(put_str(st, a, "o", keys[i], body, NULL), STORE_OK, "put %zu", i);
        CHECK_EQ_INT(put_str(st, a, "o", keys[i], body, NULL), STORE_OK, "2nd version %zu", i);
    }
    for (size_t i = 0; i < n; i++) {
        store_object_t g;
        char body[16];
        snprintf(body, sizeof body, "%zu", i);
        CHECK_EQ_INT(store_object_get(st, a, "o", keys[i], strlen(keys[i]), NULL, &g), STORE_OK,
                     "get %zu", i);
        CHECK(g.key_len == strlen(keys[i]) && memcmp(g.key, keys[i], g.key_len) == 0 &&
                  g.inline_len == strlen(body) && memcmp(g.inline_data, body, g.inline_len) == 0,
              "round trip %zu", i);
    }
    /* 1025 bytes is refused, as is a NUL. */
    static char k1025[1026];
    memset(k1025, 'a', 1025);
    CHECK_EQ_INT(put_str(st, a, "o", k1025, "x", NULL), STORE_INVALID, "1025 bytes");
    CHECK_EQ_INT(put_bytes(st, a, "o", "a\0b", 3, "x", 1, NULL), STORE_INVALID, "NUL in key");

    /* Listing is in byte order, long-key groups included. */
    const char *sorted[ARRAY_LEN(keys)];
    memcpy(sorted, keys, sizeof keys);
    qsort(sorted, n, sizeof *sorted, cmp_keys);
    buf_t want;
    buf_init(&want, 1 << 16);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&want, ' ');
        buf_puts(&want, sorted[i]);
    }
    collect_t c = {0};
    buf_init(&c.out, 1 << 16);
    store_object_list(st, a, "o", NULL, NULL, 0, collect_cb, &c);
    CHECK(strcmp(buf_cstr(&c.out), buf_cstr(&want)) == 0, "byte order over all shapes");
    /* start_after inside the long group. */
    buf_reset(&c.out);
    store_object_list(st, a, "o", NULL, k1024a, 1024, collect_cb, &c);
    buf_reset(&want);
    bool after = false;
    for (size_t i = 0; i < n; i++) {
        if (after) {
            if (want.len)
                buf_putc(&want, ' ');
            buf_puts(&want, sorted[i]);
        }
        after |= sorted[i] == k1024a;
    }
    CHECK(strcmp(buf_cstr(&c.out), buf_cstr(&want)) == 0, "start_after a long key");
    /* Versions of long keys, newest first, with is_latest. */
    collect_t cv = {.versions = true};
    buf_init(&cv.out, 1 << 16);
    static char pre1000[1001];
    memset(pre1000, 'a', 1000);
    store_version_list(st, a, "o", pre1000, NULL, NULL, collect_cb, &cv);
    buf_reset(&want);
    buf_printf(&want, "%s@v* %s@v %s@v* %s@v", k1024a, k1024a, k1024b, k1024b);
    CHECK(strcmp(buf_cstr(&cv.out), buf_cstr(&want)) == 0, "long key versions");
    /* SKIP over a prefix longer than the row-key head. */
    c.delim = "!";
    c.prelen = 0;
    buf_reset(&c.out);
    store_object_list(st, a, "o", k384, NULL, 0, collect_cb, &c);
    buf_reset(&want);
    buf_printf(&want, "%s %s %s %s %s %s", k384, k385, k500, k1024a, k1024b, kff);
    CHECK(strcmp(buf_cstr(&c.out), buf_cstr(&want)) == 0, "prefix = a group head");
    /* Delete one long-key version by id; the other key of the group stays. */
    store_object_t g;
    store_delete_result_t dr;
    CHECK_EQ_INT(store_object_get(st, a, "o", k1024b, 1024, NULL, &g), STORE_OK, "get");
    CHECK_EQ_INT(store_object_delete(st, a, "o", k1024b, 1024, g.version_id, false, 0, &dr),
                 STORE_OK, "delete long");
    CHECK_EQ_INT(store_object_get(st, a, "o", k1024a, 1024, NULL, &g), STORE_OK, "sibling stays");

    buf_release(&want);
    buf_release(&c.out);
    buf_release(&cv.out);
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

/* ---- multipart and sharing -------------------------------------------- */

static store_blob_t *blob_of(store_t *st, const char *p, size_t n)
{
    store_blob_t *w;
    store_blob_begin(st, &w);
    store_blob_write(w, p, n);
    store_blob_finish(w);
    return w;
}

static bool upload_cb(void *arg, const store_upload_t *u)
{
    buf_t *b = arg;
    if (b->len)
        buf_putc(b, ' ');
    buf_append(b, u->key, u->key_len);
    return true;
}

static void test_multipart(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, true);
    arena_t *a = arena_new(0);
    make_bucket(st, "m", STORE_VERSIONING_OFF, false);
    static char p1[BIG_BYTES], p1b[BIG_BYTES], p2[100], p3[BIG_BYTES];
    fill(p1, sizeof p1, 1);
    fill(p1b, sizeof p1b, 2);
    fill(p2, sizeof p2, 3);
    fill(p3, sizeof p3, 4);

    store_kv_t meta[] = {{"m", "1"}};
    store_upload_t up = {.key = "obj", .key_len = 3, .initiated_ms = 10};
    up.meta.content_type = "video/mp4";
    up.meta.meta = meta;
    up.meta.nmeta = 1;
    CHECK_EQ_INT(store_upload_create(st, a, "m", &up), STORE_OK, "create");
    CHECK(up.upload_id && strlen(up.upload_id) == 32, "upload id");
    store_part_t pt = {.part_number = 1, .mtime_ms = 1, .etag = "p1"};
    CHECK_EQ_INT(store_upload_part_put(st, "m", up.upload_id, &pt, blob_of(st, p1, sizeof p1)),
                 STORE_OK, "part 1");
    store_part_t *parts;
    size_t n;
    bool trunc;
    store_upload_parts(st, a, "m", up.upload_id, 0, 100, &parts, &n, &trunc);
    char old1[4096];
    blob_file(dir, parts[0].seg.blob_id, old1, sizeof old1);
    /* Re-upload replaces the part and frees its blob. */
    pt.etag = "p1b";
    CHECK_EQ_INT(store_upload_part_put(st, "m", up.upload_id, &pt, blob_of(st, p1b, sizeof p1b)),
                 STORE_OK, "part 1 again");
    CHECK(!file_exists(old1), "replaced part's blob unlinked");
    pt = (store_part_t){.part_number = 2, .etag = "p2"};
    CHECK_EQ_INT(store_upload_part_put(st, "m", up.upload_id, &pt, blob_of(st, p2, sizeof p2)),
                 STORE_OK, "small part 2 (made a file)");
    pt = (store_part_t){.part_number = 3, .etag = "p3"};
    CHECK_EQ_INT(store_upload_part_put(st, "m", up.upload_id, &pt, blob_of(st, p3, sizeof p3)),
                 STORE_OK, "part 3");
    pt.part_number = 0;
    CHECK_EQ_INT(store_upload_part_put(st, "m", up.upload_id, &pt, blob_of(st, p3, 10)),
                 STORE_INVALID, "part 0");
    CHECK_EQ_INT(count_blob_files(dir), 3, "three part files");

    CHECK_EQ_INT(store_upload_parts(st, a, "m", up.upload_id, 0, 2, &parts, &n, &trunc), STORE_OK,
                 "parts");
    CHECK(n == 2 && trunc && parts[0].part_number == 1 && parts[1].part_number == 2, "page 1");
    CHECK_EQ_STR(parts[0].etag, "p1b", "replaced part listed");
    CHECK_EQ_INT(store_upload_parts(st, a, "m", up.upload_id, 2, 10, &parts, &n, &trunc),
                 STORE_OK, "parts page 2");
    CHECK(n == 1 && !trunc && parts[0].part_number == 3, "page 2");
    char p3path[4096];
    blob_file(dir, parts[0].seg.blob_id, p3path, sizeof p3path);

    buf_t ul;
    buf_init(&ul, 1024);
    store_upload_t up2 = {.key = "another", .key_len = 7, .initiated_ms = 11};
    store_upload_create(st, a, "m", &up2);
    store_upload_list(st, a, "m", NULL, NULL, NULL, upload_cb, &ul);
    CHECK_EQ_STR(buf_cstr(&ul), "another obj", "uploads by key");
    buf_reset(&ul);
    store_upload_list(st, a, "m", NULL, "another", NULL, upload_cb, &ul);
    CHECK_EQ_STR(buf_cstr(&ul), "obj", "key marker");
    buf_release(&ul);

    /* Complete with parts 1 and 2: by reference, no new file; part 3 freed. */
    uint32_t nums[] = {1, 2};
    store_put_t in = {.bucket = "m"};
    in.obj = (store_object_t){.size = sizeof p1b + sizeof p2, .etag = "x-2", .mtime_ms = 99};
    store_object_t o;
    uint32_t bad[] = {1, 5};
    CHECK_EQ_INT(store_upload_complete(st, a, "m", up.upload_id, bad, 2, &in, &o), STORE_INVALID,
                 "unknown part");
    CHECK_EQ_INT(store_upload_complete(st, a, "m", up.upload_id, nums, 2, &in, &o), STORE_OK,
                 "complete");
    CHECK_EQ_INT(count_blob_files(dir), 2, "no copy; unchosen part's blob freed");
    CHECK(!file_exists(p3path), "part 3 file gone");
    CHECK(o.nsegs == 2 && o.parts_count == 2 && o.part_sizes[1] == sizeof p2, "segments");
    CHECK_EQ_STR(o.content_type, "video/mp4", "upload metadata applied");
    CHECK(o.nmeta == 1, "user metadata");
    char *body = read_object(st, a, &o);
    CHECK(body && memcmp(body, p1b, sizeof p1b) == 0 && memcmp(body + sizeof p1b, p2, sizeof p2) == 0,
          "concatenated content");
    store_upload_t gu;
    CHECK_EQ_INT(store_upload_get(st, a, "m", up.upload_id, &gu), STORE_NOT_FOUND, "upload gone");
    CHECK_EQ_INT(store_upload_complete(st, a, "m", up.upload_id, nums, 2, &in, &o),
                 STORE_NOT_FOUND, "completed twice");

    /* UploadPartCopy references a range of the object's first blob. */
    CHECK_EQ_INT(store_upload_get(st, a, "m", up2.upload_id, &gu), STORE_OK, "upload 2");
    pt = (store_part_t){.part_number = 1, .etag = "c"};
    pt.seg = o.segs[0];
    pt.seg.offset = 100;
    pt.seg.length = 1000;
    CHECK_EQ_INT(store_upload_part_put(st, "m", up2.upload_id, &pt, NULL), STORE_OK, "part copy");
    uint64_t refs = 0;
    store_blob_refcount(st, o.segs[0].blob_id, &refs);
    CHECK_EQ_INT(refs, 2, "part copy shares the blob");
    CHECK_EQ_INT(count_blob_files(dir), 2, "no new file");
    pt.part_number = 2;
    CHECK_EQ_INT(store_upload_part_put(st, "m", up2.upload_id, &pt, blob_of(st, p3, sizeof p3)),
                 STORE_OK, "own part");
    CHECK_EQ_INT(store_upload_abort(st, "m", up2.upload_id), STORE_OK, "abort");
    store_blob_refcount(st, o.segs[0].blob_id, &refs);
    CHECK_EQ_INT(refs, 1, "abort dropped the shared reference");
    CHECK_EQ_INT(count_blob_files(dir), 2, "abort freed its own part");
    CHECK_EQ_INT(store_upload_abort(st, "m", up2.upload_id), STORE_NOT_FOUND, "abort twice");

    store_fsck_t fk;
    CHECK_EQ_INT(store_fsck(st, false, &fk), STORE_OK, "fsck");
    CHECK(fk.orphans == 0 && fk.missing == 0 && fk.bad_refcounts == 0 && fk.blobs == 2, "clean");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_copy_shares_blob(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, true);
    arena_t *a = arena_new(0);
    make_bucket(st, "b", STORE_VERSIONING_OFF, false);
    static char big[BIG_BYTES];
    fill(big, sizeof big, 9);
    store_object_t src, dst, g;
    store_delete_result_t dr;
    uint64_t refs = 0;
    char path[4096];

    put_bytes(st, a, "b", "src", 3, big, sizeof big, &src);
    store_put_t in = {.bucket = "b", .copy_from = &src};
    in.obj = (store_object_t){.key = "dst", .key_len = 3, .size = src.size, .etag = src.etag};
    CHECK_EQ_INT(store_object_put(st, a, &in, &dst), STORE_OK, "copy");
    CHECK_EQ_INT(count_blob_files(dir), 1, "bytes shared, not copied");
    CHECK_EQ_INT(store_blob_refcount(st, src.segs[0].blob_id, &refs), STORE_OK, "refcount");
    CHECK_EQ_INT(refs, 2, "two references");
    /* Copy onto itself (metadata replace) keeps the blob alive. */
    in.obj.key = "src";
    CHECK_EQ_INT(store_object_put(st, a, &in, &g), STORE_OK, "self copy");
    store_blob_refcount(st, src.segs[0].blob_id, &refs);
    CHECK_EQ_INT(refs, 2, "self copy: still two");

    blob_file(dir, src.segs[0].blob_id, path, sizeof path);
    store_object_delete(st, a, "b", "src", 3, NULL, false, 0, &dr);
    CHECK(file_exists(path), "other reference keeps the file");
    CHECK_EQ_INT(store_object_get(st, a, "b", "dst", 3, NULL, &g), STORE_OK, "copy readable");
    char *body = read_object(st, a, &g);
    CHECK(body && memcmp(body, big, sizeof big) == 0, "copy content");
    store_object_delete(st, a, "b", "dst", 3, NULL, false, 0, &dr);
    CHECK(!file_exists(path), "last reference frees the file");
    /* Copying from a version whose blob is gone fails cleanly. */
    in.obj.key = "again";
    CHECK_EQ_INT(store_object_put(st, a, &in, &g), STORE_NOT_FOUND, "source freed");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_object_lock_refuses_deletion(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "lk", STORE_VERSIONING_ENABLED, true);
    const int64_t now = 1000000;
    store_object_t oc, og, g;
    store_delete_result_t dr;

    store_put_t in = {.bucket = "lk"};
    in.obj = (store_object_t){.key = "c", .key_len = 1, .mtime_ms = now, .lock_mode = "COMPLIANCE",
                              .lock_until_ms = now + 1000};
    CHECK_EQ_INT(store_object_put(st, a, &in, &oc), STORE_OK, "compliance put");
    in.obj.key = "g";
    in.obj.lock_mode = "GOVERNANCE";
    CHECK_EQ_INT(store_object_put(st, a, &in, &og), STORE_OK, "governance put");

    CHECK_EQ_INT(store_object_delete(st, a, "lk", "c", 1, oc.version_id, true, now, &dr),
                 STORE_LOCKED, "compliance: even with bypass");
    CHECK_EQ_INT(store_object_delete(st, a, "lk", "c", 1, oc.version_id, false, now + 1000, &dr),
                 STORE_OK, "retention over");
    CHECK_EQ_INT(store_object_delete(st, a, "lk", "g", 1, og.version_id, false, now, &dr),
                 STORE_LOCKED, "governance without bypass");
    CHECK_EQ_INT(store_object_delete(st, a, "lk", "g", 1, NULL, false, now, &dr), STORE_OK,
                 "a delete marker is always allowed");

    store_object_t f = {.legal_hold = true};
    CHECK_EQ_INT(store_object_update(st, a, "lk", "g", 1, og.version_id, STORE_UPD_LEGAL_HOLD, &f,
                                     &g),
                 STORE_OK, "legal hold on");
    CHECK_EQ_INT(store_object_delete(st, a, "lk", "g", 1, og.version_id, true, now + 5000, &dr),
                 STORE_LOCKED, "legal hold beats bypass and expiry");
    f.legal_hold = false;
    store_object_update(st, a, "lk", "g", 1, og.version_id, STORE_UPD_LEGAL_HOLD, &f, &g);
    CHECK_EQ_INT(store_object_delete(st, a, "lk", "g", 1, og.version_id, true, now, &dr),
                 STORE_OK, "governance with bypass");

    /* In-place replacement of a locked null version is refused too. */
    make_bucket(st, "un", STORE_VERSIONING_OFF, false);
    in.bucket = "un";
    in.obj.key = "n";
    in.obj.lock_mode = "COMPLIANCE";
    store_object_put(st, a, &in, &g);
    in.obj.lock_mode = NULL;
    CHECK_EQ_INT(store_object_put(st, a, &in, &g), STORE_LOCKED, "locked null not replaced");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

/* ---- group commit, reopen, crash leftovers, fsck, growth -------------- */

#define GC_THREADS 8
#define GC_PUTS 200

typedef struct {
    store_t *st;
    int t;
    int failures;
} gc_arg_t;

static void *gc_worker(void *p)
{
    gc_arg_t *g = p;
    arena_t *a = arena_new(0);
    char key[32];
    for (int i = 0; i < GC_PUTS; i++) {
        snprintf(key, sizeof key, "t%d/%04d", g->t, i);
        if (put_str(g->st, a, "g", key, "small body", NULL) != STORE_OK)
            g->failures++;
    }
    arena_free(a);
    return NULL;
}

static store_iter_rc_t count_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    (void)o;
    (void)skip;
    (*(int *)arg)++;
    return STORE_ITER_NEXT;
}

static void test_group_commit_batches_concurrent_puts(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, true); /* real fsyncs: that is what batching saves */
    arena_t *a = arena_new(0);
    make_bucket(st, "g", STORE_VERSIONING_OFF, false);
    store_stats_t before, after;
    store_stats(st, &before);

    pthread_t th[GC_THREADS];
    gc_arg_t args[GC_THREADS];
    for (int i = 0; i < GC_THREADS; i++) {
        args[i] = (gc_arg_t){st, i, 0};
        pthread_create(&th[i], NULL, gc_worker, &args[i]);
    }
    int failures = 0;
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += args[i].failures;
    }
    store_stats(st, &after);
    CHECK_EQ_INT(failures, 0, "every put acknowledged");
    int n = 0;
    store_object_list(st, a, "g", NULL, NULL, 0, count_cb, &n);
    CHECK_EQ_INT(n, GC_THREADS * GC_PUTS, "all visible");
    uint64_t commits = after.commits - before.commits;
    uint64_t muts = after.mutations - before.mutations;
    fprintf(stderr, "  group commit: %llu puts in %llu commits (max batch %llu)\n",
            (unsigned long long)muts, (unsigned long long)commits,
            (unsigned long long)after.max_batch);
    CHECK_EQ_INT(muts, GC_THREADS * GC_PUTS, "mutations counted");
    CHECK(commits * 2 < muts, "far fewer commits (%llu) than puts", (unsigned long long)commits);
    CHECK(after.max_batch > 1, "batches formed");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_reopen_keeps_everything(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, true);
    arena_t *a = arena_new(0);
    static char big[BIG_BYTES];
    fill(big, sizeof big, 5);
    make_bucket(st, "r", STORE_VERSIONING_ENABLED, false);
    store_object_t o;
    put_bytes(st, a, "r", "big", 3, big, sizeof big, &o);
    put_str(st, a, "r", "small", "s", NULL);
    store_upload_t up = {.key = "u", .key_len = 1};
    store_upload_create(st, a, "r", &up);
    char *upload_id = strdup(up.upload_id);
    store_close(st);

    st = open_store(dir, true);
    store_object_t g;
    CHECK_EQ_INT(store_object_get(st, a, "r", "big", 3, NULL, &g), STORE_OK, "big after reopen");
    char *body = read_object(st, a, &g);
    CHECK(body && memcmp(body, big, sizeof big) == 0, "bytes after reopen");
    CHECK_EQ_STR(g.version_id, o.version_id, "same version");
    CHECK_EQ_INT(store_object_get(st, a, "r", "small", 5, NULL, &g), STORE_OK, "small");
    CHECK_EQ_INT(store_upload_get(st, a, "r", upload_id, &up), STORE_OK, "upload");
    CHECK_EQ_INT(count_blob_files(dir), 1, "referenced blob survived the sweep");
    /* Sequence numbers continue: no version id is ever reused. */
    put_str(st, a, "r", "small", "t", &g);
    CHECK(strcmp(g.version_id, o.version_id) > 0 || strncmp(g.version_id, o.version_id, 16) > 0,
          "ids keep increasing");
    store_t *second = NULL;
    CHECK_EQ_INT(store_open(dir, NULL, &second), STORE_IO, "one process per data dir");
    free(upload_id);
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void plant(const char *dir, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    /* mkdir -p of the parents, within blobs/ */
    for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(p, 0700);
        *s = '/';
    }
    int fd = open(p, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0, "plant %s", rel);
    if (fd >= 0) {
        CHECK(write(fd, "junk", 4) == 4, "write");
        close(fd);
    }
}

#define ORPHAN "blobs/ab/cd/abcd0000000000000000000000000000"

static void test_open_removes_orphans_and_tmp(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    static char big[BIG_BYTES];
    make_bucket(st, "b", STORE_VERSIONING_OFF, false);
    put_bytes(st, a, "b", "keep", 4, big, sizeof big, NULL);
    store_close(st);

    /* A crash after rename but before commit, and one mid-write. */
    plant(dir, ORPHAN);
    plant(dir, "tmp/0123456789abcdef0123456789abcdef");
    char p[4096];
    snprintf(p, sizeof p, "%s/" ORPHAN, dir);
    CHECK_EQ_INT(count_blob_files(dir), 2, "planted");
    st = open_store(dir, false);
    CHECK(!file_exists(p), "orphan blob removed at open");
    snprintf(p, sizeof p, "%s/tmp/0123456789abcdef0123456789abcdef", dir);
    CHECK(!file_exists(p), "tmp emptied at open");
    CHECK_EQ_INT(count_blob_files(dir), 1, "referenced blob kept");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_fsck_finds_orphan_and_missing(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    static char big[BIG_BYTES];
    store_object_t o1, o2;
    store_fsck_t fk;
    char p[4096];
    make_bucket(st, "b", STORE_VERSIONING_OFF, false);
    put_bytes(st, a, "b", "one", 3, big, sizeof big, &o1);
    put_bytes(st, a, "b", "two", 3, big, sizeof big, &o2);

    CHECK_EQ_INT(store_fsck(st, false, &fk), STORE_OK, "fsck");
    CHECK(fk.blobs == 2 && fk.orphans == 0 && fk.missing == 0 && fk.bad_refcounts == 0, "clean");

    plant(dir, ORPHAN);
    blob_file(dir, o2.segs[0].blob_id, p, sizeof p);
    unlink(p);
    /* A blob being written is not an orphan. */
    store_blob_t *w = blob_of(st, big, sizeof big);
    CHECK_EQ_INT(store_fsck(st, false, &fk), STORE_OK, "fsck");
    CHECK_EQ_INT(fk.orphans, 1, "planted orphan found");
    CHECK_EQ_INT(fk.missing, 1, "missing blob found");
    CHECK_EQ_INT(fk.blobs, 3, "files counted");
    CHECK_EQ_INT(store_fsck(st, true, &fk), STORE_OK, "repair");
    snprintf(p, sizeof p, "%s/" ORPHAN, dir);
    CHECK(!file_exists(p), "repair removed the orphan");
    CHECK_EQ_INT(count_blob_files(dir), 2, "live writer's file kept");
    store_put_t in = {.bucket = "b", .blob = w};
    in.obj = (store_object_t){.key = "three", .key_len = 5, .size = sizeof big};
    CHECK_EQ_INT(store_object_put(st, a, &in, NULL), STORE_OK, "its put still works");

    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

static void test_map_grows_by_itself(void)
{
    char *dir = tmp_dir();
    store_opts_t opts = {.no_sync = true, .initial_map_bytes = 256 << 10};
    store_t *st = NULL;
    CHECK_EQ_INT(store_open(dir, &opts, &st), STORE_OK, "open tiny map");
    arena_t *a = arena_new(0);
    make_bucket(st, "b", STORE_VERSIONING_ENABLED, false);
    static char body[4000];
    char key[32];
    int failed = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        fill(body, sizeof body, (unsigned)i);
        if (put_bytes(st, a, "b", key, strlen(key), body, sizeof body, NULL) != STORE_OK)
            failed++;
    }
    CHECK_EQ_INT(failed, 0, "no put failed");
    store_stats_t s;
    store_stats(st, &s);
    fprintf(stderr, "  map: %llu grows, now %llu bytes\n", (unsigned long long)s.map_grows,
            (unsigned long long)s.map_bytes);
    CHECK(s.map_grows >= 3, "grew several times (%llu)", (unsigned long long)s.map_grows);
    int n = 0;
    store_object_list(st, a, "b", NULL, NULL, 0, count_cb, &n);
    CHECK_EQ_INT(n, 3000, "all there");
    store_object_t g;
    CHECK_EQ_INT(store_object_get(st, a, "b", "k00000", 6, NULL, &g), STORE_OK, "first");
    fill(body, sizeof body, 0);
    CHECK(g.inline_len == sizeof body && memcmp(g.inline_data, body, sizeof body) == 0, "bytes");
    store_close(st);
    /* Reopening with the tiny setting still finds everything. */
    CHECK_EQ_INT(store_open(dir, &opts, &st), STORE_OK, "reopen");
    CHECK_EQ_INT(store_object_get(st, a, "b", "k02999", 6, NULL, &g), STORE_OK, "last");
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

/* DESIGN.md invariant 1: a child writes (inline and blob objects, with
 * real fsyncs) and reports each acknowledged put down a pipe; it is killed
 * mid-stream. After reopening, every acknowledged put is there with its
 * bytes, and fsck finds no missing blob (the open swept any orphan). */
static void test_kill9_keeps_every_acknowledged_write(void)
{
    char *dir = tmp_dir();
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        store_t *st = NULL;
        store_opts_t o = {0};
        if (store_open(dir, &o, &st) != STORE_OK)
            _exit(1);
        store_bucket_t b = {.name = "k"};
        store_bucket_create(st, &b);
        arena_t *a = arena_new(0);
        static char body[BIG_BYTES];
        char key[16];
        for (int i = 0;; i++) {
            snprintf(key, sizeof key, "k%05d", i);
            fill(body, sizeof body, (unsigned)i);
            size_t n = i % 2 ? sizeof body : 100;
            if (put_bytes(st, a, "k", key, strlen(key), body, n, NULL) != STORE_OK)
                _exit(1);
            if (write(fds[1], &i, sizeof i) != sizeof i)
                _exit(1);
        }
    }
    close(fds[1]);
    int acked = -1, v;
    while (acked < 40 && read(fds[0], &v, sizeof v) == sizeof v)
        acked = v;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (read(fds[0], &v, sizeof v) == sizeof v)
        acked = v;
    close(fds[0]);
    CHECK(acked >= 40, "child wrote (%d)", acked);

    store_t *st = open_store(dir, true);
    arena_t *a = arena_new(0);
    static char body[BIG_BYTES];
    int lost = 0;
    for (int i = 0; i <= acked; i++) {
        char key[16];
        store_object_t g;
        snprintf(key, sizeof key, "k%05d", i);
        fill(body, sizeof body, (unsigned)i);
        char *got = NULL;
        if (store_object_get(st, a, "k", key, strlen(key), NULL, &g) == STORE_OK)
            got = read_object(st, a, &g);
        if (!got || g.size != (i % 2 ? sizeof body : 100) || memcmp(got, body, g.size))
            lost++;
    }
    CHECK_EQ_INT(lost, 0, "acknowledged puts survive kill -9");
    store_fsck_t fk;
    CHECK_EQ_INT(store_fsck(st, false, &fk), STORE_OK, "fsck");
    CHECK(fk.missing == 0 && fk.orphans == 0 && fk.bad_refcounts == 0, "consistent after crash");
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

typedef struct {
    int n;
    char names[8][16];
} sys_seen_t;

static bool sys_cb(void *arg, const char *name, const char *doc, size_t len)
{
    (void)doc, (void)len;
    sys_seen_t *s = arg;
    if (s->n < 8)
        snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    s->n++;
    return true;
}

static void test_sys_records_create_list_delete(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    CHECK_EQ_INT(store_sys_create(st, "users", "bob", "{\"b\":1}", 7), STORE_OK, "create");
    CHECK_EQ_INT(store_sys_create(st, "users", "bob", "{}", 2), STORE_EXISTS, "create twice");
    CHECK_EQ_INT(store_sys_put(st, "users", "alice", "{}", 2), STORE_OK, "put");
    CHECK_EQ_INT(store_sys_put(st, "other", "carol", "{}", 2), STORE_OK, "other namespace");
    char *doc = NULL;
    size_t len = 0;
    CHECK_EQ_INT(store_sys_get(st, a, "users", "bob", &doc, &len), STORE_OK, "get");
    CHECK_EQ_STR(doc, "{\"b\":1}", "doc round-trips");
    sys_seen_t seen = {0};
    CHECK_EQ_INT(store_sys_list(st, a, "users", sys_cb, &seen), STORE_OK, "list");
    CHECK(seen.n == 2 && strcmp(seen.names[0], "alice") == 0 && strcmp(seen.names[1], "bob") == 0,
          "only this namespace, in name order (%d)", seen.n);
    CHECK_EQ_INT(store_sys_put(st, "users", "bob", NULL, 0), STORE_OK, "delete");
    CHECK_EQ_INT(store_sys_get(st, a, "users", "bob", &doc, &len), STORE_NOT_FOUND, "gone");
    CHECK_EQ_INT(store_sys_put(st, "users", "", "{}", 2), STORE_INVALID, "empty name");
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

/* DESIGN invariant 2: exactly one journal row per committed mutation of a
 * journaling bucket, none for failed ones, sequence numbers strictly
 * increasing per bucket. */
static void test_journal_rows_match_committed_mutations(void)
{
    char *dir = tmp_dir();
    store_t *st = open_store(dir, false);
    arena_t *a = arena_new(0);
    make_bucket(st, "j", STORE_VERSIONING_ENABLED, false);
    make_bucket(st, "quiet", STORE_VERSIONING_OFF, false);
    store_object_t o;
    store_delete_result_t dr;
    store_put_t in = {.bucket = "quiet"};
    in.obj = (store_object_t){.key = "before", .key_len = 6, .etag = "e0"};
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "put before enabling");
    CHECK_EQ_INT(store_journal_enable(st, "j", true), STORE_OK, "enable");
    CHECK(store_journal_enabled(st, "j") && !store_journal_enabled(st, "quiet"), "flags");
    CHECK_EQ_INT(store_journal_enable(st, "nope", true), STORE_NO_BUCKET, "no bucket");

    store_reqctx_t ctx = {.requester = "111122223333", .source_ip = "127.0.0.1",
                          .request_id = "rid-1"};
    store_reqctx_set(&ctx);
    in.bucket = "j";
    in.obj = (store_object_t){.key = "k", .key_len = 1, .etag = "e1", .size = 0};
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "put 1");
    in.if_none_match = true; /* fails: no row */
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_PRECONDITION, "failed put");
    in.if_none_match = false;
    store_kv_t tag = {"t", "v"};
    store_object_t f = {.tags = &tag, .ntags = 1};
    CHECK_EQ_INT(store_object_update(st, a, "j", "k", 1, NULL, STORE_UPD_TAGS, &f, &o), STORE_OK,
                 "tag");
    store_reqctx_set(NULL); /* as lifecycle: the service itself */
    CHECK_EQ_INT(store_object_delete(st, a, "j", "k", 1, NULL, false, 0, &dr), STORE_OK, "marker");
    CHECK_EQ_INT(store_object_delete(st, a, "j", "k", 1, dr.version_id, false, 0, &dr), STORE_OK,
                 "remove the marker");
    in.obj.key = "other";
    in.obj.key_len = 5;
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "put other");

    store_jrow_t *rows = NULL;
    size_t n = 0;
    CHECK_EQ_INT(store_journal_read(st, a, "j", 0, 100, &rows, &n), STORE_OK, "read");
    CHECK_EQ_INT(n, 5, "one row per committed mutation");
    static const store_jrec_type_t want[] = {STORE_JREC_CREATE, STORE_JREC_UPDATE_METADATA,
                                             STORE_JREC_DELETE, STORE_JREC_DELETE,
                                             STORE_JREC_CREATE};
    for (size_t i = 0; i < n && i < 5; i++) {
        CHECK_EQ_INT(rows[i].type, want[i], "row %zu type", i);
        CHECK(rows[i].seq == i + 1, "row %zu seq %llu", i, (unsigned long long)rows[i].seq);
    }
    if (n == 5) {
        CHECK_EQ_STR(rows[0].requester, "111122223333", "requester");
        CHECK_EQ_STR(rows[0].request_id, "rid-1", "request id");
        CHECK(rows[1].obj.ntags == 1, "tags in the update row");
        CHECK(rows[2].delete_marker && !rows[2].permanent, "marker row");
        CHECK(rows[3].permanent, "permanent delete row");
        CHECK_EQ_STR(rows[2].requester, "s3.amazonaws.com", "service requester");
        CHECK(rows[2].source_ip == NULL, "no source ip for the service");
        CHECK_EQ_STR(rows[4].obj.key, "other", "key");
    }
    CHECK_EQ_INT(store_journal_read(st, a, "quiet", 0, 100, &rows, &n), STORE_OK, "read quiet");
    CHECK_EQ_INT(n, 0, "a bucket that does not journal has no rows");

    CHECK_EQ_INT(store_journal_trim(st, "j", 3), STORE_OK, "trim");
    CHECK_EQ_INT(store_journal_read(st, a, "j", 0, 100, &rows, &n), STORE_OK, "read after trim");
    CHECK(n == 2 && rows[0].seq == 4, "trimmed up to 3 (%zu left)", n);
    uint64_t last = 0;
    CHECK(store_journal_last_seq(st, "j", &last) == STORE_OK && last == 5, "last seq");
    CHECK_EQ_INT(store_journal_enable(st, "j", false), STORE_OK, "disable");
    CHECK_EQ_INT(store_object_put(st, a, &in, &o), STORE_OK, "put after disabling");
    CHECK(store_journal_last_seq(st, "j", &last) == STORE_OK && last == 5, "no new row");
    arena_free(a);
    store_close(st);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    RUN(test_sys_records_create_list_delete);
    RUN(test_journal_rows_match_committed_mutations);
    RUN(test_buckets_create_list_delete);
    RUN(test_put_get_inline_and_blob);
    RUN(test_replace_in_place_frees_old_blob);
    RUN(test_versioning_enabled);
    RUN(test_suspended_null_version);
    RUN(test_conditional_put);
    RUN(test_list_prefix_start_after_skip);
    RUN(test_version_list_markers);
    RUN(test_odd_keys_round_trip);
    RUN(test_long_key_group_spans_chunks);
    RUN(test_multipart);
    RUN(test_copy_shares_blob);
    RUN(test_object_lock_refuses_deletion);
    RUN(test_group_commit_batches_concurrent_puts);
    RUN(test_reopen_keeps_everything);
    RUN(test_open_removes_orphans_and_tmp);
    RUN(test_fsck_finds_orphan_and_missing);
    RUN(test_map_grows_by_itself);
    RUN(test_kill9_keeps_every_acknowledged_write);
    return check_report();
}
