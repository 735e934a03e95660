/*
 * test_smp.c - strategic merge patch: the behaviour Kubernetes documents in
 * "Update API Objects in Place Using kubectl patch" (containers merge by name,
 * new ones come first, tolerations are replaced), the patches kubectl apply
 * computes (with $setElementOrder, $patch: delete, $retainKeys,
 * $deleteFromPrimitiveList), the merge keys of the built-in kinds, and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

static cJSON *J(const char *s)
{
    char *t = strdup(s);
    for (char *c = t; *c; c++)
        if (*c == '\'') *c = '"';
    cJSON *j = cJSON_Parse(t);
    if (!j) fail_msg("bad test JSON: %s", s);
    free(t);
    return j;
}

/* Applies patch to doc for kind; want NULL means it must fail with an error
 * containing want_err. The inputs must never change. */
static void smp(const char *kind, const char *doc, const char *patch, const char *want,
                const char *want_err)
{
    cJSON *d = J(doc), *p = J(patch), *dc = cJSON_Duplicate(d, 1), *pc = cJSON_Duplicate(p, 1);
    char err[1024] = "";
    cJSON *out = api_smp_apply(d, p, kind, err, sizeof err);
    if (want) {
        if (!out) fail_msg("patch failed: %s", err);
        cJSON *w = J(want);
        if (!cJSON_Compare(out, w, 1))
            fail_msg("got  %s\nwant %s", cJSON_PrintUnformatted(out), cJSON_PrintUnformatted(w));
        cJSON_Delete(w);
    } else {
        if (out) fail_msg("patch should fail, got %s", cJSON_PrintUnformatted(out));
        if (!strstr(err, want_err)) fail_msg("error '%s' lacks '%s'", err, want_err);
    }
    assert_true(cJSON_Compare(d, dc, 1));
    assert_true(cJSON_Compare(p, pc, 1));
    cJSON_Delete(out);
    cJSON_Delete(d);
    cJSON_Delete(p);
    cJSON_Delete(dc);
    cJSON_Delete(pc);
}

#define DEPLOY(containers)                                                                         \
    "{'kind':'Deployment','metadata':{'name':'d','labels':{'app':'web'}},'spec':{'replicas':1,"    \
    "'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':" containers "}}}}"

static void test_kubectl_patch_docs(void **state)
{
    (void)state;
    /* a container changes in place; the others stay */
    smp("Deployment",
        DEPLOY("[{'name':'web','image':'nginx:1.0','ports':[{'containerPort':80}]},"
               "{'name':'side','image':'busybox'}]"),
        "{'spec':{'template':{'spec':{'containers':[{'name':'web','image':'nginx:1.1'}]}}}}",
        DEPLOY("[{'name':'web','image':'nginx:1.1','ports':[{'containerPort':80}]},"
               "{'name':'side','image':'busybox'}]"),
        NULL);
    /* the docs' example: the added container comes first */
    smp("Deployment", DEPLOY("[{'name':'patch-demo-ctr','image':'nginx'}]"),
        "{'spec':{'template':{'spec':{'containers':[{'name':'patch-demo-ctr-2','image':'redis'}]}}}"
        "}",
        DEPLOY("[{'name':'patch-demo-ctr-2','image':'redis'},{'name':'patch-demo-ctr','image':"
               "'nginx'}]"),
        NULL);
    /* tolerations have no merge key: the list is replaced */
    smp("Pod",
        "{'spec':{'tolerations':[{'effect':'NoSchedule','key':'dedicated','value':'test-team'}]}}",
        "{'spec':{'tolerations':[{'effect':'NoSchedule','key':'disktype','value':'ssd'}]}}",
        "{'spec':{'tolerations':[{'effect':'NoSchedule','key':'disktype','value':'ssd'}]}}", NULL);
    /* labels: null deletes, others merge */
    smp("ConfigMap", "{'metadata':{'labels':{'a':'1','b':'2'}},'data':{'x':'1'}}",
        "{'metadata':{'labels':{'a':null,'c':'3'}},'data':{'y':'2'}}",
        "{'metadata':{'labels':{'b':'2','c':'3'}},'data':{'x':'1','y':'2'}}", NULL);
}

