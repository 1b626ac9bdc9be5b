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

/* The array of items as JSON text (caller frees), or NULL when any is bad. */
static char *s_items(struct fields *f, const char *name, const cJSON *arr, int max,
                     cJSON *(*read)(struct fields *g, const cJSON *item, void *ctx), void *ctx)
{
    if (!arr || !s_size(f, name, arr, max)) return NULL;
    cJSON *out = fields_each(f, name, arr, read, ctx);
    char *text = out ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

static cJSON *s_member(struct fields *g, const cJSON *item, void *ctx)
{
    const char *nm = fields_str(g, "name", F_REQUIRED, 1, 200);
    const char *role = fields_str(g, "role", F_REQUIRED, 1, 200);
    const char *duty = fields_str(g, "duty", F_REQUIRED, 1, 2000);
    static const char *const known[] = {"name", "role", "duty", NULL};
    fields_only(g, known);
    if (g->err) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", nm);
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddStringToObject(o, "duty", duty);
    return o;
}

struct milestones_ctx {
    const cJSON *arr, *completed; /* completed: {name: due_date} */
};

static cJSON *s_milestone(struct fields *g, const cJSON *item, void *ctx)
{
    const struct milestones_ctx *c = ctx;
    const char *nm = fields_str(g, "name", F_REQUIRED, 1, 200);
    const char *due = fields_date(g, "due_date", F_REQUIRED);
    static const char *const known[] = {"name", "due_date", NULL};
    fields_only(g, known);
    for (const cJSON *prev = c->arr->child; nm && prev != item; prev = prev->next) {
        const cJSON *pn = cJSON_GetObjectItemCaseSensitive(prev, "name");
        if (cJSON_IsString(pn) && strcmp(pn->valuestring, nm) == 0) {
            fields_fail(g, "name", "appears twice in this plan");
            break;
        }
    }
    const cJSON *was = nm && due && cJSON_IsObject(c->completed)
                           ? cJSON_GetObjectItemCaseSensitive(c->completed, nm)
                           : NULL;
    if (cJSON_IsString(was) && strcmp(was->valuestring, due) != 0)
        fields_fail(g, "due_date", "is completed; its due date stays");
    if (g->err) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", nm);
    cJSON_AddStringToObject(o, "due_date", due);
    return o;
}

struct error *impl_body_read(const cJSON *body, const cJSON *completed, struct impl_body *out)
{
    memset(out, 0, sizeof *out);
    struct fields f;
    fields_init(&f, body);
    const char *goals = fields_str(&f, "goals", F_REQUIRED, 1, IMPL_MAX_GOALS);
    char *team =
        s_items(&f, "team", fields_array(&f, "team", F_REQUIRED), IMPL_MAX_TEAM, s_member, NULL);
    const cJSON *arr = fields_array(&f, "milestones", F_REQUIRED);
    struct milestones_ctx mc = {arr, completed};
    char *ms = s_items(&f, "milestones", arr, IMPL_MAX_MILESTONES, s_milestone, &mc);
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
