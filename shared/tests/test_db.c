/* The pool's pure decisions (db.h): what a result leads to, and which
 * connection of the pipeline the next statement goes to. */
#include "check.h"
#include "itgov/db.h"

static void test_outcome(void)
{
    /* answers, whatever the SQLSTATE field says */
    CHECK(db_result_outcome(PGRES_TUPLES_OK, NULL, true, true) == DB_ANSWER);
    CHECK(db_result_outcome(PGRES_COMMAND_OK, NULL, false, false) == DB_ANSWER);
    /* serialization failures and deadlocks are retried while attempts last */
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "40001", true, true) == DB_RETRY);
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "40P01", true, true) == DB_RETRY);
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "40001", true, false) == DB_FAIL);
    /* a statement whose PREPARE (sent by a job ahead of it) failed: retried
     * only while the connection does not have it prepared */
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "26000", false, true) == DB_RETRY);
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "26000", true, true) == DB_FAIL);
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "26000", false, false) == DB_FAIL);
    /* anything else fails at once: a constraint, a timeout, a lost
     * connection (no SQLSTATE), an aborted pipeline */
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "23505", false, true) == DB_FAIL);
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, "57014", true, true) == DB_FAIL);
    CHECK(db_result_outcome(PGRES_FATAL_ERROR, NULL, true, true) == DB_FAIL);
    CHECK(db_result_outcome(PGRES_PIPELINE_ABORTED, NULL, true, true) == DB_FAIL);
    CHECK(db_result_outcome(PGRES_EMPTY_QUERY, NULL, true, true) == DB_FAIL);
    CHECK(db_sqlstate_retryable("40001") && db_sqlstate_retryable("40P01"));
    CHECK(!db_sqlstate_retryable("40002") && !db_sqlstate_retryable(NULL));
}

static void test_pick(void)
{
    /* none connected, or none at all */
    struct db_load none[2] = {{false, 0, 0}, {false, 0, 0}};
    CHECK(db_pick(none, 2, 16, 0.02) == -1);
    CHECK(db_pick(none, 0, 16, 0.02) == -1);
    /* the fewest in flight; the first of equals */
    struct db_load l[4] = {{true, 3, 0.001}, {true, 1, 0.001}, {false, 0, 0}, {true, 1, 0.001}};
    CHECK(db_pick(l, 4, 16, 0.02) == 1);
    l[1].inflight = 2;
    CHECK(db_pick(l, 4, 16, 0.02) == 3);
    /* a full pipeline takes no more */
    struct db_load full[2] = {{true, 16, 0.001}, {true, 16, 0.001}};
    CHECK(db_pick(full, 2, 16, 0.02) == -1);
    full[1].inflight = 15;
    CHECK(db_pick(full, 2, 16, 0.02) == 1);
    /* nor one whose oldest statement runs long: a slow statement does not
     * hold up those queued behind it */
    struct db_load slow[2] = {{true, 1, 0.5}, {true, 5, 0.001}};
    CHECK(db_pick(slow, 2, 16, 0.02) == 1);
    slow[1].busy_s = 0.5;
    CHECK(db_pick(slow, 2, 16, 0.02) == -1);
    /* an idle connection is never stalled */
    slow[0] = (struct db_load){true, 0, 0.5};
    CHECK(db_pick(slow, 2, 16, 0.02) == 0);
    /* depth 1: one statement per connection, as without a pipeline */
    struct db_load one[2] = {{true, 1, 0}, {true, 0, 0}};
    CHECK(db_pick(one, 2, 1, 0.02) == 1);
    one[1].inflight = 1;
    CHECK(db_pick(one, 2, 1, 0.02) == -1);
}

int main(void)
{
    test_outcome();
    test_pick();
    char t[24];
    id_text(t, 9007199254740993LL);
    CHECK_STR(t, "9007199254740993");
    return check_done();
}
