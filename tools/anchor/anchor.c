/*
 * itgov-anchor: a governed system anchors digests of its rotated logs and
 * fingerprints of its configuration in itgov's signed audit log, and checks
 * a log file against those anchors without trusting the server (issue 14,
 * articles 15-17). Operators' guide: deploy/anchor/README.md.
 *
 *   itgov-anchor digest      --log NAME FILE...
 *   itgov-anchor fingerprint --component NAME FILE...
 *   itgov-anchor verify      --log NAME --public-key FILE FILE
 *
 * Settings (a flag wins over its variable):
 *   --url URL          ITGOV_ANCHOR_URL        base URL, e.g. https://itgov.example.edu.cn
 *   --key-file FILE    ITGOV_ANCHOR_KEY        the system key (never a flag)
 *   --project ID       ITGOV_ANCHOR_PROJECT    the project the key is for
 *   --state FILE       ITGOV_ANCHOR_STATE_DIR  default <dir>/<log>.state,
 *                                              dir /var/lib/itgov-anchor
 *   --public-key FILE  ITGOV_ANCHOR_PUBLIC_KEY the audit public key (verify)
 *   --timeout SECONDS  ITGOV_ANCHOR_TIMEOUT_S  per request, default 30
 *   --ca-file FILE     ITGOV_ANCHOR_CA_FILE    https://: the CAs to trust
 *                                              (default: the system's)
 *
 * Exit status: 0 done (verify: anchored and proven), 1 not anchored or the
 * proof does not hold, 2 bad usage or a local file that cannot be read or
 * written, 3 the server refused or could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include "http.h"
#include "proof.h"
#include "segment.h"
#include "state.h"

enum { EXIT_OK = 0, EXIT_NOT_ANCHORED = 1, EXIT_USAGE = 2, EXIT_SERVER = 3 };

#define KEY_MAX 256

struct opts {
    const char *cmd;
    const char *url, *key_file, *project, *state, *public_key, *log, *component, *timeout;
    const char *ca_file;
    char **files;
    int nfiles;
    long long project_id;
    int timeout_s;
    char key[KEY_MAX + 1];
};

static const char USAGE[] =
    "usage:\n"
    "  itgov-anchor digest      --log NAME [options] FILE...\n"
    "  itgov-anchor fingerprint --component NAME [options] FILE...\n"
    "  itgov-anchor verify      --log NAME --public-key FILE [options] FILE\n"
    "options (or their variables):\n"
    "  --url URL          ITGOV_ANCHOR_URL         itgov's base URL (https://host[:port])\n"
    "  --key-file FILE    ITGOV_ANCHOR_KEY         the system key (the file's first line)\n"
    "  --project ID       ITGOV_ANCHOR_PROJECT     the project of the key\n"
    "  --state FILE       ITGOV_ANCHOR_STATE_DIR   digest: default "
    "/var/lib/itgov-anchor/<log>.state\n"
    "  --public-key FILE  ITGOV_ANCHOR_PUBLIC_KEY  verify: GET /api/v1/audit/public-key, saved\n"
    "  --timeout SECONDS  ITGOV_ANCHOR_TIMEOUT_S   per request (default 30)\n"
    "  --ca-file FILE     ITGOV_ANCHOR_CA_FILE     https://: CAs to trust (default: the system's)\n"
    "exit: 0 ok, 1 not anchored or proof invalid, 2 usage or local file, 3 server or network\n";

static int s_usage(const char *msg)
{
    if (msg) fprintf(stderr, "itgov-anchor: %s\n", msg);
    fputs(USAGE, stderr);
    return EXIT_USAGE;
}

static int s_local(const char *msg)
{
    fprintf(stderr, "itgov-anchor: %s\n", msg);
    return EXIT_USAGE;
}

static const char *s_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* A decimal integer in [lo, hi]. */
static bool s_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s || (s[0] == '0' && s[1])) return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* The key: the first line of --key-file, else ITGOV_ANCHOR_KEY. Printable
 * ASCII without spaces; never echoed. */
