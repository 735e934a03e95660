"""
test_controller.py - the controller manager end to end: a real `picokube
server` (no agent), fake Node and Lease objects written by the test, and the
test itself playing the kubelet (binding pods to a live fake node, marking
them Running and Ready with an IP, confirming graceful deletions, renewing
the nodes' Leases). Driven with the real kubectl and plain HTTP.

What it shows (issue 6): ReplicaSets create, replace, scale and adopt pods;
a Deployment rolls out with maxUnavailable 0 step by step, `rollout status`
returns, `rollout undo` brings the old template back, `scale` works; a node
whose Lease stops being renewed goes Ready=Unknown with the unreachable
taints, its pods are marked not ready and evicted and replaced on the other
node, and the taints go when it renews again; Endpoints and EndpointSlices
follow readiness with named target ports; cascading deletion in background,
foreground and orphan modes; pod CIDRs do not overlap.

If `picokube server` already runs a controller (it holds the Lease
kube-system/picokube-controller-manager), that one is used; otherwise the
test starts `picokube controller --kubeconfig` itself ($PICOKUBE_CONTROLLER
may name another binary taking the same arguments). Every wait is bounded.
"""
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import Api, Kubectl, admin_token, unique  # noqa: F401
from cluster import PICOKUBE, wait_for

NS = "default"
LEASE_NS = "kube-node-lease"
# Generous bounds (about 3x the goals: grace 4 s, eviction 3 s).
NODE_BOUND = 20
TOL = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
        "tolerationSeconds": 2},
       {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
        "tolerationSeconds": 2}]


def now_micro():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def now_rfc():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FakeKubelet:
    """Plays the kubelet of a few fake nodes from a thread: binds pending pods
    to a live node, reports them Running and Ready, confirms deletions, and
    renews the nodes' Leases. Bounded: it stops with the fixture."""

    def __init__(self, api):
        self.api = api
        self.alive = {}        # node name -> renewing its Lease
        self.not_ready = set()  # pod names to report not ready
        self.ips = {}
        self.next_ip = 10
        self.rr = 0
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.errors = []

    def add_node(self, name):
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name,
                "labels": {"kubernetes.io/hostname": name}}}
        code, body, _ = self.api.post("/api/v1/nodes", node)
        assert code in (201, 409), body
        self.report_node(name, "True")
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": name, "namespace": LEASE_NS},
                 "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                          "renewTime": now_micro()}}
        code, body, _ = self.api.post("/apis/coordination.k8s.io/v1/namespaces/%s/leases" % LEASE_NS,
                                      lease)
        assert code in (201, 409), body
        with self.lock:
            self.alive[name] = True

    def report_node(self, name, status):
        t = now_rfc()
        patch = {"status": {"conditions": [{"type": "Ready", "status": status,
                                            "reason": "KubeletReady", "message": "fake kubelet",
                                            "lastHeartbeatTime": t, "lastTransitionTime": t}],
                            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}}
        code, body, _ = self.api.patch("/api/v1/nodes/%s/status" % name, patch,
                                       ctype="application/strategic-merge-patch+json")
        assert code == 200, body

    def set_alive(self, name, alive):
        with self.lock:
            self.alive[name] = alive

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_ev.set()
        self.thread.join(timeout=10)

    def run(self):
        deadline = time.monotonic() + 1800  # never outlive a test run
        last_renew = 0
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            try:
                if time.monotonic() - last_renew > 1:
                    self.renew()
                    last_renew = time.monotonic()
                self.pods()
            except Exception as e:  # noqa: BLE001 - keep playing, report at the end
                self.errors.append(repr(e))
            self.stop_ev.wait(0.2)

    def renew(self):
        with self.lock:
            live = [n for n, a in self.alive.items() if a]
        for n in live:
            self.api.patch("/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s" % (LEASE_NS, n),
                           {"spec": {"renewTime": now_micro()}})

    def pods(self):
        code, body, _ = self.api.get("/api/v1/pods")
        if code != 200:
            return
        with self.lock:
            live = sorted(n for n, a in self.alive.items() if a)
            not_ready = set(self.not_ready)
        for p in body.get("items", []):
            md, spec, st = p["metadata"], p.get("spec", {}), p.get("status", {})
            ns, name = md["namespace"], md["name"]
            node = spec.get("nodeName")
            if md.get("deletionTimestamp"):
                if node in live:  # confirm the graceful deletion, as a kubelet does
                    self.api.delete("/api/v1/namespaces/%s/pods/%s" % (ns, name),
                                    {"gracePeriodSeconds": 0})
                continue
            if not node:
                if not live:
                    continue
                node = live[self.rr % len(live)]
                self.rr += 1
                code, _, _ = self.api.post("/api/v1/namespaces/%s/pods/%s/binding" % (ns, name),
                                           {"apiVersion": "v1", "kind": "Binding",
                                            "metadata": {"name": name},
                                            "target": {"kind": "Node", "name": node}})
                continue  # reported on the next round, once bound
            if node not in live:
                continue
            ready = "False" if name in not_ready else "True"
            ip = self.ips.get(md["uid"])
            if ip is None:
                ip = "10.42.%d.%d" % (self.next_ip // 250, self.next_ip % 250 + 2)
                self.next_ip += 1
                self.ips[md["uid"]] = ip
            cur = {c["type"]: c.get("status") for c in st.get("conditions", [])}
            if st.get("phase") == "Running" and cur.get("Ready") == ready and st.get("podIP") == ip:
                continue
            t = now_rfc()
            patch = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                "hostIP": "127.0.0.1",
                                "conditions": [{"type": "Ready", "status": ready,
                                                "lastTransitionTime": t},
                                               {"type": "ContainersReady", "status": ready,
                                                "lastTransitionTime": t}]}}
            self.api.patch("/api/v1/namespaces/%s/pods/%s/status" % (ns, name), patch,
                           ctype="application/strategic-merge-patch+json")


