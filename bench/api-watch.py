#!/usr/bin/python3
"""bench/api-watch.py: watch fan-out through picokube's API, for bench/api-bench: WATCHERS
watch streams (GET .../configmaps?watch=1&resourceVersion=RV, chunked JSON lines) each must
receive every event of a stream of RATE ConfigMap creates per second for DURATION seconds;
prints the delivery latency of every (event, watcher) pair.

One process, one thread, one epoll loop (selectors) holds every socket: the watch streams
(spread round-robin over --watch-urls) and a few keep-alive connections that write (to
--write-url). All times come from the same monotonic clock, so no timestamp crosses a process:
each write's send and acknowledgement (201) times are kept by sequence number, each watcher's
receipt time of the event naming that sequence number is the time the epoll wait that reported
the bytes completing its JSON line returned (one time per wait, for writers and watchers alike,
so the order sockets are read in within a wait does not bias one against the other).

Two latencies per (event, watcher), both reported:
  ack:  receipt - the writer's receipt of the 201 (the brief's "write acknowledged vs
        receipt"; negative when the event reaches the watcher before the writer's answer);
  send: receipt - the time the write was sent (includes the raft commit of the write).

Fails loudly (exit 1): a non-2xx answer, a watch that ends or sends an ERROR event, an event
received twice by one watcher, or any event some watcher has not received DRAIN seconds after
the last write was acknowledged.

Usage:
  api-watch.py --watch-urls https://127.0.0.1:P1,https://127.0.0.1:P2 --write-url URL --token T
               [--cacert CA] [--watchers 1000] [--rate 100] [--duration 20] [--value-bytes 64]
               [--writers 32] [--drain 10] [--namespace apibench-watch]
Prints one line:
  WATCH_RESULT watchers=W writes=N deliveries=D seconds=S write_rate=R ack_p50_ms= ack_p99_ms=
    ack_max_ms= send_p50_ms= send_p99_ms= send_max_ms= commit_p50_ms= commit_p99_ms=
    late_sends=L cpu_pct=C
where late_sends counts writes sent more than 10 ms after their slot (no free writer
connection, or this loop was busy); when the server is slower than RATE the stream falls
behind and write_rate shows the rate held (the writes must all be sent within 3 * DURATION
+ 10 s); cpu_pct is this process's CPU time over the write
window (near 100: the receiver itself was the bottleneck and the latencies are pessimistic;
with https:// URLs it includes this side's TLS decryption of every event).
"""

import argparse
import json
import resource
import selectors
import ssl
import sys
import time
from array import array

import benchconn


class Fail(Exception):
    pass


CAFILE = ""  # --cacert: verifies https:// URLs when set


def split_url(url):
    """(host, port, SSL context or None) of an http:// or https:// URL."""
    scheme, host, port = benchconn.split_url(url, "api-watch")
    return host, port, benchconn.tls_context(scheme, CAFILE)


def call(url, token, method, path, obj=None, want=(200,)):
    host, port, ctx = split_url(url)
    conn = benchconn.http_connection(host, port, ctx, 30)
    try:
        headers = {"Authorization": "Bearer " + token}
        body = None
        if obj is not None:
            body = json.dumps(obj).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status not in want:
            raise Fail("%s %s: %d %s" % (method, path, resp.status, data[:300].decode("utf-8", "replace")))
        return json.loads(data)
    finally:
        conn.close()


