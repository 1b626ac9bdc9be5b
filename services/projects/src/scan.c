/*
 * The milestone deadline scan (article 10): every ITGOV_SCAN_INTERVAL_S it
 * marks the incomplete milestones of projects in implementing or
 * acceptance_review whose due date has passed (before today in UTC) and
 * emits itgov.project.milestone.overdue, once per milestone and due date:
 * overdue_at records it, and only a revision that moves the due date
 * clears it. No request needs to touch the project.
 */
#include "itgov/scan.h"
#include "projects.h"

static struct scan *s_scan;

int scan_start(struct service *svc)
{
    s_scan = scan_new(
        svc, projects_cfg.scan_interval_s, "milestone(s) became overdue",
        "WITH m AS (UPDATE milestones m SET overdue_at = now() FROM projects p "
        "WHERE p.id = m.project_id AND p.state IN ('implementing', 'acceptance_review') "
        "AND m.completed_at IS NULL AND m.overdue_at IS NULL "
        "AND m.due_date < utc_today() RETURNING m.*) "
        "SELECT emit('itgov.project.milestone.overdue', 'projects/' || m.project_id, NULL, "
        "jsonb_build_object('project_id', m.project_id, 'milestone', milestone_doc(m))) "
        "FROM m ORDER BY m.id");
    return s_scan ? 0 : -1;
}

void scan_stop(struct service *svc)
{
    scan_destroy(&s_scan);
}
