// core/v1 shapes besides pods: Namespace, Node, Event, ServiceAccount, Secret, ConfigMap,
// Binding, Service, Endpoints, and the Pod kind itself.

import { s, type TypeSchema } from "./types.ts";
import { kindSchema } from "./meta.ts";
import { localObjectReference, podSpec, podStatus } from "./core-pod.ts";

const CORE = "io.k8s.api.core.v1";
const o = (name: string, description: string, properties: Record<string, TypeSchema>, extra: Partial<TypeSchema> = {}) => s.object(`${CORE}.${name}`, description, properties, extra);
const core = (kind: string, description: string, properties: Record<string, TypeSchema>) => kindSchema(`${CORE}.${kind}`, { group: "", version: "v1", kind }, description, properties);

export const objectReference = o("ObjectReference", "ObjectReference contains enough information to let you inspect or modify the referred object.", {
  apiVersion: s.string("API version of the referent."),
  fieldPath: s.string("If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."),
  kind: s.string("Kind of the referent."),
  name: s.string("Name of the referent."),
  namespace: s.string("Namespace of the referent."),
  resourceVersion: s.string("Specific resourceVersion to which this reference is made, if any."),
  uid: s.string("UID of the referent."),
}, { mapType: "atomic" });

const nodeCondition = o("NodeCondition", "NodeCondition contains condition information for a node.", {
  lastHeartbeatTime: s.time("Last time we got an update on a given condition."),
  lastTransitionTime: s.time("Last time the condition transit from one status to another."),
  message: s.string("Human readable message indicating details about last transition."),
  reason: s.string("(brief) reason for the condition's last transition."),
  status: s.string("Status of the condition, one of True, False, Unknown."),
  type: s.string("Type of node condition."),
}, { required: ["type", "status"] });
const nodeAddress = o("NodeAddress", "NodeAddress contains information for the node's address.", { address: s.string("The node address."), type: s.string("Node address type, one of Hostname, ExternalIP or InternalIP.") }, { required: ["type", "address"] });
const taint = o("Taint", "The node this Taint is attached to has the \"effect\" on any pod that does not tolerate the Taint.", {
  effect: s.enumOf(["NoExecute", "NoSchedule", "PreferNoSchedule"], "Required. The effect of the taint on pods that do not tolerate the taint."),
  key: s.string("Required. The taint key to be applied to a node."),
  timeAdded: s.time("TimeAdded represents the time at which the taint was added."),
  value: s.string("The taint value corresponding to the taint key."),
}, { required: ["key", "effect"] });
const nodeSystemInfo = o("NodeSystemInfo", "NodeSystemInfo is a set of ids/uuids to uniquely identify the node.", {
  architecture: s.string("The Architecture reported by the node"),
  bootID: s.string("Boot ID reported by the node."),
  containerRuntimeVersion: s.string("ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
  kernelVersion: s.string("Kernel Version reported by the node from 'uname -r'."),
  kubeProxyVersion: s.string("Deprecated: KubeProxy Version reported by the node."),
  kubeletVersion: s.string("Kubelet Version reported by the node."),
  machineID: s.string("MachineID reported by the node."),
  operatingSystem: s.string("The Operating System reported by the node"),
  osImage: s.string("OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
  swap: s.looseObject("Swap Info reported by the node."),
  systemUUID: s.string("SystemUUID reported by the node."),
}, { required: ["machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture"] });

export const nodeSchema = core("Node", "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).", {
  spec: o("NodeSpec", "NodeSpec describes the attributes that a node is created with.", {
    configSource: s.looseObject("Deprecated: Previously used to specify the source of the node's configuration for the DynamicKubeletConfig feature."),
    externalID: s.string("Deprecated. Not all kubelets will set this field."),
    podCIDR: s.string("PodCIDR represents the pod IP range assigned to the node."),
    podCIDRs: s.setList(s.string(), "podCIDRs represents the IP ranges assigned to the node for usage by Pods on that node."),
    providerID: s.string("ID of the node assigned by the cloud provider in the format: <ProviderName>://<ProviderSpecificNodeID>"),
    taints: s.array(taint, "If specified, the node's taints."),
    unschedulable: s.bool("Unschedulable controls node schedulability of new pods. By default, node is schedulable."),
  }),
  status: o("NodeStatus", "NodeStatus is information about the current status of a node.", {
    addresses: s.mergeList(nodeAddress, "type", "List of addresses reachable to the node."),
    allocatable: s.map(s.quantity(), "Allocatable represents the resources of a node that are available for scheduling. Defaults to Capacity."),
    capacity: s.map(s.quantity(), "Capacity represents the total resources of a node."),
    conditions: s.mergeList(nodeCondition, "type", "Conditions is an array of current observed node conditions."),
    config: s.looseObject("Status of the config assigned to the node via the dynamic Kubelet config feature."),
    daemonEndpoints: o("NodeDaemonEndpoints", "NodeDaemonEndpoints lists ports opened by daemons running on the Node.", {
      kubeletEndpoint: o("DaemonEndpoint", "DaemonEndpoint contains information about a single Daemon endpoint.", { Port: s.int32("Port number of the given endpoint.") }, { required: ["Port"] }),
    }),
    declaredFeatures: s.array(s.string(), "DeclaredFeatures represents the features related to feature gates that are declared by the node."),
    features: s.looseObject("Features describes the set of features implemented by the CRI implementation."),
    images: s.array(o("ContainerImage", "Describe a container image", { names: s.array(s.string(), "Names by which this image is known."), sizeBytes: s.int64("The size of the image in bytes.") }), "List of container images on this node"),
    nodeInfo: s.described(nodeSystemInfo, "Set of ids/uuids to uniquely identify the node."),
    phase: s.string("NodePhase is the recently observed lifecycle phase of the node. Deprecated."),
    runtimeHandlers: s.array(s.looseObject(), "The available runtime handlers."),
    volumesAttached: s.array(s.looseObject(), "List of volumes that are attached to the node."),
    volumesInUse: s.array(s.string(), "List of attachable volumes in use (mounted) by the node."),
  }),
});

export const namespaceSchema = core("Namespace", "Namespace provides a scope for Names. Use of multiple namespaces is optional.", {
  spec: o("NamespaceSpec", "NamespaceSpec describes the attributes on a Namespace.", { finalizers: s.array(s.string(), "Finalizers is an opaque list of values that must be empty to permanently remove object from storage.") }),
  status: o("NamespaceStatus", "NamespaceStatus is information about the current status of a Namespace.", {
    conditions: s.mergeList(o("NamespaceCondition", "NamespaceCondition contains details about state of namespace.", { lastTransitionTime: s.time("Last time the condition transitioned from one status to another."), message: s.string("Human-readable message indicating details about last transition."), reason: s.string("Unique, one-word, CamelCase reason for the condition's last transition."), status: s.string("Status of the condition, one of True, False, Unknown."), type: s.string("Type of namespace controller condition.") }, { required: ["type", "status"] }), "type", "Represents the latest available observations of a namespace's current state."),
    phase: s.enumOf(["Active", "Terminating"], "Phase is the current lifecycle phase of the namespace."),
  }),
});

export const podSchema = core("Pod", "Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.", {
  spec: s.described(podSpec, "Specification of the desired behavior of the pod."),
  status: s.described(podStatus, "Most recently observed status of the pod. This data may not be up to date. Populated by the system. Read-only."),
});

export const bindingSchema = core("Binding", "Binding ties one object to another; for example, a pod is bound to a node by a scheduler.", {
  target: s.described(objectReference, "The target object that you want to bind to the standard object."),
});

const eventSource = o("EventSource", "EventSource contains information for an event.", { component: s.string("Component from which the event is generated."), host: s.string("Node name on which the event is generated.") });
const eventSeries = o("EventSeries", "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.", { count: s.int32("Number of occurrences in this series up to the last heartbeat time"), lastObservedTime: s.microTime("Time of the last occurrence observed") });

export const eventSchema = core("Event", "Event is a report of an event somewhere in the cluster. Events have a limited retention time and triggers and messages may evolve with time.", {
  action: s.string("What action was taken/failed regarding to the Regarding object."),
  count: s.int32("The number of times this event has occurred."),
  eventTime: s.microTime("Time when this Event was first observed."),
  firstTimestamp: s.time("The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
  involvedObject: s.described(objectReference, "The object that this event is about."),
  lastTimestamp: s.time("The time at which the most recent occurrence of this event was recorded."),
  message: s.string("A human-readable description of the status of this operation."),
  reason: s.string("This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  related: s.described(objectReference, "Optional secondary object for more complex actions."),
  reportingComponent: s.string("Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`."),
  reportingInstance: s.string("ID of the controller instance, e.g. `kubelet-xyzf`."),
  series: s.described(eventSeries, "Data about the Event series this event represents or nil if it's a singleton Event."),
  source: s.described(eventSource, "The component reporting this event. Should be a short machine understandable string."),
  type: s.string("Type of this event (Normal, Warning), new types could be added in the future"),
});

export const serviceAccountSchema = core("ServiceAccount", "ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.", {
  automountServiceAccountToken: s.bool("AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted."),
  imagePullSecrets: s.array(localObjectReference, "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount."),
  secrets: s.mergeList(objectReference, "name", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
});

export const secretSchema = core("Secret", "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.", {
  data: s.map(s.bytes(), "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string."),
  immutable: s.bool("Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified)."),
  stringData: s.stringMap("stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience."),
  type: s.string("Used to facilitate programmatic handling of secret data."),
});

export const configMapSchema = core("ConfigMap", "ConfigMap holds configuration data for pods to consume.", {
  binaryData: s.map(s.bytes(), "BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'."),
  data: s.stringMap("Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'."),
  immutable: s.bool("Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified)."),
});

const servicePort = o("ServicePort", "ServicePort contains information on service's port.", {
  appProtocol: s.string("The application protocol for this port."),
  name: s.string("The name of this port within the service. This must be a DNS_LABEL."),
  nodePort: s.int32("The port on each node on which this service is exposed when type is NodePort or LoadBalancer."),
  port: s.int32("The port that will be exposed by this service."),
  protocol: s.enumOf(["SCTP", "TCP", "UDP"], "The IP protocol for this port. Supports \"TCP\", \"UDP\", and \"SCTP\". Default is TCP."),
  targetPort: s.intOrString("Number or name of the port to access on the pods targeted by the service. Defaults to the value of the 'port' field."),
}, { required: ["port"] });

export const serviceSchema = core("Service", "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.", {
  spec: o("ServiceSpec", "ServiceSpec describes the attributes that a user creates on a service.", {
    allocateLoadBalancerNodePorts: s.bool("allocateLoadBalancerNodePorts defines if NodePorts will be automatically allocated for services with type LoadBalancer."),
    clusterIP: s.string("clusterIP is the IP address of the service and is usually assigned randomly."),
    clusterIPs: s.array(s.string(), "ClusterIPs is a list of IP addresses assigned to this service.", { listType: "atomic" }),
    externalIPs: s.array(s.string(), "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    externalName: s.string("externalName is the external reference that discovery mechanisms will return as an alias for this service (e.g. a DNS CNAME record)."),
    externalTrafficPolicy: s.string("externalTrafficPolicy describes how nodes distribute service traffic they receive on one of the Service's \"externally-facing\" addresses."),
    healthCheckNodePort: s.int32("healthCheckNodePort specifies the healthcheck nodePort for the service."),
    internalTrafficPolicy: s.string("InternalTrafficPolicy describes how nodes distribute service traffic they receive on the ClusterIP."),
    ipFamilies: s.array(s.string(), "IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this service.", { listType: "atomic" }),
    ipFamilyPolicy: s.string("IPFamilyPolicy represents the dual-stack-ness requested or required by this Service."),
    loadBalancerClass: s.string("loadBalancerClass is the class of the load balancer implementation this Service belongs to."),
    loadBalancerIP: s.string("Only applies to Service Type: LoadBalancer. Deprecated."),
    loadBalancerSourceRanges: s.array(s.string(), "If specified and supported by the platform, this will restrict traffic through the cloud-provider load-balancer."),
    ports: s.mergeList(servicePort, "port", "The list of ports that are exposed by this service.", { listMapKeys: ["port", "protocol"] }),
    publishNotReadyAddresses: s.bool("publishNotReadyAddresses indicates that any agent which deals with endpoints for this Service should disregard any indications of ready/not-ready."),
    selector: s.stringMap("Route service traffic to pods with label keys and values matching this selector."),
    sessionAffinity: s.string("Supports \"ClientIP\" and \"None\". Used to maintain session affinity."),
    sessionAffinityConfig: s.looseObject("sessionAffinityConfig contains the configurations of session affinity."),
    trafficDistribution: s.string("TrafficDistribution offers a way to express preferences for how traffic is distributed to Service endpoints."),
    type: s.enumOf(["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"], "type determines how the Service is exposed. Defaults to ClusterIP."),
  }),
  status: o("ServiceStatus", "ServiceStatus represents the current status of a service.", {
    conditions: s.mergeList(s.looseObject("Condition contains details for one aspect of the current state of this API Resource."), "type", "Current service state"),
    loadBalancer: s.looseObject("LoadBalancer contains the current status of the load-balancer, if one is present."),
  }),
});

const endpointAddress = o("EndpointAddress", "EndpointAddress is a tuple that describes single IP address.", { hostname: s.string("The Hostname of this endpoint"), ip: s.string("The IP of this endpoint."), nodeName: s.string("Optional: Node hosting this endpoint."), targetRef: s.described(objectReference, "Reference to object providing the endpoint.") }, { required: ["ip"] });
const endpointPort = o("EndpointPort", "EndpointPort is a tuple that describes a single port.", { appProtocol: s.string("The application protocol for this port."), name: s.string("The name of this port."), port: s.int32("The port number of the endpoint."), protocol: s.string("The IP protocol for this port.") }, { required: ["port"] });

export const endpointsSchema = core("Endpoints", "Endpoints is a collection of endpoints that implement the actual service.", {
  subsets: s.array(o("EndpointSubset", "EndpointSubset is a group of addresses with a common set of ports.", {
    addresses: s.array(endpointAddress, "IP addresses which offer the related ports that are marked as ready."),
    notReadyAddresses: s.array(endpointAddress, "IP addresses which offer the related ports but are not currently marked as ready."),
    ports: s.array(endpointPort, "Port numbers available on the related IP addresses."),
  }), "The set of all endpoints is the union of all subsets."),
});
