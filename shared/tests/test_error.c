#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "itgov/error.h"

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

    /* type about:blank: the title is the status's reason phrase, the same for
     * every code of one status (RFC 9110) */
    CHECK_STR(error_title(ERR_INVALID_CREDENTIALS), "Unauthorized");
    CHECK_STR(error_title(ERR_VALIDATION), "Bad Request");
    CHECK_STR(error_title(ERR_NOT_FOUND), "Not Found");
    CHECK_STR(error_title(ERR_LOGIN_LOCKED), "Too Many Requests");
    CHECK_STR(error_title(ERR_INTERNAL), "Internal Server Error");
    for (int a = 0; a < ERR_COUNT; a++)
        for (int b = 0; b < ERR_COUNT; b++)
            if (error_status(a) == error_status(b))
                CHECK(strcmp(error_title(a), error_title(b)) == 0);

    e = error_new(ERR_UNAVAILABLE, NULL);
    CHECK(e->retry_after > 0);
    j = error_to_json(e);
    CHECK_STR(cJSON_GetObjectItem(j, "code")->valuestring, "unavailable");
    CHECK(cJSON_GetObjectItem(j, "errors") == NULL);
    cJSON_Delete(j);
    e->code_override = "missing_deliverables";
    CHECK_STR(error_code_str(e), "missing_deliverables");
    error_destroy(&e);
    return check_done();
}
