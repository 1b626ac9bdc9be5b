#include <stdlib.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include "check.h"
#include "itgov/http.h"

/* page_parse: true when it accepts, with *limit and *cursor. */
static bool page(const char *l, const char *c, int *limit, long long *cursor)
{
    struct error *e = page_parse(l, c, limit, cursor);
    bool ok = e == NULL;
    if (e) CHECK(e->code == ERR_VALIDATION);
    error_destroy(&e);
    return ok;
}

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

    /* paging: limit 1..200 (default 50), cursor a non-negative integer (default 0) */
    int limit;
    long long cursor;
    CHECK(page(NULL, NULL, &limit, &cursor) && limit == 50 && cursor == 0);
    CHECK(page("200", "1234", &limit, &cursor) && limit == 200 && cursor == 1234);
    CHECK(page("1", "0", &limit, &cursor) && limit == 1 && cursor == 0);
    CHECK(!page("0", NULL, &limit, &cursor));
    CHECK(!page("201", NULL, &limit, &cursor));
    CHECK(!page("", NULL, &limit, &cursor));
    CHECK(!page("5x", NULL, &limit, &cursor));
    CHECK(!page(NULL, "-1", &limit, &cursor));
    CHECK(!page(NULL, "+1", &limit, &cursor));
    CHECK(!page(NULL, " 1", &limit, &cursor));
    CHECK(!page(NULL, "", &limit, &cursor));
    CHECK(!page("x", "y", &limit, &cursor));

    /* query strings: decoded, repeated names kept in order, malformed → -1 */
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    CHECK(query_parse("limit=5&q=a+b%21&q=c", &q) == 0);
    CHECK_STR(evhttp_find_header(&q, "limit"), "5");
    CHECK_STR(evhttp_find_header(&q, "q"), "a b!");
    evhttp_clear_headers(&q);
    CHECK(query_parse(NULL, &q) == 0 && TAILQ_EMPTY(&q));

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
