"""
The node agent with real runc, inside a network namespace the test makes
(the "node"): an image built here from busybox-static is imported into the
agent's store, and pods given as static pod manifests run on the node's
bridge. Then the same agent joins a real API server (test_api_*).

Everything the test creates is removed at the end: the node namespace, the
pods' namespaces, veths, mounts, runc containers (by their own ids), cgroups
(under a cgroup parent named for this run), and the processes it started
(by PID).
"""
import glob
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from cluster import BUILD, PICOKUBE, free_port, wait_for

RUNC = shutil.which("runc") or "/usr/sbin/runc"
BUSYBOX = "/bin/busybox"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(RUNC) or not os.path.exists(BUSYBOX),
    reason="needs root, runc and busybox-static")


def sh(*args, check=True, timeout=30):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args), r.returncode,
                                                     r.stdout.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


# ------------------------------------------------------------------ image

def _add(t, name, data=b"", mode=0o644, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.linkname = kind, mode, link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def _layer(fill):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        fill(t)
    return buf.getvalue()


def _base(t):
    for d, m in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("root", 0o700)):
        _add(t, d, mode=m, kind=tarfile.DIRTYPE)
    with open(BUSYBOX, "rb") as f:
        _add(t, "bin/busybox", f.read(), 0o755)
    applets = subprocess.check_output([BUSYBOX, "--list"]).decode().split()
    for a in applets:
        if a != "busybox":
            _add(t, "bin/" + a, kind=tarfile.SYMTYPE, link="busybox")
    _add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
    _add(t, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    _add(t, "etc/removed-by-layer2", b"should not be seen\n")


def _top(t):
    # A whiteout: the second layer deletes a file of the first.
    _add(t, "etc/.wh.removed-by-layer2")
    _add(t, "etc/added-by-layer2", b"layer two\n")


def build_image(path, tag):
    """A docker-archive (`docker save` layout) of two layers."""
    layers = [_layer(_base), _layer(_top)]
    ids = [hashlib.sha256(x).hexdigest() for x in layers]
    cfg = json.dumps({
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, "arm"),
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "FROM_IMAGE=yes"], "Cmd": ["sh"], "WorkingDir": "/root"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + i for i in ids]}}).encode()
    cid = hashlib.sha256(cfg).hexdigest()
    manifest = [{"Config": cid + ".json", "RepoTags": [tag],
                 "Layers": [i + "/layer.tar" for i in ids]}]
    with tarfile.open(path, "w") as t:
        _add(t, cid + ".json", cfg)
        for i, data in zip(ids, layers):
            _add(t, i + "/layer.tar", data)
        _add(t, "manifest.json", json.dumps(manifest).encode())


# ------------------------------------------------------------------- node

