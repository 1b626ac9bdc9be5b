"""The last enabled admin can be neither disabled nor demoted (issue 7, item 7),
not even by themselves, and not by two admins demoting each other at once.

The tests first disable every other enabled admin (earlier tests make some),
so that `admin` is the last one, and enable them again at the end."""
import threading

from client import (admin_id, admin_token, expect, forget_admin_token, http, make_user, problem,
                    walk)

ORDER = 70


def _enabled_admins():
    return [u for u in walk("/users", admin_token(), limit=200)
            if "admin" in u["roles"] and not u["disabled"]]


def _leave_admin_alone():
    """Disables every enabled admin but `admin`; returns their ids."""
    others = [u["id"] for u in _enabled_admins() if u["id"] != admin_id()]
    for i in others:
        expect(http("POST", f"/users/{i}/disable", token=admin_token()), 200)
    assert [u["id"] for u in _enabled_admins()] == [admin_id()], "admin is not the last admin"
    return others


def _restore(others):
    for i in others:
        expect(http("POST", f"/users/{i}/enable", token=admin_token()), 200)


def test_the_last_admin_cannot_disable_or_demote_themselves():
    others = _leave_admin_alone()
    try:
        me = expect(http("GET", "/me", token=admin_token()), 200)
        aid = me["id"]
        problem(http("POST", f"/users/{aid}/disable", token=admin_token()), 409, "last_admin")
        problem(http("PATCH", f"/users/{aid}", {"roles": ["auditor"]}, token=admin_token()), 409,
                "last_admin")
        problem(http("PATCH", f"/users/{aid}", {"roles": ["auditor"], "display_name": "not me"},
                     token=admin_token()), 409, "last_admin")
        # nothing changed, the session lives on and is still an admin's
        now = expect(http("GET", f"/users/{aid}", token=admin_token()), 200)
        assert now["roles"] == me["roles"] and not now["disabled"], now
        assert now["display_name"] == me["display_name"], now
        expect(http("GET", "/sessions", token=admin_token()), 200)
        # changes that keep an admin are fine
        roles = sorted(set(me["roles"]) | {"auditor"})
        expect(http("PATCH", f"/users/{aid}", {"roles": roles}, token=admin_token()), 200)
        expect(http("PATCH", f"/users/{aid}", {"roles": me["roles"]}, token=admin_token()), 200)
        expect(http("PATCH", f"/users/{aid}", {"display_name": me["display_name"]},
                    token=admin_token()), 200)
        # with a second admin, either may go
        b = make_user(["admin"])
        expect(http("PATCH", f"/users/{b['id']}", {"roles": ["applicant"]}, token=admin_token()), 200)
        # and the last one is refused again
        problem(http("POST", f"/users/{aid}/disable", token=admin_token()), 409, "last_admin")
    finally:
        _restore(others)


def _at_once(calls):
    out = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i):
        gate.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(out), f"a call did not answer: {out}"
    return out


def _acts(action, target, token):
    if action == "demote":
        return lambda: http("PATCH", f"/users/{target}", {"roles": ["applicant"]}, token=token)
    return lambda: http("POST", f"/users/{target}/disable", token=token)


def test_two_admins_demoting_or_disabling_each_other_at_once_leave_one_admin():
    others = _leave_admin_alone()
    original = expect(http("GET", "/me", token=admin_token()), 200)["roles"]
    try:
        for action in ("demote", "disable", "demote", "disable", "demote", "disable"):
            a_id, a_tok = admin_id(), admin_token()
            b = make_user(["admin"])
            answers = _at_once([_acts(action, b["id"], a_tok), _acts(action, a_id, b["token"])])
            won = [r for r in answers if r.status == 200]
            assert len(won) == 1, f"{action}: not exactly one success: {[str(r) for r in answers]}"
            lost = answers[1] if answers[0].status == 200 else answers[0]
            # refused by the last-admin rule, or (when the winner was faster
            # than the loser's own check) no longer an admin / no session
            code = lost.body.get("code") if isinstance(lost.body, dict) else None
            assert (lost.status, code) in {(409, "last_admin"), (403, "forbidden"),
                                           (401, "unauthorized")}, f"{action}: {lost}"
            survivor_tok = a_tok if answers[0].status == 200 else b["token"]
            admins = [u for u in walk("/users", survivor_tok, limit=200)
                      if "admin" in u["roles"] and not u["disabled"]]
            assert [u["id"] for u in admins] in ([a_id], [b["id"]]), \
                f"{action}: enabled admins after the race: {[u['id'] for u in admins]}"
            if answers[1].status == 200:
                # b won: b gives admin back its role and account, then admin
                # demotes b, so that admin is the last admin again
                expect(http("POST", f"/users/{a_id}/enable", token=b["token"]), 200)
                expect(http("PATCH", f"/users/{a_id}", {"roles": original}, token=b["token"]), 200)
                forget_admin_token()
                expect(http("PATCH", f"/users/{b['id']}", {"roles": ["applicant"]},
                            token=admin_token()), 200)
            assert [u["id"] for u in _enabled_admins()] == [a_id], "admin is not the last admin"
    finally:
        _restore(others)
