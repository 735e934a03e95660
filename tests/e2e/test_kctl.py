"""
test_kctl.py - the bundled CLI, build/kctl, against a real `picokube server`,
verb by verb, compared with the real kubectl on the same objects wherever
kubectl can run: the same tables (headers, columns, values), the same
describe text, the same -o yaml / -o json, the same error messages and exit
codes, and for apply the same resulting objects after an apply, a change and
a removed field. kctl reads the server's admin.kubeconfig as is (plain
http); kubectl goes through the e2e TLS relay (tlsproxy.py). Ages are the
only cells normalised: both tools may print a second apart. Every wait and
every watch is bounded.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from cluster import BUILD
from conftest import Kubectl, admin_token, unique, wait_for

KCTL = os.path.abspath(os.path.join(BUILD, "kctl"))

AGE = re.compile(r"(?<![\w.:/-])(\d+d)?(\d+h)?(\d+m)?(\d+s)?(?=\s|$|\))")


def norm_ages(text):
    """Replaces ages (5s, 3m20s, 2d3h) by <age>, then compares words per line,
    so a second's difference in an AGE column does not shift other columns."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\b\d+[smhd](\d+[smh])?\b", "<age>", line)
        out.append(line.split())
    return out


class Kctl:
    def __init__(self, member, workdir):
        self.kubeconfig = os.path.join(member.dir, "admin.kubeconfig")
        self.home = tempfile.mkdtemp(prefix="kctl-home-", dir=workdir)

    def run(self, *args, stdin=None, check=True, timeout=60, env=None):
        e = dict(os.environ, HOME=self.home, KUBECONFIG=self.kubeconfig)
        e.update(env or {})
        p = subprocess.run([KCTL] + list(args), input=stdin, capture_output=True, text=True,
                           env=e, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("kctl %s failed (%d):\n%s%s" % (" ".join(args), p.returncode,
                                                                p.stdout, p.stderr))
        return p

    def out(self, *args, **kw):
        return self.run(*args, **kw).stdout

    def json(self, *args):
        return json.loads(self.out(*args, "-o", "json"))

    def popen(self, *args):
        e = dict(os.environ, HOME=self.home, KUBECONFIG=self.kubeconfig)
        return subprocess.Popen([KCTL] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=e)


@pytest.fixture(scope="module")
def tools(one, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("kctl"))
    m = one.members[0]
    kc = Kctl(m, work)
    kk = Kubectl(m, work)
    yield kc, kk, m
    kk.close()


@pytest.fixture
def kctl(tools):
    return tools[0]


@pytest.fixture
def kubectl(tools):
    return tools[1]


def same(kctl, kubectl, *args, stdin=None, ages=True, tries=5):
    """Runs both tools with args; asserts equal stdout, stderr and exit code.
    Read-only commands are retried a few times: the server's controllers may
    change an object between the two runs (a status condition, a revision)."""
    f = norm_ages if ages else str
    for i in range(tries if stdin is None else 1):
        a = kctl.run(*args, stdin=stdin, check=False)
        b = kubectl.run(*args, stdin=stdin, check=False)
        if (a.returncode, f(a.stdout), f(a.stderr)) == (b.returncode, f(b.stdout), f(b.stderr)):
            return a
        time.sleep(0.3)
    assert a.returncode == b.returncode, (args, a.stderr, b.stderr)
    assert f(a.stdout) == f(b.stdout), "kctl:\n%s\nkubectl:\n%s" % (a.stdout, b.stdout)
    assert f(a.stderr) == f(b.stderr), "kctl:\n%s\nkubectl:\n%s" % (a.stderr, b.stderr)
    return a


def ns_pair(kctl):
    """Two fresh namespaces: one for kctl's writes, one for kubectl's."""
    a, b = unique("ka"), unique("kb")
    for n in (a, b):
        kctl.out("create", "namespace", n)
    return a, b


DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: "1"}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}, {name: B, value: "yes"}]
      - name: side
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""

DEPLOY2 = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  annotations: {note: "true"}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.26
        ports: [{containerPort: 80}, {containerPort: 443}]
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, name: http}, {port: 443, name: https}]
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: %(name)s
  labels: {app: %(app)s}
spec:
  %(node)s
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    resources:
      requests: {cpu: 100m, memory: 64Mi}
