#include <stdlib.h>
#include <sys/queue.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "check.h"
#include "itgov/http.h"

/* "field:message|..." of a query refusal, or "ok" */
static void query_refused(const char *raw, const char *field)
{
    struct error *e = NULL;
    struct query *q = query_parse(raw, &e);
    CHECK(q == NULL && e != NULL && e->code == ERR_VALIDATION);
    const cJSON *f = e && e->fields ? e->fields->child : NULL;
    CHECK(f != NULL && strcmp(cJSON_GetObjectItem(f, "field")->valuestring, field) == 0);
    if (f && strcmp(cJSON_GetObjectItem(f, "field")->valuestring, field) != 0)
        fprintf(stderr, "  %s: field %s\n", raw, cJSON_GetObjectItem(f, "field")->valuestring);
    error_destroy(&e);
}

static void test_query(void)
{
    struct error *e = NULL;
    struct query *q = query_parse("q=a+b%20c&limit=5&empty=&bare&x=%E8%8A%82&&", &e);
    CHECK(q != NULL && e == NULL);
    CHECK_STR(query_get(q, "q"), "a b c");
    CHECK_STR(query_get(q, "limit"), "5");
    CHECK_STR(query_get(q, "empty"), "");
    CHECK_STR(query_get(q, "bare"), "");
    CHECK_STR(query_get(q, "x"), "\xe8\x8a\x82");
    CHECK(query_get(q, "missing") == NULL);
    query_destroy(&q);
    CHECK(q == NULL);
    q = query_parse(NULL, &e);
    CHECK(q != NULL && e == NULL && query_get(q, "a") == NULL);
    query_destroy(&q);

    query_refused("q=a%00b", "q");     /* NUL in a value */
    query_refused("q%00x=1", "q%00x"); /* NUL in a name: named as sent */
    query_refused("q=%ff", "q");       /* not UTF-8 */
    query_refused("q=%c0%af", "q");    /* overlong */
    query_refused("q=100%", "q");      /* malformed escapes */
    query_refused("q=%4", "q");
    query_refused("q=%zz", "q");
    query_refused("kind=a&kind=b", "kind"); /* repeated */
    query_refused("ok=1&%ff=1", "%ff");
    char many[1024] = "";
    for (int i = 0; i <= HTTP_MAX_QUERY_PARAMS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "p%d=1&", i);
    query_refused(many, "p64");
}

static void test_transport(void)
{
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    evhttp_add_header(&h, "Host", "x");
    evhttp_add_header(&h, "Content-Length", "5");
    CHECK(http_check_request("/api/v1/me", &h) == NULL);
    evhttp_add_header(&h, "content-length", "5"); /* the same value twice is one length */
    CHECK(http_check_request("/api/v1/me", &h) == NULL);
    evhttp_add_header(&h, "Content-Length", "6");
    struct error *e = http_check_request("/api/v1/me", &h);
    CHECK(e && e->code == ERR_BAD_REQUEST && error_status(e->code) == 400);
    error_destroy(&e);
    evhttp_clear_headers(&h);

    evhttp_add_header(&h, "Content-Length", "5");
    evhttp_add_header(&h, "Transfer-Encoding", "chunked");
    e = http_check_request("/", &h);
    CHECK(e && e->code == ERR_BAD_REQUEST);
    error_destroy(&e);
    evhttp_clear_headers(&h);

    char *big = malloc(HTTP_MAX_HEADERS + 2);
    memset(big, 'a', HTTP_MAX_HEADERS + 1);
    big[0] = '/';
    big[HTTP_MAX_URI] = '\0';
    CHECK(http_check_request(big, &h) == NULL); /* exactly the limit */
    big[HTTP_MAX_URI] = 'a';
    big[HTTP_MAX_URI + 1] = '\0';
    e = http_check_request(big, &h);
    CHECK(e && e->code == ERR_URI_TOO_LONG && error_status(e->code) == 414);
    error_destroy(&e);

    big[HTTP_MAX_HEADER_LINE - 2 - 1] = '\0'; /* "X: " + value = the limit */
    evhttp_add_header(&h, "X", big + 1);
    CHECK(http_check_request("/", &h) == NULL);
    evhttp_clear_headers(&h);
    big[HTTP_MAX_HEADER_LINE - 2 - 1] = 'a';
    big[HTTP_MAX_HEADER_LINE - 2] = '\0';
    evhttp_add_header(&h, "X", big);
    e = http_check_request("/", &h);
    CHECK(e && e->code == ERR_HEADERS_TOO_LARGE && error_status(e->code) == 431);
    error_destroy(&e);
    evhttp_clear_headers(&h);
    big[4000] = '\0'; /* many lines under the line limit, too many bytes in all */
    for (int i = 0; i < 9; i++)
        evhttp_add_header(&h, "X-Filler", big);
    e = http_check_request("/", &h);
    CHECK(e && e->code == ERR_HEADERS_TOO_LARGE);
    error_destroy(&e);
    evhttp_clear_headers(&h);
    free(big);
}

