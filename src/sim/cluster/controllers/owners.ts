// Owner references as kube-controller-manager's controllers use them: the controller reference of
// an object (the one owner with controller: true), the reference a controller puts on what it
// creates, and the workload's selector read from its spec.

import { isPlainObject, type KObject, type OwnerReference } from "../../kube/objects.ts";
import { labelSelectorFromObject, matchesLabels, type LabelSelector } from "../../kube/selectors/labels.ts";

export function controllerRef(object: KObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(object: KObject, owner: KObject): boolean {
  return controllerRef(object)?.uid === owner.metadata.uid;
}

/** The reference a controller sets on an object it creates (controller, blockOwnerDeletion). */
export function ownerReferenceTo(owner: KObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function specOf(object: KObject): Record<string, unknown> {
  return isPlainObject(object.spec) ? object.spec : {};
}

export function statusOf(object: KObject): Record<string, unknown> {
  return isPlainObject(object.status) ? object.status : {};
}

/** The workload's spec.selector (validated by the API server, so never empty here). */
export function selectorOf(workload: KObject): LabelSelector {
  return labelSelectorFromObject(specOf(workload).selector).selector;
}

export function selects(workload: KObject, object: KObject): boolean {
  const selector = selectorOf(workload);
  return selector.length > 0 && matchesLabels(selector, object.metadata.labels ?? {});
}

export function numberAt(object: Record<string, unknown>, key: string, fallback = 0): number {
  const v = object[key];
  return typeof v === "number" ? v : fallback;
}

export function namespacedKey(object: KObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