static int s_read_key(struct opts *o)
{
    char buf[KEY_MAX + 2] = "";
    if (o->key_file) {
        FILE *f = fopen(o->key_file, "r");
        if (!f) {
            fprintf(stderr, "itgov-anchor: cannot read the key file %s: %s\n", o->key_file,
                    strerror(errno));
            return EXIT_USAGE;
        }
        struct stat st;
        if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
            fprintf(stderr,
                    "itgov-anchor: warning: the key file %s is readable by others "
                    "(chmod 600)\n",
                    o->key_file);
        if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
    } else if (s_env("ITGOV_ANCHOR_KEY")) {
        snprintf(buf, sizeof buf, "%s", s_env("ITGOV_ANCHOR_KEY"));
    } else {
        return s_usage("no key: set ITGOV_ANCHOR_KEY or give --key-file (never the key itself)");
    }
    size_t n = strlen(buf);
    bool ok = n > 0 && n <= KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = buf[i] > 0x20 && buf[i] < 0x7f;
    if (ok) memcpy(o->key, buf, n + 1);
    sodium_memzero(buf, sizeof buf);
    if (!ok) return s_local("the key (file or ITGOV_ANCHOR_KEY) does not hold a key");
    return EXIT_OK;
}

static int s_parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {{"url", required_argument, NULL, 'u'},
                                             {"key-file", required_argument, NULL, 'k'},
                                             {"project", required_argument, NULL, 'p'},
                                             {"state", required_argument, NULL, 's'},
                                             {"public-key", required_argument, NULL, 'P'},
                                             {"log", required_argument, NULL, 'l'},
                                             {"component", required_argument, NULL, 'c'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"key", required_argument, NULL, 'K'},
                                             {"ca-file", required_argument, NULL, 'C'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    if (argc < 2) return s_usage(NULL);
    o->cmd = argv[1];
    if (!strcmp(o->cmd, "-h") || !strcmp(o->cmd, "--help") || !strcmp(o->cmd, "help")) {
        fputs(USAGE, stdout);
        exit(EXIT_OK);
    }
    if (strcmp(o->cmd, "digest") && strcmp(o->cmd, "fingerprint") && strcmp(o->cmd, "verify"))
        return s_usage("the command is digest, fingerprint or verify");
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->url = optarg;
            break;
        case 'k':
            o->key_file = optarg;
            break;
        case 'p':
            o->project = optarg;
            break;
        case 's':
            o->state = optarg;
            break;
        case 'P':
            o->public_key = optarg;
            break;
        case 'l':
            o->log = optarg;
            break;
        case 'c':
            o->component = optarg;
            break;
        case 't':
            o->timeout = optarg;
            break;
        case 'C':
            o->ca_file = optarg;
            break;
        case 'K':
            return s_usage("the key is never given on the command line (other users can read "
                           "it there): use ITGOV_ANCHOR_KEY or --key-file");
        case 'h':
            fputs(USAGE, stdout);
            exit(EXIT_OK);
        default: {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown or incomplete option %.100s", argv[optind - 1]);
            return s_usage(msg);
        }
        }
    }
    o->files = argv + optind;
    o->nfiles = argc - optind;
    if (!o->url) o->url = s_env("ITGOV_ANCHOR_URL");
    if (!o->project) o->project = s_env("ITGOV_ANCHOR_PROJECT");
    if (!o->public_key) o->public_key = s_env("ITGOV_ANCHOR_PUBLIC_KEY");
    if (!o->timeout) o->timeout = s_env("ITGOV_ANCHOR_TIMEOUT_S");
    if (!o->ca_file) o->ca_file = s_env("ITGOV_ANCHOR_CA_FILE");
    bool is_fp = !strcmp(o->cmd, "fingerprint"), is_verify = !strcmp(o->cmd, "verify");
    if (is_fp ? !o->component : !o->log)
        return s_usage(is_fp ? "--component NAME is required" : "--log NAME is required");
    if (is_fp ? o->log != NULL : o->component != NULL)
        return s_usage(is_fp ? "--log is for digest and verify" : "--component is for fingerprint");
    const char *name = is_fp ? o->component : o->log;
    if (!anchor_name_ok(name))
        return s_usage("the name must be 1 to 200 bytes without control characters");
    if (o->nfiles < 1) return s_usage("no FILE given");
    if (is_verify && o->nfiles != 1) return s_usage("verify checks one FILE");
    if (is_verify && !o->public_key)
        return s_usage("verify needs --public-key FILE (or ITGOV_ANCHOR_PUBLIC_KEY): the audit "
                       "public key, saved once from GET /api/v1/audit/public-key");
    if (!o->url) return s_usage("no URL: give --url or set ITGOV_ANCHOR_URL");
    char why[300];
    if (!anchor_url_ok(o->url, why, sizeof why)) return s_usage(why);
    if (!s_int(o->project, 1, 9007199254740991LL, &o->project_id))
        return s_usage("--project (or ITGOV_ANCHOR_PROJECT) must be a project id (a positive "
                       "integer)");
    long long t = 30;
    if (o->timeout && !s_int(o->timeout, 1, 3600, &t))
        return s_usage("--timeout (or ITGOV_ANCHOR_TIMEOUT_S) must be 1 to 3600 seconds");
    o->timeout_s = (int)t;
    return s_read_key(o);
}

