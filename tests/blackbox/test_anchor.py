"""itgov-anchor end to end (issue 14 D): the real binary of the build the
stack runs (build-test/bin/itgov-anchor), on real files in a temporary
directory, against the real stack through the gateway.

Three rotated segments are anchored oldest first (given in another order),
each naming the one before; a second run posts nothing; a lost state posts
them again and itgov answers the anchors it holds (nothing new in the log);
verify proves each segment (the client checks the entry, the inclusion path
and the checkpoint signature itself, with the public key saved beforehand)
and fails with another public key; one byte changed → not anchored (exit
1); a state rolled back (a segment anchored, then deleted and hidden) →
log_chain_broken; a configuration fingerprint is the SHA-256 of the files
concatenated; refusals carry the server's problem+json; the key is given
by environment or file only, never printed; https:// is verified (through a
TLS proxy in front of the gateway, with a certificate made for the test)."""
import base64
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from client import expect, gateway_root, http, poll
from instance import binary
import projects_flow
from projects_flow import in_operation_project, tok

ORDER = 67
_cache = {}


def anchor_bin():
    """The itgov-anchor of the build the stack runs."""
    exe = binary("anchor")
    assert os.access(exe, os.X_OK), f"itgov-anchor not built: {exe}"
    return exe


def audit_items(query):
    return expect(http("GET", f"/audit?{query}&limit=200", token=tok("it")), 200)["items"]


def system():
    """(project, key) of a project in operation that audit knows, with a key
    holding log_digests and config (made once)."""
    if "system" not in _cache:
        live = getattr(projects_flow, "live_system", None)
        if live is not None:
            p = live()
        else:
            p = in_operation_project()

            def known():
                states = [e["data"].get("state") for e in
                          audit_items(f"subject=projects/{p['id']}&type_prefix=itgov.project.")
                          if isinstance(e.get("data"), dict) and e["data"].get("id") == p["id"]]
                return states and states[-1] == "in_operation"
            poll(known, 10, f"audit knowing project {p['id']} in operation", interval=0.1)
        helper = getattr(projects_flow, "system_key", None)
        if helper is not None:
            _, key = helper(None, p["id"], ["log_digests", "config"])
        else:
            key = expect(http("POST", f"/projects/{p['id']}/system-keys",
                              {"scopes": ["log_digests", "config"]}, token=tok("it")), 201)["key"]
        _cache["system"] = (p, key)
    return _cache["system"]


class Run:
    def __init__(self, p):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def __repr__(self):
        return f"exit {self.rc}\nstdout: {self.out}\nstderr: {self.err}"


def anchor(*args, key=None, env=None, url=None, project=None, timeout=60):
    """Runs itgov-anchor with the key in ITGOV_ANCHOR_KEY (unless key=False)."""
    p, k = system()
    e = {k2: v for k2, v in os.environ.items() if not k2.startswith("ITGOV_ANCHOR_")}
    e["ITGOV_ANCHOR_URL"] = url or gateway_root()
    e["ITGOV_ANCHOR_PROJECT"] = str(project or p["id"])
    if key is not False:
        e["ITGOV_ANCHOR_KEY"] = key or k
    e.update(env or {})
    r = Run(subprocess.run([anchor_bin(), *args], capture_output=True, text=True, env=e, timeout=timeout))
    assert k not in r.out + r.err, f"the key was printed: {r!r}"
    assert "AddressSanitizer" not in r.err and "LeakSanitizer" not in r.err and "runtime error" not in r.err, repr(r)
    return r


def sha_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write(path, text, mtime=None):
    with open(path, "w") as f:
        f.write(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def segments(d, prefix, n, start=1796025600):
    """n rotated segments of a log, one a day, lines with RFC 3339 times."""
    out = []
    for i in range(n):
        t0 = start + i * 86400
        day = time.strftime("%Y%m%d", time.gmtime(t0))
        lines = [f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t0 + 60 * j))} GET /item/{i}/{j} 200"
                 for j in range(3 + i)]
        out.append(write(os.path.join(d, f"{prefix}-{day}"), "\n".join(lines) + "\n", mtime=t0 + 86399))
    return out


