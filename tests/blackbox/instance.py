"""A second instance of a service, next to the stack: its own port and log,
the stack's environment with the changes a test makes; stopped with SIGTERM
and required to exit 0. Used by tests that need a service started another
way than the stack starts it (test_resolve, test_cors_off)."""
import contextlib
import os
import signal
import subprocess

from client import cfg, http, poll


def free_port():
    script = os.path.join(os.path.dirname(__file__), "..", "free-ports.py")
    return int(subprocess.run(["python3", script, "1"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.split()[0])


def binary(name):
    d = cfg("ITGOV_BUILD_DIR")
    if not os.path.isabs(d):
        d = os.path.join(os.path.dirname(__file__), "..", "..", d)
    return os.path.join(d, "bin", "itgov-" + name)


class Instance:
    def __init__(self, root, log_path):
        self.root, self.log_path = root, log_path

    def log(self):
        """The instance's log; complete once it has stopped (flushed on exit)."""
        with open(self.log_path) as f:
            return f.read()


@contextlib.contextmanager
def instance(service, what, log_name, env_changes=None, env_removed=()):
    """Starts `service` (what: how the failures name it), waits for /readyz,
    yields an Instance; on leaving stops it and asserts it exited 0."""
    port = free_port()
    env = dict(os.environ)
    env[f"ITGOV_{service.upper()}_PORT"] = str(port)
    env.update(env_changes or {})
    for name in env_removed:
        env.pop(name, None)
    inst = Instance(f"http://127.0.0.1:{port}", os.path.join(cfg("ITGOV_TEST_LOGS"), log_name))
    with open(inst.log_path, "w") as log:
        p = subprocess.Popen([binary(service)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def ready():
            try:
                return http("GET", inst.root + "/readyz", timeout=2).status == 200
            except OSError:
                return False

        poll(ready, 20, f"readyz of {what}")
        yield inst
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError(f"{what} did not stop within 20 s")
    assert rc == 0, f"{what} exited with {rc}"
