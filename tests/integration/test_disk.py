"""
Disk faults on one real member: a full disk, and a torn last log segment.
The full-disk test runs the member on a small tmpfs that the test mounts.
"""
import glob
import http.client as httpc
import os
import signal
import ssl
import struct
import subprocess
import tempfile

import pytest

from cluster import Member, http, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a tmpfs")


def writer(member, token):
    conn = httpc.HTTPSConnection("127.0.0.1", member.api_port, timeout=30,
                                 context=ssl._create_unverified_context())

    def put(key):
        conn.request("POST", "/internal/raftstore/kv" + key, body=os.urandom(256).hex().encode(),
                     headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        return r.status, r.read()
    return put


def segment_end(path):
    """Offset just after the last complete batch of a libraft open segment
    (format: u64 version, then batches of [crc32 hdr][crc32 data][u64 n]
    [n x (u64 term, u8 type, 3 pad, u32 len)][data, each padded to 8])."""
    with open(path, "rb") as f:
        data = f.read()
    off = 8
    while off + 16 <= len(data):
        n = struct.unpack_from("<Q", data, off + 8)[0]
        if n == 0 or n > 100000:
            break
        hdr = off + 16
        lens = [struct.unpack_from("<I", data, hdr + 16 * i + 12)[0] for i in range(n)]
        off = hdr + 16 * n + sum((ln + 7) // 8 * 8 for ln in lens)
    return off


def fill(path):
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass


@pytest.fixture
def small_disk():
    root = tempfile.mkdtemp(prefix="pk-disk-", dir="/var/tmp")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", root], check=True)
    yield root
    subprocess.run(["umount", "-l", root], check=False)
    os.rmdir(root)


def test_full_disk_fails_writes_cleanly_and_recovers(small_disk):
    m = Member(small_disk, "m1").start()
    put = writer(m, m.token)
    for i in range(50):
        assert put("/test/before-%d" % i)[0] == 201
    fill(os.path.join(small_disk, "filler"))
    # Bounded: the preallocated segments absorb some writes, then the disk is full.
    codes, body = {}, b""
    for i in range(20000):
        code, b = put("/test/full-%05d" % i)
        codes[code] = codes.get(code, 0) + 1
        if code != 201:
            body = b
            break
    assert codes.get(507) == 1, codes
    assert b"disk is full" in body
    # A failed write changes nothing, and reads still work.
    assert http("GET", m.url + "/internal/raftstore/kv/test/full-%05d" % i, token=m.token)[0] == 404
    assert http("GET", m.url + "/internal/raftstore/kv/test/before-7", token=m.token)[0] == 200
    os.unlink(os.path.join(small_disk, "filler"))
    for j in range(20):
        assert put("/test/after-%d" % j)[0] == 201
    # And what was acknowledged survives a kill -9 and a restart.
    m.kill(signal.SIGKILL)
    m.start()
    for key in ["/test/before-0", "/test/before-49", "/test/full-00000", "/test/after-19"]:
        assert http("GET", m.url + "/internal/raftstore/kv" + key, token=m.token)[0] == 200, key
    m.kill(signal.SIGKILL)


def test_torn_last_segment_is_repaired_on_start():
    root = tempfile.mkdtemp(prefix="pk-torn-", dir="/var/tmp")
    m = Member(root, "m1").start()
    put = writer(m, m.token)
    for i in range(300):
        assert put("/test/t%03d" % i)[0] == 201
    m.kill(signal.SIGKILL)
    # Power loss in the middle of a write: garbage after the last entries of
    # the open segment, where a torn batch would be.
    segs = [s for s in glob.glob(os.path.join(m.dir, "raft", "open-*")) if segment_end(s) > 8]
    assert len(segs) == 1
    end = segment_end(segs[0])
    with open(segs[0], "r+b") as f:
        f.seek(end)
        # A batch header claiming two entries, then a torn body.
        f.write(os.urandom(8) + struct.pack("<Q", 2) + os.urandom(200))
    m.start()
    for i in range(0, 300, 13):
        assert http("GET", m.url + "/internal/raftstore/kv/test/t%03d" % i, token=m.token)[0] == 200
    assert writer(m, m.token)("/test/after")[0] == 201
    assert "repairing the raft log" in m.log()
    m.kill(signal.SIGKILL)
