/*
 * Approval cases over REST. Reading: it_office, secretary, auditor and
 * admin see every case, an expert the cases they are invited to, an
 * applicant the cases about their department's projects. Acting: each
 * action loads the case, then refuses in the documented order — 404 (no
 * such case or not visible), 403 (case_kinds.c: the caller's roles may not
 * do this in this kind; an expert not invited), 400 (the body), 409
 * project_suspended / invalid_state when the case's project is halted
 * (issue 12 C), 409 invalid_state (the action does not exist in the
 * case's step) — and
 * writes the change with its events in one statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "approvals.h"
#include "case_kinds.h"
#include "itgov/db.h"
#include "itgov/json.h"
#include "itgov/outbox.h"
#include "itgov/service.h"

#define SEE_ALL (ROLE_IT_OFFICE | ROLE_SECRETARY | ROLE_AUDITOR | ROLE_ADMIN)

struct who {
    char uid[24], dept[24];
    const char *all, *applicant, *expert;
};

static void s_who(const struct req *r, struct who *w)
{
    id_text(w->uid, r->user->id);
    id_text(w->dept, r->user->department_id);
    w->all = (r->user->roles & SEE_ALL) ? "true" : "false";
    w->applicant = (r->user->roles & ROLE_APPLICANT) ? "true" : "false";
    w->expert = (r->user->roles & ROLE_EXPERT) ? "true" : "false";
}

#define VISIBLE(a, b, c, d, e)                                                                     \
    "($" c "::boolean OR (c.subject_department_id = $" b "::bigint AND $" d "::boolean) OR ($" e   \
    "::boolean AND EXISTS (SELECT 1 FROM case_experts x WHERE x.case_id = c.id "                   \
    "AND x.user_id = $" a "::bigint)))"

/* ---- read -------------------------------------------------------------------- */

void cases_list(struct req *r)
{
    int limit;
    long long cursor;
    if (!req_page(r, &limit, &cursor)) return;
    const char *subject = req_query(r, "subject"), *kind = req_query(r, "kind");
    const char *step = req_query(r, "step"), *state = req_query(r, "state");
    struct error *e = NULL;
#define BAD(field, msg)                                                                            \
    do {                                                                                           \
        if (!e) e = error_new(ERR_VALIDATION, "bad query parameters");                             \
        error_add_field(e, field, msg);                                                            \
    } while (0)
    if (subject && (strlen(subject) > 100 || !strchr(subject, '/')))
        BAD("subject", "must be a path such as projects/42");
    if (kind && !case_kind_find(kind)) BAD("kind", "is not a case kind");
    bool step_ok = false;
    for (size_t i = 0; step && i < case_nkinds; i++)
        step_ok = step_ok || case_step_known(case_kinds[i].kind, step);
    if (step && !step_ok) BAD("step", "is not a step of any case kind");
    if (state && strcmp(state, "open") != 0 && strcmp(state, "closed") != 0)
        BAD("state", "must be open or closed");
#undef BAD
    if (e) return reply_error(r, e);
    struct who w;
    s_who(r, &w);
    char c[24], l[16];
    id_text(c, cursor);
    snprintf(l, sizeof l, "%d", limit);
    const char *params[] = {c,        l,       w.uid, w.dept, w.all, w.applicant,
                            w.expert, subject, kind,  step,   state};
    db_query(
        req_service(r)->db,
        DB_PAGE_SQL(
            "SELECT id, case_doc(c) AS doc FROM cases c WHERE id > $1 "
            "AND " VISIBLE("3", "4", "5", "6",
                           "7") " "
                                "AND ($8::text IS NULL OR c.subject = $8) "
                                "AND ($9::text IS NULL OR c.kind = $9) "
                                "AND ($10::text IS NULL OR c.step = $10) "
                                "AND ($11::text IS NULL OR ($11 = 'closed') = (c.step = 'closed')) "
                                "ORDER BY id LIMIT $2"),
        11, params, reply_row, r);
}

void cases_get(struct req *r)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return;
    struct who w;
    s_who(r, &w);
    const char *params[] = {req_param(r, "id"), w.uid, w.dept, w.all, w.applicant, w.expert};
    db_query(req_service(r)->db,
             "SELECT case_doc(c)::text FROM cases c WHERE c.id = $1 AND " VISIBLE("2", "3", "4",
                                                                                  "5", "6"),
             6, params, reply_row, r);
}

/* ---- acting on a case ------------------------------------------------------------ */

