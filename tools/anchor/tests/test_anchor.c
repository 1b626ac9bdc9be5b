/*
 * The pure parts of itgov-anchor: the proof check (a good proof, a forged
 * path, a forged signature, another key, the entry behind the leaf), the
 * state file (round trip, damaged files, atomic save) and the segments
 * (line times, ordering, a scan of a real file).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include "merkle.h"
#include "proof.h"
#include "segment.h"
#include "state.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void s_hex(const unsigned char *b, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

static char *s_b64(const unsigned char *b, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    sodium_bin2base64(out, cap, b, n, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* A log of n entries whose entry k (seq k+1) is a CloudEvent naming sha of
 * digest k; its tree, the hashes and the CloudEvents. */
struct fixture {
    unsigned char pk[32], sk[64];
    char key_id[17];
    struct merkle *tree;
    char prev[20][65], hash[20][65], *ce[20];
    int n;
    char digest[20][65];
};

static void s_fixture(struct fixture *f, int n)
{
    memset(f, 0, sizeof *f);
    crypto_sign_keypair(f->pk, f->sk);
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, f->pk, 32);
    s_hex(h, 32, hex);
    memcpy(f->key_id, hex, 16);
    f->tree = merkle_new();
    f->n = n;
    unsigned char prev[32] = {0};
    for (int i = 0; i < n; i++) {
        char seg[32];
        snprintf(seg, sizeof seg, "segment %d", i);
        crypto_hash_sha256(h, (const unsigned char *)seg, strlen(seg));
        s_hex(h, 32, f->digest[i]);
        char ce[400];
        snprintf(ce, sizeof ce,
                 "{\"id\":\"e%d\",\"seq\":%d,\"type\":\"itgov.system.log_digest.anchored\","
                 "\"data\":{\"project_id\":42,\"log_name\":\"access\",\"sha256\":\"%s\"}}",
                 i, i + 1, f->digest[i]);
        f->ce[i] = strdup(ce);
        s_hex(prev, 32, f->prev[i]);
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, prev, 32);
        crypto_hash_sha256_update(&st, (const unsigned char *)ce, strlen(ce));
        crypto_hash_sha256_final(&st, prev);
        s_hex(prev, 32, f->hash[i]);
        merkle_hash leaf;
        merkle_leaf_hash(prev, 32, leaf);
        merkle_append(f->tree, leaf);
    }
}

static void s_fixture_free(struct fixture *f)
{
    merkle_destroy(&f->tree);
    for (int i = 0; i < f->n; i++)
        free(f->ce[i]);
}

/* The answer of verify for entry index in the tree of size, signed. */
static cJSON *s_answer(const struct fixture *f, int index, int size, bool with_entry)
{
    merkle_hash root, path[MERKLE_MAX_PROOF];
    merkle_root(f->tree, size, root);
    int n = merkle_inclusion(f->tree, index, size, path);
    char root_hex[65], leaf_hex[65], msg[256];
    s_hex(root, 32, root_hex);
    s_hex(merkle_leaf(f->tree, index), 32, leaf_hex);
    const char *time = "2026-11-30T14:00:00Z";
    int len = anchor_checkpoint_message(size, root_hex, time, msg, sizeof msg);
    unsigned char sig[64];
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, (unsigned long long)len, f->sk);
    char *sig_b64 = s_b64(sig, 64);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddTrueToObject(a, "anchored");
    cJSON_AddNumberToObject(a, "seq", index + 1);
    cJSON_AddStringToObject(a, "anchored_at", time);
    cJSON *p = cJSON_AddObjectToObject(a, "inclusion_proof");
    cJSON_AddNumberToObject(p, "leaf_index", index);
    cJSON_AddNumberToObject(p, "tree_size", size);
    cJSON_AddStringToObject(p, "leaf_hash", leaf_hex);
    cJSON *arr = cJSON_AddArrayToObject(p, "audit_path");
    for (int i = 0; i < n; i++) {
        char hex[65];
        s_hex(path[i], 32, hex);
        cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
    }
    cJSON *c = cJSON_AddObjectToObject(a, "checkpoint");
    cJSON_AddNumberToObject(c, "size", size);
    cJSON_AddStringToObject(c, "root_hash", root_hex);
    cJSON_AddStringToObject(c, "time", time);
    cJSON_AddStringToObject(c, "key_id", f->key_id);
    cJSON_AddStringToObject(c, "signature", sig_b64);
    free(sig_b64);
    if (with_entry) {
        cJSON *e = cJSON_AddObjectToObject(a, "entry");
        cJSON_AddStringToObject(e, "prev_hash", f->prev[index]);
        cJSON_AddStringToObject(e, "hash", f->hash[index]);
        cJSON_AddStringToObject(e, "cloudevent", f->ce[index]);
    }
    return a;
}

