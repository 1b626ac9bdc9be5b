#!/usr/bin/python3
"""Runs the black-box tests.

Every function named test_* in every test_*.py beside this file runs, files in
name order (a file may set ORDER = n to run earlier or later; default 50),
functions in the order they are written. One line per test (`ok name` or
`FAIL name: reason`), then `N passed, M failed`; exit status 1 if any failed.

    run.py [substring ...]     only the tests whose name contains a substring

Each test runs under a time limit (ITGOV_TEST_TIMEOUT_S, default 120 s);
ITGOV_TEST_VERBOSE=1 prints tracebacks of failures to stderr.
"""
import importlib
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import zmq  # noqa: F401 - Debian's python3-zmq; another python3 on PATH may lack it
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
TIMEOUT_S = float(os.environ.get("ITGOV_TEST_TIMEOUT_S", "120"))
VERBOSE = os.environ.get("ITGOV_TEST_VERBOSE") == "1"


def reason_of(exc):
    """One line: the message, and where in a test file it was raised."""
    where = ""
    for fs in reversed(traceback.extract_tb(exc.__traceback__)):
        if os.path.basename(fs.filename).startswith("test_"):
            where = f" [{os.path.basename(fs.filename)}:{fs.lineno}]"
            break
    msg = str(exc) if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
    msg = " | ".join(line.strip() for line in msg.splitlines() if line.strip())
    if len(msg) > 1500:
        msg = msg[:1500] + " ..."
    return (msg or type(exc).__name__) + where


def run_one(fn):
    """Returns None on success, else the exception; gives up after TIMEOUT_S."""
    box = {}

    def target():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - a test's failure, reported
            box["exc"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(TIMEOUT_S)
    if t.is_alive():
        return TimeoutError(f"test still running after {TIMEOUT_S:.0f} s")
    return box.get("exc")


def main(argv):
    sys.path.insert(0, HERE)
    wanted = argv[1:]
    passed = failed = 0
    modules = []
    for fname in sorted(os.listdir(HERE)):
        if fname.startswith("test_") and fname.endswith(".py"):
            try:
                modules.append(importlib.import_module(fname[:-3]))
            except Exception as e:  # noqa: BLE001
                print(f"FAIL {fname}: cannot import: {reason_of(e)}", flush=True)
                failed += 1
    modules.sort(key=lambda m: getattr(m, "ORDER", 50))
    for mod in modules:
        for name, fn in list(vars(mod).items()):
            if not (name.startswith("test_") and callable(fn)):
                continue
            if getattr(fn, "__module__", None) != mod.__name__:
                continue
            full = f"{mod.__name__}.{name}"
            if wanted and not any(w in full for w in wanted):
                continue
            t0 = time.monotonic()
            exc = run_one(fn)
            dt = time.monotonic() - t0
            if exc is None:
                passed += 1
                print(f"ok {full} ({dt:.1f}s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {full}: {reason_of(exc)}", flush=True)
                if VERBOSE:
                    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)  # do not wait for a timed-out test's thread
