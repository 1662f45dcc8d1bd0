// The shapes every kind shares (meta.k8s.io/v1): ObjectMeta, owner references, label selectors,
// conditions; and `kindSchema`, which gives a kind its apiVersion, kind and metadata.

import { s, type TypeSchema } from "./types.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

export const ownerReference = s.object(`${META}.OwnerReference`, "OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped.", {
  apiVersion: s.string("API version of the referent."),
  kind: s.string("Kind of the referent."),
  name: s.string("Name of the referent."),
  uid: s.string("UID of the referent."),
  controller: s.bool("If true, this reference points to the managing controller."),
  blockOwnerDeletion: s.bool("If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner cannot be deleted from the store until this reference is removed."),
}, { required: ["apiVersion", "kind", "name", "uid"] });

export const managedFieldsEntry = s.object(`${META}.ManagedFieldsEntry`, "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.", {
  apiVersion: s.string("APIVersion defines the version of this resource that this field set applies to."),
  fieldsType: s.string("FieldsType is the discriminator for the different fields format and version."),
  fieldsV1: s.looseObject("FieldsV1 holds the first JSON version format as described in the \"FieldsV1\" type."),
  manager: s.string("Manager is an identifier of the workflow managing these fields."),
  operation: s.string("Operation is the type of operation which lead to this ManagedFieldsEntry being created."),
  subresource: s.string("Subresource is the name of the subresource used to update that object."),
  time: s.time("Time is the timestamp of when the ManagedFields entry was added."),
});

export const objectMeta = s.object(`${META}.ObjectMeta`, "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.", {
  annotations: s.stringMap("Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects."),
  creationTimestamp: s.time("CreationTimestamp is a timestamp representing the server time when this object was created. Populated by the system. Read-only."),
  deletionGracePeriodSeconds: s.int64("Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. May only be shortened."),
  deletionTimestamp: s.time("DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. Set by the server when a graceful deletion is requested. Read-only."),
  finalizers: s.setList(s.string(), "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list."),
  generateName: s.string("GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
  generation: s.int64("A sequence number representing a specific generation of the desired state. Populated by the system. Read-only."),
  labels: s.stringMap("Map of string keys and values that can be used to organize and categorize (scope and select) objects."),
  managedFields: s.array(managedFieldsEntry, "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow."),
  name: s.string("Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Cannot be updated."),
  namespace: s.string("Namespace defines the space within which each name must be unique. Must be a DNS_LABEL. Cannot be updated."),
  ownerReferences: s.mergeList(ownerReference, "uid", "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected."),
  resourceVersion: s.string("An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. Populated by the system. Read-only."),
  selfLink: s.string("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
  uid: s.string("UID is the unique in time and space value for this object. Populated by the system. Read-only."),
});

export const listMeta = s.object(`${META}.ListMeta`, "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.", {
  continue: s.string("continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available."),
  remainingItemCount: s.int64("remainingItemCount is the number of subsequent items in the list which are not included in this list response."),
  resourceVersion: s.string("String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed."),
  selfLink: s.string("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
});

export const labelSelectorRequirement = s.object(`${META}.LabelSelectorRequirement`, "A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.", {
  key: s.string("key is the label key that the selector applies to."),
  operator: s.string("operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist."),
  values: s.array(s.string(), "values is an array of string values. If the operator is In or NotIn, the values array must be non-empty."),
}, { required: ["key", "operator"] });

export const labelSelector = s.object(`${META}.LabelSelector`, "A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are ANDed. An empty label selector matches all objects. A null label selector matches no objects.", {
  matchExpressions: s.array(labelSelectorRequirement, "matchExpressions is a list of label selector requirements. The requirements are ANDed."),
  matchLabels: s.stringMap("matchLabels is a map of {key,value} pairs."),
}, { mapType: "atomic" });

export const condition = s.object(`${META}.Condition`, "Condition contains details for one aspect of the current state of this API Resource.", {
  lastTransitionTime: s.time("lastTransitionTime is the last time the condition transitioned from one status to another."),
  message: s.string("message is a human readable message indicating details about the transition."),
  observedGeneration: s.int64("observedGeneration represents the .metadata.generation that the condition was set based upon."),
  reason: s.string("reason contains a programmatic identifier indicating the reason for the condition's last transition."),
  status: s.string("status of the condition, one of True, False, Unknown."),
  type: s.string("type of condition in CamelCase or in foo.example.com/CamelCase."),
}, { required: ["type", "status", "lastTransitionTime", "reason", "message"] });

/** A condition list merged by type (the common `status.conditions`). */
export function conditions(item: TypeSchema, description = "Conditions represent the latest available observations of the object's state."): TypeSchema {
  return s.mergeList(item, "type", description);
}

/** A top-level kind: apiVersion, kind and metadata, then its own fields. */
export function kindSchema(definition: string, gvk: { group: string; version: string; kind: string }, description: string, properties: Record<string, TypeSchema>, extra: Partial<TypeSchema> = {}): TypeSchema {
  return s.object(definition, description, {
    apiVersion: s.string("APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values."),
    kind: s.string("Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase."),
    metadata: s.described(objectMeta, "Standard object's metadata."),
    ...properties,
  }, { gvk: [gvk], ...extra });
}
