// core/v1 pod shapes: PodSpec with its containers, volumes, probes, affinity and security
// settings, PodStatus, and the PodTemplateSpec workloads carry. Strategic-merge keys as in
// Kubernetes' Go types (containers by name, ports by containerPort, env by name, volumeMounts by
// mountPath, volumes by name with retainKeys, conditions by type, podIPs by ip). Rarely used volume
// sources are kept as loose objects: their fields are stored as sent.

import { s, type TypeSchema } from "./types.ts";
import { labelSelector, objectMeta } from "./meta.ts";

const CORE = "io.k8s.api.core.v1";
const o = (name: string, description: string, properties: Record<string, TypeSchema>, extra: Partial<TypeSchema> = {}) => s.object(`${CORE}.${name}`, description, properties, extra);

export const localObjectReference = o("LocalObjectReference", "LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.", {
  name: s.string("Name of the referent."),
});

const keyToPath = o("KeyToPath", "Maps a string key to a path within a volume.", { key: s.string("key is the key to project."), mode: s.int32("mode is the optional mode bits used to set permissions on this file."), path: s.string("path is the relative path of the file to map the key to.") }, { required: ["key", "path"] });
const objectFieldSelector = o("ObjectFieldSelector", "ObjectFieldSelector selects an APIVersioned field of an object.", { apiVersion: s.string("Version of the schema the FieldPath is written in terms of, defaults to \"v1\"."), fieldPath: s.string("Path of the field to select in the specified API version.") }, { required: ["fieldPath"] });
const resourceFieldSelector = o("ResourceFieldSelector", "ResourceFieldSelector represents container resources (cpu, memory) and their output format.", { containerName: s.string("Container name: required for volumes, optional for env vars."), divisor: s.quantity("Specifies the output format of the exposed resources, defaults to \"1\"."), resource: s.string("Required: resource to select.") }, { required: ["resource"] });
const configMapKeySelector = o("ConfigMapKeySelector", "Selects a key from a ConfigMap.", { key: s.string("The key to select."), name: s.string("Name of the referent."), optional: s.bool("Specify whether the ConfigMap or its key must be defined.") }, { required: ["key"] });
const secretKeySelector = o("SecretKeySelector", "SecretKeySelector selects a key of a Secret.", { key: s.string("The key of the secret to select from."), name: s.string("Name of the referent."), optional: s.bool("Specify whether the Secret or its key must be defined.") }, { required: ["key"] });

const envVarSource = o("EnvVarSource", "EnvVarSource represents a source for the value of an EnvVar.", {
  configMapKeyRef: s.described(configMapKeySelector, "Selects a key of a ConfigMap."),
  fieldRef: s.described(objectFieldSelector, "Selects a field of the pod: supports metadata.name, metadata.namespace, `metadata.labels['<KEY>']`, `metadata.annotations['<KEY>']`, spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP, status.podIPs."),
  fileKeyRef: s.looseObject("FileKeyRef selects a key of the env file."),
  resourceFieldRef: s.described(resourceFieldSelector, "Selects a resource of the container."),
  secretKeyRef: s.described(secretKeySelector, "Selects a key of a secret in the pod's namespace."),
});

export const envVar = o("EnvVar", "EnvVar represents an environment variable present in a Container.", {
  name: s.string("Name of the environment variable."),
  value: s.string("Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container and any service environment variables."),
  valueFrom: s.described(envVarSource, "Source for the environment variable's value. Cannot be used if value is not empty."),
}, { required: ["name"] });

const envFromSource = o("EnvFromSource", "EnvFromSource represents the source of a set of ConfigMaps or Secrets.", {
  configMapRef: o("ConfigMapEnvSource", "ConfigMapEnvSource selects a ConfigMap to populate the environment variables with.", { name: s.string("Name of the referent."), optional: s.bool("Specify whether the ConfigMap must be defined.") }),
  prefix: s.string("Optional text to prepend to the name of each environment variable."),
  secretRef: o("SecretEnvSource", "SecretEnvSource selects a Secret to populate the environment variables with.", { name: s.string("Name of the referent."), optional: s.bool("Specify whether the Secret must be defined.") }),
});

export const containerPort = o("ContainerPort", "ContainerPort represents a network port in a single container.", {
  containerPort: s.int32("Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536."),
  hostIP: s.string("What host IP to bind the external port to."),
  hostPort: s.int32("Number of port to expose on the host. If HostNetwork is specified, this must match ContainerPort."),
  name: s.string("If specified, this must be an IANA_SVC_NAME and unique within the pod."),
  protocol: s.enumOf(["SCTP", "TCP", "UDP"], "Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\"."),
}, { required: ["containerPort"] });

