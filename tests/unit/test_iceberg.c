/* tests/unit/test_iceberg.c: metadata JSON, commits, Avro manifests,
 * Parquet through DuckDB, snapshots, scan planning, transforms.
 * Everything is written under a mkdtemp directory in /tmp that is removed
 * at the end. With KURA_ICE_CORPUS=<dir> set, the Avro and metadata files
 * the writer produced are also copied there (fuzz seed corpus). */
#include "check.h"
#include "iceberg/iceberg.h"
#include "util/arena.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0_MS ((int64_t)1767225600000) /* 2026-01-01T00:00:00Z */

static char tmp_root[64];

static const char schema_json[] =
    "{\"type\":\"struct\",\"schema-id\":7,\"fields\":["
    "{\"id\":101,\"name\":\"a_int\",\"required\":true,\"type\":\"int\"},"
    "{\"id\":102,\"name\":\"a_long\",\"required\":false,\"type\":\"long\"},"
    "{\"id\":103,\"name\":\"a_str\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":104,\"name\":\"ts\",\"required\":false,\"type\":\"timestamp\"},"
    "{\"id\":105,\"name\":\"s\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"id\":106,\"name\":\"x\",\"required\":false,\"type\":\"int\"},"
    "{\"id\":107,\"name\":\"y\",\"required\":false,\"type\":\"string\"}]}},"
    "{\"id\":108,\"name\":\"l\",\"required\":false,\"type\":{\"type\":\"list\","
    "\"element-id\":109,\"element\":\"int\",\"element-required\":false}}]}";

static void save_seed(const char *sub, const char *name, const void *data, size_t len)
{
    const char *dir = getenv("KURA_ICE_CORPUS");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static ice_metadata_t *new_table(arena_t *a, const char *spec)
{
    ice_metadata_t *m = NULL;
    ice_err_t err = {{0}};
    ice_rc_t rc = ice_metadata_new(a, schema_json, spec, NULL, "s3://wh/db/t1/", NULL, T0_MS, &m,
                                   &err);
    CHECK_EQ_INT(rc, ICE_OK, "create: %s", err.msg);
    return m;
}

static void test_create_assigns_fresh_ids_in_java_order(void)
{
    arena_t *a = arena_new(0);
    ice_metadata_t *m = new_table(a, NULL);
    if (!m) {
        arena_free(a);
        return;
    }
    const ice_schema_t *s = ice_metadata_schema(m, -1);
    static const struct {
        int32_t id;
        const char *name;
    } want[] = {{1, "a_int"}, {2, "a_long"}, {3, "a_str"}, {4, "ts"}, {5, "s"},
                {6, "l"},     {7, "x"},      {8, "y"}};
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const ice_field_t *f = ice_schema_find(s, want[i].id);
        CHECK(f && strcmp(f->name, want[i].name) == 0, "id %d is %s", (int)want[i].id,
              want[i].name);
    }
    const ice_field_t *l = ice_schema_find(s, 6);
    CHECK(l && l->type->kind == ICE_T_LIST && l->type->element.id == 9, "list element id 9");
    CHECK_EQ_INT(m->last_column_id, 9, "last-column-id");
    CHECK_EQ_INT(m->last_partition_id, 999, "unpartitioned last-partition-id");
    CHECK_EQ_INT(m->format_version, 2, "v2 by default");
    CHECK_EQ_INT(m->current_snapshot_id, -1, "empty table");
    CHECK_EQ_STR(m->location, "s3://wh/db/t1", "trailing slash dropped");
    CHECK(m->table_uuid && strlen(m->table_uuid) == 36, "uuid");
    CHECK(strstr(m->json, "\"current-snapshot-id\":-1") != NULL, "Java's -1 for empty v2");
    CHECK(strstr(m->json, "\"refs\":{}") && strstr(m->json, "\"snapshot-log\":[]"),
          "lists always written");
    /* Serialization is a fixed point: parse(json) gives the same bytes. */
    ice_metadata_t *m2 = NULL;
    CHECK_EQ_INT(ice_metadata_parse(a, m->json, m->json_len, &m2, NULL), ICE_OK, "reparse");
    CHECK(m2 && m2->json_len == m->json_len && memcmp(m2->json, m->json, m->json_len) == 0,
          "deterministic JSON");
    save_seed("fuzz_iceberg_metadata", "created.json", m->json, m->json_len);

    /* Partitioned create: source ids are remapped, field ids from 1000. */
    ice_metadata_t *p = new_table(a, "{\"fields\":[{\"source-id\":104,\"name\":\"ts_day\","
                                     "\"transform\":\"day\"},{\"source-id\":101,\"name\":"
                                     "\"a_bucket\",\"transform\":\"bucket[16]\"}]}");
    const ice_partition_spec_t *spec = p ? ice_metadata_spec(p, -1) : NULL;
    CHECK(spec && spec->n_fields == 2 && spec->fields[0].source_id == 4 &&
              spec->fields[0].field_id == 1000 && spec->fields[1].source_id == 1 &&
              spec->fields[1].transform.kind == ICE_TR_BUCKET && spec->fields[1].transform.param == 16,
          "spec remapped");
    CHECK(p && p->last_partition_id == 1001, "last-partition-id");
    ice_metadata_t *bad = NULL;
    CHECK_EQ_INT(ice_metadata_new(a, schema_json, "{\"fields\":[{\"source-id\":999,\"name\":\"x\","
                                                  "\"transform\":\"day\"}]}",
                                  NULL, "s3://wh/t", NULL, T0_MS, &bad, NULL),
                 ICE_ERR_INVALID, "unknown source column");
    CHECK_EQ_INT(ice_metadata_new(a, schema_json, NULL, NULL, "relative/path", NULL, T0_MS, &bad,
                                  NULL),
                 ICE_ERR_INVALID, "location must be a URI");
    arena_free(a);
}

