// Which objects a list or watch returns: its namespace, label selector and field selector, with
// the fields the resource's kind supports (metadata.name, metadata.namespace for namespaced kinds,
// and the kind's own, such as a pod's spec.nodeName).

import type { KObject } from "../objects.ts";
import type { ResourceType } from "../registry/resource-type.ts";
import { matchesLabels, parseLabelSelector, type LabelSelector } from "../selectors/labels.ts";
import { matchesFields, parseFieldSelector, type FieldSelector, type FieldSet } from "../selectors/fields.ts";

export interface Predicate {
  namespace: string; // "" for all namespaces
  labels: LabelSelector;
  fields: FieldSelector;
  /** True for an object of the stored table in its external form. */
  matches(object: KObject): boolean;
  /** True when nothing narrows the result (Kubernetes then reports remainingItemCount). */
  empty: boolean;
}

export function supportedFields(type: ResourceType): string[] {
  return ["metadata.name", ...(type.namespaced ? ["metadata.namespace"] : []), ...type.selectableFields];
}

export function fieldSetOf(type: ResourceType, object: KObject): FieldSet {
  const set: FieldSet = { "metadata.name": object.metadata.name ?? "" };
  if (type.namespaced) set["metadata.namespace"] = object.metadata.namespace ?? "";
  return { ...set, ...(type.fieldSet?.(object) ?? {}) };
}

export function makePredicate(type: ResourceType, namespace: string, labelSelector = "", fieldSelector = ""): Predicate {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector, supportedFields(type));
  return {
    namespace,
    labels,
    fields,
    empty: labels.length === 0 && fields.length === 0,
    matches(object) {
      if (namespace && object.metadata.namespace !== namespace) return false;
      if (labels.length > 0 && !matchesLabels(labels, object.metadata.labels)) return false;
      return fields.length === 0 || matchesFields(fields, fieldSetOf(type, object));
    },
  };
}

/** The storage key prefix that holds a namespace's objects. */
export function namespacePrefix(type: ResourceType, namespace: string): string {
  return type.namespaced && namespace ? `${namespace}/` : "";
}

export function storageKey(type: ResourceType, namespace: string, name: string): string {
  return type.namespaced ? `${namespace}/${name}` : name;
}