const volumeMount = o("VolumeMount", "VolumeMount describes a mounting of a Volume within a container.", {
  mountPath: s.string("Path within the container at which the volume should be mounted. Must not contain ':'."),
  mountPropagation: s.string("mountPropagation determines how mounts are propagated from the host to container and the other way around."),
  name: s.string("This must match the Name of a Volume."),
  readOnly: s.bool("Mounted read-only if true, read-write otherwise (false or unspecified). Defaults to false."),
  recursiveReadOnly: s.string("RecursiveReadOnly specifies whether read-only mounts should be handled recursively."),
  subPath: s.string("Path within the volume from which the container's volume should be mounted."),
  subPathExpr: s.string("Expanded path within the volume from which the container's volume should be mounted."),
}, { required: ["name", "mountPath"] });

const httpHeader = o("HTTPHeader", "HTTPHeader describes a custom header to be used in HTTP probes", { name: s.string("The header field name."), value: s.string("The header field value") }, { required: ["name", "value"] });
const execAction = o("ExecAction", "ExecAction describes a \"run in container\" action.", { command: s.array(s.string(), "Command is the command line to execute inside the container, the working directory for the command is root ('/') in the container's filesystem.") });
const httpGetAction = o("HTTPGetAction", "HTTPGetAction describes an action based on HTTP Get requests.", {
  host: s.string("Host name to connect to, defaults to the pod IP."),
  httpHeaders: s.array(httpHeader, "Custom headers to set in the request. HTTP allows repeated headers."),
  path: s.string("Path to access on the HTTP server."),
  port: s.intOrString("Name or number of the port to access on the container."),
  scheme: s.enumOf(["HTTP", "HTTPS"], "Scheme to use for connecting to the host. Defaults to HTTP."),
}, { required: ["port"] });
const tcpSocketAction = o("TCPSocketAction", "TCPSocketAction describes an action based on opening a socket", { host: s.string("Optional: Host name to connect to, defaults to the pod IP."), port: s.intOrString("Number or name of the port to access on the container.") }, { required: ["port"] });
const grpcAction = o("GRPCAction", "GRPCAction specifies an action involving a GRPC service.", { port: s.int32("Port number of the gRPC service."), service: s.string("Service is the name of the service to place in the gRPC HealthCheckRequest.") }, { required: ["port"] });

export const probe = o("Probe", "Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.", {
  exec: s.described(execAction, "Exec specifies a command to execute in the container."),
  failureThreshold: s.int32("Minimum consecutive failures for the probe to be considered failed after having succeeded. Defaults to 3. Minimum value is 1."),
  grpc: s.described(grpcAction, "GRPC specifies a GRPC HealthCheckRequest."),
  httpGet: s.described(httpGetAction, "HTTPGet specifies an HTTP GET request to perform."),
  initialDelaySeconds: s.int32("Number of seconds after the container has started before liveness probes are initiated."),
  periodSeconds: s.int32("How often (in seconds) to perform the probe. Default to 10 seconds. Minimum value is 1."),
  successThreshold: s.int32("Minimum consecutive successes for the probe to be considered successful after having failed. Defaults to 1."),
  tcpSocket: s.described(tcpSocketAction, "TCPSocket specifies a connection to a TCP port."),
  terminationGracePeriodSeconds: s.int64("Optional duration in seconds the pod needs to terminate gracefully upon probe failure."),
  timeoutSeconds: s.int32("Number of seconds after which the probe times out. Defaults to 1 second. Minimum value is 1."),
});

const lifecycleHandler = o("LifecycleHandler", "LifecycleHandler defines a specific action that should be taken in a lifecycle hook.", {
  exec: s.described(execAction, "Exec specifies a command to execute in the container."),
  httpGet: s.described(httpGetAction, "HTTPGet specifies an HTTP GET request to perform."),
  sleep: o("SleepAction", "SleepAction describes a \"sleep\" action.", { seconds: s.int64("Seconds is the number of seconds to sleep.") }),
  tcpSocket: s.described(tcpSocketAction, "Deprecated. TCPSocket is NOT supported as a LifecycleHandler."),
});

const resourceRequirements = o("ResourceRequirements", "ResourceRequirements describes the compute resource requirements.", {
  claims: s.mergeList(o("ResourceClaim", "ResourceClaim references one entry in PodSpec.ResourceClaims.", { name: s.string("Name must match the name of one entry in pod.spec.resourceClaims."), request: s.string("Request is the name chosen for a request in the referenced claim.") }), "name", "Claims lists the names of resources, defined in spec.resourceClaims, that are used by this container."),
  limits: s.map(s.quantity(), "Limits describes the maximum amount of compute resources allowed."),
  requests: s.map(s.quantity(), "Requests describes the minimum amount of compute resources required. If Requests is omitted for a container, it defaults to Limits if that is explicitly specified."),
});