static struct anchor_pubkey s_key(const struct fixture *f)
{
    struct anchor_pubkey k;
    char *b64 = s_b64(f->pk, 32), why[200];
    CHECK(anchor_pubkey_parse(b64, &k, why, sizeof why));
    free(b64);
    return k;
}

static bool s_check(const cJSON *a, const struct fixture *f, int index, char *why)
{
    struct anchor_pubkey k = s_key(f);
    long long seq = 0;
    struct anchor_claim c = {42, "access", f->digest[index]};
    bool ok = anchor_proof_check(a, &k, &c, &seq, why, 300);
    if (ok) CHECK(seq == index + 1);
    return ok;
}

/* Flips one hex digit of a string member. */
static void s_flip(cJSON *o, const char *name, int at)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    char *s = strdup(v->valuestring);
    s[at] = s[at] == '0' ? '1' : '0';
    cJSON_SetValuestring(v, s);
    free(s);
}

static void test_proof(void)
{
    struct fixture f;
    s_fixture(&f, 13);
    char why[300];
    /* every leaf of every tree size holds */
    for (int size = 1; size <= 13; size++)
        for (int i = 0; i < size; i++) {
            cJSON *a = s_answer(&f, i, size, true);
            bool ok = s_check(a, &f, i, why);
            if (!ok) fprintf(stderr, "leaf %d of %d: %s\n", i, size, why);
            CHECK(ok);
            cJSON_Delete(a);
        }

    /* a forged path: one hash of it changed */
    cJSON *a = s_answer(&f, 5, 13, true);
    cJSON *path = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(a, "inclusion_proof"), "audit_path");
    char *h = strdup(cJSON_GetArrayItem(path, 1)->valuestring);
    h[7] = h[7] == 'a' ? 'b' : 'a';
    cJSON_SetValuestring(cJSON_GetArrayItem(path, 1), h);
    free(h);
    CHECK(!s_check(a, &f, 5, why));
    CHECK(strstr(why, "does not lead to the signed root"));
    cJSON_Delete(a);

    /* a path one hash short, and one too long */
    a = s_answer(&f, 5, 13, true);
    path = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "inclusion_proof"),
                                            "audit_path");
    cJSON_DeleteItemFromArray(path, 0);
    CHECK(!s_check(a, &f, 5, why));
    cJSON_AddItemToArray(path, cJSON_CreateString(f.hash[0]));
    cJSON_AddItemToArray(path, cJSON_CreateString(f.hash[1]));
    CHECK(!s_check(a, &f, 5, why));
    cJSON_Delete(a);

    /* the proof of another leaf passed off as this one */
    a = s_answer(&f, 4, 13, true);
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "seq"), 6);
    CHECK(!s_check(a, &f, 5, why));
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(a, "inclusion_proof"), "leaf_index"),
                         5);
    CHECK(!s_check(a, &f, 5, why));
    CHECK(strstr(why, "does not lead to the signed root"));
    cJSON_Delete(a);

    /* a forged signature, a root that is not the signed one, a changed time */
    a = s_answer(&f, 5, 13, true);
    cJSON *cp = cJSON_GetObjectItemCaseSensitive(a, "checkpoint");
    s_flip(cp, "signature", 10);
    CHECK(!s_check(a, &f, 5, why));
    CHECK(strstr(why, "signature"));
    cJSON_Delete(a);
    a = s_answer(&f, 5, 13, true);
    s_flip(cJSON_GetObjectItemCaseSensitive(a, "checkpoint"), "root_hash", 3);
    CHECK(!s_check(a, &f, 5, why));
    cJSON_Delete(a);
    a = s_answer(&f, 5, 13, true);
    cJSON_SetValuestring(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "checkpoint"), "time"),
        "2026-11-30T14:00:01Z");
    CHECK(!s_check(a, &f, 5, why));
    cJSON_Delete(a);

    /* a checkpoint signed, correctly, by another key */
    struct fixture g;
    s_fixture(&g, 13);
    a = s_answer(&g, 5, 13, true);
    CHECK(!s_check(a, &f, 5, why));
    CHECK(strstr(why, "another key"));
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(a, "checkpoint"), "key_id"),
                         f.key_id);
    CHECK(!s_check(a, &f, 5, why));
    cJSON_Delete(a);
    s_fixture_free(&g);

    /* a proof for another tree size than the checkpoint's */
    a = s_answer(&f, 5, 13, true);
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(a, "inclusion_proof"), "tree_size"),
                         12);
    CHECK(!s_check(a, &f, 5, why));
    cJSON_Delete(a);

    /* the entry behind the leaf: another digest's, log's or project's, altered, absent */
    a = s_answer(&f, 5, 13, true);
    struct anchor_pubkey k = s_key(&f);
    long long seq;
    struct anchor_claim good = {42, "access", f.digest[5]}, other_sha = {42, "access", f.digest[6]};
    struct anchor_claim other_log = {42, "error", f.digest[5]},
                        other_prj = {43, "access", f.digest[5]};
    CHECK(anchor_proof_check(a, &k, &good, &seq, why, sizeof why));
    CHECK(!anchor_proof_check(a, &k, &other_sha, &seq, why, sizeof why));
    CHECK(!anchor_proof_check(a, &k, &other_log, &seq, why, sizeof why));
    CHECK(!anchor_proof_check(a, &k, &other_prj, &seq, why, sizeof why));
    CHECK(strstr(why, "not the anchoring of this digest"));
    cJSON *e = cJSON_GetObjectItemCaseSensitive(a, "entry");
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(e, "cloudevent"), f.ce[6]);
    CHECK(!anchor_proof_check(a, &k, &good, &seq, why, sizeof why));
    CHECK(strstr(why, "does not hash to the proven leaf"));
    cJSON_DeleteItemFromObject(a, "entry");
    CHECK(!anchor_proof_check(a, &k, &good, &seq, why, sizeof why));
    CHECK(strstr(why, "does not show the entry"));
    cJSON_Delete(a);

    /* not anchored, missing parts */
    a = cJSON_Parse("{\"anchored\":false}");
    CHECK(!s_check(a, &f, 0, why));
    cJSON_Delete(a);
    a = s_answer(&f, 0, 1, true);
    cJSON_DeleteItemFromObject(a, "checkpoint");
    CHECK(!s_check(a, &f, 0, why));
    cJSON_Delete(a);
    CHECK(!s_check(NULL, &f, 0, why));

    /* the public key file: JSON of GET /audit/public-key, or base64 */
    char *b64 = s_b64(f.pk, 32), json[300];
    snprintf(json, sizeof json,
             "{\"key_id\":\"%s\",\"algorithm\":\"ed25519\",\"public_key\":\"%s\"}\n", f.key_id,
             b64);
    struct anchor_pubkey k2;
    CHECK(anchor_pubkey_parse(json, &k2, why, sizeof why));
    CHECK(memcmp(k2.pk, f.pk, 32) == 0 && strcmp(k2.key_id, f.key_id) == 0);
    snprintf(json, sizeof json, "%s\n", b64);
    CHECK(anchor_pubkey_parse(json, &k2, why, sizeof why));
    snprintf(json, sizeof json,
             "{\"key_id\":\"0000000000000000\",\"algorithm\":\"ed25519\",\"public_key\":\"%s\"}",
             b64);
    CHECK(!anchor_pubkey_parse(json, &k2, why, sizeof why));
    CHECK(!anchor_pubkey_parse("not a key\n", &k2, why, sizeof why));
    CHECK(!anchor_pubkey_parse("", &k2, why, sizeof why));
    free(b64);
    s_fixture_free(&f);
}