def public_key_file(d):
    path = os.path.join(d, "audit-public-key.json")
    with open(path, "w") as f:
        json.dump(expect(http("GET", "/audit/public-key"), 200), f)
    return path


def digest_events(pid, log):
    return [e for e in audit_items(f"subject=projects/{pid}&type_prefix=itgov.system.log_digest.anchored")
            if e["data"].get("log_name") == log]


def findings(pid, kind):
    b = expect(http("GET", f"/systems/findings?project_id={pid}&kind={kind}", token=tok("it")), 200)
    return b["items"]


def test_three_segments_anchored_oldest_first_then_nothing_new():
    p, _ = system()
    d = tempfile.mkdtemp(prefix="itgov-anchor-")
    try:
        segs = segments(d, "access.log", 3)
        state = os.path.join(d, "access.state")
        r = anchor("digest", "--log", "access", "--state", state, segs[2], segs[0], segs[1])
        assert r.rc == 0, r
        lines = [ln for ln in r.out.splitlines() if ln.startswith("anchored ")]
        assert [ln.split()[1] for ln in lines] == [os.path.basename(s) for s in segs], r
        evs = digest_events(p["id"], "access")
        assert [e["data"]["sha256"] for e in evs] == [sha_of(s) for s in segs], evs
        assert [e["data"]["previous_sha256"] for e in evs] == [None, sha_of(segs[0]), sha_of(segs[1])], evs
        seqs = [int(ln.split()[-1]) for ln in lines]
        assert seqs == [e["seq"] for e in evs], (seqs, evs)
        d0 = evs[0]["data"]
        assert d0["segment"] == os.path.basename(segs[0]) and d0["entries"] == 3, d0
        assert d0["first_entry_at"] == "2026-11-30T08:00:00Z" and d0["last_entry_at"] == "2026-11-30T08:02:00Z", d0
        # the state file: the last one and every segment, replaced atomically (no temp left)
        with open(state) as f:
            text = f.read()
        assert text.startswith("itgov-anchor-state v1\nlog access\n"), text
        assert f"last {sha_of(segs[2])}\n" in text and text.count("\nposted ") == 3, text
        assert sorted(os.listdir(d)) == sorted([os.path.basename(s) for s in segs] + ["access.state"])
        assert oct(os.stat(state).st_mode & 0o777) == "0o600"

        # again: nothing new, nothing posted
        r = anchor("digest", "--log", "access", "--state", state, *segs)
        assert r.rc == 0 and "nothing new to anchor" in r.out, r
        assert len(digest_events(p["id"], "access")) == 3

        # a lost state: the segments on disk are posted again, itgov answers what it holds
        os.unlink(state)
        r = anchor("digest", "--log", "access", "--state", state, *segs)
        assert r.rc == 0 and r.out.count("(already anchored)") == 3, r
        assert len(digest_events(p["id"], "access")) == 3
        assert findings(p["id"], "log_chain_broken") == [] or all(
            f["detail"].get("log_name") != "access" for f in findings(p["id"], "log_chain_broken"))
        _cache["segs"] = (d, segs)
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise


def test_verify_proves_each_segment_and_a_changed_byte_is_not_anchored():
    if "segs" not in _cache:
        test_three_segments_anchored_oldest_first_then_nothing_new()
    d, segs = _cache["segs"]
    try:
        pk = public_key_file(d)
        for s in segs:
            r = anchor("verify", "--log", "access", "--public-key", pk, s)
            assert r.rc == 0 and r.out.startswith("OK: "), r
            assert f"sha256 {sha_of(s)}" in r.out, r
        # the key from a file works as well as the environment
        kf = os.path.join(d, "key")
        with open(kf, "w") as f:
            f.write(system()[1] + "\n")
        os.chmod(kf, 0o600)
        r = anchor("verify", "--log", "access", "--public-key", pk, "--key-file", kf, segs[1], key=False)
        assert r.rc == 0 and r.out.startswith("OK: "), r

        # another log name: not anchored there
        r = anchor("verify", "--log", "error", "--public-key", pk, segs[0])
        assert r.rc == 1 and r.out.startswith("NOT ANCHORED"), r

        # one byte changed in a segment
        changed = os.path.join(d, "changed")
        with open(segs[1], "rb") as f:
            raw = bytearray(f.read())
        raw[5] ^= 0x01
        with open(changed, "wb") as f:
            f.write(raw)
        r = anchor("verify", "--log", "access", "--public-key", pk, changed)
        assert r.rc == 1 and r.out.startswith("NOT ANCHORED"), r

        # a public key that is not audit's: the signature check fails, the server's word is not enough
        other = os.path.join(d, "other.pub")
        write(other, base64.b64encode(os.urandom(32)).decode() + "\n")
        r = anchor("verify", "--log", "access", "--public-key", other, segs[0])
        assert r.rc == 1 and r.out.startswith("INVALID") and "another key" in r.out, r
    finally:
        shutil.rmtree(d, ignore_errors=True)
        _cache.pop("segs", None)