const capabilities = o("Capabilities", "Adds and removes POSIX capabilities from running containers.", { add: s.array(s.string(), "Added capabilities"), drop: s.array(s.string(), "Removed capabilities") });
const seLinuxOptions = o("SELinuxOptions", "SELinuxOptions are the labels to be applied to the container", { level: s.string("Level is SELinux level label that applies to the container."), role: s.string("Role is a SELinux role label that applies to the container."), type: s.string("Type is a SELinux type label that applies to the container."), user: s.string("User is a SELinux user label that applies to the container.") });
const seccompProfile = o("SeccompProfile", "SeccompProfile defines a pod/container's seccomp profile settings.", { localhostProfile: s.string("localhostProfile indicates a profile defined in a file on the node should be used."), type: s.string("type indicates which kind of seccomp profile will be applied.") }, { required: ["type"] });
const securityContext = o("SecurityContext", "SecurityContext holds security configuration that will be applied to a container.", {
  allowPrivilegeEscalation: s.bool("AllowPrivilegeEscalation controls whether a process can gain more privileges than its parent process."),
  appArmorProfile: s.looseObject("appArmorProfile is the AppArmor options to use by this container."),
  capabilities: s.described(capabilities, "The capabilities to add/drop when running containers."),
  privileged: s.bool("Run container in privileged mode. Processes in privileged containers are essentially equivalent to root on the host. Defaults to false."),
  procMount: s.string("procMount denotes the type of proc mount to use for the containers."),
  readOnlyRootFilesystem: s.bool("Whether this container has a read-only root filesystem. Default is false."),
  runAsGroup: s.int64("The GID to run the entrypoint of the container process."),
  runAsNonRoot: s.bool("Indicates that the container must run as a non-root user."),
  runAsUser: s.int64("The UID to run the entrypoint of the container process."),
  seLinuxOptions: s.described(seLinuxOptions, "The SELinux context to be applied to the container."),
  seccompProfile: s.described(seccompProfile, "The seccomp options to use by this container."),
  windowsOptions: s.looseObject("The Windows specific settings applied to all containers."),
});

export const container = o("Container", "A single application container that you want to run within a pod.", {
  args: s.array(s.string(), "Arguments to the entrypoint. The container image's CMD is used if this is not provided."),
  command: s.array(s.string(), "Entrypoint array. Not executed within a shell. The container image's ENTRYPOINT is used if this is not provided."),
  env: s.mergeList(envVar, "name", "List of environment variables to set in the container. Cannot be updated."),
  envFrom: s.array(envFromSource, "List of sources to populate environment variables in the container."),
  image: s.string("Container image name."),
  imagePullPolicy: s.enumOf(["Always", "IfNotPresent", "Never"], "Image pull policy. One of Always, Never, IfNotPresent. Defaults to Always if :latest tag is specified, or IfNotPresent otherwise."),
  lifecycle: o("Lifecycle", "Lifecycle describes actions that the management system should take in response to container lifecycle events.", {
    postStart: s.described(lifecycleHandler, "PostStart is called immediately after a container is created."),
    preStop: s.described(lifecycleHandler, "PreStop is called immediately before a container is terminated."),
    stopSignal: s.string("StopSignal defines which signal will be sent to a container when it is being stopped."),
  }),
  livenessProbe: s.described(probe, "Periodic probe of container liveness. Container will be restarted if the probe fails."),
  name: s.string("Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated."),
  ports: s.mergeList(containerPort, "containerPort", "List of ports to expose from the container.", { listMapKeys: ["containerPort", "protocol"] }),
  readinessProbe: s.described(probe, "Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails."),
  resizePolicy: s.array(s.looseObject(), "Resources resize policy for the container.", { listType: "atomic" }),
  resources: s.described(resourceRequirements, "Compute Resources required by this container."),
  restartPolicy: s.string("RestartPolicy defines the restart behavior of individual containers in a pod (init containers: Always makes them sidecars)."),
  securityContext: s.described(securityContext, "SecurityContext defines the security options the container should be run with."),
  startupProbe: s.described(probe, "StartupProbe indicates that the Pod has successfully initialized."),
  stdin: s.bool("Whether this container should allocate a buffer for stdin in the container runtime."),
  stdinOnce: s.bool("Whether the container runtime should close the stdin channel after it has been opened by a single attach."),
  terminationMessagePath: s.string("Path at which the file to which the container's termination message will be written is mounted into the container's filesystem. Defaults to /dev/termination-log."),
  terminationMessagePolicy: s.enumOf(["FallbackToLogsOnError", "File"], "Indicate how the termination message should be populated. Defaults to File."),
  tty: s.bool("Whether this container should allocate a TTY for itself, also requires 'stdin' to be true."),
  volumeDevices: s.mergeList(o("VolumeDevice", "volumeDevice describes a mapping of a raw block device within a container.", { devicePath: s.string("devicePath is the path inside of the container that the device will be mapped to."), name: s.string("name must match the name of a persistentVolumeClaim in the pod") }, { required: ["name", "devicePath"] }), "devicePath", "volumeDevices is the list of block devices to be used by the container."),
  volumeMounts: s.mergeList(volumeMount, "mountPath", "Pod volumes to mount into the container's filesystem. Cannot be updated."),
  workingDir: s.string("Container's working directory."),
}, { required: ["name"] });

