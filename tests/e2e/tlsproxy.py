"""
tlsproxy.py - a loopback TLS front for a plain-HTTP picokube API, for e2e tests.

Why: client-go (kubectl, and any Go client) only sends a kubeconfig's bearer
token over https (clientcmd reads user credentials only when the transport is
TLS). While the API server itself speaks plain HTTP, the e2e tests put this
relay in front of it: it terminates TLS with a throw-away self-signed
certificate and copies bytes both ways, so requests, chunked watches and
keep-alive reach the server unchanged. Once the API server serves https
itself, kubeconfig() returns the server's own admin.kubeconfig untouched.

Usable standalone for manual checks:
    /usr/bin/python3 tlsproxy.py DATA_DIR     (prints the kubeconfig path)
"""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class TLSProxy:
    """Listens on 127.0.0.1:<free port> with TLS, relays to backend host:port."""

    def __init__(self, backend_url, workdir):
        u = urllib.parse.urlparse(backend_url)
        self.backend = (u.hostname, u.port)
        self.dir = workdir
        self.cert = os.path.join(workdir, "proxy.crt")
        self.key = os.path.join(workdir, "proxy.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, self.key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            t = self.ctx.wrap_socket(c, server_side=True)
            b = socket.create_connection(self.backend, timeout=10)
            b.settimeout(None)
        except OSError:
            c.close()
            return
        threading.Thread(target=_pipe, args=(b, t), daemon=True).start()
        _pipe(t, b)

    def stop(self):
        self.stopped = True
        self.sock.close()


def kubeconfig(data_dir, workdir=None):
    """Returns (path of a kubeconfig for kubectl, proxy or None)."""
    path = os.path.join(data_dir, "admin.kubeconfig")
    with open(path) as f:
        text = f.read()
    server = token = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("server:"):
            server = line.split(":", 1)[1].strip()
        if line.startswith("token:"):
            token = line.split(":", 1)[1].strip()
    if server.startswith("https://"):
        return path, None
    workdir = workdir or tempfile.mkdtemp(prefix="pk-tls-")
    proxy = TLSProxy(server, workdir)
    out = os.path.join(workdir, "kubeconfig")
    with open(out, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: picokube\n  cluster:\n"
                "    server: %s\n    insecure-skip-tls-verify: true\nusers:\n- name: admin\n"
                "  user:\n    token: %s\ncontexts:\n- name: picokube\n  context:\n"
                "    cluster: picokube\n    user: admin\ncurrent-context: picokube\n"
                % (proxy.url, token))
    return out, proxy


if __name__ == "__main__":
    p, prox = kubeconfig(sys.argv[1])
    print(p, flush=True)
    if prox:
        threading.Event().wait()
