"""
Resource semantics over plain HTTP: status kept apart from spec, generation,
dry runs, generateName, pages at one revision, Tables, finalizers, graceful
pod deletion, propagation policies, bindings, evictions, scale, Service
address allocation, the kubernetes Endpoints, namespace termination, pods/log
without an agent, the node identity, and the request metrics.
"""
import concurrent.futures
import re
import time

import pytest

from conftest import Api, admin_token, http, unique, wait_for

NS = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def pod(name, node=None, finalizers=None):
    p = {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    if node:
        p["spec"]["nodeName"] = node
    if finalizers:
        p["metadata"]["finalizers"] = finalizers
    return p


def deployment(name, replicas=1, image="nginx"):
    return {"metadata": {"name": name}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "c", "image": image}]}}}}


def test_status_apart_from_spec_and_generation(api):
    # Writes carry no resourceVersion (unconditional updates): the in-process
    # controllers may update the Deployment's status at any moment.
    name = unique("gen")
    code, d, _ = api.post(APPS + "/deployments", deployment(name))
    assert code == 201 and d["metadata"]["generation"] == 1
    del d["metadata"]["resourceVersion"]
    d["status"] = {"replicas": 77}
    d["metadata"]["labels"] = {"x": "y"}
    code, d2, _ = api.put(APPS + "/deployments/" + name, d)
    assert code == 200 and d2["status"].get("replicas") != 77 and d2["metadata"]["generation"] == 1
    assert d2["metadata"]["labels"] == {"x": "y"}
    del d2["metadata"]["resourceVersion"]
    d2["status"] = {"replicas": 55, "observedGeneration": 1}
    d2["spec"]["replicas"] = 9
    d2["metadata"]["labels"] = {"x": "changed-by-status"}
    code, d3, _ = api.put(APPS + "/deployments/%s/status" % name, d2)
    assert code == 200 and d3["status"]["replicas"] == 55 and d3["spec"]["replicas"] == 1
    assert d3["metadata"]["labels"] == {"x": "y"}
    code, d4, _ = api.patch(APPS + "/deployments/" + name,
                            {"spec": {"template": {"spec": {"containers": [
                                {"name": "c", "image": "nginx:2"}]}}}},
                            ctype="application/strategic-merge-patch+json")
    assert code == 200 and d4["metadata"]["generation"] == 2
    assert d4["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    code, d5, _ = api.patch(APPS + "/deployments/%s/status" % name, {"status": {"replicas": 44}})
    assert code == 200 and d5["status"]["replicas"] == 44 and d5["metadata"]["generation"] == 2
    code, d6, _ = api.patch(APPS + "/deployments/" + name, {"metadata": {"labels": {"z": "1"}}})
    assert code == 200 and d6["metadata"]["generation"] == 2, "metadata is not spec"


def test_scale_subresource(api):
    name = unique("sc")
    api.post(APPS + "/deployments", deployment(name, 2))
    code, s, _ = api.get(APPS + "/deployments/%s/scale" % name)
    assert code == 200 and s["kind"] == "Scale" and s["apiVersion"] == "autoscaling/v1"
    assert s["spec"]["replicas"] == 2 and s["status"]["selector"] == "app=" + name
    s["spec"]["replicas"] = 4
    del s["metadata"]["resourceVersion"]  # controllers may have written since
    code, s2, _ = api.put(APPS + "/deployments/%s/scale" % name, s)
    assert code == 200 and s2["spec"]["replicas"] == 4
    s["metadata"]["resourceVersion"] = "1"
    code, doc, _ = api.put(APPS + "/deployments/%s/scale" % name, s)
    assert code == 409
    code, s3, _ = api.patch(APPS + "/deployments/%s/scale" % name, {"spec": {"replicas": 0}})
    assert code == 200 and s3["spec"]["replicas"] == 0
    assert api.get(APPS + "/deployments/" + name)[1]["spec"]["replicas"] == 0


def test_dry_run_and_generate_name(api):
    code, doc, _ = api.post(NS + "/configmaps?dryRun=All", {"metadata": {"name": "dry"}})
    assert code == 201 and doc["metadata"]["uid"]
    assert api.get(NS + "/configmaps/dry")[0] == 404
    code, doc, _ = api.post(NS + "/configmaps", {"metadata": {"name": "wet"}, "data": {"a": "1"}})
    code, doc, _ = api.patch(NS + "/configmaps/wet?dryRun=All", {"data": {"a": "2"}})
    assert code == 200 and doc["data"] == {"a": "2"}
    assert api.get(NS + "/configmaps/wet")[1]["data"] == {"a": "1"}
    code, doc, _ = api.delete(NS + "/configmaps/wet?dryRun=All")
    assert code == 200 and api.get(NS + "/configmaps/wet")[0] == 200
    code, doc, _ = api.post(NS + "/configmaps", {"metadata": {"generateName": "gen-"}})
    assert code == 201 and re.fullmatch(r"gen-[a-z0-9]{5}", doc["metadata"]["name"])
    # Created objects carry a uid and a creationTimestamp decided by the server.
    assert re.fullmatch(r"[0-9a-f-]{36}", doc["metadata"]["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["metadata"]["creationTimestamp"])


def test_pages_are_one_snapshot(api):
    grp = unique("page")
    for i in range(5):
        api.post(NS + "/configmaps", {"metadata": {"name": "%s-%d" % (grp, i),
                                                   "labels": {"grp": grp}}, "data": {"v": "0"}})
    q = NS + "/configmaps?labelSelector=grp%3D" + grp + "&limit=2"
    code, p1, _ = api.get(q)
    assert [i["metadata"]["name"] for i in p1["items"]] == [grp + "-0", grp + "-1"]
    rv = p1["metadata"]["resourceVersion"]
    api.patch(NS + "/configmaps/%s-3" % grp, {"data": {"v": "changed"}})
    api.post(NS + "/configmaps", {"metadata": {"name": grp + "-9", "labels": {"grp": grp}}})
    seen, cont = [], p1["metadata"]["continue"]
    while cont:
        code, p, _ = api.get(q + "&continue=" + cont)
        assert code == 200 and p["metadata"]["resourceVersion"] == rv
        seen += p["items"]
        cont = p["metadata"].get("continue")
    assert [i["metadata"]["name"] for i in seen] == [grp + "-2", grp + "-3", grp + "-4"]
    assert seen[1]["data"] == {"v": "0"}, "later pages must be read at the first page's revision"
    code, doc, _ = api.get(q + "&continue=garbage")
    assert code == 400


def test_table_output(api):
    name = unique("tbl")
    api.post(NS + "/pods", pod(name))
    code, t, _ = api.get(NS + "/pods?includeObject=Object", headers={"Accept": TABLE})
    assert code == 200 and t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in t["columnDefinitions"]][:5] == ["Name", "Ready", "Status",
                                                                "Restarts", "Age"]
    row = next(r for r in t["rows"] if r["cells"][0] == name)
    assert row["cells"][2] == "Pending" and row["object"]["kind"] == "Pod"
    code, t, _ = api.get(NS + "/pods/" + name, headers={"Accept": TABLE})
    assert code == 200 and t["kind"] == "Table" and len(t["rows"]) == 1
    code, doc, _ = api.get(NS + "/pods/" + name,
                           headers={"Accept": "application/vnd.kubernetes.protobuf,application/json"})
    assert code == 200 and doc["kind"] == "Pod"


def test_finalizers_and_propagation(api):
    name = unique("fin")
    api.post(NS + "/configmaps", {"metadata": {"name": name, "finalizers": ["example.com/hold"]}})
    code, doc, _ = api.delete(NS + "/configmaps/" + name)
    assert code == 200 and doc["metadata"]["deletionTimestamp"]
    code, doc, _ = api.get(NS + "/configmaps/" + name)
    assert code == 200 and doc["metadata"]["finalizers"] == ["example.com/hold"]
    code, doc, _ = api.patch(NS + "/configmaps/" + name, {"metadata": {"finalizers": None}})
    assert code == 200
    assert api.get(NS + "/configmaps/" + name)[0] == 404
    for policy, fin in (("Foreground", "foregroundDeletion"), ("Orphan", "orphan")):
        d = unique("prop")
        api.post(APPS + "/deployments", deployment(d))
        code, doc, _ = api.delete(APPS + "/deployments/" + d, {"propagationPolicy": policy})
        assert code == 200 and fin in doc["metadata"]["finalizers"]
        assert doc["metadata"]["deletionTimestamp"]
        # The garbage collector (in-process) may already have finished it.
        code, cur, _ = api.get(APPS + "/deployments/" + d)
        assert code == 404 or cur["metadata"]["deletionTimestamp"]
    d = unique("prop")
    api.post(APPS + "/deployments", deployment(d))
    code, doc, _ = api.delete(APPS + "/deployments/" + d, {"propagationPolicy": "Background"})
    assert code == 200 and doc["status"] == "Success"
    assert api.get(APPS + "/deployments/" + d)[0] == 404


def test_graceful_pod_deletion_binding_eviction(api):
    unbound = unique("ub")
    api.post(NS + "/pods", pod(unbound))
    code, doc, _ = api.delete(NS + "/pods/" + unbound)
    assert code == 200 and api.get(NS + "/pods/" + unbound)[0] == 404
    name = unique("gp")
    api.post(NS + "/pods", pod(name))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
    code, doc, _ = api.post(NS + "/pods/%s/binding" % name, binding)
    assert code == 201 and doc["status"] == "Success"
    assert api.get(NS + "/pods/" + name)[1]["spec"]["nodeName"] == "n1"
    code, doc, _ = api.post(NS + "/pods/%s/binding" % name, binding)
    assert code == 409 and "already assigned" in doc["message"]
    code, doc, _ = api.delete(NS + "/pods/" + name)
    assert code == 200 and doc["metadata"]["deletionGracePeriodSeconds"] == 30
    assert api.get(NS + "/pods/" + name)[0] == 200, "a bound pod waits for its node"
    code, doc, _ = api.delete(NS + "/pods/" + name, {"gracePeriodSeconds": 0})
    assert code == 200 and api.get(NS + "/pods/" + name)[0] == 404
    ev = unique("ev")
    api.post(NS + "/pods", pod(ev, node="n1"))
    code, doc, _ = api.post(NS + "/pods/%s/eviction" % ev,
                            {"apiVersion": "policy/v1", "kind": "Eviction",
                             "metadata": {"name": ev}, "deleteOptions": {"gracePeriodSeconds": 5}})
    assert code == 201, doc
    assert api.get(NS + "/pods/" + ev)[1]["metadata"]["deletionGracePeriodSeconds"] == 5


def test_service_ips_never_twice_and_released(three):
    apis = [Api(m, admin_token(m)) for m in three.members]
    ip = "10.43.77.%d" % (int(time.monotonic()) % 200 + 10)

    def make(i):
        svc = {"metadata": {"name": unique("race") + "-%d" % i},
               "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}
        return apis[i % 3].post(NS + "/services", svc)[0]

    with concurrent.futures.ThreadPoolExecutor(9) as ex:
        codes = list(ex.map(make, range(9)))
    assert sorted(codes) == [201] + [422] * 8, codes
    code, lst, _ = apis[0].get(NS + "/services")
    holder = [s for s in lst["items"] if s["spec"].get("clusterIP") == ip]
    assert len(holder) == 1
    assert apis[1].delete(NS + "/services/" + holder[0]["metadata"]["name"])[0] == 200
    again = {"metadata": {"name": unique("again")}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}
    assert wait_for(lambda: apis[2].post(NS + "/services", again)[0] == 201, 15, "IP released")
    # Random addresses and node ports are all distinct.
    made = []
    for i in range(12):
        code, s, _ = apis[i % 3].post(NS + "/services", {
            "metadata": {"name": unique("np") + "-%d" % i},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]}})
        assert code == 201, s
        made.append(s)
    assert len({s["spec"]["clusterIP"] for s in made}) == 12
    assert len({s["spec"]["ports"][0]["nodePort"] for s in made}) == 12


def test_kubernetes_endpoints_list_the_masters(three):
    api = Api(three.members[1], admin_token(three.members[1]))
    want = sorted(m.api_port for m in three.members)

    def ports():
        code, ep, _ = api.get(NS + "/endpoints/kubernetes")
        if code != 200:
            return None
        got = sorted(p["port"] for s in ep.get("subsets", []) for p in s["ports"])
        return got == want and got

    wait_for(ports, 30, "kubernetes endpoints with every master")
    code, svc, _ = api.get(NS + "/services/kubernetes")
    assert svc["spec"]["clusterIP"] == "10.43.0.1" and svc["spec"]["ports"][0]["port"] == 443


def test_namespace_termination(api):
    ns = unique("term")
    assert api.post("/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
    base = "/api/v1/namespaces/" + ns
    api.post(base + "/configmaps", {"metadata": {"name": "held", "finalizers": ["x.io/y"]}})
    api.post(base + "/configmaps", {"metadata": {"name": "plain"}})
    code, doc, _ = api.delete(base)
    assert code == 200 and doc["status"]["phase"] == "Terminating"
    wait_for(lambda: api.get(base + "/configmaps/plain")[0] == 404, 20, "contents deleted")
    code, doc, _ = api.get(base)
    assert code == 200 and doc["status"]["phase"] == "Terminating"
    code, doc, _ = api.post(base + "/configmaps", {"metadata": {"name": "late"}})
    assert code == 403 and "being terminated" in doc["message"]
    api.patch(base + "/configmaps/held", {"metadata": {"finalizers": None}})
    wait_for(lambda: api.get(base)[0] == 404, 20, "the namespace to disappear")


def test_logs_without_an_agent(api):
    node = unique("lognode")
    api.post("/api/v1/nodes", {"metadata": {"name": node}, "status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}})
    name = unique("logpod")
    api.post(NS + "/pods", pod(name, node=node))
    code, doc, _ = api.get(NS + "/pods/%s/log?container=c" % name)
    assert code == 503 and doc["reason"] == "ServiceUnavailable" and node in doc["message"]
    code, doc, _ = api.get(NS + "/pods/%s/log?container=nope" % name)
    assert code == 400


def test_node_identity(one, api):
    node = Api(one.members[0], one.token)
    name = unique("agent")
    code, doc, _ = node.post("/api/v1/nodes", {"metadata": {"name": name}})
    assert code == 201
    code, doc, _ = node.patch("/api/v1/nodes/%s/status" % name,
                              {"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert code == 200
    code, doc, _ = node.post("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                             {"metadata": {"name": name}, "spec": {"holderIdentity": name}})
    assert code == 201, doc
    p = unique("np")
    api.post(NS + "/pods", pod(p, node=name))
    code, doc, _ = node.patch(NS + "/pods/%s/status" % p, {"status": {"phase": "Running"}})
    assert code == 200 and doc["status"]["phase"] == "Running"
    code, doc, _ = node.post(NS + "/events", {
        "metadata": {"name": unique("ev")}, "involvedObject": {"kind": "Pod", "name": p},
        "reason": "Started", "message": "ok", "type": "Normal"})
    assert code == 201, doc
    for method, path in (("POST", NS + "/pods"), ("GET", "/api/v1/namespaces"),
                         ("DELETE", "/api/v1/nodes/" + name),
                         ("PUT", NS + "/pods/" + p)):
        code, doc, _ = node.req(method, path, {} if method in ("POST", "PUT") else None)
        assert code == 403 and doc["reason"] == "Forbidden", (method, path, doc)


def test_request_metrics(api):
    api.post(NS + "/configmaps", {"metadata": {"name": unique("met")}})
    code, raw, _ = http("GET", api.url + "/metrics", token=api.token)
    text = raw.decode()
    assert code == 200
    assert re.search(r'picokube_apiserver_requests_total\{verb="POST",resource="configmaps",'
                     r'code="201"\} [1-9]', text)
    assert 'picokube_apiserver_request_duration_seconds_bucket{verb="POST",resource="configmaps"' in text
