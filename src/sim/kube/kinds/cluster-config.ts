// Cluster-level configuration kinds: scheduling.k8s.io PriorityClasses (with the two system classes
// every cluster has; aws-node runs at system-node-critical) and admissionregistration.k8s.io
// webhook configurations (stored and validated now; calling the webhooks is the admission
// webhook plugin's job, issue 13).

import { isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import type { TypeSchema } from "../schema/types.ts";
import { mutatingWebhookConfigurationSchema, priorityClassSchema, validatingWebhookConfigurationSchema } from "../schema/cluster.ts";

export const SYSTEM_PRIORITY_CLASSES: KObject[] = [
  { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "system-node-critical" }, value: 2000001000, description: "Used for system critical pods that must not be moved from their current node.", preemptionPolicy: "PreemptLowerPriority" },
  { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "system-cluster-critical" }, value: 2000000000, description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.", preemptionPolicy: "PreemptLowerPriority" },
];
const MAX_USER_PRIORITY = 1_000_000_000;

export const priorityclasses = defineType({
  group: "scheduling.k8s.io",
  version: "v1",
  resource: "priorityclasses",
  kind: "PriorityClass",
  namespaced: false,
  schema: priorityClassSchema,
  shortNames: ["pc"],
  strategy: {
    defaults(pc) {
      if (pc.preemptionPolicy === undefined) pc.preemptionPolicy = "PreemptLowerPriority";
    },
    validate(pc) {
      const errors: FieldError[] = [];
      if (typeof pc.value !== "number" || !Number.isInteger(pc.value)) errors.push(fieldErrors.required("value", ""));
      const system = SYSTEM_PRIORITY_CLASSES.find((s) => s.metadata.name === pc.metadata.name);
      if (system) {
        if (pc.value !== system.value) errors.push(fieldErrors.forbidden("metadata.name", `${pc.metadata.name} is a system priority class with value ${String(system.value)}`));
      } else {
        if (pc.metadata.name?.startsWith("system-")) errors.push(fieldErrors.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved"));
        if (typeof pc.value === "number" && pc.value > MAX_USER_PRIORITY) errors.push(fieldErrors.forbidden("value", `maximum allowed value of a user defined priority is ${MAX_USER_PRIORITY}`));
      }
      if (!["PreemptLowerPriority", "Never"].includes(String(pc.preemptionPolicy))) errors.push(fieldErrors.notSupported("preemptionPolicy", pc.preemptionPolicy, ["Never", "PreemptLowerPriority"]));
      return errors;
    },
    validateUpdate(pc, old) {
      const errors: FieldError[] = [];
      if (pc.value !== old.value) errors.push(fieldErrors.forbidden("value", "may not be changed in an update."));
      if (pc.preemptionPolicy !== old.preemptionPolicy) errors.push(fieldErrors.invalid("preemptionPolicy", pc.preemptionPolicy, "field is immutable"));
      return errors;
    },
  },
});

function defaultWebhooks(config: KObject, mutating: boolean): void {
  if (!Array.isArray(config.webhooks)) return;
  for (const w of config.webhooks) {
    if (!isPlainObject(w)) continue;
    w.failurePolicy ??= "Fail";
    w.matchPolicy ??= "Equivalent";
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    if (mutating) w.reinvocationPolicy ??= "Never";
    if (isPlainObject(w.clientConfig) && isPlainObject(w.clientConfig.service)) w.clientConfig.service.port ??= 443;
    if (Array.isArray(w.rules)) for (const r of w.rules) if (isPlainObject(r)) r.scope ??= "*";
  }
}

function validateWebhooks(config: KObject): FieldError[] {
  const errors: FieldError[] = [];
  const hooks = Array.isArray(config.webhooks) ? config.webhooks : [];
  const names = new Set<string>();
  hooks.forEach((w, i) => {
    const p = `webhooks[${i}]`;
    if (!isPlainObject(w)) return errors.push(fieldErrors.invalid(p, w, "must be an object"));
    if (typeof w.name !== "string" || w.name.split(".").length < 3) errors.push(fieldErrors.invalid(`${p}.name`, w.name ?? "", "should be a domain with at least three segments separated by dots"));
    else if (names.has(w.name)) errors.push(fieldErrors.duplicate(`${p}.name`, w.name));
    else names.add(w.name);
    const cc = isPlainObject(w.clientConfig) ? w.clientConfig : undefined;
    if (!cc || (cc.url === undefined) === (cc.service === undefined)) errors.push(fieldErrors.required(`${p}.clientConfig`, "exactly one of url or service is required"));
    if (!Array.isArray(w.admissionReviewVersions) || w.admissionReviewVersions.length === 0) errors.push(fieldErrors.required(`${p}.admissionReviewVersions`, "must specify one of v1, v1beta1"));
    if (!["None", "NoneOnDryRun", "Some", "Unknown"].includes(String(w.sideEffects))) errors.push(fieldErrors.notSupported(`${p}.sideEffects`, w.sideEffects ?? "", ["None", "NoneOnDryRun"]));
    if (!["Ignore", "Fail"].includes(String(w.failurePolicy))) errors.push(fieldErrors.notSupported(`${p}.failurePolicy`, w.failurePolicy, ["Fail", "Ignore"]));
    const t = w.timeoutSeconds;
    if (typeof t !== "number" || t < 1 || t > 30) errors.push(fieldErrors.invalid(`${p}.timeoutSeconds`, t, "the timeout value must be between 1 and 30 seconds"));
  });
  return errors;
}

function webhookConfiguration(resource: string, kind: string, mutating: boolean, schema: TypeSchema) {
  return defineType({
    schema,
    group: "admissionregistration.k8s.io",
    version: "v1",
    resource,
    kind,
    namespaced: false,
    categories: ["api-extensions"],
    generation: true,
    strategy: {
      defaults: (c) => defaultWebhooks(c, mutating),
      validate: validateWebhooks,
    },
  });
}

export const mutatingwebhookconfigurations = webhookConfiguration("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", true, mutatingWebhookConfigurationSchema);
export const validatingwebhookconfigurations = webhookConfiguration("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, validatingWebhookConfigurationSchema);
