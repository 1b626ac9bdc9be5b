/* The pure rules of access reviews: the dormancy threshold, the shared
 * account rule over live sessions, the boolean setting. */
#include <stdlib.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/access_rules.h"

static cJSON *s_sessions(const char *json)
{
    cJSON *s = cJSON_Parse(json);
    CHECK(s != NULL);
    return s;
}

static char *s_shared(const char *json)
{
    cJSON *in = s_sessions(json);
    cJSON *out = shared_account_sessions(in);
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(in);
    cJSON_Delete(out);
    return text;
}

static void s_expect_shared(const char *json, const char *want)
{
    char *got = s_shared(json);
    CHECK_STR(got, want);
    if (strcmp(got, want) != 0) fprintf(stderr, "  got %s\n  want %s\n", got, want);
    free(got);
}

int main(void)
{
    /* the threshold: seconds win when given, else days */
    CHECK(dormant_threshold_s(90, 0) == 90LL * 86400);
    CHECK(dormant_threshold_s(1, 0) == 86400);
    CHECK(dormant_threshold_s(90, 5) == 5);
    CHECK(dormant_threshold_s(3650, 0) == 3650LL * 86400);

    /* no sessions, one session, one user from one address many times: nothing */
    s_expect_shared("[]", "[]");
    s_expect_shared("[{\"id\":1,\"user_id\":7,\"ip\":\"10.0.0.1\"}]", "[]");
    s_expect_shared("[{\"id\":1,\"user_id\":7,\"ip\":\"10.0.0.1\"},"
                    "{\"id\":2,\"user_id\":7,\"ip\":\"10.0.0.1\"}]",
                    "[]");
    /* two users from two addresses, each from one: nothing */
    s_expect_shared("[{\"id\":1,\"user_id\":7,\"ip\":\"10.0.0.1\"},"
                    "{\"id\":2,\"user_id\":8,\"ip\":\"10.0.0.2\"}]",
                    "[]");
    /* one user from two addresses (three sessions): the addresses sorted, once each */
    s_expect_shared("[{\"id\":3,\"user_id\":7,\"ip\":\"10.0.0.2\"},"
                    "{\"id\":1,\"user_id\":7,\"ip\":\"10.0.0.1\"},"
                    "{\"id\":2,\"user_id\":7,\"ip\":\"10.0.0.2\"},"
                    "{\"id\":4,\"user_id\":5,\"ip\":\"10.0.0.9\"}]",
                    "[{\"user_id\":7,\"addresses\":[\"10.0.0.1\",\"10.0.0.2\"]}]");
    /* users ordered by id; sessions without an address or a user are ignored */
    s_expect_shared("[{\"id\":1,\"user_id\":9,\"ip\":\"a\"},{\"id\":2,\"user_id\":9,\"ip\":\"b\"},"
                    "{\"id\":3,\"user_id\":2,\"ip\":\"c\"},{\"id\":4,\"user_id\":2,\"ip\":\"d\"},"
                    "{\"id\":5,\"user_id\":3,\"ip\":\"\"},{\"id\":6,\"user_id\":3,\"ip\":\"e\"},"
                    "{\"id\":7,\"ip\":\"f\"},{\"id\":8,\"user_id\":3},"
                    "{\"id\":9,\"user_id\":\"3\",\"ip\":\"g\"}]",
                    "[{\"user_id\":2,\"addresses\":[\"c\",\"d\"]},"
                    "{\"user_id\":9,\"addresses\":[\"a\",\"b\"]}]");
    /* not an array: nothing */
    s_expect_shared("{}", "[]");

    /* the finding kinds */
    const char *const want[] = {"dormant", "admin_outside_it_office",
                                "it_office_role_outside_it_office", "shared_account",
                                "system_account_holder_disabled"};
    for (size_t i = 0; i < 5; i++)
        CHECK_STR(access_finding_kinds[i], want[i]);
    CHECK(access_finding_kinds[5] == NULL);

    /* the boolean setting */
    bool b = true;
    CHECK(setting_bool("false", &b) && !b);
    b = true;
    CHECK(setting_bool("", &b) && !b);
    b = true;
    CHECK(setting_bool(NULL, &b) && !b);
    CHECK(setting_bool("true", &b) && b);
    CHECK(!setting_bool("yes", &b));
    CHECK(!setting_bool("TRUE", &b));
    CHECK(!setting_bool("1", &b));
    return check_done();
}
