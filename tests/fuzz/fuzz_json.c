/*
 * Fuzz target: a request body as an endpoint validates it. json_parse()
 * (one value, UTF-8, no NUL), then the fields_* readers the way the
 * handlers use them: a create body of projects (every reader kind), a
 * decision of approvals (dates), and every reader on every member the body
 * has, with its field errors rendered as the problem+json reply would be.
 *
 * Checks beyond "no crash, no UB, no leak": json_parse returns a value or
 * an error, never both or neither; a reader's value has the type and range
 * it promises; what json_parse accepts prints and parses back; with the
 * input rules (below), no accepted object repeats a key and no error lists
 * more than ERROR_MAX_FIELDS fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/error.h"
#include "itgov/json.h"
/* With the input rules of issue 8 (itgov/text.h came with them): json_parse
 * refuses repeated keys, and a reply lists at most ERROR_MAX_FIELDS fields. */
#if __has_include("itgov/text.h")
#define INPUT_RULES 1
#endif

static const char *const s_kinds[] = {"new", "upgrade", "maintenance", NULL};

static void s_render(struct error *e)
{
    if (!e) return;
#ifdef INPUT_RULES
    if (e->nfields > ERROR_MAX_FIELDS) abort();
#endif
    cJSON *j = error_to_json(e);
    char *text = cJSON_PrintUnformatted(j);
    if (!text) abort();
    free(text);
    cJSON_Delete(j);
    error_destroy(&e);
    if (e) abort();
}

/* projects_create: every reader kind, and the unknown-member check. */
static void s_project_body(const cJSON *body)
{
    struct fields f;
    fields_init(&f, body);
    const char *title = fields_str(&f, "title", F_REQUIRED, 0, 200);
    const char *kind = fields_enum(&f, "kind", F_REQUIRED, s_kinds);
    const char *item = fields_str(&f, "plan_item_code", F_OPTIONAL, 1, 32);
    long long budget = -1;
    bool got = fields_int(&f, "budget_cents", F_OPTIONAL, 0, 1000000000000LL, &budget);
    bool ext = false;
    fields_bool(&f, "serves_external_units", F_OPTIONAL, &ext);
    const cJSON *roles = fields_array(&f, "roles", F_OPTIONAL);
    static const char *const known[] = {
        "title", "kind", "plan_item_code", "budget_cents", "serves_external_units", "roles", NULL};
    fields_only(&f, known);
    if (title && strlen(title) > 200 * 4) abort();
    if (item && !*item) abort();
    if (kind && kind != s_kinds[0] && kind != s_kinds[1] && kind != s_kinds[2]) abort();
    if (got && (budget < 0 || budget > 1000000000000LL)) abort();
    if (roles && !cJSON_IsArray(roles)) abort();
    s_render(fields_done(&f));
}

/* approvals: a committee decision (a date, a bounded id). */
static void s_decision_body(const cJSON *body)
{
    static const char *const meetings[] = {"committee", "board", NULL};
    struct fields f;
    fields_init(&f, body);
    fields_enum(&f, "meeting", F_REQUIRED, meetings);
    const char *date = fields_date(&f, "meeting_date", F_REQUIRED);
    fields_str(&f, "minutes_ref", F_REQUIRED, 1, 200);
    long long uid = 0;
    if (fields_int(&f, "user_id", F_OPTIONAL, 1, 1LL << 53, &uid) && (uid < 1 || uid > 1LL << 53))
        abort();
    static const char *const known[] = {"meeting", "meeting_date", "minutes_ref", "user_id", NULL};
    fields_only(&f, known);
    if (date && strlen(date) != 10) abort();
    s_render(fields_done(&f));
}

/* Every reader on every member, as some endpoint may name it. */
static void s_every_member(const cJSON *body)
{
    if (!cJSON_IsObject(body)) return;
    struct fields f;
    fields_init(&f, body);
    for (const cJSON *m = body->child; m; m = m->next) {
        const char *name = m->string;
        long long v;
        bool b;
        fields_has(&f, name);
        fields_str(&f, name, F_REQUIRED, 1, 64);
        fields_enum(&f, name, F_OPTIONAL, s_kinds);
        if (fields_int(&f, name, F_OPTIONAL, -1000, 1000, &v) && (v < -1000 || v > 1000)) abort();
        fields_int(&f, name, F_OPTIONAL, INT64_MIN, INT64_MAX, &v);
        fields_bool(&f, name, F_OPTIONAL, &b);
        fields_array(&f, name, F_OPTIONAL);
        fields_date(&f, name, F_OPTIONAL);
    }
    s_render(fields_done(&f));
}

#ifdef INPUT_RULES
/* True if an object anywhere in j has a member name twice. */
static bool s_repeats_a_key(const cJSON *j)
{
    for (const cJSON *c = j->child; c; c = c->next) {
        if (cJSON_IsObject(j))
            for (const cJSON *d = c->next; d; d = d->next)
                if (strcmp(c->string, d->string) == 0) return true;
        if (s_repeats_a_key(c)) return true;
    }
    return false;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct error *err = NULL;
    cJSON *body = json_parse((const char *)data, size, &err);
    if (!body) {
        if (!err) abort();
        s_render(err);
        return 0;
    }
    if (err) abort();
#ifdef INPUT_RULES
    if (s_repeats_a_key(body)) abort();
#endif
    char *text = cJSON_PrintUnformatted(body);
    if (!text) abort();
    struct error *again_err = NULL;
    cJSON *again = json_parse(text, strlen(text), &again_err);
    if (!again) abort(); /* what was accepted must print as JSON that is accepted */
    cJSON_Delete(again);
    free(text);
    s_project_body(body);
    s_decision_body(body);
    s_every_member(body);
    cJSON_Delete(body);
    return 0;
}
