/* The credential-name rule of the system account register. */
#include <stdlib.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/credentials.h"

static char s_paths[512];

static void s_collect(void *arg, const char *path)
{
    (*(int *)arg)++;
    strncat(s_paths, path, sizeof s_paths - strlen(s_paths) - 2);
    strcat(s_paths, " ");
}

static int s_found(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    CHECK(v != NULL);
    s_paths[0] = '\0';
    int calls = 0;
    int n = credential_members(v, s_collect, &calls);
    CHECK(n == calls);
    cJSON_Delete(v);
    return n;
}

int main(void)
{
    static const char *const yes[] = {
        "password",    "Password",  "PASSWORD",     "admin_password",  "passwd",
        "db_passwd",   "secret",    "clientSecret", "credential",      "credentials",
        "token",       "api_token", "key",          "ssh_key",         "apiKey",
        "private_key", "keys",      "KeyFile",      "x-password-hash", NULL};
    static const char *const no[] = {"account_name",
                                     "holder_user_id",
                                     "kind",
                                     "privileges",
                                     "assigned_at",
                                     "reason",
                                     "revoked_at",
                                     "pass",
                                     "word",
                                     "secre",
                                     "tok",
                                     "ke",
                                     "",
                                     NULL};
    for (const char *const *s = yes; *s; s++) {
        CHECK(credential_name(*s));
        if (!credential_name(*s)) fprintf(stderr, "  not a credential: %s\n", *s);
    }
    for (const char *const *s = no; *s; s++) {
        CHECK(!credential_name(*s));
        if (credential_name(*s)) fprintf(stderr, "  a credential: %s\n", *s);
    }
    CHECK(!credential_name(NULL));

    /* a body: every such member named, at any depth, values never matter */
    CHECK(s_found("{\"account_name\":\"root\",\"kind\":\"backend_admin\"}") == 0);
    CHECK(s_found("{\"account_name\":\"password\",\"privileges\":\"token key secret\"}") == 0);
    CHECK(s_found("{\"account_name\":\"root\",\"password\":\"x\"}") == 1);
    CHECK_STR(s_paths, "password ");
    CHECK(s_found("{\"Secret\":1,\"extra\":{\"api_key\":null,\"n\":[{\"token\":\"t\"}]}}") == 3);
    CHECK_STR(s_paths, "Secret extra.api_key extra.n[0].token ");
    CHECK(s_found("{\"credentials\":{\"password\":\"x\"}}") == 2);
    CHECK_STR(s_paths, "credentials credentials.password ");
    CHECK(s_found("[1,2]") == 0);
    CHECK(s_found("\"password\"") == 0);
    return check_done();
}
