/*
 * What the projects service takes from the approvals service, as events
 * read from its outbox (itgov/follow.h; the bus only wakes the reads):
 *   approval.review.recorded / approval.decision.recorded → the project,
 *     plan, contract or change the case decides moves, by the rule table below and
 *     the state machines of project_fsm.c;
 *   issue 12 B: approval.decision.recorded of an escalation case → the
 *     project is suspended, resumed or terminated (ESCALATION_SQL), and a
 *     resume request's case closes the request;
 *   approval.expert.invited → the expert may read the project;
 *   every approval.* event whose case is about a project (subject
 *     projects/{id}) or one of its contracts or changes (contracts/{cid},
 *     changes/{cid}) → the case document it carries (data.case) is kept in
 *     approval_cases for the dossier (keep_case(): the newest by sourceseq), in
 *     the same statement as the event's other effect, if any.
 * An approvals decision applies even to a project suspended after it was
 * recorded (it is no action by someone): every statement here that writes
 * a project's records calls system_write() first (0019_halt.sql).
 * Each effect and its inbox row are one statement, so an event applies
 * once; keeping a case doc needs no inbox row, since a doc replaces the
 * kept one only when its event is newer (a replay changes nothing). An
 * event applies only to the submission its case was opened for and only
 * in a state where its action exists; one that does not apply leaves no
 * inbox row and is passed over for good (the cursor moves on). None comes
 * early: the follower hands approvals' events over one at a time, in its
 * outbox's sourceseq order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/db.h"
#include "itgov/follow.h"
#include "itgov/log.h"
#include "itgov/service.h"
#include "project_fsm.h"
#include "projects.h"

#define TRANSITION_SQL(table, prefix, eventfn)                                                     \
    "WITH cur AS (SELECT id, state FROM " table " WHERE id = $1 AND submission = $2 "              \
    "AND system_write()), "                                                                        \
    "t AS (SELECT * FROM unnest($3::text[], $4::text[]) AS t(f, t)), "                             \
    "p AS (UPDATE " table " p SET state = t.t, version = p.version + 1, updated_at = now() "       \
    "FROM t, cur WHERE p.id = cur.id AND p.state = t.f "                                           \
    "AND NOT EXISTS (SELECT 1 FROM inbox WHERE event_id = $5) RETURNING p.*), "                    \
    "i AS (INSERT INTO inbox (event_id, type) SELECT $5, $6 FROM p ON CONFLICT DO NOTHING "        \
    "RETURNING 1), "                                                                               \
    "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id, comment) "    \
    "SELECT '" prefix "' || p.id, cur.state, p.state, $7, $8::bigint, $9 FROM p, cur "             \
    "RETURNING 1), "                                                                               \
    "e AS (SELECT emit($10, '" prefix "' || p.id, $8::bigint, " eventfn "(p) || "                  \
    "jsonb_build_object('case_id', $11::bigint, 'comment', $9)) AS n FROM p), "                    \
    "k AS (SELECT keep_case($12::jsonb, $13::bigint) AS n) "                                       \
    "SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM i), (SELECT count(*) FROM h), "        \
    "(SELECT count(*) FROM e), (SELECT n FROM k)"

/* issue 12 B: an escalation's decision moves the project whichever its submission (the case
 * is about the project as it is, not about one submission of it): suspended, it keeps the
 * state it left (suspended_from); resumed, it goes back to it (the transition's to is
 * FSM_SUSPENDED_FROM); terminated or resumed, suspended_from is NULL again. A decision on a
 * resume request's case also closes the request ($2, its id, from the case's data; $14 the
 * decision's outcome), also when the project does not move (reject); a termination closes the
 * open request whichever case decided it (a rectification's escalation terminating a project
 * whose resume request is open: outcome terminate, case_id that case). The inbox row is written
 * when anything changed. */