@pytest.fixture(scope="module")
def env(one, tmp_path_factory):
    member = one.members[0]
    token = admin_token(member)
    api = Api(member, token)
    kubeconfig = os.path.join(member.dir, "admin.kubeconfig")
    lease = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/picokube-controller-manager"

    def held():
        code, body, _ = api.get(lease)
        return code == 200 and body["spec"].get("holderIdentity")

    procs = []

    def start_controller(identity):
        binary = os.environ.get("PICOKUBE_CONTROLLER", PICOKUBE)
        log = open(os.path.join(one.root, identity + ".log"), "ab")
        p = subprocess.Popen([binary, "controller", "--kubeconfig", kubeconfig,
                              "--identity", identity],
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        procs.append(p)
        return p

    try:
        wait_for(held, 5, "a controller manager in the server")
        ENV["own"] = False
    except AssertionError:
        start_controller("ctrl-a")
        wait_for(held, 15, "the controller manager to take its Lease")
        ENV["own"] = True
    ENV["start_controller"] = start_controller
    ENV["procs"] = procs
    ENV["lease"] = lease
    kubelet = FakeKubelet(api)
    kubelet.add_node("fake-1")
    kubelet.add_node("fake-2")
    kubelet.start()
    kubectl = Kubectl(member, str(tmp_path_factory.mktemp("kubectl")))
    yield api, kubectl, kubelet
    kubelet.stop()
    kubectl.close()
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


ENV = {}


# ---------------------------------------------------------------- helpers

def pods(api, selector):
    code, body, _ = api.get("/api/v1/namespaces/%s/pods?labelSelector=%s" % (NS, selector))
    assert code == 200, body
    return body["items"]


def live_pods(api, selector):
    return [p for p in pods(api, selector) if not p["metadata"].get("deletionTimestamp")]


def ready_count(items):
    return sum(1 for p in items
               if any(c["type"] == "Ready" and c["status"] == "True"
                      for c in p.get("status", {}).get("conditions", [])))


def rs_body(name, app, replicas, tolerations=None, ports=None):
    c = {"name": "c", "image": "busybox:1"}
    if ports:
        c["ports"] = ports
    spec = {"containers": [c]}
    if tolerations:
        spec["tolerations"] = tolerations
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}}, "spec": spec}}}


def create(api, path, body):
    code, out, _ = api.post(path, body)
    assert code == 201, out
    return out


RS_PATH = "/apis/apps/v1/namespaces/%s/replicasets" % NS


def owned_by(p, uid):
    return any(r.get("uid") == uid and r.get("controller")
               for r in p["metadata"].get("ownerReferences", []))


# ------------------------------------------------------------------ tests