/* Prints what the server said about a refusal: status, code, title,
 * detail and the fields it named. */
static void s_refused(const char *what, const struct anchor_answer *a)
{
    cJSON *j = a->body ? cJSON_Parse(a->body) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(j, "title");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
    fprintf(stderr, "itgov-anchor: %s: the server answered %d", what, a->status);
    if (cJSON_IsString(code)) fprintf(stderr, " %.100s", code->valuestring);
    if (cJSON_IsString(title)) fprintf(stderr, ": %.300s", title->valuestring);
    if (cJSON_IsString(detail)) fprintf(stderr, ": %.500s", detail->valuestring);
    if (!j) fprintf(stderr, " (not problem+json)");
    fputc('\n', stderr);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors"), *e;
    int shown = 0;
    cJSON_ArrayForEach(e, errs)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (cJSON_IsString(f) && cJSON_IsString(m) && shown++ < 20)
            fprintf(stderr, "  %.100s: %.300s\n", f->valuestring, m->valuestring);
    }
    cJSON_Delete(j);
}

static bool s_is_code(const struct anchor_answer *a, const char *want)
{
    cJSON *j = a->body ? cJSON_Parse(a->body) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    bool is = cJSON_IsString(code) && strcmp(code->valuestring, want) == 0;
    cJSON_Delete(j);
    return is;
}

/* POSTs body (consumed) to path; retries a 503 (anchoring is slow; the
 * POSTs are idempotent) up to three times. EXIT_OK with the answer in *a,
 * or EXIT_SERVER after printing why. */
static int s_exchange(const struct opts *o, const char *path, cJSON *body, const char *what,
                      struct anchor_answer *a)
{
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!json) abort();
    char why[400];
    int rc = EXIT_SERVER;
    for (int attempt = 0; attempt < 4; attempt++) {
        if (attempt > 0) anchor_answer_free(a);
        struct anchor_target t = {o->url, o->key, o->timeout_s, o->ca_file};
        if (!anchor_post(&t, path, json, a, why, sizeof why)) {
            fprintf(stderr, "itgov-anchor: %s: %s\n", what, why);
            break;
        }
        if (a->status != 503 || attempt == 3) {
            rc = EXIT_OK;
            break;
        }
        int wait = a->retry_after >= 1 && a->retry_after <= 10 ? a->retry_after : 2;
        fprintf(stderr, "itgov-anchor: %s: the server is busy (503), retrying in %d s\n", what,
                wait);
        sleep((unsigned)wait);
    }
    free(json);
    return rc;
}

static long long s_member_int(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 9e15
               ? (long long)v->valuedouble
               : 0;
}

/* ---- digest --------------------------------------------------------------- */

