/*
 * The kinds of task (task_kinds.h). To add one, add its row to task_kinds[]
 * and to the unit test (tests/test_task_kinds.c). Several rows may share a
 * kind: each opens the same task (a rectification issued, or reopened).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "itgov/session.h"
#include "task_kinds.h"

#define EV_OPENED   "itgov.approval.case.opened"
#define EV_INVITED  "itgov.approval.expert.invited"
#define EV_OPINION  "itgov.approval.opinion.recorded"
#define EV_REVIEW   "itgov.approval.review.recorded"
#define EV_DECISION "itgov.approval.decision.recorded"
#define EV_CLOSED   "itgov.approval.case.closed"

/* a case at a step: the IT office's review or a meeting's decision (the
 * secretaries record it), closed when the step is acted on */
#define CASE_TASK(kind, opened_by, when, closed_by, close_when, roles, title, actions)             \
    {                                                                                              \
        kind, opened_by, when, closed_by, NULL, close_when, roles, TASK_BY_ROLE, NULL,             \
            "{subject}", "{subject}", "case.subject", "case.id", "case.step", "case.due_at",       \
            title, actions                                                                         \
    }
#define REVIEWED EV_REVIEW "," EV_CLOSED
#define DECIDED  EV_DECISION "," EV_CLOSED

const struct task_kind task_kinds[] = {
    /* ---- approvals: a case step the caller may act on ---- */
    CASE_TASK("initiation_review", EV_OPENED, "case.kind=initiation;case.step=review", REVIEWED,
              "case.kind=initiation", ROLE_IT_OFFICE, "审查立项申请（{case.subject}）",
              "invite_expert,pass,return,reject"),
    CASE_TASK("initiation_decision", EV_REVIEW, "case.kind=initiation;case.step=decision", DECIDED,
              "case.kind=initiation", ROLE_SECRETARY, "会议决定立项（{case.subject}）",
              "approve,reject"),
    CASE_TASK("plan_decision", EV_OPENED, "case.kind=plan;case.step=decision", DECIDED,
              "case.kind=plan", ROLE_SECRETARY, "联席会议审定年度信息化计划（{case.subject}）",
              "approve,reject"),
    CASE_TASK("contract_review", EV_OPENED, "case.kind=contract;case.step=review", REVIEWED,
              "case.kind=contract", ROLE_IT_OFFICE, "审查合同（{case.subject}）", "pass,reject"),
    CASE_TASK("acceptance_review", EV_OPENED, "case.kind=acceptance;case.step=review", REVIEWED,
              "case.kind=acceptance", ROLE_IT_OFFICE, "组织项目验收（{case.subject}）",
              "invite_expert,pass,return"),
    CASE_TASK("change_review", EV_OPENED, "case.kind=change;case.step=review", REVIEWED,
              "case.kind=change", ROLE_IT_OFFICE, "审查变更申请（{case.subject}）",
              "pass,reclassify_major,reject"),
    CASE_TASK("change_decision", EV_REVIEW, "case.kind=change;case.step=decision", DECIDED,
              "case.kind=change", ROLE_SECRETARY, "会议决定重大变更（{case.subject}）",
              "approve,reject"),
    CASE_TASK("escalation_decision", EV_OPENED,
              "case.kind=escalation;case.step=decision;case.variant=rectification", DECIDED,
              "case.kind=escalation", ROLE_SECRETARY, "会议决定逾期未整改的处理（{case.subject}）",
              "continue,suspend,terminate"),
    CASE_TASK("escalation_decision", EV_OPENED,
              "case.kind=escalation;case.step=decision;case.variant=resume", DECIDED,
              "case.kind=escalation", ROLE_SECRETARY, "会议决定项目恢复申请（{case.subject}）",
              "resume,reject,terminate"),
    /* an invited expert's opinion: closed by their opinion, or withdrawn when
     * the case leaves the review */
    {"expert_opinion", EV_INVITED, "case.step=review", EV_OPINION "," REVIEWED, "opinion.author_id",
     NULL, 0, TASK_BY_USER, "user_id", "{subject}", "{subject}", "case.subject", "case.id",
     "case.step", "case.due_at", "提交专家论证意见（{case.subject}）", "opinion"},

    /* ---- the department's duties (its applicants act) ---- */
    {"project_returned", "itgov.project.returned", NULL, "itgov.project.submitted", NULL, NULL,
     ROLE_APPLICANT, TASK_BY_DEPT, "department_id", "{subject}", "{subject}", "id", NULL, NULL,
     NULL, "修改并重新提交立项申请：{title}", "edit,submit"},
    {"rectification", "itgov.rectification.issued", NULL, "itgov.rectification.responded", NULL,
     NULL, ROLE_APPLICANT, TASK_BY_DEPT, "department_id", "{subject}", "{subject}", "project_id",
     NULL, NULL, "deadline", "答复整改通知：{issue}", "respond"},
    {"rectification", "itgov.rectification.verified", "outcome=reopened",
     "itgov.rectification.responded", NULL, NULL, ROLE_APPLICANT, TASK_BY_DEPT, "department_id",
     "{subject}", "{subject}", "project_id", NULL, NULL, "deadline", "答复整改通知：{issue}",
     "respond"},
    {"info_request", "itgov.info_request.issued", NULL, "itgov.info_request.answered", NULL, NULL,
     ROLE_APPLICANT, TASK_BY_DEPT, "department_id", "{subject}", "{subject}", "project_id", NULL,
     NULL, "due_date", "报送信息：{question}", "answer"},
    {"milestone_overdue", "itgov.project.milestone.overdue", NULL,
     "itgov.project.milestone.completed", NULL, NULL, ROLE_APPLICANT, TASK_BY_DEPT, NULL,
     "milestones/{milestone.id}", "projects/{project_id}/milestones/{milestone.id}", "project_id",
     NULL, NULL, "milestone.due_date", "完成逾期里程碑：{milestone.name}", "complete"},
    {"go_live", "itgov.project.accepted", NULL, "itgov.project.went_live,itgov.project.terminated",
     NULL, NULL, ROLE_APPLICANT, TASK_BY_DEPT, "department_id", "{subject}", "{subject}", "id",
     NULL, NULL, NULL, "已通过验收，办理上线：{title}", "go_live"},

    /* ---- issue 14 A: a finding about a system under watch, for the IT
     * office (any of them), closed when one resolves it ---- */
    {"system_finding", "itgov.system.finding.raised", NULL, "itgov.system.finding.resolved", NULL,
     NULL, ROLE_IT_OFFICE, TASK_BY_ROLE, NULL, "system-findings/{id}", "systems/findings/{id}",
     "project_id", NULL, NULL, NULL, "处置受监管系统的异常（{kind}）：项目 {project_id}",
     "resolve"},
};
const size_t task_nkinds = sizeof task_kinds / sizeof task_kinds[0];

