"""
The real kubectl (v1.32) with its default flags against one master and
against three masters (then through a follower): discovery, get in all its
forms, describe, create, apply, patch, label, annotate, scale, delete --wait,
create deployment, expose, cordon / uncordon and a bounded `get -w`.
"""
import json
import re
import threading
import time

import pytest

from conftest import unique, wait_for

POD = """apiVersion: v1
kind: Pod
metadata:
  name: %(name)s
  labels: {app: %(app)s, tier: web}
spec:
  containers:
  - name: c
    image: busybox:1.36
    resources:
      requests: {cpu: 100m, memory: 64Mi}
"""


def test_api_resources(kubectl):
    out = kubectl.out("api-resources")
    rows = {l.split()[0]: l.split() for l in out.splitlines()[1:]}
    assert rows["pods"][1:] == ["po", "v1", "true", "Pod"]
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"][1:] == ["no", "v1", "false", "Node"]
    assert rows["leases"][1:] == ["coordination.k8s.io/v1", "true", "Lease"]
    for short in ("svc", "rs", "rc", "ns", "cm", "ep", "ev"):
        assert short in out
    # Subresources are in discovery: `kubectl scale` needs deployments/scale.
    assert "namespaces" in kubectl.out("api-resources", "--namespaced=false")


def test_get_tables_and_forms(kubectl):
    name, app = unique("p"), unique("a")
    assert "created" in kubectl.out("create", "-f", "-", stdin=POD % {"name": name, "app": app})
    out = kubectl.out("get", "pods")
    header = out.splitlines()[0].split()
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    row = next(l for l in out.splitlines() if l.startswith(name + " "))
    assert row.split()[1:4] == ["0/1", "Pending", "0"]
    wide = kubectl.out("get", "pods", "-o", "wide").splitlines()[0]
    for col in ("IP", "NODE", "NOMINATED NODE", "READINESS GATES"):
        assert col in wide
    y = kubectl.out("get", "pod", name, "-o", "yaml")
    assert re.search(r'resourceVersion: "\d+"', y) and "uid:" in y and "qosClass: Burstable" in y
    assert name in kubectl.out("get", "pods", "-l", "app=" + app)
    assert name not in kubectl.out("get", "pods", "-l", "app=other", "--no-headers")
    all_ns = kubectl.out("get", "pods", "-A")
    assert all_ns.splitlines()[0].split()[0] == "NAMESPACE" and name in all_ns
    assert name in kubectl.out("get", "pods", "--field-selector", "metadata.name=" + name)
    assert name in kubectl.out("get", "pods", "--field-selector", "status.phase=Pending")
    assert name not in kubectl.out("get", "pods", "--field-selector", "status.phase=Running")
    d = kubectl.out("describe", "pod", name)
    assert re.search(r"Name:\s+" + name, d) and "Requests:" in d and "QoS Class:" in d
    # Namespaces and the kubernetes Service exist from the start.
    ns = kubectl.out("get", "ns")
    for n in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert re.search(r"^%s\s+Active" % n, ns, re.M)
    svc = kubectl.out("get", "svc", "kubernetes")
    assert "10.43.0.1" in svc and "443/TCP" in svc


