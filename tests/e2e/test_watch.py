"""
Watches over plain HTTP: from a resourceVersion, from "now" with the initial
ADDED events, selector semantics (an object leaving the selection is
DELETED), bookmarks, timeoutSeconds, 410 Expired for a revision that left
history, and Lease watches on a follower (relayed to the raft leader).
"""
import http.client
import json
import queue
import socket
import ssl
import threading
import time
import urllib.parse

import pytest

from conftest import Api, admin_token, follower, unique, wait_for

NS = "/api/v1/namespaces/default"


class Watch:
    """A streaming GET read line by line on a thread; events land in a queue."""

    def __init__(self, url, path, token, read_timeout=30):
        u = urllib.parse.urlparse(url)
        if u.scheme == "https":
            self.conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=read_timeout,
                                                    context=ssl._create_unverified_context())
        else:
            self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=read_timeout)
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.q = queue.Queue()
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.resp:
                if line.strip():
                    self.q.put(json.loads(line))
        except Exception:  # noqa: BLE001 - a hang-up mid-chunk ends the reader
            pass
        self.ended.set()

    def next(self, timeout=15):
        return self.q.get(timeout=timeout)

    def until(self, pred, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next(max(0.1, deadline - time.monotonic()))
            if pred(ev):
                return ev

    def close(self):
        # Hang up for real: the reader thread holds the socket open otherwise.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def cm(name, labels=None, data=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {}}


def names(evs):
    return [(e["type"], e["object"]["metadata"]["name"]) for e in evs]


def test_watch_from_resource_version(api):
    a = unique("wa")
    code, first, _ = api.post(NS + "/configmaps", cm(a))
    rv = first["metadata"]["resourceVersion"]
    api.patch(NS + "/configmaps/" + a, {"data": {"x": "1"}})
    api.delete(NS + "/configmaps/" + a)
    w = Watch(api.url, NS + "/configmaps?watch=1&resourceVersion=" + rv, api.token)
    try:
        assert w.status == 200
        evs = [w.next() for _ in range(2)]
        assert names(evs) == [("MODIFIED", a), ("DELETED", a)]
        assert evs[0]["object"]["data"] == {"x": "1"}
        assert int(evs[1]["object"]["metadata"]["resourceVersion"]) > int(
            evs[0]["object"]["metadata"]["resourceVersion"]) > int(rv)
    finally:
        w.close()


def test_watch_without_version_lists_first(api):
    a = unique("wb")
    api.post(NS + "/configmaps", cm(a, {"grp": a}))
    w = Watch(api.url, NS + "/configmaps?watch=true&labelSelector=grp%3D" + a, api.token)
    try:
        assert names([w.next()]) == [("ADDED", a)]
        api.post(NS + "/configmaps", cm(a + "-2", {"grp": a}))
        assert names([w.next()]) == [("ADDED", a + "-2")]
    finally:
        w.close()


def test_selector_enter_and_leave(api):
    a = unique("wc")
    api.post(NS + "/configmaps", cm(a, {"color": "blue"}))
    w = Watch(api.url, NS + "/configmaps?watch=1&labelSelector=color%3Dred&resourceVersion="
              + api.get(NS + "/configmaps?limit=1")[1]["metadata"]["resourceVersion"], api.token)
    try:
        api.patch(NS + "/configmaps/" + a, {"metadata": {"labels": {"color": "red"}}})
        ev = w.next()
        assert ev["type"] == "ADDED" and ev["object"]["metadata"]["labels"]["color"] == "red"
        api.patch(NS + "/configmaps/" + a, {"data": {"k": "v"}})
        assert w.next()["type"] == "MODIFIED"
        api.patch(NS + "/configmaps/" + a, {"metadata": {"labels": {"color": "green"}}})
        ev = w.next()
        # Leaving the selection is a DELETED with the last matching content.
        assert ev["type"] == "DELETED" and ev["object"]["metadata"]["labels"]["color"] == "red"
    finally:
        w.close()


def test_bookmarks_and_timeout(api):
    w = Watch(api.url, NS + "/configmaps?watch=1&allowWatchBookmarks=true&sendInitialEvents=true"
              "&resourceVersionMatch=NotOlderThan&timeoutSeconds=14", api.token)
    try:
        ev = w.until(lambda e: e["type"] == "BOOKMARK", timeout=10)
        assert ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
        ev = w.until(lambda e: e["type"] == "BOOKMARK", timeout=13)
        assert int(ev["object"]["metadata"]["resourceVersion"]) > 0
        assert ev["object"]["kind"] == "ConfigMap"
        assert w.ended.wait(10), "timeoutSeconds did not end the watch"
    finally:
        w.close()


def test_too_old_resource_version_is_expired(three):
    # Leases in kube-node-lease live in the leader's volatile tier, whose
    # revisions start past any durable one: revision 1 left its history.
    lead = three.leader()
    api = Api(lead, admin_token(lead))
    w = Watch(api.url, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
              "?watch=1&resourceVersion=1", api.token)
    try:
        ev = w.next()
        assert ev["type"] == "ERROR"
        st = ev["object"]
        assert st["code"] == 410 and st["reason"] == "Expired"
        assert st["message"].startswith("too old resource version: 1 (")
        assert w.ended.wait(10)
    finally:
        w.close()


def test_lease_watch_on_a_follower(three):
    f = follower(three)
    api = Api(f, admin_token(f))
    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
    name = unique("node")
    lease = {"metadata": {"name": name}, "spec": {"holderIdentity": name,
                                                  "leaseDurationSeconds": 40}}
    code, doc, _ = api.post(path, lease)
    assert code == 201, doc
    w = Watch(api.url, path + "?watch=1", api.token)
    try:
        assert w.status == 200
        assert w.until(lambda e: e["object"]["metadata"]["name"] == name)["type"] == "ADDED"
        code, doc, _ = api.patch(path + "/" + name,
                                 {"spec": {"renewTime": "2026-11-24T10:00:00.000000Z"}})
        assert code == 200, doc
        ev = w.until(lambda e: e["object"]["metadata"]["name"] == name)
        assert ev["type"] == "MODIFIED"
        assert ev["object"]["spec"]["renewTime"] == "2026-11-24T10:00:00.000000Z"
    finally:
        w.close()
    # Durable resources are watched on the follower itself, from any revision.
    code, doc, _ = api.post(NS + "/configmaps", cm(name))
    rv = str(int(doc["metadata"]["resourceVersion"]) - 1)
    w = Watch(api.url, NS + "/configmaps?watch=1&resourceVersion=" + rv, api.token)
    try:
        assert names([w.next()]) == [("ADDED", name)]
    finally:
        w.close()


def test_watch_of_one_object_and_client_going_away(api):
    a = unique("wd")
    api.post(NS + "/configmaps", cm(a))
    api.post(NS + "/configmaps", cm(a + "x"))
    # Many watchers that hang up at once must not disturb the server.
    ws = [Watch(api.url, NS + "/configmaps?watch=1", api.token) for _ in range(20)]
    for w in ws:
        w.close()
    w = Watch(api.url, "/api/v1/watch/namespaces/default/configmaps/" + a, api.token)
    try:
        assert names([w.next()]) == [("ADDED", a)]
        api.patch(NS + "/configmaps/" + a + "x", {"data": {"n": "1"}})
        api.patch(NS + "/configmaps/" + a, {"data": {"n": "2"}})
        assert names([w.next()]) == [("MODIFIED", a)]
    finally:
        w.close()
    assert api.get("/api/v1/namespaces")[0] == 200