def test_a_state_rolled_back_over_a_hidden_segment_breaks_the_chain():
    p, _ = system()
    with tempfile.TemporaryDirectory(prefix="itgov-anchor-", ignore_cleanup_errors=True) as d:
        a1, a2, a3 = segments(d, "app.log", 3, start=1796025600 + 10 * 86400)
        s1, s2, s3 = sha_of(a1), sha_of(a2), sha_of(a3)
        state = os.path.join(d, "app.state")
        assert anchor("digest", "--log", "app", "--state", state, a1).rc == 0
        shutil.copy(state, state + ".old")
        assert anchor("digest", "--log", "app", "--state", state, a1, a2).rc == 0
        # a2 deleted and the state put back as if it had never been: a3 claims to follow a1
        os.unlink(a2)
        os.replace(state + ".old", state)
        r = anchor("digest", "--log", "app", "--state", state, a1, a3)
        assert r.rc == 0 and "anchored " + os.path.basename(a3) in r.out, r
        assert "log_chain_broken" in r.err, r

        def broken():
            return [f for f in findings(p["id"], "log_chain_broken") if f["detail"].get("log_name") == "app"]
        got = poll(broken, 5, "the log_chain_broken finding")
        assert len(got) == 1, got
        det = got[0]["detail"]
        assert det["expected_previous"] == s2 and det["got_previous"] == s1, det
        assert det["sha256"] == s3, det
        assert got[0]["status"] == "open" and got[0]["evidence_seq"] == digest_events(p["id"], "app")[-1]["seq"], got


def test_a_fingerprint_is_the_files_concatenated():
    p, _ = system()
    with tempfile.TemporaryDirectory(prefix="itgov-anchor-", ignore_cleanup_errors=True) as d:
        f1 = write(os.path.join(d, "nginx.conf"), "worker_processes 2;\n")
        f2 = write(os.path.join(d, "site.conf"), "server { listen 443 ssl; }\n")
        want = hashlib.sha256(b"worker_processes 2;\nserver { listen 443 ssl; }\n").hexdigest()
        r = anchor("fingerprint", "--component", "nginx", f1, f2)
        assert r.rc == 0 and f"sha256 {want}" in r.out, r
        evs = [e for e in audit_items(f"subject=projects/{p['id']}&type_prefix=itgov.system.config.observed")
               if e["data"].get("component") == "nginx"]
        assert evs and evs[-1]["data"]["sha256"] == want, evs
        # the same files again: the same fingerprint, no finding
        r = anchor("fingerprint", "--component", "nginx", f1, f2)
        assert r.rc == 0 and "finding" not in r.err, r