static char *s_state_path(const struct opts *o)
{
    if (o->state) return strdup(o->state);
    const char *dir = s_env("ITGOV_ANCHOR_STATE_DIR");
    if (!dir) dir = "/var/lib/itgov-anchor";
    size_t n = strlen(dir) + strlen(o->log) + 16;
    char *p = malloc(n);
    if (!p) abort();
    int len = snprintf(p, n, "%s/", dir);
    for (const char *c = o->log; *c; c++) /* the log name as a file name */
        p[len++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                           (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_'
                       ? *c
                       : '_';
    snprintf(p + len, n - (size_t)len, ".state");
    return p;
}

static int s_digest(const struct opts *o)
{
    char why[600], path[64];
    char *state_path = s_state_path(o);
    struct anchor_state st;
    struct anchor_segment *segs = calloc((size_t)o->nfiles, sizeof *segs);
    if (!segs || !state_path) abort();
    int rc = EXIT_OK;
    if (!anchor_state_load(state_path, o->log, &st, why, sizeof why)) {
        rc = s_local(why);
        goto out;
    }
    for (int i = 0; i < o->nfiles; i++) {
        if (!anchor_segment_scan(o->files[i], &segs[i], why, sizeof why)) {
            rc = s_local(why);
            goto done;
        }
        if (!anchor_name_ok(segs[i].name)) {
            snprintf(why, sizeof why,
                     "the segment name of %.300s must be 1 to 200 bytes without control "
                     "characters",
                     o->files[i]);
            rc = s_local(why);
            goto done;
        }
    }
    anchor_segments_sort(segs, (size_t)o->nfiles);
    snprintf(path, sizeof path, "/api/v1/systems/%lld/log-digests", o->project_id);
    int posted = 0;
    for (int i = 0; i < o->nfiles && rc == EXIT_OK; i++) {
        const struct anchor_segment *s = &segs[i];
        if (anchor_state_has(&st, s->sha256)) continue; /* anchored before (or a copy) */
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "log_name", o->log);
        cJSON_AddStringToObject(b, "segment", s->name);
        cJSON_AddStringToObject(b, "first_entry_at", s->first_at);
        cJSON_AddStringToObject(b, "last_entry_at", s->last_at);
        cJSON_AddNumberToObject(b, "entries", (double)s->entries);
        cJSON_AddStringToObject(b, "sha256", s->sha256);
        if (st.last[0])
            cJSON_AddStringToObject(b, "previous_sha256", st.last);
        else
            cJSON_AddNullToObject(b, "previous_sha256");
        char what[300];
        snprintf(what, sizeof what, "anchoring %.250s", s->path);
        struct anchor_answer a;
        rc = s_exchange(o, path, b, what, &a);
        if (rc != EXIT_OK) break;
        cJSON *j = a.status == 200 || a.status == 201 ? cJSON_Parse(a.body) : NULL;
        long long seq = s_member_int(j, "seq"), finding = s_member_int(j, "finding_id");
        cJSON_Delete(j);
        if (seq && finding && a.status == 201)
            fprintf(stderr,
                    "itgov-anchor: %s does not follow the last segment anchored for log %s: "
                    "itgov raised the finding log_chain_broken (id %lld) for the IT office\n",
                    s->path, o->log, finding);
        if (!seq) {
            s_refused(what, &a);
            rc = EXIT_SERVER;
        } else {
            anchor_state_add(&st, s->sha256, seq, s->name);
            if (!anchor_state_save(state_path, &st, why, sizeof why)) {
                fprintf(stderr, "itgov-anchor: %s was anchored (seq %lld) but: %s\n", s->path, seq,
                        why);
                rc = EXIT_USAGE;
            } else {
                printf("anchored %s sha256 %s seq %lld%s\n", s->name, s->sha256, seq,
                       a.status == 200 ? " (already anchored)" : "");
                posted++;
            }
        }
        anchor_answer_free(&a);
    }
    if (rc == EXIT_OK && posted == 0) printf("nothing new to anchor for log %s\n", o->log);
done:
    anchor_state_free(&st);
out:
    free(segs);
    free(state_path);
    return rc;
}

/* ---- fingerprint ---------------------------------------------------------- */

static int s_fingerprint(const struct opts *o)
{
    char sha[65], why[600], path[80], now[21];
    if (!anchor_files_sha256((const char *const *)o->files, (size_t)o->nfiles, sha, why,
                             sizeof why))
        return s_local(why);
    anchor_format_time(time(NULL), now);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "component", o->component);
    cJSON_AddStringToObject(b, "sha256", sha);
    cJSON_AddStringToObject(b, "observed_at", now);
    snprintf(path, sizeof path, "/api/v1/systems/%lld/config-fingerprints", o->project_id);
    char what[300];
    snprintf(what, sizeof what, "fingerprint of %.200s", o->component);
    struct anchor_answer a;
    int rc = s_exchange(o, path, b, what, &a);
    if (rc != EXIT_OK) return rc;
    cJSON *j = a.status == 201 || a.status == 200 ? cJSON_Parse(a.body) : NULL;
    if (!cJSON_IsObject(j)) {
        s_refused(what, &a);
        rc = EXIT_SERVER;
    } else {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *finding = cJSON_GetObjectItemCaseSensitive(j, "finding");
        printf("observed %s sha256 %s", o->component, sha);
        if (cJSON_IsNumber(id)) printf(" id %lld", (long long)id->valuedouble);
        putchar('\n');
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(finding, "kind");
        if (cJSON_IsString(kind))
            fprintf(stderr,
                    "itgov-anchor: finding raised: %s (the IT office has a task to look at "
                    "it)\n",
                    kind->valuestring);
    }
    cJSON_Delete(j);
    anchor_answer_free(&a);
    return rc;
}