static void test_every_requirement_fails_with_conflict_when_stale(void)
{
    arena_t *a = arena_new(0);
    ice_metadata_t *m = new_table(a, NULL);
    if (!m) {
        arena_free(a);
        return;
    }
    char good_uuid[128], bad_uuid[128];
    snprintf(good_uuid, sizeof good_uuid, "[{\"type\":\"assert-table-uuid\",\"uuid\":\"%s\"}]",
             m->table_uuid);
    snprintf(bad_uuid, sizeof bad_uuid,
             "[{\"type\":\"assert-table-uuid\",\"uuid\":\"00000000-0000-4000-8000-000000000000\"}]");
    static const char set_prop[] =
        "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"v\"}}]";
    const struct {
        const char *reqs;
        ice_rc_t rc;
    } cases[] = {
        {good_uuid, ICE_OK},
        {bad_uuid, ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-create\"}]", ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":null}]", ICE_OK},
        {"[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":5}]",
         ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-last-assigned-field-id\",\"last-assigned-field-id\":9}]", ICE_OK},
        {"[{\"type\":\"assert-last-assigned-field-id\",\"last-assigned-field-id\":8}]",
         ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0}]", ICE_OK},
        {"[{\"type\":\"assert-current-schema-id\",\"current-schema-id\":1}]", ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-last-assigned-partition-id\",\"last-assigned-partition-id\":999}]",
         ICE_OK},
        {"[{\"type\":\"assert-last-assigned-partition-id\",\"last-assigned-partition-id\":1000}]",
         ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-default-spec-id\",\"default-spec-id\":0}]", ICE_OK},
        {"[{\"type\":\"assert-default-spec-id\",\"default-spec-id\":3}]", ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-default-sort-order-id\",\"default-sort-order-id\":0}]", ICE_OK},
        {"[{\"type\":\"assert-default-sort-order-id\",\"default-sort-order-id\":1}]",
         ICE_ERR_CONFLICT},
        {"[{\"type\":\"assert-something-new\"}]", ICE_ERR_INVALID},
        {"[{\"type\":\"assert-current-schema-id\"}]", ICE_ERR_INVALID},
        {"{\"not\":\"an array\"}", ICE_ERR_INVALID},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ice_metadata_t *out = NULL;
        ice_err_t err = {{0}};
        ice_commit_opts_t o = {.now_ms = T0_MS + 1000};
        ice_rc_t rc = ice_commit_apply(a, m, cases[i].reqs, set_prop, &o, &out, NULL, &err);
        CHECK_EQ_INT(rc, cases[i].rc, "case %zu: %s (%s)", i, cases[i].reqs, err.msg);
        if (rc != ICE_OK)
            CHECK(out == NULL, "case %zu: nothing produced", i);
        else
            CHECK(out && strcmp(ice_metadata_property(out, "k"), "v") == 0, "case %zu applied", i);
    }
    /* Malformed updates are 400s, never conflicts. */
    static const char *const bad_updates[] = {
        "[{\"action\":\"no-such-action\"}]",
        "[{\"action\":\"set-current-schema\",\"schema-id\":42}]",
        "[{\"action\":\"set-current-schema\",\"schema-id\":-1}]",
        "[{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":\"branch\","
        "\"snapshot-id\":77}]",
        "[{\"action\":\"set-properties\",\"updates\":{\"k\":1}}]",
        "[{\"action\":\"upgrade-format-version\",\"format-version\":1}]",
        "[{\"action\":\"assign-uuid\",\"uuid\":\"00000000-0000-4000-8000-000000000000\"}]",
        "[{\"action\":\"remove-schemas\",\"schema-ids\":[0]}]",
        "[{\"action\":\"add-spec\",\"spec\":{\"fields\":[{\"source-id\":3,\"name\":\"h\","
        "\"transform\":\"hour\"}]}}]", /* hour of a string */
        "[{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":1}}]",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad_updates); i++) {
        ice_metadata_t *out = NULL;
        ice_rc_t rc = ice_commit_apply(a, m, NULL, bad_updates[i], NULL, &out, NULL, NULL);
        CHECK_EQ_INT(rc, ICE_ERR_INVALID, "bad update %zu: %s", i, bad_updates[i]);
    }
    /* No-op commit reports unchanged. */
    bool changed = true;
    ice_metadata_t *same = NULL;
    CHECK_EQ_INT(ice_commit_apply(a, m, NULL, "[]", NULL, &same, &changed, NULL), ICE_OK, "noop");
    CHECK(!changed && same && same->json_len == m->json_len, "unchanged");
    /* v3 upgrade is refused as unsupported, not malformed. */
    CHECK_EQ_INT(ice_commit_apply(a, m, NULL,
                                  "[{\"action\":\"upgrade-format-version\",\"format-version\":3}]",
                                  NULL, &same, NULL, NULL),
                 ICE_ERR_UNSUPPORTED, "v3");
    arena_free(a);
}

static void test_schema_evolution_add_rename_drop(void)
{
    arena_t *a = arena_new(0);
    ice_metadata_t *m = new_table(a, NULL), *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;
    if (!m) {
        arena_free(a);
        return;
    }
    ice_err_t err = {{0}};
    /* add column "extra" (id 10) */
    static const char add[] =
        "[{\"action\":\"add-schema\",\"last-column-id\":10,\"schema\":{\"type\":\"struct\","
        "\"schema-id\":1,\"fields\":[{\"id\":1,\"name\":\"a_int\",\"required\":true,\"type\":"
        "\"int\"},{\"id\":3,\"name\":\"a_str\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":10,\"name\":\"extra\",\"required\":false,\"type\":\"double\"}]}},"
        "{\"action\":\"set-current-schema\",\"schema-id\":-1}]";
    static const char reqs[] =
        "[{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0},"
        "{\"type\":\"assert-last-assigned-field-id\",\"last-assigned-field-id\":9}]";
    CHECK_EQ_INT(ice_commit_apply(a, m, reqs, add, NULL, &m1, NULL, &err), ICE_OK, "add: %s",
                 err.msg);
    CHECK(m1 && m1->current_schema_id == 1 && m1->last_column_id == 10 && m1->n_schemas == 2,
          "new schema 1, last-column-id 10");
    /* rename extra -> renamed (id kept) */
    static const char rename[] =
        "[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,"
        "\"name\":\"a_int\",\"required\":true,\"type\":\"int\"},{\"id\":3,\"name\":\"a_str\","
        "\"required\":false,\"type\":\"string\"},{\"id\":10,\"name\":\"renamed\",\"required\":"
        "false,\"type\":\"double\"}]}},{\"action\":\"set-current-schema\",\"schema-id\":-1}]";
    if (m1)
        CHECK_EQ_INT(ice_commit_apply(a, m1, NULL, rename, NULL, &m2, NULL, &err), ICE_OK,
                     "rename: %s", err.msg);
    const ice_field_t *f = m2 ? ice_schema_find(ice_metadata_schema(m2, -1), 10) : NULL;
    CHECK(m2 && m2->current_schema_id == 2 && f && strcmp(f->name, "renamed") == 0,
          "rename keeps id 10 in schema 2");
    /* drop a_str */
    static const char drop[] =
        "[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,"
        "\"name\":\"a_int\",\"required\":true,\"type\":\"int\"},{\"id\":10,\"name\":\"renamed\","
        "\"required\":false,\"type\":\"double\"}]}},{\"action\":\"set-current-schema\","
        "\"schema-id\":-1}]";
    if (m2)
        CHECK_EQ_INT(ice_commit_apply(a, m2, NULL, drop, NULL, &m3, NULL, &err), ICE_OK,
                     "drop: %s", err.msg);
    CHECK(m3 && m3->current_schema_id == 3 && m3->last_column_id == 10 &&
              !ice_schema_find(ice_metadata_schema(m3, -1), 3),
          "drop: schema 3, ids never reused");
    /* Re-adding schema 1's exact fields reuses id 1. */
    static const char readd[] =
        "[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,"
        "\"name\":\"a_int\",\"required\":true,\"type\":\"int\"},{\"id\":3,\"name\":\"a_str\","
        "\"required\":false,\"type\":\"string\"},{\"id\":10,\"name\":\"extra\",\"required\":"
        "false,\"type\":\"double\"}]}},{\"action\":\"set-current-schema\",\"schema-id\":-1}]";
    if (m3)
        CHECK_EQ_INT(ice_commit_apply(a, m3, NULL, readd, NULL, &m4, NULL, &err), ICE_OK,
                     "readd: %s", err.msg);
    CHECK(m4 && m4->current_schema_id == 1 && m4->n_schemas == 4, "identical schema reused");
    arena_free(a);
}

