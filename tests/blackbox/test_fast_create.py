"""What keeps POST /projects one prepared statement with nothing parsed per
call (issue 15: the shared migration 0000_plans_kept, shared/src/outbox.c, gives
every schema emit() in plpgsql and rfc3339() STABLE), and the benchmark's pgbench
script of that statement (tests/bench/create_sql.sh) valid against the
schema. No timing: the speed is measured in tests/bench/, never here."""
import os
import re
import subprocess

from client import psql
from projects_flow import create_project

ORDER = 60
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_emit_is_plpgsql_and_rfc3339_inlinable_in_every_schema():
    rows = psql(
        "SELECT n.nspname || '.' || p.proname, l.lanname || ' ' || p.provolatile::text FROM pg_proc p "
        "JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname IN ('accounts', 'projects', 'approvals', 'audit') "
        "AND p.proname IN ('emit', 'rfc3339')").splitlines()
    got = dict(line.split("|", 1) for line in rows if line)
    for schema in ("accounts", "projects", "approvals", "audit"):
        # plpgsql keeps its plans per session; a SQL function of two statements
        # is parsed and planned again in every transaction
        assert got.get(schema + ".emit") == "plpgsql v", got
        # STABLE like its body (to_char): inlined wherever a document is built
        assert got.get(schema + ".rfc3339") == "sql s", got
    # the relay's look for unsequenced rows: no index-only scan, which would
    # read every row sequenced since the last vacuum on every cycle
    conf = psql("SELECT n.nspname, array_to_string(p.proconfig, ',') FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname IN ('accounts', 'projects', 'approvals', 'audit') "
                "AND p.proname = 'outbox_next' AND p.pronargs = 2").splitlines()
    assert sorted(conf) == sorted(f"{s}|enable_indexonlyscan=off" for s in
                                  ("accounts", "projects", "approvals", "audit")), conf


def test_create_sql_script_is_the_services_statement_and_runs():
    p = subprocess.run([os.path.join(ROOT, "tests", "bench", "create_sql.sh")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    sets = {m.group(1) for m in (re.match(r"\\set (\w+) ", l) for l in lines) if m}
    stmts = [l for l in lines if l and not l.startswith(("--", "\\"))]
    assert len(stmts) == 1 and stmts[0].startswith("WITH p AS (INSERT INTO projects "), stmts
    used = set(re.findall(r"(?<!:):(\w+)", stmts[0]))
    assert used and used <= sets, (used, sets)
    sql = re.sub(r"(?<!:):(\w+)", "'1'", stmts[0]).rstrip(";")  # untyped, like a parameter
    plan = psql("SET search_path TO projects; BEGIN; EXPLAIN (VERBOSE, COSTS OFF) " + sql
                + "; ROLLBACK")
    assert "emit(" in plan, plan
    # every document function inlined: no SQL function left to parse per call
    for f in ("rfc3339(", "project_doc(", "project_event("):
        assert f not in plan, f"{f} is not inlined:\n{plan}"


def test_create_still_writes_project_transition_and_event_together():
    p = create_project()
    pid = p["id"]
    got = psql("SELECT (SELECT count(*) FROM projects.transitions "
               f"WHERE subject = 'projects/{pid}' AND action = 'create' AND to_state = 'draft'), "
               "(SELECT count(*) FROM projects.outbox WHERE event->>'type' = 'itgov.project.created'"
               f" AND event->>'subject' = 'projects/{pid}'"
               f" AND (event->'data'->>'id')::bigint = {pid}"
               " AND event->'data'->>'submission' = '0')").strip()
    assert got == "1|1", got
