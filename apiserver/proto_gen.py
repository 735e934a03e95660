#!/usr/bin/python3
"""
proto_gen.py - writes apiserver/proto_defs.c, the protobuf field tables that
proto.c uses to read Kubernetes' protobuf request bodies.

kubectl 1.32's typed clients (create deployment, create configmap, expose ...)
send bodies as application/vnd.kubernetes.protobuf, whatever the server's
discovery says. The field numbers are part of Kubernetes' wire API; the
Kubernetes client binaries carry them as compressed protobuf file descriptors
(the generated.proto of each API group). This script reads those descriptors
from the kubectl found on the machine and emits, for the messages reachable
from the kinds picokube serves, each field's JSON name, number and type.

Run again after adding a kind:  /usr/bin/python3 apiserver/proto_gen.py [KUBECTL]
"""
import re
import sys
import zlib

KUBECTL = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/kubectl"
OUT = __file__.rsplit("/", 1)[0] + "/proto_defs.c" if "/" in __file__ else "proto_defs.c"

ROOTS = [  # (apiVersion, kind, package)
    ("v1", "Pod", "k8s.io.api.core.v1"), ("v1", "Service", "k8s.io.api.core.v1"),
    ("v1", "Endpoints", "k8s.io.api.core.v1"), ("v1", "ConfigMap", "k8s.io.api.core.v1"),
    ("v1", "Secret", "k8s.io.api.core.v1"), ("v1", "Event", "k8s.io.api.core.v1"),
    ("v1", "Namespace", "k8s.io.api.core.v1"), ("v1", "Node", "k8s.io.api.core.v1"),
    ("v1", "ReplicationController", "k8s.io.api.core.v1"),
    ("v1", "ServiceAccount", "k8s.io.api.core.v1"), ("v1", "Binding", "k8s.io.api.core.v1"),
    ("apps/v1", "Deployment", "k8s.io.api.apps.v1"), ("apps/v1", "ReplicaSet", "k8s.io.api.apps.v1"),
    ("apps/v1", "DaemonSet", "k8s.io.api.apps.v1"),
    ("coordination.k8s.io/v1", "Lease", "k8s.io.api.coordination.v1"),
    ("discovery.k8s.io/v1", "EndpointSlice", "k8s.io.api.discovery.v1"),
    ("policy/v1", "Eviction", "k8s.io.api.policy.v1"),
    ("autoscaling/v1", "Scale", "k8s.io.api.autoscaling.v1"),
    ("v1", "DeleteOptions", "k8s.io.apimachinery.pkg.apis.meta.v1"),
    ("meta.k8s.io/v1", "DeleteOptions", "k8s.io.apimachinery.pkg.apis.meta.v1"),
]

META = ".k8s.io.apimachinery.pkg.apis.meta.v1."
SPECIAL = {  # messages with their own JSON form
    META + "Time": "PB_TIME", META + "MicroTime": "PB_MICROTIME",
    ".k8s.io.apimachinery.pkg.api.resource.Quantity": "PB_QUANTITY",
    ".k8s.io.apimachinery.pkg.util.intstr.IntOrString": "PB_INTORSTR",
    META + "FieldsV1": "PB_RAWJSON", ".k8s.io.apimachinery.pkg.runtime.RawExtension": "PB_RAWJSON",
    META + "Duration": "PB_DURATION",
}
# Go structs embedded with `json:",inline"`: their fields sit in the parent's JSON.
INLINE = {("Volume", "volumeSource"), ("Probe", "handler"),
          ("EphemeralContainer", "ephemeralContainerCommon"),
          ("PersistentVolumeSpec", "persistentVolumeSource")}
SCALAR = {1: "PB_DOUBLE", 2: "PB_FLOAT", 3: "PB_INT", 4: "PB_UINT", 5: "PB_INT", 8: "PB_BOOL",
          9: "PB_STRING", 12: "PB_BYTES", 13: "PB_UINT", 17: "PB_SINT", 18: "PB_SINT"}


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i)
        wt = k & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        else:
            raise ValueError("wire type %d" % wt)
        out.append((k >> 3, v))
    return out