static void test_state(void)
{
    char sha1[65], sha2[65], why[300];
    memset(sha1, '1', 64);
    sha1[64] = '\0';
    memset(sha2, 'b', 64);
    sha2[64] = '\0';
    struct anchor_state s, t;
    anchor_state_init(&s, "access");
    CHECK(!anchor_state_has(&s, sha1));
    anchor_state_add(&s, sha1, 7, "access.log-20261128");
    anchor_state_add(&s, sha2, 12, "access log 2 with spaces");
    CHECK(anchor_state_has(&s, sha1) && anchor_state_has(&s, sha2));
    CHECK(strcmp(s.last, sha2) == 0);
    char *text = anchor_state_format(&s);
    CHECK(anchor_state_parse(text, strlen(text), "access", &t, why, sizeof why));
    CHECK(t.n == 2 && strcmp(t.last, sha2) == 0 && t.items[1].seq == 12 &&
          strcmp(t.items[1].segment, "access log 2 with spaces") == 0);
    char *again = anchor_state_format(&t);
    CHECK(strcmp(text, again) == 0);
    free(again);
    anchor_state_free(&t);
    /* another log's state is refused, not reused */
    CHECK(!anchor_state_parse(text, strlen(text), "error", &t, why, sizeof why));
    CHECK(strstr(why, "another log"));
    /* damaged: cut short, a bad line, a bad sha, last not posted, twice */
    CHECK(!anchor_state_parse(text, strlen(text) - 1, "access", &t, why, sizeof why));
    free(text);
    const char *bad[] = {
        "itgov-anchor-state v2\nlog access\n",
        "itgov-anchor-state v1\n",
        "itgov-anchor-state v1\nlog access\nlast 1111\n",
        "itgov-anchor-state v1\nlog access\nposted XYZ 1 a\n",
        "itgov-anchor-state v1\nlog access\nwhat\n",
        "itgov-anchor-state v1\nlog access\nlog access\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!anchor_state_parse(bad[i], strlen(bad[i]), "access", &t, why, sizeof why));
    char buf[600];
    snprintf(buf, sizeof buf, "itgov-anchor-state v1\nlog access\nlast %s\nposted %s 1 a\n", sha2,
             sha1);
    CHECK(!anchor_state_parse(buf, strlen(buf), "access", &t, why, sizeof why));
    snprintf(buf, sizeof buf, "itgov-anchor-state v1\nlog access\nposted %s 1 a\n", sha1);
    CHECK(!anchor_state_parse(buf, strlen(buf), "access", &t, why, sizeof why));
    snprintf(buf, sizeof buf,
             "itgov-anchor-state v1\nlog access\nlast %s\nposted %s 1 a\nposted %s 2 b\n", sha1,
             sha1, sha1);
    CHECK(!anchor_state_parse(buf, strlen(buf), "access", &t, why, sizeof why));
    snprintf(buf, sizeof buf, "itgov-anchor-state v1\nlog access\nlast %s\nposted %s 01 a\n", sha1,
             sha1);
    CHECK(!anchor_state_parse(buf, strlen(buf), "access", &t, why, sizeof why));
    snprintf(buf, sizeof buf, "itgov-anchor-state v1\nlog access\nlast %s\nposted %s 1 a\x01\n",
             sha1, sha1);
    CHECK(!anchor_state_parse(buf, strlen(buf), "access", &t, why, sizeof why));
    CHECK(!anchor_state_parse("itgov-anchor-state v1\nlog ac\0cess\n", 34, "access", &t, why,
                              sizeof why));

    /* save and load through a real file; a missing file is the empty state */
    char dir[] = "/tmp/test_anchor.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/access.state", dir);
    CHECK(anchor_state_load(path, "access", &t, why, sizeof why));
    CHECK(t.n == 0 && t.last[0] == '\0');
    anchor_state_free(&t);
    CHECK(anchor_state_save(path, &s, why, sizeof why));
    CHECK(anchor_state_save(path, &s, why, sizeof why)); /* replaces */
    CHECK(anchor_state_load(path, "access", &t, why, sizeof why));
    CHECK(t.n == 2 && strcmp(t.last, sha2) == 0);
    anchor_state_free(&t);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
    char tmp[340];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(access(tmp, F_OK) != 0); /* no temporary file left behind */
    FILE *f = fopen(path, "w");
    fputs("itgov-anchor-state v1\nlog access\nposted zz\n", f);
    fclose(f);
    CHECK(!anchor_state_load(path, "access", &t, why, sizeof why));
    CHECK(strstr(why, "damaged"));
    snprintf(tmp, sizeof tmp, "%s/no/such/dir/x.state", dir);
    CHECK(!anchor_state_save(tmp, &s, why, sizeof why));
    unlink(path);
    rmdir(dir);
    anchor_state_free(&s);

    CHECK(anchor_name_ok("access.log-20261130"));
    CHECK(anchor_name_ok("访问日志"));
    CHECK(!anchor_name_ok(""));
    CHECK(!anchor_name_ok("a\tb"));
    char longname[202];
    memset(longname, 'x', 201);
    longname[201] = '\0';
    CHECK(!anchor_name_ok(longname));
    longname[200] = '\0';
    CHECK(anchor_name_ok(longname));
}

