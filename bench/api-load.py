#!/usr/bin/python3
"""bench/api-load.py: create exactly COUNT objects through picokube's API, for the memory part
of bench/api-bench (10,000 pods, then RSS) and for the objects other parts need first.

wrk runs for a time, not a count, so an exact number of objects comes from here: CONNECTIONS
threads, each with one keep-alive connection (http.client), each creating its share. Every
object is POSTed to the collection of its kind; any answer other than 201 or a connection
error stops the load and exits 1: a memory figure for a server that refused some objects
would be worthless.

Pods are realistic, about 1.5 KB of JSON as a Deployment's controller would send them: one
container with image, command, ports, env, resources, probes; labels and annotations; each
pod with its own name and instance label.

Usage:
  api-load.py --url https://127.0.0.1:PORT --token T [--cacert CA] --kind pod|configmap
              [--count 10000] [--connections 64] [--namespace default] [--prefix load]
              [--timeout 600]
Prints one line:
  LOAD_RESULT objects=N body_bytes=B seconds=S rate=R
where body_bytes is the mean size of the JSON bodies sent.
"""

import argparse
import http.client
import json
import sys
import threading
import time

import benchconn

COLLECTION = {
    "pod": "/api/v1/namespaces/%s/pods",
    "configmap": "/api/v1/namespaces/%s/configmaps",
}


def pod_body(name, i):
    # The shape a ReplicaSet controller creates from a typical Deployment template.
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/name": "shop-web",
                "app.kubernetes.io/instance": "shop-web-%05d" % i,
                "app.kubernetes.io/version": "1.4.2",
                "app.kubernetes.io/component": "frontend",
                "pod-template-hash": "7f9c6d8b5d",
            },
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9102",
                "kubectl.kubernetes.io/restartedAt": "2026-11-20T10:12:31Z",
            },
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "registry.example.com/shop/web:1.4.2",
                    "command": ["/app/web"],
                    "args": ["--port=8080", "--metrics-port=9102", "--log-level=info"],
                    "ports": [
                        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                        {"name": "metrics", "containerPort": 9102, "protocol": "TCP"},
                    ],
                    "env": [
                        {"name": "SHOP_ENV", "value": "production"},
                        {"name": "SHOP_DB_HOST", "value": "postgres.shop.svc.cluster.local"},
                        {"name": "SHOP_CACHE_URL", "value": "redis://redis.shop.svc:6379/0"},
                        {"name": "GOMAXPROCS", "value": "2"},
                    ],
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "128Mi"},
                        "limits": {"cpu": "1", "memory": "256Mi"},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz/ready", "port": 8080},
                        "periodSeconds": 10,
                    },
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz/live", "port": 8080},
                        "initialDelaySeconds": 15,
                        "periodSeconds": 20,
                    },
                    "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/shop"}],
                    "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
        },
    }


def configmap_body(name, i):
    # 512 printable bytes, different per object.
    v = ("%08d" % i) * 64
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": v}}


BODY = {"pod": pod_body, "configmap": configmap_body}


class Loader:
    def __init__(self, args):
        self.args = args
        scheme, self.host, self.port = benchconn.split_url(args.url, "api-load")
        self.ctx = benchconn.tls_context(scheme, args.cacert)
        self.path = COLLECTION[args.kind] % args.namespace
        self.headers = {
            "Authorization": "Bearer " + args.token,
            "Content-Type": "application/json",
        }
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failure = None
        self.done = 0
        self.body_bytes = 0

    def fail(self, msg):
        with self.lock:
            if self.failure is None:
                self.failure = msg
        self.stop.set()

    def run(self, first, step, deadline):
        conn = benchconn.http_connection(self.host, self.port, self.ctx, 30)
        done = nbytes = 0
        try:
            for i in range(first, self.args.count, step):
                if self.stop.is_set():
                    return
                if time.monotonic() > deadline:
                    self.fail("timed out after %ds" % self.args.timeout)
                    return
                name = "%s-%06d" % (self.args.prefix, i)
                body = json.dumps(BODY[self.args.kind](name, i), separators=(",", ":")).encode()
                conn.request("POST", self.path, body=body, headers=self.headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 201:
                    self.fail(
                        "POST %s %s: %d %s"
                        % (self.path, name, resp.status, data[:300].decode("utf-8", "replace"))
                    )
                    return
                done += 1
                nbytes += len(body)
        except (OSError, http.client.HTTPException) as e:
            self.fail("connection error: %r" % e)
        finally:
            conn.close()
            with self.lock:
                self.done += done
                self.body_bytes += nbytes


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--cacert", default="", help="CA file verifying an https:// URL")
    p.add_argument("--kind", choices=sorted(COLLECTION), required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--namespace", default="default")
    p.add_argument("--prefix", default="load")
    p.add_argument("--timeout", type=int, default=600)
    args = p.parse_args()
    if not 1 <= args.count <= 1000000 or not 1 <= args.connections <= 512:
        raise SystemExit("api-load: --count must be 1..1000000 and --connections 1..512")
    loader = Loader(args)
    n = min(args.connections, args.count)
    start = time.monotonic()
    deadline = start + args.timeout
    threads = [threading.Thread(target=loader.run, args=(k, n, deadline)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    if loader.failure is not None:
        print("LOAD_FAIL after %d objects: %s" % (loader.done, loader.failure), file=sys.stderr)
        return 1
    if loader.done != args.count:
        print("LOAD_FAIL created %d of %d objects" % (loader.done, args.count), file=sys.stderr)
        return 1
    print(
        "LOAD_RESULT objects=%d body_bytes=%d seconds=%.2f rate=%.1f"
        % (loader.done, loader.body_bytes // loader.done, secs, loader.done / secs)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
