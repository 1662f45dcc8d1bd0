// The columns `kubectl get` shows for the kinds people look at most, as kube-apiserver's printers
// (pkg/printers/internalversion) make them: pods (READY, STATUS as kubectl words it, RESTARTS,
// AGE; IP and NODE with -o wide), nodes (STATUS, ROLES, AGE, VERSION; addresses with -o wide),
// Deployments, ReplicaSets and DaemonSets (their replica counts), namespaces, events, services.

import { isPlainObject, type KObject } from "../objects.ts";
import { humanDuration } from "./age.ts";
import { NAME_COLUMN } from "./table.ts";
import type { TableColumn, TablePrinter } from "./table-types.ts";

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as unknown[]).filter(isPlainObject) : []);
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const col = (name: string, type: TableColumn["type"], description: string, priority = 0): TableColumn => ({ name, type, description, priority });
const age = (o: KObject, now: number) => (o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : "<unknown>");
const AGE = col("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.");

function containerNames(spec: Obj, key: string): string {
  const names = list(spec[key]).map((c) => String(c.name ?? ""));
  return names.length > 0 ? names.join(",") : "<none>";
}

function images(spec: Obj, key: string): string {
  const names = list(spec[key]).map((c) => String(c.image ?? ""));
  return names.length > 0 ? names.join(",") : "<none>";
}