struct act {
    const char *action;  /* case_kinds.c action */
    struct error *bad;   /* the body's validation error, reported after 404/403 */
    const char *input;   /* outcome given (review, decision) */
    const char *meeting; /* decision */
    long long user_id;   /* invite_expert */
};

static struct act *s_act(struct req *r, const char *action)
{
    struct act *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->action = action;
    r->ctx = a;
    return a;
}

static void s_act_free(struct req *r)
{
    struct act *a = r->ctx;
    r->ctx = NULL;
    if (a) error_destroy(&a->bad);
    free(a);
}

static void s_fail(struct req *r, struct error *e)
{
    s_act_free(r);
    reply_error(r, e);
}

/* Whether these roles may ever take this action (in any kind of case); an
 * action a kind does not have is then 409 invalid_state, not 403. */
static bool s_role_may(const char *action, unsigned roles)
{
    for (size_t i = 0; i < case_nrules; i++)
        if (strcmp(case_rules[i].action, action) == 0 && (case_rules[i].roles & roles)) return true;
    return false;
}

/* Loads the case: kind, step, visible, invited, and (for invitations)
 * whether the user to invite is an expert. */
/* Starts an action on case :id (NULL: replied 404) and reads its body. A
 * body that is not JSON becomes the action's refusal, given after 404 and
 * 403 like every 400 (s_check). */
static struct act *s_begin(struct req *r, const char *action, struct fields *f)
{
    long long id;
    if (!req_param_id(r, "id", &id)) return NULL; /* replied 404 */
    struct act *a = s_act(r, action);
    const cJSON *body = req_json(r, &a->bad);
    fields_init(f, body);
    return a;
}

/* Ends reading: the JSON error if there was one, else the field errors. */
static void s_end(struct act *a, struct fields *f)
{
    struct error *fields_err = fields_done(f);
    if (a->bad)
        error_destroy(&fields_err);
    else
        a->bad = fields_err;
}

static void s_load(struct req *r, db_cb next)
{
    struct act *a = r->ctx;
    struct who w;
    s_who(r, &w);
    char target[24];
    id_text(target, a->user_id);
    const char *params[] = {req_param(r, "id"), w.uid,    w.dept, w.all,
                            w.applicant,        w.expert, target};
    db_query(
        req_service(r)->db,
        "SELECT c.kind, c.step, " VISIBLE(
            "2", "3", "4", "5",
            "6") ", "
                 "EXISTS (SELECT 1 FROM case_experts x WHERE x.case_id = c.id AND x.user_id = $2), "
                 "EXISTS (SELECT 1 FROM users u WHERE u.id = $7 AND 'expert' = ANY(u.roles) "
                 "AND NOT u.disabled), c.variant, "
                 "(SELECT h.state FROM project_halts h WHERE h.project_id = c.project_id) "
                 "FROM cases c WHERE c.id = $1",
        7, params, next, r);
}

/* issue 12 C: the case's project halted (halt: its project_halts state, or
 * NULL) → 409: suspended, project_suspended (its escalation cases still
 * decide); terminated, invalid_state naming it. True when it replied. The
 * triggers of 0018_halted.sql hold the same rule for the write. */
static bool s_halted(struct req *r, const char *kind, const char *halt)
{
    if (halt && strcmp(halt, "suspended") == 0 && strcmp(kind, "escalation") == 0) return false;
    struct error *e = error_project_halted(halt);
    if (e) s_fail(r, e);
    return e != NULL;
}

/* The refusals every action shares; returns the matching rule or NULL
 * (having replied). */