/* ---- verify --------------------------------------------------------------- */

static int s_load_pubkey(const char *file, struct anchor_pubkey *key)
{
    char buf[4096], why[500];
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(why, sizeof why, "cannot read the public key file %.200s: %s", file,
                 strerror(errno));
        return s_local(why);
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n == sizeof buf - 1 || memchr(buf, '\0', n))
        return s_local("the public key file is not a key");
    char inner[200];
    if (!anchor_pubkey_parse(buf, key, inner, sizeof inner)) {
        snprintf(why, sizeof why, "%.200s: %s", file, inner);
        return s_local(why);
    }
    return EXIT_OK;
}

static int s_verify(const struct opts *o)
{
    struct anchor_pubkey key;
    int rc = s_load_pubkey(o->public_key, &key);
    if (rc != EXIT_OK) return rc;
    struct anchor_segment seg;
    char why[600];
    if (!anchor_segment_scan(o->files[0], &seg, why, sizeof why)) return s_local(why);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "project_id", (double)o->project_id);
    cJSON_AddStringToObject(b, "log_name", o->log);
    cJSON_AddStringToObject(b, "sha256", seg.sha256);
    char what[300];
    snprintf(what, sizeof what, "verifying %.250s", o->files[0]);
    struct anchor_answer a;
    rc = s_exchange(o, "/api/v1/log-digests/verify", b, what, &a);
    if (rc != EXIT_OK) return rc;
    if (a.status == 404 && s_is_code(&a, "not_anchored")) {
        printf("NOT ANCHORED: %s (sha256 %s) is not a segment anchored for log %s\n", o->files[0],
               seg.sha256, o->log);
        rc = EXIT_NOT_ANCHORED;
    } else if (a.status != 200) {
        s_refused(what, &a);
        rc = EXIT_SERVER;
    } else {
        cJSON *j = cJSON_Parse(a.body);
        long long seq = 0;
        struct anchor_claim claim = {o->project_id, o->log, seg.sha256};
        if (!anchor_proof_check(j, &key, &claim, &seq, why, sizeof why)) {
            printf("INVALID: %s (sha256 %s): %s\n", o->files[0], seg.sha256, why);
            rc = EXIT_NOT_ANCHORED;
        } else {
            const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "anchored_at");
            const cJSON *cp = cJSON_GetObjectItemCaseSensitive(j, "checkpoint");
            printf("OK: %s (sha256 %s) is entry %lld of the audit log", o->files[0], seg.sha256,
                   seq);
            if (cJSON_IsString(at)) printf(", anchored %s", at->valuestring);
            printf(", proven to the checkpoint of size %lld signed by key %s\n",
                   s_member_int(cp, "size"), key.key_id);
        }
        cJSON_Delete(j);
    }
    anchor_answer_free(&a);
    return rc;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fputs("itgov-anchor: libsodium failed to initialise\n", stderr);
        return EXIT_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct opts o;
    int rc = s_parse(argc, argv, &o);
    if (rc == EXIT_OK) {
        if (!strcmp(o.cmd, "digest"))
            rc = s_digest(&o);
        else if (!strcmp(o.cmd, "fingerprint"))
            rc = s_fingerprint(&o);
        else
            rc = s_verify(&o);
    }
    sodium_memzero(o.key, sizeof o.key);
    return rc;
}