const hostPathVolume = o("HostPathVolumeSource", "Represents a host path mapped into a pod.", {
  path: s.string("path of the directory on the host. If the path is a symlink, it will follow the link to the real path."),
  type: s.enumOf(["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"], "type for HostPath Volume. Defaults to \"\"."),
}, { required: ["path"] });
const downwardAPIFile = o("DownwardAPIVolumeFile", "DownwardAPIVolumeFile represents information to create the file containing the pod field", {
  fieldRef: s.described(objectFieldSelector, "Required: Selects a field of the pod: only annotations, labels, name, namespace and uid are supported."),
  mode: s.int32("Optional: mode bits used to set permissions on this file."),
  path: s.string("Required: Path is the relative path name of the file to be created."),
  resourceFieldRef: s.described(resourceFieldSelector, "Selects a resource of the container: only resources limits and requests are currently supported."),
}, { required: ["path"] });
const projectedVolume = o("ProjectedVolumeSource", "Represents a projected volume source", {
  defaultMode: s.int32("defaultMode are the mode bits used to set permissions on created files by default."),
  sources: s.array(o("VolumeProjection", "Projection that may be projected along with other supported volume types.", {
    clusterTrustBundle: s.looseObject("ClusterTrustBundle allows a pod to access the `.spec.trustBundle` field of ClusterTrustBundle objects."),
    configMap: o("ConfigMapProjection", "Adapts a ConfigMap into a projected volume.", { items: s.array(keyToPath, "items"), name: s.string("Name of the referent."), optional: s.bool("optional specify whether the ConfigMap or its keys must be defined") }),
    downwardAPI: o("DownwardAPIProjection", "Represents downward API info for projecting into a projected volume.", { items: s.array(downwardAPIFile, "Items is a list of DownwardAPIVolume file") }),
    podCertificate: s.looseObject("Projects an auto-rotating credential bundle (private key and certificate chain) that the pod can use."),
    secret: o("SecretProjection", "Adapts a secret into a projected volume.", { items: s.array(keyToPath, "items"), name: s.string("Name of the referent."), optional: s.bool("optional field specify whether the Secret or its key must be defined") }),
    serviceAccountToken: o("ServiceAccountTokenProjection", "ServiceAccountTokenProjection represents a projected service account token volume.", {
      audience: s.string("audience is the intended audience of the token."),
      expirationSeconds: s.int64("expirationSeconds is the requested duration of validity of the service account token."),
      path: s.string("path is the path relative to the mount point of the file to project the token into."),
    }, { required: ["path"] }),
  }), "sources is the list of volume projections."),
});

const LOOSE_VOLUME_SOURCES = [
  "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk",
  "gitRepo", "glusterfs", "image", "iscsi", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
];

export const volume = o("Volume", "Volume represents a named volume in a pod that may be accessed by any container in the pod.", {
  name: s.string("name of the volume. Must be a DNS_LABEL and unique within the pod."),
  configMap: o("ConfigMapVolumeSource", "Adapts a ConfigMap into a volume.", { defaultMode: s.int32("defaultMode is optional: mode bits used to set permissions on created files by default."), items: s.array(keyToPath, "items"), name: s.string("Name of the referent."), optional: s.bool("optional specify whether the ConfigMap or its keys must be defined") }),
  downwardAPI: o("DownwardAPIVolumeSource", "DownwardAPIVolumeSource represents a volume containing downward API info.", { defaultMode: s.int32("Optional: mode bits to use on created files by default."), items: s.array(downwardAPIFile, "Items is a list of downward API volume file") }),
  emptyDir: o("EmptyDirVolumeSource", "Represents an empty directory for a pod.", { medium: s.string("medium represents what type of storage medium should back this directory."), sizeLimit: s.quantity("sizeLimit is the total amount of local storage required for this EmptyDir volume.") }),
  hostPath: s.described(hostPathVolume, "hostPath represents a pre-existing file or directory on the host machine that is directly exposed to the container."),
  persistentVolumeClaim: o("PersistentVolumeClaimVolumeSource", "PersistentVolumeClaimVolumeSource references the user's PVC in the same namespace.", { claimName: s.string("claimName is the name of a PersistentVolumeClaim in the same namespace as the pod using this volume."), readOnly: s.bool("readOnly Will force the ReadOnly setting in VolumeMounts.") }, { required: ["claimName"] }),
  projected: s.described(projectedVolume, "projected items for all in one resources secrets, configmaps, and downward API"),
  secret: o("SecretVolumeSource", "Adapts a Secret into a volume.", { defaultMode: s.int32("defaultMode is Optional: mode bits used to set permissions on created files by default."), items: s.array(keyToPath, "items"), optional: s.bool("optional field specify whether the Secret or its keys must be defined"), secretName: s.string("secretName is the name of the secret in the pod's namespace to use.") }),
  ...Object.fromEntries(LOOSE_VOLUME_SOURCES.map((name) => [name, s.looseObject(`${name} volume source (kept as sent).`)])),
}, { required: ["name"], patchStrategy: "retainKeys" });

