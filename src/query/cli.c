/* query/cli.c: `kura sql` (docs/sql.md), a client of POST /kura/sql.
 *
 *   kura sql [options] "SELECT ..."     one statement
 *   kura sql [options] -f file.sql      statements from a file, ';'-separated
 *   kura sql [options] < file.sql       the same from stdin
 *   kura sql [options]                  interactive prompt on a terminal
 * Output: an aligned table on a terminal, else CSV; --csv, --json (JSON
 * lines), --parquet FILE (written locally by DuckDB from the CSV).
 * Like aws-cli: endpoint from --endpoint, $KURA_ENDPOINT, $AWS_ENDPOINT_URL,
 * the profile's endpoint_url (~/.aws/config), else http://127.0.0.1:9000;
 * region from --region, $AWS_REGION, $AWS_DEFAULT_REGION, the profile's,
 * else us-east-1; keys from $KURA_ACCESS_KEY_ID / $KURA_SECRET_ACCESS_KEY,
 * $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, else ~/.aws/credentials
 * ([$AWS_PROFILE] or [default]; $AWS_SHARED_CREDENTIALS_FILE and
 * $AWS_CONFIG_FILE move the two files).
 * Requests are SigV4-signed for service "s3", as `kura user` does. */
#include "query/query_int.h"
#include "auth/auth.h"
#include "util/codec.h"
#include "util/httpc.h"
#include "util/timefmt.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#include <editline/readline.h>
#pragma GCC diagnostic pop

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLI_MAX_INPUT_BYTES ((size_t)16 << 20)
#define CLI_MAX_CELL_WIDTH 60 /* table output truncates wider cells */

typedef enum { OUT_TABLE, OUT_CSV, OUT_JSON, OUT_PARQUET } out_t;

typedef struct {
    char host[256];
    unsigned port;
    char ak[256], sk[256];
    char profile_endpoint[256], profile_region[64]; /* from the aws config file */
    const char *region, *catalog, *database, *parquet;
    out_t out;
} cli_t;

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t k = 0;
    while (s[k] == ' ' || s[k] == '\t')
        k++;
    memmove(s, s + k, strlen(s + k) + 1);
}

/* Reads `section` of an aws-cli style INI file, copying the values of the
 * keys named in keys[] (NULL-terminated) into vals[] (each of cap bytes)
 * when present. A missing file reads as empty. */
static void ini_read(const char *path, const char *section, const char *const *keys, char **vals,
                     size_t cap)
{
    char line[1024], want[300];
    FILE *f = path ? fopen(path, "r") : NULL;
    bool in = false;
    if (!f)
        return;
    snprintf(want, sizeof want, "[%s]", section);
    while (fgets(line, sizeof line, f)) {
        trim(line);
        if (line[0] == '[') {
            in = strcmp(line, want) == 0;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!in || !eq)
            continue;
        *eq = '\0';
        char *k = line, *v = eq + 1;
        trim(k);
        trim(v);
        for (size_t i = 0; keys[i]; i++)
            if (!strcmp(k, keys[i]))
                snprintf(vals[i], cap, "%s", v);
    }
    fclose(f);
}

/* $AWS_SHARED_CREDENTIALS_FILE / $AWS_CONFIG_FILE, else ~/.aws/<name>. */
static bool aws_file(const char *env, const char *name, char *path, size_t cap)
{
    const char *p = getenv(env), *home = getenv("HOME");
    if (p && *p)
        return (size_t)snprintf(path, cap, "%s", p) < cap;
    return home && (size_t)snprintf(path, cap, "%s/.aws/%s", home, name) < cap;
}

/* The profile's keys (credentials file, [profile]) and its endpoint_url and
 * region (config file, [default] or [profile NAME]), as aws-cli reads them. */