def descriptors(path):
    data = open(path, "rb").read()
    for m in re.finditer(b"\x1f\x8b\x08\x00\x00\x00\x00\x00", data):
        try:
            out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[m.start():m.start() + 4000000])
        except zlib.error:
            continue
        if b"generated.proto" in out[:200]:
            yield out


def nonnull(opts):
    """(gogoproto.nullable) = false: a Go value, not a pointer; its zero means unset."""
    return any(f == 65001 and v == 0 for f, v in fields(opts))


def parse_msg(b, prefix, out):
    name, flds, nested, mapentry = None, [], [], False
    for fn, v in fields(b):
        if fn == 1:
            name = v.decode()
        elif fn == 2:
            flds.append(dict(fields(v)))
        elif fn == 3:
            nested.append(v)
        elif fn == 7:
            mapentry = any(f == 7 and x == 1 for f, x in fields(v))
    full = prefix + "." + name
    out[full] = ([(d[1].decode(), d[3], d[4], d[5], d.get(6, b"").decode(), nonnull(d.get(8, b"")))
                  for d in flds], mapentry)
    for n in nested:
        parse_msg(n, full, out)


def main():
    msgs = {}
    for d in descriptors(KUBECTL):
        top = fields(d)
        pkg = next(v.decode() for f, v in top if f == 2)
        for f, v in top:
            if f == 4:
                parse_msg(v, "." + pkg, msgs)
    order, index = [], {}

    def visit(full):
        if full in index or full in SPECIAL:
            return
        index[full] = len(order)
        order.append(full)
        for (_n, _num, _label, typ, ref, _nn) in msgs[full][0]:
            if typ == 11:
                visit(ref)

    for _gv, kind, pkg in ROOTS:
        visit("." + pkg + "." + kind)
    lines = []
    for full in order:
        flds, _ = msgs[full]
        short = full.rsplit(".", 1)[1]
        items = []
        for (name, num, label, typ, ref, nn) in sorted(flds, key=lambda f: f[1]):
            flags = []
            if nn and typ != 11 and label != 3:
                flags.append("PB_ZERO_UNSET")
            if label == 3:
                flags.append("PB_REP")
            if typ == 11 and ref in SPECIAL:
                kind, msg = SPECIAL[ref], -1
            elif typ == 11:
                kind, msg = "PB_MSG", index[ref]
                if msgs[ref][1]:
                    flags = ["PB_MAP"]
                if (short, name) in INLINE:
                    flags.append("PB_INLINE")
            else:
                kind, msg = SCALAR[typ], -1
            items.append('{"%s", %d, %s, %s, %d}' % (name, num, kind, "|".join(flags) or "0", msg))
        lines.append("static const struct pb_field f%d[] = {%s};  /* %s */"
                     % (index[full], ", ".join(items), full[1:]))
    table = ",\n".join('    {"%s", f%d, %d}' % (f.rsplit(".", 1)[1], index[f], len(msgs[f][0]))
                       for f in order)
    kinds = ",\n".join('    {"%s", "%s", %d}' % (gv, k, index["." + p + "." + k]) for gv, k, p in ROOTS)
    with open(OUT, "w") as f:
        f.write("/*\n * proto_defs.c - GENERATED by proto_gen.py from the protobuf descriptors in "
                "kubectl;\n * do not edit. Kubernetes' protobuf field numbers for the kinds "
                "picokube serves.\n */\n// clang-format off\n#include \"apiserver/proto_int.h\"\n\n")
        f.write("\n".join(lines))
        f.write("\n\nconst struct pb_msg pb_msgs[] = {\n%s,\n};\n" % table)
        f.write("const unsigned pb_n_msgs = %d;\n\n" % len(order))
        f.write("const struct pb_kind pb_kinds[] = {\n%s,\n    {0, 0, 0},\n};\n" % kinds)
        f.write("// clang-format on\n")
    print("wrote %s: %d messages" % (OUT, len(order)))


if __name__ == "__main__":
    main()