def test_replicaset_creates_replaces_scales_adopts(env):
    api, kubectl, _ = env
    app = unique("rs")
    # An orphan with the labels exists first: it is adopted, not duplicated.
    orphan = {"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": app + "-orphan", "namespace": NS, "labels": {"app": app}},
              "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
    create(api, "/api/v1/namespaces/%s/pods" % NS, orphan)
    rs = create(api, RS_PATH, rs_body(app, app, 3))
    uid = rs["metadata"]["uid"]
    sel = "app%3D" + app
    wait_for(lambda: len(live_pods(api, sel)) == 3 and
             all(owned_by(p, uid) for p in live_pods(api, sel)), 20, "3 pods owned by the RS")
    names = {p["metadata"]["name"] for p in live_pods(api, sel)}
    assert app + "-orphan" in names, "the orphan was adopted"
    for n in names - {app + "-orphan"}:
        assert n.startswith(app + "-") and len(n) == len(app) + 6, n
        ref = next(p for p in live_pods(api, sel) if p["metadata"]["name"] == n)
        r = ref["metadata"]["ownerReferences"][0]
        assert r["kind"] == "ReplicaSet" and r["blockOwnerDeletion"] is True

    # status follows the pods the fake kubelet reports ready
    def status_ok():
        code, body, _ = api.get(RS_PATH + "/" + app)
        st = body.get("status", {})
        return (st.get("replicas") == 3 and st.get("readyReplicas") == 3 and
                st.get("availableReplicas") == 3 and st.get("fullyLabeledReplicas") == 3 and
                st.get("observedGeneration") == body["metadata"]["generation"])
    wait_for(status_ok, 20, "RS status 3/3 ready")

    # a deleted pod is replaced
    victim = sorted(names)[0]
    code, _, _ = api.delete("/api/v1/namespaces/%s/pods/%s" % (NS, victim))
    assert code in (200, 202)
    wait_for(lambda: len(live_pods(api, sel)) == 3 and
             victim not in {p["metadata"]["name"] for p in live_pods(api, sel)}, 20,
             "the deleted pod replaced")

    # scale up and down with kubectl
    kubectl.run("scale", "replicaset", app, "--replicas=5")
    wait_for(lambda: len(live_pods(api, sel)) == 5, 20, "5 pods")
    kubectl.run("scale", "replicaset", app, "--replicas=1")
    wait_for(lambda: len(pods(api, sel)) == 1, 30, "1 pod left")
    wait_for(status_ok_n(api, app, 1), 20, "RS status 1/1")


def status_ok_n(api, name, n):
    def ok():
        code, body, _ = api.get(RS_PATH + "/" + name)
        st = body.get("status", {})
        return st.get("replicas") == n and st.get("readyReplicas") == n
    return ok


def test_scale_down_prefers_unready(env):
    api, kubectl, kubelet = env
    app = unique("sd")
    create(api, RS_PATH, rs_body(app, app, 3))
    sel = "app%3D" + app
    wait_for(lambda: ready_count(live_pods(api, sel)) == 3, 20, "3 ready pods")
    keep = sorted(p["metadata"]["name"] for p in live_pods(api, sel))
    slow = keep[1]
    with kubelet.lock:
        kubelet.not_ready.add(slow)
    wait_for(lambda: ready_count(live_pods(api, sel)) == 2, 20, "one pod not ready")
    kubectl.run("scale", "replicaset", app, "--replicas=2")
    wait_for(lambda: len(pods(api, sel)) == 2, 20, "2 pods")
    assert slow not in {p["metadata"]["name"] for p in pods(api, sel)}, \
        "the not-ready pod goes first"


DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: %(name)s
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels: {app: %(name)s}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: %(name)s}
    spec:
      containers:
      - name: c
        image: nginx:1
