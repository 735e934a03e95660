"""
Integration tests of the raftstore with three real members on loopback
(`picokube server` processes), driven through the store's internal endpoint.
"""
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
    m = Member(cluster.root, "intruder")
    args = [PICOKUBE, "server", "--data-dir", m.dir, "--bind-address", "127.0.0.1",
            "--https-listen-port", str(m.api_port), "--peer-port", str(m.peer_port),
            "--disable-agent", "--server", cluster.members[0].url, "--token", "wrong"]
    p = subprocess.run(args, capture_output=True, timeout=30)
    assert p.returncode != 0
    assert b"refused the join token" in p.stderr
    assert not os.path.exists(os.path.join(m.dir, "store.json"))
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
    assert http("POST", leader.url + "/internal/raftstore/kv" + key, body=b"{}",
                token=cluster.token)[0] == 201
    time.sleep(1)
    before = {m.name: (write_bytes(m.proc.pid), dir_state(m.dir)) for m in cluster.members}
    # Heartbeats: 5 nodes renewing every second for 5 seconds, through every member.
    for r in range(5):
        for n in range(5):
            m = cluster.members[(r + n) % 3]
            code = http("PUT", m.url + "/internal/raftstore/kv" + key, body=b'{"r":%d}' % r,
                        token=cluster.token)[0]
            assert code == 200
        time.sleep(1)
    code, body, _ = http("GET", cluster.members[1].url + "/internal/raftstore/kv" + key,
                         token=cluster.token)
    assert code == 200 and body == b'{"r":4}'
    for m in cluster.members:
        wb, files = before[m.name]
        assert dir_state(m.dir) == files, m.name
        assert write_bytes(m.proc.pid) - wb == 0, m.name
