"""The audit log across outages (issue 3): with the audit service or the
broker (or both) stopped, changes go on; once they are back, every change is
in the log exactly once and in each source's order. Each test restarts what
it stopped."""
from audit_helpers import check_log_matches_outboxes, log_size, psql, verify
from client import admin_token, expect, http, local_sh, make_user

ORDER = 91


def _changes(n=3):
    users = [make_user(login_now=False) for _ in range(n)]
    for i, u in enumerate(users):
        expect(http("PATCH", f"/users/{u['id']}", {"display_name": f"停机 {i}"}, token=admin_token()), 200)
    return users


def _logged(users):
    """Each user's user.created and user.updated are in the log once."""
    for u in users:
        got = [r for r in psql(f"SELECT type FROM audit.entries WHERE subject = 'users/{u['id']}'").split()]
        assert sorted(got) == ["itgov.account.user.created", "itgov.account.user.updated"], (u["id"], got)


def test_changes_made_while_the_audit_service_is_down_arrive_once_in_order():
    check_log_matches_outboxes()
    before = log_size()
    local_sh("stop", "audit")
    try:
        users = _changes()
    finally:
        local_sh("start", "audit")
    check_log_matches_outboxes()
    _logged(users)
    assert log_size() >= before + 6
    assert verify()["ok"] is True


def test_changes_made_while_the_broker_is_down_arrive_once_in_order():
    check_log_matches_outboxes()
    local_sh("stop", "broker")
    try:
        users = _changes()
    finally:
        local_sh("start", "broker")
    check_log_matches_outboxes()
    _logged(users)


def test_audit_and_broker_down_together_then_back_in_either_order():
    local_sh("stop", "audit")
    local_sh("stop", "broker")
    try:
        users = _changes(2)
        local_sh("start", "audit")  # catches up over HTTP with no broker at all
        users += _changes(2)
    finally:
        local_sh("start", "audit")
        local_sh("start", "broker")
    check_log_matches_outboxes()
    _logged(users)
    assert verify()["ok"] is True