"""


def rs_of(api, name):
    code, body, _ = api.get(RS_PATH + "?labelSelector=app%3D" + name)
    assert code == 200
    return body["items"]


def test_deployment_rollout_undo_scale(env):
    api, kubectl, _ = env
    name = unique("dep")
    kubectl.run("apply", "-f", "-", stdin=DEPLOY % {"name": name})
    kubectl.run("rollout", "status", "deployment/" + name, "--timeout=60s", timeout=90)
    first = rs_of(api, name)
    assert len(first) == 1
    rs1 = first[0]
    h = rs1["metadata"]["labels"]["pod-template-hash"]
    assert rs1["metadata"]["name"] == name + "-" + h
    assert rs1["spec"]["selector"]["matchLabels"]["pod-template-hash"] == h
    assert rs1["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"

    # rolling update with maxUnavailable 0 / maxSurge 1, watched step by step
    kubectl.run("set", "image", "deployment/" + name, "c=nginx:2")
    sel = "app%3D" + name
    seen_max, min_ready, steps = 0, 99, set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = live_pods(api, sel)
        seen_max = max(seen_max, len(items))
        min_ready = min(min_ready, ready_count(items))
        steps.add(tuple(sorted((r["metadata"]["name"], r["spec"]["replicas"])
                               for r in rs_of(api, name))))
        code, d, _ = api.get("/apis/apps/v1/namespaces/%s/deployments/%s" % (NS, name))
        st = d["status"]
        if (st.get("observedGeneration", 0) >= d["metadata"]["generation"] and
                st.get("updatedReplicas") == 3 and st.get("replicas") == 3 and
                st.get("availableReplicas") == 3):
            break
        time.sleep(0.05)
    kubectl.run("rollout", "status", "deployment/" + name, "--timeout=60s", timeout=90)
    assert min_ready >= 3, "maxUnavailable 0: never fewer than 3 ready pods (%d)" % min_ready
    # A pod being deleted may still be listed a moment; the controller never
    # asks for more than replicas + maxSurge.
    for s in steps:
        assert sum(n for _, n in s) <= 4, s
    assert len(steps) >= 3, "several intermediate steps: %s" % sorted(steps)
    hist = kubectl.out("rollout", "history", "deployment/" + name)
    assert "1" in hist and "2" in hist, hist

    # rollout undo brings the first template (and its ReplicaSet) back
    kubectl.run("rollout", "undo", "deployment/" + name)
    kubectl.run("rollout", "status", "deployment/" + name, "--timeout=60s", timeout=90)
    d = kubectl.json("get", "deployment", name)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
    rss = {r["metadata"]["name"]: r for r in rs_of(api, name)}
    assert rss[rs1["metadata"]["name"]]["spec"]["replicas"] == 3
    assert rss[rs1["metadata"]["name"]]["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"] == "3"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"

    # scale
    kubectl.run("scale", "deployment/" + name, "--replicas=5")
    kubectl.run("rollout", "status", "deployment/" + name, "--timeout=60s", timeout=90)
    wait_for(lambda: ready_count(live_pods(api, sel)) == 5, 20, "5 ready pods")
    d = kubectl.json("get", "deployment", name)
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert conds["Available"]["status"] == "True"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"

    # restart makes a new ReplicaSet; pause / resume are reported
    kubectl.run("rollout", "restart", "deployment/" + name)
    kubectl.run("rollout", "status", "deployment/" + name, "--timeout=60s", timeout=90)
    assert len(rs_of(api, name)) == 3
    kubectl.run("rollout", "pause", "deployment/" + name)
    wait_for(lambda: {c["type"]: c for c in kubectl.json("get", "deployment", name)["status"][
        "conditions"]}["Progressing"]["reason"] == "DeploymentPaused", 20, "DeploymentPaused")
    kubectl.run("rollout", "resume", "deployment/" + name)
    kubectl.run("rollout", "status", "deployment/" + name, "--timeout=60s", timeout=90)

    # kubectl delete removes the ReplicaSets and the pods (garbage collector)
    kubectl.run("delete", "deployment", name)
    wait_for(lambda: not rs_of(api, name) and not pods(api, sel), 30, "RSes and pods gone")


def node(api, name):
    code, body, _ = api.get("/api/v1/nodes/" + name)
    assert code == 200, body
    return body


def taint_keys(n):
    return {(t["key"], t["effect"]) for t in n.get("spec", {}).get("taints") or []}


def ready_status(n):
    for c in n.get("status", {}).get("conditions", []):
        if c["type"] == "Ready":
            return c["status"], c.get("reason")
    return None, None


def test_node_lease_lost_evicts_and_recovers(env):
    api, _, kubelet = env
    app = unique("nl")
    rs = create(api, RS_PATH, rs_body(app, app, 4, tolerations=TOL))
    sel = "app%3D" + app
    wait_for(lambda: ready_count(live_pods(api, sel)) == 4, 30, "4 ready pods")
    on1 = [p["metadata"]["name"] for p in live_pods(api, sel)
           if p["spec"].get("nodeName") == "fake-1"]
    assert on1, "the fake kubelet spreads pods over both nodes"
    kubelet.set_alive("fake-1", False)
    t0 = time.monotonic()
    wait_for(lambda: ready_status(node(api, "fake-1")) == ("Unknown", "NodeStatusUnknown"),
             NODE_BOUND, "fake-1 Ready=Unknown")
    wait_for(lambda: ("node.kubernetes.io/unreachable", "NoExecute") in
             taint_keys(node(api, "fake-1")), NODE_BOUND, "unreachable taint")
    assert ("node.kubernetes.io/unreachable", "NoSchedule") in taint_keys(node(api, "fake-1"))
    # its pods are marked not ready at once, then evicted and replaced on fake-2
    wait_for(lambda: not ({p["metadata"]["name"] for p in pods(api, sel)} & set(on1)),
             NODE_BOUND, "pods of fake-1 evicted")
    wait_for(lambda: ready_count(live_pods(api, sel)) == 4 and
             all(p["spec"].get("nodeName") == "fake-2" for p in live_pods(api, sel)),
             NODE_BOUND, "4 ready pods on fake-2")
    assert time.monotonic() - t0 < 3 * (4 + 3) + 10
    assert all(owned_by(p, rs["metadata"]["uid"]) for p in live_pods(api, sel))
    # fake-2 was never touched
    assert not ({k for k, _ in taint_keys(node(api, "fake-2"))} &
                {"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"})
    # back: the taints go
    kubelet.set_alive("fake-1", True)
    kubelet.report_node("fake-1", "True")
    wait_for(lambda: not ({k for k, _ in taint_keys(node(api, "fake-1"))} &
                          {"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"}),
             NODE_BOUND, "taints removed from fake-1")
    api.delete(RS_PATH + "/" + app)


def test_endpoints_follow_readiness(env):
    api, _, kubelet = env
    app = unique("ep")
    create(api, RS_PATH, rs_body(app, app, 2, ports=[{"name": "http", "containerPort": 8080}]))
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": app, "namespace": NS},
           "spec": {"selector": {"app": app},
                    "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
    create(api, "/api/v1/namespaces/%s/services" % NS, svc)
    sel = "app%3D" + app
    wait_for(lambda: ready_count(live_pods(api, sel)) == 2, 30, "2 ready pods")

    def ep():
        code, body, _ = api.get("/api/v1/namespaces/%s/endpoints/%s" % (NS, app))
        return body if code == 200 else None

    def counts():
        e = ep()
        if not e:
            return None
        ready = sum(len(s.get("addresses", [])) for s in e.get("subsets") or [])
        nready = sum(len(s.get("notReadyAddresses", [])) for s in e.get("subsets") or [])
        return ready, nready
    wait_for(lambda: counts() == (2, 0), 20, "2 ready addresses")
    s = ep()["subsets"][0]
    assert s["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    ips = {p["status"]["podIP"] for p in live_pods(api, sel)}
    assert {a["ip"] for a in s["addresses"]} == ips
    assert all(a["targetRef"]["kind"] == "Pod" for a in s["addresses"])

    victim = sorted(p["metadata"]["name"] for p in live_pods(api, sel))[0]
    with kubelet.lock:
        kubelet.not_ready.add(victim)
    wait_for(lambda: counts() == (1, 1), 20, "one address moved to notReadyAddresses")

    def slices():
        code, body, _ = api.get("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices?"
                                "labelSelector=kubernetes.io/service-name%%3D%s" % (NS, app))
        return body["items"] if code == 200 else []

    def slice_state():
        out = []
        for sl in slices():
            for e in sl.get("endpoints") or []:
                out.append(e["conditions"]["ready"])
        return sorted(out)
    wait_for(lambda: slice_state() == [False, True], 20, "slice with one ready endpoint")
    sl = slices()[0]
    assert sl["addressType"] == "IPv4"
    assert sl["ports"][0]["port"] == 8080
    assert sl["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
        "endpointslice-controller.k8s.io"
    with kubelet.lock:
        kubelet.not_ready.discard(victim)
    wait_for(lambda: counts() == (2, 0), 20, "both ready again")
    # the Service goes: its Endpoints go, its slices are collected
    api.delete("/api/v1/namespaces/%s/services/%s" % (NS, app))
    wait_for(lambda: ep() is None and not slices(), 20, "endpoints and slices gone")
    api.delete(RS_PATH + "/" + app)


def test_garbage_collection_three_modes(env):
    api, _, _ = env
    sel_of = {}
    for mode in ("Background", "Foreground", "Orphan"):
        app = unique(mode.lower())
        rs = create(api, RS_PATH, rs_body(app, app, 2))
        sel = "app%3D" + app
        sel_of[mode] = (app, sel, rs["metadata"]["uid"])
        wait_for(lambda: len(live_pods(api, sel)) == 2, 20, "2 pods for " + mode)

    app, sel, _ = sel_of["Background"]
    code, _, _ = api.delete(RS_PATH + "/" + app, {"propagationPolicy": "Background"})
    assert code == 200
    wait_for(lambda: not pods(api, sel), 30, "background: pods collected")

    app, sel, _ = sel_of["Foreground"]
    code, _, _ = api.delete(RS_PATH + "/" + app, {"propagationPolicy": "Foreground"})
    assert code in (200, 202)
    # The owner stays (with its finalizer) while dependents exist, then goes.
    code, body, _ = api.get(RS_PATH + "/" + app)
    if code == 200:
        assert "foregroundDeletion" in body["metadata"].get("finalizers", [])
    wait_for(lambda: not pods(api, sel) and api.get(RS_PATH + "/" + app)[0] == 404, 30,
             "foreground: pods then the RS gone")

    app, sel, uid = sel_of["Orphan"]
    code, _, _ = api.delete(RS_PATH + "/" + app, {"propagationPolicy": "Orphan"})
    assert code in (200, 202)
    wait_for(lambda: api.get(RS_PATH + "/" + app)[0] == 404, 30, "orphan: the RS gone")
    left = pods(api, sel)
    assert len(left) == 2
    assert not any(r.get("uid") == uid for p in left
                   for r in p["metadata"].get("ownerReferences") or [])
    time.sleep(1)
    assert len(pods(api, sel)) == 2, "orphans are left alone"
    for p in left:
        api.delete("/api/v1/namespaces/%s/pods/%s" % (NS, p["metadata"]["name"]))


def test_pod_cidrs_do_not_overlap(env):
    api, _, kubelet = env
    kubelet.add_node("fake-3")
    names = ["fake-1", "fake-2", "fake-3"]
    wait_for(lambda: all(node(api, n)["spec"].get("podCIDR") for n in names), 20,
             "every node has a pod CIDR")
    cidrs = [node(api, n)["spec"]["podCIDR"] for n in names]
    assert len(set(cidrs)) == 3, cidrs
    for n, c in zip(names, cidrs):
        assert c.startswith("10.42.") and c.endswith(".0/24"), c
        assert node(api, n)["spec"]["podCIDRs"] == [c]
    kubelet.set_alive("fake-3", False)


def test_fake_kubelet_had_no_errors(env):
    _, _, kubelet = env
    assert not kubelet.errors, kubelet.errors[:5]


def test_leader_failover(env):
    """A standby takes over within about 3 s of the leader's death (the Lease
    is 2 s; the bound is 3x) and its loops act at once."""
    api, _, _ = env
    if not ENV.get("own"):
        pytest.skip("the server's own controller manager holds the Lease")
    first = ENV["procs"][0]
    code, lease, _ = api.get(ENV["lease"])
    assert lease["spec"]["holderIdentity"] == "ctrl-a"
    ENV["start_controller"]("ctrl-b")
    time.sleep(1.5)
    code, lease, _ = api.get(ENV["lease"])
    assert lease["spec"]["holderIdentity"] == "ctrl-a", "one leader at a time"
    first.kill()  # no clean release: the standby must wait the Lease out
    first.wait(timeout=10)
    t0 = time.monotonic()
    wait_for(lambda: api.get(ENV["lease"])[1]["spec"]["holderIdentity"] == "ctrl-b", 9,
             "ctrl-b to take the Lease")
    took = time.monotonic() - t0
    assert took < 9, took
    app = unique("fo")
    create(api, RS_PATH, rs_body(app, app, 2))
    wait_for(lambda: len(live_pods(api, "app%3D" + app)) == 2, 10, "the new leader's pods")
    api.delete(RS_PATH + "/" + app)
