/* s3/metadata.c: the S3 Metadata configuration operations (specs/
 * s3-metadata.md §2): V2 Create/Get/DeleteBucketMetadataConfiguration,
 * UpdateBucketMetadataJournalTableConfiguration and
 * UpdateBucketMetadataInventoryTableConfiguration; V1 Create/Get/Delete
 * BucketMetadataTableConfiguration.
 *
 * The configuration is the bucket's "metadata" document (kept in kura's own
 * JSON form); creating it turns the store's journal on for the bucket, so
 * every later mutation commits with its journal row (DESIGN invariant 2).
 * The tables are created and filled asynchronously by the journal room,
 * which reports their state in the system record metadata-status/<bucket>
 * ({"journal": {"status","arn","error_code","error_message"}, "inventory":
 * {... plus "since_ms", "backfill_versions"}}); until it has, tables read
 * as CREATING. The document's "inventory_since_ms" marks each enablement of
 * the inventory (see journal/inventory.c). Deleting the configuration stops recording; tables and rows
 * stay. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "util/parse.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define S3_METADATA_CONF "metadata"
#define S3_METADATA_MIN_DAYS 7
#define S3_METADATA_MAX_DAYS 2147483647u
#define S3_METADATA_V1_NAMESPACE "aws_s3_metadata"

/* AWS's managed namespace: "b_" + the bucket name with '.' as '_'. */
static char *managed_namespace(arena_t *a, const char *bucket)
{
    char *ns = arena_printf(a, "b_%s", bucket);
    for (char *p = ns; p && *p; p++)
        if (*p == '.')
            *p = '_';
    return ns;
}

/* <EncryptionConfiguration>: AES256, or aws:kms with a key ARN. */
static s3_err_t check_encryption(s3_req_t *q, const xml_node_t *parent)
{
    const xml_node_t *e = xml_child(parent, "EncryptionConfiguration");
    if (!e)
        return S3_OK;
    const char *alg = xml_child_text(e, "SseAlgorithm");
    const char *kms = xml_child_text(e, "KmsKeyArn");
    if (!alg || (strcmp(alg, "AES256") != 0 && strcmp(alg, "aws:kms") != 0))
        return S3_ERR_MALFORMED_XML;
    if (strcmp(alg, "aws:kms") == 0 && (!kms || !*kms)) {
        q->err_msg = "KmsKeyArn is required when SseAlgorithm is aws:kms";
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_OK;
}

/* <RecordExpiration>: ENABLED with Days in [7, 2^31-1], or DISABLED alone. */
static s3_err_t parse_expiration(s3_req_t *q, const xml_node_t *re, int64_t *days)
{
    const char *exp = re ? xml_child_text(re, "Expiration") : NULL;
    const char *d = re ? xml_child_text(re, "Days") : NULL;
    if (!exp)
        return S3_ERR_MALFORMED_XML;
    if (strcmp(exp, "DISABLED") == 0) {
        if (d) {
            q->err_msg = "Days must not be specified when Expiration is DISABLED";
            return S3_ERR_INVALID_ARGUMENT;
        }
        *days = 0;
        return S3_OK;
    }
    uint64_t v = 0;
    if (strcmp(exp, "ENABLED") != 0)
        return S3_ERR_MALFORMED_XML;
    if (!d || parse_u64_str(d, S3_METADATA_MAX_DAYS, &v) != PARSE_OK || v < S3_METADATA_MIN_DAYS) {
        q->err_msg = "Days must be an integer between 7 and 2147483647 when Expiration is ENABLED";
        return S3_ERR_INVALID_ARGUMENT;
    }
    *days = (int64_t)v;
    return S3_OK;
}

static s3_err_t parse_state(const xml_node_t *n, bool *on)
{
    const char *st = n ? xml_child_text(n, "ConfigurationState") : NULL;
    if (!st || (strcmp(st, "ENABLED") != 0 && strcmp(st, "DISABLED") != 0))
        return S3_ERR_MALFORMED_XML;
    *on = strcmp(st, "ENABLED") == 0;
    return S3_OK;
}

/* ---- the stored configuration ------------------------------------------ */

static json_t *conf_load(s3_req_t *q, s3_err_t *rc)
{
    char *doc = NULL;
    size_t len = 0;
    *rc = s3_conf_get(q, S3_METADATA_CONF, S3_ERR_NO_METADATA_CONFIGURATION, &doc, &len);
    if (*rc != S3_OK)
        return NULL;
    json_t *j = json_loadb(doc, len, 0, NULL);
    if (!j)
        *rc = S3_ERR_INTERNAL;
    return j;
}

/* Stores the document and switches the journal on or off with it. */
static s3_err_t conf_store(s3_req_t *q, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    store_rc_t rc = s ? store_bucket_conf_put(q->s3->st, q->bucket, S3_METADATA_CONF, s, strlen(s))
                      : STORE_NOMEM;
    free(s);
    if (rc == STORE_OK)
        rc = store_journal_enable(q->s3->st, q->bucket, true);
    return rc == STORE_NO_BUCKET ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
}

static s3_err_t create_common(s3_req_t *q, json_t *conf)
{
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc != S3_OK)
        return rc;
    char *doc = NULL;
    size_t len = 0;
    if (store_bucket_conf_get(q->s3->st, q->r->arena, q->bucket, S3_METADATA_CONF, &doc, &len) ==
        STORE_OK) {
        q->err_msg = "A metadata configuration already exists for this bucket.";
        return S3_ERR_METADATA_CONFIGURATION_EXISTS;
    }
    json_object_set_new(conf, "created_ms", json_integer(clock_now_ms()));
    /* The status record of an earlier configuration describes old tables. */
    store_sys_put(q->s3->st, "metadata-status", q->bucket, NULL, 0);
    if ((rc = conf_store(q, conf)) != S3_OK)
        return rc;
    q->r->status = 200;
    return S3_OK;
}