static void test_create_transaction_builds_table_from_nothing(void)
{
    arena_t *a = arena_new(0);
    static const char ups[] =
        "[{\"action\":\"assign-uuid\",\"uuid\":\"8C1D2E3F-4A5B-4C6D-8E7F-90A1B2C3D4E5\"},"
        "{\"action\":\"upgrade-format-version\",\"format-version\":2},"
        "{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},{\"id\":2,\"name\":\"ts\","
        "\"required\":false,\"type\":\"timestamptz\"}]},\"last-column-id\":2},"
        "{\"action\":\"set-current-schema\",\"schema-id\":-1},"
        "{\"action\":\"add-spec\",\"spec\":{\"spec-id\":0,\"fields\":[{\"name\":\"ts_day\","
        "\"transform\":\"day\",\"source-id\":2}]}},"
        "{\"action\":\"set-default-spec\",\"spec-id\":-1},"
        "{\"action\":\"add-sort-order\",\"sort-order\":{\"order-id\":1,\"fields\":[{\"transform\":"
        "\"identity\",\"source-id\":1,\"direction\":\"asc\",\"null-order\":\"nulls-first\"}]}},"
        "{\"action\":\"set-default-sort-order\",\"sort-order-id\":-1},"
        "{\"action\":\"set-location\",\"location\":\"s3://wh/ns/t2\"},"
        "{\"action\":\"set-properties\",\"updates\":{\"owner\":\"kura\"}}]";
    ice_metadata_t *m = NULL;
    ice_err_t err = {{0}};
    ice_rc_t rc = ice_commit_apply(a, NULL, "[{\"type\":\"assert-create\"}]", ups, NULL, &m, NULL,
                                   &err);
    CHECK_EQ_INT(rc, ICE_OK, "create txn: %s", err.msg);
    if (m) {
        CHECK_EQ_STR(m->table_uuid, "8c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5", "uuid lowercased");
        CHECK(m->default_spec_id == 0 && m->specs[0].fields[0].field_id == 1000, "spec 1000");
        CHECK(m->default_sort_order_id == 1, "sort order 1");
        CHECK_EQ_STR(ice_metadata_property(m, "owner"), "kura", "props");
    }
    /* A create transaction on an existing table is a conflict. */
    ice_metadata_t *m2 = NULL;
    if (m)
        CHECK_EQ_INT(ice_commit_apply(a, m, "[{\"type\":\"assert-create\"}]", ups, NULL, &m2, NULL,
                                      NULL),
                     ICE_ERR_CONFLICT, "assert-create on existing");
    arena_free(a);
}

/* remove-snapshots drops refs to the removed snapshots (main clears the
 * current snapshot) and trims the snapshot log; once freed the ref name
 * must not be read (a fuzz_iceberg_metadata use-after-free). */
static void test_remove_snapshots_drops_refs_and_log(void)
{
    arena_t *a = arena_new(0);
    ice_metadata_t *m = new_table(a, NULL), *m1 = NULL, *m2 = NULL;
    static const char add[] =
        "[{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":11,\"sequence-number\":1,"
        "\"timestamp-ms\":1767225601000,\"manifest-list\":\"s3://wh/l1.avro\",\"summary\":{"
        "\"operation\":\"append\"}}},{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\","
        "\"type\":\"branch\",\"snapshot-id\":11},{\"action\":\"set-snapshot-ref\",\"ref-name\":"
        "\"tg\",\"type\":\"tag\",\"snapshot-id\":11,\"max-ref-age-ms\":100},"
        "{\"action\":\"set-statistics\",\"statistics\":{\"snapshot-id\":11,\"statistics-path\":"
        "\"s3://wh/s.puffin\",\"file-size-in-bytes\":1,\"file-footer-size-in-bytes\":1,"
        "\"blob-metadata\":[]}}]";
    ice_err_t err = {{0}};
    if (m)
        CHECK_EQ_INT(ice_commit_apply(a, m, NULL, add, NULL, &m1, NULL, &err), ICE_OK, "%s", err.msg);
    CHECK(m1 && m1->current_snapshot_id == 11 && m1->n_refs == 2 && m1->n_snapshot_log == 1,
          "snapshot, main, tag, log");
    CHECK(m1 && strstr(m1->json, "s.puffin"), "statistics stored");
    if (m1)
        CHECK_EQ_INT(ice_commit_apply(a, m1, NULL,
                                      "[{\"action\":\"remove-snapshots\",\"snapshot-ids\":[11]}]",
                                      NULL, &m2, NULL, &err),
                     ICE_OK, "%s", err.msg);
    CHECK(m2 && m2->current_snapshot_id == -1 && m2->n_refs == 0 && m2->n_snapshots == 0 &&
              m2->n_snapshot_log == 0 && !strstr(m2->json, "s.puffin"),
          "refs, log, statistics cleaned");
    arena_free(a);
}