static const struct case_rule *s_check(struct req *r, PGresult *res, struct error *err)
{
    struct act *a = r->ctx;
    if (err) {
        s_fail(r, err);
        return NULL;
    }
    bool visible = PQntuples(res) && strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    /* those who may act on some case of this kind may know it exists */
    if (!PQntuples(res) || (!visible && !s_role_may(a->action, r->user->roles))) {
        s_fail(r, error_new(ERR_NOT_FOUND, "no such case"));
        return NULL;
    }
    const char *kind = PQgetvalue(res, 0, 0), *step = PQgetvalue(res, 0, 1);
    const char *variant = PQgetisnull(res, 0, 5) ? NULL : PQgetvalue(res, 0, 5);
    if (!s_role_may(a->action, r->user->roles)) {
        s_fail(r, error_new(ERR_FORBIDDEN, "your roles may not do this in a %s case", kind));
        return NULL;
    }
    if (strcmp(a->action, "opinion") == 0 && !(r->user->roles & ROLE_IT_OFFICE) &&
        strcmp(PQgetvalue(res, 0, 3), "t") != 0) {
        s_fail(r, error_new(ERR_FORBIDDEN, "you are not invited to this case"));
        return NULL;
    }
    /* 400: the body, then what only the kind can tell */
    const char *inputs[16];
    size_t n = case_inputs(kind, a->action, inputs, 16);
    bool input_ok = n == 0;
    for (size_t i = 0; i < n && a->input; i++)
        input_ok = input_ok || !strcmp(inputs[i], a->input);
    if (!input_ok && a->input) {
        if (!a->bad) a->bad = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        char msg[160];
        size_t used = (size_t)snprintf(msg, sizeof msg, "must be one of");
        for (size_t i = 0; i < n; i++)
            used +=
                (size_t)snprintf(msg + used, sizeof msg - used, "%s %s", i ? "," : "", inputs[i]);
        error_add_field(a->bad, "outcome", msg);
    }
    if (strcmp(a->action, "invite_expert") == 0 && a->user_id > 0 &&
        strcmp(PQgetvalue(res, 0, 4), "t") != 0) {
        if (!a->bad) a->bad = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        error_add_field(a->bad, "user_id", "is not an active user holding the role expert");
    }
    const struct case_rule *rule = NULL;
    enum case_verdict v = a->bad ? CASE_BAD_INPUT
                                 : case_decide(kind, step, variant, a->action, a->input, a->meeting,
                                               r->user->roles, &rule);
    if (v == CASE_BAD_MEETING) {
        a->bad = error_new(ERR_VALIDATION, "some fields are missing or invalid");
        error_add_field(a->bad, "meeting",
                        strcmp(kind, "plan") == 0 ? "a plan can only be decided by joint_meeting"
                                                  : "this meeting may not decide this case");
    }
    if (a->bad) {
        struct error *e = a->bad;
        a->bad = NULL;
        s_fail(r, e);
        return NULL;
    }
    if (v == CASE_FORBIDDEN) {
        s_fail(r, error_new(ERR_FORBIDDEN, "your roles may not do this in a %s case", kind));
        return NULL;
    }
    if (s_halted(r, kind, PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6))) return NULL;
    if (v != CASE_OK) {
        struct error *e =
            variant ? error_new(ERR_INVALID_STATE, "a %s %s case at step %s cannot take this %s",
                                variant, kind, step, a->action)
                    : error_new(ERR_INVALID_STATE, "a %s case at step %s cannot take a %s", kind,
                                step, a->action);
        error_set(e, "state", cJSON_CreateString(step));
        s_fail(r, e);
        return NULL;
    }
    return rule;
}