/* ---- V2 --------------------------------------------------------------- */

static s3_err_t create_v2_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "MetadataConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    const xml_node_t *jt = xml_child(root, "JournalTableConfiguration");
    const xml_node_t *it = xml_child(root, "InventoryTableConfiguration");
    int64_t days = 0;
    bool inv = false;
    if (!jt)
        return S3_ERR_MALFORMED_XML;
    if ((rc = parse_expiration(q, xml_child(jt, "RecordExpiration"), &days)) != S3_OK ||
        (rc = check_encryption(q, jt)) != S3_OK)
        return rc;
    if (it && ((rc = parse_state(it, &inv)) != S3_OK || (rc = check_encryption(q, it)) != S3_OK))
        return rc;
    json_t *conf = json_pack("{s:i,s:I,s:b,s:I}", "version", 2, "expiration_days",
                             (json_int_t)days, "inventory", inv, "inventory_since_ms",
                             (json_int_t)(inv ? clock_now_ms() : 0));
    rc = conf ? create_common(q, conf) : S3_ERR_INTERNAL;
    json_decref(conf);
    return rc;
}

static const char *status_of(json_t *status, const char *table, const char *field)
{
    return json_string_value(json_object_get(json_object_get(status, table), field));
}

static void table_result(s3_req_t *q, buf_t *o, json_t *status, const char *table,
                         const char *name)
{
    const char *st = status_of(status, table, "status");
    xmlw_elem(o, "TableStatus", st ? st : "CREATING");
    const char *code = status_of(status, table, "error_code");
    if (code) {
        xmlw_open(o, "Error");
        xmlw_elem(o, "ErrorCode", code);
        xmlw_elem(o, "ErrorMessage", status_of(status, table, "error_message"));
        xmlw_close(o, "Error");
    }
    xmlw_elem(o, "TableName", name);
    const char *arn = status_of(status, table, "arn");
    if (arn)
        xmlw_elem(o, "TableArn", arn);
    (void)q;
}

static json_t *status_load(s3_req_t *q)
{
    char *doc = NULL;
    size_t len = 0;
    if (store_sys_get(q->s3->st, q->r->arena, "metadata-status", q->bucket, &doc, &len) !=
        STORE_OK)
        return json_object();
    json_t *j = json_loadb(doc, len, 0, NULL);
    return j ? j : json_object();
}