const toleration = o("Toleration", "The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect> using the matching operator <operator>.", {
  effect: s.enumOf(["NoExecute", "NoSchedule", "PreferNoSchedule"], "Effect indicates the taint effect to match. Empty means match all taint effects."),
  key: s.string("Key is the taint key that the toleration applies to. Empty means match all taint keys."),
  operator: s.enumOf(["Equal", "Exists"], "Operator represents a key's relationship to the value. Valid operators are Exists and Equal. Defaults to Equal."),
  tolerationSeconds: s.int64("TolerationSeconds represents the period of time the toleration (which must be of effect NoExecute) tolerates the taint."),
  value: s.string("Value is the taint value the toleration matches to."),
});

const nodeSelectorRequirement = o("NodeSelectorRequirement", "A node selector requirement is a selector that contains values, a key, and an operator that relates the key and values.", {
  key: s.string("The label key that the selector applies to."),
  operator: s.enumOf(["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"], "Represents a key's relationship to a set of values."),
  values: s.array(s.string(), "An array of string values."),
}, { required: ["key", "operator"] });
const nodeSelectorTerm = o("NodeSelectorTerm", "A null or empty node selector term matches no objects. The requirements of them are ANDed.", {
  matchExpressions: s.array(nodeSelectorRequirement, "A list of node selector requirements by node's labels."),
  matchFields: s.array(nodeSelectorRequirement, "A list of node selector requirements by node's fields."),
}, { mapType: "atomic" });
export const nodeSelector = o("NodeSelector", "A node selector represents the union of the results of one or more label queries over a set of nodes.", {
  nodeSelectorTerms: s.array(nodeSelectorTerm, "Required. A list of node selector terms. The terms are ORed."),
}, { required: ["nodeSelectorTerms"], mapType: "atomic" });
const podAffinityTerm = o("PodAffinityTerm", "Defines a set of pods that this pod should be co-located (affinity) or not co-located (anti-affinity) with.", {
  labelSelector: s.described(labelSelector, "A label query over a set of resources, in this case pods."),
  matchLabelKeys: s.array(s.string(), "MatchLabelKeys is a set of pod label keys to select which pods will be taken into consideration."),
  mismatchLabelKeys: s.array(s.string(), "MismatchLabelKeys is a set of pod label keys to select which pods will be taken into consideration."),
  namespaceSelector: s.described(labelSelector, "A label query over the set of namespaces that the term applies to."),
  namespaces: s.array(s.string(), "namespaces specifies a static list of namespace names that the term applies to."),
  topologyKey: s.string("This pod should be co-located (affinity) or not co-located (anti-affinity) with the pods matching the labelSelector in the specified namespaces."),
}, { required: ["topologyKey"] });
const weightedPodAffinityTerm = o("WeightedPodAffinityTerm", "The weights of all of the matched WeightedPodAffinityTerm fields are added per-node to find the most preferred node(s)", { podAffinityTerm: s.described(podAffinityTerm, "Required. A pod affinity term, associated with the corresponding weight."), weight: s.int32("weight associated with matching the corresponding podAffinityTerm, in the range 1-100.") }, { required: ["weight", "podAffinityTerm"] });
const podAffinity = (name: string, description: string) =>
  o(name, description, {
    preferredDuringSchedulingIgnoredDuringExecution: s.array(weightedPodAffinityTerm, "The scheduler will prefer to schedule pods to nodes that satisfy the expressions specified by this field."),
    requiredDuringSchedulingIgnoredDuringExecution: s.array(podAffinityTerm, "If the requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node."),
  });
const affinity = o("Affinity", "Affinity is a group of affinity scheduling rules.", {
  nodeAffinity: o("NodeAffinity", "Node affinity is a group of node affinity scheduling rules.", {
    preferredDuringSchedulingIgnoredDuringExecution: s.array(o("PreferredSchedulingTerm", "An empty preferred scheduling term matches all objects with implicit weight 0.", { preference: s.described(nodeSelectorTerm, "A node selector term, associated with the corresponding weight."), weight: s.int32("Weight associated with matching the corresponding nodeSelectorTerm, in the range 1-100.") }, { required: ["weight", "preference"] }), "The scheduler will prefer to schedule pods to nodes that satisfy the affinity expressions specified by this field."),
    requiredDuringSchedulingIgnoredDuringExecution: s.described(nodeSelector, "If the affinity requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node."),
  }),
  podAffinity: podAffinity("PodAffinity", "Pod affinity is a group of inter pod affinity scheduling rules."),
  podAntiAffinity: podAffinity("PodAntiAffinity", "Pod anti affinity is a group of inter pod anti affinity scheduling rules."),
});