static void s_on_written(void *arg, PGresult *res, struct error *err, int status)
{
    struct req *r = arg;
    s_act_free(r);
    if (err) return reply_error(r, err);
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return reply_error(r, error_new(ERR_CONFLICT, "the case changed meanwhile; try again"));
    reply_raw(r, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void s_on_written_200(void *arg, PGresult *res, struct error *err)
{
    s_on_written(arg, res, err, 200);
}

static void s_on_written_201(void *arg, PGresult *res, struct error *err)
{
    s_on_written(arg, res, err, 201);
}

/* ---- invite an expert --------------------------------------------------------------- */

static void s_on_invite_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    struct act *a = r->ctx;
    const struct case_rule *rule = s_check(r, res, err);
    if (!rule) return;
    char uid[24], actor[24];
    id_text(uid, a->user_id);
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"), PQgetvalue(res, 0, 1), uid, actor, rule->event};
    /* a second invitation of the same expert changes nothing and emits nothing */
    db_query(req_service(r)->db,
             "WITH c AS (SELECT * FROM cases WHERE id = $1 AND step = $2), "
             "x AS (INSERT INTO case_experts (case_id, user_id, invited_by) "
             "SELECT c.id, $3, $4 FROM c ON CONFLICT DO NOTHING RETURNING *), "
             "e AS (SELECT emit($5, 'approvals/' || c.id, $4, jsonb_build_object('case', "
             "case_doc(c) || jsonb_build_object('experts', case_doc(c)->'experts' || "
             "jsonb_build_array(jsonb_build_object('user_id', x.user_id, 'invited_by', "
             "x.invited_by, 'invited_at', rfc3339(x.invited_at)))), "
             "'user_id', x.user_id, 'submission', c.submission)) AS n FROM c, x) "
             "SELECT CASE WHEN (SELECT count(*) FROM c) = 0 THEN NULL ELSE (SELECT case_doc(c) || "
             "jsonb_build_object('experts', case_doc(c)->'experts' || coalesce((SELECT "
             "jsonb_agg(jsonb_build_object('user_id', x.user_id, 'invited_by', x.invited_by, "
             "'invited_at', rfc3339(x.invited_at))) FROM x), '[]'::jsonb)) FROM c)::text END, "
             "(SELECT count(*) FROM e)",
             5, params, s_on_written_201, r);
}

void cases_invite(struct req *r)
{
    struct fields f;
    struct act *a = s_begin(r, "invite_expert", &f);
    if (!a) return;
    fields_int(&f, "user_id", F_REQUIRED, 1, 1LL << 53, &a->user_id);
    static const char *const known[] = {"user_id", NULL};
    fields_only(&f, known);
    s_end(a, &f);
    s_load(r, s_on_invite_loaded);
}

/* ---- opinions ----------------------------------------------------------------------- */

static const char *const s_stances[] = {"support", "oppose", "abstain", NULL};

static void s_on_opinion_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const struct case_rule *rule = s_check(r, res, err);
    if (!rule) return;
    const cJSON *b = r->body;
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(b, "comment");
    const cJSON *coi = cJSON_GetObjectItemCaseSensitive(b, "conflict_of_interest");
    char actor[24];
    id_text(actor, r->user->id);
    const char *params[] = {req_param(r, "id"),
                            PQgetvalue(res, 0, 1),
                            actor,
                            cJSON_GetObjectItemCaseSensitive(b, "stance")->valuestring,
                            cJSON_IsString(comment) ? comment->valuestring : "",
                            cJSON_IsTrue(coi) ? "true" : "false",
                            rule->event};
    db_query(req_service(r)->db,
             "WITH c AS (SELECT * FROM cases WHERE id = $1 AND step = $2), "
             "o AS (INSERT INTO opinions (case_id, author_id, stance, comment, "
             "conflict_of_interest) SELECT c.id, $3, $4, $5, $6 FROM c RETURNING *), "
             "od AS (SELECT jsonb_build_object('id', o.id, 'author_id', o.author_id, "
             "'stance', o.stance, 'comment', o.comment, 'conflict_of_interest', "
             "o.conflict_of_interest, 'counted', NOT o.conflict_of_interest, 'at', rfc3339(o.at)) "
             "AS doc FROM o), "
             "d AS (SELECT case_doc(c) || jsonb_build_object('opinions', case_doc(c)->'opinions' "
             "|| jsonb_build_array(od.doc)) AS doc, c.submission FROM c, od), "
             "e AS (SELECT emit($7, 'approvals/' || $1, $3, jsonb_build_object('case', d.doc, "
             "'opinion', od.doc, 'submission', d.submission)) AS n FROM d, od) "
             "SELECT d.doc::text, (SELECT count(*) FROM e) FROM d",
             7, params, s_on_written_201, r);
}

void cases_opinion(struct req *r)
{
    struct fields f;
    struct act *a = s_begin(r, "opinion", &f);
    if (!a) return;
    fields_enum(&f, "stance", F_REQUIRED, s_stances);
    fields_str(&f, "comment", F_OPTIONAL, 0, 10000);
    bool coi = false;
    fields_bool(&f, "conflict_of_interest", F_OPTIONAL, &coi);
    static const char *const known[] = {"stance", "comment", "conflict_of_interest", NULL};
    fields_only(&f, known);
    s_end(a, &f);
    s_load(r, s_on_opinion_loaded);
}

/* ---- review and decision: the case moves by its rule ---------------------------------- */

