/*
 * Deadline watches. A service watches its own deadlines (review due dates,
 * milestones, rectifications, ...) by running one statement on its pool
 * every interval (ITGOV_SCAN_INTERVAL_S), so an overdue record is flagged
 * and its event emitted without any request touching it. The statement
 * flags and emits in one go (UPDATE ... RETURNING, then emit()), one row
 * per record that became overdue. A tick is skipped while the previous
 * statement still runs or the database is down: the next one catches up.
 */
#ifndef ITGOV_SCAN_H
#define ITGOV_SCAN_H

struct service;
struct scan;

/* Starts the watch; what names the rows in the log ("milestone(s) became
 * overdue"). sql must stay valid while the watch runs (a literal). */
struct scan *scan_new(struct service *svc, long interval_s, const char *what, const char *sql);
void scan_destroy(struct scan **self_p);

#endif
