"""
The service proxy against real kernels' tables, in network namespaces this
test creates (the host's own tables, routes and links are never touched):

    client ns  -- bridge "lan" 192.0.2.2/24 (TEST-NET-1)
      |- node  ns  192.0.2.1, bridge 10.42.0.1/24 with two pod namespaces
      |              pod-a 10.42.0.2, pod-b 10.42.0.3, each an HTTP server on :80
      |- node2 ns  192.0.2.3, no pods (a NodePort there crosses to node)

`picokube proxy` runs inside the node namespaces through nsenter --net, from
files (--services-file) or against a fake API server (list + watch) served
from a thread that entered the node namespace. Checked: ClusterIP balancing
(from the client, the node and a pod), NodePort on this and another node,
externalIP port 90 -> 80, localhost NodePort, REJECT without endpoints,
ClientIP affinity, readiness changes within a second, Service deletion,
rebuilding the same rules after a restart, others' rules left alone,
cleanup, and both iptables backends (nft and legacy).
Every process started here is recorded and only those are stopped.
"""
import ctypes
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces and iptables")

BUILD = os.environ.get("PICOKUBE_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
PICOKUBE = os.path.abspath(os.path.join(BUILD, "picokube"))
PY = "/usr/bin/python3"

# Runs inside a namespace: n HTTP GETs, a new connection each; prints counts.
CLIENT = r"""
import json, socket, sys, time
host, port, n, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
out = {}
worst = 0.0
for _ in range(n):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        s.settimeout(timeout)
        s.sendall(b"GET /who HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
        s.close()
        key = data.split(b"\r\n\r\n", 1)[-1].decode().strip() or "empty"
    except ConnectionRefusedError:
        key = "refused"
    except (socket.timeout, TimeoutError):
        key = "timeout"
    except OSError as e:
        key = "error:" + str(e.errno)
    worst = max(worst, time.monotonic() - t0)
    out[key] = out.get(key, 0) + 1
out["worst_s"] = worst
print(json.dumps(out))
"""


def run(*args, check=True, env=None, ns=None, timeout=60):
    cmd = list(args)
    if ns:
        cmd = ["nsenter", "--net=/run/netns/" + ns] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                       r.stderr))
    return r


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class Backend:
    """The iptables commands a proxy finds in PATH: the system's (nft) or
    legacy ones, put first in PATH through a folder of symlinks."""

    def __init__(self, name):
        self.name = name
        self.dir = None
        self.env = dict(os.environ)
        if name == "legacy":
            self.dir = tempfile.mkdtemp(prefix="pk-ipt-")
            for tool in ("iptables", "iptables-save", "iptables-restore"):
                os.symlink("/usr/sbin/xtables-legacy-multi", os.path.join(self.dir, tool))
            self.env["PATH"] = self.dir + ":" + self.env.get("PATH", "/usr/sbin:/usr/bin")

    def save(self, ns):
        return run("iptables-save", ns=ns, env=self.env).stdout

    def close(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def rules(text):
    """iptables-save output without comments and counters, for comparing."""
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith("#") and not line.startswith(":"))


