"""Login lockout under parallel guesses (issue 7, item 3).

Every attempt is counted before its password is checked, so however many
arrive at once at most ITGOV_LOGIN_MAX_FAILURES are checked in a lock window;
a wrong current_password on PUT /me/password counts toward the same limit."""
import os
import threading
import time

from client import expect, http, lock_s, login, login_resp, make_user, new_password, problem

ORDER = 60


def _max():
    return int(os.environ.get("ITGOV_LOGIN_MAX_FAILURES", "5"))


def _burst(calls, delays=None):
    """Runs the calls at once (a barrier releases them together; delays[i]
    seconds after it for call i); returns their answers in order."""
    out = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i):
        gate.wait()
        if delays and delays[i]:
            time.sleep(delays[i])
        try:
            out[i] = calls[i]()
        except Exception as e:  # noqa: BLE001 - reported below
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, r in enumerate(out):
        assert not isinstance(r, Exception) and r is not None, f"call {i} of the burst failed: {r!r}"
    return out


def _tally(answers, allowed):
    seen = {}
    for r in answers:
        code = r.body.get("code") if isinstance(r.body, dict) else None
        assert (r.status, code) in allowed, f"unexpected answer in the burst: {r}"
        seen[(r.status, code)] = seen.get((r.status, code), 0) + 1
    return seen


def test_forty_wrong_passwords_at_once_check_at_most_the_limit():
    u = make_user(login_now=False)
    answers = _burst([lambda: login_resp(u["username"], new_password()) for _ in range(40)])
    seen = _tally(answers, {(401, "invalid_credentials"), (429, "login_locked")})
    checked = seen.get((401, "invalid_credentials"), 0)
    assert 1 <= checked <= _max(), f"{checked} of 40 parallel guesses had their password checked: {seen}"
    assert seen.get((429, "login_locked"), 0) == 40 - checked, seen
    for r in answers:
        if r.status == 429:
            assert (r.header("Retry-After") or "").isdigit(), f"429 without Retry-After: {r}"
    # and the username is locked now, even for the right password
    problem(login_resp(u["username"], u["password"]), 429, "login_locked")


def test_the_right_password_as_the_thirtieth_of_a_burst_does_not_log_in():
    u = make_user(login_now=False)
    calls = [lambda: login_resp(u["username"], new_password()) for _ in range(29)]
    calls.append(lambda: login_resp(u["username"], u["password"]))
    # the 30th leaves a moment after the 29 wrong ones, still within the burst
    answers = _burst(calls, delays=[0] * 29 + [0.3])
    _tally(answers[:29], {(401, "invalid_credentials"), (429, "login_locked")})
    last = answers[29]
    assert last.status != 201, f"the right password logged in as the 30th of a burst: {last}"
    problem(last, 429, "login_locked")
    # once the lock has expired, the right password works
    time.sleep(lock_s() + 1)
    expect(http("GET", "/me", token=login(u["username"], u["password"])), 200)


def test_a_wrong_current_password_counts_toward_the_login_limit():
    u = make_user()
    path = "/me/password"
    for _ in range(_max()):
        r = http("PUT", path, {"current_password": new_password(), "new_password": new_password()},
                 token=u["token"])
        assert r.status in (400, 403), f"wrong current password: {r}"
    # the username is locked: logins and password changes alike, the right password too
    problem(login_resp(u["username"], u["password"]), 429, "login_locked")
    problem(http("PUT", path, {"current_password": u["password"], "new_password": new_password()},
                 token=u["token"]), 429, "login_locked")
    expect(http("GET", "/me", token=u["token"]), 200)  # the session itself lives on


def test_parallel_wrong_current_passwords_check_at_most_the_limit():
    u = make_user()
    body = lambda: {"current_password": new_password(), "new_password": new_password()}  # noqa: E731
    answers = _burst([lambda: http("PUT", "/me/password", body(), token=u["token"]) for _ in range(20)])
    seen = _tally(answers, {(400, "validation_failed"), (403, "forbidden"), (429, "login_locked")})
    checked = 20 - seen.get((429, "login_locked"), 0)
    assert 1 <= checked <= _max(), f"{checked} of 20 parallel wrong current passwords were checked: {seen}"


def test_failed_logins_and_wrong_current_passwords_share_one_count():
    u = make_user()
    for _ in range(_max() - 1):
        problem(login_resp(u["username"], new_password()), 401, "invalid_credentials")
    r = http("PUT", "/me/password", {"current_password": new_password(), "new_password": new_password()},
             token=u["token"])
    assert r.status in (400, 403), r
    problem(login_resp(u["username"], u["password"]), 429, "login_locked")