static void test_kubectl_apply_three_way(void **state)
{
    (void)state;
    /* a container added to the manifest */
    smp("Deployment", DEPLOY("[{'name':'a','image':'x'}]"),
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'b'}],"
        "'containers':[{'name':'b','image':'redis'}]}}}}",
        DEPLOY("[{'name':'a','image':'x'},{'name':'b','image':'redis'}]"), NULL);
    /* a container removed from the manifest */
    smp("Deployment", DEPLOY("[{'name':'a','image':'x'},{'name':'b','image':'y'}]"),
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'a'}],"
        "'containers':[{'$patch':'delete','name':'b'}]}}}}",
        DEPLOY("[{'name':'a','image':'x'}]"), NULL);
    /* a field of a container removed from the manifest */
    smp("Deployment", DEPLOY("[{'name':'a','image':'x','ports':[{'containerPort':80}]}]"),
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'a'}],"
        "'containers':[{'name':'a','ports':null}]}}}}",
        DEPLOY("[{'name':'a','image':'x'}]"), NULL);
    /* the manifest's order changed */
    smp("Deployment", DEPLOY("[{'name':'a','image':'x'},{'name':'b','image':'y'}]"),
        "{'spec':{'template':{'spec':{'$setElementOrder/"
        "containers':[{'name':'b'},{'name':'a'}]}}}}",
        DEPLOY("[{'name':'b','image':'y'},{'name':'a','image':'x'}]"), NULL);
    /* image changed, env B removed, env C added, scaled, annotation updated */
    smp("Deployment",
        "{'metadata':{'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'old'}},"
        "'spec':{'replicas':1,'template':{'spec':{'containers':[{'name':'web','image':"
        "'nginx:1.25','env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]}]}}}}",
        "{'metadata':{'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'new'}},"
        "'spec':{'replicas':3,'template':{'spec':{'$setElementOrder/containers':[{'name':'web'}],"
        "'containers':[{'$setElementOrder/env':[{'name':'A'},{'name':'C'}],'env':[{'name':'C',"
        "'value':'3'},{'$patch':'delete','name':'B'}],'image':'nginx:1.26','name':'web'}]}}}}",
        "{'metadata':{'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'new'}},"
        "'spec':{'replicas':3,'template':{'spec':{'containers':[{'name':'web','image':"
        "'nginx:1.26','env':[{'name':'A','value':'1'},{'name':'C','value':'3'}]}]}}}}",
        NULL);
    /* a list the live object does not have yet: directive items vanish */
    smp("Pod", "{'spec':{}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'a'}],'containers':[{'name':'a',"
        "'image':'x','env':null},{'$patch':'delete','name':'zz'}]}}",
        "{'spec':{'containers':[{'name':'a','image':'x'}]}}", NULL);
    /* server-side items (not in the manifest) keep their place */
    smp("Pod", "{'spec':{'containers':[{'name':'a'},{'name':'injected'},{'name':'b'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'b'}],'containers':[{"
        "'name':'b','image':'new'}]}}",
        "{'spec':{'containers':[{'name':'a'},{'name':'injected'},{'name':'b','image':'new'}]}}",
        NULL);
}

