/*
 * proto_int.h - Kubernetes protobuf bodies (private to apiserver/): the
 * field tables generated into proto_defs.c and the decoder of proto.c.
 */
#ifndef PICOKUBE_APISERVER_PROTO_INT_H
#define PICOKUBE_APISERVER_PROTO_INT_H

#include <stddef.h>

enum pb_kind_code {
    PB_STRING,
    PB_BYTES,
    PB_BOOL,
    PB_INT,
    PB_UINT,
    PB_SINT,
    PB_DOUBLE,
    PB_FLOAT,
    PB_MSG,
    PB_TIME,      /* metav1.Time: RFC 3339 with seconds */
    PB_MICROTIME, /* metav1.MicroTime: RFC 3339 with microseconds */
    PB_QUANTITY,  /* resource.Quantity: its string */
    PB_INTORSTR,  /* intstr.IntOrString: a number or a string */
    PB_RAWJSON,   /* runtime.RawExtension, metav1.FieldsV1: embedded JSON bytes */
    PB_DURATION,  /* metav1.Duration: Go's duration string */
};

/* PB_ZERO_UNSET: a Go value field (not a pointer): its zero value means unset
 * and is left out of the JSON, as Go's omitempty does. */
enum { PB_REP = 1, PB_MAP = 2, PB_INLINE = 4, PB_ZERO_UNSET = 8 };

struct pb_field {
    const char *name; /* the JSON name */
    unsigned num;
    enum pb_kind_code kind;
    unsigned flags;
    int msg; /* PB_MSG: index in pb_msgs (for PB_MAP: the entry message) */
};

struct pb_msg {
    const char *name;
    const struct pb_field *f;
    unsigned n;
};

struct pb_kind {
    const char *api_version;
    const char *kind;
    int msg;
};

extern const struct pb_msg pb_msgs[];
extern const unsigned pb_n_msgs;
extern const struct pb_kind pb_kinds[];

#endif /* PICOKUBE_APISERVER_PROTO_INT_H */
