"""
Integration tests of the raftstore with three real members on loopback
(`picokube server` processes), driven through the store's internal endpoint.
"""
import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from cluster import Cluster, Member, http, wait_for, PICOKUBE

VALUE = b"v" * 512


@pytest.fixture
def cluster():
    c = Cluster(3).start()
    yield c
    c.cleanup()


def test_writes_replicate_to_every_member(cluster):
    for i in range(60):
        m = cluster.members[i % 3]
        assert cluster.put(m, "/test/k%03d" % i, VALUE) == 201
    for m in cluster.members:
        for i in range(60):
            code, body = cluster.get(m, "/test/k%03d" % i)
            assert code == 200 and body == VALUE, (m.name, i, code)
    # A create of an existing key is refused and changes nothing.
    assert cluster.put(cluster.members[1], "/test/k000", b"other") == 409
    assert cluster.get(cluster.members[2], "/test/k000") == (200, VALUE)


def test_wrong_token_is_refused_and_nothing_joins(cluster):
    good_hash = cluster.token.split("::")[0]
    cases = [
        # The right CA but the wrong secret: the server refuses it.
        (good_hash + "::server:wrong", b"refused the join token"),
        # A token naming another CA: the joiner refuses the server before
        # sending anything secret.
        ("K10" + "0" * 64 + "::server:whatever", b"presents a different cluster CA"),
        ("wrong", b"not a picokube join token"),
    ]
    for i, (token, message) in enumerate(cases):
        m = Member(cluster.root, "intruder%d" % i)
        args = [PICOKUBE, "server", "--data-dir", m.dir, "--bind-address", "127.0.0.1",
                "--https-listen-port", str(m.api_port), "--peer-port", str(m.peer_port),
                "--disable-agent", "--server", cluster.members[0].url, "--token", token]
        p = subprocess.run(args, capture_output=True, timeout=30)
        assert p.returncode != 0
        assert message in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(m.dir, "store.json"))
        assert not os.path.exists(os.path.join(m.dir, "tls", "ca.key"))
    st = cluster.members[0].status(cluster.token)
    assert st["voters"] == 3 and len(st["members"]) == 3


def test_kill_leader_during_writes_loses_nothing_acknowledged(cluster):
    acked = []
    stop = threading.Event()

    def writer(wid):
        # Bounded: at most 400 writes per writer, and at most 40 s.
        deadline = time.monotonic() + 40
        for i in range(400):
            if stop.is_set() or time.monotonic() > deadline:
                return
            m = cluster.members[(wid + i) % 3]
            if not m.alive():
                continue
            key = "/test/w%d-%04d" % (wid, i)
            if cluster.put(m, key, VALUE, timeout=15) == 201:
                acked.append(key)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 200, 30, "200 acknowledged writes")
    old = cluster.leader()
    old.kill(signal.SIGKILL)
    new = cluster.leader(timeout=15)
    assert new is not old
    n_before = len(acked)
    wait_for(lambda: len(acked) >= n_before + 100, 30, "writes continuing under the new leader")
    stop.set()
    for t in threads:
        t.join(timeout=60)
    # The killed member restarts with the same command line and catches up.
    old.start()
    cluster.wait_voters(3)
    for m in cluster.members:
        for key in acked:
            code, body = cluster.get(m, key)
            assert code == 200 and body == VALUE, (m.name, key, code)


def test_member_down_across_snapshot_gets_it_installed():
    c = Cluster(3, extra=["--snapshot-threshold", "64"]).start()
    try:
        lagging = c.members[2]
        lagging.kill(signal.SIGKILL)
        live = c.members[0]
        for i in range(400):
            assert c.put(c.members[i % 2], "/test/s%04d" % i, VALUE) == 201
        lagging.start()
        c.wait_voters(3)
        for i in range(0, 400, 7):
            assert c.get(lagging, "/test/s%04d" % i) == (200, VALUE)
        wait_for(lambda: "snapshot installed" in lagging.log(), 10, "snapshot install logged")
        assert live.alive()
    finally:
        c.cleanup()


def test_stop_all_start_all_keeps_everything(cluster):
    for i in range(100):
        assert cluster.put(cluster.members[i % 3], "/test/r%03d" % i, VALUE) == 201
    for m in cluster.members:
        m.kill(signal.SIGKILL)
    for m in cluster.members:
        m.start(wait=False)
    for m in cluster.members:
        wait_for(m.ready, 30, "%s ready after restart" % m.name)
    for m in cluster.members:
        for i in range(100):
            got = cluster.get(m, "/test/r%03d" % i)
            assert got == (200, VALUE), (m.name, i, got, "\n".join(x.log() for x in cluster.members))


