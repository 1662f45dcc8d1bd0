// Namespaces: DNS-label names, the `kubernetes.io/metadata.name` label, the `kubernetes` finalizer
// in spec.finalizers, and deletion in two steps: DELETE makes the namespace Terminating; the
// namespace controller empties it and removes its finalizer through the `finalize` subresource,
// and then the namespace goes.

import { deepClone, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { checkDnsLabel, checkQualifiedName } from "../validation/names.ts";
import { namespaceSchema } from "../schema/core.ts";

export const NAMESPACE_FINALIZER = "kubernetes";
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

function specFinalizers(object: KObject): string[] {
  const spec = object.spec;
  return isPlainObject(spec) && Array.isArray(spec.finalizers) ? (spec.finalizers as string[]) : [];
}

function validateFinalizers(object: KObject): FieldError[] {
  const errors: FieldError[] = [];
  specFinalizers(object).forEach((f, i) => {
    if (typeof f !== "string") return errors.push(fieldErrors.invalid(`spec.finalizers[${i}]`, f, "must be a string"));
    if (f !== NAMESPACE_FINALIZER) {
      const problem = checkQualifiedName(f);
      if (problem) errors.push(fieldErrors.invalid(`spec.finalizers[${i}]`, f, problem));
    }
  });
  return errors;
}

export const namespaces = defineType({
  group: "",
  version: "v1",
  resource: "namespaces",
  kind: "Namespace",
  namespaced: false,
  schema: namespaceSchema,
  shortNames: ["ns"],
  status: true,
  subresources: { finalize: { kind: { group: "", version: "v1", kind: "Namespace" }, verbs: ["update"], generic: true } },
  returnDeletedObject: true,
  selectableFields: ["status.phase"],
  fieldSet: (o) => ({ "status.phase": String((o.status as { phase?: string } | undefined)?.phase ?? "") }),
  validateName: checkDnsLabel,
  strategy: {
    defaults(object) {
      object.metadata.labels = { ...object.metadata.labels, [NAMESPACE_NAME_LABEL]: object.metadata.name ?? "" };
    },
    prepareForCreate(object) {
      // The server owns the finalizer list on create, and a namespace starts Active.
      const spec = isPlainObject(object.spec) ? object.spec : {};
      object.spec = { ...spec, finalizers: [NAMESPACE_FINALIZER] };
      object.status = { phase: "Active" };
    },
    prepareForUpdate(object, old) {
      object.spec = deepClone(old.spec ?? {});
    },
    validate: validateFinalizers,
    blockingFinalizers: specFinalizers,
    beginDeletion(object) {
      object.status = { ...(isPlainObject(object.status) ? object.status : {}), phase: "Terminating" };
    },
    subresourceUpdate(subresource, incoming, old) {
      if (subresource !== "finalize") return undefined;
      const next = deepClone(old);
      next.spec = { ...(isPlainObject(old.spec) ? old.spec : {}), finalizers: specFinalizers(incoming) };
      return next;
    },
  },
});