static s3_err_t get_v2_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc;
    json_t *conf = conf_load(q, &rc);
    if (!conf)
        return rc;
    json_t *status = status_load(q);
    int version = (int)json_integer_value(json_object_get(conf, "version"));
    buf_t *o = &q->r->out;
    const char *acct = q->s3->cfg->account_id, *region = q->s3->cfg->region;
    xmlw_root(o, "GetBucketMetadataConfigurationResult");
    xmlw_open(o, "MetadataConfigurationResult");
    xmlw_open(o, "DestinationResult");
    if (version == 1) {
        const char *tb = json_string_value(json_object_get(conf, "table_bucket_arn"));
        xmlw_elem(o, "TableBucketType", "customer");
        xmlw_elem(o, "TableBucketArn", tb ? tb : "");
        xmlw_elem(o, "TableNamespace", S3_METADATA_V1_NAMESPACE);
    } else {
        xmlw_elem(o, "TableBucketType", "aws");
        xmlw_elem(o, "TableBucketArn",
                  arena_printf(q->r->arena, "arn:aws:s3tables:%s:%s:bucket/aws-s3", region, acct));
        xmlw_elem(o, "TableNamespace", managed_namespace(q->r->arena, q->bucket));
    }
    xmlw_close(o, "DestinationResult");
    xmlw_open(o, "JournalTableConfigurationResult");
    const char *jname = version == 1 ? json_string_value(json_object_get(conf, "table_name"))
                                     : "journal";
    table_result(q, o, status, "journal", jname ? jname : "journal");
    int64_t days = json_integer_value(json_object_get(conf, "expiration_days"));
    xmlw_open(o, "RecordExpiration");
    xmlw_elem(o, "Expiration", days ? "ENABLED" : "DISABLED");
    if (days)
        xmlw_elem_u64(o, "Days", (uint64_t)days);
    xmlw_close(o, "RecordExpiration");
    xmlw_close(o, "JournalTableConfigurationResult");
    if (version == 2) {
        bool inv = json_is_true(json_object_get(conf, "inventory"));
        xmlw_open(o, "InventoryTableConfigurationResult");
        xmlw_elem(o, "ConfigurationState", inv ? "ENABLED" : "DISABLED");
        if (inv || status_of(status, "inventory", "status"))
            table_result(q, o, status, "inventory", "inventory");
        xmlw_close(o, "InventoryTableConfigurationResult");
    }
    xmlw_close(o, "MetadataConfigurationResult");
    xmlw_close(o, "GetBucketMetadataConfigurationResult");
    json_decref(status);
    json_decref(conf);
    s3_xml_ok(q);
    return S3_OK;
}

/* Deleting stops recording; the tables and their rows remain. */
static s3_err_t delete_common(s3_req_t *q, int only_version)
{
    s3_err_t rc;
    json_t *conf = conf_load(q, &rc);
    if (!conf)
        return rc;
    int version = (int)json_integer_value(json_object_get(conf, "version"));
    json_decref(conf);
    if (only_version && version != only_version)
        return S3_ERR_METHOD_NOT_ALLOWED;
    store_rc_t src = store_journal_enable(q->s3->st, q->bucket, false);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    return s3_conf_delete(q, S3_METADATA_CONF);
}

static s3_err_t delete_v2_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return delete_common(q, 0);
}

static s3_err_t update_journal_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "JournalTableConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    int64_t days = 0;
    if ((rc = parse_expiration(q, xml_child(root, "RecordExpiration"), &days)) != S3_OK)
        return rc;
    json_t *conf = conf_load(q, &rc);
    if (!conf)
        return rc;
    if (json_integer_value(json_object_get(conf, "version")) != 2 && days) {
        json_decref(conf);
        q->err_msg = "Record expiration is not available for V1 metadata configurations.";
        return S3_ERR_METHOD_NOT_ALLOWED;
    }
    json_object_set_new(conf, "expiration_days", json_integer(days));
    rc = conf_store(q, conf);
    json_decref(conf);
    if (rc == S3_OK)
        q->r->status = 200;
    return rc;
}