static const char *const s_role_names[] = {"admin",  "it_office", "applicant",
                                           "expert", "secretary", "auditor"};

const struct task_kind *task_kind_find(const char *kind)
{
    for (size_t i = 0; kind && i < task_nkinds; i++)
        if (strcmp(task_kinds[i].kind, kind) == 0) return &task_kinds[i];
    return NULL;
}

/* Whether name is one item of a list separated by sep. */
static bool s_in_list(const char *list, const char *name, char sep)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

bool task_type_relevant(const char *type)
{
    for (size_t i = 0; type && i < task_nkinds; i++)
        if (strcmp(task_kinds[i].opened_by, type) == 0 ||
            s_in_list(task_kinds[i].closed_by, type, ','))
            return true;
    return false;
}

static size_t s_add_type(const char **out, size_t k, size_t n, const char *type, size_t len)
{
    for (size_t j = 0; j < k; j++)
        if (strlen(out[j]) == len && strncmp(out[j], type, len) == 0) return k;
    if (k + 1 >= n) return k;
    out[k] = type;
    return k + 1;
}

size_t task_types(const char **out, size_t n)
{
    /* the types are named by pointers into the rows: the closing types of
     * a list are copied into a static store of their own */
    static char store[64][80];
    size_t k = 0, stored = 0;
    for (size_t i = 0; i < task_nkinds; i++) {
        k = s_add_type(out, k, n, task_kinds[i].opened_by, strlen(task_kinds[i].opened_by));
        for (const char *p = task_kinds[i].closed_by; p && *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            bool seen = false;
            for (size_t j = 0; j < k && !seen; j++)
                seen = strlen(out[j]) == len && strncmp(out[j], p, len) == 0;
            if (!seen && stored < 64 && len < sizeof store[0] && k + 1 < n) {
                memcpy(store[stored], p, len);
                store[stored][len] = '\0';
                out[k++] = store[stored++];
            }
            p = end ? end + 1 : NULL;
        }
    }
    if (n) out[k] = NULL;
    return k;
}

