// An approximation of Kubernetes' Node authorizer (with AuthorizeNodeWithSelectors, as in 1.34) for
// kubelets (`system:node:<name>` in `system:nodes`). It grants the system:node rules, narrowed to
// the node's own objects:
//   nodes              get its own; list/watch only with fieldSelector metadata.name=<node>
//   pods               get those bound to it; list/watch only with fieldSelector spec.nodeName=<node>
//   pods/status, delete only pods bound to it
//   secrets/configmaps only those a pod bound to it refers to (volumes, env, envFrom, pull secrets)
//   leases             only its own, in kube-node-lease
// What the real one does from its object graph (persistent volumes, resource claims, the
// service-account token audience) is left out; NodeRestriction admission checks what a node writes.

import { isPlainObject, type KObject } from "../objects.ts";
import type { AdmissionReader } from "../admission/plugin.ts";
import { parseFieldSelector } from "../selectors/fields.ts";
import { NODE_RULES } from "./bootstrap-policy.ts";
import { ruleAllows, type AuthorizationAttributes, type Decision } from "./rbac.ts";
import { nodeOf } from "./user.ts";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

function pinned(selector: string | undefined, field: string): string | undefined {
  if (!selector) return undefined;
  try {
    return parseFieldSelector(selector, [field, "metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "type"]).find((r) => r.field === field && r.operator === "=")?.value;
  } catch {
    return undefined;
  }
}

function strings(list: unknown, key: string): string[] {
  return Array.isArray(list) ? list.filter(isPlainObject).map((x) => x[key]).filter((x): x is string => typeof x === "string") : [];
}

/** The secrets and configmaps a pod refers to. */
export function podReferences(pod: KObject): { secrets: Set<string>; configMaps: Set<string> } {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  for (const n of strings(spec.imagePullSecrets, "name")) secrets.add(n);
  const volumes = Array.isArray(spec.volumes) ? spec.volumes.filter(isPlainObject) : [];
  for (const v of volumes) {
    if (isPlainObject(v.secret) && typeof v.secret.secretName === "string") secrets.add(v.secret.secretName);
    if (isPlainObject(v.configMap) && typeof v.configMap.name === "string") configMaps.add(v.configMap.name);
    if (isPlainObject(v.projected) && Array.isArray(v.projected.sources)) {
      for (const s of v.projected.sources.filter(isPlainObject)) {
        if (isPlainObject(s.secret) && typeof s.secret.name === "string") secrets.add(s.secret.name);
        if (isPlainObject(s.configMap) && typeof s.configMap.name === "string") configMaps.add(s.configMap.name);
      }
    }
  }
  const containers = ["containers", "initContainers", "ephemeralContainers"].flatMap((f) => (Array.isArray(spec[f]) ? spec[f].filter(isPlainObject) : []));
  for (const c of containers) {
    for (const e of Array.isArray(c.env) ? c.env.filter(isPlainObject) : []) {
      const from = isPlainObject(e.valueFrom) ? e.valueFrom : {};
      if (isPlainObject(from.secretKeyRef) && typeof from.secretKeyRef.name === "string") secrets.add(from.secretKeyRef.name);
      if (isPlainObject(from.configMapKeyRef) && typeof from.configMapKeyRef.name === "string") configMaps.add(from.configMapKeyRef.name);
    }
    for (const e of Array.isArray(c.envFrom) ? c.envFrom.filter(isPlainObject) : []) {
      if (isPlainObject(e.secretRef) && typeof e.secretRef.name === "string") secrets.add(e.secretRef.name);
      if (isPlainObject(e.configMapRef) && typeof e.configMapRef.name === "string") configMaps.add(e.configMapRef.name);
    }
  }
  return { secrets, configMaps };
}

export class NodeAuthorizer {
  private readonly reader: AdmissionReader;

  constructor(reader: AdmissionReader) {
    this.reader = reader;
  }

  /** undefined when the Node authorizer has no opinion (not a kubelet, or not a node rule). */
  authorize(a: AuthorizationAttributes): Decision | undefined {
    const node = nodeOf(a.user);
    if (!node || !a.resourceRequest || !NODE_RULES.some((r) => ruleAllows(r, a))) return undefined;
    const allow: Decision = { allowed: true, reason: "" };
    const noRelationship = (what: string): Decision => ({ allowed: false, reason: `no relationship found between node '${node}' and this object${what ? ` (${what})` : ""}` });
    const collection = a.verb === "list" || a.verb === "watch";
    switch (a.resource) {
      case "nodes":
        if (collection) return pinned(a.fieldSelector, "metadata.name") === node ? allow : { allowed: false, reason: `can only ${a.verb} its own node with fieldSelector metadata.name=${node}` };
        if (a.verb === "create" && a.name === "") return allow;
        return a.name === node ? allow : noRelationship("");
      case "pods": {
        if (collection) return pinned(a.fieldSelector, "spec.nodeName") === node ? allow : { allowed: false, reason: `can only ${a.verb} pods with spec.nodeName field selector` };
        if (a.verb === "create" && a.subresource === "") return allow;
        if (a.subresource === "eviction") return allow;
        const pod = this.reader.get("v1/pods", a.namespace, a.name);
        return pod && isPlainObject(pod.spec) && pod.spec.nodeName === node ? allow : noRelationship("");
      }
      case "secrets":
      case "configmaps": {
        const name = collection ? pinned(a.fieldSelector, "metadata.name") : a.name;
        if (!name) return { allowed: false, reason: `can only ${a.verb} individual ${a.resource} with fieldSelector metadata.name` };
        const kind = a.resource === "secrets" ? "secrets" : "configMaps";
        for (const pod of this.reader.list("v1/pods", a.namespace)) {
          if (isPlainObject(pod.spec) && pod.spec.nodeName === node && podReferences(pod)[kind].has(name)) return allow;
        }
        return noRelationship("");
      }
      case "leases":
        if (a.namespace !== NODE_LEASE_NAMESPACE) return noRelationship("");
        if (a.verb === "create" && a.name === "") return allow;
        return a.name === node ? allow : noRelationship("");
      default:
        return allow;
    }
  }
}