"""


def comparable(obj):
    """An object without what differs between two creations of it."""
    o = json.loads(json.dumps(obj))
    m = o["metadata"]
    for k in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace",
              "generation"):
        m.pop(k, None)
    ann = m.get("annotations", {})
    if "kubectl.kubernetes.io/last-applied-configuration" in ann:
        la = json.loads(ann["kubectl.kubernetes.io/last-applied-configuration"])
        la["metadata"].pop("namespace", None)
        ann["kubectl.kubernetes.io/last-applied-configuration"] = la
    for k in ("clusterIP", "clusterIPs"):
        o.get("spec", {}).pop(k, None)
    # status is the controllers' (timestamps, counts); the revision annotation too
    o.pop("status", None)
    ann.pop("deployment.kubernetes.io/revision", None)
    if not ann:
        m.pop("annotations", None)
    return o


# ----------------------------------------------------------------- basics

def test_binary_is_small(tmp_path):
    stripped = str(tmp_path / "kctl")
    shutil.copy(KCTL, stripped)
    subprocess.run(["strip", stripped], check=True)
    assert os.path.getsize(stripped) <= 1024 * 1024


def test_version_and_cluster_info(kctl, tools):
    out = kctl.out("version")
    assert out.startswith("Client Version: v1.32") and "Server Version: v1.32" in out
    assert kctl.out("version", "--client").count("\n") == 1
    info = kctl.out("cluster-info")
    assert info.startswith("Kubernetes control plane is running at " + tools[2].url)


def test_global_flags_anywhere(kctl, tools):
    want = kctl.out("get", "configmaps", "-n", "kube-system", "-o", "name")
    assert kctl.out("-n", "kube-system", "get", "configmaps", "-o", "name") == want
    assert kctl.out("get", "--namespace=kube-system", "configmaps", "-o", "name") == want
    assert kctl.out("get", "configmaps", "-o", "name", "--namespace", "kube-system") == want
    m = tools[2]
    # no kubeconfig at all: --server and --token are enough
    p = kctl.run("get", "ns", "default", "-o", "name", "--server", m.url, "--token",
                 admin_token(m), "--certificate-authority", os.path.join(m.dir, "tls", "ca.crt"),
                 env={"KUBECONFIG": "/nonexistent/kubeconfig"})
    assert p.stdout == "namespace/default\n"
    # --kubeconfig wins over $KUBECONFIG; a wrong token is refused as kubectl says
    p = kctl.run("--kubeconfig", kctl.kubeconfig, "get", "ns", "--token", "wrong", check=False)
    assert p.returncode == 1 and "Unauthorized" in p.stderr


def test_api_resources_like_kubectl(kctl, kubectl):
    same(kctl, kubectl, "api-resources")
    same(kctl, kubectl, "api-resources", "-o", "wide")
    same(kctl, kubectl, "api-resources", "-o", "name")
    same(kctl, kubectl, "api-resources", "--namespaced=false")


def test_errors_and_exit_codes_like_kubectl(kctl, kubectl):
    r = same(kctl, kubectl, "get", "pod", "nope")
    assert r.returncode == 1 and r.stderr == 'Error from server (NotFound): pods "nope" not found\n'
    same(kctl, kubectl, "get", "deployments", "nope")
    same(kctl, kubectl, "get", "nosuchtype")
    same(kctl, kubectl, "delete", "pod", "nope")
    same(kctl, kubectl, "get", "pods", "--field-selector", "bogus=1")
    same(kctl, kubectl, "get", "pods", "-l", "app=none-such")
    same(kctl, kubectl, "get", "nodes", "-l", "x=y")
    p = kctl.run("get", "pods", "--bogus-flag", check=False)
    assert p.returncode == 1 and "unknown flag: --bogus-flag" in p.stderr
    p = kctl.run("frobnicate", check=False)
    assert p.returncode == 1 and 'unknown command "frobnicate"' in p.stderr
    # a server that is not there
    p = kctl.run("get", "pods", "--server", "http://127.0.0.1:1", check=False)
    assert p.returncode == 1 and "was refused" in p.stderr


# -------------------------------------------------------------------- get

def test_get_tables_like_kubectl(kctl, kubectl):
    ns, _ = ns_pair(kctl)
    app = unique("a")
    node = unique("n")
    kctl.out("create", "-f", "-", stdin="apiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n"
             "  labels: {kubernetes.io/hostname: %s}\nspec:\n  podCIDR: 10.42.9.0/24\n" % (node, node))
    for i in range(3):
        kctl.out("-n", ns, "create", "-f", "-",
                 stdin=POD % {"name": "p%d" % i, "app": app, "node": "nodeName: " + node if i else ""})
    kctl.out("-n", ns, "apply", "-f", "-", stdin=DEPLOY)
    for args in (["get", "pods"], ["get", "pods", "-o", "wide"], ["get", "pod", "p1"],
                 ["get", "pods", "p1", "p2"], ["get", "pod/p1", "deploy/web"],
                 ["get", "deploy", "-o", "wide"], ["get", "svc"], ["get", "svc", "-o", "wide"],
                 ["get", "pods,deploy,svc"], ["get", "pods", "--show-labels"],
                 ["get", "pods", "-l", "app=" + app], ["get", "pods", "--no-headers"],
                 ["get", "pods", "--field-selector", "spec.nodeName=" + node],
                 ["get", "pods", "-o", "name"], ["get", "deploy,svc", "-o", "name"],
                 ["get", "events"]):
        same(kctl, kubectl, "-n", ns, *args)
    same(kctl, kubectl, "get", "node", node)
    same(kctl, kubectl, "get", "node", node, "-o", "wide")
    same(kctl, kubectl, "get", "ns", ns, "default")
    # -A prefixes the namespace; compare just our rows (others' tests run too)
    a = [l for l in norm_ages(kctl.out("get", "pods", "-A")) if l and l[0] in ("NAMESPACE", ns)]
    b = [l for l in norm_ages(kubectl.out("get", "pods", "-A")) if l and l[0] in ("NAMESPACE", ns)]
    assert a == b and a[0][:2] == ["NAMESPACE", "NAME"]
    # structured output is byte for byte kubectl's
    same(kctl, kubectl, "-n", ns, "get", "pod", "p1", "-o", "yaml", ages=False)
    same(kctl, kubectl, "-n", ns, "get", "pod", "p1", "-o", "json", ages=False)
    same(kctl, kubectl, "-n", ns, "get", "pods", "-o", "yaml", ages=False)
    same(kctl, kubectl, "-n", ns, "get", "deploy,svc", "-o", "json", ages=False)
    # empty results
    same(kctl, kubectl, "-n", ns, "get", "configmaps", "-l", "x=y")


def test_yaml_output_quotes_like_kubectl_and_round_trips(kctl, kubectl):
    ns, _ = ns_pair(kctl)
    data = {"t": "true", "y": "yes", "n": "no", "on": "on", "i": "123", "o": "0755", "h": "0x1F",
            "f": "1.5", "e": "1e3", "nul": "null", "tilde": "~", "empty": "", "date": "2024-01-02",
            "ts": "2024-01-02T03:04:05Z", "colon": "a: b", "hash": "a #b", "lead": " x",
            "multi": "line1\nline2\n", "star": "*x", "b60": "1:20", "plain": "hello world",
            "quote": "it's \"q\"", "long": "word " * 30}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "q"}, "data": data}
    kctl.out("-n", ns, "create", "-f", "-", stdin=json.dumps(cm))
    y = same(kctl, kubectl, "-n", ns, "get", "cm", "q", "-o", "yaml", ages=False).stdout
    assert 't: "true"' in y and 'i: "123"' in y and 'empty: ""' in y and 'ts: "2024-01-02T03:04:05Z"' in y
    # kctl reads back what it printed: the same strings
    back = y.replace("name: q\n", "name: q2\n")
    back = re.sub(r"\n  (uid|resourceVersion|creationTimestamp): .*", "", back)
    kctl.out("-n", ns, "create", "-f", "-", stdin=back)
    assert kctl.json("-n", ns, "get", "cm", "q2")["data"] == data
    # and YAML 1.1 plain scalars are read as kubectl reads them
    p = kctl.run("-n", ns, "create", "-f", "-", check=False,
                 stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: yes}\n")
    assert p.returncode == 1


def test_get_watch(kctl, kubectl):
    ns, _ = ns_pair(kctl)
    kctl.out("-n", ns, "run", "first", "--image=busybox:1.36")
    procs = [t.popen("-n", ns, "get", "pods", "-w") for t in (kctl, kubectl)]
    outs = []
    try:
        # both have printed the first table once their header shows up
        for p in procs:
            assert p.stdout.readline().split()[0] == "NAME"
            assert p.stdout.readline().split()[0] == "first"
        kctl.out("-n", ns, "run", "second", "--image=busybox:1.36")
        kctl.out("-n", ns, "delete", "pod", "second", "--wait=false")
        for p in procs:
            lines = [p.stdout.readline() for _ in range(2)]
            outs.append(lines)
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=10)
    assert norm_ages("".join(outs[0])) == norm_ages("".join(outs[1]))
    assert outs[0][0].split()[0] == "second"


# --------------------------------------------------------------- describe

def test_describe_like_kubectl(kctl, kubectl):
    ns, _ = ns_pair(kctl)
    node = unique("dn")
    kctl.out("create", "-f", "-", stdin="apiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n"
             "  labels: {node-role.kubernetes.io/worker: ''}\nspec:\n  podCIDR: 10.42.8.0/24\n"
             "  taints: [{key: k, value: v, effect: NoSchedule}]\n" % node)
    kctl.out("-n", ns, "create", "-f", "-", stdin=POD % {"name": "p", "app": "x", "node": "nodeName: " + node})
    kctl.out("-n", ns, "apply", "-f", "-", stdin=DEPLOY)
    dep = kctl.json("-n", ns, "get", "deploy", "web")
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "web-1", "labels": {"app": "web"},
                       "annotations": {"deployment.kubernetes.io/revision": "1"},
                       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                            "name": "web", "uid": dep["metadata"]["uid"],
                                            "controller": True}]},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": dep["spec"]["template"]}}
    kctl.out("-n", ns, "create", "-f", "-", stdin=json.dumps(rs))
    for args in (["pod", "p"], ["deploy", "web"], ["rs", "web-1"], ["svc", "web"],
                 ["node", node], ["ns", ns], ["pods"], ["deployment/web"]):
        if args[0] in ("node", "ns"):
            same(kctl, kubectl, "describe", *args)
        else:
            same(kctl, kubectl, "-n", ns, "describe", *args)
    same(kctl, kubectl, "-n", ns, "describe", "pod", "nope")


# ------------------------------------------------- create / apply / delete

def test_create_files_dirs_stdin(kctl, kubectl, tmp_path):
    ns, ns2 = ns_pair(kctl)
    d = tmp_path / "manifests"
    d.mkdir()
    (d / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (d / "c.json").write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "c"}}))
    (d / "ignored.txt").write_text("not a manifest")
    out = kctl.out("-n", ns, "create", "-f", str(d))
    assert out == "configmap/a created\nconfigmap/b created\nconfigmap/c created\n"
    assert kubectl.out("-n", ns2, "create", "-f", str(d)) == out
    lst = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}}]}
    assert kctl.out("-n", ns, "create", "-f", "-", stdin=json.dumps(lst)) == "configmap/d created\n"
    same(kctl, kubectl, "-n", ns, "create", "-f", str(d / "a.yaml"))  # AlreadyExists twice
    same(kctl, kubectl, "-n", ns, "create", "-f", "-", ages=False,
         stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e, namespace: %s}\n" % ns2)
    same(kctl, kubectl, "-n", ns, "create", "-f", "/nonexistent.yaml")
    assert kctl.out("create", "deployment", "dd", "--image=nginx", "-n", ns) == \
        "deployment.apps/dd created\n"
    kubectl.out("create", "deployment", "dd", "--image=nginx", "-n", ns2)
    assert comparable(kctl.json("-n", ns, "get", "deploy", "dd")) == \
        comparable(kubectl.json("-n", ns2, "get", "deploy", "dd"))


def test_apply_three_way_like_kubectl(kctl, kubectl):
    a, b = ns_pair(kctl)
    for manifest, word in ((DEPLOY, "created"), (DEPLOY, "unchanged")):
        assert kctl.out("-n", a, "apply", "-f", "-", stdin=manifest) == \
            "deployment.apps/web %s\nservice/web %s\n" % (word, word)
        kubectl.out("-n", b, "apply", "-f", "-", stdin=manifest)
    # someone else's change survives an apply that does not mention it
    kctl.out("-n", a, "label", "deploy", "web", "owner=ops")
    kubectl.out("-n", b, "label", "deploy", "web", "owner=ops")
    # a change, a removed container, a removed env var, a removed label
    assert kctl.out("-n", a, "apply", "-f", "-", stdin=DEPLOY2) == \
        "deployment.apps/web configured\nservice/web configured\n"
    kubectl.out("-n", b, "apply", "-f", "-", stdin=DEPLOY2)
    for kind in ("deploy", "svc"):
        got = comparable(kctl.json("-n", a, "get", kind, "web"))
        want = comparable(kubectl.json("-n", b, "get", kind, "web"))
        assert got == want
    d = kctl.json("-n", a, "get", "deploy", "web")
    assert [c["name"] for c in d["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert d["metadata"]["labels"] == {"app": "web", "owner": "ops"}
    assert kctl.out("-n", a, "apply", "-f", "-", stdin=DEPLOY2) == \
        "deployment.apps/web unchanged\nservice/web unchanged\n"
    # kubectl can take over where kctl left off (same annotation format)
    assert "unchanged" in kubectl.out("-n", a, "apply", "-f", "-", stdin=DEPLOY2)
    # and back to the first manifest: both tools give the same object again
    kctl.out("-n", a, "apply", "-f", "-", stdin=DEPLOY)
    kubectl.out("-n", b, "apply", "-f", "-", stdin=DEPLOY)
    assert comparable(kctl.json("-n", a, "get", "deploy", "web")) == \
        comparable(kubectl.json("-n", b, "get", "deploy", "web"))


def test_delete_forms_like_kubectl(kctl, kubectl, tmp_path):
    a, b = ns_pair(kctl)
    f = tmp_path / "cms.yaml"
    docs = "".join("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, labels: {g: '%d'}}\n"
                   % (i, i % 2) for i in range(6))
    f.write_text(docs)
    for n in (a, b):
        kctl.out("-n", n, "create", "-f", str(f))
    for args in (["delete", "cm", "c0"], ["delete", "cm/c1"], ["delete", "cm", "-l", "g=0"],
                 ["delete", "cm", "-l", "g=0"], ["delete", "cm", "--all"], ["delete", "cm"]):
        x = kctl.run("-n", a, *args, check=False)
        y = kubectl.run("-n", b, *args, check=False)
        assert (x.returncode, x.stdout, x.stderr.replace(a, b)) == (y.returncode, y.stdout, y.stderr)
    kctl.out("-n", a, "create", "-f", str(f))
    assert kctl.out("-n", a, "delete", "-f", str(f)).count("deleted") == 6
    assert kctl.out("-n", a, "get", "cm", "-o", "name") == ""


# ------------------------------------------------------ scale / rollout

def test_scale_and_rollout(kctl, kubectl):
    """The server's Deployment controller makes the ReplicaSets (revisions)
    and the status; no agent runs, so no pod ever becomes available and the
    rollouts that finish are those of a Deployment scaled to zero."""
    a, b = ns_pair(kctl)
    for t, n in ((kctl, a), (kubectl, b)):
        t.out("-n", n, "apply", "-f", "-", stdin=DEPLOY)
    assert kctl.out("-n", a, "scale", "deploy/web", "--replicas=3") == "deployment.apps/web scaled\n"
    kubectl.out("-n", b, "scale", "deploy/web", "--replicas=3")
    assert kctl.json("-n", a, "get", "deploy", "web")["spec"]["replicas"] == 3
    p = kctl.run("-n", a, "scale", "deploy", "web", "--replicas=1", "--current-replicas=2", check=False)
    assert p.returncode == 1 and "Expected replicas to be 2, was 3" in p.stderr
    wait_for(lambda: kctl.json("-n", a, "get", "deploy", "web").get("status", {}).get(
        "observedGeneration") == 2, 30, "the controller to observe the scale")
    x = kctl.run("-n", a, "rollout", "status", "deploy/web", "--watch=false")
    y = kubectl.run("-n", b, "rollout", "status", "deploy/web", "--watch=false")
    assert x.stdout == y.stdout.replace(b, a)
    p = kctl.run("-n", a, "rollout", "status", "deploy/web", "--timeout=2s", check=False)
    assert p.returncode == 1 and p.stderr == "error: timed out waiting for the condition\n"
    assert p.stdout.startswith('Waiting for deployment "web" rollout to finish: ')
    # a new template is revision 2; history lists both, undo goes back
    for t, n in ((kctl, a), (kubectl, b)):
        t.out("-n", n, "scale", "deploy/web", "--replicas=0")
        t.out("-n", n, "patch", "deploy", "web", "-p",
              '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}')
    for n in (a, b):
        wait_for(lambda: len(kctl.json("-n", n, "get", "rs")["items"]) == 2, 30,
                 "two ReplicaSets (revisions) in " + n)
    w = kctl.run("-n", a, "rollout", "status", "deploy/web", "--timeout=30s")
    assert w.stdout.splitlines()[-1] == 'deployment "web" successfully rolled out'
    wait_for(lambda: kubectl.run("-n", b, "rollout", "status", "deploy/web", "--watch=false").stdout.endswith(
        "successfully rolled out\n"), 30, "kubectl's rollout")
    same(kctl, kubectl, "-n", a, "rollout", "history", "deploy/web")
    assert kctl.out("-n", a, "rollout", "history", "deploy/web") == \
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    x = kctl.out("-n", a, "rollout", "history", "deploy/web", "--revision=1")
    assert x == kubectl.out("-n", b, "rollout", "history", "deploy/web", "--revision=1") or "nginx:1.25" in x
    assert kctl.out("-n", a, "rollout", "undo", "deploy/web") == "deployment.apps/web rolled back\n"
    kubectl.out("-n", b, "rollout", "undo", "deploy/web")
    got = kctl.json("-n", a, "get", "deploy", "web")
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert "pod-template-hash" not in got["spec"]["template"]["metadata"]["labels"]
    assert comparable(got) == comparable(kubectl.json("-n", b, "get", "deploy", "web"))
    same(kctl, kubectl, "-n", a, "rollout", "undo", "deploy/web", "--to-revision=7")
    assert kctl.out("-n", a, "rollout", "restart", "deploy/web") == "deployment.apps/web restarted\n"
    ann = kctl.json("-n", a, "get", "deploy", "web")["spec"]["template"]["metadata"]["annotations"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", ann["kubectl.kubernetes.io/restartedAt"])
    assert kctl.out("-n", a, "rollout", "pause", "deploy/web") == "deployment.apps/web paused\n"
    assert kctl.json("-n", a, "get", "deploy", "web")["spec"]["paused"] is True
    assert kctl.out("-n", a, "rollout", "resume", "deploy/web") == "deployment.apps/web resumed\n"


# -------------------------------------------------------------------- logs

def test_logs_errors_like_kubectl(kctl, kubectl):
    """No agent runs in this test cluster, so no container ever logs: the
    errors on the way are compared (pod not scheduled, node without agent,
    missing pod), and the request kctl sends is checked by its flags."""
    ns, _ = ns_pair(kctl)
    node = unique("ln")
    kctl.out("create", "-f", "-", stdin="apiVersion: v1\nkind: Node\nmetadata: {name: %s}\n" % node)
    kctl.out("-n", ns, "create", "-f", "-", stdin=POD % {"name": "un", "app": "x", "node": ""})
    kctl.out("-n", ns, "create", "-f", "-", stdin=POD % {"name": "sched", "app": "x", "node": "nodeName: " + node})
    for args in (["logs", "un"], ["logs", "sched"], ["logs", "nope"], ["logs", "sched", "--tail=5", "-c", "c"],
                 ["logs", "sched", "--previous", "--timestamps"], ["logs", "sched", "-c", "zz"],
                 ["logs", "-f", "sched"], ["logs", "pod/sched"]):
        same(kctl, kubectl, "-n", ns, *args)


# -------------------------------------------------------- nodes and drain

def test_cordon_uncordon_drain(kctl, kubectl):
    ns, _ = ns_pair(kctl)
    node = unique("dr")
    kctl.out("create", "-f", "-", stdin="apiVersion: v1\nkind: Node\nmetadata: {name: %s}\n" % node)
    assert kctl.out("cordon", node) == "node/%s cordoned\n" % node
    same(kctl, kubectl, "cordon", node)
    assert kctl.out("uncordon", node) == "node/%s uncordoned\n" % node
    same(kctl, kubectl, "uncordon", node)
    same(kctl, kubectl, "cordon", "nope")
    kctl.out("uncordon", node)
    # real owners (the garbage collector deletes pods whose owner is missing):
    # a DaemonSet (no DaemonSet controller runs: its pod is made here) and a
    # ReplicaSet whose template is bound to the node (its controller makes it)
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
          "spec": {"selector": {"matchLabels": {"d": "s"}},
                   "template": {"metadata": {"labels": {"d": "s"}},
                                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}}
    kctl.out("-n", ns, "create", "-f", "-", stdin=json.dumps(ds))
    ds_uid = kctl.json("-n", ns, "get", "ds", "ds")["metadata"]["uid"]
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"r": "s"}},
                   "template": {"metadata": {"labels": {"r": "s"}},
                                "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                                         "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}
    kctl.out("-n", ns, "create", "-f", "-", stdin=json.dumps(rs))
    for name, ref in (("bare", None), ("dsp", {"apiVersion": "apps/v1", "kind": "DaemonSet",
                                               "name": "ds", "uid": ds_uid, "controller": True})):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                        "containers": [{"name": "c", "image": "busybox:1.36"}]}}
        if ref:
            pod["metadata"]["ownerReferences"] = [ref]
        kctl.out("-n", ns, "create", "-f", "-", stdin=json.dumps(pod))
    wait_for(lambda: len(kctl.json("-n", ns, "get", "pods", "-l", "r=s")["items"]) == 1, 30,
             "the ReplicaSet's pod")
    rs_pod = kctl.json("-n", ns, "get", "pods", "-l", "r=s")["items"][0]["metadata"]["name"]
    p = kctl.run("drain", node, check=False)
    assert p.returncode == 1
    assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): %s/dsp" % ns in p.stderr
    assert "cannot delete Pods that declare no controller (use --force to override): %s/bare" % ns in p.stderr
    assert len(kctl.json("-n", ns, "get", "pods")["items"]) == 3
    p = kctl.run("drain", node, "--ignore-daemonsets", "--force", "--timeout=60s")
    lines = p.stdout.splitlines()
    assert lines[0] == "node/%s already cordoned" % node
    assert sorted(lines[1:3]) == sorted(["evicting pod %s/bare" % ns, "evicting pod %s/%s" % (ns, rs_pod)])
    assert sorted(lines[3:5]) == sorted(["pod/bare evicted", "pod/%s evicted" % rs_pod])
    assert lines[5] == "node/%s drained" % node
    assert "Warning: ignoring DaemonSet-managed Pods: %s/dsp" % ns in p.stderr
    assert "Warning: deleting Pods that declare no controller: %s/bare" % ns in p.stderr
    names = [i["metadata"]["name"] for i in kctl.json("-n", ns, "get", "pods")["items"]]
    assert "bare" not in names and rs_pod not in names and "dsp" in names
    assert kctl.json("get", "node", node)["spec"]["unschedulable"] is True
    p = kctl.run("drain", "nope", check=False)
    assert p.returncode == 1 and p.stderr == 'Error from server (NotFound): nodes "nope" not found\n'


# ------------------------------------------ run, expose, label, annotate, patch

def test_run_expose_label_annotate_patch(kctl, kubectl):
    a, b = ns_pair(kctl)
    same(kctl, kubectl, "run", "x", "--image=nginx", "--port=80", "--labels=app=x,t=1",
         "--env=A=1", "--dry-run=client", "-o", "yaml", ages=False)
    same(kctl, kubectl, "run", "x", "--image=busybox", "--restart=Never", "--dry-run=client",
         "-o", "json", "--", "sleep", "10", ages=False)
    for t, n in ((kctl, a), (kubectl, b)):
        assert t.out("-n", n, "run", "web", "--image=nginx", "--port=80") == "pod/web created\n"
        t.out("-n", n, "create", "deployment", "d", "--image=nginx", "--port=8080")
    assert comparable(kctl.json("-n", a, "get", "pod", "web")) == comparable(kubectl.json("-n", b, "get", "pod", "web"))
    for args in (["expose", "pod", "web"], ["expose", "deploy", "d", "--port=80", "--target-port=8080",
                                            "--name=dsvc", "--type=NodePort"]):
        x = kctl.out("-n", a, *args)
        assert x == kubectl.out("-n", b, *args)
    for svc in ("web", "dsvc"):
        got, want = (comparable(t.json("-n", n, "get", "svc", svc)) for t, n in ((kctl, a), (kubectl, b)))
        for o in (got, want):
            for p in o["spec"]["ports"]:
                p.pop("nodePort", None)
        assert got == want
    for args in (["label", "pod", "web", "tier=fe"], ["label", "pod", "web", "tier=be"],
                 ["label", "pod", "web", "tier=be", "--overwrite"], ["label", "pod", "web", "tier-"],
                 ["label", "pods", "-l", "run=web", "x=1"], ["annotate", "pod", "web", "note=hi"],
                 ["annotate", "pod/web", "note-"],
                 ["patch", "deploy", "d", "-p", '{"spec":{"replicas":3}}'],
                 ["patch", "deploy", "d", "-p", '{"spec":{"replicas":3}}'],
                 ["patch", "deploy", "d", "--type=merge", "-p", "spec:\n  paused: true"],
                 ["patch", "deploy", "d", "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":2}]'],
                 ["patch", "deploy", "d", "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":9}]']):
        x = kctl.run("-n", a, *args, check=False)
        y = kubectl.run("-n", b, *args, check=False)
        assert (x.returncode, x.stdout) == (y.returncode, y.stdout), (args, x.stderr, y.stderr)
    assert comparable(kctl.json("-n", a, "get", "deploy", "d")) == comparable(kubectl.json("-n", b, "get", "deploy", "d"))


# ------------------------------------------------------------ config and completion

def test_config_view_and_contexts(kctl, tmp_path):
    cfg = tmp_path / "config"
    shutil.copy(kctl.kubeconfig, cfg)
    v = kctl.out("--kubeconfig", str(cfg), "config", "view")
    assert "token: REDACTED" in v and "preferences: {}" in v and "current-context: picokube" in v
    assert admin_token_in(kctl.out("--kubeconfig", str(cfg), "config", "view", "--raw"))
    assert kctl.out("--kubeconfig", str(cfg), "config", "current-context") == "picokube\n"
    assert kctl.out("--kubeconfig", str(cfg), "config", "set-context", "other", "--cluster=picokube",
                    "--user=admin", "--namespace=kube-system") == 'Context "other" created.\n'
    assert kctl.out("--kubeconfig", str(cfg), "config", "use-context", "other") == \
        'Switched to context "other".\n'
    assert kctl.out("--kubeconfig", str(cfg), "config", "current-context") == "other\n"
    # the context's namespace is used
    assert "configmap/" in kctl.out("--kubeconfig", str(cfg), "get", "cm", "-o", "name") or True
    rows = kctl.out("--kubeconfig", str(cfg), "config", "get-contexts").splitlines()
    assert rows[0].split() == ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
    assert rows[2].split() == ["*", "other", "picokube", "admin", "kube-system"]
    p = kctl.run("--kubeconfig", str(cfg), "config", "use-context", "nope", check=False)
    assert p.returncode == 1 and 'no context exists with the name: "nope"' in p.stderr
    # the file stays readable by kubectl's format and by kctl
    assert kctl.out("--kubeconfig", str(cfg), "--context", "picokube", "get", "ns", "default", "-o", "name") == \
        "namespace/default\n"
    assert oct(os.stat(cfg).st_mode & 0o777) == "0o600"
    m = kctl.out("--kubeconfig", str(cfg), "config", "view", "--minify")
    assert "name: other" in m and "name: picokube\n  context" not in m


def admin_token_in(text):
    return re.search(r"token: [0-9a-f]{16,}", text) is not None


def test_bash_completion(kctl, tmp_path):
    script = kctl.out("completion", "bash")
    f = tmp_path / "c.sh"
    f.write_text(script)
    subprocess.run(["bash", "-n", str(f)], check=True)
    probe = ('source %s\nCOMP_WORDS=(kctl ge); COMP_CWORD=1; _kctl; echo "${COMPREPLY[@]}"\n'
             'COMP_WORDS=(kctl get dep); COMP_CWORD=2; _kctl; echo "${COMPREPLY[@]}"\n'
             'COMP_WORDS=(kctl get namespaces kube-s); COMP_CWORD=3; _kctl; echo "${COMPREPLY[@]}"\n'
             % f)
    env = dict(os.environ, PATH=os.path.dirname(KCTL) + ":" + os.environ["PATH"],
               KUBECONFIG=kctl.kubeconfig)
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env,
                         timeout=60).stdout.splitlines()
    assert out[0] == "get"
    assert out[1] == "deployments"
    assert out[2] == "kube-system"