static void test_v1_metadata_parses_with_defaults(void)
{
    static const char v1[] =
        "{\"format-version\":1,\"table-uuid\":\"d20125c8-7284-442c-9aea-15fee620737c\","
        "\"location\":\"s3://b/wh/t\",\"last-updated-ms\":1602638573874,\"last-column-id\":3,"
        "\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"x\",\"required\":true,"
        "\"type\":\"long\"},{\"id\":2,\"name\":\"y\",\"required\":true,\"type\":\"long\",\"doc\":"
        "\"comment\"},{\"id\":3,\"name\":\"z\",\"required\":true,\"type\":\"long\"}]},"
        "\"partition-spec\":[{\"name\":\"x\",\"transform\":\"identity\",\"source-id\":1,"
        "\"field-id\":1000}],\"properties\":{},\"current-snapshot-id\":3051729675574597004,"
        "\"snapshots\":[{\"snapshot-id\":3051729675574597004,\"timestamp-ms\":1515100955770,"
        "\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"s3://a/b/1.avro\"}]}";
    arena_t *a = arena_new(0);
    ice_metadata_t *m = NULL;
    ice_err_t err = {{0}};
    CHECK_EQ_INT(ice_metadata_parse(a, v1, sizeof v1 - 1, &m, &err), ICE_OK, "v1: %s", err.msg);
    if (m) {
        CHECK(m->format_version == 1 && m->n_schemas == 1 && m->n_specs == 1, "lists built");
        CHECK(m->last_partition_id == 1000 && m->last_sequence_number == 0, "defaults");
        const ice_ref_t *main_ref = ice_metadata_ref(m, "main");
        CHECK(main_ref && main_ref->snapshot_id == 3051729675574597004LL, "main from current");
        CHECK(m->snapshots[0].sequence_number == 0, "v1 seq 0");
        CHECK(strstr(m->json, "\"schema\":{") && strstr(m->json, "\"partition-spec\":["),
              "v1 keeps single schema/spec");
        save_seed("fuzz_iceberg_metadata", "v1.json", v1, sizeof v1 - 1);
    }
    static const struct {
        const char *json;
        ice_rc_t rc;
    } bad[] = {
        {"{\"format-version\":4}", ICE_ERR_UNSUPPORTED},
        {"[]", ICE_ERR_CORRUPT},
        {"{\"format-version\":2}", ICE_ERR_CORRUPT},
        {"{\"format-version\":\"2\"}", ICE_ERR_CORRUPT},
        {"{\"format-version\":1,\"format-version\":2}", ICE_ERR_CORRUPT},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        CHECK_EQ_INT(ice_metadata_parse(a, bad[i].json, strlen(bad[i].json), &m, NULL), bad[i].rc,
                     "bad %zu", i);
    arena_free(a);
}

static void test_transforms_match_spec_appendix_values(void)
{
    static const uint8_t uuid[16] = {0xF7, 0x9C, 0x3E, 0x09, 0x67, 0x7C, 0x4B, 0xBD,
                                     0xA4, 0x79, 0x3F, 0x34, 0x9C, 0xB7, 0x85, 0xE7};
    static const uint8_t raw[4] = {0, 1, 2, 3};
    const int64_t ts = 1510871468000000LL; /* 2017-11-16T22:31:08 */
    const struct {
        ice_value_t v;
        int32_t hash;
    } hashes[] = {
        {{.kind = ICE_T_INT, .i = 34}, 2017239379},
        {{.kind = ICE_T_LONG, .i = 34}, 2017239379},
        {{.kind = ICE_T_DECIMAL, .i = 1420}, -500754589},
        {{.kind = ICE_T_DATE, .i = 17486}, -653330422},
        {{.kind = ICE_T_TIME, .i = 81068000000LL}, -662762989},
        {{.kind = ICE_T_TIMESTAMP, .i = ts}, -2047944441},
        {{.kind = ICE_T_TIMESTAMPTZ, .i = ts + 1}, -1207196810},
        {{.kind = ICE_T_TIMESTAMP_NS, .i = (ts + 1) * 1000 + 1}, -1207196810},
        {{.kind = ICE_T_STRING, .bytes = (const uint8_t *)"iceberg", .len = 7}, 1210000089},
        {{.kind = ICE_T_UUID, .bytes = uuid, .len = 16}, 1488055340},
        {{.kind = ICE_T_BINARY, .bytes = raw, .len = 4}, -188683207},
    };
    for (size_t i = 0; i < ARRAY_LEN(hashes); i++) {
        int32_t h = 0;
        CHECK_EQ_INT(ice_bucket_hash(&hashes[i].v, &h), ICE_OK, "hash %zu", i);
        CHECK_EQ_INT(h, hashes[i].hash, "hash %zu", i);
    }
    const struct {
        const char *tr;
        ice_value_t in;
        int64_t out;
    } cases[] = {
        {"bucket[16]", {.kind = ICE_T_INT, .i = 34}, 3},
        {"day", {.kind = ICE_T_TIMESTAMP, .i = ts}, 17486},
        {"day", {.kind = ICE_T_DATE, .i = 17486}, 17486},
        {"hour", {.kind = ICE_T_TIMESTAMPTZ, .i = ts}, 419686},
        {"month", {.kind = ICE_T_TIMESTAMP, .i = ts}, 574},
        {"year", {.kind = ICE_T_TIMESTAMP, .i = ts}, 47},
        {"month", {.kind = ICE_T_DATE, .i = -1}, -1},  /* 1969-12 */
        {"year", {.kind = ICE_T_DATE, .i = -1}, -1},   /* 1969 */
        {"day", {.kind = ICE_T_TIMESTAMP, .i = -1}, -1}, /* floors before 1970 */
        {"hour", {.kind = ICE_T_TIMESTAMP, .i = -1}, -1},
        {"truncate[10]", {.kind = ICE_T_INT, .i = -1}, -10},
        {"truncate[10]", {.kind = ICE_T_LONG, .i = 19}, 10},
        {"truncate[50]", {.kind = ICE_T_DECIMAL, .i = 1065}, 1050},
        {"identity", {.kind = ICE_T_LONG, .i = 5}, 5},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ice_transform_t t;
        ice_value_t out;
        CHECK_EQ_INT(ice_transform_parse(cases[i].tr, &t), ICE_OK, "parse %s", cases[i].tr);
        CHECK_EQ_INT(ice_transform_apply(&t, &cases[i].in, &out), ICE_OK, "apply %zu", i);
        CHECK_EQ_INT(out.i, cases[i].out, "case %zu: %s", i, cases[i].tr);
    }
    ice_transform_t t;
    ice_value_t in = {.kind = ICE_T_STRING, .bytes = (const uint8_t *)"h\xc3\xa9llo", .len = 6}, out;
    ice_transform_parse("truncate[2]", &t);
    CHECK(ice_transform_apply(&t, &in, &out) == ICE_OK && out.len == 3, "2 code points = 3 bytes");
    ice_value_t null_in = {.is_null = true, .kind = ICE_T_INT};
    ice_transform_parse("bucket[4]", &t);
    CHECK(ice_transform_apply(&t, &null_in, &out) == ICE_OK && out.is_null, "null -> null");
    static const char *const bad[] = {"bucket[0]", "bucket[]", "bucket[3", "truncate[-1]",
                                      "days", "bucket[99999999999]"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        CHECK_EQ_INT(ice_transform_parse(bad[i], &t), ICE_ERR_INVALID, "bad transform %s", bad[i]);
    ice_transform_parse("hour", &t);
    ice_value_t d = {.kind = ICE_T_DATE, .i = 1};
    CHECK_EQ_INT(ice_transform_apply(&t, &d, &out), ICE_ERR_INVALID, "hour of a date");
    /* Binary single-value form (§5.3): decimal 14.20 -> 05 8C. */
    arena_t *a = arena_new(0);
    uint8_t *b;
    size_t len;
    ice_value_t dec = {.kind = ICE_T_DECIMAL, .i = 1420};
    CHECK(ice_value_to_binary(a, &dec, &b, &len) == ICE_OK && len == 2 && b[0] == 0x05 &&
              b[1] == 0x8C,
          "decimal minimal BE");
    ice_value_t lv = {.kind = ICE_T_LONG, .i = -2}, back;
    CHECK(ice_value_to_binary(a, &lv, &b, &len) == ICE_OK && len == 8 &&
              ice_value_from_binary(ICE_T_LONG, b, len, &back) == ICE_OK && back.i == -2,
          "long round trip");
    arena_free(a);
}

/* ---------------------------------------------------------------------- */
/* The end-to-end table: 3 appends of Parquet through ice_io_local. */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static ice_rc_t store_metadata(ice_io_t *io, arena_t *a, const ice_metadata_t *m,
                               const char *prev, char **loc)
{
    *loc = ice_metadata_file_location(a, m, prev);
    return (ice_rc_t)io->write(io->ctx, *loc, m->json, m->json_len);
}

static ice_metadata_t *reload(ice_io_t *io, arena_t *a, const char *loc)
{
    char *data;
    size_t len;
    ice_metadata_t *m = NULL;
    if (io->read(io->ctx, loc, ICE_METADATA_MAX_BYTES, a, &data, &len) != ICE_OK)
        return NULL;
    ice_metadata_parse(a, data, len, &m, NULL);
    return m;
}

static int64_t query_int(duckdb_connection c, const char *sql)
{
    duckdb_result r;
    if (duckdb_query(c, sql, &r) != DuckDBSuccess) {
        fprintf(stderr, "duckdb: %s\n", duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return -1;
    }
    int64_t v = duckdb_row_count(&r) ? duckdb_value_int64(&r, 0, 0) : -1;
    duckdb_destroy_result(&r);
    return v;
}

static const ice_id_bytes_t *bound_of(const ice_id_bytes_t *b, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].id == id)
            return &b[i];
    return NULL;
}

/* The current snapshot's manifest list. */
static size_t list_manifests(ice_io_t *io, arena_t *a, const ice_metadata_t *m,
                             ice_manifest_file_t **mf)
{
    const ice_snapshot_t *s = ice_metadata_snapshot(m, -1);
    char *data;
    size_t len, n = 0;
    ice_err_t err = {{0}};
    if (!s || io->read(io->ctx, s->manifest_list, ICE_AVRO_MAX_BYTES, a, &data, &len) != ICE_OK ||
        ice_manifest_list_decode(a, (const uint8_t *)data, len, mf, &n, &err) != ICE_OK)
        return SIZE_MAX;
    return n;
}

static void check_manifests(ice_io_t *io, arena_t *a, const ice_metadata_t *m, char (*paths)[512])
{
    const ice_snapshot_t *s = ice_metadata_snapshot(m, -1);
    char *data;
    size_t len;
    if (!s || io->read(io->ctx, s->manifest_list, ICE_AVRO_MAX_BYTES, a, &data, &len) != ICE_OK) {
        CHECK(0, "manifest list readable");
        return;
    }
    save_seed("fuzz_avro", "manifest_list.avro", data, len);
    const char *v;
    size_t vl;
    CHECK(ice_avro_header_get(a, (const uint8_t *)data, len, "parent-snapshot-id", &v, &vl) ==
                  ICE_OK &&
              atoll(v) == s->parent_snapshot_id,
          "list header parent");
    CHECK(ice_avro_header_get(a, (const uint8_t *)data, len, "avro.schema", &v, &vl) == ICE_OK &&
              strstr(v, "\"field-id\":500") && strstr(v, "\"element-id\":508"),
          "list schema carries ids");
    ice_manifest_file_t *mf;
    size_t n;
    ice_err_t err = {{0}};
    CHECK_EQ_INT(ice_manifest_list_decode(a, (const uint8_t *)data, len, &mf, &n, &err), ICE_OK,
                 "list decode: %s", err.msg);
    CHECK_EQ_INT(n, 3, "three manifests carried");
    if (n != 3)
        return;
    /* Newest first; each manifest keeps the sequence number it was added at. */
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(mf[i].sequence_number, 3 - (int64_t)i, "manifest %zu seq", i);
        CHECK_EQ_INT(mf[i].added_files_count, 1, "added count %zu", i);
        CHECK_EQ_INT(mf[i].added_rows_count, 10, "added rows %zu", i);
        char *md;
        size_t ml;
        if (io->read(io->ctx, mf[i].manifest_path, ICE_AVRO_MAX_BYTES, a, &md, &ml) != ICE_OK) {
            CHECK(0, "manifest readable");
            continue;
        }
        CHECK_EQ_INT(ml, mf[i].manifest_length, "manifest_length exact");
        if (i == 0) {
            save_seed("fuzz_avro", "manifest.avro", md, ml);
            CHECK(ice_avro_header_get(a, (const uint8_t *)md, ml, "schema", &v, &vl) == ICE_OK &&
                      strstr(v, "\"schema-id\":0"),
                  "manifest header has table schema");
            CHECK(ice_avro_header_get(a, (const uint8_t *)md, ml, "content", &v, &vl) == ICE_OK &&
                      strcmp(v, "data") == 0,
                  "content data");
            CHECK(ice_avro_header_get(a, (const uint8_t *)md, ml, "partition-spec", &v, &vl) ==
                          ICE_OK &&
                      strcmp(v, "[]") == 0,
                  "partition-spec fields array");
        }
        ice_manifest_entry_t *e;
        size_t ne;
        CHECK_EQ_INT(ice_manifest_decode(a, (const uint8_t *)md, ml, &mf[i], &e, &ne, &err), ICE_OK,
                     "manifest decode: %s", err.msg);
        if (ne != 1)
            continue;
        CHECK_EQ_INT(e[0].status, ICE_STATUS_ADDED, "added");
        CHECK_EQ_INT(e[0].sequence_number, 3 - (int64_t)i, "inherited data seq");
        CHECK_EQ_INT(e[0].snapshot_id, mf[i].added_snapshot_id, "entry snapshot");
        CHECK_EQ_STR(e[0].file.file_path, paths[2 - i], "path");
        CHECK_EQ_STR(e[0].file.file_format, "PARQUET", "format");
        CHECK_EQ_INT(e[0].file.record_count, 10, "rows");
        const ice_id_bytes_t *lo = bound_of(e[0].file.lower_bounds, e[0].file.n_lower_bounds, 1);
        const ice_id_bytes_t *hi = bound_of(e[0].file.upper_bounds, e[0].file.n_upper_bounds, 1);
        ice_value_t lv, hv;
        CHECK(lo && hi && ice_value_from_binary(ICE_T_INT, lo->data, lo->len, &lv) == ICE_OK &&
                  ice_value_from_binary(ICE_T_INT, hi->data, hi->len, &hv) == ICE_OK &&
                  lv.i == (int64_t)(2 - i) * 10 && hv.i == (int64_t)(2 - i) * 10 + 9,
              "a_int bounds file %zu", i);
        const ice_id_bytes_t *tl = bound_of(e[0].file.lower_bounds, e[0].file.n_lower_bounds, 4);
        ice_value_t tv;
        CHECK(tl && tl->len == 8 && ice_value_from_binary(ICE_T_TIMESTAMP, tl->data, 8, &tv) == 0 &&
                  tv.i == 1510871468000000LL + (int64_t)(2 - i) * 10 * 3600000000LL,
              "timestamp lower bound in µs");
        const ice_id_bytes_t *sl = bound_of(e[0].file.lower_bounds, e[0].file.n_lower_bounds, 8);
        CHECK(sl && sl->len >= 2 && memcmp(sl->data, "y", 1) == 0, "struct member string bound");
        CHECK(!bound_of(e[0].file.lower_bounds, e[0].file.n_lower_bounds, 9),
              "no bounds inside lists");
        bool has_list_count = false;
        for (size_t k = 0; k < e[0].file.n_value_counts; k++)
            if (e[0].file.value_counts[k].id == 9)
                has_list_count = e[0].file.value_counts[k].v == 20;
        CHECK(has_list_count, "list element value count 20");
        for (size_t k = 0; k < e[0].file.n_null_value_counts; k++)
            if (e[0].file.null_value_counts[k].id == 2)
                CHECK_EQ_INT(e[0].file.null_value_counts[k].v, 1, "one null a_long");
    }
}

