/*
 * The deadline scans, every ITGOV_SCAN_INTERVAL_S; no request needs to
 * touch a project for them to fire.
 *
 * Milestones (article 10): the incomplete milestones of projects in
 * implementing or acceptance_review whose due date has passed (before today
 * in UTC) become overdue, itgov.project.milestone.overdue once per
 * milestone and due date: overdue_at records it, and only a revision that
 * moves the due date clears it.
 *
 * Rectification orders (article 22): an order not closed (open, or
 * responded but not verified) whose deadline has passed becomes overdue,
 * itgov.rectification.overdue once per order (overdue_at). Information
 * requests (article 21): an open request whose due date has passed (before
 * today in UTC) becomes overdue, itgov.info_request.overdue once. Neither
 * scan touches the records of a terminated project.
 */
#include "itgov/scan.h"
#include "projects.h"

static struct scan *s_milestones, *s_rectifications, *s_info_requests;

int scan_start(struct service *svc)
{
    s_milestones = scan_new(
        svc, projects_cfg.scan_interval_s, "milestone(s) became overdue",
        "WITH m AS (UPDATE milestones m SET overdue_at = now() FROM projects p "
        "WHERE p.id = m.project_id AND p.state IN ('implementing', 'acceptance_review') "
        "AND m.completed_at IS NULL AND m.overdue_at IS NULL "
        "AND m.due_date < utc_today() RETURNING m.*) "
        "SELECT emit('itgov.project.milestone.overdue', 'projects/' || m.project_id, NULL, "
        "jsonb_build_object('project_id', m.project_id, 'milestone', milestone_doc(m))) "
        "FROM m ORDER BY m.id");
    s_rectifications =
        scan_new(svc, projects_cfg.scan_interval_s, "rectification order(s) became overdue",
                 "WITH x AS (UPDATE rectifications x SET status = 'overdue', overdue_at = now(), "
                 "version = x.version + 1, updated_at = now() FROM projects p "
                 "WHERE p.id = x.project_id AND p.state <> 'terminated' "
                 "AND x.status IN ('open', 'responded') AND x.overdue_at IS NULL "
                 "AND x.deadline < now() RETURNING x.*) "
                 "SELECT emit('itgov.rectification.overdue', 'rectifications/' || x.id, NULL, "
                 "rectification_doc(x)) FROM x ORDER BY x.id");
    s_info_requests =
        scan_new(svc, projects_cfg.scan_interval_s, "information request(s) became overdue",
                 "WITH i AS (UPDATE info_requests i SET status = 'overdue', overdue_at = now(), "
                 "version = i.version + 1, updated_at = now() FROM projects p "
                 "WHERE p.id = i.project_id AND p.state <> 'terminated' "
                 "AND i.status = 'open' AND i.overdue_at IS NULL AND i.due_date < utc_today() "
                 "RETURNING i.*) "
                 "SELECT emit('itgov.info_request.overdue', 'info-requests/' || i.id, NULL, "
                 "info_request_doc(i)) FROM i ORDER BY i.id");
    return s_milestones && s_rectifications && s_info_requests ? 0 : -1;
}

void scan_stop(struct service *svc)
{
    scan_destroy(&s_info_requests);
    scan_destroy(&s_rectifications);
    scan_destroy(&s_milestones);
}