const podSecurityContext = o("PodSecurityContext", "PodSecurityContext holds pod-level security attributes and common container settings.", {
  appArmorProfile: s.looseObject("appArmorProfile is the AppArmor options to use by the containers in this pod."),
  fsGroup: s.int64("A special supplemental group that applies to all containers in a pod."),
  fsGroupChangePolicy: s.string("fsGroupChangePolicy defines behavior of changing ownership and permission of the volume before being exposed inside Pod."),
  runAsGroup: s.int64("The GID to run the entrypoint of the container process."),
  runAsNonRoot: s.bool("Indicates that the container must run as a non-root user."),
  runAsUser: s.int64("The UID to run the entrypoint of the container process."),
  seLinuxChangePolicy: s.string("seLinuxChangePolicy defines how the container's SELinux label is applied to all volumes used by the Pod."),
  seLinuxOptions: s.described(seLinuxOptions, "The SELinux context to be applied to all containers."),
  seccompProfile: s.described(seccompProfile, "The seccomp options to use by the containers in this pod."),
  supplementalGroups: s.array(s.int64(), "A list of groups applied to the first process run in each container."),
  supplementalGroupsPolicy: s.string("Defines how supplemental groups of the first container processes are calculated."),
  sysctls: s.array(o("Sysctl", "Sysctl defines a kernel parameter to be set", { name: s.string("Name of a property to set"), value: s.string("Value of a property to set") }, { required: ["name", "value"] }), "Sysctls hold a list of namespaced sysctls used for the pod."),
  windowsOptions: s.looseObject("The Windows specific settings applied to all containers."),
});