static s3_err_t update_inventory_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    bool on = false;
    if (!root || strcmp(root->name, "InventoryTableConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    if ((rc = parse_state(root, &on)) != S3_OK || (rc = check_encryption(q, root)) != S3_OK)
        return rc;
    json_t *conf = conf_load(q, &rc);
    if (!conf)
        return rc;
    if (json_integer_value(json_object_get(conf, "version")) != 2) {
        json_decref(conf);
        q->err_msg = "An inventory table is not available for V1 metadata configurations.";
        return S3_ERR_METHOD_NOT_ALLOWED;
    }
    /* Each enablement is a new inventory (AWS): inventory_since_ms tells the
     * journal room which one its table state belongs to, so enabling again
     * over a leftover table fails with InventoryTableAlreadyExists. */
    if (on && !json_is_true(json_object_get(conf, "inventory")))
        json_object_set_new(conf, "inventory_since_ms", json_integer(clock_now_ms()));
    json_object_set_new(conf, "inventory", json_boolean(on));
    rc = conf_store(q, conf);
    json_decref(conf);
    if (rc == S3_OK)
        q->r->status = 200;
    return rc;
}

const s3_op_t s3_op_create_bucket_metadata_configuration = {
    "CreateBucketMetadataConfiguration", false, s3_begin_xml_body, create_v2_run};
const s3_op_t s3_op_get_bucket_metadata_configuration = {"GetBucketMetadataConfiguration", false,
                                                         s3_begin_no_body, get_v2_run};
const s3_op_t s3_op_delete_bucket_metadata_configuration = {
    "DeleteBucketMetadataConfiguration", false, s3_begin_no_body, delete_v2_run};
const s3_op_t s3_op_update_metadata_journal_table = {
    "UpdateBucketMetadataJournalTableConfiguration", false, s3_begin_xml_body,
    update_journal_run};
const s3_op_t s3_op_update_metadata_inventory_table = {
    "UpdateBucketMetadataInventoryTableConfiguration", false, s3_begin_xml_body,
    update_inventory_run};

/* ---- V1 --------------------------------------------------------------- */

static s3_err_t create_v1_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    const xml_node_t *dst = root && strcmp(root->name, "MetadataTableConfiguration") == 0
                                ? xml_child(root, "S3TablesDestination")
                                : NULL;
    const char *arn = dst ? xml_child_text(dst, "TableBucketArn") : NULL;
    const char *name = dst ? xml_child_text(dst, "TableName") : NULL;
    if (!arn || !name)
        return S3_ERR_MALFORMED_XML;
    if (strncmp(arn, "arn:aws:s3tables:", 17) != 0 || !strstr(arn, ":bucket/")) {
        q->err_msg = "TableBucketArn must be an S3 Tables table bucket ARN";
        return S3_ERR_INVALID_ARGUMENT;
    }
    size_t nl = strlen(name);
    bool ok = nl >= 1 && nl <= 255;
    for (size_t i = 0; ok && i < nl; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '_';
    if (!ok) {
        q->err_msg = "TableName must be 1-255 characters of [a-z0-9_]";
        return S3_ERR_INVALID_ARGUMENT;
    }
    json_t *conf = json_pack("{s:i,s:i,s:b,s:s,s:s}", "version", 1, "expiration_days", 0,
                             "inventory", 0, "table_bucket_arn", arn, "table_name", name);
    rc = conf ? create_common(q, conf) : S3_ERR_INTERNAL;
    json_decref(conf);
    return rc;
}

static s3_err_t get_v1_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc;
    json_t *conf = conf_load(q, &rc);
    if (!conf)
        return rc == S3_ERR_NO_METADATA_CONFIGURATION ? S3_ERR_NO_METADATA_TABLE_CONFIGURATION : rc;
    if (json_integer_value(json_object_get(conf, "version")) != 1) {
        json_decref(conf);
        return S3_ERR_METHOD_NOT_ALLOWED;
    }
    json_t *status = status_load(q);
    buf_t *o = &q->r->out;
    const char *st = status_of(status, "journal", "status");
    const char *tarn = status_of(status, "journal", "arn");
    xmlw_root(o, "GetBucketMetadataTableConfigurationResult");
    xmlw_open(o, "MetadataTableConfigurationResult");
    xmlw_open(o, "S3TablesDestinationResult");
    xmlw_elem(o, "TableBucketArn", json_string_value(json_object_get(conf, "table_bucket_arn")));
    xmlw_elem(o, "TableName", json_string_value(json_object_get(conf, "table_name")));
    xmlw_elem(o, "TableArn", tarn ? tarn : "");
    xmlw_elem(o, "TableNamespace", S3_METADATA_V1_NAMESPACE);
    xmlw_close(o, "S3TablesDestinationResult");
    xmlw_close(o, "MetadataTableConfigurationResult");
    xmlw_elem(o, "Status", st ? st : "CREATING");
    const char *code = status_of(status, "journal", "error_code");
    if (code) {
        xmlw_open(o, "Error");
        xmlw_elem(o, "ErrorCode", code);
        xmlw_elem(o, "ErrorMessage", status_of(status, "journal", "error_message"));
        xmlw_close(o, "Error");
    }
    xmlw_close(o, "GetBucketMetadataTableConfigurationResult");
    json_decref(status);
    json_decref(conf);
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t delete_v1_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = delete_common(q, 1);
    return rc == S3_ERR_NO_METADATA_CONFIGURATION ? S3_ERR_NO_METADATA_TABLE_CONFIGURATION : rc;
}

const s3_op_t s3_op_create_bucket_metadata_table_configuration = {
    "CreateBucketMetadataTableConfiguration", false, s3_begin_xml_body, create_v1_run};
const s3_op_t s3_op_get_bucket_metadata_table_configuration = {
    "GetBucketMetadataTableConfiguration", false, s3_begin_no_body, get_v1_run};
const s3_op_t s3_op_delete_bucket_metadata_table_configuration = {
    "DeleteBucketMetadataTableConfiguration", false, s3_begin_no_body, delete_v1_run};