#define ESCALATION_SQL                                                                             \
    "WITH fresh AS (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE event_id = $5) "          \
    "AND system_write()), "                                                                        \
    "cur AS (SELECT id, state FROM projects WHERE id = $1), "                                      \
    "t AS (SELECT * FROM unnest($3::text[], $4::text[]) AS t(f, t)), "                             \
    "p AS (UPDATE projects p SET state = CASE WHEN t.t = '" FSM_SUSPENDED_FROM "' "                \
    "THEN p.suspended_from ELSE t.t END, "                                                         \
    "suspended_from = CASE WHEN t.t = 'suspended' THEN p.state END, "                              \
    "version = p.version + 1, updated_at = now() FROM t, cur, fresh "                              \
    "WHERE p.id = cur.id AND p.state = t.f "                                                       \
    "AND (t.t <> '" FSM_SUSPENDED_FROM "' OR p.suspended_from IS NOT NULL) RETURNING p.*), "       \
    "q AS (UPDATE resume_requests q SET outcome = $14, case_id = $11::bigint, decided_at = now() " \
    "FROM fresh WHERE q.project_id = $1 AND q.decided_at IS NULL AND (q.id = $2::bigint "          \
    "OR EXISTS (SELECT 1 FROM p WHERE p.state = 'terminated')) RETURNING 1), "                     \
    "i AS (INSERT INTO inbox (event_id, type) SELECT $5, $6 "                                      \
    "WHERE EXISTS (SELECT 1 FROM p) OR EXISTS (SELECT 1 FROM q) ON CONFLICT DO NOTHING "           \
    "RETURNING 1), "                                                                               \
    "h AS (INSERT INTO transitions (subject, from_state, to_state, action, actor_id, comment) "    \
    "SELECT 'projects/' || p.id, cur.state, p.state, $7, $8::bigint, $9 FROM p, cur "              \
    "RETURNING 1), "                                                                               \
    "e AS (SELECT emit($10, 'projects/' || p.id, $8::bigint, project_event(p) || "                 \
    "jsonb_build_object('case_id', $11::bigint, 'comment', $9)) AS n FROM p), "                    \
    "k AS (SELECT keep_case($12::jsonb, $13::bigint) AS n) "                                       \
    "SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM q), (SELECT count(*) FROM i), "        \
    "(SELECT count(*) FROM h), (SELECT count(*) FROM e), (SELECT n FROM k)"

/* the records a case can decide: machine, table and subject prefix; escalation: the SQL is
 * ESCALATION_SQL and its parameters */
static const struct target {
    const struct fsm *machine;
    const char *prefix, *sql;
    bool escalation;
} s_project = {&project_fsm, "projects/", TRANSITION_SQL("projects", "projects/", "project_event"),
               false},
  s_plan = {&plan_fsm, "plans/", TRANSITION_SQL("plans", "plans/", "plan_event"), false},
  s_contract = {&contract_fsm, "contracts/",
                TRANSITION_SQL("contracts", "contracts/", "contract_event"), false},
  s_change = {&change_fsm, "changes/", TRANSITION_SQL("changes", "changes/", "change_event"),
              false},
  s_escalation = {&project_fsm, "projects/", ESCALATION_SQL, true};

/* event type × case kind × outcome → which record, which action; a kind may
 * name the case's variant too ("change/major": a change case of that level),
 * so a change moves by its level (issue 11 G); an action NULL moves nothing
 * (a resume request rejected: ESCALATION_SQL only closes the request) */