def write_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def dir_state(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            out[os.path.join(root, f)] = (st.st_size, st.st_mtime_ns)
    return out


def test_idle_cluster_with_volatile_heartbeats_writes_nothing(cluster):
    leader = cluster.leader()
    key = "/registry/leases/kube-node-lease/node-1"
    def lease(r):
        # A real Lease: the masters' controllers watch these.
        return json.dumps({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                           "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
                           "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 4,
                                    "renewTime": "2026-11-24T08:00:%02d.000000Z" % r}},
                          separators=(",", ":")).encode()
    assert http("POST", leader.url + "/internal/raftstore/kv" + key, body=lease(0),
                token=cluster.token)[0] == 201
    # Idle: the masters' own start-up writes (namespaces, the kubernetes
    # Endpoints listing every master, the controllers' first pass) are done
    # once the log stays put for 5 s.
    seen = []

    def settled():
        seen.append(leader.status(cluster.token)["applied"])
        return len(seen) >= 50 and len(set(seen[-50:])) == 1
    wait_for(settled, 60, "an idle cluster")
    time.sleep(1)
    before = {m.name: (write_bytes(m.proc.pid), dir_state(m.dir)) for m in cluster.members}
    # Heartbeats: 5 nodes renewing every second for 5 seconds, through every member.
    for r in range(5):
        for n in range(5):
            m = cluster.members[(r + n) % 3]
            code = http("PUT", m.url + "/internal/raftstore/kv" + key, body=lease(r + 1),
                        token=cluster.token)[0]
            assert code == 200
        time.sleep(1)
    code, body, _ = http("GET", cluster.members[1].url + "/internal/raftstore/kv" + key,
                         token=cluster.token)
    assert code == 200 and body == lease(5)
    for m in cluster.members:
        wb, files = before[m.name]
        assert dir_state(m.dir) == files, m.name
        assert write_bytes(m.proc.pid) - wb == 0, m.name


def admin_token(member):
    with open(os.path.join(member.dir, "admin.kubeconfig")) as f:
        for line in f:
            if line.strip().startswith("token:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no token in admin.kubeconfig")


def test_concurrent_joins_and_member_removal():
    c = Cluster(3)
    try:
        first = c.members[0].start()
        c.token = first.token
        # Two masters join at the same moment: joins are serialized and retried.
        for m in c.members[1:]:
            m.start(join=first.url, token=c.token, wait=False)
        for m in c.members[1:]:
            wait_for(m.ready, 30, "%s ready" % m.name)
        c.wait_voters(3)
        # A master that is gone for good is removed with a documented command.
        dead = c.members[2]
        dead_id = dead.status(c.token)["id"]
        dead.kill(signal.SIGKILL)
        p = subprocess.run([PICOKUBE, "member", "remove", dead_id, "--server", first.url,
                            "--token", c.token], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        c.members = c.members[:2]
        c.wait_voters(2)
        p = subprocess.run([PICOKUBE, "member", "list", "--server", first.url, "--token", c.token],
                           capture_output=True, timeout=30)
        assert p.returncode == 0 and dead_id.encode() not in p.stdout
        # Still a working majority of two.
        assert c.put(c.members[1], "/test/after-remove", VALUE) == 201
        # Removing an unknown member says so and changes nothing.
        p = subprocess.run([PICOKUBE, "member", "remove", "00000000000000ff", "--server",
                            first.url, "--token", c.token], capture_output=True, timeout=30)
        assert p.returncode != 0 and b"no such member" in p.stderr
    finally:
        c.cleanup()


def test_metrics_show_raft_state(cluster):
    leader = cluster.leader()
    code, body, _ = http("GET", leader.url + "/metrics", token=admin_token(leader))
    assert code == 200
    text = body.decode()
    assert "\npicokube_raft_is_leader 1\n" in "\n" + text
    assert "picokube_raft_term " in text and "picokube_raft_applied_index " in text
    assert "picokube_raft_commit_duration_seconds_bucket" in text
    follower = [m for m in cluster.members if m is not leader][0]
    code, body, _ = http("GET", follower.url + "/metrics", token=admin_token(follower))
    assert "\npicokube_raft_is_leader 0\n" in "\n" + body.decode()
    # Without a token, /metrics is refused.
    assert http("GET", leader.url + "/metrics")[0] == 401


def test_backup_and_restore(cluster):
    for i in range(50):
        assert cluster.put(cluster.members[i % 3], "/test/b%02d" % i, VALUE) == 201
    m = cluster.members[1]
    path = os.path.join(cluster.root, "backup.db")
    p = subprocess.run([PICOKUBE, "backup", "--kubeconfig", os.path.join(m.dir, "admin.kubeconfig"),
                        path], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open(path, "rb") as f:
        backup = f.read()
    assert len(backup) > 50 * 512
    # The join token is not the admin credential.
    assert http("GET", m.url + "/picokube/backup", token=cluster.token)[0] == 403
    fresh = Member(cluster.root, "restored", extra=["--restore", path]).start()
    try:
        tok = fresh.token
        for i in range(50):
            code, body, _ = http("GET", fresh.url + "/internal/raftstore/kv/test/b%02d" % i, token=tok)
            assert code == 200 and body == VALUE
        # A damaged backup is refused before anything is written.
        bad = os.path.join(cluster.root, "bad.db")
        with open(bad, "wb") as f:
            f.write(backup[:-10])
        other = Member(cluster.root, "bad", extra=["--restore", bad])
        p = subprocess.run([PICOKUBE, "server", "--cluster-init", "--data-dir", other.dir,
                            "--bind-address", "127.0.0.1", "--https-listen-port", str(other.api_port),
                            "--peer-port", str(other.peer_port), "--restore", bad],
                           capture_output=True, timeout=30)
        assert p.returncode != 0 and b"not a picokube backup" in p.stderr
        assert not os.path.exists(os.path.join(other.dir, "store.json"))
    finally:
        fresh.kill()
