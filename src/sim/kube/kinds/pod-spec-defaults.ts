// Kubernetes' defaulting of a PodSpec (SetDefaults_PodSpec, _Container, _Probe, _Volume, ...),
// used by pods and by the pod templates of workloads, so `kubectl get -o yaml` shows what it shows
// on a real cluster and controllers see the same defaulted templates.

import { isPlainObject } from "../objects.ts";

type Obj = Record<string, unknown>;

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function objects(list: unknown): Obj[] {
  return Array.isArray(list) ? (list.filter(isPlainObject) as Obj[]) : [];
}

/** Always when the image has no tag or the tag is :latest (and no digest), else IfNotPresent. */
export function defaultPullPolicy(image: unknown): string {
  if (typeof image !== "string") return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const tagAt = image.indexOf(":", lastSlash + 1);
  if (tagAt === -1) return "Always";
  return image.slice(tagAt + 1) === "latest" ? "Always" : "IfNotPresent";
}

function defaultHandler(handler: unknown): void {
  if (!isPlainObject(handler)) return;
  if (isPlainObject(handler.httpGet)) setDefault(handler.httpGet, "scheme", "HTTP");
}

function defaultProbe(probe: unknown): void {
  if (!isPlainObject(probe)) return;
  setDefault(probe, "timeoutSeconds", 1);
  setDefault(probe, "periodSeconds", 10);
  setDefault(probe, "successThreshold", 1);
  setDefault(probe, "failureThreshold", 3);
  defaultHandler(probe);
  if (isPlainObject(probe.grpc)) setDefault(probe.grpc, "service", "");
}

function defaultContainer(container: Obj, hostNetwork: boolean): void {
  setDefault(container, "terminationMessagePath", "/dev/termination-log");
  setDefault(container, "terminationMessagePolicy", "File");
  setDefault(container, "imagePullPolicy", defaultPullPolicy(container.image));
  setDefault(container, "resources", {});
  for (const port of objects(container.ports)) {
    setDefault(port, "protocol", "TCP");
    if (hostNetwork && port.hostPort === undefined) port.hostPort = port.containerPort;
  }
  for (const env of objects(container.env)) {
    const valueFrom = env.valueFrom;
    if (isPlainObject(valueFrom) && isPlainObject(valueFrom.fieldRef)) setDefault(valueFrom.fieldRef, "apiVersion", "v1");
  }
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) defaultProbe(container[probe]);
  if (isPlainObject(container.lifecycle)) {
    defaultHandler(container.lifecycle.postStart);
    defaultHandler(container.lifecycle.preStop);
  }
  // A container that states only limits gets the same requests (SetDefaults_Pod).
  const resources = container.resources;
  if (isPlainObject(resources) && isPlainObject(resources.limits)) {
    const requests: Obj = isPlainObject(resources.requests) ? resources.requests : {};
    for (const [name, value] of Object.entries(resources.limits)) if (requests[name] === undefined) requests[name] = value;
    if (Object.keys(requests).length > 0) resources.requests = requests;
  }
}

const VOLUME_SOURCES = [
  "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
  "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
  "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos",
  "csi", "ephemeral", "image",
];

export function volumeSourcesOf(volume: Obj): string[] {
  return VOLUME_SOURCES.filter((s) => volume[s] !== undefined);
}

function defaultItems(items: unknown): void {
  for (const item of objects(items)) if (isPlainObject(item.fieldRef)) setDefault(item.fieldRef, "apiVersion", "v1");
}

function defaultVolume(volume: Obj): void {
  if (volumeSourcesOf(volume).length === 0) volume.emptyDir = {};
  if (isPlainObject(volume.hostPath)) setDefault(volume.hostPath, "type", "");
  for (const source of ["configMap", "secret", "downwardAPI", "projected"]) {
    const v = volume[source];
    if (isPlainObject(v)) setDefault(v, "defaultMode", 420);
  }
  if (isPlainObject(volume.downwardAPI)) defaultItems(volume.downwardAPI.items);
  if (isPlainObject(volume.projected)) {
    for (const s of objects(volume.projected.sources)) {
      if (isPlainObject(s.downwardAPI)) defaultItems(s.downwardAPI.items);
      if (isPlainObject(s.serviceAccountToken)) setDefault(s.serviceAccountToken, "expirationSeconds", 3607);
    }
  }
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", {});
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "enableServiceLinks", true);
  if (spec.serviceAccountName !== undefined) spec.serviceAccount = spec.serviceAccountName;
  else if (typeof spec.serviceAccount === "string") spec.serviceAccountName = spec.serviceAccount;
  const hostNetwork = spec.hostNetwork === true;
  for (const list of ["containers", "initContainers"]) for (const c of objects(spec[list])) defaultContainer(c, hostNetwork);
  for (const v of objects(spec.volumes)) defaultVolume(v);
}

/** The defaults of a pod template (workloads): its spec like a pod's. */
export function defaultPodTemplate(template: unknown): void {
  if (!isPlainObject(template)) return;
  if (isPlainObject(template.spec)) defaultPodSpec(template.spec);
}
