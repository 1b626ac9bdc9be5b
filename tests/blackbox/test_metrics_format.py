"""Every service's /metrics passes `promtool check metrics` (Debian's
prometheus package) without a warning: each family has # HELP and # TYPE
(issue 9, finding 8), and a request that matches no route is counted under
method="other", route="unmatched", never with an empty method."""
import shutil
import subprocess

from client import cfg, http, internal_key

ORDER = 16
SERVICES = ("accounts", "projects", "approvals", "audit")


def _metrics(svc):
    r = http("GET", cfg(f"ITGOV_TEST_{svc.upper()}_URL").rstrip("/") + "/metrics", token=internal_key())
    assert r.status == 200, r
    return r.text


def test_promtool_check_metrics_is_clean_on_every_service():
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package prometheus; deploy/deps.sh installs it)"
    for svc in SERVICES:
        # an unmatched request first, so that its label is checked too
        assert http("GET", cfg(f"ITGOV_TEST_{svc.upper()}_URL").rstrip("/") + "/nowhere").status == 404
        text = _metrics(svc)
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        out = (p.stdout + p.stderr).strip()
        assert p.returncode == 0 and not out, f"promtool on {svc}'s /metrics (rc {p.returncode}): {out}"
        for line in text.splitlines():
            assert 'method=""' not in line, f"{svc}: a sample with an empty method: {line}"
        assert 'method="other",route="unmatched"' in text, f"{svc}: no unmatched counter"
        families = {l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")}
        helped = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
        assert families == helped, f"{svc}: TYPE without HELP or HELP without TYPE: {families ^ helped}"
