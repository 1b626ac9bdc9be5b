/*
 * The milestone deadline scan (article 10): every ITGOV_SCAN_INTERVAL_S it
 * marks the incomplete milestones of projects in implementing or
 * acceptance_review whose due date has passed (before today in UTC) and
 * emits itgov.project.milestone.overdue, once per milestone and due date:
 * overdue_at records it, and only a revision that moves the due date
 * clears it. No request needs to touch the project.
 */
#include <stdbool.h>
#include <event2/event.h>
#include "itgov/db.h"
#include "itgov/log.h"
#include "itgov/service.h"
#include "projects.h"

static struct event *s_scan;
static bool s_scanning;

static void s_on_scanned(void *arg, PGresult *res, struct error *err)
{
    s_scanning = false;
    if (err) {
        log_warn("milestone scan failed: %s", err->detail);
        error_destroy(&err);
        return;
    }
    if (PQntuples(res) > 0) log_info("%d milestone(s) became overdue", PQntuples(res));
}

static void s_on_scan(evutil_socket_t fd, short what, void *arg)
{
    struct service *svc = arg;
    if (s_scanning || !db_ready(svc->db)) return;
    s_scanning = true;
    db_query(svc->db,
             "WITH m AS (UPDATE milestones m SET overdue_at = now() FROM projects p "
             "WHERE p.id = m.project_id AND p.state IN ('implementing', 'acceptance_review') "
             "AND m.completed_at IS NULL AND m.overdue_at IS NULL "
             "AND m.due_date < utc_today() RETURNING m.*) "
             "SELECT emit('itgov.project.milestone.overdue', 'projects/' || m.project_id, NULL, "
             "jsonb_build_object('project_id', m.project_id, 'milestone', milestone_doc(m))) "
             "FROM m ORDER BY m.id",
             0, NULL, s_on_scanned, svc);
}

int scan_start(struct service *svc)
{
    s_scan = event_new(svc->base, -1, EV_PERSIST, s_on_scan, svc);
    if (!s_scan) return -1;
    struct timeval iv = {projects_cfg.scan_interval_s, 0};
    return event_add(s_scan, &iv);
}

void scan_stop(struct service *svc)
{
    if (s_scan) event_free(s_scan);
    s_scan = NULL;
}
