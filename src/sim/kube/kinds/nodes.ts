// Nodes: registered by their kubelet (which creates them with a status, so status is kept on
// create), with a status subresource for heartbeats and conditions; taints, podCIDR(s) and
// providerID as Kubernetes validates them.

import { isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { checkQualifiedName, checkLabelValue } from "../validation/names.ts";
import { isCidr } from "../validation/network.ts";
import { nodeSchema } from "../schema/core.ts";

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

function spec(object: KObject): Record<string, unknown> {
  return isPlainObject(object.spec) ? object.spec : {};
}

export function validateTaints(taints: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (taints === undefined) return errors;
  if (!Array.isArray(taints)) return [fieldErrors.invalid(path, taints, "must be a list")];
  const seen = new Set<string>();
  taints.forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (!isPlainObject(t)) return errors.push(fieldErrors.invalid(p, t, "must be an object"));
    if (typeof t.key !== "string" || t.key === "") errors.push(fieldErrors.required(`${p}.key`));
    else {
      const problem = checkQualifiedName(t.key);
      if (problem) errors.push(fieldErrors.invalid(`${p}.key`, t.key, problem));
    }
    if (t.value !== undefined) {
      const problem = typeof t.value === "string" ? checkLabelValue(t.value) : "must be a string";
      if (problem) errors.push(fieldErrors.invalid(`${p}.value`, t.value, problem));
    }
    if (!TAINT_EFFECTS.includes(String(t.effect))) errors.push(fieldErrors.notSupported(`${p}.effect`, t.effect ?? "", TAINT_EFFECTS));
    const id = `${t.key}:${t.effect}`;
    if (seen.has(id)) errors.push(fieldErrors.duplicate(p, `${t.key}=${t.value ?? ""}:${t.effect}`));
    seen.add(id);
  });
  return errors;
}

function validateNode(object: KObject): FieldError[] {
  const s = spec(object);
  const errors = validateTaints(s.taints, "spec.taints");
  if (s.podCIDR !== undefined && (typeof s.podCIDR !== "string" || !isCidr(s.podCIDR))) errors.push(fieldErrors.invalid("spec.podCIDR", s.podCIDR, "must be a valid CIDR"));
  if (s.podCIDRs !== undefined) {
    if (!Array.isArray(s.podCIDRs)) errors.push(fieldErrors.invalid("spec.podCIDRs", s.podCIDRs, "must be a list"));
    else {
      s.podCIDRs.forEach((c, i) => {
        if (typeof c !== "string" || !isCidr(c)) errors.push(fieldErrors.invalid(`spec.podCIDRs[${i}]`, c, "must be a valid CIDR"));
      });
      if (s.podCIDRs.length > 2) errors.push(fieldErrors.invalid("spec.podCIDRs", s.podCIDRs, "may specify no more than one CIDR for each IP family"));
      if (typeof s.podCIDR === "string" && s.podCIDRs.length > 0 && s.podCIDRs[0] !== s.podCIDR) {
        errors.push(fieldErrors.invalid("spec.podCIDRs", s.podCIDRs, "the first entry must match spec.podCIDR"));
      }
    }
  }
  return errors;
}

function validateNodeUpdate(object: KObject, old: KObject): FieldError[] {
  const errors: FieldError[] = [];
  const s = spec(object);
  const o = spec(old);
  if (o.podCIDR !== undefined && s.podCIDR !== o.podCIDR) errors.push(fieldErrors.forbidden("spec.podCIDR", "node updates may not change podCIDR except from \"\" to valid"));
  if (o.providerID !== undefined && o.providerID !== "" && s.providerID !== o.providerID) {
    errors.push(fieldErrors.forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"));
  }
  return errors;
}

export const nodes = defineType({
  group: "",
  version: "v1",
  resource: "nodes",
  kind: "Node",
  namespaced: false,
  schema: nodeSchema,
  shortNames: ["no"],
  status: true,
  statusOnCreate: "keep",
  selectableFields: ["spec.unschedulable"],
  fieldSet: (o) => ({ "spec.unschedulable": String(spec(o).unschedulable === true) }),
  strategy: {
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
    validateStatusUpdate: (object) => validateNode(object),
  },
});
