"""Migrations are forward-only: every shipped file's SHA-256 is the one the
stack's database recorded when it applied it, and a service refuses to start
when a file it ships no longer matches (issue 8)."""
import glob
import hashlib
import os
import subprocess

from client import cfg, local_sh, psql

ORDER = 60
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def shipped():
    """{service: {file name: sha256 hex}} of services/*/migrations."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "services", "*", "migrations", "*.sql"))):
        svc = path.split(os.sep)[-3]
        with open(path, "rb") as f:
            out.setdefault(svc, {})[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()
    return out


def recorded(svc):
    rows = psql(f"SELECT name, coalesce(checksum, '') FROM {svc}.schema_migrations ORDER BY name")
    return dict(line.split("|") for line in rows.splitlines() if line)


def test_each_shipped_migration_matches_its_recorded_checksum():
    files = shipped()
    assert files, "no migration files found under services/*/migrations"
    for svc, sums in files.items():
        rows = recorded(svc)
        for name, want in sums.items():
            assert name in rows, f"{svc}: {name} is shipped but not recorded as applied"
            assert rows[name] == want, \
                f"services/{svc}/migrations/{name} was edited after it was applied " \
                f"(file {want[:12]}..., recorded {rows[name][:12] or 'nothing'}...): add a new file instead"
        for name, got in rows.items():
            assert got, f"{svc}: {name} has no recorded checksum"
            if not name.startswith("0000_"):  # the shared steps live in shared/src
                assert name in sums, f"{svc}: {name} was applied but is no longer shipped"


def _start(component):
    p = subprocess.run([cfg("ITGOV_TEST_LOCAL_SH"), "start", component],
                       capture_output=True, text=True, timeout=120)
    return p.returncode


def test_a_changed_migration_stops_the_start_and_an_older_database_gets_its_checksums():
    svc, name = "projects", "0001_init.sql"
    want = shipped()[svc][name]
    log = os.path.join(cfg("ITGOV_TEST_LOGS"), f"{svc}.log")
    local_sh("stop", svc)
    try:
        psql(f"UPDATE {svc}.schema_migrations SET checksum = repeat('0', 64) WHERE name = '{name}'")
        before = os.path.getsize(log)
        assert _start(svc) != 0, f"{svc} started although {name} differs from its recorded checksum"
        with open(log, errors="replace") as f:
            f.seek(before)
            text = f.read()
        assert name in text and "forward-only" in text, f"no error naming {name}: {text[-800:]}"
    finally:
        # as a database from before checksums were recorded: no column, no step
        psql(f"ALTER TABLE {svc}.schema_migrations DROP COLUMN checksum; "
             f"DELETE FROM {svc}.schema_migrations WHERE name = '0000_checksum'")
        local_sh("start", svc)
    rows = recorded(svc)
    assert rows.get(name) == want, f"{svc}: the checksum of {name} was not backfilled: {rows}"
    assert all(rows.values()), f"{svc}: rows left without a checksum: {rows}"