static void test_three_appends_round_trip_through_local_io(void)
{
    snprintf(tmp_root, sizeof tmp_root, "/tmp/kura-ice-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        CHECK(0, "mkdtemp");
        return;
    }
    arena_t *a = arena_new(0);
    ice_io_t *io = ice_io_local(a, tmp_root);
    duckdb_database db;
    duckdb_connection conn;
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &conn) != DuckDBSuccess) {
        CHECK(0, "duckdb");
        arena_free(a);
        return;
    }
    ice_metadata_t *m = new_table(a, NULL);
    char *loc = NULL, *first_loc = NULL;
    char paths[3][512];
    int64_t snap_ids[3] = {0};
    ice_err_t err = {{0}};
    if (!m || store_metadata(io, a, m, NULL, &loc) != ICE_OK)
        CHECK(0, "store v0");
    first_loc = loc;
    for (int k = 0; m && k < 3; k++) {
        char local[256], sql[1024];
        snprintf(local, sizeof local, "%s/staging-%d.parquet", tmp_root, k);
        snprintf(paths[k], sizeof paths[k], "%s/data/%05d-0-file.parquet", m->location, k);
        snprintf(sql, sizeof sql,
                 "SELECT i::INTEGER AS a_int, CASE WHEN i %% 10 = 3 THEN NULL ELSE i * 1000 END"
                 "::BIGINT AS a_long, 'row' || i AS a_str, TIMESTAMP '2017-11-16 22:31:08' + "
                 "to_hours(i::BIGINT) AS ts, {'x': i::INTEGER, 'y': 'y' || i} AS s, [i::INTEGER, "
                 "(i + 1)::INTEGER] AS l FROM range(%d, %d) t(i)",
                 k * 10, k * 10 + 10);
        ice_data_file_t df;
        ice_rc_t rc = ice_parquet_write(conn, a, ice_metadata_schema(m, -1), sql, local, paths[k],
                                        &df, &err);
        CHECK_EQ_INT(rc, ICE_OK, "parquet %d: %s", k, err.msg);
        if (rc != ICE_OK)
            break;
        if (k == 0) {
            char q[512];
            snprintf(q, sizeof q,
                     "SELECT count(*) FROM parquet_schema('%s') WHERE (name, field_id) IN "
                     "(('a_int', 1), ('a_long', 2), ('a_str', 3), ('ts', 4), ('s', 5), ('l', 6),"
                     " ('x', 7), ('y', 8), ('element', 9))",
                     local);
            CHECK_EQ_INT(query_int(conn, q), 9, "every column and group carries its field id");
        }
        CHECK_EQ_INT(io->write_file(io->ctx, paths[k], local), ICE_OK, "move data file");
        ice_snapshot_opts_t o = {.now_ms = T0_MS + (k + 1) * 1000, .base_location = loc,
                                 .deflate = k == 1};
        ice_metadata_t *next = NULL;
        rc = ice_append(io, a, m, &df, 1, &o, &next, &err);
        CHECK_EQ_INT(rc, ICE_OK, "append %d: %s", k, err.msg);
        if (rc != ICE_OK)
            break;
        char *nloc;
        CHECK_EQ_INT(store_metadata(io, a, next, loc, &nloc), ICE_OK, "store");
        m = reload(io, a, nloc);
        CHECK(m != NULL, "reload %d", k);
        loc = nloc;
        if (m)
            snap_ids[k] = m->current_snapshot_id;
    }
    CHECK(loc && strstr(loc, "/metadata/00003-") != NULL, "fourth metadata file is 00003: %s", loc);
    if (m) {
        save_seed("fuzz_iceberg_metadata", "three_snapshots.json", m->json, m->json_len);
        CHECK_EQ_INT(m->last_sequence_number, 3, "last seq");
        CHECK_EQ_INT(m->n_snapshots, 3, "snapshots");
        CHECK_EQ_INT(m->n_snapshot_log, 3, "snapshot-log");
        CHECK_EQ_INT(m->n_metadata_log, 3, "metadata-log");
        CHECK(m->n_metadata_log == 3 && strcmp(m->metadata_log[0].metadata_file, first_loc) == 0,
              "metadata-log starts at the first file");
        for (size_t i = 0; i < m->n_snapshots && i < 3; i++) {
            const ice_snapshot_t *s = &m->snapshots[i];
            CHECK_EQ_INT(s->sequence_number, (int64_t)i + 1, "seq %zu", i);
            CHECK_EQ_INT(s->parent_snapshot_id, i ? snap_ids[i - 1] : -1, "parent %zu", i);
            CHECK_EQ_STR(s->operation, "append", "op");
            CHECK_EQ_STR(ice_snapshot_summary(s, "added-data-files"), "1", "added files");
            CHECK_EQ_STR(ice_snapshot_summary(s, "added-records"), "10", "added records");
            char want[16];
            snprintf(want, sizeof want, "%zu", (i + 1) * 10);
            CHECK_EQ_STR(ice_snapshot_summary(s, "total-records"), want, "total-records %zu", i);
            snprintf(want, sizeof want, "%zu", i + 1);
            CHECK_EQ_STR(ice_snapshot_summary(s, "total-data-files"), want, "total files %zu", i);
            CHECK(m->snapshot_log[i].snapshot_id == s->snapshot_id &&
                      m->snapshot_log[i].timestamp_ms == s->timestamp_ms,
                  "log entry %zu", i);
        }
        check_manifests(io, a, m, paths);

        /* Scan planning and time travel. */
        ice_scan_t scan;
        CHECK_EQ_INT(ice_scan_files(io, a, m, -1, &scan, &err), ICE_OK, "scan: %s", err.msg);
        CHECK(scan.n_data == 3 && scan.total_records == 30 && scan.n_deletes == 0, "scan current");
        int64_t sid = 0;
        CHECK(ice_snapshot_as_of(m, T0_MS + 2500, &sid) == ICE_OK && sid == snap_ids[1],
              "as of t+2.5s = second snapshot");
        CHECK_EQ_INT(ice_snapshot_as_of(m, T0_MS, &sid), ICE_ERR_NOT_FOUND, "before history");
        CHECK(ice_scan_files(io, a, m, snap_ids[0], &scan, &err) == ICE_OK && scan.n_data == 1 &&
                  scan.total_records == 10,
              "scan first snapshot");
        char q[1024];
        snprintf(q, sizeof q, "SELECT count(*) FROM read_parquet(['%s/wh/db/t1/data/00000-0-file.parquet',"
                              "'%s/wh/db/t1/data/00002-0-file.parquet'])", tmp_root, tmp_root);
        CHECK_EQ_INT(query_int(conn, q), 20, "DuckDB reads the data files back");

        /* A commit on a stale base: 409, nothing produced. */
        char reqs[256];
        snprintf(reqs, sizeof reqs,
                 "[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":%lld}]",
                 (long long)snap_ids[0]);
        ice_metadata_t *stale = NULL;
        CHECK_EQ_INT(ice_commit_apply(a, m, reqs,
                                      "[{\"action\":\"set-properties\",\"updates\":{\"a\":\"b\"}}]",
                                      NULL, &stale, NULL, NULL),
                     ICE_ERR_CONFLICT, "stale ref");
        CHECK(stale == NULL, "nothing produced on conflict");
        /* A snapshot whose sequence number is not above the table's: 409. */
        char ups[512];
        snprintf(ups, sizeof ups,
                 "[{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":42,\"sequence-number\":3,"
                 "\"timestamp-ms\":%lld,\"manifest-list\":\"s3://wh/x.avro\",\"summary\":{"
                 "\"operation\":\"append\"}}}]",
                 (long long)(T0_MS + 9000));
        CHECK_EQ_INT(ice_commit_apply(a, m, NULL, ups, NULL, &stale, NULL, NULL), ICE_ERR_CONFLICT,
                     "stale sequence number");

        /* Delete the first file, then overwrite the second with a new one. */
        const char *rm1[] = {paths[0]};
        ice_snapshot_opts_t o = {.now_ms = T0_MS + 5000, .base_location = loc};
        ice_metadata_t *d1 = NULL, *d2 = NULL;
        CHECK_EQ_INT(ice_overwrite(io, a, m, NULL, 0, rm1, 1, &o, &d1, &err), ICE_OK,
                     "delete: %s", err.msg);
        if (d1) {
            const ice_snapshot_t *s = ice_metadata_snapshot(d1, -1);
            CHECK_EQ_STR(s->operation, "delete", "delete op");
            CHECK_EQ_STR(ice_snapshot_summary(s, "deleted-records"), "10", "deleted records");
            CHECK_EQ_STR(ice_snapshot_summary(s, "total-records"), "20", "total after delete");
            CHECK(ice_scan_files(io, a, d1, -1, &scan, &err) == ICE_OK && scan.n_data == 2 &&
                      scan.total_records == 20,
                  "scan after delete");
            CHECK_EQ_INT(ice_overwrite(io, a, d1, NULL, 0, rm1, 1, &o, &d2, &err), ICE_ERR_CONFLICT,
                         "removing a file twice conflicts");
            ice_manifest_file_t *mf;
            CHECK_EQ_INT(list_manifests(io, a, d1, &mf), 3, "the delete is recorded in a manifest");

            /* Compaction: the two remaining files become one ("replace"),
             * and their two manifests one. */
            char local[256], cpath[512], sql[512];
            snprintf(local, sizeof local, "%s/staging-c.parquet", tmp_root);
            snprintf(cpath, sizeof cpath, "%s/data/compacted.parquet", m->location);
            snprintf(sql, sizeof sql,
                     "SELECT * FROM read_parquet(['%s/wh/db/t1/data/00001-0-file.parquet', "
                     "'%s/wh/db/t1/data/00002-0-file.parquet'])", tmp_root, tmp_root);
            ice_data_file_t cf;
            CHECK_EQ_INT(ice_parquet_write(conn, a, ice_metadata_schema(d1, -1), sql, local, cpath,
                                           &cf, &err), ICE_OK, "compacted file: %s", err.msg);
            CHECK_EQ_INT(io->write_file(io->ctx, cpath, local), ICE_OK, "move compacted file");
            const char *rm23[] = {paths[1], paths[2]};
            ice_snapshot_opts_t co = {.now_ms = T0_MS + 6000, .base_location = loc,
                                      .operation = "replace"};
            ice_metadata_t *c1 = NULL, *c2 = NULL;
            CHECK_EQ_INT(ice_overwrite(io, a, d1, &cf, 1, rm23, 2, &co, &c1, &err), ICE_OK,
                         "compaction: %s", err.msg);
            if (c1) {
                const ice_snapshot_t *cs = ice_metadata_snapshot(c1, -1);
                CHECK_EQ_STR(cs->operation, "replace", "compaction is a replace");
                CHECK_EQ_STR(ice_snapshot_summary(cs, "total-records"), "20", "rows unchanged");
                CHECK(ice_scan_files(io, a, c1, -1, &scan, &err) == ICE_OK && scan.n_data == 1 &&
                          scan.total_records == 20,
                      "one file after compaction");
                /* new file + the merged manifest of the removals; the
                 * manifest the delete left with no live file is gone. */
                CHECK_EQ_INT(list_manifests(io, a, c1, &mf), 2, "manifests after compaction");
                /* The next append drops the merged manifest too: only
                 * removals are left in it. */
                ice_snapshot_opts_t ao = {.now_ms = T0_MS + 7000, .base_location = loc};
                CHECK_EQ_INT(ice_append(io, a, c1, &cf, 0, &ao, &c2, &err), ICE_OK, "append: %s",
                             err.msg);
                CHECK_EQ_INT(c2 ? list_manifests(io, a, c2, &mf) : 0, 1,
                             "dead manifests are not carried");
            }
            co.operation = "append";
            CHECK_EQ_INT(ice_overwrite(io, a, d1, &cf, 1, rm23, 2, &co, &c2, &err), ICE_ERR_INVALID,
                         "an overwrite is no append");
        }
    }
    duckdb_disconnect(&conn);
    duckdb_close(&db);
    arena_free(a);
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    CHECK(access(tmp_root, F_OK) != 0, "temp dir removed");
}