static const struct {
    const char *type, *kind, *outcome;
    const struct target *target;
    const char *action;
} s_rules[] = {
    {"itgov.approval.review.recorded", "initiation", "pass", &s_project, "review_pass"},
    {"itgov.approval.review.recorded", "initiation", "return", &s_project, "review_return"},
    {"itgov.approval.review.recorded", "initiation", "reject", &s_project, "review_reject"},
    {"itgov.approval.decision.recorded", "initiation", "approve", &s_project, "decide_approve"},
    {"itgov.approval.decision.recorded", "initiation", "reject", &s_project, "decide_reject"},
    {"itgov.approval.decision.recorded", "plan", "approve", &s_plan, "decide_approve"},
    {"itgov.approval.decision.recorded", "plan", "reject", &s_plan, "decide_reject"},
    {"itgov.approval.review.recorded", "contract", "pass", &s_contract, "review_pass"},
    {"itgov.approval.review.recorded", "contract", "reject", &s_contract, "review_reject"},
    {"itgov.approval.review.recorded", "acceptance", "pass", &s_project, "acceptance_pass"},
    {"itgov.approval.review.recorded", "acceptance", "return", &s_project, "acceptance_return"},
    /* issue 11 G: changes, by their level (one reclassified goes to a meeting as a major one:
     * the trigger of 0013_changes.sql makes its level major) */
    {"itgov.approval.review.recorded", "change/general", "pass", &s_change, "review_pass_general"},
    {"itgov.approval.review.recorded", "change/major", "pass", &s_change, "review_pass_major"},
    {"itgov.approval.review.recorded", "change", "reclassify_major", &s_change, "reclassify"},
    {"itgov.approval.review.recorded", "change", "reject", &s_change, "review_reject"},
    {"itgov.approval.decision.recorded", "change", "approve", &s_change, "decide_approve"},
    {"itgov.approval.decision.recorded", "change", "reject", &s_change, "decide_reject"},
    /* issue 12 B: escalations; continue (a rectification's) changes nothing (the case doc is
     * kept); suspending a suspended project finds no transition and changes nothing */
    {"itgov.approval.decision.recorded", "escalation/rectification", "suspend", &s_escalation,
     "suspend"},
    {"itgov.approval.decision.recorded", "escalation", "terminate", &s_escalation, "terminate"},
    {"itgov.approval.decision.recorded", "escalation/resume", "resume", &s_escalation, "resume"},
    {"itgov.approval.decision.recorded", "escalation/resume", "reject", &s_escalation, NULL},
};

static struct follow *s_follow;

static const char *s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long s_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* Whether a rule's kind ("change" or "change/major") is a case's kind and variant. */
static bool s_kind_is(const char *rule, const char *kind, const char *variant)
{
    size_t n = strlen(kind);
    if (strncmp(rule, kind, n) != 0) return false;
    return rule[n] == '\0' || (rule[n] == '/' && variant && strcmp(rule + n + 1, variant) == 0);
}

/* "projects/42" → 42 when subject starts with prefix, else 0. */
static long long s_subject_id(const char *subject, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!subject || strncmp(subject, prefix, n) != 0) return 0;
    char *end;
    long long id = strtoll(subject + n, &end, 10);
    return *end || id < 1 ? 0 : id;
}

/* Only the case doc to keep: an event of no rule, or one whose rule does
 * not name a record here. Without a case doc about a project, nothing. */
static void s_keep(struct service *svc, const char *doc, const char *seq, struct follow_job *job)
{
    if (!doc) return follow_done(job, true);
    const char *params[] = {doc, seq};
    follow_apply(job, svc->db, "SELECT keep_case($1::jsonb, $2::bigint)", 2, params);
}

static void s_handle(void *arg, int source, long long sourceseq, const cJSON *ev,
                     struct follow_job *job)
{
    struct service *svc = arg;
    const char *type = s_str(ev, "type"), *id = s_str(ev, "id");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    const cJSON *kase = cJSON_GetObjectItemCaseSensitive(data, "case");
    const char *subject = s_str(kase, "subject"), *kind = s_str(kase, "kind");
    char actor[24], case_id[24], seq[24];
    long long a = s_num(ev, "actor");
    id_text(actor, a);
    id_text(case_id, s_num(kase, "id"));
    id_text(seq, sourceseq);
    /* the case doc to keep: a case about a project or one of its contracts or changes */
    char *doc = NULL;
    if (s_num(kase, "id") > 0 && kind &&
        (s_subject_id(subject, "projects/") || s_subject_id(subject, "contracts/") ||
         s_subject_id(subject, "changes/")))
        doc = cJSON_PrintUnformatted(kase);

