#!/usr/bin/python3
"""bench/api-heartbeat.py: NODES node heartbeats against picokube's API, as kubelets send them,
for the disk part of bench/api-bench (bytes an idle master writes while nodes heartbeat).

Each node owns the Lease kube-node-lease/NAME (coordination.k8s.io/v1), created first with a
POST, then renewed every INTERVAL seconds with a PUT of the whole Lease carrying the
resourceVersion of the previous answer (an optimistic-concurrency update, as the kubelet's
lease controller does) and a new spec.renewTime. The nodes' renewals are spread evenly over
each interval. One thread, one keep-alive connection per node. Any answer other than 2xx, a
connection error, or a renewal more than one interval late stops the run and exits 1.

Usage:
  api-heartbeat.py --url https://127.0.0.1:PORT --token T [--cacert CA] [--nodes 5]
                   [--interval 1] [--duration 70] [--prefix bench-node]
Prints, when DURATION seconds have passed:
  HB_RESULT nodes=N renewals=R seconds=S late=L
where late counts renewals sent more than a quarter interval after their slot.
"""

import argparse
import datetime
import http.client
import json
import sys
import time

import benchconn

PATH = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


def micro_time():
    # metav1.MicroTime: RFC 3339 with microseconds, UTC.
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Node:
    def __init__(self, name, host, port, ctx, headers):
        self.name = name
        self.conn = benchconn.http_connection(host, port, ctx, 10)
        self.headers = headers
        self.lease = None

    def call(self, method, path, obj, want):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.conn.request(method, path, body=body, headers=self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status not in want:
            raise RuntimeError(
                "%s %s: %d %s" % (method, path, resp.status, data[:300].decode("utf-8", "replace"))
            )
        self.lease = json.loads(data)

    def create(self):
        obj = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": self.name,
                "leaseDurationSeconds": 40,
                "renewTime": micro_time(),
            },
        }
        self.call("POST", PATH, obj, (201,))

    def renew(self):
        obj = self.lease
        obj["spec"]["renewTime"] = micro_time()
        self.call("PUT", "%s/%s" % (PATH, self.name), obj, (200,))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--cacert", default="", help="CA file verifying an https:// URL")
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=70.0)
    p.add_argument("--prefix", default="bench-node")
    args = p.parse_args()
    if not 1 <= args.nodes <= 100 or not 0.05 <= args.interval <= 60:
        raise SystemExit("api-heartbeat: --nodes must be 1..100 and --interval 0.05..60")
    if not 0 < args.duration <= 3600:
        raise SystemExit("api-heartbeat: --duration must be 0..3600 seconds")
    scheme, host, port = benchconn.split_url(args.url, "api-heartbeat")
    ctx = benchconn.tls_context(scheme, args.cacert)
    headers = {"Authorization": "Bearer " + args.token, "Content-Type": "application/json"}
    nodes = [
        Node("%s-%d" % (args.prefix, k + 1), host, port, ctx, headers)
        for k in range(args.nodes)
    ]
    renewals = late = 0
    start = time.monotonic()
    try:
        for n in nodes:
            n.create()
        slot = args.interval / args.nodes
        due = start
        k = 0
        # One slot per renewal, node after node: each node renews once per interval.
        while True:
            due += slot
            now = time.monotonic()
            if due - start > args.duration:
                break
            if due > now:
                time.sleep(due - now)
            lag = time.monotonic() - due
            if lag > args.interval:
                raise RuntimeError("renewal %.2fs late: the server or this machine stalls" % lag)
            if lag > args.interval / 4:
                late += 1
            nodes[k].renew()
            renewals += 1
            k = (k + 1) % len(nodes)
    except (OSError, http.client.HTTPException, RuntimeError, ValueError) as e:
        print("HB_FAIL after %d renewals: %s" % (renewals, e), file=sys.stderr)
        return 1
    finally:
        for n in nodes:
            n.conn.close()
    print(
        "HB_RESULT nodes=%d renewals=%d seconds=%.1f late=%d"
        % (len(nodes), renewals, time.monotonic() - start, late)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