static void test_merge_keys(void **state)
{
    (void)state;
    /* env merges by name, new entries after the ones they follow */
    smp("Pod",
        "{'spec':{'containers':[{'name':'c','env':[{'name':'A','value':'1'},{'name':'B',"
        "'value':'2'}]}]}}",
        "{'spec':{'containers':[{'name':'c','env':[{'name':'B','value':'3'},{'name':'C',"
        "'value':'4'}]}]}}",
        "{'spec':{'containers':[{'name':'c','env':[{'name':'A','value':'1'},{'name':'B',"
        "'value':'3'},{'name':'C','value':'4'}]}]}}",
        NULL);
    /* volumeMounts by mountPath, container ports by containerPort */
    smp("Pod",
        "{'spec':{'containers':[{'name':'c','volumeMounts':[{'mountPath':'/a','name':'v1'}],"
        "'ports':[{'containerPort':80,'name':'http'}]}]}}",
        "{'spec':{'containers':[{'name':'c','volumeMounts':[{'mountPath':'/a','name':'v2'}],"
        "'ports':[{'containerPort':80,'protocol':'TCP'}]}]}}",
        "{'spec':{'containers':[{'name':'c','volumeMounts':[{'mountPath':'/a','name':'v2'}],"
        "'ports':[{'containerPort':80,'name':'http','protocol':'TCP'}]}]}}",
        NULL);
    /* Service ports by port; deleting one by its number */
    smp("Service", "{'spec':{'ports':[{'port':80,'targetPort':8080,'name':'http'},{'port':81}]}}",
        "{'spec':{'ports':[{'port':80,'targetPort':9090},{'port':443,'name':'https'},"
        "{'$patch':'delete','port':81}]}}",
        "{'spec':{'ports':[{'port':80,'targetPort':9090,'name':'http'},{'port':443,'name':"
        "'https'}]}}",
        NULL);
    /* pod conditions by type */
    smp("Pod",
        "{'status':{'conditions':[{'type':'Ready','status':'False'},{'type':'PodScheduled',"
        "'status':'True'}]}}",
        "{'status':{'conditions':[{'type':'Ready','status':'True'}]}}",
        "{'status':{'conditions':[{'type':'Ready','status':'True'},{'type':'PodScheduled',"
        "'status':'True'}]}}",
        NULL);
    /* node: addresses by type, taints replaced, podCIDRs merged as a set */
    smp("Node",
        "{'spec':{'taints':[{'key':'a','effect':'NoSchedule'}],'podCIDRs':['10.42.0.0/24']},"
        "'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.1'},{'type':'Hostname',"
        "'address':'n1'}]}}",
        "{'spec':{'taints':[{'key':'b','effect':'NoExecute'}],'podCIDRs':['10.42.0.0/24',"
        "'fd00::/64']},'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.2'}]}}",
        "{'spec':{'taints':[{'key':'b','effect':'NoExecute'}],'podCIDRs':['10.42.0.0/24',"
        "'fd00::/64']},'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.2'},"
        "{'type':'Hostname','address':'n1'}]}}",
        NULL);
    /* ownerReferences by uid */
    smp("ReplicaSet", "{'metadata':{'ownerReferences':[{'uid':'u1','name':'a'}]}}",
        "{'metadata':{'ownerReferences':[{'uid':'u1','controller':true}]}}",
        "{'metadata':{'ownerReferences':[{'uid':'u1','name':'a','controller':true}]}}", NULL);
    /* endpoints subsets have no merge key */
    smp("Endpoints", "{'subsets':[{'addresses':[{'ip':'10.42.0.1'}]}]}",
        "{'subsets':[{'addresses':[{'ip':'10.42.0.2'}]}]}",
        "{'subsets':[{'addresses':[{'ip':'10.42.0.2'}]}]}", NULL);
    /* imagePullSecrets and volumes by name inside a Deployment's template */
    smp("Deployment",
        "{'spec':{'template':{'spec':{'imagePullSecrets':[{'name':'a'}],'volumes':[{'name':'v',"
        "'emptyDir':{}}]}}}}",
        "{'spec':{'template':{'spec':{'imagePullSecrets':[{'name':'b'}],'volumes':[{'name':'v',"
        "'emptyDir':{'medium':'Memory'}}]}}}}",
        "{'spec':{'template':{'spec':{'imagePullSecrets':[{'name':'b'},{'name':'a'}],'volumes':"
        "[{'name':'v','emptyDir':{'medium':'Memory'}}]}}}}",
        NULL);
}

static void test_finalizers(void **state)
{
    (void)state;
    smp("ConfigMap", "{'metadata':{'finalizers':['a','b']}}", "{'metadata':{'finalizers':['c']}}",
        "{'metadata':{'finalizers':['c','a','b']}}", NULL);
    smp("ConfigMap", "{'metadata':{'finalizers':['a','b']}}",
        "{'metadata':{'$deleteFromPrimitiveList/finalizers':['a']}}",
        "{'metadata':{'finalizers':['b']}}", NULL);
    smp("ConfigMap", "{'metadata':{'finalizers':['a','b']}}",
        "{'metadata':{'$setElementOrder/finalizers':['b','c'],'$deleteFromPrimitiveList/"
        "finalizers':['a'],'finalizers':['c']}}",
        "{'metadata':{'finalizers':['b','c']}}", NULL);
    smp("ConfigMap", "{'metadata':{'finalizers':['a','b']}}",
        "{'metadata':{'finalizers':['b','a','b']}}", "{'metadata':{'finalizers':['b','a']}}", NULL);
    /* deleting from a list that is not there is fine */
    smp("ConfigMap", "{'metadata':{}}",
        "{'metadata':{'$deleteFromPrimitiveList/finalizers':['a']}}", "{'metadata':{}}", NULL);
}

