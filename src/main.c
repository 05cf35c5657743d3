/* main.c: the kura command line.
 *   kura serve [--data DIR] [--listen HOST:PORT] [--region R] [--domain D] [--threads N]
 *   kura fsck [--data DIR] [--repair]
 *   kura version | kura --help
 * docs/configuration.md documents each flag; keep the two in step. */
#include "http/http.h"
#include "query/query.h"
#include "router/router.h"
#include "s3/s3.h"
#include "store/store.h"
#include "util/codec.h"
#include "util/config.h"
#include "util/httpc.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/timefmt.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv);

/* An idle connection (or a client that stopped sending its body) is
 * dropped after this, as S3 does after about 20 s (RequestTimeout). */
#define KURA_CONN_TIMEOUT_S 30
/* Per-connection memory for the request line, headers and read buffer.
 * S3 limits request headers to 8 KiB; libmicrohttpd clears this pool
 * between requests on a connection, so it is kept small. */
#define KURA_HEAD_BYTES ((size_t)32 << 10)
#define KURA_MIN_THREADS 8

static const char usage[] =
    "kura — S3-compatible object storage, S3 Tables and SQL on your own machine\n"
    "\n"
    "usage:\n"
    "  kura serve [--data DIR] [--listen HOST:PORT] [--region REGION] [--domain DOMAIN]\n"
    "             [--threads N] [--lifecycle-interval SECONDS] [--test-clock]\n"
    "      Serve the S3 API (and kura's own endpoints) until SIGTERM or SIGINT.\n"
    "      Defaults: --data ./data --listen 127.0.0.1:9000 --region us-east-1.\n"
    "      Root credentials are generated on first start into DIR/credentials (0600)\n"
    "      unless KURA_ACCESS_KEY_ID and KURA_SECRET_ACCESS_KEY are set.\n"
    "      --test-clock lets POST /kura/admin/clock advance the service clock\n"
    "      (retention, lifecycle): for tests, never for production.\n"
    "  kura user add NAME [--policy FILE] | user list | user delete NAME\n"
    "  kura user policy NAME FILE\n"
    "      Manage users of a running server: access keys with an IAM identity\n"
    "      policy. Talks to --endpoint (default $KURA_ENDPOINT or\n"
    "      http://127.0.0.1:9000) with the root credentials from\n"
    "      KURA_ACCESS_KEY_ID/KURA_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID/\n"
    "      AWS_SECRET_ACCESS_KEY, or --data DIR's credentials file.\n"
    "  kura sql [\"SELECT ...\" | -f FILE] [--csv | --json | --parquet OUT]\n"
    "      SQL over table buckets on a running server (docs/sql.md).\n"
    "  kura fsck [--data DIR] [--repair]\n"
    "      Check blob reference counts against the index (server stopped);\n"
    "      --repair removes orphaned blobs.\n"
    "  kura version\n"
    "  kura --help\n";

static bool parse_listen(const char *s, kura_config_t *cfg)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    uint64_t port;
    if (parse_u64_str(colon + 1, 65535, &port) != PARSE_OK)
        return false;
    size_t hl = (size_t)(colon - s);
    /* "[::1]:9000" -> "::1" */
    const char *h = s;
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        h = s + 1;
        hl -= 2;
    }
    if (hl >= sizeof cfg->host)
        return false;
    memcpy(cfg->host, h, hl);
    cfg->host[hl] = '\0';
    cfg->port = (unsigned)port;
    return true;
}

