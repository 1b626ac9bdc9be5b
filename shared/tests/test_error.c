#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "itgov/error.h"

static const struct {
    int status;
    const char *phrase;
} s_phrases[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {422, "Unprocessable Content"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

int main(void)
{
    struct error *e = error_new(ERR_VALIDATION, "bad %s", "input");
    error_add_field(e, "name", "is required");
    error_add_field(e, "kind", "must be one of: a, b");
    error_set(e, "state", cJSON_CreateString("draft"));
    cJSON *j = error_to_json(e);
    CHECK(cJSON_GetObjectItem(j, "status")->valueint == 400);
    CHECK_STR(cJSON_GetObjectItem(j, "code")->valuestring, "validation_failed");
    CHECK_STR(cJSON_GetObjectItem(j, "detail")->valuestring, "bad input");
    CHECK_STR(cJSON_GetObjectItem(j, "type")->valuestring, "about:blank");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "errors")) == 2);
    CHECK_STR(cJSON_GetObjectItem(j, "state")->valuestring, "draft");
    cJSON_Delete(j);
    error_destroy(&e);
    CHECK(e == NULL);

    /* every code has its status; the statuses the contract fixes */
    CHECK(error_status(ERR_UNAUTHORIZED) == 401);
    CHECK(error_status(ERR_FORBIDDEN) == 403);
    CHECK(error_status(ERR_CONFLICT) == 409);
    CHECK(error_status(ERR_PRECONDITION_REQUIRED) == 428);
    CHECK(error_status(ERR_PRECONDITION_FAILED) == 412);
    CHECK(error_status(ERR_LOGIN_LOCKED) == 429);
    CHECK(error_status(ERR_UNAVAILABLE) == 503);

    /* type about:blank: every code's title is the reason phrase of its status
     * (RFC 9110 section 15; RFC 6585 for 428, 429, 431), a code added to the
     * list included */
    for (int c = 0; c < ERR_COUNT; c++) {
        const char *want = NULL;
        for (size_t i = 0; i < sizeof s_phrases / sizeof s_phrases[0]; i++)
            if (s_phrases[i].status == error_status(c)) want = s_phrases[i].phrase;
        CHECK(want != NULL); /* a status not in the table below: add its phrase */
        if (want) CHECK_STR(error_title(c), want);
    }

    e = error_new(ERR_UNAVAILABLE, NULL);
    CHECK(e->retry_after > 0);
    j = error_to_json(e);
    CHECK_STR(cJSON_GetObjectItem(j, "code")->valuestring, "unavailable");
    CHECK(cJSON_GetObjectItem(j, "errors") == NULL);
    cJSON_Delete(j);
    e->code_override = "missing_deliverables";
    CHECK_STR(error_code_str(e), "missing_deliverables");
    error_destroy(&e);

    /* a halted project's refusal: suspended, terminated, else none */
    static const struct {
        const char *state, *code;
    } halts[] = {{"suspended", "project_suspended"}, {"terminated", "invalid_state"}};
    for (size_t i = 0; i < sizeof halts / sizeof halts[0]; i++) {
        e = error_project_halted(halts[i].state);
        CHECK(e != NULL && error_status(e->code) == 409);
        if (!e) continue;
        j = error_to_json(e);
        CHECK_STR(cJSON_GetObjectItem(j, "code")->valuestring, halts[i].code);
        CHECK_STR(cJSON_GetObjectItem(j, "state")->valuestring, halts[i].state);
        cJSON_Delete(j);
        error_destroy(&e);
    }
    CHECK(error_project_halted("in_operation") == NULL);
    CHECK(error_project_halted("resumed") == NULL);
    CHECK(error_project_halted(NULL) == NULL);
    return check_done();
}
