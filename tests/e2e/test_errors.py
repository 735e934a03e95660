"""
Every error reason from a real bad request (plain HTTP, as curl sends it),
answered with a metav1.Status of Kubernetes' reason and code, and leaving the
store unchanged: every object of the kinds the requests touch (names and
resourceVersions in the default namespace, and the Service address pools'
users) is the same before and after. (The store revision itself may move:
the controllers run in the same process.)
"""
import json
import time

import pytest

from conftest import Api, admin_token, http, unique, wait_for

NS = "/api/v1/namespaces/default"


KINDS = ("/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/pods",
         "/api/v1/namespaces/default/services", "/apis/apps/v1/namespaces/default/deployments",
         "/api/v1/nodes", "/api/v1/namespaces")


def revision(api):
    """A snapshot of every object the tests' requests could have written."""
    snap = {}
    for path in KINDS:
        code, doc, _ = api.get(path)
        assert code == 200
        for it in doc["items"]:
            snap[(path, it["metadata"]["name"])] = it["metadata"]["resourceVersion"]
    return snap


def assert_status(code, doc, want_code, reason, text=None):
    assert code == want_code, (code, doc)
    assert doc["kind"] == "Status" and doc["apiVersion"] == "v1", doc
    assert doc["status"] == "Failure" and doc["reason"] == reason and doc["code"] == want_code, doc
    if text:
        assert text in doc["message"], doc["message"]


@pytest.fixture
def unchanged(api):
    """Asserts, after the test, that the store revision did not move."""
    before = revision(api)
    yield
    assert revision(api) == before, "a rejected request changed an object"


def pod(name, **container):
    c = {"name": "c", "image": "busybox"}
    c.update(container)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [c]}}


def test_bad_json(api, unchanged):
    code, doc, _ = api.post(NS + "/pods", '{"apiVersion": "v1", "kind": "Pod", "metadata": {')
    assert_status(code, doc, 400, "BadRequest", "json parse error")


def test_bad_quantity(api, unchanged):
    body = pod("q1", resources={"limits": {"cpu": "lots"}})
    code, doc, _ = api.post(NS + "/pods", body)
    assert_status(code, doc, 400, "BadRequest", "quantities must match the regular expression")


