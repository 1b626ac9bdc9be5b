/* envelope.c: which events read from a source may enter the log, one row
 * per rule (envelope.h). */
#include <stddef.h>
#include "../../../shared/tests/check.h"
#include "../src/envelope.h"

#define SRC  "/itgov/approvals"
#define UUID "\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\""
#define BASE UUID ",\"source\":\"" SRC "\",\"type\":\"itgov.cases.created\""

static const struct {
    const char *json;
    const char *why; /* NULL: accepted */
} s_cases[] = {
    {"{" BASE "}", NULL},
    {"{" BASE ",\"subject\":\"cases/1\",\"actor\":7,\"time\":\"2026-01-02T03:04:05.5Z\"}", NULL},
    {"{" BASE ",\"subject\":null,\"actor\":null,\"seq\":3}", NULL},
    {"[1]", "not a JSON object"},
    {"{\"id\":\"x\",\"source\":\"" SRC "\",\"type\":\"t\"}", "id is not a UUID"},
    {"{" UUID ",\"source\":\"" SRC "\"}", "no type"},
    {"{" UUID ",\"source\":\"" SRC "\",\"type\":\"\"}", "no type"},
    {"{" UUID ",\"source\":\"/itgov/projects\",\"type\":\"t\"}",
     "its source is not the service it was read from"},
    {"{" UUID ",\"type\":\"t\"}", "its source is not the service it was read from"},
    {"{" BASE ",\"data\":{\"a\":1,\"a\":2}}", "a member name appears twice in an object"},
    {"{" BASE ",\"data\":[{\"k\":1,\"k\":1}]}", "a member name appears twice in an object"},
    {"{" BASE ",\"subject\":5}", "subject is not a string"},
    {"{" BASE ",\"actor\":1.5}", "actor is not an integer"},
    {"{" BASE ",\"actor\":9e15}", "actor is not an integer"},
    {"{" BASE ",\"actor\":999999999999999}", NULL},
    {"{" BASE ",\"actor\":-999999999999999}", NULL},
    /* cJSON would store it as 9e+15: not what the source holds */
    {"{" BASE ",\"actor\":8999999999999999}", "actor is not an integer"},
    {"{" BASE ",\"actor\":\"7\"}", "actor is not an integer"},
    {"{" BASE ",\"time\":\"2026-01-02\"}", "time is not an RFC 3339 instant"},
    {"{" BASE ",\"time\":null}", "time is not an RFC 3339 instant"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        cJSON *ev = cJSON_Parse(s_cases[i].json);
        CHECK(ev != NULL);
        const char *why = envelope_check(ev, SRC);
        if (s_cases[i].why)
            CHECK_STR(why, s_cases[i].why);
        else
            CHECK(why == NULL);
        if ((why == NULL) != (s_cases[i].why == NULL) || (why && strcmp(why, s_cases[i].why)))
            fprintf(stderr, "  case %zu: %s -> %s\n", i, s_cases[i].json, why ? why : "ok");
        cJSON_Delete(ev);
    }
    return check_done();
}