export const podSpec = o("PodSpec", "PodSpec is a description of a pod.", {
  activeDeadlineSeconds: s.int64("Optional duration in seconds the pod may be active on the node relative to StartTime before the system will actively try to mark it failed and kill associated containers."),
  affinity: s.described(affinity, "If specified, the pod's scheduling constraints"),
  automountServiceAccountToken: s.bool("AutomountServiceAccountToken indicates whether a service account token should be automatically mounted."),
  containers: s.mergeList(container, "name", "List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated."),
  dnsConfig: o("PodDNSConfig", "PodDNSConfig defines the DNS parameters of a pod in addition to those generated from DNSPolicy.", {
    nameservers: s.array(s.string(), "A list of DNS name server IP addresses."),
    options: s.array(o("PodDNSConfigOption", "PodDNSConfigOption defines DNS resolver options of a pod.", { name: s.string("Name is this DNS resolver option's name."), value: s.string("Value is this DNS resolver option's value.") }), "A list of DNS resolver options."),
    searches: s.array(s.string(), "A list of DNS search domains for host-name lookup."),
  }),
  dnsPolicy: s.enumOf(["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"], "Set DNS policy for the pod. Defaults to \"ClusterFirst\"."),
  enableServiceLinks: s.bool("EnableServiceLinks indicates whether information about services should be injected into pod's environment variables. Defaults to true."),
  ephemeralContainers: s.mergeList(s.looseObject("An EphemeralContainer is a temporary container that you may add to an existing Pod for user-initiated activities such as debugging."), "name", "List of ephemeral containers run in this pod."),
  hostAliases: s.mergeList(o("HostAlias", "HostAlias holds the mapping between IP and hostnames that will be injected as an entry in the pod's hosts file.", { hostnames: s.array(s.string(), "Hostnames for the above IP address."), ip: s.string("IP address of the host file entry.") }, { required: ["ip"] }), "ip", "HostAliases is an optional list of hosts and IPs that will be injected into the pod's hosts file if specified."),
  hostIPC: s.bool("Use the host's ipc namespace. Optional: Default to false."),
  hostNetwork: s.bool("Host networking requested for this pod. Use the host's network namespace. Default to false."),
  hostPID: s.bool("Use the host's pid namespace. Optional: Default to false."),
  hostUsers: s.bool("Use the host's user namespace. Optional: Default to true."),
  hostname: s.string("Specifies the hostname of the Pod. If not specified, the pod's hostname will be set to a system-defined value."),
  hostnameOverride: s.string("HostnameOverride specifies an explicit override for the pod's hostname as perceived by the pod."),
  imagePullSecrets: s.mergeList(localObjectReference, "name", "ImagePullSecrets is an optional list of references to secrets in the same namespace to use for pulling any of the images used by this PodSpec."),
  initContainers: s.mergeList(container, "name", "List of initialization containers belonging to the pod. Init containers are executed in order prior to containers being started."),
  nodeName: s.string("NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName."),
  nodeSelector: s.stringMap("NodeSelector is a selector which must be true for the pod to fit on a node."),
  os: o("PodOS", "PodOS defines the OS parameters of a pod.", { name: s.string("Name is the name of the operating system. The currently supported values are linux and windows.") }, { required: ["name"] }),
  overhead: s.map(s.quantity(), "Overhead represents the resource overhead associated with running a pod for a given RuntimeClass."),
  preemptionPolicy: s.enumOf(["Never", "PreemptLowerPriority"], "PreemptionPolicy is the Policy for preempting pods with lower priority. Defaults to PreemptLowerPriority if unset."),
  priority: s.int32("The priority value. Various system components use this field to find the priority of the pod. Populated by the Priority admission controller from the PriorityClassName."),
  priorityClassName: s.string("If specified, indicates the pod's priority. \"system-node-critical\" and \"system-cluster-critical\" are two special keywords which indicate the highest priorities."),
  readinessGates: s.array(o("PodReadinessGate", "PodReadinessGate contains the reference to a pod condition", { conditionType: s.string("ConditionType refers to a condition in the pod's condition list with matching type.") }, { required: ["conditionType"] }), "If specified, all readiness gates will be evaluated for pod readiness."),
  resourceClaims: s.mergeList(s.looseObject("PodResourceClaim references exactly one ResourceClaim."), "name", "ResourceClaims defines which ResourceClaims must be allocated and reserved before the Pod is allowed to start."),
  resources: s.described(resourceRequirements, "Resources is the total amount of CPU and Memory resources required by all containers in the pod."),
  restartPolicy: s.enumOf(["Always", "Never", "OnFailure"], "Restart policy for all containers within the pod. One of Always, OnFailure, Never. Default to Always."),
  runtimeClassName: s.string("RuntimeClassName refers to a RuntimeClass object in the node.k8s.io group, which should be used to run this pod."),
  schedulerName: s.string("If specified, the pod will be dispatched by specified scheduler. If not specified, the pod will be dispatched by default scheduler."),
  schedulingGates: s.mergeList(o("PodSchedulingGate", "PodSchedulingGate is associated to a Pod to guard its scheduling.", { name: s.string("Name of the scheduling gate.") }, { required: ["name"] }), "name", "SchedulingGates is an opaque list of values that if specified will block scheduling the pod."),
  securityContext: s.described(podSecurityContext, "SecurityContext holds pod-level security attributes and common container settings."),
  serviceAccount: s.string("DeprecatedServiceAccount is a deprecated alias for ServiceAccountName. Deprecated: Use serviceAccountName instead."),
  serviceAccountName: s.string("ServiceAccountName is the name of the ServiceAccount to use to run this pod."),
  setHostnameAsFQDN: s.bool("If true the pod's hostname will be configured as the pod's FQDN, rather than the leaf name (the default)."),
  shareProcessNamespace: s.bool("Share a single process namespace between all of the containers in a pod."),
  subdomain: s.string("If specified, the fully qualified Pod hostname will be \"<hostname>.<subdomain>.<pod namespace>.svc.<cluster domain>\"."),
  terminationGracePeriodSeconds: s.int64("Optional duration in seconds the pod needs to terminate gracefully. May be decreased in delete request. Defaults to 30 seconds."),
  tolerations: s.array(toleration, "If specified, the pod's tolerations."),
  topologySpreadConstraints: s.mergeList(s.looseObject("TopologySpreadConstraint specifies how to spread matching pods among the given topology."), "topologyKey", "TopologySpreadConstraints describes how a group of pods ought to spread across topology domains.", { listMapKeys: ["topologyKey", "whenUnsatisfiable"] }),
  volumes: s.mergeList(volume, "name", "List of volumes that can be mounted by containers belonging to the pod.", { patchStrategy: "merge,retainKeys" }),
}, { required: ["containers"] });