def test_wrong_kind_and_version(api, unchanged):
    code, doc, _ = api.post(NS + "/pods", {"apiVersion": "v1", "kind": "Service",
                                           "metadata": {"name": "k1"}})
    assert_status(code, doc, 400, "BadRequest", "Pod")
    code, doc, _ = api.post(NS + "/configmaps", {"apiVersion": "apps/v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "k2"}})
    assert_status(code, doc, 400, "BadRequest", "does not match the expected API version")


def test_strict_unknown_and_duplicate_fields(api, unchanged):
    body = '{"metadata":{"name":"s1","bogus":1},"data":{"a":"b"},"extra":true}'
    code, doc, _ = api.post(NS + "/configmaps?fieldValidation=Strict", body)
    assert_status(code, doc, 400, "BadRequest", 'unknown field "metadata.bogus"')
    assert 'unknown field "extra"' in doc["message"]
    dup = '{"metadata":{"name":"s2","name":"s3"}}'
    code, doc, _ = api.post(NS + "/configmaps?fieldValidation=Strict", dup)
    assert_status(code, doc, 400, "BadRequest", 'duplicate field "metadata.name"')
    code, doc, _ = api.post(NS + "/pods", pod("t1", ports=[{"containerPort": "eighty"}]))
    assert_status(code, doc, 400, "BadRequest", "cannot unmarshal string")


def test_invalid_with_causes(api, unchanged):
    code, doc, _ = api.post(NS + "/pods", pod("Bad_Name", image=""))
    assert_status(code, doc, 422, "Invalid", 'Pod "Bad_Name" is invalid')
    fields = {c["field"]: c["reason"] for c in doc["details"]["causes"]}
    assert fields["metadata.name"] == "FieldValueInvalid"
    assert fields["spec.containers[0].image"] == "FieldValueRequired"


def test_name_clash_and_stale_resource_version(api):
    name = unique("clash")
    code, cm, _ = api.post(NS + "/configmaps", {"metadata": {"name": name}, "data": {"a": "1"}})
    assert code == 201
    before = revision(api)
    code, doc, _ = api.post(NS + "/configmaps", {"metadata": {"name": name}, "data": {"a": "2"}})
    assert_status(code, doc, 409, "AlreadyExists", 'configmaps "%s" already exists' % name)
    assert doc["details"]["name"] == name
    stale = dict(cm, data={"a": "3"})
    stale["metadata"] = dict(cm["metadata"], resourceVersion="1")
    code, doc, _ = api.put(NS + "/configmaps/" + name, stale)
    assert_status(code, doc, 409, "Conflict", "the object has been modified")
    code, doc, _ = api.delete(NS + "/configmaps/" + name,
                              {"preconditions": {"uid": "not-the-uid"}})
    assert_status(code, doc, 409, "Conflict", "Precondition failed: UID")
    assert revision(api) == before
    assert api.get(NS + "/configmaps/" + name)[1]["data"] == {"a": "1"}
    # The current resourceVersion works.
    code, doc, _ = api.put(NS + "/configmaps/" + name, dict(cm, data={"a": "4"}))
    assert code == 200 and doc["data"] == {"a": "4"}


def test_name_and_namespace_mismatch(api, unchanged):
    code, doc, _ = api.put(NS + "/configmaps/one", {"metadata": {"name": "two"}})
    assert_status(code, doc, 400, "BadRequest", "does not match the name on the URL")
    code, doc, _ = api.post(NS + "/configmaps", {"metadata": {"name": "x", "namespace": "kube-system"}})
    assert_status(code, doc, 400, "BadRequest", "does not match the namespace")


def test_body_too_large(api, unchanged):
    big = json.dumps({"metadata": {"name": "big"}, "data": {"a": "x" * (4 << 20)}})
    code, _, _ = api.post(NS + "/configmaps", big, timeout=30)
    assert code == 413


def test_no_token_and_wrong_token(api, unchanged):
    code, doc, _ = api.post(NS + "/configmaps", {"metadata": {"name": "anon"}}, token="")
    assert_status(code, doc, 401, "Unauthorized")
    code, doc, _ = api.get(NS + "/configmaps", token="wrong")
    assert_status(code, doc, 401, "Unauthorized")
    assert http("GET", api.url + "/readyz")[0] == 200


def test_not_found_method_not_allowed_not_acceptable(api, unchanged):
    code, doc, _ = api.get(NS + "/configmaps/missing")
    assert_status(code, doc, 404, "NotFound", 'configmaps "missing" not found')
    code, doc, _ = api.get("/apis/apps/v1/namespaces/default/deployments/missing")
    assert_status(code, doc, 404, "NotFound", 'deployments.apps "missing" not found')
    code, doc, _ = api.post("/api/v1/namespaces/nowhere/configmaps", {"metadata": {"name": "x"}})
    assert_status(code, doc, 404, "NotFound", 'namespaces "nowhere" not found')
    code, doc, _ = api.put(NS + "/configmaps", {"metadata": {"name": "x"}})
    assert_status(code, doc, 405, "MethodNotAllowed")
    code, doc, _ = api.get("/api/v1/nothing-here")
    assert_status(code, doc, 404, "NotFound")
    code, doc, _ = api.get(NS + "/pods", headers={"Accept": "application/vnd.kubernetes.protobuf"})
    assert_status(code, doc, 406, "NotAcceptable")
    code, doc, _ = api.get(NS + "/pods?labelSelector=a%20in%20(", )
    assert_status(code, doc, 400, "BadRequest")
    code, doc, _ = api.get(NS + "/pods?fieldSelector=spec.bogus%3Dx")
    assert_status(code, doc, 400, "BadRequest", "field label not supported")


def test_forbidden_for_the_node_identity(one, api):
    node = Api(one.members[0], one.token)
    before = revision(api)
    code, doc, _ = node.post("/apis/apps/v1/namespaces/default/deployments",
                             {"metadata": {"name": "nope"}})
    assert_status(code, doc, 403, "Forbidden", 'User "system:node" cannot create resource')
    code, doc, _ = node.delete(NS + "/configmaps/anything")
    assert_status(code, doc, 403, "Forbidden")
    assert revision(api) == before
    # What an agent needs is allowed.
    assert node.get("/api/v1/nodes")[0] == 200
    assert node.get(NS + "/pods")[0] == 200


def test_service_addresses_refused(api, unchanged):
    svc = {"metadata": {"name": "far"}, "spec": {"clusterIP": "10.99.0.5",
                                                  "ports": [{"port": 80}]}}
    code, doc, _ = api.post(NS + "/services", svc)
    assert_status(code, doc, 422, "Invalid", "is not in the valid range")
    svc["spec"]["clusterIP"] = "10.43.0.1"  # the kubernetes Service has it
    code, doc, _ = api.post(NS + "/services", svc)
    assert_status(code, doc, 422, "Invalid", "provided IP is already allocated")
    svc["spec"] = {"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}
    code, doc, _ = api.post(NS + "/services", svc)
    assert_status(code, doc, 422, "Invalid", "nodePort")


def test_unavailable_without_quorum(tmp_path):
    from conftest import _start
    c = _start(3)
    try:
        m = c.members[0]
        api = Api(m, admin_token(m))
        assert api.post(NS + "/configmaps", {"metadata": {"name": "q"}})[0] == 201
        for other in c.members[1:]:
            other.kill()
        t0 = time.monotonic()
        code, doc, _ = api.post(NS + "/configmaps", {"metadata": {"name": "q2"}}, timeout=40)
        assert code in (503, 504), (code, doc)
        assert doc["reason"] in ("ServiceUnavailable", "Timeout") and "masters" in doc["message"]
        assert time.monotonic() - t0 < 30
        code, doc, _ = api.get(NS + "/configmaps/q", timeout=40)
        assert code in (503, 504), (code, doc)
    finally:
        c.cleanup()
