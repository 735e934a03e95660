/*
 * schema_defs.c - the fields of the kinds picokube serves, as Kubernetes'
 * Go types declare them, in a compact notation read once by schema.c:
 *
 *   "TypeName field:type field:type ..."
 *
 * with types s (string), i (integer), n (number), b (bool), t (timestamp
 * string), q (resource quantity: string or number), o (int-or-string),
 * * (anything: not checked), {T} (map of T), [T] (list of T) and the name
 * of another type. Kinds (listed in schema_kinds) also get kind, apiVersion
 * and metadata.
 *
 * Why a table at all: kubectl sends fieldValidation=Strict, and Kubernetes
 * then answers 400 naming each unknown field; that needs to know the fields.
 * Deep, rarely written subtrees (volume sources, affinity, security
 * contexts, most of status) are `*` on purpose: checking them would add
 * lines, not safety, and an unchecked field is kept as sent.
 */
#include <stddef.h>

const char *const schema_defs[] = {
    /* meta */
    "ObjectMeta name:s generateName:s namespace:s selfLink:s uid:s resourceVersion:s "
    "generation:i creationTimestamp:t deletionTimestamp:t deletionGracePeriodSeconds:i "
    "labels:{s} annotations:{s} ownerReferences:[OwnerReference] finalizers:[s] "
    "managedFields:[*]",
    "OwnerReference apiVersion:s kind:s name:s uid:s controller:b blockOwnerDeletion:b",
    "ObjectReference kind:s namespace:s name:s uid:s apiVersion:s resourceVersion:s fieldPath:s",
    "LocalObjectReference name:s",
    "LabelSelector matchLabels:{s} matchExpressions:[LabelSelectorRequirement]",
    "LabelSelectorRequirement key:s operator:s values:[s]",
    "DeleteOptionsBody kind:s apiVersion:s gracePeriodSeconds:i preconditions:Preconditions "
    "orphanDependents:b propagationPolicy:s dryRun:[s] "
    "ignoreStoreReadErrorWithClusterBreakingPotential:b",
    "Preconditions uid:s resourceVersion:s",
    /* pods */
    "PodTemplateSpec metadata:ObjectMeta spec:PodSpec",
    "PodSpec volumes:[Volume] initContainers:[Container] containers:[Container] "
    "ephemeralContainers:[*] restartPolicy:s terminationGracePeriodSeconds:i "
    "activeDeadlineSeconds:i dnsPolicy:s nodeSelector:{s} serviceAccountName:s "
    "serviceAccount:s automountServiceAccountToken:b nodeName:s hostNetwork:b hostPID:b "
    "hostIPC:b shareProcessNamespace:b securityContext:* imagePullSecrets:[LocalObjectReference] "
    "hostname:s subdomain:s affinity:* schedulerName:s tolerations:[Toleration] "
    "hostAliases:[HostAlias] priorityClassName:s priority:i dnsConfig:* readinessGates:[*] "
    "runtimeClassName:s enableServiceLinks:b preemptionPolicy:s overhead:{q} "
    "topologySpreadConstraints:[*] setHostnameAsFQDN:b os:* hostUsers:b schedulingGates:[*] "
    "resourceClaims:[*] resources:ResourceRequirements",
    "Container name:s image:s command:[s] args:[s] workingDir:s ports:[ContainerPort] "
    "envFrom:[EnvFromSource] env:[EnvVar] resources:ResourceRequirements resizePolicy:[*] "
    "restartPolicy:s volumeMounts:[VolumeMount] volumeDevices:[*] livenessProbe:Probe "
    "readinessProbe:Probe startupProbe:Probe lifecycle:* terminationMessagePath:s "
    "terminationMessagePolicy:s imagePullPolicy:s securityContext:* stdin:b stdinOnce:b tty:b",
    "ContainerPort name:s hostPort:i containerPort:i protocol:s hostIP:s",
    "EnvVar name:s value:s valueFrom:EnvVarSource",
    "EnvVarSource fieldRef:* resourceFieldRef:* configMapKeyRef:* secretKeyRef:*",
    "EnvFromSource prefix:s configMapRef:* secretRef:*",
    "ResourceRequirements limits:{q} requests:{q} claims:[*]",
    "VolumeMount name:s readOnly:b recursiveReadOnly:s mountPath:s subPath:s "
    "mountPropagation:s subPathExpr:s",
    "Probe exec:* httpGet:HTTPGetAction tcpSocket:* grpc:* initialDelaySeconds:i "
    "timeoutSeconds:i periodSeconds:i successThreshold:i failureThreshold:i "
    "terminationGracePeriodSeconds:i",
    "HTTPGetAction path:s port:o host:s scheme:s httpHeaders:[*]",
    "Volume name:s hostPath:* emptyDir:* gcePersistentDisk:* awsElasticBlockStore:* gitRepo:* "
    "secret:* nfs:* iscsi:* glusterfs:* persistentVolumeClaim:* rbd:* flexVolume:* cinder:* "
    "cephfs:* flocker:* downwardAPI:* fc:* azureFile:* configMap:* vsphereVolume:* quobyte:* "
    "azureDisk:* photonPersistentDisk:* projected:* portworxVolume:* scaleIO:* storageos:* "
    "csi:* ephemeral:* image:*",
    "Toleration key:s operator:s value:s effect:s tolerationSeconds:i",
    "HostAlias ip:s hostnames:[s]",
    "PodStatus phase:s conditions:[*] message:s reason:s nominatedNodeName:s hostIP:s "
    "hostIPs:[*] podIP:s podIPs:[*] startTime:t initContainerStatuses:[*] "
    "containerStatuses:[*] qosClass:s ephemeralContainerStatuses:[*] resize:s "
    "resourceClaimStatuses:[*] observedGeneration:i",
    /* services and endpoints */
    "ServiceSpec ports:[ServicePort] selector:{s} clusterIP:s clusterIPs:[s] type:s "
    "externalIPs:[s] sessionAffinity:s loadBalancerIP:s loadBalancerSourceRanges:[s] "
    "externalName:s externalTrafficPolicy:s healthCheckNodePort:i publishNotReadyAddresses:b "
    "sessionAffinityConfig:* ipFamilies:[s] ipFamilyPolicy:s allocateLoadBalancerNodePorts:b "
    "loadBalancerClass:s internalTrafficPolicy:s trafficDistribution:s",
    "ServicePort name:s protocol:s appProtocol:s port:i targetPort:o nodePort:i",
    "ServiceStatus loadBalancer:* conditions:[*]",
    "EndpointSubset addresses:[EndpointAddress] notReadyAddresses:[EndpointAddress] "
    "ports:[EndpointPort]",
    "EndpointAddress ip:s hostname:s nodeName:s targetRef:ObjectReference",
    "EndpointPort name:s port:i protocol:s appProtocol:s",
    /* nodes and namespaces */
    "NodeSpec podCIDR:s podCIDRs:[s] providerID:s unschedulable:b taints:[Taint] "
    "configSource:* externalID:s",
    "Taint key:s value:s effect:s timeAdded:t",
    "NodeStatus capacity:{q} allocatable:{q} phase:s conditions:[*] addresses:[NodeAddress] "
    "daemonEndpoints:* nodeInfo:* images:[*] volumesInUse:[s] volumesAttached:[*] config:* "
    "runtimeHandlers:[*] features:*",
    "NodeAddress type:s address:s",
    "NamespaceSpec finalizers:[s]",
    "NamespaceStatus phase:s conditions:[*]",
    /* workloads */
    "ReplicationControllerSpec replicas:i minReadySeconds:i selector:{s} "
    "template:PodTemplateSpec",
    "DeploymentSpec replicas:i selector:LabelSelector template:PodTemplateSpec strategy:* "
    "minReadySeconds:i revisionHistoryLimit:i paused:b progressDeadlineSeconds:i",
    "ReplicaSetSpec replicas:i minReadySeconds:i selector:LabelSelector template:PodTemplateSpec",
    "DaemonSetSpec selector:LabelSelector template:PodTemplateSpec updateStrategy:* "
    "minReadySeconds:i revisionHistoryLimit:i",
    "LeaseSpec holderIdentity:s leaseDurationSeconds:i acquireTime:t renewTime:t "
    "leaseTransitions:i strategy:s preferredHolder:s",
    "ScaleSpec replicas:i",
    "ScaleStatus replicas:i selector:s",
    /* kinds (kind, apiVersion and metadata are added) */
    "Pod spec:PodSpec status:PodStatus",
    "Service spec:ServiceSpec status:ServiceStatus",
    "Endpoints subsets:[EndpointSubset]",
    "ConfigMap data:{s} binaryData:{s} immutable:b",
    "Secret data:{s} stringData:{s} type:s immutable:b",
    "Event involvedObject:ObjectReference reason:s message:s source:* firstTimestamp:t "
    "lastTimestamp:t count:i type:s eventTime:t series:* action:s related:ObjectReference "
    "reportingComponent:s reportingInstance:s",
    "Namespace spec:NamespaceSpec status:NamespaceStatus",
    "Node spec:NodeSpec status:NodeStatus",
    "ReplicationController spec:ReplicationControllerSpec status:*",
    "ServiceAccount secrets:[ObjectReference] imagePullSecrets:[LocalObjectReference] "
    "automountServiceAccountToken:b",
    "Deployment spec:DeploymentSpec status:*",
    "ReplicaSet spec:ReplicaSetSpec status:*",
    "DaemonSet spec:DaemonSetSpec status:*",
    "Lease spec:LeaseSpec",
    "EndpointSlice addressType:s endpoints:[*] ports:[*]",
    "Binding target:ObjectReference",
    "Eviction deleteOptions:DeleteOptionsBody",
    "Scale spec:ScaleSpec status:ScaleStatus",
    NULL,
};

const char *const schema_kinds[] = {
    "Pod",
    "Service",
    "Endpoints",
    "ConfigMap",
    "Secret",
    "Event",
    "Namespace",
    "Node",
    "ReplicationController",
    "ServiceAccount",
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "Lease",
    "EndpointSlice",
    "Binding",
    "Eviction",
    "Scale",
    NULL,
};