static void aws_profile(cli_t *c)
{
    const char *prof = getenv("AWS_PROFILE");
    char path[1024], section[300];
    if (!prof || !*prof)
        prof = "default";
    if (aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", path, sizeof path)) {
        static const char *const keys[] = {"aws_access_key_id", "aws_secret_access_key", NULL};
        char *vals[] = {c->ak, c->sk};
        ini_read(path, prof, keys, vals, sizeof c->ak);
    }
    if (aws_file("AWS_CONFIG_FILE", "config", path, sizeof path)) {
        static const char *const keys[] = {"endpoint_url", "region", NULL};
        char *vals[] = {c->profile_endpoint, c->profile_region};
        snprintf(section, sizeof section, strcmp(prof, "default") ? "profile %s" : "%s", prof);
        ini_read(path, section, keys, vals, sizeof c->profile_endpoint);
    }
}

/* Keys from $KURA_ACCESS_KEY_ID / $KURA_SECRET_ACCESS_KEY, else
 * $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, else the profile's. */
static bool credentials(cli_t *c)
{
    const char *ak = getenv("KURA_ACCESS_KEY_ID"), *sk = getenv("KURA_SECRET_ACCESS_KEY");
    if (!ak || !sk) {
        ak = getenv("AWS_ACCESS_KEY_ID");
        sk = getenv("AWS_SECRET_ACCESS_KEY");
    }
    if (ak && sk && *ak && *sk) {
        snprintf(c->ak, sizeof c->ak, "%s", ak);
        snprintf(c->sk, sizeof c->sk, "%s", sk);
    }
    return c->ak[0] && c->sk[0];
}

/* One signed POST /kura/sql; the CSV (or JSON lines) body in *out, and the
 * CSV's column types (x-kura-column-types) in types when it is not NULL. */
static int post_sql(const cli_t *c, const char *sql, buf_t *out, char *types, size_t tcap)
{
    const char *fmt = c->out == OUT_JSON ? "jsonl" : "csv";
    json_t *j = json_pack("{s:s,s:s,s:s?,s:s?}", "sql", sql, "format", fmt, "catalog", c->catalog,
                          "database", c->database);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
        return 1;
    size_t len = strlen(body);
    char hostport[300], amz[TIMEFMT_ISO_LEN], iso[TIMEFMT_ISO_LEN], hash[65], err[256];
    uint8_t d[32];
    snprintf(hostport, sizeof hostport, "%s:%u", c->host, c->port);
    timefmt_iso8601_s(timefmt_now_ms() / 1000, iso);
    size_t k = 0;
    for (const char *p = iso; *p && k + 1 < sizeof amz; p++)
        if (*p != '-' && *p != ':')
            amz[k++] = *p;
    amz[k] = '\0';
    codec_sha256(body, len, d);
    codec_hex(d, sizeof d, hash);
    auth_header_t hs[3] = {{"host", hostport}, {"x-amz-content-sha256", hash}, {"x-amz-date", amz}};
    auth_request_t ar = {.method = "POST", .raw_path = "/kura/sql", .headers = hs, .nheaders = 3};
    char *authz = auth_sign_header(&ar, c->ak, c->sk, c->region, "s3", amz,
                                   "host;x-amz-content-sha256;x-amz-date", hash);
    httpc_header_t hh[5] = {{"Host", hostport},
                            {"x-amz-content-sha256", hash},
                            {"x-amz-date", amz},
                            {"Authorization", authz ? authz : ""},
                            {"Content-Type", "application/json"}};
    httpc_response_t resp;
    bool ok = authz && httpc_request(c->host, c->port, "POST", "/kura/sql", hh, 5, body, len,
                                     &resp, err, sizeof err);
    free(authz);
    free(body);
    if (!ok) {
        fprintf(stderr, "kura sql: %s\n", authz ? err : "signing failed");
        return 1;
    }
    if (resp.status / 100 != 2) {
        json_error_t je;
        json_t *e = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &je);
        json_t *eo = json_object_get(e, "error");
        fprintf(stderr, "kura sql: %s: %s\n",
                json_string_value(json_object_get(eo, "code")) ? json_string_value(json_object_get(eo, "code"))
                                                               : "error",
                json_string_value(json_object_get(eo, "message"))
                    ? json_string_value(json_object_get(eo, "message"))
                    : buf_cstr(&resp.body));
        json_decref(e);
        buf_release(&resp.body);
        return 1;
    }
    if (types && !httpc_response_header(&resp, "x-kura-column-types", types, tcap))
        types[0] = '\0';
    buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len);
    buf_release(&resp.body);
    return 0;
}

