"""
cluster.py - start and stop real `picokube server` members on loopback for
integration tests. Every process started here is recorded by PID and only
those are ever stopped. Ports are picked free at start.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("PICOKUBE_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
PICOKUBE = os.path.abspath(os.path.join(BUILD, "picokube"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, timeout=10, headers=None):
    """Returns (status, body bytes, headers); never raises on HTTP errors."""
    req = urllib.request.Request(url, data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    # These tests are about the store and the servers, not certificate checks
    # (lib's unit tests and the kubectl end-to-end tests verify the CA).
    ctx = ssl._create_unverified_context() if url.startswith("https://") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as e:
        return 0, str(e).encode(), {}


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling until the deadline
            last = e
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class Member:
    def __init__(self, root, name, extra=None):
        self.name = name
        self.dir = os.path.join(root, name)
        self.api_port = free_port()
        self.peer_port = free_port()
        self.url = "https://127.0.0.1:%d" % self.api_port
        self.extra = list(extra or [])
        self.proc = None
        self.log_path = os.path.join(root, name + ".log")
        self.args = None

    def start(self, join=None, token=None, wait=True):
        if self.args is None:
            self.args = [PICOKUBE, "server", "--data-dir", self.dir, "--bind-address", "127.0.0.1",
                         "--https-listen-port", str(self.api_port), "--peer-port", str(self.peer_port),
                         "--disable-agent"] + self.extra
            if join:
                self.args += ["--server", join, "--token", token]
            else:
                self.args += ["--cluster-init"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        if wait:
            wait_for(lambda: self.ready(), 30, "%s ready" % self.name)
        return self

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log()))
        return (http("GET", self.url + "/readyz", timeout=2)[0] == 200
                and os.path.exists(os.path.join(self.dir, "admin.kubeconfig")))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def token(self):
        with open(os.path.join(self.dir, "token")) as f:
            return f.read().strip()

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def status(self, token):
        code, body, _ = http("GET", self.url + "/internal/raftstore/status", token=token, timeout=3)
        return json.loads(body) if code == 200 else None


class Cluster:
    def __init__(self, n=3, extra=None):
        self.root = tempfile.mkdtemp(prefix="pk-it-", dir="/var/tmp")
        self.members = [Member(self.root, "m%d" % (i + 1), extra) for i in range(n)]
        self.token = None

    def start(self):
        first = self.members[0].start()
        wait_for(lambda: os.path.exists(os.path.join(first.dir, "token")), 20, "token file")
        self.token = first.token
        for m in self.members[1:]:
            m.start(join=first.url, token=self.token)
        self.wait_voters(len(self.members))
        return self

    def wait_voters(self, n, timeout=30):
        def ok():
            for m in self.members:
                if not m.alive():
                    continue
                st = m.status(self.token)
                if not st or st.get("voters") != n or "leaderURL" not in st:
                    return False
            return True
        wait_for(ok, timeout, "%d voters seen by every live member" % n)

    def leader(self, timeout=15):
        def find():
            for m in self.members:
                if m.alive():
                    st = m.status(self.token)
                    if st and st.get("leader") and st.get("ready"):
                        return m
            return None
        return wait_for(find, timeout, "a ready leader")

    def put(self, member, key, value, timeout=10):
        return http("POST", member.url + "/internal/raftstore/kv" + key, body=value,
                    token=self.token, timeout=timeout)[0]

    def get(self, member, key, timeout=10):
        code, body, _ = http("GET", member.url + "/internal/raftstore/kv" + key, token=self.token,
                             timeout=timeout)
        return code, body

    def stop(self):
        for m in self.members:
            m.kill(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