def test_apply_twice_then_remove_a_field(kubectl):
    name = unique("cfg")
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n%s"
    assert "created" in kubectl.out("apply", "-f", "-", stdin=doc % (name, "  a: '1'\n  b: '2'\n"))
    assert "configured" in kubectl.out("apply", "-f", "-",
                                       stdin=doc % (name, "  a: '9'\n  b: '2'\n"))
    assert kubectl.json("get", "cm", name)["data"] == {"a": "9", "b": "2"}
    assert "configured" in kubectl.out("apply", "-f", "-", stdin=doc % (name, "  a: '9'\n"))
    cm = kubectl.json("get", "cm", name)
    assert cm["data"] == {"a": "9"}
    last = json.loads(cm["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["data"] == {"a": "9"}
    assert "unchanged" in kubectl.out("apply", "-f", "-", stdin=doc % (name, "  a: '9'\n"))
    # A Deployment: a container field changes, an env entry goes; generation follows spec.
    dep = """apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: 2
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
      - name: c
        image: %s
        env: %s
"""
    d = unique("dep")
    kubectl.out("apply", "-f", "-", stdin=dep % (d, d, d, "nginx:1.25",
                                                 '[{name: A, value: "1"}, {name: B, value: "2"}]'))
    kubectl.out("apply", "-f", "-", stdin=dep % (d, d, d, "nginx:1.26", '[{name: A, value: "1"}]'))
    got = kubectl.json("get", "deploy", d)
    c = got["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "nginx:1.26" and c["env"] == [{"name": "A", "value": "1"}]
    assert got["metadata"]["generation"] == 2


def test_patch_label_annotate(kubectl):
    name = unique("cm")
    kubectl.out("create", "configmap", name, "--from-literal=a=1")
    kubectl.out("patch", "cm", name, "-p", '{"data":{"b":"2"}}')
    kubectl.out("patch", "cm", name, "--type=merge", "-p", '{"data":{"c":"3"}}')
    kubectl.out("patch", "cm", name, "--type=json", "-p", '[{"op":"remove","path":"/data/a"}]')
    assert kubectl.json("get", "cm", name)["data"] == {"b": "2", "c": "3"}
    bad = kubectl.run("patch", "cm", name, "--type=json", "-p",
                      '[{"op":"test","path":"/data/b","value":"nope"}]', check=False)
    assert bad.returncode != 0
    kubectl.out("label", "cm", name, "team=blue")
    kubectl.out("annotate", "cm", name, "note=hello")
    meta = kubectl.json("get", "cm", name)["metadata"]
    assert meta["labels"]["team"] == "blue" and meta["annotations"]["note"] == "hello"
    kubectl.out("label", "cm", name, "team-")
    assert "team" not in kubectl.json("get", "cm", name)["metadata"].get("labels", {})
    assert name in kubectl.out("get", "cm", "-l", "!team")


def test_create_deployment_scale_expose(kubectl):
    d = unique("web")
    # kubectl's typed clients send these bodies as protobuf.
    assert "created" in kubectl.out("create", "deployment", d, "--image=nginx", "--replicas=2",
                                    "--port=8080")
    dep = kubectl.json("get", "deploy", d)
    assert dep["spec"]["replicas"] == 2 and dep["metadata"]["generation"] == 1
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"
    assert "scaled" in kubectl.out("scale", "deployment", d, "--replicas=5")
    dep = kubectl.json("get", "deploy", d)
    assert dep["spec"]["replicas"] == 5 and dep["metadata"]["generation"] == 2
    assert "exposed" in kubectl.out("expose", "deployment", d, "--port=80", "--target-port=8080",
                                    "--type=NodePort")
    svc = kubectl.json("get", "svc", d)
    assert svc["spec"]["clusterIP"].startswith("10.43.")
    assert svc["spec"]["clusterIP"] != "10.43.0.1"
    port = svc["spec"]["ports"][0]
    assert 30000 <= port["nodePort"] <= 32767 and port["targetPort"] == 8080
    assert "NodePort" in kubectl.out("get", "svc", d)


def test_delete_waits_until_gone(kubectl):
    name = unique("del")
    kubectl.out("create", "-f", "-", stdin=POD % {"name": name, "app": name})
    assert "deleted" in kubectl.out("delete", "pod", name, "--wait=true", timeout=60)
    assert kubectl.run("get", "pod", name, check=False).returncode != 0
    ns = unique("ns")
    kubectl.out("create", "namespace", ns)
    kubectl.out("create", "configmap", "x", "-n", ns, "--from-literal=a=b")
    assert "deleted" in kubectl.out("delete", "namespace", ns, timeout=60)
    assert kubectl.run("get", "namespace", ns, check=False).returncode != 0


def test_cordon_uncordon(kubectl):
    node = unique("node")
    kubectl.out("create", "-f", "-", stdin="""apiVersion: v1
kind: Node
metadata: {name: %s}
status:
  conditions: [{type: Ready, status: "True"}]
""" % node)
    kubectl.out("cordon", node)
    assert kubectl.json("get", "node", node)["spec"]["unschedulable"] is True
    assert "Ready,SchedulingDisabled" in kubectl.out("get", "nodes")
    kubectl.out("uncordon", node)
    assert not kubectl.json("get", "node", node)["spec"].get("unschedulable")
    kubectl.out("delete", "node", node)


def test_get_watch_is_bounded(kubectl):
    name = unique("w")
    kubectl.out("create", "configmap", name, "--from-literal=a=1")
    p = kubectl.popen("get", "cm", name, "-w", "--output-watch-events")
    lines = []

    def reader():
        for line in p.stdout:
            lines.append(line)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        wait_for(lambda: any(name in l for l in lines), 20, "the initial row of get -w")
        kubectl.out("label", "cm", name, "x=y")
        wait_for(lambda: any("MODIFIED" in l for l in lines), 20, "a MODIFIED row")
        kubectl.out("delete", "cm", name)
        wait_for(lambda: any("DELETED" in l for l in lines), 20, "a DELETED row")
    finally:
        p.kill()
        p.wait(timeout=10)
    assert lines[0].split()[:2] == ["EVENT", "NAME"] or "ADDED" in lines[0]
