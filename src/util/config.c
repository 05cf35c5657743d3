/* util/config.c: root credentials and account id in DATA/credentials. */
#include "util/config.h"

#include "util/buf.h"
#include "util/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void random_upper(char *out, size_t n, const char *alphabet)
{
    char hex[129];
    size_t alen = strlen(alphabet);
    codec_random_hex(n, hex);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        out[i] = alphabet[v % alen];
    }
    out[n] = '\0';
}

static bool copy_field(json_t *j, const char *name, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(j, name));
    if (!v || strlen(v) >= cap)
        return false;
    memcpy(out, v, strlen(v) + 1);
    return true;
}

bool config_credentials_load(kura_config_t *cfg, bool *created)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/credentials", cfg->data_dir);
    *created = false;
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (j) {
        bool ok = copy_field(j, "access_key_id", cfg->access_key, sizeof cfg->access_key) &&
                  copy_field(j, "secret_access_key", cfg->secret_key, sizeof cfg->secret_key) &&
                  copy_field(j, "account_id", cfg->account_id, sizeof cfg->account_id);
        json_decref(j);
        if (!ok) {
            errno = EINVAL;
            return false;
        }
    } else {
        if (access(path, F_OK) == 0) {
            errno = EINVAL;
            return false;
        }
        memcpy(cfg->access_key, "KURA", 4);
        random_upper(cfg->access_key + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        random_upper(cfg->secret_key, 40,
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
        random_upper(cfg->account_id, 12, "0123456789");
        if (cfg->account_id[0] == '0')
            cfg->account_id[0] = '1';
        const char *ak = getenv("KURA_ACCESS_KEY_ID");
        const char *sk = getenv("KURA_SECRET_ACCESS_KEY");
        j = json_pack("{s:s, s:s, s:s}", "access_key_id",
                      ak && *ak ? ak : cfg->access_key, "secret_access_key",
                      sk && *sk ? sk : cfg->secret_key, "account_id", cfg->account_id);
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        if (!text) {
            errno = ENOMEM;
            return false;
        }
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        size_t len = strlen(text);
        bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
                  fsync(fd) == 0;
        if (fd >= 0)
            close(fd);
        free(text);
        if (!ok || rename(tmp, path) != 0) {
            unlink(tmp);
            return false;
        }
        *created = true;
    }
    const char *ak = getenv("KURA_ACCESS_KEY_ID");
    const char *sk = getenv("KURA_SECRET_ACCESS_KEY");
    if (ak && *ak && sk && *sk && strlen(ak) < sizeof cfg->access_key &&
        strlen(sk) < sizeof cfg->secret_key) {
        memcpy(cfg->access_key, ak, strlen(ak) + 1);
        memcpy(cfg->secret_key, sk, strlen(sk) + 1);
    }
    return true;
}
