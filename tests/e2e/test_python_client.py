"""
Debian's python3-kubernetes client, unchanged, against picokube: create, list
with label and field selectors, watch from a resourceVersion, patch, delete.
"""
import os
import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from conftest import admin_token, follower, unique


@pytest.fixture(scope="module")
def k8s(three):
    m = follower(three)
    cfg = client.Configuration()
    cfg.host = m.url
    cfg.ssl_ca_cert = os.path.join(m.dir, "tls", "ca.crt")  # the cluster CA, verified
    cfg.api_key = {"authorization": "Bearer " + admin_token(m)}
    api = client.ApiClient(cfg)
    yield client.CoreV1Api(api), client.AppsV1Api(api)
    api.close()


def test_create_list_watch_patch_delete(k8s):
    v1, _ = k8s
    ns = "default"
    app = unique("app")
    made = []
    for i in range(3):
        cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="%s-%d" % (app, i),
                                                             labels={"app": app, "i": str(i)}),
                                data={"k": str(i)})
        made.append(v1.create_namespaced_config_map(ns, cm))
    assert made[0].metadata.uid and int(made[0].metadata.resource_version) > 0
    listed = v1.list_namespaced_config_map(ns, label_selector="app=%s,i!=1" % app)
    assert sorted(c.metadata.name for c in listed.items) == [app + "-0", app + "-2"]
    assert int(listed.metadata.resource_version) >= int(made[-1].metadata.resource_version)
    by_field = v1.list_namespaced_config_map(ns, field_selector="metadata.name=%s-1" % app)
    assert [c.metadata.name for c in by_field.items] == [app + "-1"]
    # Pages: limit + continue give every object once.
    page = v1.list_namespaced_config_map(ns, label_selector="app=" + app, limit=2)
    assert len(page.items) == 2 and page.metadata._continue
    rest = v1.list_namespaced_config_map(ns, label_selector="app=" + app, limit=2,
                                         _continue=page.metadata._continue)
    assert len(rest.items) == 1 and not rest.metadata._continue

    start = made[-1].metadata.resource_version
    events = []
    w = watch.Watch()

    def run():
        for e in w.stream(v1.list_namespaced_config_map, ns, label_selector="app=" + app,
                          resource_version=start, timeout_seconds=20):
            events.append((e["type"], e["object"].metadata.name, dict(e["object"].data or {})))
            if len(events) >= 2:
                w.stop()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    patched = v1.patch_namespaced_config_map(app + "-0", ns, {"data": {"k": "patched"}})
    assert patched.data == {"k": "patched"}
    assert int(patched.metadata.resource_version) > int(start)
    v1.delete_namespaced_config_map(app + "-2", ns)
    t.join(timeout=25)
    assert events == [("MODIFIED", app + "-0", {"k": "patched"}), ("DELETED", app + "-2", {"k": "2"})]
    with pytest.raises(ApiException) as e:
        v1.read_namespaced_config_map(app + "-2", ns)
    assert e.value.status == 404


def test_deployment_and_scale(k8s):
    _, apps = k8s
    name = unique("pyd")
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]))))
    d = apps.create_namespaced_deployment("default", body)
    assert d.spec.strategy.type == "RollingUpdate" and d.metadata.generation == 1
    s = apps.read_namespaced_deployment_scale(name, "default")
    assert s.spec.replicas == 1 and s.status.selector == "app=" + name
    apps.patch_namespaced_deployment_scale(name, "default", {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment(name, "default").spec.replicas == 3
    apps.delete_namespaced_deployment(name, "default")