/* Splits kura's own CSV (every value quoted, NULL empty) into cells. */
static size_t csv_cells(char *s, char **cells, size_t max, char **next)
{
    size_t n = 0;
    char *w = s;
    while (*s && *s != '\n' && n < max) {
        if (*s == '"') {
            cells[n++] = w;
            for (s++; *s; s++) {
                if (*s == '"' && s[1] == '"') {
                    *w++ = '"';
                    s++;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *w++ = *s;
                }
            }
            *w++ = '\0';
        } else {
            cells[n++] = "NULL";
        }
        if (*s == ',')
            s++;
        w = s > w ? w : s;
        if (*s != '"' && *s != ',' && *s != '\n' && *s)
            break;
    }
    while (*s && *s != '\n')
        s++;
    *next = *s ? s + 1 : s;
    return n;
}

static void print_table(buf_t *csv)
{
    char *p = csv->data ? csv->data : (char *)"";
    char ***rows = NULL;
    size_t nrows = 0, cap = 0, ncols = 0, width[256] = {0};
    while (*p) {
        char **cells = calloc(256, sizeof *cells), *next;
        size_t n = csv_cells(p, cells, 256, &next);
        if (n > ncols)
            ncols = n;
        if (nrows == cap) {
            cap = cap ? cap * 2 : 64;
            rows = realloc(rows, cap * sizeof *rows);
        }
        rows[nrows++] = cells;
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(cells[i]);
            if (l > width[i])
                width[i] = l > CLI_MAX_CELL_WIDTH ? CLI_MAX_CELL_WIDTH : l;
        }
        p = next;
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t i = 0; i < ncols; i++)
            printf("%s%-*.*s", i ? " | " : "", (int)width[i], (int)width[i],
                   rows[r][i] ? rows[r][i] : "");
        putchar('\n');
        if (r == 0) {
            for (size_t i = 0; i < ncols; i++) {
                printf("%s", i ? "-+-" : "");
                for (size_t k = 0; k < width[i]; k++)
                    putchar('-');
            }
            putchar('\n');
        }
        free(rows[r]);
    }
    if (nrows)
        printf("(%zu row%s)\n", nrows - 1, nrows == 2 ? "" : "s");
    free(rows);
}

/* CSV -> Parquet with a local DuckDB (types inferred from the text). */
/* The Parquet column type for a server column type: the type itself where
 * its text reads back exactly, else the text (DECIMAL -- the server names no
 * precision --, nested types, intervals, BLOB). */
static const char *parquet_type(const char *t, size_t n)
{
    static const char *const same[] = {
        "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
        "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT", "FLOAT", "DOUBLE", "DATE", "TIME",
        "TIMESTAMP", "TIMESTAMPTZ", "UUID", "VARCHAR", NULL};
    for (size_t i = 0; same[i]; i++)
        if (strlen(same[i]) == n && strncmp(same[i], t, n) == 0)
            return same[i];
    return "VARCHAR";
}

/* The CSV result as a local Parquet file, typed from the column types the
 * server sent (without them DuckDB would guess, and a text column of
 * digits would come out as numbers). */