const containerState = o("ContainerState", "ContainerState holds a possible state of container. Only one of its members may be specified.", {
  running: o("ContainerStateRunning", "ContainerStateRunning is a running state of a container.", { startedAt: s.time("Time at which the container was last (re-)started") }),
  terminated: o("ContainerStateTerminated", "ContainerStateTerminated is a terminated state of a container.", {
    containerID: s.string("Container's ID in the format '<type>://<container_id>'"),
    exitCode: s.int32("Exit status from the last termination of the container"),
    finishedAt: s.time("Time at which the container last terminated"),
    message: s.string("Message regarding the last termination of the container"),
    reason: s.string("(brief) reason from the last termination of the container"),
    signal: s.int32("Signal from the last termination of the container"),
    startedAt: s.time("Time at which previous execution of the container started"),
  }, { required: ["exitCode"] }),
  waiting: o("ContainerStateWaiting", "ContainerStateWaiting is a waiting state of a container.", { message: s.string("Message regarding why the container is not yet running."), reason: s.string("(brief) reason the container is not yet running.") }),
});
const containerStatus = o("ContainerStatus", "ContainerStatus contains details for the current status of this container.", {
  allocatedResources: s.map(s.quantity(), "AllocatedResources represents the compute resources allocated for this container by the node."),
  allocatedResourcesStatus: s.array(s.looseObject(), "AllocatedResourcesStatus represents the status of various resources allocated for this Pod."),
  containerID: s.string("ContainerID is the ID of the container in the format '<type>://<container_id>'."),
  image: s.string("Image is the name of container image that the container is running."),
  imageID: s.string("ImageID is the image ID of the container's image."),
  lastState: s.described(containerState, "LastTerminationState holds the last termination state of the container."),
  name: s.string("Name is a DNS_LABEL representing the unique name of the container."),
  ready: s.bool("Ready specifies whether the container is currently passing its readiness check."),
  resources: s.described(resourceRequirements, "Resources represents the compute resource requests and limits that have been successfully enacted on the running container."),
  restartCount: s.int32("RestartCount holds the number of times the container has been restarted."),
  started: s.bool("Started indicates whether the container has finished its postStart lifecycle hook and passed its startup probe."),
  state: s.described(containerState, "State holds details about the container's current condition."),
  stopSignal: s.string("StopSignal reports the effective stop signal for this container"),
  user: s.looseObject("User represents user identity information initially attached to the first process of the container"),
  volumeMounts: s.mergeList(s.looseObject("VolumeMountStatus shows status of volume mounts."), "mountPath", "Status of volume mounts."),
}, { required: ["name", "ready", "restartCount", "image", "imageID"] });

const podCondition = o("PodCondition", "PodCondition contains details for the current condition of this pod.", {
  lastProbeTime: s.time("Last time we probed the condition."),
  lastTransitionTime: s.time("Last time the condition transitioned from one status to another."),
  message: s.string("Human-readable message indicating details about last transition."),
  observedGeneration: s.int64("If set, this represents the .metadata.generation that the pod condition was set based upon."),
  reason: s.string("Unique, one-word, CamelCase reason for the condition's last transition."),
  status: s.string("Status is the status of the condition. Can be True, False, Unknown."),
  type: s.string("Type is the type of the condition."),
}, { required: ["type", "status"] });
const ipEntry = (name: string, description: string) => o(name, description, { ip: s.string("IP is the IP address assigned.") }, { required: ["ip"] });

export const podStatus = o("PodStatus", "PodStatus represents information about the status of a pod. Status may trail the actual state of a system, especially if the node that hosts the pod cannot contact the control plane.", {
  conditions: s.mergeList(podCondition, "type", "Current service state of pod."),
  containerStatuses: s.array(containerStatus, "Statuses of containers in this pod."),
  ephemeralContainerStatuses: s.array(containerStatus, "Statuses for any ephemeral containers that have run in this pod."),
  extendedResourceClaimStatus: s.looseObject("Status of extended resource claim backed by DRA."),
  hostIP: s.string("hostIP holds the IP address of the host to which the pod is assigned."),
  hostIPs: s.mergeList(ipEntry("HostIP", "HostIP represents a single IP address allocated to the host."), "ip", "hostIPs holds the IP addresses allocated to the host."),
  initContainerStatuses: s.array(containerStatus, "Statuses of init containers in this pod."),
  message: s.string("A human readable message indicating details about why the pod is in this condition."),
  nominatedNodeName: s.string("nominatedNodeName is set only when this pod preempts other pods on the node."),
  observedGeneration: s.int64("If set, this represents the .metadata.generation that the pod status was set based upon."),
  phase: s.enumOf(["Failed", "Pending", "Running", "Succeeded", "Unknown"], "The phase of a Pod is a simple, high-level summary of where the Pod is in its lifecycle."),
  podIP: s.string("podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
  podIPs: s.mergeList(ipEntry("PodIP", "PodIP represents a single IP address allocated to the pod."), "ip", "podIPs holds the IP addresses allocated to the pod."),
  qosClass: s.enumOf(["BestEffort", "Burstable", "Guaranteed"], "The Quality of Service (QOS) classification assigned to the pod based on resource requirements."),
  reason: s.string("A brief CamelCase message indicating details about why the pod is in this state."),
  resize: s.string("Status of resources resize desired for pod's containers."),
  resourceClaimStatuses: s.array(s.looseObject(), "Status of resource claims."),
  startTime: s.time("RFC 3339 date and time at which the object was acknowledged by the Kubelet."),
});

export const podTemplateSpec = o("PodTemplateSpec", "PodTemplateSpec describes the data a pod should have when created from a template", {
  metadata: s.described(objectMeta, "Standard object's metadata."),
  spec: s.described(podSpec, "Specification of the desired behavior of the pod."),
});
