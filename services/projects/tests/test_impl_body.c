/* The implementation plan's body (impl_body.c): what is accepted, how it is
 * normalized, and every bad field named with its index. */
#include <stdlib.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "../src/impl_body.h"

/* Whether e names field. */
static bool s_names(const struct error *e, const char *field)
{
    for (const cJSON *fe = e && e->fields ? e->fields->child : NULL; fe; fe = fe->next) {
        const cJSON *f = cJSON_GetObjectItem(fe, "field");
        if (cJSON_IsString(f) && strcmp(f->valuestring, field) == 0) return true;
    }
    return false;
}

static int s_count(const struct error *e)
{
    return e && e->fields ? cJSON_GetArraySize(e->fields) : 0;
}

static struct error *s_read(const char *json, const char *completed, struct impl_body *b)
{
    cJSON *body = cJSON_Parse(json);
    cJSON *done = completed ? cJSON_Parse(completed) : NULL;
    struct error *e = impl_body_read(body, done, b);
    /* the goals point into the body: keep a copy for the checks */
    static char goals[64];
    goals[0] = '\0';
    if (!e && b->goals) {
        strncpy(goals, b->goals, sizeof goals - 1);
        b->goals = goals;
    }
    cJSON_Delete(body);
    cJSON_Delete(done);
    return e;
}

static void test_good_body_is_normalized(void)
{
    struct impl_body b;
    struct error *e =
        s_read("{\"goals\":\"g\",\"team\":[{\"duty\":\"d\",\"role\":\"r\",\"name\":\"n\"}],"
               "\"milestones\":[{\"due_date\":\"2020-01-01\",\"name\":\"a\"},"
               "{\"name\":\"b\",\"due_date\":\"2030-12-31\"}]}",
               NULL, &b);
    CHECK(e == NULL);
    CHECK_STR(b.goals, "g");
    CHECK_STR(b.team, "[{\"name\":\"n\",\"role\":\"r\",\"duty\":\"d\"}]");
    CHECK_STR(b.milestones, "[{\"name\":\"a\",\"due_date\":\"2020-01-01\"},"
                            "{\"name\":\"b\",\"due_date\":\"2030-12-31\"}]");
    impl_body_free(&b);
    CHECK(b.team == NULL && b.milestones == NULL);
}

static void test_every_bad_field_named(void)
{
    struct impl_body b;
    struct error *e = s_read(
        "{\"goals\":\"\",\"team\":[{\"name\":\"n\",\"role\":\"\",\"duty\":\"d\"},{\"name\":1},7],"
        "\"milestones\":[{\"name\":\"a\",\"due_date\":\"2030-02-30\"},"
        "{\"name\":\"a\",\"due_date\":\"2030-01-01\"},{\"due_date\":\"x\",\"y\":1}],"
        "\"extra\":true}",
        NULL, &b);
    CHECK(e != NULL && e->code == ERR_VALIDATION);
    CHECK(s_names(e, "goals"));
    CHECK(s_names(e, "team[0].role"));
    CHECK(s_names(e, "team[1].name"));
    CHECK(s_names(e, "team[1].role"));
    CHECK(s_names(e, "team[1].duty"));
    CHECK(s_names(e, "team[2]"));
    CHECK(s_names(e, "milestones[0].due_date"));
    CHECK(s_names(e, "milestones[1].name")); /* twice */
    CHECK(!s_names(e, "milestones[0].name"));
    CHECK(s_names(e, "milestones[2].name"));
    CHECK(s_names(e, "milestones[2].due_date"));
    CHECK(s_names(e, "milestones[2].y"));
    CHECK(s_names(e, "extra"));
    CHECK(b.team == NULL && b.milestones == NULL);
    error_destroy(&e);
}

static void test_sizes(void)
{
    struct impl_body b;
    struct error *e = s_read("{\"goals\":\"g\",\"team\":[],\"milestones\":[]}", NULL, &b);
    CHECK(s_names(e, "team") && s_names(e, "milestones") && s_count(e) == 2);
    error_destroy(&e);
    e = s_read("{}", NULL, &b);
    CHECK(s_names(e, "goals") && s_names(e, "team") && s_names(e, "milestones"));
    error_destroy(&e);
    e = s_read("[1]", NULL, &b);
    CHECK(e != NULL);
    error_destroy(&e);
    e = s_read("{\"goals\":\"g\",\"team\":{},\"milestones\":\"m\"}", NULL, &b);
    CHECK(s_names(e, "team") && s_names(e, "milestones"));
    error_destroy(&e);

    /* 100 members and 200 milestones are fine, one more is not */
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "goals", "g");
    cJSON *team = cJSON_AddArrayToObject(body, "team");
    cJSON *ms = cJSON_AddArrayToObject(body, "milestones");
    for (int i = 0; i < IMPL_MAX_MILESTONES; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", name);
        cJSON_AddStringToObject(m, "due_date", "2030-01-01");
        cJSON_AddItemToArray(ms, m);
        if (i < IMPL_MAX_TEAM) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "name", name);
            cJSON_AddStringToObject(t, "role", "r");
            cJSON_AddStringToObject(t, "duty", "d");
            cJSON_AddItemToArray(team, t);
        }
    }
    e = impl_body_read(body, NULL, &b);
    CHECK(e == NULL);
    impl_body_free(&b);
    cJSON_AddItemToArray(ms, cJSON_Duplicate(ms->child, true));
    cJSON_AddItemToArray(team, cJSON_Duplicate(team->child, true));
    e = impl_body_read(body, NULL, &b);
    CHECK(s_names(e, "team") && s_names(e, "milestones") && s_count(e) == 2);
    error_destroy(&e);
    cJSON_Delete(body);
}

static void test_completed_due_date_stays(void)
{
    struct impl_body b;
    const char *done = "{\"a\":\"2030-01-01\"}";
    struct error *e =
        s_read("{\"goals\":\"g\",\"team\":[{\"name\":\"n\",\"role\":\"r\",\"duty\":\"d\"}],"
               "\"milestones\":[{\"name\":\"b\",\"due_date\":\"2031-01-01\"},"
               "{\"name\":\"a\",\"due_date\":\"2030-01-02\"}]}",
               done, &b);
    CHECK(s_names(e, "milestones[1].due_date") && s_count(e) == 1);
    error_destroy(&e);
    e = s_read("{\"goals\":\"g\",\"team\":[{\"name\":\"n\",\"role\":\"r\",\"duty\":\"d\"}],"
               "\"milestones\":[{\"name\":\"a\",\"due_date\":\"2030-01-01\"}]}",
               done, &b);
    CHECK(e == NULL);
    impl_body_free(&b);
}

int main(void)
{
    test_good_body_is_normalized();
    test_every_bad_field_named();
    test_sizes();
    test_completed_due_date_stays();
    return check_done();
}