def percentile(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(q / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


class Watcher:
    """One watch stream: HTTP response headers, then chunked transfer coding, then lines."""

    MARK = b'"name":"w-'

    def __init__(self, idx, sock, run):
        self.idx = idx
        self.sock = sock
        self.run = run
        self.buf = bytearray()
        self.headers_done = False
        self.need = -1  # payload bytes of the current chunk; -1: a size line comes next
        self.line = b""
        self.seen = bytearray(run.writes)

    def feed(self, data, t):
        buf = self.buf
        buf += data
        pos = 0
        if not self.headers_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > 65536:
                    raise Fail("watcher %d: no end of headers" % self.idx)
                return
            head = bytes(buf[:end]).decode("latin-1")
            status = head.split(" ", 2)[1] if " " in head else "?"
            if status != "200":
                raise Fail("watcher %d: answer %s: %s" % (self.idx, head.split("\r\n")[0], bytes(buf[end + 4 : end + 304])))
            if "transfer-encoding: chunked" not in head.lower():
                raise Fail("watcher %d: watch answer is not chunked: %r" % (self.idx, head))
            self.headers_done = True
            self.run.established += 1
            pos = end + 4
        n = len(buf)
        while True:
            if self.need < 0:
                e = buf.find(b"\r\n", pos)
                if e < 0:
                    break
                size = int(bytes(buf[pos:e]).split(b";")[0], 16)
                if size == 0:
                    raise Fail("watcher %d: the server ended the watch" % self.idx)
                self.need = size
                pos = e + 2
            if n - pos < self.need + 2:
                break
            payload = bytes(buf[pos : pos + self.need])
            pos += self.need + 2
            self.need = -1
            if self.line:
                payload = self.line + payload
            parts = payload.split(b"\n")
            self.line = parts.pop()
            for part in parts:
                if part:
                    self.event(part, t)
        del buf[:pos]

    def event(self, line, t):
        head = line[:40]
        if b'"ADDED"' in head:
            j = line.find(self.MARK)
            if j < 0:
                self.run.other_events += 1  # not one of ours (e.g. a controller's ConfigMap)
                return
            seq = int(line[j + 10 : j + 16])
            if seq >= len(self.seen):
                raise Fail("watcher %d: event for w-%06d, never written" % (self.idx, seq))
            if self.seen[seq]:
                raise Fail("watcher %d: event for w-%06d received twice" % (self.idx, seq))
            self.seen[seq] = 1
            self.run.recv[seq].append(t)
            self.run.deliveries += 1
        elif b'"ERROR"' in head:
            raise Fail("watcher %d: ERROR event: %s" % (self.idx, line[:300].decode("utf-8", "replace")))
        elif b'"BOOKMARK"' in head:
            return
        else:
            self.run.other_events += 1


class Writer:
    """One keep-alive connection creating ConfigMaps w-NNNNNN, one request at a time."""

    def __init__(self, sock, run):
        self.sock = sock
        self.run = run
        self.buf = bytearray()
        self.seq = -1  # the write in flight, -1 if idle

    def send(self, seq, t):
        r = self.run
        body = (
            '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w-%06d"},"data":{"v":"%s"}}'
            % (seq, r.value)
        ).encode()
        req = r.req_head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        if self.sock.send(req) != len(req):
            raise Fail("writer: short send on a fresh request")
        self.seq = seq
        r.send_t[seq] = t

    def feed(self, data, t):
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode("latin-1")
        length = None
        for h in head.split("\r\n")[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        if length is None:
            raise Fail("writer: answer without Content-Length: %r" % head)
        if len(self.buf) < end + 4 + length:
            return
        status = head.split(" ", 2)[1]
        body = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        if self.seq < 0:
            raise Fail("writer: answer with no request in flight")
        if status != "201":
            raise Fail("writer: POST w-%06d: %s %s" % (self.seq, status, body[:300].decode("utf-8", "replace")))
        self.run.ack_t[self.seq] = t
        self.run.acked += 1
        self.seq = -1


class Run:
    def __init__(self, args):
        self.args = args
        self.writes = int(round(args.rate * args.duration))
        self.recv = [array("d") for _ in range(self.writes)]
        self.send_t = array("d", [0.0]) * self.writes
        self.ack_t = array("d", [0.0]) * self.writes
        self.deliveries = 0
        self.other_events = 0
        self.established = 0
        self.acked = 0
        self.reconnects = 0
        self.value = ("0123456789abcdef" * (args.value_bytes // 16 + 1))[: args.value_bytes]
        host, port, _ = split_url(args.write_url)
        self.req_head = (
            "POST /api/v1/namespaces/%s/configmaps HTTP/1.1\r\nHost: %s:%d\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            % (args.namespace, host, port, args.token)
        ).encode()
        self.sel = selectors.DefaultSelector()
        # recv() of a large size allocates and frees that much per call; one reused buffer.
        self.rbuf = memoryview(bytearray(262144))

    def connect(self, url):
        host, port, ctx = split_url(url)
        return benchconn.open_socket(host, port, ctx, 10)

    def poll(self, timeout):
        ready = self.sel.select(timeout)
        # One time for the whole batch: the moment the kernel said the data was there, the same
        # for the writer's answers and the watchers' events, whatever order they are read in.
        t = time.monotonic()
        mv = self.rbuf
        for key, _ in ready:
            obj = key.data
            sock = obj.sock
            # A TLS socket hands out one record per read and keeps the rest decrypted inside,
            # where the selector cannot see it: read until nothing is pending.
            while True:
                try:
                    n = sock.recv_into(mv)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    break
                except ConnectionError as e:
                    raise Fail("%s: %r" % (type(obj).__name__, e))
                if not n:
                    if isinstance(obj, Writer) and obj.seq < 0 and not obj.buf:
                        self.reconnect(obj)  # an idle keep-alive connection the server timed out
                        break
                    raise Fail("%s: connection closed by the server" % type(obj).__name__)
                obj.feed(mv[:n], t)
                if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                    break

    def reconnect(self, w):
        self.sel.unregister(w.sock)
        w.sock.close()
        w.sock = self.connect(self.args.write_url)
        w.sock.setblocking(False)
        self.sel.register(w.sock, selectors.EVENT_READ, w)
        self.reconnects += 1

    def open_watchers(self, rv):
        a = self.args
        urls = a.watch_urls.split(",")
        path = (
            "/api/v1/namespaces/%s/configmaps?watch=1&resourceVersion=%s&timeoutSeconds=%d"
            % (a.namespace, rv, int(a.duration + a.drain + 300))
        )
        deadline = time.monotonic() + 60
        for i in range(a.watchers):
            url = urls[i % len(urls)]
            s = self.connect(url)
            s.sendall(
                (
                    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                    "Accept: application/json\r\n\r\n" % ((path,) + split_url(url)[:2] + (a.token,))
                ).encode()
            )
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, Watcher(i, s, self))
            # At most 100 streams waiting for their headers: no burst beyond a listen backlog.
            while i + 1 - self.established >= 100:
                if time.monotonic() > deadline:
                    raise Fail("only %d of %d watches answered within 60s" % (self.established, a.watchers))
                self.poll(0.5)
        while self.established < a.watchers:
            if time.monotonic() > deadline:
                raise Fail("only %d of %d watches answered within 60s" % (self.established, a.watchers))
            self.poll(0.5)

    def go(self):
        a = self.args
        call(a.write_url, a.token, "POST", "/api/v1/namespaces",
             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": a.namespace}}, want=(201,))
        rv = call(a.write_url, a.token, "GET", "/api/v1/namespaces/%s/configmaps" % a.namespace)["metadata"]["resourceVersion"]
        self.open_watchers(rv)
        writers = []
        for _ in range(a.writers):
            s = self.connect(a.write_url)
            s.setblocking(False)
            w = Writer(s, self)
            self.sel.register(s, selectors.EVENT_READ, w)
            writers.append(w)
        self.poll(0.2)  # anything the watches sent before the first write (bookmarks)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic() + 0.05
        interval = 1.0 / a.rate
        late = 0
        seq = 0
        while seq < self.writes:
            now = time.monotonic()
            due = t0 + seq * interval
            if now >= due:
                # Round robin over the free connections, so none sits idle long enough for
                # the server's keep-alive timeout.
                free = None
                for k in range(len(writers)):
                    w = writers[(seq + k) % len(writers)]
                    if w.seq < 0:
                        free = w
                        break
                if free is not None:
                    if now - due > 0.010:
                        late += 1
                    free.send(seq, now)
                    seq += 1
                    continue
                self.poll(0.005)
            else:
                self.poll(due - now)
            # Behind schedule is a finding (write_rate, late_sends), not an error; a stream that
            # cannot finish at all within a bound is one.
            if now - t0 > 3 * a.duration + 10:
                raise Fail("only %d of %d writes sent in %.0fs" % (seq, self.writes, now - t0))
        t_last = time.monotonic()
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        want = self.writes * a.watchers
        deadline = time.monotonic() + a.drain
        while (self.deliveries < want or self.acked < self.writes) and time.monotonic() < deadline:
            self.poll(0.1)
        if self.acked < self.writes:
            raise Fail("%d of %d writes not acknowledged %ss after the last" % (self.writes - self.acked, self.writes, a.drain))
        if self.deliveries < want:
            short = [(i, sum(1 for s in range(self.writes) if not k.data.seen[s]))
                     for i, k in enumerate(self.sel.get_map().values()) if isinstance(k.data, Watcher)]
            short = [x for x in short if x[1]]
            raise Fail("%d of %d deliveries missing %ss after the last write (%d watchers short, e.g. %r)"
                       % (want - self.deliveries, want, a.drain, len(short), short[:3]))
        secs = t_last - t0
        cpu = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / secs * 100
        ack, snd, commit = array("d"), array("d"), array("d")
        for i in range(self.writes):
            st, at = self.send_t[i], self.ack_t[i]
            commit.append(at - st)
            for t in self.recv[i]:
                ack.append(t - at)
                snd.append(t - st)
        ack, snd, commit = sorted(ack), sorted(snd), sorted(commit)
        ms = lambda v: v * 1000.0  # noqa: E731
        print(
            "WATCH_RESULT watchers=%d writes=%d deliveries=%d seconds=%.2f write_rate=%.1f "
            "ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f send_p50_ms=%.2f send_p99_ms=%.2f "
            "send_max_ms=%.2f commit_p50_ms=%.2f commit_p99_ms=%.2f late_sends=%d cpu_pct=%.0f"
            % (a.watchers, self.writes, self.deliveries, secs, self.writes / secs,
               ms(percentile(ack, 50)), ms(percentile(ack, 99)), ms(ack[-1]),
               ms(percentile(snd, 50)), ms(percentile(snd, 99)), ms(snd[-1]),
               ms(percentile(commit, 50)), ms(percentile(commit, 99)), late, cpu)
        )
        if self.reconnects:
            print("api-watch: note: %d idle writer connections closed by the server were reopened" % self.reconnects)
        if self.other_events:
            print("api-watch: note: %d events not from this run's writes were ignored" % self.other_events)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--watch-urls", required=True, help="comma-separated http[s]://HOST:PORT")
    p.add_argument("--write-url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--cacert", default="", help="CA file verifying https:// URLs")
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--value-bytes", type=int, default=64)
    p.add_argument("--writers", type=int, default=32)
    p.add_argument("--drain", type=float, default=10.0)
    p.add_argument("--namespace", default="apibench-watch")
    a = p.parse_args()
    global CAFILE
    CAFILE = a.cacert
    if not 1 <= a.watchers <= 10000 or not 0 < a.rate <= 5000 or not 0 < a.duration <= 600:
        raise SystemExit("api-watch: --watchers 1..10000, --rate 0..5000, --duration 0..600")
    if not 1 <= a.writers <= 64 or not 0 <= a.value_bytes <= 65536 or not 0 < a.drain <= 120:
        raise SystemExit("api-watch: --writers 1..64, --value-bytes 0..65536, --drain 0..120")
    if a.rate * a.duration >= 1000000:
        raise SystemExit("api-watch: at most 999,999 writes (names are w-NNNNNN)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = a.watchers + a.writers + 64
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise SystemExit("api-watch: open-file limit %d < %d needed" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    try:
        Run(a).go()
    except (Fail, OSError, ValueError, KeyError) as e:
        print("WATCH_FAIL %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
