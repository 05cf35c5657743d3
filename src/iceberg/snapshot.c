/* iceberg/snapshot.c: append, overwrite/delete of whole files, scan
 * planning (iceberg.md §4, §5, §7).
 *
 * A snapshot write is: manifest(s) for the change -> manifest list (new
 * manifests first, then those carried forward) -> add-snapshot +
 * set-snapshot-ref main through ice_commit_apply, so the same validation
 * guards kura's own commits and clients'. Files are written before the
 * caller swaps the metadata pointer; a lost swap leaves orphans for
 * maintenance, never a visible half-commit (DESIGN invariant 4). */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Reading what a snapshot references. */

static ice_rc_t read_file(ice_io_t *io, arena_t *a, const char *loc, size_t max, uint8_t **data,
                          size_t *len, ice_err_t *err)
{
    char *d;
    int rc = io->read(io->ctx, loc, max, a, &d, len);
    if (rc == ICE_ERR_NOT_FOUND)
        return ice_fail(err, ICE_ERR_NOT_FOUND, "missing file %.180s", loc);
    if (rc != ICE_OK)
        return ice_fail(err, (ice_rc_t)rc, "cannot read %.180s", loc);
    *data = (uint8_t *)d;
    return ICE_OK;
}

static ice_rc_t read_list(ice_io_t *io, arena_t *a, const ice_snapshot_t *s,
                          ice_manifest_file_t **out, size_t *n, ice_err_t *err)
{
    *out = NULL;
    *n = 0;
    if (!s)
        return ICE_OK;
    if (!s->manifest_list)
        return ice_fail(err, ICE_ERR_UNSUPPORTED, "v1 snapshot with inline manifests");
    uint8_t *d = NULL;
    size_t len = 0;
    ice_rc_t rc = read_file(io, a, s->manifest_list, ICE_AVRO_MAX_BYTES, &d, &len, err);
    return rc ? rc : ice_manifest_list_decode(a, d, len, out, n, err);
}

static ice_rc_t read_manifest(ice_io_t *io, arena_t *a, const ice_manifest_file_t *mf,
                              ice_manifest_entry_t **out, size_t *n, ice_err_t *err)
{
    uint8_t *d = NULL;
    size_t len = 0;
    ice_rc_t rc = read_file(io, a, mf->manifest_path, ICE_AVRO_MAX_BYTES, &d, &len, err);
    return rc ? rc : ice_manifest_decode(a, d, len, mf, out, n, err);
}

/* ---------------------------------------------------------------------- */
/* Partition summaries for the manifest list (§5.1 r508). */

static int cmp_value(const ice_value_t *x, const ice_value_t *y)
{
    if (x->bytes || y->bytes) {
        size_t n = x->len < y->len ? x->len : y->len;
        int c = n ? memcmp(x->bytes, y->bytes, n) : 0;
        return c ? c : (x->len > y->len) - (x->len < y->len);
    }
    if (x->kind == ICE_T_FLOAT || x->kind == ICE_T_DOUBLE)
        return (x->d > y->d) - (x->d < y->d);
    return (x->i > y->i) - (x->i < y->i);
}

static ice_rc_t summarize(arena_t *a, const ice_partition_spec_t *spec,
                          const ice_manifest_entry_t *e, size_t n, ice_field_summary_t **out)
{
    size_t nf = spec->n_fields;
    ice_field_summary_t *s = arena_alloc(a, (nf ? nf : 1) * sizeof *s);
    if (!s)
        return ICE_ERR_NOMEM;
    for (size_t k = 0; k < nf; k++) {
        const ice_value_t *lo = NULL, *hi = NULL;
        s[k].contains_nan = 0;
        for (size_t i = 0; i < n; i++) {
            if (e[i].status == ICE_STATUS_DELETED || k >= e[i].file.n_partition)
                continue;
            const ice_value_t *v = &e[i].file.partition[k];
            if (v->is_null) {
                s[k].contains_null = true;
                continue;
            }
            if (!lo || cmp_value(v, lo) < 0)
                lo = v;
            if (!hi || cmp_value(v, hi) > 0)
                hi = v;
        }
        uint8_t *b;
        size_t len;
        if (lo) {
            if (ice_value_to_binary(a, lo, &b, &len) != ICE_OK)
                return ICE_ERR_INVALID;
            s[k].lower = b;
            s[k].lower_len = len;
        }
        if (hi) {
            if (ice_value_to_binary(a, hi, &b, &len) != ICE_OK)
                return ICE_ERR_INVALID;
            s[k].upper = b;
            s[k].upper_len = len;
        }
    }
    *out = s;
    return ICE_OK;
}

