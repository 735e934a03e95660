"""
conftest.py - fixtures of the end-to-end tests: real `picokube server`
processes on loopback (tests/integration/cluster.py), the real kubectl with a
fresh HOME (so its discovery cache starts empty), the real Python client, and
plain urllib requests. Every wait is bounded.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from cluster import Cluster, http, wait_for  # noqa: E402
import tlsproxy  # noqa: E402

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def admin_token(member):
    with open(os.path.join(member.dir, "admin.kubeconfig")) as f:
        for line in f:
            if line.strip().startswith("token:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no token in admin.kubeconfig")


class Kubectl:
    """Runs the real kubectl against one member, with default flags."""

    def __init__(self, member, workdir):
        wait_for(lambda: os.path.exists(os.path.join(member.dir, "admin.kubeconfig")), 30,
                 "admin.kubeconfig of %s" % member.name)
        self.home = tempfile.mkdtemp(prefix="home-", dir=workdir)
        self.kubeconfig, self.proxy = tlsproxy.kubeconfig(member.dir, self.home)

    def run(self, *args, stdin=None, check=True, timeout=60):
        env = dict(os.environ, HOME=self.home, KUBECONFIG=self.kubeconfig)
        p = subprocess.run([KUBECTL] + list(args), input=stdin, capture_output=True, text=True,
                           env=env, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s%s" % (" ".join(args), p.returncode,
                                                                   p.stdout, p.stderr))
        return p

    def out(self, *args, **kw):
        return self.run(*args, **kw).stdout

    def json(self, *args):
        return json.loads(self.out(*args, "-o", "json"))

    def popen(self, *args):
        env = dict(os.environ, HOME=self.home, KUBECONFIG=self.kubeconfig)
        return subprocess.Popen([KUBECTL] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)

    def close(self):
        if self.proxy:
            self.proxy.stop()


class Api:
    """JSON requests with urllib (as curl would send them)."""

    def __init__(self, member, token):
        self.url = member.url
        self.token = token

    def req(self, method, path, body=None, ctype="application/json", token=None, headers=None,
            timeout=15):
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        h = dict(headers or {})
        if data is not None:
            h["Content-Type"] = ctype
        code, raw, hdrs = http(method, self.url + path, body=data,
                               token=self.token if token is None else (token or None),
                               timeout=timeout, headers=h)
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw
        return code, doc, hdrs

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.req("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.req("PUT", path, body, **kw)

    def patch(self, path, body, ctype="application/merge-patch+json", **kw):
        return self.req("PATCH", path, body, ctype=ctype, **kw)

    def delete(self, path, body=None, **kw):
        return self.req("DELETE", path, body, **kw)


def _start(n):
    c = Cluster(n).start()
    # The leader creates the namespaces and the kubernetes Service at start.
    api = Api(c.members[0], admin_token(c.members[0]))
    wait_for(lambda: api.get("/api/v1/namespaces/kube-node-lease")[0] == 200, 30,
             "bootstrap namespaces")
    # ... then the kubernetes Endpoints, with every master: after that the
    # store stays still unless a test writes (test_errors relies on it).
    wait_for(lambda: sum(len(s.get("ports", [])) for s in (api.get(
        "/api/v1/namespaces/default/endpoints/kubernetes")[1] or {}).get("subsets", [])) == n,
        30, "kubernetes endpoints")
    return c


@pytest.fixture(scope="module")
def one():
    c = _start(1)
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def three():
    c = _start(3)
    yield c
    c.cleanup()


def follower(c):
    lead = c.leader()
    return next(m for m in c.members if m is not lead)


@pytest.fixture(scope="module", params=[1, 3], ids=["one-master", "three-masters"])
def cluster(request):
    """A one-master and a three-master cluster; with three, kubectl talks to a
    follower, so every write is forwarded and every read uses a read index."""
    c = _start(request.param)
    yield c
    c.cleanup()


@pytest.fixture
def kubectl(cluster, tmp_path):
    member = follower(cluster) if len(cluster.members) > 1 else cluster.members[0]
    k = Kubectl(member, str(tmp_path))
    yield k
    k.close()


@pytest.fixture
def api(one):
    return Api(one.members[0], admin_token(one.members[0]))


def unique(prefix):
    return "%s-%d" % (prefix, int(time.monotonic() * 1000) % 100000000)