/* Parses the flags after the command. Returns false on a bad flag (printed). */
static bool parse_flags(int argc, char **argv, kura_config_t *cfg, bool *repair)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--repair") == 0 && repair) {
            *repair = true;
            continue;
        }
        if (strcmp(a, "--test-clock") == 0 && !repair) {
            cfg->test_clock = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "kura: %s needs a value\n", a);
            return false;
        }
        i++;
        if (strcmp(a, "--data") == 0) {
            cfg->data_dir = v;
        } else if (strcmp(a, "--listen") == 0) {
            if (!parse_listen(v, cfg)) {
                fprintf(stderr, "kura: --listen wants HOST:PORT, got '%s'\n", v);
                return false;
            }
        } else if (strcmp(a, "--region") == 0) {
            cfg->region = v;
        } else if (strcmp(a, "--domain") == 0) {
            cfg->domain = v;
        } else if (strcmp(a, "--lifecycle-interval") == 0) {
            uint64_t n;
            if (parse_u64_str(v, 86400 * 7, &n) != PARSE_OK || n == 0) {
                fprintf(stderr, "kura: --lifecycle-interval wants 1..604800 seconds\n");
                return false;
            }
            cfg->lifecycle_interval_s = (unsigned)n;
        } else if (strcmp(a, "--threads") == 0) {
            uint64_t n;
            if (parse_u64_str(v, 1024, &n) != PARSE_OK || n == 0) {
                fprintf(stderr, "kura: --threads wants 1..1024\n");
                return false;
            }
            cfg->threads = (unsigned)n;
        } else {
            fprintf(stderr, "kura: unknown flag %s\n\n%s", a, usage);
            return false;
        }
    }
    return true;
}

static void config_defaults(kura_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->data_dir = KURA_DEFAULT_DATA;
    parse_listen(KURA_DEFAULT_LISTEN, cfg);
    cfg->region = KURA_DEFAULT_REGION;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    /* Handlers block on fsync and blob I/O; group commit needs several
     * requests in flight to batch them, so the pool is larger than the cores. */
    cfg->threads = n > 0 && 4 * n > KURA_MIN_THREADS ? (unsigned)(4 * n) : KURA_MIN_THREADS;
    cfg->inline_max_bytes = 8192;
    cfg->lifecycle_interval_s = KURA_DEFAULT_LIFECYCLE_INTERVAL_S;
}