    if (type && strcmp(type, "itgov.approval.expert.invited") == 0) {
        long long pid = s_subject_id(subject, "projects/");
        long long uid = s_num(data, "user_id");
        if (!pid || uid < 1) goto keep;
        char ps[24], us[24];
        id_text(ps, pid);
        id_text(us, uid);
        const char *params[] = {id, type, ps, us, case_id, doc, seq};
        follow_apply(job, svc->db,
                     "WITH i AS (INSERT INTO inbox (event_id, type) VALUES ($1, $2) "
                     "ON CONFLICT DO NOTHING RETURNING 1), "
                     "x AS (INSERT INTO project_experts (project_id, user_id, case_id) "
                     "SELECT $3, $4, $5 FROM i WHERE EXISTS (SELECT 1 FROM projects WHERE id = $3) "
                     "ON CONFLICT DO NOTHING RETURNING 1), "
                     "k AS (SELECT keep_case($6::jsonb, $7::bigint) AS n) "
                     "SELECT (SELECT count(*) FROM x), (SELECT n FROM k)",
                     7, params);
        free(doc);
        return;
    }

    const char *outcome = s_str(data, "outcome");
    for (size_t i = 0; type && kind && outcome && i < sizeof s_rules / sizeof s_rules[0]; i++) {
        if (strcmp(s_rules[i].type, type) != 0 ||
            !s_kind_is(s_rules[i].kind, kind, s_str(kase, "variant")) ||
            strcmp(s_rules[i].outcome, outcome) != 0)
            continue;
        const struct target *t = s_rules[i].target;
        long long sid = s_subject_id(subject, t->prefix);
        char from[128] = "{}", to[128] = "{}", ids[24], sub[24];
        const char *event = NULL;
        if (!sid || (s_rules[i].action && !fsm_action_sql(t->machine, s_rules[i].action, from,
                                                          sizeof from, to, sizeof to, &event)))
            goto keep;
        id_text(ids, sid);
        id_text(sub, s_num(data, "submission"));
        /* an escalation: $2 the resume request its case names (none: NULL), $14 the outcome */
        char request[24];
        long long rq = s_num(cJSON_GetObjectItemCaseSensitive(kase, "data"), "resume_request_id");
        id_text(request, rq);
        const char *params[] = {ids,
                                t->escalation ? (rq > 0 ? request : NULL) : sub,
                                from,
                                to,
                                id,
                                type,
                                s_rules[i].action ? s_rules[i].action : outcome,
                                a ? actor : NULL,
                                s_str(data, "comment"),
                                event,
                                case_id,
                                doc,
                                seq,
                                outcome};
        follow_apply(job, svc->db, t->sql, t->escalation ? 14 : 13, params);
        free(doc);
        return;
    }
keep:
    s_keep(svc, doc, seq, job);
    free(doc);
}

int consumer_start(struct service *svc)
{
    static const char *const types[] = {"approval.", NULL};
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:%ld", projects_cfg.broker_host,
             projects_cfg.broker_xpub_port);
    const struct follow_source sources[] = {{
        .name = "approvals",
        .host = projects_cfg.approvals_host,
        .port = (int)projects_cfg.approvals_port,
        .types = types,
    }};
    const struct follow_config fc = {
        .sources = sources,
        .nsources = 1,
        .bus_endpoint = endpoint,
        .poll_ms = (int)projects_cfg.feed_poll_ms,
        .handler = s_handle,
        .arg = svc,
    };
    s_follow = follow_new(svc, &fc);
    return s_follow ? 0 : -1;
}

void consumer_stop(struct service *svc)
{
    follow_destroy(&s_follow);
}