static time_t s_t(const char *line)
{
    time_t t = 0;
    return anchor_line_time(line, strlen(line), &t) ? t : (time_t)-1;
}

static void test_segments(void)
{
    /* 2026-11-30T08:00:00Z */
    const time_t want = 1796025600;
    CHECK(s_t("2026-11-30T08:00:00Z GET /") == want);
    CHECK(s_t("2026-11-30 09:00:00.123+01:00 app started") == want);
    CHECK(s_t("2026-11-30T03:00:00-0500 x") == want);
    CHECK(s_t("127.0.0.1 - - [30/Nov/2026:09:00:00 +0100] \"GET / HTTP/1.1\" 200") == want);
    CHECK(s_t("2026-11-30T08:00:00 no zone") == (time_t)-1);
    CHECK(s_t("2026-02-30T08:00:00Z impossible") == (time_t)-1);
    CHECK(s_t("Nov 30 08:00:00 host syslog") == (time_t)-1);
    CHECK(s_t("[30/Foo/2026:09:00:00 +0100]") == (time_t)-1);
    CHECK(s_t("") == (time_t)-1);
    char out[21];
    anchor_format_time(want, out);
    CHECK(strcmp(out, "2026-11-30T08:00:00Z") == 0);

    /* oldest first: by time, then by name in natural order */
    struct anchor_segment s[5] = {
        {.path = "d/log.10", .name = "log.10", .mtime_ns = 5},
        {.path = "d/log.9", .name = "log.9", .mtime_ns = 5},
        {.path = "d/c", .name = "c", .mtime_ns = 1},
        {.path = "d/access.log-20261130", .name = "access.log-20261130", .mtime_ns = 9},
        {.path = "d/access.log-20261129", .name = "access.log-20261129", .mtime_ns = 9},
    };
    anchor_segments_sort(s, 5);
    CHECK(!strcmp(s[0].name, "c") && !strcmp(s[1].name, "log.9") && !strcmp(s[2].name, "log.10"));
    CHECK(!strcmp(s[3].name, "access.log-20261129") && !strcmp(s[4].name, "access.log-20261130"));

    /* a real file: sha256, lines, first and last entry times */
    char dir[] = "/tmp/test_anchor.XXXXXX", path[300], why[300];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/app.log.1", dir);
    FILE *f = fopen(path, "w");
    fputs("2026-11-30T08:00:00Z first\nmiddle\n2026-11-30T09:30:00Z last", f);
    fclose(f);
    struct anchor_segment seg;
    CHECK(anchor_segment_scan(path, &seg, why, sizeof why));
    CHECK(seg.entries == 3 && strcmp(seg.name, "app.log.1") == 0);
    CHECK(strcmp(seg.first_at, "2026-11-30T08:00:00Z") == 0);
    CHECK(strcmp(seg.last_at, "2026-11-30T09:30:00Z") == 0);
    /* unknown format: the modification time for both */
    f = fopen(path, "w");
    fputs("abc", f);
    fclose(f);
    struct timespec ts[2] = {{want, 0}, {want, 0}};
    CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
    CHECK(anchor_segment_scan(path, &seg, why, sizeof why));
    CHECK(seg.entries == 1);
    CHECK(strcmp(seg.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ==
          0);
    CHECK(strcmp(seg.first_at, "2026-11-30T08:00:00Z") == 0 &&
          strcmp(seg.last_at, seg.first_at) == 0);
    /* times out of order: the modification time */
    f = fopen(path, "w");
    fputs("2026-11-30T09:00:00Z a\n2026-11-30T07:00:00Z b\n", f);
    fclose(f);
    CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
    CHECK(anchor_segment_scan(path, &seg, why, sizeof why));
    CHECK(seg.entries == 2 && strcmp(seg.first_at, "2026-11-30T08:00:00Z") == 0);
    /* empty file */
    f = fopen(path, "w");
    fclose(f);
    CHECK(anchor_segment_scan(path, &seg, why, sizeof why));
    CHECK(seg.entries == 0);
    /* fingerprint of files concatenated: "ab" + "c" = "abc" */
    char p2[300], p3[300], sha[65];
    snprintf(p2, sizeof p2, "%s/a", dir);
    snprintf(p3, sizeof p3, "%s/b", dir);
    f = fopen(p2, "w");
    fputs("ab", f);
    fclose(f);
    f = fopen(p3, "w");
    fputs("c", f);
    fclose(f);
    const char *files[] = {p2, p3};
    CHECK(anchor_files_sha256(files, 2, sha, why, sizeof why));
    CHECK(strcmp(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    const char *missing[] = {p2, "/nonexistent/x"};
    CHECK(!anchor_files_sha256(missing, 2, sha, why, sizeof why));
    CHECK(!anchor_segment_scan("/nonexistent/x", &seg, why, sizeof why));
    CHECK(!anchor_segment_scan(dir, &seg, why, sizeof why)); /* a directory */
    unlink(p2);
    unlink(p3);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    test_proof();
    test_state();
    test_segments();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("test_anchor: ok");
    return 0;
}
