"""bench/benchconn.py: how the Python load tools of bench/ reach a server: http:// (etcd) or
https:// (picokube, whose API speaks HTTPS only), the same way in every tool.

An https:// URL is verified against --cacert when one is given (the cluster CA,
<data-dir>/tls/ca.crt); without one the connection is encrypted but not verified, as curl -k:
the tools measure a server they started themselves on 127.0.0.1, so a missing CA path must not
stop a run. The TLS work is part of what a real client pays, so it stays inside the timed path.
"""

import functools
import http.client
import socket
import ssl
import urllib.parse


def split_url(url, who):
    """(scheme, host, port) of an http://HOST:PORT or https://HOST:PORT URL, or exits naming who."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname or not u.port:
        raise SystemExit("%s: URLs must be http://HOST:PORT or https://HOST:PORT, got %r" % (who, url))
    return u.scheme, u.hostname, u.port


# One context per (scheme, CA): a tool opening a thousand connections loads the CA once.
@functools.lru_cache(maxsize=None)
def tls_context(scheme, cafile):
    """The SSL context for scheme: None for http, verifying against cafile, or unverified."""
    if scheme != "https":
        return None
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def http_connection(host, port, ctx, timeout):
    """A keep-alive http.client connection, over TLS when ctx is not None."""
    if ctx is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)


def open_socket(host, port, ctx, timeout):
    """A connected TCP socket with TCP_NODELAY, wrapped in TLS (handshake done) when ctx is set."""
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ctx is None:
        return s
    try:
        return ctx.wrap_socket(s, server_hostname=host)
    except BaseException:
        s.close()
        raise
