"""What keeps POST /projects one prepared statement with nothing parsed per
call (issue 15, projects 0023_fast_create.sql), and the benchmark's pgbench
script of that statement (tests/bench/create_sql.sh) valid against the
schema. No timing: the speed is measured in tests/bench/, never here."""
import os
import re
import subprocess

from client import psql
from projects_flow import create_project

ORDER = 60
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_emit_is_plpgsql_and_rfc3339_inlinable():
    rows = dict(line.split("|", 1) for line in psql(
        "SELECT p.proname, l.lanname || ' ' || p.provolatile::text FROM pg_proc p "
        "JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.pronamespace = 'projects'::regnamespace "
        "AND p.proname IN ('emit', 'rfc3339')").splitlines() if line)
    # plpgsql keeps its plans per session; a SQL function of two statements
    # is parsed and planned again in every transaction
    assert rows.get("emit") == "plpgsql v", rows
    # STABLE like its body (to_char): inlined wherever a document is built
    assert rows.get("rfc3339") == "sql s", rows


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