const cJSON *task_path(const cJSON *data, const char *path)
{
    const cJSON *v = data;
    char name[64];
    for (const char *p = path; v && p && *p;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len >= sizeof name || !cJSON_IsObject(v)) return NULL;
        memcpy(name, p, len);
        name[len] = '\0';
        v = cJSON_GetObjectItemCaseSensitive(v, name);
        p = dot ? dot + 1 : NULL;
    }
    return v;
}

/* An integer value exactly (JSON numbers up to 2^53). */
static bool s_int(const cJSON *v, long long *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(long long)d)
        return false;
    *out = (long long)d;
    return true;
}

/* The text of a value: a string as it is (cut: a longer one cut at a
 * character boundary), an integer in decimal. */
static bool s_text(const cJSON *v, char *out, size_t n, bool cut)
{
    long long i;
    int w;
    if (cJSON_IsString(v) && cut && strlen(v->valuestring) >= n) {
        size_t len = n - 1;
        while (len > 0 && ((unsigned char)v->valuestring[len] & 0xC0) == 0x80)
            len--;
        memcpy(out, v->valuestring, len);
        out[len] = '\0';
        return true;
    }
    if (cJSON_IsString(v))
        w = snprintf(out, n, "%s", v->valuestring);
    else if (s_int(v, &i))
        w = snprintf(out, n, "%lld", i);
    else
        return false;
    return w >= 0 && (size_t)w < n;
}

bool task_when(const char *when, const cJSON *data)
{
    char cond[200];
    for (const char *p = when; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= sizeof cond) return false;
        memcpy(cond, p, len);
        cond[len] = '\0';
        p = end ? end + 1 : NULL;
        char *eq = strchr(cond, '=');
        if (!eq || eq == cond) return false;
        bool negate = eq[-1] == '!';
        eq[negate ? -1 : 0] = '\0';
        char value[200];
        bool has = s_text(task_path(data, cond), value, sizeof value, false);
        bool in = has && s_in_list(eq + 1, value, '|');
        if (negate ? in : !in) return false;
    }
    return true;
}

bool task_fill(const char *tmpl, const char *subject, const cJSON *data, char *out, size_t n)
{
    size_t used = 0;
    if (!n) return false;
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{');
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        if (used + lit >= n) return false;
        memcpy(out + used, p, lit);
        used += lit;
        if (!open) break;
        const char *close = strchr(open, '}');
        char path[64], value[1024];
        size_t plen = close ? (size_t)(close - open - 1) : 0;
        if (!close || plen == 0 || plen >= sizeof path) return false;
        memcpy(path, open + 1, plen);
        path[plen] = '\0';
        if (strcmp(path, "subject") == 0) {
            if (!subject || strlen(subject) >= sizeof value) return false;
            snprintf(value, sizeof value, "%s", subject);
        } else if (!s_text(task_path(data, path), value, sizeof value, true)) {
            return false;
        }
        size_t vlen = strlen(value);
        if (used + vlen >= n) return false;
        memcpy(out + used, value, vlen);
        used += vlen;
        p = close + 1;
    }
    out[used] = '\0';
    return true;
}

/* The title, cut at a character boundary to at most 200 bytes. */
static void s_title(const struct task_kind *k, const char *subject, const cJSON *data, char *out,
                    size_t n)
{
    if (!task_fill(k->title, subject, data, out, n)) snprintf(out, n, "%s", subject);
    size_t len = strlen(out);
    if (len > 200) {
        len = 200;
        while (len > 0 && ((unsigned char)out[len] & 0xC0) == 0x80)
            len--;
        snprintf(out + len, n - len, "…");
    }
}

static void s_add_id(cJSON *o, const char *name, const cJSON *data, const char *path)
{
    long long v;
    if (path && s_int(task_path(data, path), &v) && v > 0)
        cJSON_AddNumberToObject(o, name, (double)v);
}

