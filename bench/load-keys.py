#!/usr/bin/python3
"""bench/load-keys.py: write exactly COUNT distinct keys with 512-byte values into etcd 3.4 or
picokube's raftstore, for the memory (RSS) part of bench/store-bench.

wrk runs for a time, not a count, so an exact number of keys comes from here: a few threads,
each with one keep-alive connection (http.client), each writing its share of the keys. Values
are distinct per key (base64 of random bytes from a fixed seed: printable, the same bytes for
both systems, and not something a store could shrink by sharing equal values). Any answer other
than 2xx, or a connection error, stops the load and exits 1: a memory figure for a store that
refused some writes would be worthless.

Usage:
  load-keys.py --system etcd|picokube --url http[s]://127.0.0.1:PORT [--token T]
               [--cacert CA] [--count 100000] [--connections 16] [--prefix rss] [--timeout 600]
Prints one line:
  LOAD_RESULT keys=N raw_bytes=B seconds=S rate=R
where raw_bytes counts each key's bytes plus its 512-byte value. picokube's API is
https:// (verified against --cacert, its <data-dir>/tls/ca.crt, when given); etcd's http://.
"""

import argparse
import base64
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

import benchconn

VALUE_BYTES = 512


def key_of(prefix, i):
    return "%s-%06d" % (prefix, i)


def value_of(i):
    # 384 random bytes are 512 base64 characters.
    return base64.b64encode(random.Random(i).randbytes(VALUE_BYTES * 3 // 4))


class Writer:
    def __init__(self, args):
        self.args = args
        scheme, self.host, self.port = benchconn.split_url(args.url, "load-keys")
        self.ctx = benchconn.tls_context(scheme, args.cacert)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failure = None
        self.done = 0
        self.raw_bytes = 0

    def request(self, i):
        key = key_of(self.args.prefix, i)
        value = value_of(i)
        if self.args.system == "etcd":
            body = json.dumps(
                {
                    "key": base64.b64encode(key.encode()).decode(),
                    "value": base64.b64encode(value).decode(),
                }
            ).encode()
            return "/v3/kv/put", body, {"Content-Type": "application/json"}, len(key) + len(value)
        headers = {
            "Authorization": "Bearer " + self.args.token,
            "Content-Type": "application/octet-stream",
        }
        path = "/internal/raftstore/kv/" + urllib.parse.quote(key, safe="")
        return path, value, headers, len(key) + len(value)

    def fail(self, msg):
        with self.lock:
            if self.failure is None:
                self.failure = msg
        self.stop.set()

    def run(self, first, step, deadline):
        conn = benchconn.http_connection(self.host, self.port, self.ctx, 30)
        n = raw = 0
        try:
            for i in range(first, self.args.count, step):
                if self.stop.is_set():
                    return
                if time.monotonic() > deadline:
                    self.fail("timed out after %ds" % self.args.timeout)
                    return
                path, body, headers, size = self.request(i)
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status < 200 or resp.status > 299:
                    self.fail(
                        "POST %s answered %d: %s" % (path, resp.status, data[:200].decode("utf-8", "replace"))
                    )
                    return
                n += 1
                raw += size
        except (OSError, http.client.HTTPException) as e:
            self.fail("connection error: %r" % (e,))
        finally:
            conn.close()
            with self.lock:
                self.done += n
                self.raw_bytes += raw


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", choices=("etcd", "picokube"), required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--cacert", default="", help="CA file verifying an https:// URL")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--prefix", default="rss")
    ap.add_argument("--timeout", type=int, default=600, help="seconds before giving up")
    args = ap.parse_args()
    if args.system == "picokube" and not args.token:
        raise SystemExit("load-keys: --token is required for picokube")
    if args.count < 1 or not 1 <= args.connections <= 256:
        raise SystemExit("load-keys: --count must be >= 1 and --connections in 1..256")

    w = Writer(args)
    start = time.monotonic()
    deadline = start + args.timeout
    threads = [
        threading.Thread(target=w.run, args=(t, args.connections, deadline), daemon=True)
        for t in range(args.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    if w.failure is not None or w.done != args.count:
        print(
            "LOAD_FAIL %s; wrote %d of %d keys" % (w.failure or "incomplete", w.done, args.count),
            file=sys.stderr,
        )
        return 1
    print("LOAD_RESULT keys=%d raw_bytes=%d seconds=%.1f rate=%.0f" % (w.done, w.raw_bytes, secs, w.done / secs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