static int write_parquet(const cli_t *c, buf_t *csv, const char *types)
{
    char tmp[] = "/tmp/kura-sql-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0 || write(fd, csv->data ? csv->data : "", csv->len) != (ssize_t)csv->len) {
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    duckdb_database db;
    duckdb_connection conn;
    duckdb_result r;
    int rc = 1;
    if (duckdb_open(NULL, &db) == DuckDBSuccess) {
        if (duckdb_connect(db, &conn) == DuckDBSuccess) {
            buf_t q;
            buf_init(&q, (size_t)1 << 20);
            buf_puts(&q, "COPY (SELECT * FROM read_csv(");
            query_sql_str(&q, tmp);
            /* NULL is an empty field, "" an empty string (query_csv_row). */
            buf_puts(&q, ", header=true, allow_quoted_nulls=false");
            if (types && *types) {
                buf_puts(&q, ", types=[");
                for (const char *p = types; *p;) {
                    size_t n = strcspn(p, ",");
                    buf_printf(&q, "%s'%s'", p == types ? "" : ", ", parquet_type(p, n));
                    p += n + (p[n] == ',');
                }
                buf_putc(&q, ']');
            }
            buf_puts(&q, ")) TO ");
            query_sql_str(&q, c->parquet);
            buf_puts(&q, " (FORMAT parquet)");
            if (!buf_ok(&q) || duckdb_query(conn, buf_cstr(&q), &r) == DuckDBError)
                fprintf(stderr, "kura sql: %s\n",
                        buf_ok(&q) ? duckdb_result_error(&r) : "too many columns");
            else
                rc = 0;
            if (buf_ok(&q))
                duckdb_destroy_result(&r);
            buf_release(&q);
            duckdb_disconnect(&conn);
        }
        duckdb_close(&db);
    }
    unlink(tmp);
    return rc;
}

static int run_one(const cli_t *c, const char *sql)
{
    buf_t out;
    char types[HTTPC_MAX_HEAD];
    buf_init(&out, (size_t)1 << 31);
    int rc = post_sql(c, sql, &out, types, sizeof types);
    if (rc == 0) {
        if (c->out == OUT_TABLE)
            print_table(&out);
        else if (c->out == OUT_PARQUET)
            rc = write_parquet(c, &out, types);
        else
            fwrite(out.data ? out.data : "", 1, out.len, stdout);
    }
    buf_release(&out);
    return rc;
}

/* Runs each ';'-terminated statement of a script (quote-aware via the
 * scanner); stops at the first failure. */
static int run_script(const cli_t *c, const char *text, size_t len)
{
    arena_t *a = arena_new(0);
    query_tok_t *t;
    size_t n, start = 0;
    char msg[256];
    int rc = 0;
    if (!a)
        return 1;
    if (query_lex(a, text, len, &t, &n, msg, sizeof msg) != QUERY_OK) {
        fprintf(stderr, "kura sql: %s\n", msg);
        arena_free(a);
        return 1;
    }
    for (size_t i = 0; i <= n && rc == 0; i++) {
        bool end = i == n || (t[i].kind == QTK_PUNCT && text[t[i].off] == ';');
        if (!end)
            continue;
        size_t stop = i == n ? len : t[i].off;
        char *stmt = arena_strndup(a, text + start, stop - start);
        start = i == n ? len : t[i].off + 1;
        if (!stmt)
            break;
        trim(stmt);
        if (*stmt)
            rc = run_one(c, stmt);
    }
    arena_free(a);
    return rc;
}

/* The prompt's history file: $KURA_SQL_HISTORY, else ~/.kura_sql_history;
 * NULL (no history kept) without either. */
static char *history_path(void)
{
    const char *env = getenv("KURA_SQL_HISTORY"), *home = getenv("HOME");
    char *p = NULL;
    if (env && *env)
        return strdup(env);
    if (home && *home && asprintf(&p, "%s/.kura_sql_history", home) < 0)
        return NULL;
    return p;
}

/* The prompt (a terminal on stdin): libedit for line editing, a statement
 * ends at a ';' token and may span lines; each statement is one history
 * entry (its lines joined by spaces), saved as soon as it is entered so a
 * killed session keeps it. */
