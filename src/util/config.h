/* util/config.h: kura's settings, frozen after startup and passed as const.
 * The embedded default serves ./data on 127.0.0.1:9000 in us-east-1. */
#ifndef KURA_UTIL_CONFIG_H
#define KURA_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KURA_DEFAULT_LISTEN "127.0.0.1:9000"
#define KURA_DEFAULT_DATA "./data"
#define KURA_DEFAULT_REGION "us-east-1"
#define KURA_DEFAULT_LIFECYCLE_INTERVAL_S 3600

typedef struct {
    const char *data_dir;
    char host[64];    /* listen address */
    unsigned port;
    const char *region;
    const char *domain; /* virtual-hosted style: BUCKET.<domain>; "localhost" always works */
    unsigned threads;
    size_t inline_max_bytes;
    /* Root credentials and the account they belong to (12 digits). */
    char access_key[129];
    char secret_key[129];
    char account_id[13];
    bool test_clock;              /* POST /kura/admin/clock may advance the service clock */
    unsigned lifecycle_interval_s; /* lifecycle worker period; default hourly */
} kura_config_t;

/* Loads DATA/credentials or creates it (mode 0600) with fresh root
 * credentials and account id. KURA_ACCESS_KEY_ID / KURA_SECRET_ACCESS_KEY
 * override the stored keys (the account id is still kept in the file).
 * *created is set when the file was written now. Returns false (errno set)
 * on an I/O error or an unreadable file. */
bool config_credentials_load(kura_config_t *cfg, bool *created);

#endif