/* Writes a manifest of entries and fills its manifest-list entry. */
static ice_rc_t write_manifest(ice_io_t *io, arena_t *a, const ice_metadata_t *m,
                               const ice_partition_spec_t *spec, bool deflate,
                               const ice_manifest_entry_t *e, size_t n, int64_t snap_id,
                               int64_t seq, ice_manifest_file_t *mf, ice_err_t *err)
{
    const ice_schema_t *schema = ice_metadata_schema(m, -1);
    uint8_t *bytes;
    size_t len;
    ice_rc_t rc = ice_manifest_encode(a, schema, spec, false, e, n, deflate, &bytes, &len);
    if (rc != ICE_OK)
        return ice_fail(err, rc, "cannot encode manifest (partition tuple vs spec %d?)",
                        (int)spec->spec_id);
    char uuid[37];
    ice_uuid_new(uuid);
    char *path = arena_printf(a, "%s/metadata/%s-m0.avro", m->location, uuid);
    if (!path)
        return ICE_ERR_NOMEM;
    int wr = io->write(io->ctx, path, bytes, len);
    if (wr != ICE_OK)
        return ice_fail(err, ICE_ERR_IO, "cannot write manifest %.180s", path);
    memset(mf, 0, sizeof *mf);
    mf->manifest_path = path;
    mf->manifest_length = (int64_t)len;
    mf->partition_spec_id = spec->spec_id;
    mf->content = ICE_CONTENT_DATA;
    mf->sequence_number = seq;
    mf->added_snapshot_id = snap_id;
    int64_t min_seq = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t rows = e[i].file.record_count;
        switch (e[i].status) {
        case ICE_STATUS_ADDED:
            mf->added_files_count++;
            mf->added_rows_count += rows;
            if (seq < min_seq)
                min_seq = seq;
            break;
        case ICE_STATUS_EXISTING:
            mf->existing_files_count++;
            mf->existing_rows_count += rows;
            if (e[i].sequence_number < min_seq)
                min_seq = e[i].sequence_number;
            break;
        case ICE_STATUS_DELETED:
            mf->deleted_files_count++;
            mf->deleted_rows_count += rows;
            break;
        }
    }
    mf->min_sequence_number = min_seq == INT64_MAX ? seq : min_seq;
    if ((rc = summarize(a, spec, e, n, (ice_field_summary_t **)(uintptr_t)&mf->partitions)))
        return rc;
    mf->n_partitions = spec->n_fields;
    return ICE_OK;
}

/* ---------------------------------------------------------------------- */
/* Summary (§4.1): totals derived from the parent's; a parent without a
 * total drops it for all descendants, as Java does. */

typedef struct {
    int64_t added_files, added_records, added_size;
    int64_t deleted_files, deleted_records, removed_size;
    int64_t changed_partitions;
} delta_t;

static void put_num(json_t *sum, const char *k, int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    json_object_set_new(sum, k, json_string(s));
}

static bool parent_total(const ice_snapshot_t *p, const char *k, int64_t *v)
{
    if (!p) {
        *v = 0;
        return true;
    }
    const char *s = ice_snapshot_summary(p, k);
    char *end;
    if (!s)
        return false;
    long long x = strtoll(s, &end, 10);
    if (*end || end == s)
        return false;
    *v = x;
    return true;
}

static json_t *summary(const char *op, const delta_t *d, const ice_snapshot_t *parent,
                       const ice_snapshot_opts_t *o)
{
    json_t *s = json_object();
    if (!s)
        return NULL;
    for (size_t i = 0; o && i < o->n_summary; i++)
        json_object_set_new(s, o->summary[i].key, json_string(o->summary[i].value));
    json_object_set_new(s, "operation", json_string(op));
    static const struct {
        const char *key;
        size_t off;
    } deltas[] = {
        {"added-data-files", offsetof(delta_t, added_files)},
        {"added-records", offsetof(delta_t, added_records)},
        {"added-files-size", offsetof(delta_t, added_size)},
        {"deleted-data-files", offsetof(delta_t, deleted_files)},
        {"deleted-records", offsetof(delta_t, deleted_records)},
        {"removed-files-size", offsetof(delta_t, removed_size)},
        {"changed-partition-count", offsetof(delta_t, changed_partitions)},
    };
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
        int64_t v;
        memcpy(&v, (const char *)d + deltas[i].off, sizeof v);
        if (v)
            put_num(s, deltas[i].key, v);
    }
    const struct {
        const char *key;
        int64_t delta;
    } totals[] = {
        {"total-data-files", d->added_files - d->deleted_files},
        {"total-records", d->added_records - d->deleted_records},
        {"total-files-size", d->added_size - d->removed_size},
        {"total-delete-files", 0},
        {"total-position-deletes", 0},
        {"total-equality-deletes", 0},
    };
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        int64_t base;
        if (parent_total(parent, totals[i].key, &base))
            put_num(s, totals[i].key, base + totals[i].delta);
    }
    return s;
}