static void s_move(struct req *r, PGresult *res, const struct case_rule *rule, const char *record,
                   cJSON *detail)
{
    char actor[24];
    id_text(actor, r->user->id);
    cJSON_AddNumberToObject(detail, "actor_id", (double)r->user->id);
    char *json = cJSON_PrintUnformatted(detail);
    cJSON_Delete(detail);
    const char *params[] = {req_param(r, "id"),
                            PQgetvalue(res, 0, 1),
                            rule->next_step ? rule->next_step : PQgetvalue(res, 0, 1),
                            rule->outcome,
                            json,
                            actor,
                            rule->event,
                            record,
                            rule->set_variant};
    /* $8 names the column the record goes to: review or decision; $9 the case's new variant */
    db_query(req_service(r)->db,
             "WITH c AS (UPDATE cases SET step = $3, outcome = coalesce($4, outcome), "
             "variant = coalesce($9, variant), "
             "review = CASE WHEN $8 = 'review' THEN $5::jsonb || jsonb_build_object('at', "
             "rfc3339(now())) ELSE review END, "
             "decision = CASE WHEN $8 = 'decision' THEN $5::jsonb || jsonb_build_object('at', "
             "rfc3339(now())) ELSE decision END, "
             "closed_at = CASE WHEN $3 = 'closed' THEN now() END, version = version + 1 "
             "WHERE id = $1 AND step = $2 RETURNING *), "
             /* issue 12 C: a resume decided here lifts the halt of the project's cases at
              * once, not only when the projects service's itgov.project.resumed comes back */
             "h AS (UPDATE project_halts h SET state = 'resumed', updated_at = now() FROM c "
             "WHERE h.project_id = c.project_id AND h.state = 'suspended' "
             "AND c.kind = 'escalation' AND c.outcome = 'resumed') "
             "SELECT case_doc(c)::text, "
             "emit($7, 'approvals/' || c.id, $6, jsonb_build_object('case', case_doc(c), "
             "'submission', c.submission) || ($5::jsonb - 'actor_id')), "
             "CASE WHEN c.step = 'closed' THEN emit('itgov.approval.case.closed', "
             "'approvals/' || c.id, $6, jsonb_build_object('case', case_doc(c), "
             "'outcome', c.outcome, 'submission', c.submission)) END FROM c",
             9, params, s_on_written_200, r);
    free(json);
}

static void s_on_review_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const struct case_rule *rule = s_check(r, res, err);
    if (!rule) return;
    const cJSON *b = r->body;
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(b, "comment");
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "outcome", rule->input);
    cJSON_AddStringToObject(detail, "comment", cJSON_IsString(comment) ? comment->valuestring : "");
    /* a reclassification names what the case became, in the review and its event */
    if (rule->set_variant) cJSON_AddStringToObject(detail, "variant", rule->set_variant);
    s_move(r, res, rule, "review", detail);
}

void cases_review(struct req *r)
{
    struct fields f;
    struct act *a = s_begin(r, "review", &f);
    if (!a) return;
    a->input = fields_str(&f, "outcome", F_REQUIRED, 1, 32);
    fields_str(&f, "comment", F_OPTIONAL, 0, 10000);
    static const char *const known[] = {"outcome", "comment", NULL};
    fields_only(&f, known);
    s_end(a, &f);
    s_load(r, s_on_review_loaded);
}

static const char *const s_meetings[] = {"minister_office", "joint_meeting", NULL};

static void s_on_decision_loaded(void *arg, PGresult *res, struct error *err)
{
    struct req *r = arg;
    const struct case_rule *rule = s_check(r, res, err);
    if (!rule) return;
    const cJSON *b = r->body;
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(b, "comment");
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "meeting",
                            cJSON_GetObjectItemCaseSensitive(b, "meeting")->valuestring);
    cJSON_AddStringToObject(detail, "meeting_date",
                            cJSON_GetObjectItemCaseSensitive(b, "meeting_date")->valuestring);
    cJSON_AddStringToObject(detail, "minutes_ref",
                            cJSON_GetObjectItemCaseSensitive(b, "minutes_ref")->valuestring);
    cJSON_AddStringToObject(detail, "outcome", rule->input);
    cJSON_AddStringToObject(detail, "comment", cJSON_IsString(comment) ? comment->valuestring : "");
    s_move(r, res, rule, "decision", detail);
}

void cases_decision(struct req *r)
{
    struct fields f;
    struct act *a = s_begin(r, "decision", &f);
    if (!a) return;
    a->meeting = fields_enum(&f, "meeting", F_REQUIRED, s_meetings);
    fields_date(&f, "meeting_date", F_REQUIRED);
    fields_str(&f, "minutes_ref", F_REQUIRED, 1, 200);
    a->input = fields_str(&f, "outcome", F_REQUIRED, 1, 32);
    fields_str(&f, "comment", F_OPTIONAL, 0, 10000);
    static const char *const known[] = {"meeting", "meeting_date", "minutes_ref",
                                        "outcome", "comment",      NULL};
    fields_only(&f, known);
    s_end(a, &f);
    s_load(r, s_on_decision_loaded);
}