static cJSON *s_open(const struct task_kind *k, const char *key, const char *subject, long long seq,
                     const char *time, const cJSON *data)
{
    char text[2048];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", "open");
    cJSON_AddStringToObject(o, "kind", k->kind);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddStringToObject(o, "at", time);
    s_title(k, subject, data, text, sizeof text);
    cJSON_AddStringToObject(o, "title", text);
    if (!task_fill(k->subject, subject, data, text, sizeof text))
        snprintf(text, sizeof text, "%s", subject);
    cJSON_AddStringToObject(o, "subject", text);
    /* the project: a number, or a subject (projects/{id}, or another one
     * whose newest event names it) */
    const cJSON *p = k->project ? task_path(data, k->project) : NULL;
    long long pid;
    if (s_int(p, &pid) && pid > 0) {
        cJSON_AddNumberToObject(o, "project_id", (double)pid);
    } else if (cJSON_IsString(p)) {
        const char *s = p->valuestring;
        char *end = NULL;
        if (strncmp(s, "projects/", 9) == 0 && s[9] >= '1' && s[9] <= '9' &&
            (pid = strtoll(s + 9, &end, 10)) > 0 && end && *end == '\0')
            cJSON_AddNumberToObject(o, "project_id", (double)pid);
        else
            cJSON_AddStringToObject(o, "project_of", s);
    }
    s_add_id(o, "case_id", data, k->case_id);
    const cJSON *step = k->step ? task_path(data, k->step) : NULL;
    if (cJSON_IsString(step)) cJSON_AddStringToObject(o, "step", step->valuestring);
    cJSON *actions = cJSON_AddArrayToObject(o, "actions");
    for (const char *a = k->actions; a && *a;) {
        const char *end = strchr(a, ',');
        size_t len = end ? (size_t)(end - a) : strlen(a);
        snprintf(text, sizeof text, "%.*s", (int)len, a);
        cJSON_AddItemToArray(actions, cJSON_CreateString(text));
        a = end ? end + 1 : NULL;
    }
    const cJSON *due = k->due ? task_path(data, k->due) : NULL;
    if (cJSON_IsString(due) && strlen(due->valuestring) < 64) {
        bool date = strlen(due->valuestring) == 10;
        if (date)
            snprintf(text, sizeof text, "%sT00:00:00Z", due->valuestring);
        else
            snprintf(text, sizeof text, "%s", due->valuestring);
        cJSON_AddStringToObject(o, "due_at", text);
        cJSON_AddBoolToObject(o, "due_is_date", date);
    }
    cJSON *roles = cJSON_AddArrayToObject(o, "aud_roles");
    for (size_t i = 0; i < sizeof s_role_names / sizeof *s_role_names; i++)
        if (k->roles & (1u << i)) cJSON_AddItemToArray(roles, cJSON_CreateString(s_role_names[i]));
    if (k->audience == TASK_BY_USER) s_add_id(o, "aud_user", data, k->audience_path);
    if (k->audience == TASK_BY_DEPT) {
        if (k->audience_path)
            s_add_id(o, "aud_dept", data, k->audience_path);
        else
            cJSON_AddBoolToObject(o, "dept_of_project", true);
    }
    return o;
}

int task_ops(const char *type, const char *subject, long long actor, const char *time,
             long long seq, const cJSON *data, cJSON *ops)
{
    int added = 0;
    char key[256];
    if (!type || !subject || !time) return 0;
    /* closes first: an event that closes a task and opens the next */
    for (size_t i = 0; i < task_nkinds; i++) {
        const struct task_kind *k = &task_kinds[i];
        if (!s_in_list(k->closed_by, type, ',') || !task_when(k->close_when, data)) continue;
        bool seen = false; /* several rows of one kind close it once */
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(task_kinds[j].kind, k->kind) == 0 &&
                   s_in_list(task_kinds[j].closed_by, type, ',');
        if (seen || !task_fill(k->key, subject, data, key, sizeof key)) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "op", "close");
        cJSON_AddStringToObject(o, "kind", k->kind);
        cJSON_AddStringToObject(o, "key", key);
        cJSON_AddNumberToObject(o, "seq", (double)seq);
        cJSON_AddStringToObject(o, "at", time);
        if (actor > 0) cJSON_AddNumberToObject(o, "actor", (double)actor);
        s_add_id(o, "user", data, k->close_user);
        cJSON_AddItemToArray(ops, o);
        added++;
    }
    for (size_t i = 0; i < task_nkinds; i++) {
        const struct task_kind *k = &task_kinds[i];
        if (strcmp(k->opened_by, type) != 0 || !task_when(k->when, data)) continue;
        if (!task_fill(k->key, subject, data, key, sizeof key)) continue;
        if (k->audience == TASK_BY_USER &&
            !s_int(task_path(data, k->audience_path), &(long long){0}))
            continue;
        cJSON_AddItemToArray(ops, s_open(k, key, subject, seq, time, data));
        added++;
    }
    return added;
}
