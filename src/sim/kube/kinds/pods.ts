// Pods: the defaulted and validated PodSpec, a status reset to Pending (with its QoS class) on
// create, the narrow set of spec changes an update may make, the status subresource the kubelet
// writes, scheduling through the binding subresource, and graceful deletion: a DELETE of a pod
// bound to a node sets deletionTimestamp and deletionGracePeriodSeconds and leaves the pod to its
// kubelet, which finishes with gracePeriodSeconds=0; an unbound or finished pod goes at once.

import { deepClone, deepEqual, formatTime, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { conflict, fieldErrors, invalid, success, type FieldError } from "../status.ts";
import { isIpAddress } from "../validation/network.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";
import { validatePodSpec } from "./pod-spec-validation.ts";
import { decodeBody } from "../api/decode-body.ts";
import type { SubresourceCall, SubresourceHandler } from "../registry/resource-type.ts";
import { bindingSchema, podSchema } from "../schema/core.ts";

type Obj = Record<string, unknown>;

const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
const TERMINAL = ["Succeeded", "Failed"];

function specOf(pod: KObject): Obj {
  return isPlainObject(pod.spec) ? pod.spec : {};
}

function statusOf(pod: KObject): Obj {
  return isPlainObject(pod.status) ? pod.status : {};
}

/** Guaranteed, Burstable or BestEffort, from the containers' requests and limits (GetPodQOS). */
export function qosClass(spec: Obj): string {
  const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])] as Obj[];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const r = isPlainObject(c.resources) ? c.resources : {};
    const requests = isPlainObject(r.requests) ? r.requests : {};
    const limits = isPlainObject(r.limits) ? r.limits : {};
    for (const name of ["cpu", "memory"]) {
      if (requests[name] !== undefined || limits[name] !== undefined) any = true;
      if (limits[name] === undefined || (requests[name] !== undefined && String(requests[name]) !== String(limits[name]))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

const MUTABLE_SPEC_MESSAGE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed scheduling gates may change. */
function validatePodUpdate(pod: KObject, old: KObject): FieldError[] {
  const next = specOf(pod);
  const allowed = deepClone(specOf(old));
  for (const list of ["containers", "initContainers"]) {
    const n = next[list];
    const a = allowed[list];
    if (Array.isArray(n) && Array.isArray(a) && n.length === a.length) {
      a.forEach((c, i) => {
        if (isPlainObject(c) && isPlainObject(n[i])) c.image = (n[i] as Obj).image;
      });
    }
  }
  const oldDeadline = allowed.activeDeadlineSeconds as number | undefined;
  const newDeadline = next.activeDeadlineSeconds as number | undefined;
  if (newDeadline !== undefined && (oldDeadline === undefined || newDeadline <= oldDeadline)) allowed.activeDeadlineSeconds = newDeadline;
  const oldTolerations = Array.isArray(allowed.tolerations) ? allowed.tolerations : [];
  const newTolerations = Array.isArray(next.tolerations) ? next.tolerations : [];
  if (oldTolerations.every((t) => newTolerations.some((n) => deepEqual(n, t)))) {
    if (newTolerations.length > 0) allowed.tolerations = newTolerations;
  }
  const oldGates = Array.isArray(allowed.schedulingGates) ? allowed.schedulingGates : [];
  const newGates = Array.isArray(next.schedulingGates) ? next.schedulingGates : [];
  if (newGates.every((g) => oldGates.some((o) => deepEqual(o, g)))) {
    if (newGates.length > 0) allowed.schedulingGates = newGates;
    else delete allowed.schedulingGates;
  }
  if (typeof allowed.terminationGracePeriodSeconds === "number" && allowed.terminationGracePeriodSeconds < 0 && next.terminationGracePeriodSeconds === 1) {
    allowed.terminationGracePeriodSeconds = 1;
  }
  return deepEqual(next, allowed) ? [] : [fieldErrors.forbidden("spec", MUTABLE_SPEC_MESSAGE)];
}

function validatePodStatus(pod: KObject, old: KObject): FieldError[] {
  const errors: FieldError[] = [];
  const status = statusOf(pod);
  const phase = status.phase;
  if (phase !== undefined && !PHASES.includes(String(phase))) errors.push(fieldErrors.notSupported("status.phase", phase, PHASES));
  const oldPhase = String(statusOf(old).phase ?? "");
  if (TERMINAL.includes(oldPhase) && phase !== oldPhase) errors.push(fieldErrors.forbidden("status.phase", `may not be changed from ${oldPhase} to ${String(phase ?? "")}`));
  for (const field of ["podIP", "hostIP"]) {
    const v = status[field];
    if (v !== undefined && v !== "" && (typeof v !== "string" || !isIpAddress(v))) errors.push(fieldErrors.invalid(`status.${field}`, v, "must be a valid IP address"));
  }
  for (const field of ["podIPs", "hostIPs"]) {
    const list = status[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errors.push(fieldErrors.invalid(`status.${field}`, list, "must be a list"));
      continue;
    }
    list.forEach((entry, i) => {
      const ip = isPlainObject(entry) ? entry.ip : undefined;
      if (typeof ip !== "string" || !isIpAddress(ip)) errors.push(fieldErrors.invalid(`status.${field}[${i}].ip`, ip ?? "", "must be a valid IP address"));
    });
    const single = status[field === "podIPs" ? "podIP" : "hostIP"];
    const first = isPlainObject(list[0]) ? list[0].ip : undefined;
    if (list.length > 0 && single !== undefined && first !== single) errors.push(fieldErrors.invalid(`status.${field}[0].ip`, first ?? "", `must be equal to status.${field === "podIPs" ? "podIP" : "hostIP"}`));
  }
  const types = new Set<string>();
  (Array.isArray(status.conditions) ? status.conditions : []).forEach((c, i) => {
    const type = isPlainObject(c) ? c.type : undefined;
    if (typeof type !== "string" || type === "") errors.push(fieldErrors.required(`status.conditions[${i}].type`));
    else if (types.has(type)) errors.push(fieldErrors.duplicate(`status.conditions[${i}].type`, type));
    else types.add(type);
  });
  return errors;
}

/** Sets (or replaces) the condition of that type, keeping lastTransitionTime when the status did not change. */
export function setCondition(status: Obj, condition: Obj, now: number): void {
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as Obj[];
  const index = conditions.findIndex((c) => c.type === condition.type);
  const previous = index === -1 ? undefined : conditions[index];
  const next = { lastProbeTime: null, lastTransitionTime: previous && previous.status === condition.status ? previous.lastTransitionTime : formatTime(now), ...condition };
  if (index === -1) conditions.push(next);
  else conditions[index] = next;
  status.conditions = conditions;
}

/** POST pods/NAME/binding (and the older POST bindings): the scheduler's placement of a pod. */
export async function bindPod(call: SubresourceCall, body: unknown, podName: string): Promise<{ code: number; body: ReturnType<typeof success> }> {
  const binding = decodeBody(call.type, body, call.ctx, { apiVersion: "v1", kind: "Binding" });
  const target = isPlainObject(binding.target) ? binding.target : {};
  const errors: FieldError[] = [];
  if (typeof target.name !== "string" || target.name === "") errors.push(fieldErrors.required("target.name"));
  if (target.kind !== undefined && target.kind !== "" && target.kind !== "Node") errors.push(fieldErrors.notSupported("target.kind", target.kind, ["Node", "<empty>"]));
  if (binding.metadata.name !== undefined && binding.metadata.name !== podName) errors.push(fieldErrors.invalid("metadata.name", binding.metadata.name, "must match the pod's name"));
  if (errors.length > 0) throw invalid("", "Binding", podName, errors);
  const gr = { group: "", resource: "pods/binding" };
  const old = await call.api.get(call.ctx, call.type, call.namespace, podName);
  const nodeName = specOf(old).nodeName;
  if (typeof nodeName === "string" && nodeName !== "") throw conflict(gr, podName, `pod ${podName} is already assigned to node "${nodeName}"`);
  if (old.metadata.deletionTimestamp) throw conflict(gr, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
  await call.api.admit(call.ctx, "CREATE", call.type, "binding", call.namespace, podName, binding, old);
  const next = deepClone(old);
  next.spec = { ...specOf(next), nodeName: target.name };
  if (binding.metadata.annotations) next.metadata.annotations = { ...next.metadata.annotations, ...binding.metadata.annotations };
  const status = { ...statusOf(next) };
  setCondition(status, { type: "PodScheduled", status: "True" }, call.api.now());
  next.status = status;
  call.api.commit(call.ctx, call.type, next, old);
  return { code: 201, body: success() };
}

const binding: SubresourceHandler = {
  kind: { group: "", version: "v1", kind: "Binding" },
  verbs: ["create"],
  create: (call, body) => bindPod(call, body, call.name),
};

/** The older way to bind: POST /api/v1/namespaces/NS/bindings with the pod's name. */
export const bindings = defineType({
  group: "",
  version: "v1",
  resource: "bindings",
  kind: "Binding",
  namespaced: true,
  schema: bindingSchema,
  verbs: ["create"],
  virtualCreate: (object, call) => bindPod({ ...call, type: pods }, object, object.metadata.name ?? ""),
});

export const pods = defineType({
  group: "",
  version: "v1",
  resource: "pods",
  kind: "Pod",
  namespaced: true,
  schema: podSchema,
  shortNames: ["po"],
  categories: ["all"],
  status: true,
  generation: true,
  returnDeletedObject: true,
  subresources: { binding },
  selectableFields: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
  fieldSet: (pod) => {
    const spec = specOf(pod);
    const status = statusOf(pod);
    return {
      "spec.nodeName": String(spec.nodeName ?? ""),
      "spec.restartPolicy": String(spec.restartPolicy ?? ""),
      "spec.schedulerName": String(spec.schedulerName ?? ""),
      "spec.serviceAccountName": String(spec.serviceAccountName ?? ""),
      "spec.hostNetwork": String(spec.hostNetwork === true),
      "status.phase": String(status.phase ?? ""),
      "status.podIP": String(status.podIP ?? ""),
      "status.nominatedNodeName": String(status.nominatedNodeName ?? ""),
    };
  },
  strategy: {
    defaults(pod) {
      if (isPlainObject(pod.spec)) defaultPodSpec(pod.spec);
    },
    prepareForCreate(pod) {
      pod.status = { phase: "Pending", qosClass: qosClass(specOf(pod)) };
    },
    validate: (pod) => validatePodSpec(pod.spec, "spec"),
    validateUpdate: validatePodUpdate,
    validateStatusUpdate: validatePodStatus,
    gracePeriod(pod, requested) {
      const spec = specOf(pod);
      if (typeof spec.nodeName !== "string" || spec.nodeName === "") return 0;
      if (TERMINAL.includes(String(statusOf(pod).phase))) return 0;
      const grace = requested ?? (typeof spec.terminationGracePeriodSeconds === "number" ? spec.terminationGracePeriodSeconds : 30);
      return Math.max(0, grace);
    },
  },
});
