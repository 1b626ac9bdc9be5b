/*
 * The signing key and the signed heads of the log (formats in checkpoint.h).
 * Heads are made on the loop: every 5 s when the log grew, and when one is
 * asked for and the cached one is a second old and behind. Each is stored
 * (INSERT only) so that verify can later compare the log with every head it
 * ever signed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "audit.h"
#include "checkpoint.h"
#include "ingest.h"
#include "itgov/crypto.h"
#include "itgov/db.h"
#include "itgov/log.h"
#include "merkle.h"

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

static struct {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    char key_id[17];
    char pk_b64[64];
    bool loaded;
    struct checkpoint cur;
    bool have_cur;
    double made_at; /* monotonic seconds */
    struct event *timer;
    struct db *db;
} k;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool s_write_new_key(const char *path, unsigned char seed[32])
{
    randombytes_buf(seed, 32);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, seed, 32, B64_VARIANT);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        log_error("cannot create the signing key file %s: %s", path, strerror(errno));
        return false;
    }
    size_t len = strlen(b64);
    b64[len++] = '\n';
    bool ok = write(fd, b64, len) == (ssize_t)len && fsync(fd) == 0;
    if (close(fd) != 0) ok = false;
    sodium_memzero(b64, sizeof b64);
    if (!ok)
        log_error("cannot write the signing key file %s: %s", path, strerror(errno));
    else
        log_info("generated a new signing key in %s", path);
    return ok;
}

static bool s_read_key(const char *path, unsigned char seed[32])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("cannot read the signing key file %s: %s", path, strerror(errno));
        return false;
    }
    char line[128] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    size_t n = 0;
    bool ok = got &&
              sodium_base642bin(seed, 32, line, strlen(line), NULL, &n, NULL, B64_VARIANT) == 0 &&
              n == 32;
    sodium_memzero(line, sizeof line);
    if (!ok) log_error("the signing key file %s does not hold a base64 Ed25519 seed", path);
    return ok;
}

bool checkpoint_key_load(const char *path)
{
    unsigned char seed[32];
    struct stat st;
    bool ok = stat(path, &st) == 0 ? s_read_key(path, seed) : s_write_new_key(path, seed);
    if (!ok) return false;
    crypto_sign_seed_keypair(k.pk, k.sk, seed);
    sodium_memzero(seed, sizeof seed);
    char hex[65];
    sha256_hex(k.pk, sizeof k.pk, hex);
    memcpy(k.key_id, hex, 16);
    k.key_id[16] = '\0';
    sodium_bin2base64(k.pk_b64, sizeof k.pk_b64, k.pk, sizeof k.pk, B64_VARIANT);
    k.loaded = true;
    log_info("signing key %s loaded", k.key_id);
    return true;
}

const char *checkpoint_key_id(void)
{
    return k.key_id;
}

const char *checkpoint_public_key(void)
{
    return k.pk_b64;
}

int checkpoint_message(const struct checkpoint *c, char *buf, size_t cap)
{
    return snprintf(buf, cap, "itgov-audit-checkpoint v1\n%lld\n%s\n%s\n", c->size, c->root_hash,
                    c->time);
}

bool checkpoint_make(const struct merkle *tree, long long size, struct checkpoint *out)
{
    merkle_hash root;
    if (!k.loaded || !merkle_root(tree, size, root)) return false;
    out->size = size;
    hex_encode(root, sizeof root, out->root_hash);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out->time, sizeof out->time, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char msg[256];
    int len = checkpoint_message(out, msg, sizeof msg);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, (unsigned long long)len, k.sk);
    sodium_bin2base64(out->signature, sizeof out->signature, sig, sizeof sig, B64_VARIANT);
    return true;
}

bool checkpoint_signed_by_us(const struct checkpoint *c, const char *key_id)
{
    unsigned char sig[crypto_sign_BYTES];
    size_t n = 0;
    char msg[256];
    int len = checkpoint_message(c, msg, sizeof msg);
    return k.loaded && strcmp(key_id, k.key_id) == 0 && len > 0 && (size_t)len < sizeof msg &&
           sodium_base642bin(sig, sizeof sig, c->signature, strlen(c->signature), NULL, &n, NULL,
                             B64_VARIANT) == 0 &&
           n == sizeof sig &&
           crypto_sign_verify_detached(sig, (const unsigned char *)msg, (unsigned long long)len,
                                       k.pk) == 0;
}

cJSON *checkpoint_json(const struct checkpoint *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "size", (double)c->size);
    cJSON_AddStringToObject(o, "root_hash", c->root_hash);
    cJSON_AddStringToObject(o, "time", c->time);
    cJSON_AddStringToObject(o, "key_id", k.key_id);
    cJSON_AddStringToObject(o, "signature", c->signature);
    return o;
}

static void s_on_stored(void *arg, PGresult *res, struct error *err)
{
    if (err) {
        log_warn("cannot store a checkpoint: %s", err->detail);
        error_destroy(&err);
    }
}

static void s_store(const struct checkpoint *c)
{
    char size[24];
    snprintf(size, sizeof size, "%lld", c->size);
    const char *params[] = {size, c->root_hash, c->time, k.key_id, c->signature};
    db_query(k.db,
             "INSERT INTO checkpoints (size, root_hash, time, key_id, signature) "
             "VALUES ($1::bigint, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING",
             5, params, s_on_stored, NULL);
}

/* A new head of the whole log, if it grew; min_age: seconds the cached one
 * must have lived first. */
static void s_refresh(double min_age)
{
    long long size = ingest_size();
    if (k.have_cur && (k.cur.size == size || s_now() - k.made_at < min_age)) return;
    struct checkpoint c;
    if (!checkpoint_make(ingest_tree(), size, &c)) return;
    k.cur = c;
    k.have_cur = true;
    k.made_at = s_now();
    if (size > 0) s_store(&c);
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s_refresh(0);
}

void checkpoints_start(struct event_base *base, struct db *db)
{
    k.db = db;
    k.timer = event_new(base, -1, EV_PERSIST, s_on_timer, NULL);
    struct timeval iv = {5, 0};
    event_add(k.timer, &iv);
}

void checkpoints_stop(void)
{
    if (k.timer) event_free(k.timer);
    k.timer = NULL;
    sodium_memzero(k.sk, sizeof k.sk);
}

const struct checkpoint *checkpoint_current(void)
{
    s_refresh(1.0);
    return k.have_cur ? &k.cur : NULL;
}