def test_refusals_and_usage():
    p, key = system()
    with tempfile.TemporaryDirectory(prefix="itgov-anchor-", ignore_cleanup_errors=True) as d:
        seg = write(os.path.join(d, "x.log-20261201"), "a line\n")
        state = os.path.join(d, "x.state")
        # a key that does not exist: the server's problem+json, exit 3, the state untouched
        r = anchor("digest", "--log", "x", "--state", state, seg, key="itgk_" + "A" * 43)
        assert r.rc == 3 and "401" in r.err and "Unauthorized" in r.err, r
        assert not os.path.exists(state)
        # another project: 403 from the server
        r = anchor("digest", "--log", "x", "--state", state, seg, project=p["id"] + 100000)
        assert r.rc == 3 and "403" in r.err, r
        # the key on the command line is refused, never used
        r = anchor("digest", "--log", "x", "--key", key, seg, key=False)
        assert r.rc == 2 and "never given on the command line" in r.err, r
        # no key, no URL, bad project, no file, missing public key, unreadable file
        assert anchor("digest", "--log", "x", seg, key=False).rc == 2
        assert anchor("digest", "--log", "x", seg, env={"ITGOV_ANCHOR_PROJECT": "abc"}).rc == 2
        assert anchor("digest", "--log", "x").rc == 2
        assert anchor("verify", "--log", "x", seg).rc == 2
        r = anchor("digest", "--log", "x", "--state", state, os.path.join(d, "missing"))
        assert r.rc == 2 and "cannot open" in r.err, r
        # a damaged state file stops the client instead of starting a new chain
        write(state, "not a state\n")
        r = anchor("digest", "--log", "x", "--state", state, seg)
        assert r.rc == 2 and "damaged" in r.err, r
        # nobody listening: exit 3, said so
        r = anchor("digest", "--log", "x", "--state", os.path.join(d, "y.state"), seg,
                   url="http://127.0.0.1:9", env={"ITGOV_ANCHOR_TIMEOUT_S": "5"})
        assert r.rc == 3 and "127.0.0.1:9" in r.err, r


class _Proxy(BaseHTTPRequestHandler):
    """POST forwarded to the gateway: a TLS front for the test."""
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = urllib.request.Request(gateway_root() + self.path, data=self.rfile.read(n), method="POST",
                                     headers={h: self.headers[h] for h in ("Content-Type", "Authorization")
                                              if self.headers.get(h)})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, body, ctype = r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, e.read(), e.headers.get("Content-Type")
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def _cert(d, name, san):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=itgov-test", "-days", "1",
                    "-addext", f"subjectAltName={san}"], check=True, capture_output=True)
    return key, crt


def test_https_is_verified():
    if shutil.which("openssl") is None:
        raise AssertionError("openssl (Debian's openssl package) is needed to make the test certificate")
    probe = subprocess.run([anchor_bin(), "digest", "--log", "x", "--url", "https://127.0.0.1:1", "/dev/null"],
                           capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "")})
    if "this build has no TLS" in probe.stderr:
        return  # built without libevent_openssl: http:// only, said so in its usage
    p, _ = system()
    d = tempfile.mkdtemp(prefix="itgov-anchor-")
    servers = []
    try:
        seg = segments(d, "tls.log", 1, start=1796025600 + 20 * 86400)[0]
        pk = public_key_file(d)

        def serve(cert):
            srv = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert[1], cert[0])
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            servers.append(srv)
            return f"https://127.0.0.1:{srv.server_address[1]}"

        good = _cert(d, "good", "IP:127.0.0.1")
        url = serve(good)
        ca = {"ITGOV_ANCHOR_CA_FILE": good[1]}
        r = anchor("digest", "--log", "tls", "--state", os.path.join(d, "tls.state"), seg, url=url, env=ca)
        assert r.rc == 0 and "anchored " in r.out, r
        r = anchor("verify", "--log", "tls", "--public-key", pk, seg, url=url, env=ca)
        assert r.rc == 0 and r.out.startswith("OK: "), r
        # not a CA it trusts: refused before anything is sent
        r = anchor("verify", "--log", "tls", "--public-key", pk, seg, url=url)
        assert r.rc == 3 and "certificate" in r.err, r
        # a trusted certificate for another name
        wrong = _cert(d, "wrong", "DNS:other.example")
        url2 = serve(wrong)
        r = anchor("verify", "--log", "tls", "--public-key", pk, seg, url=url2,
                   env={"ITGOV_ANCHOR_CA_FILE": wrong[1]})
        assert r.rc == 3 and "certificate" in r.err, r
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
        shutil.rmtree(d, ignore_errors=True)
