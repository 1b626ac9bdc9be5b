#include <stdlib.h>
#include "check.h"
#include "itgov/http.h"

static int match(const char *pattern, const char *path, const char **names, char **values)
{
    return route_match(pattern, path, names, values, HTTP_MAX_PARAMS);
}

int main(void)
{
    const char *names[HTTP_MAX_PARAMS];
    char *values[HTTP_MAX_PARAMS];
    CHECK(match("/api/v1/users", "/api/v1/users", names, values) == 0);
    CHECK(match("/api/v1/users", "/api/v1/users/", names, values) == -1);
    CHECK(match("/api/v1/users", "/api/v1/user", names, values) == -1);
    CHECK(match("/api/v1/users/:id", "/api/v1/users", names, values) == -1);
    CHECK(match("/api/v1/users/:id", "/api/v1/users/", names, values) == -1);

    CHECK(match("/api/v1/users/:id", "/api/v1/users/42", names, values) == 1);
    CHECK(strncmp(names[0], "id", 2) == 0);
    CHECK_STR(values[0], "42");
    free(values[0]);

    CHECK(match("/api/v1/users/:id/disable", "/api/v1/users/7/disable", names, values) == 1);
    CHECK_STR(values[0], "7");
    free(values[0]);
    CHECK(match("/api/v1/users/:id/disable", "/api/v1/users/7/enable", names, values) == -1);
    CHECK(match("/api/v1/users/:id/disable", "/api/v1/users/7", names, values) == -1);

    CHECK(match("/a/:x/b/:y", "/a/1/b/2", names, values) == 2);
    CHECK_STR(values[0], "1");
    CHECK_STR(values[1], "2");
    free(values[0]);
    free(values[1]);
    CHECK(match("/a/:x/b/:y", "/a/1/c/2", names, values) == -1);

    /* the internal key: exactly the key after "Bearer ", nothing else */
    const char *key = "k3y-0123456789abcdef";
    CHECK(internal_key_matches("Bearer k3y-0123456789abcdef", key));
    CHECK(internal_key_matches("bearer k3y-0123456789abcdef", key));
    CHECK(!internal_key_matches("Bearer k3y-0123456789abcde", key));
    CHECK(!internal_key_matches("Bearer k3y-0123456789abcdefg", key));
    CHECK(!internal_key_matches("k3y-0123456789abcdef", key));
    CHECK(!internal_key_matches("Bearer ", key));
    CHECK(!internal_key_matches(NULL, key));
    CHECK(!internal_key_matches("Bearer ", ""));
    CHECK(!internal_key_matches("Bearer x", NULL));
    return check_done();
}