/* Distinct partition tuples among files (for changed-partition-count). */
static int64_t distinct_partitions(const ice_data_file_t *const *f, size_t n)
{
    int64_t count = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            if (f[j]->n_partition != f[i]->n_partition)
                continue;
            bool eq = true;
            for (size_t k = 0; k < f[i]->n_partition && eq; k++) {
                const ice_value_t *x = &f[i]->partition[k], *y = &f[j]->partition[k];
                eq = x->is_null == y->is_null && (x->is_null || cmp_value(x, y) == 0);
            }
            seen = eq;
        }
        count += !seen;
    }
    return count;
}

/* ---------------------------------------------------------------------- */
/* The common tail: manifest list + commit. */

typedef struct {
    ice_manifest_file_t *v;
    size_t n, cap;
} mlist_t;

static ice_rc_t mlist_push(arena_t *a, mlist_t *l, const ice_manifest_file_t *m)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        ice_manifest_file_t *n = arena_alloc(a, cap * sizeof *n);
        if (!n)
            return ICE_ERR_NOMEM;
        if (l->n)
            memcpy(n, l->v, l->n * sizeof *n);
        l->v = n;
        l->cap = cap;
    }
    l->v[l->n++] = *m;
    return ICE_OK;
}

static ice_rc_t commit_snapshot(ice_io_t *io, arena_t *a, const ice_metadata_t *base,
                                const mlist_t *ml, int64_t snap_id, int64_t seq, const char *op,
                                const delta_t *d, const ice_snapshot_opts_t *o,
                                ice_metadata_t **out, ice_err_t *err)
{
    int64_t parent = base->current_snapshot_id;
    int64_t now = ice_now_ms(o ? o->now_ms : 0);
    /* Java refuses logs that go backwards: a snapshot is never older than
     * the table's last update. */
    if (now < base->last_updated_ms)
        now = base->last_updated_ms;
    uint8_t *bytes;
    size_t len;
    ice_rc_t rc = ice_manifest_list_encode(a, snap_id, parent, seq, ml->v, ml->n,
                                           o && o->deflate, &bytes, &len);
    if (rc != ICE_OK)
        return ice_fail(err, rc, "cannot encode manifest list");
    char uuid[37];
    ice_uuid_new(uuid);
    char *path = arena_printf(a, "%s/metadata/snap-%lld-1-%s.avro", base->location,
                              (long long)snap_id, uuid);
    if (!path)
        return ICE_ERR_NOMEM;
    if (io->write(io->ctx, path, bytes, len) != ICE_OK)
        return ice_fail(err, ICE_ERR_IO, "cannot write manifest list %.180s", path);

    json_t *snap = json_pack("{s:I,s:I,s:I,s:s,s:o,s:i}", "snapshot-id", (json_int_t)snap_id,
                             "sequence-number", (json_int_t)seq, "timestamp-ms", (json_int_t)now,
                             "manifest-list", path, "summary",
                             summary(op, d, ice_metadata_snapshot(base, -1), o), "schema-id",
                             (int)base->current_schema_id);
    if (snap && parent != -1)
        json_object_set_new(snap, "parent-snapshot-id", json_integer(parent));
    json_t *ups = json_pack("[{s:s,s:o},{s:s,s:s,s:s,s:I}]", "action", "add-snapshot",
                            "snapshot", snap, "action", "set-snapshot-ref", "ref-name", "main",
                            "type", "branch", "snapshot-id", (json_int_t)snap_id);
    json_t *reqs = json_pack("[{s:s,s:s,s:o}]", "type", "assert-ref-snapshot-id", "ref", "main",
                             "snapshot-id", parent == -1 ? json_null() : json_integer(parent));
    char *us = ups ? json_dumps(ups, JSON_COMPACT) : NULL;
    char *rs = reqs ? json_dumps(reqs, JSON_COMPACT) : NULL;
    json_decref(ups);
    json_decref(reqs);
    ice_commit_opts_t co = {.now_ms = now, .base_location = o ? o->base_location : NULL};
    rc = (us && rs) ? ice_commit_apply(a, base, rs, us, &co, out, NULL, err) : ICE_ERR_NOMEM;
    free(us);
    free(rs);
    return rc;
}