class Node:
    """A network namespace playing one node, with an agent in it."""

    def __init__(self, root, index):
        self.id = "%d%04d" % (index, random.randint(0, 9999))
        self.ns = "pkt-%s" % self.id
        self.root = root
        self.dir = os.path.join(root, "node%d" % index)
        self.manifests = os.path.join(self.dir, "manifests")
        self.ip = "10.99.%d.1" % (index + 10)
        self.cidr = "10.42.%d.0/24" % (index + 200)
        self.cgroup = "/pkt-%s" % self.id
        self.token = "test-token-%s" % self.id
        self.port = free_port()
        self.proc = None
        self.extra = []
        self.log_path = os.path.join(root, "agent%d.log" % index)
        os.makedirs(self.manifests)
        sh("ip", "netns", "add", self.ns)
        # A stand-in LAN card: a veth pair with both ends in the namespace.
        sh("ip", "-n", self.ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan0p")
        sh("ip", "-n", self.ns, "addr", "add", self.ip + "/24", "dev", "lan0")
        for dev in ("lo", "lan0", "lan0p"):
            sh("ip", "-n", self.ns, "link", "set", dev, "up")
        sh("ip", "-n", self.ns, "route", "add", "default", "via",
           "10.99.%d.254" % (index + 10), "dev", "lan0")

    def run(self, *args, check=True, timeout=30):
        return sh("nsenter", "--net=/run/netns/" + self.ns, *args, check=check, timeout=timeout)

    @property
    def name(self):
        return "node-" + self.id

    def start(self, extra=None):
        args = ["nsenter", "--net=/run/netns/" + self.ns, PICOKUBE, "agent",
                "--data-dir", self.dir, "--node-name", self.name, "--node-ip", self.ip,
                "--token", self.token, "--cgroup-parent", self.cgroup,
                "--kubelet-port", str(self.port), "--pod-manifests", self.manifests,
                "--pod-cidr", self.cidr] + list(extra or self.extra)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        wait_for(lambda: self.alive() and self.http("/healthz") == (200, "ok"), 20, "agent up")

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("agent exited with %s:\n%s" % (self.proc.returncode, self.log()))
        return True

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-5000:]
        except OSError:
            return ""

    def http(self, path, token=None, host=None, method="GET", body=None):
        """A request from inside the node: (HTTP status, body); status 0 when unreachable."""
        url = "http://%s:%d%s" % (self.ip, self.port, path) if not host else host + path
        code = ("import ssl, sys, urllib.request, urllib.error\n"
                "data = sys.argv[4].encode() if sys.argv[4] else None\n"
                "req = urllib.request.Request(sys.argv[1], data=data, method=sys.argv[3])\n"
                "if data: req.add_header('Content-Type', 'application/json')\n"
                "if sys.argv[2]: req.add_header('Authorization', 'Bearer ' + sys.argv[2])\n"
                "ctx = ssl._create_unverified_context() if sys.argv[1].startswith('https') else None\n"
                "try:\n"
                "    r = urllib.request.urlopen(req, timeout=10, context=ctx); s = r.status; b = r.read()\n"
                "except urllib.error.HTTPError as e:\n"
                "    s = e.code; b = e.read()\n"
                "except Exception as e:\n"
                "    s = 0; b = str(e).encode()\n"
                "sys.stdout.write('%d\\n' % s); sys.stdout.flush(); sys.stdout.buffer.write(b)\n")
        r = subprocess.run(["nsenter", "--net=/run/netns/" + self.ns, "/usr/bin/python3", "-c",
                            code, url, token or "", method,
                            json.dumps(body) if body is not None else ""],
                           stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        out = r.stdout.decode(errors="replace")
        status, _, body = out.partition("\n")
        return int(status or 0), body

    # pods -------------------------------------------------------------

    def put_pod(self, pod):
        name = pod["metadata"]["name"]
        tmp = os.path.join(self.manifests, "." + name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(pod, f)
        os.rename(tmp, os.path.join(self.manifests, name + ".json"))

    def delete_pod(self, name):
        os.unlink(os.path.join(self.manifests, name + ".json"))

    def pod(self, name):
        for p in glob.glob(os.path.join(self.dir, "agent/pods/*/status.json")):
            try:
                with open(p) as f:
                    doc = json.load(f)
            except (OSError, ValueError):
                continue
            if doc["metadata"]["name"] == name:
                return doc
        return None

    def container(self, pod, name):
        doc = self.pod(pod)
        for c in (doc or {}).get("status", {}).get("containerStatuses", []):
            if c["name"] == name:
                return c
        return None

    def wait_phase(self, name, phase, timeout=30):
        return wait_for(lambda: (self.pod(name) or {}).get("status", {}).get("phase") == phase
                        and self.pod(name), timeout, "pod %s %s\n%s" % (name, phase, self.log()))

    def logs(self, pod, container, query=""):
        code, body = self.http("/containerLogs/default/%s/%s%s" % (pod, container, query),
                               self.token)
        assert code == 200, (code, body)
        return body

    # cleanup ----------------------------------------------------------

    def cleanup(self):
        self.stop()
        agent = os.path.join(self.dir, "agent")
        uids = [os.path.basename(p) for p in glob.glob(os.path.join(agent, "pods/*"))]
        runc_root = os.path.join(agent, "runc")
        if os.path.isdir(runc_root):
            for cid in os.listdir(runc_root):
                sh(RUNC, "--root", runc_root, "delete", "--force", cid, check=False)
        with open("/proc/mounts") as f:
            mounts = [line.split()[1] for line in f if self.dir in line.split()[1]]
        for m in sorted(mounts, key=len, reverse=True):
            sh("umount", "-l", m, check=False)
        for uid in uids:
            if os.path.exists("/run/netns/pk-" + uid):
                sh("ip", "netns", "del", "pk-" + uid, check=False)
        sh("ip", "netns", "del", self.ns, check=False)
        for d in sorted(glob.glob("/sys/fs/cgroup/*%s" % self.cgroup) +
                        glob.glob("/sys/fs/cgroup/*%s/*" % self.cgroup) +
                        glob.glob("/sys/fs/cgroup/*/*%s/*/*" % self.cgroup) +
                        glob.glob("/sys/fs/cgroup/*/*%s/*" % self.cgroup) +
                        glob.glob("/sys/fs/cgroup/*%s/*/*" % self.cgroup) +
                        glob.glob("/sys/fs/cgroup/*/*%s" % self.cgroup), key=len, reverse=True):
            if os.path.isdir(d):
                try:
                    os.rmdir(d)
                except OSError:
                    pass


def leftovers(node):
    """What the agent should have removed once its pods are gone."""
    agent = os.path.join(node.dir, "agent")
    found = []
    with open("/proc/mounts") as f:
        found += ["mount " + line.split()[1] for line in f if node.dir in line.split()[1]]
    found += ["netns " + n for n in os.listdir("/run/netns")
              if n.startswith("pk-") and os.path.isdir(os.path.join(agent, "pods", n[3:]))]
    found += ["pod dir " + p for p in glob.glob(os.path.join(agent, "pods/*"))]
    found += ["ip " + p for p in glob.glob(os.path.join(agent, "ipam/*/1*"))]
    found += ["veth " + line for line in node.run("ip", "-o", "link").splitlines()
              if " pkv" in line]
    found += ["runc " + line for line in sh(RUNC, "--root", os.path.join(agent, "runc"), "list",
                                             "-q", check=False).split()]
    found += ["cgroup " + d for d in glob.glob("/sys/fs/cgroup/*%s/pod*" % node.cgroup) +
              glob.glob("/sys/fs/cgroup/*/*%s/pod*" % node.cgroup)]
    return found


@pytest.fixture(scope="module")
def node():
    root = tempfile.mkdtemp(prefix="pk-agent-", dir="/var/tmp")
    n = None
    try:
        n = Node(root, 1)
        archive = os.path.join(root, "busybox.tar")
        build_image(archive, "busybox:test")
        out = sh(PICOKUBE, "images", "import", archive, "--data-dir", n.dir)
        assert "docker.io/library/busybox:test" in out
        n.start()
        yield n
    finally:
        if n:
            n.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def pod(name, containers, policy="Always", **spec):
    for c in containers:
        c.setdefault("image", "busybox:test")
        c.setdefault("imagePullPolicy", "Never")
    s = {"containers": containers, "restartPolicy": policy, "terminationGracePeriodSeconds": 3}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"}, "spec": s}


# ------------------------------------------------------------------ tests

def test_images_ls(node):
    out = sh(PICOKUBE, "images", "ls", "--data-dir", node.dir)
    assert "docker.io/library/busybox:test" in out


def test_pod_network_localhost_limits_logs(node):
    node.put_pod(pod("web", [
        {"name": "server", "command": ["sh", "-c",
                                       "hostname; echo hello-from-server > /tmp/index.html; "
                                       "exec httpd -f -p 8080 -h /tmp"],
         "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}}},
        {"name": "client", "command": ["sh", "-c",
                                       "while true; do wget -q -O- http://127.0.0.1:8080/index.html;"
                                       " sleep 1; done"]},
    ]))
    doc = node.wait_phase("web", "Running")
    st = doc["status"]
    ip = st["podIP"]
    assert ip.startswith(node.cidr.rsplit(".", 1)[0] + "."), st
    assert st["hostIP"] == node.ip
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    wait_for(lambda: {c["type"]: c["status"] for c in node.pod("web")["status"]["conditions"]}
             .get("Ready") == "True", 20, "web Ready")
    assert conds["PodScheduled"] == "True" and conds["Initialized"] == "True"
    # The two containers share the pod's network: localhost reaches the server.
    wait_for(lambda: "hello-from-server" in node.logs("web", "client"), 20, "client output")
    # The hostname is the pod's name; /etc/hosts names it with its IP.
    assert node.logs("web", "server").splitlines()[0] == "web"
    # The node reaches the pod on the bridge.
    assert node.http("/index.html", host="http://%s:8080" % ip) == (200, "hello-from-server\n")
    # The memory limit is in the container's cgroup (v1 here, or v2).
    uid = doc["metadata"]["uid"]
    paths = glob.glob("/sys/fs/cgroup/memory%s/pod%s/server/memory.limit_in_bytes" %
                      (node.cgroup, uid)) + \
        glob.glob("/sys/fs/cgroup%s/pod%s/server/memory.max" % (node.cgroup, uid))
    assert paths, "no memory cgroup for the container"
    with open(paths[0]) as f:
        assert int(f.read()) == 64 * 1024 * 1024
    # Logs: tail, timestamps; the endpoint wants the token.
    tail = node.logs("web", "client", "?tailLines=1")
    assert tail.count("\n") == 1 and "hello-from-server" in tail
    ts = node.logs("web", "server", "?timestamps=true").splitlines()[0]
    assert ts.endswith(" web") and ts[:4].isdigit() and "T" in ts.split()[0]
    code, body = node.http("/containerLogs/default/web/server")
    assert code == 401, body
    code, body = node.http("/containerLogs/default/web/nosuch", node.token)
    assert code == 400 and "not valid for pod web" in body
    node.delete_pod("web")
    wait_for(lambda: node.pod("web") is None, 30, "web removed")


def test_image_layers_and_config(node):
    node.put_pod(pod("layers", [{"name": "c", "command": ["sh", "-c",
                                "ls /etc; pwd; echo FROM_IMAGE=$FROM_IMAGE; echo POD=$MY_POD"],
                                "env": [{"name": "MY_POD", "valueFrom":
                                         {"fieldRef": {"fieldPath": "metadata.name"}}}]}],
                     policy="Never"))
    node.wait_phase("layers", "Succeeded")
    out = node.logs("layers", "c")
    assert "added-by-layer2" in out and "removed-by-layer2" not in out
    assert "/root" in out  # the image's WorkingDir
    assert "FROM_IMAGE=yes" in out and "POD=layers" in out
    node.delete_pod("layers")
    wait_for(lambda: node.pod("layers") is None, 30, "layers removed")


def test_restart_policies_and_backoff(node):
    node.put_pod(pod("crash", [{"name": "c", "command": ["sh", "-c", "echo run; exit 1"]}]))
    node.put_pod(pod("once", [{"name": "c", "command": ["sh", "-c", "exit 0"]}],
                     policy="OnFailure"))
    node.put_pod(pod("fail", [{"name": "c", "command": ["sh", "-c", "exit 2"]}], policy="Never"))
    node.wait_phase("once", "Succeeded")
    assert node.container("once", "c")["restartCount"] == 0
    doc = node.wait_phase("fail", "Failed")
    term = doc["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 2 and term["reason"] == "Error"
    # Always: restarted, the first at once, then after the back-off.
    wait_for(lambda: (node.container("crash", "c") or {}).get("restartCount", 0) >= 1, 20,
             "first restart")
    waiting = wait_for(lambda: (node.container("crash", "c") or {}).get("state", {})
                       .get("waiting"), 20, "CrashLoopBackOff")
    assert waiting["reason"] == "CrashLoopBackOff" and "back-off 10s" in waiting["message"]
    c = node.container("crash", "c")
    assert c["lastState"]["terminated"]["exitCode"] == 1
    assert node.pod("crash")["status"]["phase"] == "Running"
    wait_for(lambda: node.container("crash", "c")["restartCount"] >= 2, 30, "second restart")
    # --previous shows the instance before.
    assert "run" in node.logs("crash", "c", "?previous=true")
    for name in ("crash", "once", "fail"):
        node.delete_pod(name)
    for name in ("crash", "once", "fail"):
        wait_for(lambda: node.pod(name) is None, 30, "%s removed" % name)


def test_bad_image_and_bad_command(node):
    node.put_pod(pod("noimage", [{"name": "c", "image": "nosuch:1"}]))
    node.put_pod(pod("nocmd", [{"name": "c", "command": ["/bin/does-not-exist"]}]))
    w = wait_for(lambda: (node.container("noimage", "c") or {}).get("state", {}).get("waiting"),
                 20, "noimage waiting")
    assert w["reason"] == "ErrImageNeverPull" and "nosuch:1" in w["message"]
    t = wait_for(lambda: (node.container("nocmd", "c") or {}).get("lastState", {})
                 .get("terminated") or (node.container("nocmd", "c") or {}).get("state", {})
                 .get("terminated"), 20, "nocmd failed to start")
    assert t["reason"] == "StartError" and "does-not-exist" in t["message"]
    node.delete_pod("noimage")
    node.delete_pod("nocmd")
    for name in ("noimage", "nocmd"):
        wait_for(lambda: node.pod(name) is None, 30, "%s removed" % name)


def test_agent_restart_keeps_containers(node):
    node.put_pod(pod("steady", [{"name": "c", "command": ["sh", "-c",
                                 "echo up; trap 'exit 0' TERM; while true; do sleep 1; done"]}]))
    node.wait_phase("steady", "Running")
    before = node.container("steady", "c")
    node.stop()
    node.start()
    time.sleep(2)
    after = wait_for(lambda: node.container("steady", "c"), 10, "status after restart")
    assert after["containerID"] == before["containerID"]
    assert after["restartCount"] == before["restartCount"] == 0
    assert "running" in after["state"]
    assert node.logs("steady", "c").startswith("up")
    # Graceful stop: SIGTERM is honoured well within the grace period.
    started = time.monotonic()
    node.delete_pod("steady")
    wait_for(lambda: node.pod("steady") is None, 30, "steady removed")
    assert time.monotonic() - started < 3 + 5


def test_probes(node):
    # Liveness: /tmp/alive goes away after 3 s; the exec probe then fails twice
    # and the container is restarted. Readiness: an httpGet on the pod's IP.
    node.put_pod(pod("probed", [{
        "name": "web",
        "command": ["sh", "-c", "touch /tmp/alive; echo ok > /tmp/ready; "
                    "(sleep 3; rm /tmp/alive) & exec httpd -f -p 8080 -h /tmp"],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1},
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/alive"]}, "periodSeconds": 1,
                          "failureThreshold": 2},
    }, {
        "name": "never-ready",
        "command": ["sh", "-c", "exec sleep 3600"],
        "readinessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1},
    }]))
    wait_for(lambda: (node.container("probed", "web") or {}).get("ready"), 20, "web ready")
    doc = node.pod("probed")
    conds = {c["type"]: c for c in doc["status"]["conditions"]}
    assert conds["Ready"]["status"] == "False"
    assert conds["ContainersReady"]["message"] == "containers with unready status: [never-ready]"
    c = wait_for(lambda: (node.container("probed", "web") or {}).get("restartCount", 0) >= 1
                 and node.container("probed", "web"), 30, "liveness restart\n" + node.log())
    assert c["lastState"]["terminated"]["exitCode"] in (137, 143)
    assert "Liveness probe failed" in node.log()
    node.delete_pod("probed")
    wait_for(lambda: node.pod("probed") is None, 30, "probed removed")


def test_oom_killed(node):
    node.put_pod(pod("hog", [{
        "name": "c", "resources": {"limits": {"memory": "32Mi"}},
        "command": ["sh", "-c", "echo start; x=$(head -c 300000000 /dev/zero | tr '\\0' a); "
                    "echo survived"]}], policy="Never"))
    doc = node.wait_phase("hog", "Failed", timeout=60)
    t = doc["status"]["containerStatuses"][0]["state"]["terminated"]
    assert t["reason"] == "OOMKilled" and t["exitCode"] == 137, t
    assert "survived" not in node.logs("hog", "c")
    node.delete_pod("hog")
    wait_for(lambda: node.pod("hog") is None, 30, "hog removed")


def test_shared_empty_dir(node):
    node.put_pod(pod("share", [
        {"name": "writer", "command": ["sh", "-c", "echo from-writer > /data/msg; exec sleep 3600"],
         "volumeMounts": [{"name": "scratch", "mountPath": "/data"}]},
        {"name": "reader", "command": ["sh", "-c", "while ! cat /shared/msg; do sleep 0.2; done; "
                                       "exec sleep 3600"],
         "volumeMounts": [{"name": "scratch", "mountPath": "/shared", "readOnly": True}]},
    ], volumes=[{"name": "scratch", "emptyDir": {}}]))
    wait_for(lambda: "from-writer" in node.logs("share", "reader"), 20, "reader saw the file")
    node.delete_pod("share")
    wait_for(lambda: node.pod("share") is None, 30, "share removed")


def test_init_containers_run_first(node):
    node.put_pod(pod("withinit", [
        {"name": "main", "command": ["sh", "-c", "cat /work/order; exec sleep 3600"],
         "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        volumes=[{"name": "work", "emptyDir": {}}],
        initContainers=[
            {"name": "first", "image": "busybox:test", "imagePullPolicy": "Never",
             "command": ["sh", "-c", "echo first >> /work/order"],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
            {"name": "second", "image": "busybox:test", "imagePullPolicy": "Never",
             "command": ["sh", "-c", "echo second >> /work/order"],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]}]))
    doc = node.wait_phase("withinit", "Running")
    inits = doc["status"]["initContainerStatuses"]
    assert [c["state"]["terminated"]["exitCode"] for c in inits] == [0, 0]
    assert {c["type"]: c["status"] for c in doc["status"]["conditions"]}["Initialized"] == "True"
    wait_for(lambda: node.logs("withinit", "main") == "first\nsecond\n", 20, "init order")
    node.delete_pod("withinit")
    wait_for(lambda: node.pod("withinit") is None, 30, "withinit removed")


def test_removal_leaves_nothing(node):
    wait_for(lambda: not leftovers(node), 30, "a clean node: %r" % leftovers(node))


# ------------------------------------------------------- with an API server

class Server:
    """`picokube server` inside a node's namespace, on the node's address."""

    def __init__(self, node, ip=None):
        self.node = node
        self.dir = os.path.join(node.root, "server")
        ip = ip or node.ip
        self.url = "https://%s:6443" % ip
        self.log_path = os.path.join(node.root, "server.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["nsenter", "--net=/run/netns/" + node.ns, PICOKUBE, "server", "--cluster-init",
             "--data-dir", self.dir, "--bind-address", ip, "--https-listen-port", "6443",
             "--peer-port", "6444", "--disable-agent"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        wait_for(lambda: self.proc.poll() is None and
                 os.path.exists(os.path.join(self.dir, "admin.kubeconfig")), 30, "server ready")
        with open(os.path.join(self.dir, "token")) as f:
            self.token = f.read().strip()
        with open(os.path.join(self.dir, "admin.kubeconfig")) as f:
            self.admin = f.read().split("token: ")[1].split()[0]

    def api(self, method, path, body=None):
        code, text = self.node.http(path, token=self.admin, host=self.url, method=method,
                                    body=body)
        try:
            return code, json.loads(text)
        except ValueError:
            return code, text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster():
    root = tempfile.mkdtemp(prefix="pk-agent-api-", dir="/var/tmp")
    n = srv = None
    try:
        n = Node(root, 2)
        n.port = 10250  # the API server relays pods/log to the kubelet's port
        srv = Server(n)
        archive = os.path.join(root, "busybox.tar")
        build_image(archive, "busybox:test")
        sh(PICOKUBE, "images", "import", archive, "--data-dir", n.dir)
        n.token = srv.token  # the log endpoint accepts the cluster token
        n.extra = ["--server", srv.url]
        n.start()
        yield n, srv
    finally:
        if n:
            n.stop()
        if srv:
            srv.stop()
        if n:
            n.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def api_pod(cluster, name):
    node, srv = cluster
    code, obj = srv.api("GET", "/api/v1/namespaces/default/pods/" + name)
    return obj if code == 200 else None


def test_api_node_and_lease(cluster):
    node, srv = cluster
    obj = wait_for(lambda: (lambda r: r[0] == 200 and r[1])(srv.api("GET", "/api/v1/nodes/" + node.name)),
                   20, "node registered")
    labels = obj["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == node.name
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"]
    st = obj["status"]
    assert {"type": "InternalIP", "address": node.ip} in st["addresses"]
    assert {"type": "Hostname", "address": node.name} in st["addresses"]
    assert st["capacity"]["pods"] == "110" and int(st["capacity"]["cpu"]) >= 1
    assert st["capacity"]["memory"].endswith("Ki")
    assert st["nodeInfo"]["containerRuntimeVersion"].startswith("runc://")
    assert st["nodeInfo"]["kubeletVersion"].startswith("v1.")
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    assert conds == {"Ready": "True", "MemoryPressure": "False", "DiskPressure": "False",
                     "PIDPressure": "False"}
    assert obj["spec"]["podCIDR"] == node.cidr
    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + node.name
    lease = wait_for(lambda: (lambda r: r[0] == 200 and r[1])(srv.api("GET", path)), 20, "lease")
    assert lease["spec"]["holderIdentity"] == node.name
    assert lease["spec"]["leaseDurationSeconds"] == 4
    first = lease["spec"]["renewTime"]
    # Renewed every quarter of its duration (1 s), inside the node
    # controller's 4 s grace period.
    wait_for(lambda: srv.api("GET", path)[1]["spec"]["renewTime"] != first, 5, "lease renewed")


def test_api_pod_status_logs_delete(cluster):
    node, srv = cluster
    pod_obj = pod("apihello", [{"name": "c", "command": [
        "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]}])
    pod_obj["spec"]["nodeName"] = node.name
    pod_obj["spec"]["terminationGracePeriodSeconds"] = 4
    code, body = srv.api("POST", "/api/v1/namespaces/default/pods", pod_obj)
    assert code == 201, body
    obj = wait_for(lambda: (api_pod(cluster, "apihello") or {}).get("status", {})
                   .get("phase") == "Running" and api_pod(cluster, "apihello"), 30,
                   "Running in the API\n" + node.log())
    st = obj["status"]
    assert st["podIP"].startswith(node.cidr.rsplit(".", 1)[0] + ".")
    assert st["hostIP"] == node.ip and st["startTime"]
    cs = st["containerStatuses"][0]
    assert cs["ready"] and cs["restartCount"] == 0 and "running" in cs["state"]
    assert cs["containerID"].startswith("runc://")
    # The pod's log, through the API server from the agent's endpoint.
    wait_for(lambda: "tick 3" in srv.api("GET", "/api/v1/namespaces/default/pods/apihello/log")[1],
             20, "log through the API server")
    code, text = srv.api("GET", "/api/v1/namespaces/default/pods/apihello/log?tailLines=2")
    assert code == 200 and text.count("\n") == 2 and text.startswith("tick"), text
    # Deletion: stopped within the grace period, then confirmed (the pod goes).
    started = time.monotonic()
    code, _ = srv.api("DELETE", "/api/v1/namespaces/default/pods/apihello")
    assert code == 200
    wait_for(lambda: api_pod(cluster, "apihello") is None, 30, "pod deleted\n" + node.log())
    assert time.monotonic() - started < 4 + 8
    wait_for(lambda: not leftovers(node), 30, "a clean node: %r" % leftovers(node))


def test_api_restart_count_reported(cluster):
    node, srv = cluster
    pod_obj = pod("apicrash", [{"name": "c", "command": ["sh", "-c", "echo once; exit 3"]}])
    pod_obj["spec"]["nodeName"] = node.name
    assert srv.api("POST", "/api/v1/namespaces/default/pods", pod_obj)[0] == 201
    cs = wait_for(lambda: ((api_pod(cluster, "apicrash") or {}).get("status", {})
                           .get("containerStatuses") or [{}])[0].get("restartCount", 0) >= 1
                  and api_pod(cluster, "apicrash")["status"]["containerStatuses"][0], 30,
                  "restart reported")
    last = wait_for(lambda: api_pod(cluster, "apicrash")["status"]["containerStatuses"][0]
                    .get("lastState", {}).get("terminated"), 20, "lastState")
    assert last["exitCode"] == 3
    assert cs["restartCount"] >= 1
    assert srv.api("DELETE", "/api/v1/namespaces/default/pods/apicrash")[0] == 200
    wait_for(lambda: api_pod(cluster, "apicrash") is None, 30, "apicrash deleted")


def test_api_orphans_removed_after_restart(cluster):
    """Pods gone from the API while the agent was down are stopped at its return."""
    node, srv = cluster
    pod_obj = pod("orphan", [{"name": "c", "command": ["sh", "-c", "exec sleep 3600"]}])
    pod_obj["spec"]["nodeName"] = node.name
    assert srv.api("POST", "/api/v1/namespaces/default/pods", pod_obj)[0] == 201
    wait_for(lambda: (api_pod(cluster, "orphan") or {}).get("status", {}).get("phase") == "Running",
             30, "orphan Running")
    uid = api_pod(cluster, "orphan")["metadata"]["uid"]
    node.stop()
    code, _ = srv.api("DELETE", "/api/v1/namespaces/default/pods/orphan?gracePeriodSeconds=0",
                      {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0})
    assert code == 200
    wait_for(lambda: api_pod(cluster, "orphan") is None, 10, "orphan gone from the API")
    assert os.path.isdir(os.path.join(node.dir, "agent/pods", uid))  # still running here
    node.start()
    wait_for(lambda: not os.path.isdir(os.path.join(node.dir, "agent/pods", uid)), 30,
             "orphan removed from the node\n" + node.log())
    wait_for(lambda: not leftovers(node), 30, "a clean node: %r" % leftovers(node))


# ------------------------------------------------------------ two nodes

@pytest.fixture(scope="module")
def two_nodes():
    """Two node namespaces on one wire (a veth pair), a server on the first."""
    root = tempfile.mkdtemp(prefix="pk-agent-2n-", dir="/var/tmp")
    a = b = srv = None
    try:
        a, b = Node(root, 3), Node(root, 4)
        net = random.randint(0, 250)
        sh("ip", "-n", a.ns, "link", "add", "wire0", "type", "veth", "peer", "name", "wire0",
           "netns", b.ns)
        for n, host in ((a, 1), (b, 2)):
            n.ip = "10.98.%d.%d" % (net, host)
            sh("ip", "-n", n.ns, "addr", "add", n.ip + "/24", "dev", "wire0")
            sh("ip", "-n", n.ns, "link", "set", "wire0", "up")
            n.port = 10250
        srv = Server(a, ip=a.ip)
        archive = os.path.join(root, "busybox.tar")
        build_image(archive, "busybox:test")
        for n in (a, b):
            sh(PICOKUBE, "images", "import", archive, "--data-dir", n.dir)
            n.token = srv.token
            n.extra = ["--server", srv.url]
            n.start()
        yield a, b, srv
    finally:
        for n in (a, b):
            if n:
                n.stop()
        if srv:
            srv.stop()
        for n in (a, b):
            if n:
                n.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def test_pods_on_two_nodes_reach_each_other(two_nodes):
    a, b, srv = two_nodes
    server = pod("there", [{"name": "web", "command": [
        "sh", "-c", "echo served-by-$(hostname) > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]}])
    server["spec"]["nodeName"] = a.name
    assert srv.api("POST", "/api/v1/namespaces/default/pods", server)[0] == 201
    cluster = (a, srv)
    ip = wait_for(lambda: (api_pod(cluster, "there") or {}).get("status", {}).get("podIP"), 30,
                  "server pod IP\n" + a.log())
    client = pod("here", [{"name": "c", "command": [
        "sh", "-c", "while true; do wget -q -O- http://%s:8080/index.html; sleep 0.5; done" % ip]}])
    client["spec"]["nodeName"] = b.name
    assert srv.api("POST", "/api/v1/namespaces/default/pods", client)[0] == 201
    # B routes A's pod CIDR via A's InternalIP (and A B's): pod to pod by IP.
    wait_for(lambda: "served-by-there" in srv.api(
        "GET", "/api/v1/namespaces/default/pods/here/log")[1], 40, "cross-node traffic\n" + b.log())
    routes = b.run("ip", "route", "show", "proto", "112")
    assert "%s via %s" % (a.cidr, a.ip) in routes, routes
    for name in ("here", "there"):
        assert srv.api("DELETE", "/api/v1/namespaces/default/pods/" + name)[0] == 200
    for name in ("here", "there"):
        wait_for(lambda: api_pod(cluster, name) is None, 30, "%s deleted" % name)