static void test_directives(void **state)
{
    (void)state;
    /* $retainKeys: a Deployment strategy switched to Recreate */
    smp("Deployment",
        "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}}}}",
        "{'spec':{'strategy':{'$retainKeys':['type'],'rollingUpdate':null,'type':'Recreate'}}}",
        "{'spec':{'strategy':{'type':'Recreate'}}}", NULL);
    /* $retainKeys on a volume changing its source */
    smp("Pod", "{'spec':{'volumes':[{'name':'v','emptyDir':{}}]}}",
        "{'spec':{'volumes':[{'$retainKeys':['configMap','name'],'configMap':{'name':'cm'},"
        "'name':'v'}]}}",
        "{'spec':{'volumes':[{'name':'v','configMap':{'name':'cm'}}]}}", NULL);
    smp("Pod", "{'spec':{'volumes':[{'name':'v','emptyDir':{}}]}}",
        "{'spec':{'volumes':[{'$retainKeys':['name'],'configMap':{'name':'cm'},'name':'v'}]}}",
        NULL, "invalid patch format of retainKeys");
    /* $patch: replace on a list and on a map, $patch: delete on a map */
    smp("Pod", "{'spec':{'containers':[{'name':'a'},{'name':'b'}]}}",
        "{'spec':{'containers':[{'name':'c'},{'$patch':'replace'}]}}",
        "{'spec':{'containers':[{'name':'c'}]}}", NULL);
    smp("Pod", "{'spec':{'nodeSelector':{'a':'1','b':'2'}}}",
        "{'spec':{'nodeSelector':{'$patch':'replace','c':'3'}}}",
        "{'spec':{'nodeSelector':{'c':'3'}}}", NULL);
    smp("Pod", "{'metadata':{'labels':{'a':'1'}}}", "{'metadata':{'labels':{'$patch':'delete'}}}",
        "{'metadata':{'labels':{}}}", NULL);
    smp("Pod", "{'metadata':{'labels':{'a':'1'}}}",
        "{'metadata':{'labels':{'$patch':'merge','b':'2'}}}",
        "{'metadata':{'labels':{'a':'1','b':'2'}}}", NULL);
}

static void test_unknown_kind(void **state)
{
    (void)state;
    /* custom resources: maps merge, lists are replaced whole */
    assert_false(api_smp_kind_known("Widget"));
    assert_true(api_smp_kind_known("Deployment"));
    smp("Widget",
        "{'spec':{'containers':[{'name':'a','image':'x','ports':[1]}],'size':{'w':1,'h':2}}}",
        "{'spec':{'containers':[{'name':'a','image':'y'}],'size':{'h':3}}}",
        "{'spec':{'containers':[{'name':'a','image':'y'}],'size':{'w':1,'h':3}}}", NULL);
}

static void test_errors(void **state)
{
    (void)state;
    smp("Pod", "{'spec':{'containers':[{'name':'a'}]}}", "{'spec':{'containers':[{'image':'x'}]}}",
        NULL, "map: {\"image\":\"x\"} does not contain declared merge key: name");
    smp("Pod", "{'spec':{'containers':[{'name':'a'}]}}",
        "{'spec':{'containers':[{'$patch':'merge'}]}}", NULL,
        "merging lists cannot yet be specified in the patch");
    smp("Pod", "{'metadata':{}}", "{'metadata':{'$patch':'frob'}}", NULL,
        "unknown patch type: frob in map:");
    smp("Pod", "{'spec':{'containers':[{'name':'a'},{'name':'b'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'a'}],'containers':[{'name':'b',"
        "'image':'z'}]}}",
        NULL, "doesn't match $setElementOrder list");
    smp("Pod", "{'spec':{}}", "{'spec':{'$setElementOrder/containers':{'name':'a'}}}", NULL,
        "invalid patch format of setElementOrder list");
    smp("Pod", "{'metadata':{'finalizers':['a']}}",
        "{'metadata':{'$deleteFromPrimitiveList/finalizers':'a'}}", NULL,
        "invalid patch format of primitive list");
    smp("Pod", "{'metadata':{'finalizers':['a']}}", "{'metadata':{'finalizers':[['a']]}}", NULL,
        "lists of lists are not supported");
    smp("Pod", "{'metadata':{'finalizers':['a']}}", "{'metadata':{'finalizers':[{'a':1}]}}", NULL,
        "list element types are not identical");
    smp("Pod", "{}", "[1]", NULL, "must both be JSON objects");
    char err[256];
    cJSON *doc = J("{}");
    assert_null(api_smp_apply(doc, NULL, "Pod", err, sizeof err));
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubectl_patch_docs),
        cmocka_unit_test(test_kubectl_apply_three_way),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_finalizers),
        cmocka_unit_test(test_directives),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