static ice_rc_t check_files(const ice_metadata_t *m, const ice_data_file_t *f, size_t n,
                            ice_err_t *err)
{
    const ice_partition_spec_t *spec = ice_metadata_spec(m, -1);
    for (size_t i = 0; i < n; i++) {
        if (!f[i].file_path || f[i].content != ICE_CONTENT_DATA || f[i].record_count < 0 ||
            f[i].file_size_in_bytes < 0)
            return ice_fail(err, ICE_ERR_INVALID, "data file %zu: path, content or counts", i);
        if (f[i].n_partition != spec->n_fields)
            return ice_fail(err, ICE_ERR_INVALID,
                            "data file %zu: %zu partition values for a %zu-field spec", i,
                            f[i].n_partition, spec->n_fields);
    }
    return ICE_OK;
}

/* New manifest of ADDED entries for files; appended to ml. */
static ice_rc_t add_files_manifest(ice_io_t *io, arena_t *a, const ice_metadata_t *base,
                                   const ice_data_file_t *files, size_t n, int64_t snap_id,
                                   int64_t seq, bool deflate, mlist_t *ml, delta_t *d,
                                   ice_err_t *err)
{
    if (n == 0)
        return ICE_OK;
    ice_manifest_entry_t *e = arena_alloc(a, n * sizeof *e);
    const ice_data_file_t **fp = arena_alloc(a, n * sizeof *fp);
    if (!e || !fp)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        /* Data and file sequence numbers stay null: they inherit the
         * list's, which a retry rewrites (§4.2). */
        e[i] = (ice_manifest_entry_t){ICE_STATUS_ADDED, snap_id, -1, -1, files[i]};
        fp[i] = &files[i];
        d->added_files++;
        d->added_records += files[i].record_count;
        d->added_size += files[i].file_size_in_bytes;
    }
    d->changed_partitions += distinct_partitions(fp, n);
    ice_manifest_file_t mf;
    ice_rc_t rc = write_manifest(io, a, base, ice_metadata_spec(base, -1), deflate, e, n, snap_id,
                                 seq, &mf, err);
    return rc ? rc : mlist_push(a, ml, &mf);
}

/* A manifest whose entries were all removed by an earlier snapshot: that
 * snapshot's list recorded the removals, later lists need not carry it
 * (Java drops these too). Without this every compaction would leave a dead
 * manifest behind for good. Counts absent (v1: all zero) keep it. */
static bool manifest_dead(const ice_manifest_file_t *m)
{
    return m->deleted_files_count > 0 && m->added_files_count == 0 &&
           m->existing_files_count == 0;
}

ice_rc_t ice_append(ice_io_t *io, arena_t *a, const ice_metadata_t *base,
                    const ice_data_file_t *files, size_t n, const ice_snapshot_opts_t *opts,
                    ice_metadata_t **out, ice_err_t *err)
{
    ice_rc_t rc = check_files(base, files, n, err);
    if (rc != ICE_OK)
        return rc;
    if (base->format_version > 2)
        return ice_fail(err, ICE_ERR_UNSUPPORTED, "v3 tables are read-only in kura");
    int64_t snap_id = opts && opts->snapshot_id > 0 ? opts->snapshot_id : ice_snapshot_id_new();
    int64_t seq = base->last_sequence_number + 1;
    ice_manifest_file_t *old;
    size_t n_old;
    if ((rc = read_list(io, a, ice_metadata_snapshot(base, -1), &old, &n_old, err)) != ICE_OK)
        return rc;
    mlist_t ml = {0};
    delta_t d = {0};
    if ((rc = add_files_manifest(io, a, base, files, n, snap_id, seq, opts && opts->deflate, &ml,
                                 &d, err)) != ICE_OK)
        return rc;
    for (size_t i = 0; i < n_old; i++)
        if (!manifest_dead(&old[i]) && (rc = mlist_push(a, &ml, &old[i])) != ICE_OK)
            return rc;
    return commit_snapshot(io, a, base, &ml, snap_id, seq, "append", &d, opts, out, err);
}

