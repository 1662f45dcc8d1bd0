// Writing a ResourceType with Kubernetes' usual defaults, so each kind states only what differs.

import { ALL_VERBS, apiVersionOf, type ResourceType } from "./resource-type.ts";

export type TypeSpec = Partial<ResourceType> & Pick<ResourceType, "group" | "version" | "resource" | "kind" | "namespaced">;

export function defineType(spec: TypeSpec): ResourceType {
  return {
    listKind: `${spec.kind}List`,
    singular: spec.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    table: `${spec.group || "core"}/${spec.resource}`,
    preferred: true,
    storageApiVersion: apiVersionOf(spec),
    status: false,
    statusOnCreate: "reset",
    subresources: {},
    generation: false,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    strategicMerge: true,
    returnDeletedObject: false,
    selectableFields: [],
    strategy: {},
    ...spec,
  };
}