static int interactive(const cli_t *c)
{
    buf_t stmt;
    char *hist = history_path(), *last = NULL;
    buf_init(&stmt, CLI_MAX_INPUT_BYTES);
    using_history();
    stifle_history(1000);
    if (hist)
        read_history(hist);
    fprintf(stderr, "kura sql — end statements with ';', quit with \\q or Ctrl-D\n");
    for (;;) {
        char *line = readline(stmt.len ? "   ...> " : "kura> ");
        if (!line)
            break;
        if (!stmt.len && (!strncmp(line, "\\q", 2) || !strncmp(line, "quit", 4) ||
                          !strncmp(line, "exit", 4))) {
            free(line);
            break;
        }
        if (stmt.len)
            buf_putc(&stmt, '\n');
        buf_puts(&stmt, line);
        free(line);
        /* A statement is complete once the scanner sees a ';' token. */
        arena_t *a = arena_new(0);
        query_tok_t *t;
        size_t n;
        char msg[64];
        bool done = false;
        if (a && query_lex(a, stmt.data, stmt.len, &t, &n, msg, sizeof msg) == QUERY_OK)
            for (size_t i = 0; i < n; i++)
                done |= t[i].kind == QTK_PUNCT && stmt.data[t[i].off] == ';';
        arena_free(a);
        if (done || !buf_ok(&stmt)) {
            char *entry = strdup(buf_cstr(&stmt));
            for (char *p = entry; p && *p; p++)
                if (*p == '\n')
                    *p = ' ';
            if (entry && *entry && (!last || strcmp(entry, last) != 0)) {
                add_history(entry); /* a statement run again is not kept twice */
                if (hist)
                    write_history(hist);
                free(last);
                last = entry;
            } else {
                free(entry);
            }
            run_script(c, stmt.data, stmt.len);
            buf_reset(&stmt);
        }
    }
    if (hist)
        write_history(hist);
    free(hist);
    free(last);
    buf_release(&stmt);
    return 0;
}

static const char usage[] =
    "usage: kura sql [--endpoint URL] [--region R] [--catalog C] [--database D]\n"
    "                [--csv | --json | --parquet FILE] [-f FILE | \"SQL\"]\n";

int query_cli_main(int argc, char **argv)
{
    cli_t c;
    const char *endpoint = NULL, *file = NULL, *sql = NULL;
    memset(&c, 0, sizeof c);
    aws_profile(&c);
    c.out = isatty(STDOUT_FILENO) ? OUT_TABLE : OUT_CSV;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--endpoint") && more)
            endpoint = argv[++i];
        else if (!strcmp(a, "--region") && more)
            c.region = argv[++i];
        else if (!strcmp(a, "--catalog") && more)
            c.catalog = argv[++i];
        else if (!strcmp(a, "--database") && more)
            c.database = argv[++i];
        else if (!strcmp(a, "--csv"))
            c.out = OUT_CSV;
        else if (!strcmp(a, "--json"))
            c.out = OUT_JSON;
        else if (!strcmp(a, "--parquet") && more) {
            c.out = OUT_PARQUET;
            c.parquet = argv[++i];
        } else if (!strcmp(a, "-f") && more)
            file = argv[++i];
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (a[0] != '-' && !sql)
            sql = a;
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    /* As aws-cli: the option, then the environment, then the profile. */
    const char *env_region = getenv("AWS_REGION") ? getenv("AWS_REGION")
                                                  : getenv("AWS_DEFAULT_REGION");
    if (!c.region)
        c.region = env_region && *env_region ? env_region
                   : c.profile_region[0]     ? c.profile_region
                                             : "us-east-1";
    if (!endpoint)
        endpoint = getenv("KURA_ENDPOINT");
    if (!endpoint || !*endpoint)
        endpoint = getenv("AWS_ENDPOINT_URL");
    if (!endpoint || !*endpoint)
        endpoint = c.profile_endpoint[0] ? c.profile_endpoint : "http://127.0.0.1:9000";
    if (!httpc_parse_endpoint(endpoint, c.host, sizeof c.host, &c.port)) {
        fprintf(stderr, "kura sql: bad endpoint %s\n", endpoint);
        return 2;
    }
    if (!credentials(&c)) {
        fprintf(stderr, "kura sql: no credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                        "or KURA_*, or ~/.aws/credentials)\n");
        return 2;
    }
    if (sql)
        return run_one(&c, sql);
    if (!file && isatty(STDIN_FILENO))
        return interactive(&c);
    FILE *f = file ? fopen(file, "r") : stdin;
    if (!f) {
        fprintf(stderr, "kura sql: cannot open %s\n", file);
        return 2;
    }
    buf_t text;
    buf_init(&text, CLI_MAX_INPUT_BYTES);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&text, chunk, n);
    if (file)
        fclose(f);
    int rc = buf_ok(&text) ? run_script(&c, text.data ? text.data : "", text.len) : 2;
    buf_release(&text);
    return rc;
}