static int open_data_dir(const kura_config_t *cfg)
{
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kura: cannot create data directory %s: %s\n", cfg->data_dir,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Printed once, on first start, to stdout: stderr is the access log, which
 * must never hold a secret. A secret given through the environment is not
 * printed at all. */
static void print_first_start(const kura_config_t *cfg)
{
    const char *env_secret = getenv("KURA_SECRET_ACCESS_KEY");
    bool from_env = env_secret && *env_secret;
    fprintf(stdout,
            "\n"
            "kura: first start: root credentials written to %s/credentials (mode 0600)\n"
            "\n"
            "  export AWS_ACCESS_KEY_ID=%s\n"
            "  export AWS_SECRET_ACCESS_KEY=%s\n"
            "  export AWS_DEFAULT_REGION=%s\n"
            "  aws --endpoint-url http://%s:%u s3 mb s3://my-bucket\n"
            "\n"
            "  account id: %s\n\n",
            cfg->data_dir, cfg->access_key,
            from_env ? "\"$KURA_SECRET_ACCESS_KEY\"" : cfg->secret_key, cfg->region, cfg->host,
            cfg->port, cfg->account_id);
    fflush(stdout);
}

static int cmd_serve(kura_config_t *cfg)
{
    if (open_data_dir(cfg) != 0)
        return 1;
    bool created = false;
    if (!config_credentials_load(cfg, &created)) {
        fprintf(stderr, "kura: cannot read or create %s/credentials: %s\n", cfg->data_dir,
                strerror(errno));
        return 1;
    }
    if (created)
        print_first_start(cfg);

    /* Signals are taken by sigwait below; every thread started from here on
     * inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    store_opts_t so = {.inline_max_bytes = cfg->inline_max_bytes};
    store_t *st = NULL;
    store_rc_t src = store_open(cfg->data_dir, &so, &st);
    if (src != STORE_OK) {
        fprintf(stderr, "kura: cannot open the store in %s: %s\n", cfg->data_dir,
                store_rc_name(src));
        return 1;
    }
    router_t *rt = router_new(cfg, st);
    http_opts_t ho = {
        .host = cfg->host,
        .port = cfg->port,
        .threads = cfg->threads,
        .conn_timeout_s = KURA_CONN_TIMEOUT_S,
        .max_header_bytes = KURA_HEAD_BYTES,
    };
    http_server_t *srv = rt ? http_server_start(&ho, &router_handlers, rt) : NULL;
    if (!srv) {
        router_free(rt);
        store_close(st);
        return 1;
    }
    s3_lifecycle_worker_t *lc = s3_lifecycle_start(router_s3(rt), (int64_t)cfg->lifecycle_interval_s * 1000);
    log_info(NULL, "kura.serve", "listen=%s:%u data=%s region=%s threads=%u version=%s",
             cfg->host, http_server_port(srv), cfg->data_dir, cfg->region, cfg->threads,
             KURA_VERSION);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info(NULL, "kura.stop", "signal=%d msg=\"draining in-flight requests\"", sig);
    http_server_stop(srv);
    s3_lifecycle_stop(lc);
    router_free(rt);
    store_close(st);
    log_info(NULL, "kura.stopped", "msg=\"clean shutdown\"");
    return 0;
}

static int cmd_fsck(kura_config_t *cfg, bool repair)
{
    store_opts_t so = {.inline_max_bytes = cfg->inline_max_bytes};
    store_t *st = NULL;
    store_rc_t rc = store_open(cfg->data_dir, &so, &st);
    if (rc != STORE_OK) {
        fprintf(stderr, "kura: cannot open the store in %s: %s\n", cfg->data_dir,
                store_rc_name(rc));
        return 1;
    }
    store_fsck_t f = {0};
    rc = store_fsck(st, repair, &f);
    store_close(st);
    printf("blobs=%llu orphans=%llu missing=%llu bad_refcounts=%llu%s\n",
           (unsigned long long)f.blobs, (unsigned long long)f.orphans,
           (unsigned long long)f.missing, (unsigned long long)f.bad_refcounts,
           repair ? " (orphans removed)" : "");
    if (rc != STORE_OK)
        return 1;
    return f.missing || f.bad_refcounts || (f.orphans && !repair) ? 1 : 0;
}

/* ---- kura user: admin calls to a running server ----------------------- */

static bool read_file(const char *path, buf_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    bool ok = !ferror(f) && buf_ok(out);
    fclose(f);
    return ok;
}

/* Root credentials for the CLI: environment first, then the data dir. */
static bool cli_credentials(kura_config_t *cfg)
{
    const char *ak = getenv("KURA_ACCESS_KEY_ID"), *sk = getenv("KURA_SECRET_ACCESS_KEY");
    if (!ak || !sk) {
        ak = getenv("AWS_ACCESS_KEY_ID");
        sk = getenv("AWS_SECRET_ACCESS_KEY");
    }
    if (ak && sk && *ak && *sk && strlen(ak) < sizeof cfg->access_key &&
        strlen(sk) < sizeof cfg->secret_key) {
        memcpy(cfg->access_key, ak, strlen(ak) + 1);
        memcpy(cfg->secret_key, sk, strlen(sk) + 1);
        return true;
    }
    bool created = false;
    char path[4096];
    snprintf(path, sizeof path, "%s/credentials", cfg->data_dir);
    return access(path, R_OK) == 0 && config_credentials_load(cfg, &created);
}

/* One SigV4-signed admin call; prints the body; exit status 0 on 2xx. */
static int admin_call(const kura_config_t *cfg, const char *endpoint, const char *method,
                      const char *path, const void *body, size_t len)
{
    char host[256];
    unsigned port;
    if (!httpc_parse_endpoint(endpoint, host, sizeof host, &port)) {
        fprintf(stderr, "kura: bad endpoint %s\n", endpoint);
        return 2;
    }
    char hostport[300], amz[TIMEFMT_HTTP_LEN], hash[65];
    uint8_t d[32];
    snprintf(hostport, sizeof hostport, "%s:%u", host, port);
    int64_t now = timefmt_now_ms() / 1000;
    char iso[TIMEFMT_ISO_LEN];
    timefmt_iso8601_s(now, iso); /* 2006-01-02T15:04:05Z -> 20060102T150405Z */
    size_t k = 0;
    for (const char *c = iso; *c && k + 1 < sizeof amz; c++)
        if (*c != '-' && *c != ':')
            amz[k++] = *c;
    amz[k] = '\0';
    codec_sha256(body, len, d);
    codec_hex(d, sizeof d, hash);
    auth_header_t hs[3] = {{"host", hostport}, {"x-amz-content-sha256", hash}, {"x-amz-date", amz}};
    auth_request_t ar = {.method = method, .raw_path = path, .headers = hs, .nheaders = 3};
    char *authz = auth_sign_header(&ar, cfg->access_key, cfg->secret_key, cfg->region, "s3", amz,
                                   "host;x-amz-content-sha256;x-amz-date", hash);
    if (!authz)
        return 1;
    httpc_header_t hh[5] = {{"Host", hostport},
                            {"x-amz-content-sha256", hash},
                            {"x-amz-date", amz},
                            {"Authorization", authz},
                            {"Content-Type", "application/json"}};
    httpc_response_t resp;
    char err[256];
    bool ok = httpc_request(host, port, method, path, hh, 5, body, len, &resp, err, sizeof err);
    free(authz);
    if (!ok) {
        fprintf(stderr, "kura: %s\n", err);
        return 1;
    }
    if (resp.body.len)
        fwrite(resp.body.data, 1, resp.body.len, resp.status / 100 == 2 ? stdout : stderr);
    buf_release(&resp.body);
    return resp.status / 100 == 2 ? 0 : 1;
}

static int cmd_user(int argc, char **argv, kura_config_t *cfg)
{
    const char *endpoint = getenv("KURA_ENDPOINT");
    const char *policy_file = NULL;
    const char *pos[3] = {NULL, NULL, NULL};
    size_t npos = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
            endpoint = argv[++i];
        else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
            policy_file = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            cfg->data_dir = argv[++i];
        else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            cfg->region = argv[++i];
        else if (npos < 3)
            pos[npos++] = argv[i];
    }
    if (!endpoint)
        endpoint = "http://127.0.0.1:9000";
    if (!cli_credentials(cfg)) {
        fprintf(stderr, "kura: no root credentials (set KURA_ACCESS_KEY_ID and "
                        "KURA_SECRET_ACCESS_KEY, or pass --data DIR)\n");
        return 2;
    }
    const char *verb = pos[0] ? pos[0] : "";
    buf_t body;
    buf_init(&body, (size_t)1 << 20);
    int rc = 2;
    if (strcmp(verb, "list") == 0 && npos == 1) {
        rc = admin_call(cfg, endpoint, "GET", "/kura/admin/users", "", 0);
    } else if (strcmp(verb, "add") == 0 && npos == 2) {
        buf_t pol;
        buf_init(&pol, (size_t)256 << 10);
        if (policy_file && !read_file(policy_file, &pol)) {
            fprintf(stderr, "kura: cannot read %s\n", policy_file);
        } else {
            /* The policy goes as a JSON string: the server validates it. */
            json_t *j = json_pack("{s:s,s:s?}", "name", pos[1], "policy",
                                  policy_file ? buf_cstr(&pol) : NULL);
            char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
            json_decref(j);
            if (s)
                rc = admin_call(cfg, endpoint, "POST", "/kura/admin/users", s, strlen(s));
            free(s);
        }
        buf_release(&pol);
    } else if (strcmp(verb, "delete") == 0 && npos == 2) {
        buf_printf(&body, "/kura/admin/users/%s", pos[1]);
        rc = admin_call(cfg, endpoint, "DELETE", buf_cstr(&body), "", 0);
    } else if (strcmp(verb, "policy") == 0 && npos == 3) {
        buf_t pol;
        buf_init(&pol, (size_t)256 << 10);
        if (!read_file(pos[2], &pol)) {
            fprintf(stderr, "kura: cannot read %s\n", pos[2]);
        } else {
            buf_printf(&body, "/kura/admin/users/%s/policy", pos[1]);
            rc = admin_call(cfg, endpoint, "PUT", buf_cstr(&body), pol.data ? pol.data : "",
                            pol.len);
        }
        buf_release(&pol);
    } else {
        fputs(usage, stderr);
    }
    buf_release(&body);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("kura %s\n", KURA_VERSION);
        return 0;
    }
    kura_config_t cfg;
    config_defaults(&cfg);
    bool repair = false;
    if (strcmp(argv[1], "serve") == 0) {
        if (!parse_flags(argc, argv, &cfg, NULL))
            return 2;
        return cmd_serve(&cfg);
    }
    if (strcmp(argv[1], "user") == 0)
        return cmd_user(argc, argv, &cfg);
    if (strcmp(argv[1], "sql") == 0)
        return query_cli_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "fsck") == 0) {
        if (!parse_flags(argc, argv, &cfg, &repair))
            return 2;
        return cmd_fsck(&cfg, repair);
    }
    fprintf(stderr, "kura: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