static void test_partitioned_append_fills_partition_from_bounds(void)
{
    char root[64];
    snprintf(root, sizeof root, "/tmp/kura-ice-XXXXXX");
    if (!mkdtemp(root)) {
        CHECK(0, "mkdtemp");
        return;
    }
    arena_t *a = arena_new(0);
    ice_io_t *io = ice_io_local(a, root);
    duckdb_database db;
    duckdb_connection conn;
    duckdb_open(NULL, &db);
    duckdb_connect(db, &conn);
    ice_metadata_t *m = new_table(a, "{\"fields\":[{\"source-id\":104,\"name\":\"ts_day\","
                                     "\"transform\":\"day\"},{\"source-id\":101,\"name\":"
                                     "\"a_trunc\",\"transform\":\"truncate[100]\"}]}");
    ice_err_t err = {{0}};
    char local[128];
    snprintf(local, sizeof local, "%s/p.parquet", root);
    const char *sql = "SELECT i::INTEGER AS a_int, i::BIGINT AS a_long, 'r' AS a_str, TIMESTAMP "
                      "'2017-11-16 01:00:00' + to_minutes(i::BIGINT) AS ts, {'x': 1, 'y': 'q'} AS s,"
                      " [1] AS l FROM range(0, 5) t(i)";
    ice_data_file_t df;
    if (m && ice_parquet_write(conn, a, ice_metadata_schema(m, -1), sql, local,
                               "s3://wh/db/t1/data/p.parquet", &df, &err) == ICE_OK) {
        CHECK_EQ_INT(ice_partition_from_bounds(a, ice_metadata_schema(m, -1),
                                               ice_metadata_spec(m, -1), &df),
                     ICE_OK, "single partition");
        CHECK(df.n_partition == 2 && df.partition[0].kind == ICE_T_DATE &&
                  df.partition[0].i == 17486 && df.partition[1].i == 0,
              "day 17486, truncate 0");
        io->write_file(io->ctx, df.file_path, local);
        ice_metadata_t *next = NULL;
        ice_snapshot_opts_t o = {.now_ms = T0_MS + 1000};
        CHECK_EQ_INT(ice_append(io, a, m, &df, 1, &o, &next, &err), ICE_OK, "append: %s", err.msg);
        ice_scan_t scan;
        if (next && ice_scan_files(io, a, next, -1, &scan, &err) == ICE_OK && scan.n_data == 1) {
            CHECK(scan.data[0].n_partition == 2 && scan.data[0].partition[0].kind == ICE_T_DATE &&
                      scan.data[0].partition[0].i == 17486,
                  "partition read back as date");
        } else {
            CHECK(0, "scan partitioned: %s", err.msg);
        }
        ice_data_file_t wrong = df;
        wrong.n_partition = 0;
        CHECK_EQ_INT(ice_append(io, a, m, &wrong, 1, &o, &next, &err), ICE_ERR_INVALID,
                     "tuple must match the spec");
    } else {
        CHECK(0, "partitioned parquet: %s", err.msg);
    }
    duckdb_disconnect(&conn);
    duckdb_close(&db);
    arena_free(a);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_avro_decoder_refuses_hostile_files(void)
{
    arena_t *a = arena_new((size_t)64 << 20);
    ice_manifest_file_t mf = {.manifest_path = "s3://b/m.avro", .manifest_length = 10,
                              .sequence_number = 1, .min_sequence_number = 1,
                              .added_snapshot_id = 5, .added_files_count = 1};
    uint8_t *bytes;
    size_t len;
    CHECK_EQ_INT(ice_manifest_list_encode(a, 5, -1, 1, &mf, 1, true, &bytes, &len), ICE_OK, "enc");
    ice_manifest_file_t *out;
    size_t n;
    CHECK(ice_manifest_list_decode(a, bytes, len, &out, &n, NULL) == ICE_OK && n == 1 &&
              strcmp(out[0].manifest_path, "s3://b/m.avro") == 0 && out[0].added_snapshot_id == 5,
          "deflate round trip");
    save_seed("fuzz_avro", "list_deflate.avro", bytes, len);
    /* Every truncation is an error, never a crash or a partial success;
     * the one exception is the bare header, a valid file of no records. */
    size_t bad = 0, empty = 0;
    for (size_t cut = 0; cut < len; cut++) {
        if (ice_manifest_list_decode(a, bytes, cut, &out, &n, NULL) != ICE_OK)
            bad++;
        else
            empty += n == 0;
    }
    CHECK(bad == len - 1 && empty == 1, "truncations refused: %zu of %zu", bad, len);
    /* A wrong sync marker. */
    uint8_t *copy = arena_memdup(a, bytes, len);
    copy[len - 1] ^= 0xFF;
    CHECK_EQ_INT(ice_manifest_list_decode(a, copy, len, &out, &n, NULL), ICE_ERR_CORRUPT, "sync");
    static const uint8_t huge_count[] = {'O', 'b', 'j', 1, 0x7F};
    CHECK_EQ_INT(ice_manifest_list_decode(a, huge_count, sizeof huge_count, &out, &n, NULL),
                 ICE_ERR_CORRUPT, "header count beyond data");
    arena_free(a);
}

static void test_local_io_refuses_escaping_locations(void)
{
    arena_t *a = arena_new(0);
    ice_io_t *io = ice_io_local(a, "/tmp/kura-ice-never-created");
    static const char *const bad[] = {"s3://b/../x", "s3://b//x", "s3://./x", "file:///etc/passwd",
                                      "s3://", "s3://b/x/.."};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        CHECK_EQ_INT(io->write(io->ctx, bad[i], "x", 1), ICE_ERR_INVALID, "%s", bad[i]);
    char *d;
    size_t len;
    CHECK_EQ_INT(io->read(io->ctx, "s3://b/none", 10, a, &d, &len), ICE_ERR_NOT_FOUND, "missing");
    arena_free(a);
}

int main(void)
{
    RUN(test_create_assigns_fresh_ids_in_java_order);
    RUN(test_every_requirement_fails_with_conflict_when_stale);
    RUN(test_schema_evolution_add_rename_drop);
    RUN(test_create_transaction_builds_table_from_nothing);
    RUN(test_remove_snapshots_drops_refs_and_log);
    RUN(test_v1_metadata_parses_with_defaults);
    RUN(test_transforms_match_spec_appendix_values);
    RUN(test_three_appends_round_trip_through_local_io);
    RUN(test_partitioned_append_fills_partition_from_bounds);
    RUN(test_avro_decoder_refuses_hostile_files);
    RUN(test_local_io_refuses_escaping_locations);
    return check_report();
}
