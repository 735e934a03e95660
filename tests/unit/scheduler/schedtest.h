/*
 * schedtest.h - helpers shared by the scheduler's unit tests: JSON written
 * with single quotes, and Nodes and Pods built the way the API serves them.
 */
#ifndef SCHEDTEST_H
#define SCHEDTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/sched_core.h"

#define ST_FN static __attribute__((unused))

/* JSON written with single quotes, for readability. */
ST_FN cJSON *J(const char *s)
{
    char *t = strdup(s);
    for (char *c = t; *c; c++)
        if (*c == '\'') *c = '"';
    cJSON *j = cJSON_Parse(t);
    if (!j) fail_msg("bad test JSON: %s", t);
    free(t);
    return j;
}

ST_FN cJSON *Jf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ST_FN cJSON *Jf(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return J(buf);
}

/* A Ready node with allocatable cpu, memory and pods; extra_spec and
 * extra_meta are JSON members added to spec / metadata ("" for none). */
ST_FN cJSON *node_json(const char *name, const char *cpu, const char *mem, int pods,
                       const char *extra_meta, const char *extra_spec)
{
    return Jf("{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s'%s%s},"
              "'spec':{%s},'status':{'allocatable':{'cpu':'%s','memory':'%s','pods':'%d'},"
              "'capacity':{'cpu':'%s','memory':'%s','pods':'%d'},"
              "'conditions':[{'type':'MemoryPressure','status':'False'},"
              "{'type':'Ready','status':'True','lastHeartbeatTime':'2026-01-01T00:00:00Z'}]}}",
              name, *extra_meta ? "," : "", extra_meta, extra_spec, cpu, mem, pods, cpu, mem, pods);
}

/* A pending pod with one container requesting cpu and memory (NULL: no
 * request); extra_spec is added to spec ("" for none). */
ST_FN cJSON *pod_json(const char *name, const char *cpu, const char *mem, const char *extra_spec)
{
    char req[256] = "";
    if (cpu || mem)
        snprintf(req, sizeof(req), "'resources':{'requests':{%s%s%s%s%s%s%s}}",
                 cpu ? "'cpu':'" : "", cpu ? cpu : "", cpu ? "'" : "", cpu && mem ? "," : "",
                 mem ? "'memory':'" : "", mem ? mem : "", mem ? "'" : "");
    return Jf("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'%s','namespace':'default',"
              "'uid':'uid-%s'},'spec':{'containers':[{'name':'c','image':'nginx'%s%s}]%s%s},"
              "'status':{'phase':'Pending'}}",
              name, name, *req ? "," : "", req, *extra_spec ? "," : "", extra_spec);
}

/* Sets the controller ownerReference of a pod JSON. */
ST_FN void set_owner(cJSON *pod, const char *uid)
{
    cJSON *meta = cJSON_GetObjectItem(pod, "metadata");
    cJSON *refs = cJSON_AddArrayToObject(meta, "ownerReferences");
    cJSON *r = Jf("{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'rs-%s','uid':'%s',"
                  "'controller':true}",
                  uid, uid);
    cJSON_AddItemToArray(refs, r);
}

ST_FN struct sc_pod parse_pod(const cJSON *j)
{
    struct sc_pod p;
    char err[256] = "";
    if (sc_pod_parse(j, &p, err, sizeof(err)) < 0) fail_msg("sc_pod_parse: %s", err);
    return p;
}

ST_FN void add_node(sc_cache_t *c, cJSON *node)
{
    char err[256] = "";
    if (sc_cache_set_node(c, node, err, sizeof(err)) < 0) fail_msg("set_node: %s", err);
    cJSON_Delete(node);
}

/* Places pod JSON on node in the cache (as the API would report it). */
ST_FN void place(sc_cache_t *c, cJSON *pod, const char *node)
{
    struct sc_pod p = parse_pod(pod);
    char key[256];
    snprintf(key, sizeof(key), "%s/%s", p.ns, p.name);
    assert_int_equal(sc_cache_add_pod(c, key, &p, node, false), 0);
    sc_pod_clear(&p);
    cJSON_Delete(pod);
}

/* Schedules pod JSON; returns the node name picked (static buffer) or the
 * message (prefixed "!"). With assume, places the pod where it went. */
ST_FN const char *decide(sc_cache_t *c, cJSON *pod, bool assume)
{
    static char out[1024];
    struct sc_pod p = parse_pod(pod);
    struct sc_result r;
    assert_int_equal(sc_schedule(c, &p, &r, NULL), 0);
    if (r.node) {
        snprintf(out, sizeof(out), "%s", r.node->name);
        if (assume) {
            char key[256];
            snprintf(key, sizeof(key), "%s/%s", p.ns, p.name);
            assert_int_equal(sc_cache_add_pod(c, key, &p, r.node->name, true), 0);
        }
    } else {
        snprintf(out, sizeof(out), "!%s", r.message);
    }
    sc_result_clear(&r);
    sc_pod_clear(&p);
    cJSON_Delete(pod);
    return out;
}

#endif /* SCHEDTEST_H */