function selectorText(selector: unknown): string {
  const s = obj(selector);
  const parts = Object.entries(obj(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of list(s.matchExpressions)) parts.push(`${String(e.key)} ${String(e.operator).toLowerCase()} (${(Array.isArray(e.values) ? e.values : []).join(",")})`);
  return parts.length > 0 ? parts.join(",") : "<none>";
}

/** The STATUS kubectl prints for a pod (printPod): the reason, a container's waiting or terminated reason, Terminating. */
export function podStatusText(pod: KObject): string {
  const status = obj(pod.status);
  let reason = typeof status.reason === "string" && status.reason ? status.reason : typeof status.phase === "string" ? status.phase : "Pending";
  const inits = list(status.initContainerStatuses);
  let initializing = false;
  inits.forEach((c, i) => {
    if (initializing) return;
    const state = obj(c.state);
    const terminated = obj(state.terminated);
    if (state.terminated && num(terminated.exitCode) === 0) return;
    initializing = true;
    if (state.terminated) reason = terminated.reason ? `Init:${String(terminated.reason)}` : `Init:ExitCode:${num(terminated.exitCode)}`;
    else if (state.waiting && obj(state.waiting).reason && obj(state.waiting).reason !== "PodInitializing") reason = `Init:${String(obj(state.waiting).reason)}`;
    else reason = `Init:${i}/${list(obj(pod.spec).initContainers).length}`;
  });
  if (!initializing) {
    let running = false;
    for (const c of list(status.containerStatuses).reverse()) {
      const state = obj(c.state);
      if (state.waiting && obj(state.waiting).reason) reason = String(obj(state.waiting).reason);
      else if (state.terminated && obj(state.terminated).reason) reason = String(obj(state.terminated).reason);
      else if (state.terminated) reason = `ExitCode:${num(obj(state.terminated).exitCode)}`;
      else if (state.running && c.ready === true) running = true;
    }
    if (reason === "Completed" && running) reason = list(status.conditions).some((c) => c.type === "Ready" && c.status === "True") ? "Running" : "NotReady";
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

export const POD_PRINTER: TablePrinter = {
  columns: [
    NAME_COLUMN,
    col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "string", "The aggregate status of the containers in this pod."),
    col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    col("IP", "string", "IP address allocated to the pod.", 1),
    col("Node", "string", "Name of the node where the pod is scheduled.", 1),
    col("Nominated Node", "string", "Name of the node where the pod is nominated.", 1),
    col("Readiness Gates", "string", "Pod readiness gates.", 1),
  ],
  row(pod, now) {
    const status = obj(pod.status);
    const containers = list(obj(pod.spec).containers);
    const statuses = list(status.containerStatuses);
    const ready = statuses.filter((c) => c.ready === true).length;
    const restarts = statuses.reduce((n, c) => n + num(c.restartCount), 0);
    return [
      pod.metadata.name ?? "",
      `${ready}/${containers.length}`,
      podStatusText(pod),
      String(restarts),
      age(pod, now),
      typeof status.podIP === "string" && status.podIP ? status.podIP : "<none>",
      typeof obj(pod.spec).nodeName === "string" && obj(pod.spec).nodeName ? String(obj(pod.spec).nodeName) : "<none>",
      typeof status.nominatedNodeName === "string" ? status.nominatedNodeName : "<none>",
      "<none>",
    ];
  },
};

export const NODE_PRINTER: TablePrinter = {
  columns: [
    NAME_COLUMN,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
    col("External-IP", "string", "List of addresses reachable to the node.", 1),
    col("OS-Image", "string", "OS image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
    col("Kernel-Version", "string", "Kernel version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col("Container-Runtime", "string", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
  ],
  row(node, now) {
    const status = obj(node.status);
    const ready = list(status.conditions).find((c) => c.type === "Ready");
    let text = ready?.status === "True" ? "Ready" : ready ? "NotReady" : "Unknown";
    if (obj(node.spec).unschedulable === true) text += ",SchedulingDisabled";
    const roles = Object.keys(node.metadata.labels ?? {})
      .filter((k) => k.startsWith("node-role.kubernetes.io/"))
      .map((k) => k.slice("node-role.kubernetes.io/".length))
      .filter(Boolean);
    const info = obj(status.nodeInfo);
    const address = (type: string) => String(list(status.addresses).find((a) => a.type === type)?.address ?? "<none>");
    return [node.metadata.name ?? "", text, roles.length > 0 ? roles.join(",") : "<none>", age(node, now), String(info.kubeletVersion ?? ""), address("InternalIP"), address("ExternalIP"), String(info.osImage ?? "<unknown>"), String(info.kernelVersion ?? "<unknown>"), String(info.containerRuntimeVersion ?? "<unknown>")];
  },
};

const WIDE_TEMPLATE = [
  col("Containers", "string", "Names of each container in the template.", 1),
  col("Images", "string", "Images referenced by each container in the template.", 1),
  col("Selector", "string", "The label selector.", 1),
];

function templateCells(o: KObject): string[] {
  const spec = obj(o.spec);
  const podSpec = obj(obj(spec.template).spec);
  return [containerNames(podSpec, "containers"), images(podSpec, "containers"), selectorText(spec.selector)];
}

export const DEPLOYMENT_PRINTER: TablePrinter = {
  columns: [NAME_COLUMN, col("Ready", "string", "Number of the pod with ready state"), col("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."), col("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."), AGE, ...WIDE_TEMPLATE],
  row(d, now) {
    const s = obj(d.status);
    return [d.metadata.name ?? "", `${num(s.readyReplicas)}/${num(obj(d.spec).replicas)}`, num(s.updatedReplicas), num(s.availableReplicas), age(d, now), ...templateCells(d)];
  },
};

export const REPLICASET_PRINTER: TablePrinter = {
  columns: [NAME_COLUMN, col("Desired", "integer", "Number of desired pods."), col("Current", "integer", "Number of actual replicas."), col("Ready", "integer", "The number of ready replicas for this replica set."), AGE, ...WIDE_TEMPLATE],
  row(rs, now) {
    const s = obj(rs.status);
    return [rs.metadata.name ?? "", num(obj(rs.spec).replicas), num(s.replicas), num(s.readyReplicas), age(rs, now), ...templateCells(rs)];
  },
};

export const DAEMONSET_PRINTER: TablePrinter = {
  columns: [
    NAME_COLUMN,
    col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
    col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
    col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod."),
    col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
    col("Node Selector", "string", "The node selector for the daemon pod."),
    AGE,
    ...WIDE_TEMPLATE,
  ],
  row(ds, now) {
    const s = obj(ds.status);
    const selector = Object.entries(obj(obj(obj(obj(ds.spec).template).spec).nodeSelector)).map(([k, v]) => `${k}=${String(v)}`);
    return [ds.metadata.name ?? "", num(s.desiredNumberScheduled), num(s.currentNumberScheduled), num(s.numberReady), num(s.updatedNumberScheduled), num(s.numberAvailable), selector.length > 0 ? selector.join(",") : "<none>", age(ds, now), ...templateCells(ds)];
  },
};

export const NAMESPACE_PRINTER: TablePrinter = {
  columns: [NAME_COLUMN, col("Status", "string", "The status of the namespace"), AGE],
  row: (ns, now) => [ns.metadata.name ?? "", String(obj(ns.status).phase ?? "Active"), age(ns, now)],
};

function since(time: unknown, now: number): string {
  return typeof time === "string" && time ? humanDuration(now - Date.parse(time)) : "<unknown>";
}

export const EVENT_PRINTER: TablePrinter = {
  columns: [
    col("Last Seen", "string", "Time when last this event was observed."),
    col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future."),
    col("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", "string", "The object that this event is about."),
    col("Message", "string", "A human-readable description of the status of this operation."),
    { ...NAME_COLUMN, priority: 1 },
  ],
  row(e, now) {
    const o = obj(e.involvedObject);
    const last = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
    const count = num(e.count);
    return [
      `${since(last, now)}${count > 1 ? ` (x${count} over ${since(e.firstTimestamp ?? last, now)})` : ""}`,
      String(e.type ?? ""),
      String(e.reason ?? ""),
      `${String(o.kind ?? "").toLowerCase()}/${String(o.name ?? "")}`,
      String(e.message ?? "").trim(),
      e.metadata.name ?? "",
    ];
  },
};

export const SERVICE_PRINTER: TablePrinter = {
  columns: [
    NAME_COLUMN,
    col("Type", "string", "The type of the service."),
    col("Cluster-IP", "string", "The IP address of the service."),
    col("External-IP", "string", "The external IP address of the service."),
    col("Port(s)", "string", "The ports of the service."),
    AGE,
    col("Selector", "string", "The selector of the service.", 1),
  ],
  row(svc, now) {
    const spec = obj(svc.spec);
    const ports = list(spec.ports).map((p) => `${num(p.port)}${p.nodePort ? `:${num(p.nodePort)}` : ""}/${String(p.protocol ?? "TCP")}`);
    const external = Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0 ? spec.externalIPs.join(",") : spec.type === "LoadBalancer" ? "<pending>" : "<none>";
    const selector = Object.entries(obj(spec.selector)).map(([k, v]) => `${k}=${String(v)}`);
    return [svc.metadata.name ?? "", String(spec.type ?? "ClusterIP"), String(spec.clusterIP ?? "<none>"), external, ports.length > 0 ? ports.join(",") : "<none>", age(svc, now), selector.length > 0 ? selector.join(",") : "<none>"];
  },
};

/** The printer of a built-in resource ("v1/pods", "apps/v1/deployments", ...), if it has its own. */
export const BUILT_IN_PRINTERS: Record<string, TablePrinter> = {
  "v1/pods": POD_PRINTER,
  "v1/nodes": NODE_PRINTER,
  "v1/namespaces": NAMESPACE_PRINTER,
  "v1/events": EVENT_PRINTER,
  "v1/services": SERVICE_PRINTER,
  "apps/v1/deployments": DEPLOYMENT_PRINTER,
  "apps/v1/replicasets": REPLICASET_PRINTER,
  "apps/v1/daemonsets": DAEMONSET_PRINTER,
};