class Net:
    def __init__(self, backend):
        self.b = backend
        tag = "pkpx%d" % (os.getpid() % 100000)
        self.ns = {k: "%s-%s" % (tag, k) for k in ("client", "node", "node2", "pa", "pb")}
        self.pids = []  # Popen objects started here
        self.root = tempfile.mkdtemp(prefix="pk-proxy-it-")
        self.made = []

    def ip(self, ns, *args):
        run("ip", "-n", self.ns[ns], *args)

    def setup(self):
        for n in self.ns.values():
            run("ip", "netns", "add", n)
            self.made.append(n)
            run("ip", "-n", n, "link", "set", "lo", "up")
        # The LAN: a bridge in the client namespace, node and node2 on it.
        self.ip("client", "link", "add", "lan", "type", "bridge")
        self.ip("client", "addr", "add", "192.0.2.2/24", "dev", "lan")
        self.ip("client", "link", "set", "lan", "up")
        for node, addr in (("node", "192.0.2.1/24"), ("node2", "192.0.2.3/24")):
            self.ip("client", "link", "add", "v" + node, "type", "veth", "peer", "name", "eth0",
                    "netns", self.ns[node])
            self.ip("client", "link", "set", "v" + node, "master", "lan", "up")
            self.ip(node, "addr", "add", addr, "dev", "eth0")
            self.ip(node, "link", "set", "eth0", "up")
            run("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=self.ns[node])
        # Clients reach service IPs through the node, as a LAN router would send them.
        self.ip("client", "route", "add", "10.43.0.0/16", "via", "192.0.2.1")
        self.ip("node2", "route", "add", "10.42.0.0/24", "via", "192.0.2.1")
        # Pods on the node's bridge.
        self.ip("node", "link", "add", "cbr0", "type", "bridge")
        self.ip("node", "addr", "add", "10.42.0.1/24", "dev", "cbr0")
        self.ip("node", "link", "set", "cbr0", "up")
        for pod, addr in (("pa", "10.42.0.2"), ("pb", "10.42.0.3")):
            self.ip("node", "link", "add", "v" + pod, "type", "veth", "peer", "name", "eth0",
                    "netns", self.ns[pod])
            self.ip("node", "link", "set", "v" + pod, "master", "cbr0", "up")
            # As the agent does for pod ports: with br_netfilter, a pod's
            # packet DNATed back to itself is bridged out its own port.
            self.ip("node", "link", "set", "dev", "v" + pod, "type", "bridge_slave", "hairpin", "on")
            self.ip(pod, "addr", "add", addr + "/24", "dev", "eth0")
            self.ip(pod, "link", "set", "eth0", "up")
            self.ip(pod, "route", "add", "default", "via", "10.42.0.1")
            d = os.path.join(self.root, pod)
            os.makedirs(d)
            with open(os.path.join(d, "who"), "w") as f:
                f.write("pod-a" if pod == "pa" else "pod-b")
            self.start([PY, "-m", "http.server", "80", "--bind", addr, "--directory", d],
                       ns=pod, log=os.path.join(self.root, pod + ".log"))
        for addr in ("10.42.0.2", "10.42.0.3"):
            wait_for(lambda: self.get("node", addr, 80, 1, 1).get("pod-a", 0) +
                     self.get("node", addr, 80, 1, 1).get("pod-b", 0), 10, "pod server " + addr)

    def start(self, argv, ns, log, env=None):
        f = open(log, "ab")
        p = subprocess.Popen(["nsenter", "--net=/run/netns/" + self.ns[ns]] + argv,
                             stdout=f, stderr=subprocess.STDOUT, env=env)
        f.close()
        self.pids.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)

    def get(self, ns, host, port, n, timeout=2.0):
        r = run(PY, "-c", CLIENT, host, str(port), str(n), str(timeout), ns=self.ns[ns],
                timeout=n * timeout + 30)
        return json.loads(r.stdout)

    def proxy(self, node, *args, check=True):
        return run(PICOKUBE, "proxy", "--node-name", node, *args, ns=self.ns[node],
                   env=self.b.env, check=check)

    def save(self, node="node"):
        return self.b.save(self.ns[node])

    def teardown(self):
        for p in self.pids:
            self.stop(p)
        for n in self.made:
            run("ip", "netns", "del", n, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(params=["nft", "legacy"])
def net(request):
    if not os.path.exists(PICOKUBE):
        pytest.skip("no picokube binary at %s" % PICOKUBE)
    b = Backend(request.param)
    n = Net(b)
    try:
        n.setup()
        yield n
    finally:
        n.teardown()
        b.close()


def svc(name, cip, ports, **spec):
    s = {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": name, "namespace": "default"},
         "spec": dict({"type": "ClusterIP", "clusterIP": cip, "ports": ports}, **spec)}
    return s


def eps(name, ready, port=80, not_ready=()):
    subset = {"ports": [{"port": port, "protocol": "TCP"}]}
    if ready:
        subset["addresses"] = [{"ip": ip, "nodeName": "node"} for ip in ready]
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": ip, "nodeName": "node"} for ip in not_ready]
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": "default"}, "subsets": [subset]}


PODS = ["10.42.0.2", "10.42.0.3"]
SERVICES = [
    svc("web", "10.43.0.10", [{"port": 80, "targetPort": 80, "nodePort": 30080}], type="NodePort"),
    svc("empty", "10.43.0.11", [{"port": 80, "nodePort": 30081}], type="NodePort"),
    svc("mijn-httpd", "10.43.0.12", [{"port": 90, "targetPort": 80}], externalIPs=["192.0.2.1"]),
    svc("sticky", "10.43.0.13", [{"port": 80}], sessionAffinity="ClientIP"),
]
ENDPOINTS = [eps("web", PODS), eps("mijn-httpd", PODS), eps("sticky", PODS)]


def write_objects(net, services, endpoints):
    sf, ef = os.path.join(net.root, "services.json"), os.path.join(net.root, "endpoints.json")
    with open(sf, "w") as f:
        json.dump({"kind": "ServiceList", "apiVersion": "v1", "items": services}, f)
    with open(ef, "w") as f:
        json.dump({"kind": "EndpointsList", "apiVersion": "v1", "items": endpoints}, f)
    return ["--services-file", sf, "--endpoints-file", ef]


def balanced(counts, n):
    """Both pods answered, each at least a quarter of n, nothing failed."""
    a, b = counts.get("pod-a", 0), counts.get("pod-b", 0)
    return a + b == n and a >= n // 4 and b >= n // 4


def test_services_from_files(net):
    # Someone else's rules, which the proxy must leave as they are.
    for ns in ("node",):
        run("iptables", "-t", "nat", "-N", "OTHER-CHAIN", ns=net.ns[ns], env=net.b.env)
        run("iptables", "-t", "nat", "-A", "OTHER-CHAIN", "-s", "198.51.100.7", "-j", "RETURN",
            ns=net.ns[ns], env=net.b.env)
        run("iptables", "-A", "INPUT", "-s", "198.51.100.8", "-j", "ACCEPT", ns=net.ns[ns],
            env=net.b.env)
    others = [line for line in rules(net.save()).splitlines() if "198.51.100" in line]
    assert len(others) == 2

    files = write_objects(net, SERVICES, ENDPOINTS)
    net.proxy("node", *files)
    net.proxy("node2", *files)
    saved = net.save()
    assert "PICOKUBE-SVC-" in saved and "-j PICOKUBE-SERVICES" in saved
    route = run("ip", "route", "show", "10.43.0.0/16", ns=net.ns["node"]).stdout
    assert "dev pk-svc" in route and "via" not in route, route

    # ClusterIP from another machine (masqueraded), from the node, from a pod.
    c = net.get("client", "10.43.0.10", 80, 200)
    assert balanced(c, 200), c
    c = net.get("node", "10.43.0.10", 80, 60)
    assert balanced(c, 60), c
    c = net.get("pa", "10.43.0.10", 80, 60)  # sometimes back to itself (hairpin)
    assert balanced(c, 60), c

    # NodePort on this node, on another node (crossing back here), on localhost.
    c = net.get("client", "192.0.2.1", 30080, 100)
    assert balanced(c, 100), c
    c = net.get("client", "192.0.2.3", 30080, 100)
    assert balanced(c, 100), c
    c = net.get("node", "127.0.0.1", 30080, 20)
    assert c.get("pod-a", 0) + c.get("pod-b", 0) == 20, c

    # kubectl expose ... --port=90 --target-port=80 --external-ip=<node ip>
    c = net.get("client", "192.0.2.1", 90, 100)
    assert balanced(c, 100), c

    # No endpoints: refused at once, from everywhere, rather than a hang.
    for ns, host, port in (("client", "10.43.0.11", 80), ("node", "10.43.0.11", 80),
                           ("pa", "10.43.0.11", 80), ("client", "192.0.2.1", 30081)):
        c = net.get(ns, host, port, 3, timeout=5.0)
        assert c.get("refused") == 3 and c["worst_s"] < 2.0, (ns, host, port, c)

    # ClientIP affinity: one client, one pod.
    c = net.get("client", "10.43.0.13", 80, 30)
    assert max(c.get("pod-a", 0), c.get("pod-b", 0)) == 30, c

    # The same input again gives the same rules; others' rules untouched.
    net.proxy("node", *files)
    assert rules(net.save()) == rules(saved)
    assert [line for line in rules(net.save()).splitlines() if "198.51.100" in line] == others

    # Cleanup removes everything made, and only that.
    net.proxy("node", "--cleanup-iptables")
    after = net.save()
    assert "PICOKUBE" not in after, after
    assert [line for line in rules(after).splitlines() if "198.51.100" in line] == others
    links = run("ip", "-o", "link", ns=net.ns["node"]).stdout
    assert "pk-svc" not in links
    net.proxy("node", "--cleanup-iptables")  # idempotent


def test_print_rules_touches_nothing(net):
    files = write_objects(net, SERVICES, ENDPOINTS)
    r = net.proxy("node", *files, "--print-rules")
    assert r.stdout.startswith("*nat\n") and r.stdout.count("COMMIT\n") == 2
    assert "PICOKUBE" not in net.save()


# --------------------------------------------------------- fake API server

CLONE_NEWNET = 0x40000000


class FakeAPI:
    """Serves list and watch of Services and Endpoints like the API server
    (resourceVersions, chunked watch streams), from a thread that entered
    the node's network namespace, so the proxy there reaches it on
    127.0.0.1 while the test changes the objects directly."""

    def __init__(self, netns):
        self.netns = netns
        self.cond = threading.Condition()
        self.rv = 1
        self.objs = {"services": {}, "endpoints": {}}
        self.events = []  # (rv, resource, type, obj)
        self.closing = False
        self.server = None
        self.ready = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), self.error
        assert self.server, self.error

    def _serve(self):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/run/netns/" + self.netns, os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            os.close(fd)
            api = self

            class H(BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"

                def log_message(self, *a):
                    pass

                def do_GET(self):
                    api._get(self)

            self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
            self.server.daemon_threads = True
            self.port = self.server.server_address[1]
        except Exception as e:  # noqa: BLE001 - reported by the constructor
            self.error = e
        finally:
            self.ready.set()
        if self.server:
            self.server.serve_forever(poll_interval=0.1)

    def put(self, resource, obj):
        with self.cond:
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.rv)
            key = obj["metadata"]["namespace"] + "/" + obj["metadata"]["name"]
            typ = "MODIFIED" if key in self.objs[resource] else "ADDED"
            self.objs[resource][key] = obj
            self.events.append((self.rv, resource, typ, obj))
            self.cond.notify_all()

    def delete(self, resource, name):
        with self.cond:
            obj = self.objs[resource].pop("default/" + name)
            self.rv += 1
            obj = dict(obj, metadata=dict(obj["metadata"], resourceVersion=str(self.rv)))
            self.events.append((self.rv, resource, "DELETED", obj))
            self.cond.notify_all()

    def _get(self, h):
        u = urllib.parse.urlparse(h.path)
        q = urllib.parse.parse_qs(u.query)
        resource = u.path.rsplit("/", 1)[-1]
        if u.path not in ("/api/v1/services", "/api/v1/endpoints"):
            body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "code": 404, "reason": "NotFound", "message": "not here"})
            h.send_response(404)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body.encode())
            return
        if q.get("watch", ["false"])[0] not in ("true", "1"):
            with self.cond:
                body = json.dumps({"kind": "List", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": str(self.rv)},
                                   "items": list(self.objs[resource].values())}).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        since = int(q.get("resourceVersion", ["0"])[0] or 0)
        deadline = time.monotonic() + min(int(q.get("timeoutSeconds", ["60"])[0]), 60)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            while time.monotonic() < deadline:
                with self.cond:
                    new = [e for e in self.events if e[0] > since and e[1] == resource]
                    if not new and not self.closing:
                        self.cond.wait(0.2)
                        continue
                    if self.closing:
                        break
                for rv, _, typ, obj in new:
                    line = (json.dumps({"type": typ, "object": obj}) + "\n").encode()
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    since = rv
                h.wfile.flush()
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def close(self):
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.mark.parametrize("net", ["nft"], indirect=True)
def test_watch_readiness_delete_restart(net):
    api = FakeAPI(net.ns["node"])
    try:
        for s in SERVICES:
            api.put("services", s)
        for e in ENDPOINTS:
            api.put("endpoints", e)
        argv = [PICOKUBE, "proxy", "--server", "http://127.0.0.1:%d" % api.port,
                "--node-name", "node", "--min-sync-period-ms", "100"]
        log = os.path.join(net.root, "proxy.log")
        p = net.start(argv, "node", log, env=net.b.env)
        wait_for(lambda: "10.42.0.3:80" in net.save(), 15, "the first sync")
        c = net.get("client", "10.43.0.10", 80, 200)
        assert balanced(c, 200), c

        # pod-b stops being ready: no more traffic within a second.
        t0 = time.monotonic()
        api.put("endpoints", eps("web", ["10.42.0.2"], not_ready=["10.42.0.3"]))

        def gone():
            s = net.save()
            return "default/web -> 10.42.0.3:80" not in s and "default/web -> 10.42.0.2:80" in s
        wait_for(gone, 5, "pod-b out of web's rules")
        took = time.monotonic() - t0
        assert took < 3.0, "readiness took %.2f s (goal 1 s)" % took
        c = net.get("client", "10.43.0.10", 80, 40)
        assert c.get("pod-a") == 40, c
        # mijn-httpd still balances across both: only web's chains changed.
        c = net.get("client", "192.0.2.1", 90, 60)
        assert balanced(c, 60), c

        # A new Service without endpoints is refused; endpoints make it work.
        api.put("services", svc("late", "10.43.0.20", [{"port": 80}]))
        wait_for(lambda: "default/late has no endpoints" in net.save(), 5, "late's REJECT")
        c = net.get("client", "10.43.0.20", 80, 2, timeout=5.0)
        assert c.get("refused") == 2 and c["worst_s"] < 2.0, c
        api.put("endpoints", eps("late", ["10.42.0.3"]))
        wait_for(lambda: "default/late cluster IP" in net.save(), 5, "late's rules")
        c = net.get("client", "10.43.0.20", 80, 10)
        assert c.get("pod-b") == 10, c

        # Deleting a Service removes its rules and chains.
        api.delete("services", "sticky")
        wait_for(lambda: "default/sticky" not in net.save(), 5, "sticky's rules gone")
        before = rules(net.save())
        chains = sorted(line for line in net.save().splitlines() if line.startswith(":PICOKUBE"))

        # A restart rebuilds the same rules; a change made while it was down
        # is picked up and its stale chains are deleted.
        net.stop(p)
        assert rules(net.save()) == before  # stopping leaves the rules in place
        p = net.start(argv, "node", log, env=net.b.env)
        time.sleep(1.0)
        wait_for(lambda: rules(net.save()) == before, 10, "the same rules after a restart")
        assert sorted(line for line in net.save().splitlines()
                      if line.startswith(":PICOKUBE")) == chains
        net.stop(p)
        api.delete("services", "late")
        p = net.start(argv, "node", log, env=net.b.env)
        wait_for(lambda: "default/late" not in net.save(), 10, "late gone after a restart")
        # Exactly the chains the current objects need: late's SEP went too.
        files = write_objects(net, list(api.objs["services"].values()),
                              list(api.objs["endpoints"].values()))
        want = net.proxy("node", *files, "--print-rules").stdout
        assert sorted(line.split()[0] for line in net.save().splitlines()
                      if line.startswith(":PICOKUBE")) == \
            sorted(line.split()[0] for line in want.splitlines() if line.startswith(":"))
        c = net.get("client", "10.43.0.10", 80, 20)
        assert c.get("pod-a") == 20, c
        net.stop(p)
    finally:
        api.close()
        net.proxy("node", "--cleanup-iptables", check=False)
    assert "PICOKUBE" not in net.save()
