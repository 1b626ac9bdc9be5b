"""Runs last: after the whole suite, every change of every service is in the
audit log once, and the whole log verifies (issue 3, "done means")."""
from audit_helpers import check_log_matches_outboxes, verify

ORDER = 99


def test_after_the_whole_suite_the_log_holds_every_change_once_and_verifies():
    check_log_matches_outboxes()
    v = verify()
    assert v["ok"] is True, f"the audit log does not verify after the test suite: {v}"
