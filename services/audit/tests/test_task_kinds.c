/* task_kinds.c: the rows, paths, conditions, templates and the operations
 * an event makes. */
#include <stdio.h>
#include <string.h>
#include "../../../shared/tests/check.h"
#include "itgov/session.h"
#include "task_kinds.h"

static const char *s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double s_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* the operations of an event, as a fresh array */
static cJSON *s_ops(const char *type, const char *subject, long long actor, const char *data)
{
    cJSON *d = cJSON_Parse(data);
    cJSON *ops = cJSON_CreateArray();
    task_ops(type, subject, actor, "2026-11-30T10:00:00Z", 42, d, ops);
    cJSON_Delete(d);
    return ops;
}

static bool s_has_role(const cJSON *op, const char *role)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(
                              op, "aud_roles")) if (cJSON_IsString(r) &&
                                                    strcmp(r->valuestring, role) == 0) return true;
    return false;
}

int main(void)
{
    /* every row: a kind, an opening type, closing types, a key, a title, actions */
    for (size_t i = 0; i < task_nkinds; i++) {
        const struct task_kind *k = &task_kinds[i];
        CHECK(k->kind && k->opened_by && k->closed_by && k->key && k->subject && k->title &&
              k->actions);
        CHECK(strncmp(k->opened_by, "itgov.", 6) == 0);
        CHECK(task_kind_find(k->kind) != NULL);
        CHECK(task_type_relevant(k->opened_by));
        CHECK(k->audience != TASK_BY_USER || k->audience_path);
        CHECK(k->audience == TASK_BY_USER || k->roles);
    }
    CHECK(task_kind_find("initiation_review") == &task_kinds[0]);
    CHECK(task_kind_find("nope") == NULL && task_kind_find(NULL) == NULL);
    CHECK(task_type_relevant("itgov.rectification.responded"));
    CHECK(task_type_relevant("itgov.approval.case.closed"));
    CHECK(!task_type_relevant("itgov.account.session.created") && !task_type_relevant(NULL));

    /* the types: each once, the closing ones of a list included */
    const char *types[64];
    size_t n = task_types(types, 64);
    CHECK(n > 10 && types[n] == NULL);
    size_t opened = 0, went_live = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(types[i], types[j]) != 0);
        opened += strcmp(types[i], "itgov.approval.case.opened") == 0;
        went_live += strcmp(types[i], "itgov.project.went_live") == 0;
        CHECK(task_type_relevant(types[i]));
    }
    CHECK(opened == 1 && went_live == 1);
    CHECK(task_types(types, 3) == 2 && types[2] == NULL);

    /* paths and conditions */
    cJSON *d = cJSON_Parse("{\"case\":{\"id\":7,\"kind\":\"initiation\",\"step\":\"review\"},"
                           "\"status\":\"open\",\"n\":1.5}");
    CHECK(cJSON_IsNumber(task_path(d, "case.id")) && task_path(d, "case.nope") == NULL);
    CHECK(task_path(d, "status.x") == NULL && task_path(d, "case..id") == NULL);
    CHECK(task_when(NULL, d) && task_when("", d));
    CHECK(task_when("case.kind=initiation;case.step=review", d));
    CHECK(!task_when("case.kind=initiation;case.step=decision", d));
    CHECK(task_when("case.kind=plan|initiation", d));
    CHECK(task_when("status!=closed", d) && !task_when("status!=open", d));
    CHECK(task_when("case.id=7", d) && !task_when("case.id=8", d));
    CHECK(!task_when("missing=x", d) && task_when("missing!=x", d));
    CHECK(!task_when("n=1", d) && !task_when("=x", d) && !task_when("nothing", d));

    /* templates */
    char out[64];
    CHECK(task_fill("a {subject} b {case.id}", "approvals/7", d, out, sizeof out));
    CHECK(strcmp(out, "a approvals/7 b 7") == 0);
    CHECK(task_fill("plain", NULL, d, out, sizeof out) && strcmp(out, "plain") == 0);
    CHECK(!task_fill("{missing}", "s", d, out, sizeof out));
    CHECK(!task_fill("{n}", "s", d, out, sizeof out)); /* not an integer */
    CHECK(!task_fill("{case.id", "s", d, out, sizeof out));
    CHECK(!task_fill("{}", "s", d, out, sizeof out));
    CHECK(!task_fill("0123456789", "s", d, out, 8));
    CHECK(!task_fill("{subject}", "0123456789", d, out, 8));
    cJSON_Delete(d);

    /* a case opened at review: the IT office's review, with the case's due date */
    cJSON *ops = s_ops("itgov.approval.case.opened", "approvals/7", 3,
                       "{\"case\":{\"id\":7,\"kind\":\"initiation\",\"subject\":\"projects/5\","
                       "\"step\":\"review\",\"due_at\":\"2026-12-10T10:00:00Z\"},"
                       "\"submission\":1}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    cJSON *op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "op"), "open") == 0);
    CHECK(strcmp(s_str(op, "kind"), "initiation_review") == 0);
    CHECK(strcmp(s_str(op, "key"), "approvals/7") == 0);
    CHECK(strcmp(s_str(op, "subject"), "approvals/7") == 0);
    CHECK(s_num(op, "project_id") == 5 && s_num(op, "case_id") == 7 && s_num(op, "seq") == 42);
    CHECK(strcmp(s_str(op, "step"), "review") == 0);
    CHECK(strcmp(s_str(op, "due_at"), "2026-12-10T10:00:00Z") == 0);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(op, "due_is_date")));
    CHECK(s_has_role(op, "it_office") && !s_has_role(op, "secretary"));
    CHECK(!cJSON_HasObjectItem(op, "aud_dept") && !cJSON_HasObjectItem(op, "aud_user"));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(op, "actions")) == 4);
    CHECK(strstr(s_str(op, "title"), "projects/5") != NULL);
    cJSON_Delete(ops);

    /* a contract case: the project is the one the contract's events name */
    ops = s_ops("itgov.approval.case.opened", "approvals/8", 3,
                "{\"case\":{\"id\":8,\"kind\":\"contract\",\"subject\":\"contracts/2\","
                "\"step\":\"review\"}}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "contract_review") == 0);
    CHECK(strcmp(s_str(op, "project_of"), "contracts/2") == 0 && s_num(op, "project_id") == -1);
    cJSON_Delete(ops);

    /* a review passed on to a meeting: the review closes, the decision opens */
    ops = s_ops("itgov.approval.review.recorded", "approvals/7", 9,
                "{\"case\":{\"id\":7,\"kind\":\"initiation\",\"subject\":\"projects/5\","
                "\"step\":\"decision\"},\"outcome\":\"pass\"}");
    CHECK(cJSON_GetArraySize(ops) == 3);
    CHECK(strcmp(s_str(cJSON_GetArrayItem(ops, 0), "op"), "close") == 0);
    CHECK(strcmp(s_str(cJSON_GetArrayItem(ops, 0), "kind"), "initiation_review") == 0);
    CHECK(s_num(cJSON_GetArrayItem(ops, 0), "actor") == 9);
    CHECK(strcmp(s_str(cJSON_GetArrayItem(ops, 1), "kind"), "expert_opinion") == 0);
    CHECK(!cJSON_HasObjectItem(cJSON_GetArrayItem(ops, 1), "user")); /* every expert's */
    op = cJSON_GetArrayItem(ops, 2);
    CHECK(strcmp(s_str(op, "op"), "open") == 0);
    CHECK(strcmp(s_str(op, "kind"), "initiation_decision") == 0 && s_has_role(op, "secretary"));
    cJSON_Delete(ops);

    /* an expert invited: that expert's task; their opinion closes only theirs */
    ops = s_ops("itgov.approval.expert.invited", "approvals/7", 9,
                "{\"case\":{\"id\":7,\"kind\":\"initiation\",\"subject\":\"projects/5\","
                "\"step\":\"review\"},\"user_id\":11}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "expert_opinion") == 0 && s_num(op, "aud_user") == 11);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(op, "aud_roles")) == 0);
    cJSON_Delete(ops);
    ops = s_ops("itgov.approval.expert.invited", "approvals/7", 9,
                "{\"case\":{\"id\":7,\"step\":\"review\"}}");
    CHECK(cJSON_GetArraySize(ops) == 0); /* nobody named */
    cJSON_Delete(ops);
    ops = s_ops("itgov.approval.opinion.recorded", "approvals/7", 11,
                "{\"case\":{\"id\":7,\"step\":\"review\"},\"opinion\":{\"author_id\":11}}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "expert_opinion") == 0 && s_num(op, "user") == 11);
    cJSON_Delete(ops);

    /* escalations: the actions by variant; a case at a step no row names: nothing */
    ops = s_ops("itgov.approval.case.opened", "approvals/9", 0,
                "{\"case\":{\"id\":9,\"kind\":\"escalation\",\"variant\":\"resume\","
                "\"subject\":\"projects/5\",\"step\":\"decision\"}}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "escalation_decision") == 0);
    CHECK(
        strcmp(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(op, "actions"), 0)->valuestring,
               "resume") == 0);
    CHECK(!cJSON_HasObjectItem(op, "actor"));
    cJSON_Delete(ops);
    ops = s_ops("itgov.approval.case.opened", "approvals/9", 0,
                "{\"case\":{\"id\":9,\"kind\":\"initiation\",\"step\":\"closed\"}}");
    CHECK(cJSON_GetArraySize(ops) == 0);
    cJSON_Delete(ops);
    /* a decision closes the decision kinds once each (two escalation rows) */
    ops = s_ops("itgov.approval.decision.recorded", "approvals/9", 4,
                "{\"case\":{\"id\":9,\"kind\":\"escalation\",\"step\":\"closed\"}}");
    int escalation = 0;
    cJSON_ArrayForEach(op, ops)
    {
        CHECK(strcmp(s_str(op, "op"), "close") == 0);
        escalation += strcmp(s_str(op, "kind"), "escalation_decision") == 0;
    }
    CHECK(escalation == 1);
    cJSON_Delete(ops);

    /* the department's duties: a rectification, by the department's applicants */
    ops = s_ops("itgov.rectification.issued", "rectifications/4", 2,
                "{\"id\":4,\"project_id\":5,\"department_id\":3,\"status\":\"open\","
                "\"issue\":\"备份不全\",\"deadline\":\"2030-12-31T16:00:00Z\"}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "rectification") == 0 && s_num(op, "aud_dept") == 3);
    CHECK(s_has_role(op, "applicant") && s_num(op, "project_id") == 5);
    CHECK(strcmp(s_str(op, "key"), "rectifications/4") == 0);
    CHECK(strcmp(s_str(op, "title"), "答复整改通知：备份不全") == 0);
    cJSON_Delete(ops);
    ops = s_ops("itgov.rectification.verified", "rectifications/4", 2,
                "{\"id\":4,\"department_id\":3,\"outcome\":\"closed\"}");
    CHECK(cJSON_GetArraySize(ops) == 0);
    cJSON_Delete(ops);
    ops = s_ops("itgov.rectification.verified", "rectifications/4", 2,
                "{\"id\":4,\"department_id\":3,\"outcome\":\"reopened\"}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    CHECK(strcmp(s_str(cJSON_GetArrayItem(ops, 0), "op"), "open") == 0);
    cJSON_Delete(ops);
    ops = s_ops("itgov.rectification.responded", "rectifications/4", 6, "{\"id\":4}");
    CHECK(cJSON_GetArraySize(ops) == 1); /* two rows of the kind, one close */
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "op"), "close") == 0 && s_num(op, "actor") == 6);
    cJSON_Delete(ops);

    /* an information request: due on a date */
    ops = s_ops("itgov.info_request.issued", "info-requests/2", 2,
                "{\"id\":2,\"project_id\":5,\"department_id\":3,\"question\":\"q\","
                "\"due_date\":\"2030-06-30\"}");
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "due_at"), "2030-06-30T00:00:00Z") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "due_is_date")));
    cJSON_Delete(ops);

    /* an overdue milestone: the project's department, from the log */
    ops = s_ops("itgov.project.milestone.overdue", "projects/5", 0,
                "{\"project_id\":5,\"milestone\":{\"id\":9,\"name\":\"上线\","
                "\"due_date\":\"2026-01-01\"}}");
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "key"), "milestones/9") == 0);
    CHECK(strcmp(s_str(op, "subject"), "projects/5/milestones/9") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "dept_of_project")));
    CHECK(!cJSON_HasObjectItem(op, "aud_dept"));
    cJSON_Delete(ops);
    ops = s_ops("itgov.project.milestone.completed", "projects/5", 6,
                "{\"project_id\":5,\"milestone\":{\"id\":9}}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    CHECK(strcmp(s_str(cJSON_GetArrayItem(ops, 0), "key"), "milestones/9") == 0);
    cJSON_Delete(ops);

    /* accepted, then gone live; a returned project, then resubmitted */
    ops = s_ops("itgov.project.accepted", "projects/5", 2,
                "{\"id\":5,\"department_id\":3,\"title\":\"一卡通\"}");
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "go_live") == 0 && s_num(op, "project_id") == 5);
    CHECK(strcmp(s_str(op, "title"), "已通过验收，办理上线：一卡通") == 0);
    cJSON_Delete(ops);
    ops = s_ops("itgov.project.went_live", "projects/5", 6, "{\"id\":5}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    cJSON_Delete(ops);
    ops = s_ops("itgov.project.returned", "projects/5", 2, "{\"id\":5,\"department_id\":3}");
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "kind"), "project_returned") == 0);
    CHECK(strcmp(s_str(op, "title"), "projects/5") == 0); /* no title in the data */
    cJSON_Delete(ops);
    ops = s_ops("itgov.project.submitted", "projects/5", 6, "{\"id\":5}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    cJSON_Delete(ops);

    /* issue 14 A: a finding raised opens the IT office's task, resolved closes it */
    ops = s_ops("itgov.system.finding.raised", "projects/5", 0,
                "{\"id\":8,\"project_id\":5,\"kind\":\"log_silent\",\"status\":\"open\"}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "op"), "open") == 0);
    CHECK(strcmp(s_str(op, "kind"), "system_finding") == 0 && s_num(op, "project_id") == 5);
    CHECK(strcmp(s_str(op, "key"), "system-findings/8") == 0);
    CHECK(strcmp(s_str(op, "subject"), "systems/findings/8") == 0);
    CHECK(strcmp(s_str(op, "title"), "处置受监管系统的异常（log_silent）：项目 5") == 0);
    CHECK(s_has_role(op, "it_office") && !s_has_role(op, "applicant"));
    CHECK(!cJSON_GetObjectItemCaseSensitive(op, "aud_dept") &&
          !cJSON_GetObjectItemCaseSensitive(op, "dept_of_project"));
    const cJSON *act = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(op, "actions"), 0);
    CHECK(cJSON_IsString(act) && strcmp(act->valuestring, "resolve") == 0);
    cJSON_Delete(ops);
    ops = s_ops("itgov.system.finding.resolved", "projects/5", 6,
                "{\"id\":8,\"project_id\":5,\"kind\":\"log_silent\",\"status\":\"resolved\"}");
    CHECK(cJSON_GetArraySize(ops) == 1);
    op = cJSON_GetArrayItem(ops, 0);
    CHECK(strcmp(s_str(op, "op"), "close") == 0 &&
          strcmp(s_str(op, "kind"), "system_finding") == 0);
    CHECK(strcmp(s_str(op, "key"), "system-findings/8") == 0 && s_num(op, "actor") == 6);
    cJSON_Delete(ops);
    CHECK(task_type_relevant("itgov.system.finding.raised") &&
          task_type_relevant("itgov.system.finding.resolved"));

    /* nothing from other events, nor without a subject or time */
    ops = s_ops("itgov.account.user.created", "users/1", 1, "{}");
    CHECK(cJSON_GetArraySize(ops) == 0);
    CHECK(task_ops("itgov.project.submitted", NULL, 1, "t", 1, NULL, ops) == 0);
    cJSON_Delete(ops);

    /* a long title is cut at a character boundary */
    char big[2000] = "{\"id\":4,\"department_id\":3,\"issue\":\"";
    for (int i = 0; i < 200; i++)
        strcat(big, "整");
    strcat(big, "\"}");
    ops = s_ops("itgov.rectification.issued", "rectifications/4", 2, big);
    const char *title = s_str(cJSON_GetArrayItem(ops, 0), "title");
    CHECK(title && strlen(title) <= 200 + strlen("…"));
    CHECK(strcmp(title + strlen(title) - strlen("…"), "…") == 0);
    cJSON_Delete(ops);

    return check_done();
}