static int match(const char *pattern, const char *path, const char **names, char **values)
{
    return route_match(pattern, path, names, values, HTTP_MAX_PARAMS);
}

/* RFC 9110 13.1.1-2 as the services apply it */
static void test_etag(void)
{
    /* If-Match: strong comparison */
    CHECK(etag_match("\"5\"", "\"5\"", false) == ETAG_MATCH);
    CHECK(etag_match("W/\"5\"", "\"5\"", false) == ETAG_NO_MATCH);
    CHECK(etag_match("\"5\"", "W/\"5\"", false) == ETAG_NO_MATCH);
    CHECK(etag_match("\"4\"", "\"5\"", false) == ETAG_NO_MATCH);
    CHECK(etag_match("\"55\"", "\"5\"", false) == ETAG_NO_MATCH);
    CHECK(etag_match("\"999\", \"5\"", "\"5\"", false) == ETAG_MATCH);
    CHECK(etag_match("\"5\",\"999\"", "\"5\"", false) == ETAG_MATCH);
    CHECK(etag_match(" , \"999\" ,, W/\"5\" ", "\"5\"", false) == ETAG_NO_MATCH);
    CHECK(etag_match("*", "\"5\"", false) == ETAG_MATCH);
    CHECK(etag_match("  *  ", "\"5\"", false) == ETAG_MATCH);
    /* If-None-Match: weak comparison */
    CHECK(etag_match("W/\"5\"", "\"5\"", true) == ETAG_MATCH);
    CHECK(etag_match("\"1\", W/\"5\"", "\"5\"", true) == ETAG_MATCH);
    CHECK(etag_match("\"1\"", "\"5\"", true) == ETAG_NO_MATCH);
    /* malformed: the caller answers 400 (If-Match) or ignores it (If-None-Match) */
    CHECK(etag_match("5", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("\"5\", 6", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("\"5", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("\"5\"x", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("\"5 6\"", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("*, \"5\"", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match(" , ", "\"5\"", false) == ETAG_MALFORMED);
    CHECK(etag_match("w/\"5\"", "\"5\"", true) == ETAG_MALFORMED);
    CHECK(etag_match(NULL, "\"5\"", false) == ETAG_NO_MATCH);

    char tag[19];
    etag_of("{\"id\":1}", 8, tag);
    CHECK(strlen(tag) == 18 && tag[0] == '"' && tag[17] == '"');
    CHECK(etag_match(tag, tag, false) == ETAG_MATCH);
    char other[19];
    etag_of("{\"id\":2}", 8, other);
    CHECK(strcmp(tag, other) != 0);
}

static void test_media_type(void)
{
    CHECK(media_type_is_json("application/json"));
    CHECK(media_type_is_json("Application/JSON"));
    CHECK(media_type_is_json("application/json; charset=utf-8"));
    CHECK(media_type_is_json("application/json;charset=\"UTF-8\""));
    CHECK(media_type_is_json("application/merge-patch+json"));
    CHECK(media_type_is_json(" application/problem+json ; charset=utf-8 "));
    CHECK(!media_type_is_json("application/json; charset=latin1"));
    CHECK(!media_type_is_json("text/plain"));
    CHECK(!media_type_is_json("text/json"));
    CHECK(!media_type_is_json("application/jsonx"));
    CHECK(!media_type_is_json("application/+json"));
    CHECK(!media_type_is_json("application/x-www-form-urlencoded"));
    CHECK(!media_type_is_json("multipart/form-data; boundary=x"));
    CHECK(!media_type_is_json(""));
    CHECK(!media_type_is_json(NULL));
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
    test_query();
    test_transport();
    test_etag();
    test_media_type();
    return check_done();
}
