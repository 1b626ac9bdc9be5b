/*
 * The implementation plan's body (article 8): goals as text, the team (each
 * member's name, role and duty) and the milestones (name and due date). A
 * due date in the past is accepted; a milestone named twice is not, nor a
 * completed milestone given with another due date than it has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "impl_body.h"

/* Copies the field errors of e into f as <array>[i].<field>. */
static void s_nest(struct fields *f, const char *array, int i, struct error *e)
{
    char name[96];
    for (cJSON *fe = e->fields ? e->fields->child : NULL; fe; fe = fe->next) {
        const cJSON *fld = cJSON_GetObjectItem(fe, "field");
        const cJSON *msg = cJSON_GetObjectItem(fe, "message");
        snprintf(name, sizeof name, "%s[%d].%s", array, i,
                 cJSON_IsString(fld) ? fld->valuestring : "");
        fields_fail(f, name, cJSON_IsString(msg) ? msg->valuestring : "is invalid");
    }
}

/* Checks the size of an array; false (recorded) if it is wrong. */
static bool s_size(struct fields *f, const char *name, const cJSON *arr, int max)
{
    int n = cJSON_GetArraySize(arr);
    if (n >= 1 && n <= max) return true;
    char msg[64];
    snprintf(msg, sizeof msg, "must hold 1 to %d entries", max);
    fields_fail(f, name, msg);
    return false;
}

static char *s_team(struct fields *f, const cJSON *arr)
{
    if (!arr || !s_size(f, "team", arr, IMPL_MAX_TEAM)) return NULL;
    cJSON *out = cJSON_CreateArray();
    bool ok = true;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsObject(it)) {
            char name[48];
            snprintf(name, sizeof name, "team[%d]", i++);
            fields_fail(f, name, "must be an object");
            ok = false;
            continue;
        }
        struct fields g;
        fields_init(&g, it);
        const char *nm = fields_str(&g, "name", F_REQUIRED, 1, 200);
        const char *role = fields_str(&g, "role", F_REQUIRED, 1, 200);
        const char *duty = fields_str(&g, "duty", F_REQUIRED, 1, 2000);
        static const char *const known[] = {"name", "role", "duty", NULL};
        fields_only(&g, known);
        struct error *e = fields_done(&g);
        if (e) {
            s_nest(f, "team", i, e);
            error_destroy(&e);
            ok = false;
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", nm);
            cJSON_AddStringToObject(o, "role", role);
            cJSON_AddStringToObject(o, "duty", duty);
            cJSON_AddItemToArray(out, o);
        }
        i++;
    }
    char *text = ok ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

static char *s_milestones(struct fields *f, const cJSON *arr, const cJSON *completed)
{
    if (!arr || !s_size(f, "milestones", arr, IMPL_MAX_MILESTONES)) return NULL;
    cJSON *out = cJSON_CreateArray();
    bool ok = true;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsObject(it)) {
            char name[48];
            snprintf(name, sizeof name, "milestones[%d]", i++);
            fields_fail(f, name, "must be an object");
            ok = false;
            continue;
        }
        struct fields g;
        fields_init(&g, it);
        const char *nm = fields_str(&g, "name", F_REQUIRED, 1, 200);
        const char *due = fields_date(&g, "due_date", F_REQUIRED);
        static const char *const known[] = {"name", "due_date", NULL};
        fields_only(&g, known);
        for (const cJSON *prev = arr->child; nm && prev != it; prev = prev->next) {
            const cJSON *pn = cJSON_GetObjectItemCaseSensitive(prev, "name");
            if (cJSON_IsString(pn) && strcmp(pn->valuestring, nm) == 0) {
                fields_fail(&g, "name", "appears twice in this plan");
                break;
            }
        }
        const cJSON *was = nm && due && cJSON_IsObject(completed)
                               ? cJSON_GetObjectItemCaseSensitive(completed, nm)
                               : NULL;
        if (cJSON_IsString(was) && strcmp(was->valuestring, due) != 0)
            fields_fail(&g, "due_date", "is completed; its due date stays");
        struct error *e = fields_done(&g);
        if (e) {
            s_nest(f, "milestones", i, e);
            error_destroy(&e);
            ok = false;
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", nm);
            cJSON_AddStringToObject(o, "due_date", due);
            cJSON_AddItemToArray(out, o);
        }
        i++;
    }
    char *text = ok ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

struct error *impl_body_read(const cJSON *body, const cJSON *completed, struct impl_body *out)
{
    memset(out, 0, sizeof *out);
    struct fields f;
    fields_init(&f, body);
    const char *goals = fields_str(&f, "goals", F_REQUIRED, 1, IMPL_MAX_GOALS);
    char *team = s_team(&f, fields_array(&f, "team", F_REQUIRED));
    char *ms = s_milestones(&f, fields_array(&f, "milestones", F_REQUIRED), completed);
    static const char *const known[] = {"goals", "team", "milestones", NULL};
    fields_only(&f, known);
    struct error *e = fields_done(&f);
    if (e) {
        free(team);
        free(ms);
        return e;
    }
    out->goals = goals;
    out->team = team;
    out->milestones = ms;
    return NULL;
}

void impl_body_free(struct impl_body *b)
{
    free(b->team);
    free(b->milestones);
    b->team = b->milestones = NULL;
}