static bool in_set(const char *const *paths, size_t n, const char *p, bool *hit)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(paths[i], p) == 0) {
            hit[i] = true;
            return true;
        }
    return false;
}

/* The rewritten entries of the manifests an overwrite touches, one group
 * per partition spec: they become one manifest per spec, so removing many
 * files from many small manifests (compaction) also merges those. */
typedef struct {
    int32_t spec_id;
    ice_manifest_entry_t *v;
    size_t n, cap;
} egroup_t;

static ice_rc_t egroup_push(arena_t *a, egroup_t **groups, size_t *ng, int32_t spec_id,
                            const ice_manifest_entry_t *e)
{
    egroup_t *g = NULL;
    for (size_t i = 0; i < *ng && !g; i++)
        if ((*groups)[i].spec_id == spec_id)
            g = &(*groups)[i];
    if (!g) {
        egroup_t *ng2 = arena_alloc(a, (*ng + 1) * sizeof *ng2);
        if (!ng2)
            return ICE_ERR_NOMEM;
        if (*ng)
            memcpy(ng2, *groups, *ng * sizeof *ng2);
        *groups = ng2;
        g = &ng2[(*ng)++];
        *g = (egroup_t){.spec_id = spec_id};
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        ice_manifest_entry_t *v = arena_alloc(a, cap * sizeof *v);
        if (!v)
            return ICE_ERR_NOMEM;
        if (g->n)
            memcpy(v, g->v, g->n * sizeof *v);
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = *e;
    return ICE_OK;
}

ice_rc_t ice_overwrite(ice_io_t *io, arena_t *a, const ice_metadata_t *base,
                       const ice_data_file_t *add, size_t n_add, const char *const *remove_paths,
                       size_t n_remove, const ice_snapshot_opts_t *opts, ice_metadata_t **out,
                       ice_err_t *err)
{
    ice_rc_t rc = check_files(base, add, n_add, err);
    if (rc != ICE_OK)
        return rc;
    if (base->format_version > 2)
        return ice_fail(err, ICE_ERR_UNSUPPORTED, "v3 tables are read-only in kura");
    const char *op = opts && opts->operation ? opts->operation : n_add ? "overwrite" : "delete";
    if (strcmp(op, "overwrite") != 0 && strcmp(op, "delete") != 0 && strcmp(op, "replace") != 0)
        return ice_fail(err, ICE_ERR_INVALID, "operation %.40s is not an overwrite", op);
    int64_t snap_id = opts && opts->snapshot_id > 0 ? opts->snapshot_id : ice_snapshot_id_new();
    int64_t seq = base->last_sequence_number + 1;
    bool deflate = opts && opts->deflate;
    ice_manifest_file_t *old;
    size_t n_old;
    if ((rc = read_list(io, a, ice_metadata_snapshot(base, -1), &old, &n_old, err)) != ICE_OK)
        return rc;
    bool *hit = arena_alloc(a, (n_remove ? n_remove : 1) * sizeof *hit);
    if (!hit)
        return ICE_ERR_NOMEM;
    memset(hit, 0, (n_remove ? n_remove : 1) * sizeof *hit);
    mlist_t ml = {0}, kept = {0};
    delta_t d = {0};
    egroup_t *groups = NULL;
    size_t ngroups = 0;
    if ((rc = add_files_manifest(io, a, base, add, n_add, snap_id, seq, deflate, &ml, &d, err)))
        return rc;
    for (size_t i = 0; i < n_old; i++) {
        if (old[i].content != ICE_CONTENT_DATA) {
            if ((rc = mlist_push(a, &kept, &old[i])))
                return rc;
            continue;
        }
        ice_manifest_entry_t *e;
        size_t n;
        if ((rc = read_manifest(io, a, &old[i], &e, &n, err)) != ICE_OK)
            return rc;
        bool touched = false;
        for (size_t k = 0; k < n; k++)
            if (e[k].status != ICE_STATUS_DELETED &&
                in_set(remove_paths, n_remove, e[k].file.file_path, hit))
                touched = true;
        if (!touched) {
            if (!manifest_dead(&old[i]) && (rc = mlist_push(a, &kept, &old[i])))
                return rc;
            continue;
        }
        if (!ice_metadata_spec(base, old[i].partition_spec_id))
            return ice_fail(err, ICE_ERR_CORRUPT, "manifest names unknown spec %d",
                            (int)old[i].partition_spec_id);
        /* Rewrite: live entries stay EXISTING with explicit ids and
         * sequence numbers; removed ones become DELETED by this snapshot;
         * older DELETED entries are dropped (§5.2). */
        for (size_t k = 0; k < n; k++) {
            if (e[k].status == ICE_STATUS_DELETED)
                continue;
            ice_manifest_entry_t ne = e[k];
            bool gone = false;
            for (size_t r = 0; r < n_remove && !gone; r++)
                gone = strcmp(remove_paths[r], e[k].file.file_path) == 0;
            if (gone) {
                ne.status = ICE_STATUS_DELETED;
                ne.snapshot_id = snap_id;
                d.deleted_files++;
                d.deleted_records += e[k].file.record_count;
                d.removed_size += e[k].file.file_size_in_bytes;
            } else {
                ne.status = ICE_STATUS_EXISTING;
            }
            if ((rc = egroup_push(a, &groups, &ngroups, old[i].partition_spec_id, &ne)))
                return rc;
        }
    }
    for (size_t r = 0; r < n_remove; r++)
        if (!hit[r])
            return ice_fail(err, ICE_ERR_CONFLICT, "file to remove is not live: %.180s",
                            remove_paths[r]);
    for (size_t g = 0; g < ngroups; g++) {
        ice_manifest_file_t mf;
        if ((rc = write_manifest(io, a, base, ice_metadata_spec(base, groups[g].spec_id), deflate,
                                 groups[g].v, groups[g].n, snap_id, seq, &mf, err)) ||
            (rc = mlist_push(a, &ml, &mf)))
            return rc;
    }
    for (size_t i = 0; i < kept.n; i++)
        if ((rc = mlist_push(a, &ml, &kept.v[i])))
            return rc;
    return commit_snapshot(io, a, base, &ml, snap_id, seq, op, &d, opts, out, err);
}

/* ---------------------------------------------------------------------- */

ice_rc_t ice_scan_files(ice_io_t *io, arena_t *a, const ice_metadata_t *m, int64_t snapshot_id,
                        ice_scan_t *out, ice_err_t *err)
{
    memset(out, 0, sizeof *out);
    out->snapshot_id = -1;
    out->schema_id = m->current_schema_id;
    if (snapshot_id == -1 && m->current_snapshot_id == -1)
        return ICE_OK;
    const ice_snapshot_t *s = ice_metadata_snapshot(m, snapshot_id);
    if (!s)
        return ice_fail(err, ICE_ERR_NOT_FOUND, "snapshot %lld not found", (long long)snapshot_id);
    out->snapshot_id = s->snapshot_id;
    if (s->schema_id >= 0)
        out->schema_id = s->schema_id;
    ice_manifest_file_t *mfs;
    size_t n_mf;
    ice_rc_t rc = read_list(io, a, s, &mfs, &n_mf, err);
    if (rc != ICE_OK)
        return rc;
    size_t cap_d = 0, cap_x = 0, nd = 0, nx = 0;
    ice_scan_file_t *data = NULL, *dels = NULL;
    for (size_t i = 0; i < n_mf; i++) {
        ice_manifest_entry_t *e;
        size_t n;
        if ((rc = read_manifest(io, a, &mfs[i], &e, &n, err)) != ICE_OK)
            return rc;
        for (size_t k = 0; k < n; k++) {
            if (e[k].status == ICE_STATUS_DELETED)
                continue;
            const ice_data_file_t *f = &e[k].file;
            bool del = f->content != ICE_CONTENT_DATA;
            ice_scan_file_t **arr = del ? &dels : &data;
            size_t *cnt = del ? &nx : &nd, *cap = del ? &cap_x : &cap_d;
            if (*cnt == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                ice_scan_file_t *na = arena_alloc(a, nc * sizeof *na);
                if (!na)
                    return ICE_ERR_NOMEM;
                if (*cnt)
                    memcpy(na, *arr, *cnt * sizeof *na);
                *arr = na;
                *cap = nc;
            }
            (*arr)[(*cnt)++] = (ice_scan_file_t){
                f->file_path, f->content, f->record_count, f->file_size_in_bytes,
                e[k].sequence_number, mfs[i].partition_spec_id, f->partition, f->n_partition,
                f->referenced_data_file};
            if (!del)
                out->total_records += f->record_count;
        }
    }
    out->data = data;
    out->n_data = nd;
    out->deletes = dels;
    out->n_deletes = nx;
    return ICE_OK;
}
