// The pod admission plugins that fill in scheduling fields: Priority (spec.priority and
// preemptionPolicy from the PriorityClass, which must exist) and DefaultTolerationSeconds
// (pods tolerate not-ready and unreachable nodes for 300 s unless they say otherwise).

import { isPlainObject } from "../objects.ts";
import { forbidden } from "../status.ts";
import type { AdmissionPlugin, AdmissionRequest } from "./plugin.ts";

type Obj = Record<string, unknown>;

function newPod(request: AdmissionRequest): Obj | undefined {
  if (request.operation !== "CREATE" || request.subresource !== "" || request.type.group !== "" || request.type.resource !== "pods" || !request.object) return undefined;
  if (!isPlainObject(request.object.spec)) request.object.spec = {};
  return request.object.spec as Obj;
}

export const priorityAdmission: AdmissionPlugin = {
  name: "Priority",
  mutate(request, reader) {
    const spec = newPod(request);
    if (!spec) return;
    const className = typeof spec.priorityClassName === "string" ? spec.priorityClassName : "";
    let value = 0;
    let preemption = "PreemptLowerPriority";
    if (className !== "") {
      const pc = reader.get("scheduling.k8s.io/v1/priorityclasses", "", className);
      if (!pc) throw forbidden({ group: "", resource: "pods" }, request.name, `no PriorityClass with name ${className} was found`);
      value = Number(pc.value ?? 0);
      preemption = String(pc.preemptionPolicy ?? preemption);
    } else {
      const global = reader.list("scheduling.k8s.io/v1/priorityclasses", "").find((pc) => pc.globalDefault === true);
      if (global) {
        spec.priorityClassName = global.metadata.name;
        value = Number(global.value ?? 0);
        preemption = String(global.preemptionPolicy ?? preemption);
      }
    }
    if (spec.priority !== undefined && spec.priority !== value) {
      throw forbidden({ group: "", resource: "pods" }, request.name, `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
    }
    spec.priority = value;
    spec.preemptionPolicy ??= preemption;
  },
};

const DEFAULT_TOLERATIONS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

export const defaultTolerationSeconds: AdmissionPlugin = {
  name: "DefaultTolerationSeconds",
  mutate(request) {
    const spec = newPod(request);
    if (!spec) return;
    const tolerations = (Array.isArray(spec.tolerations) ? spec.tolerations : []) as Obj[];
    for (const key of DEFAULT_TOLERATIONS) {
      const tolerated = tolerations.some(
        (t) => isPlainObject(t) && (t.effect === undefined || t.effect === "" || t.effect === "NoExecute") && ((t.operator === "Exists" && (t.key === undefined || t.key === "")) || t.key === key),
      );
      if (!tolerated) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
    }
    spec.tolerations = tolerations;
  },
};
