// The rules every object's metadata follows, whatever its kind (ValidateObjectMeta and the
// generic registry's BeforeCreate/BeforeUpdate): names and generateName, namespaces, labels,
// annotations, finalizers and owner references; uid, creationTimestamp and generation set by the
// server; what an update may not change.

import { randomUUID } from "node:crypto";
import { deepEqual, formatTime, isPlainObject, type KObject, type ObjectMeta } from "../objects.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { checkDnsSubdomain, checkLabelValue, checkQualifiedName } from "../validation/names.ts";
import type { ResourceType } from "../registry/resource-type.ts";

const TOTAL_ANNOTATION_SIZE = 256 * 1024;
const GENERATED_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const STANDARD_FINALIZERS = new Set(["kubernetes", "orphan", "foregroundDeletion"]);

/** `base` plus five random characters, as Kubernetes' name generator makes them. */
export function generateName(base: string): string {
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += GENERATED_SUFFIX_ALPHABET[Math.floor(Math.random() * GENERATED_SUFFIX_ALPHABET.length)];
  return base.slice(0, 63 - 5) + suffix;
}

function validateStringMap(value: unknown, path: string, checkValue: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (value === undefined) return errors;
  if (!isPlainObject(value)) return [fieldErrors.invalid(path, value, "must be a map of strings")];
  let size = 0;
  for (const [key, v] of Object.entries(value)) {
    const keyProblem = checkQualifiedName(checkValue ? key : key.toLowerCase());
    if (keyProblem) errors.push(fieldErrors.invalid(path, key, keyProblem));
    if (typeof v !== "string") {
      errors.push(fieldErrors.invalid(`${path}.${key}`, v, "must be a string"));
      continue;
    }
    size += key.length + v.length;
    if (checkValue) {
      const valueProblem = checkLabelValue(v);
      if (valueProblem) errors.push(fieldErrors.invalid(path, v, valueProblem));
    }
  }
  if (!checkValue && size > TOTAL_ANNOTATION_SIZE) errors.push({ type: "FieldValueTooLong", field: path, detail: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE} bytes` });
  return errors;
}

export function validateObjectMeta(meta: ObjectMeta, type: ResourceType, isCreate: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const checkName = type.validateName ?? checkDnsSubdomain;
  if (!meta.name) {
    if (!(isCreate && meta.generateName)) errors.push(fieldErrors.required("metadata.name", "name or generateName is required"));
  } else {
    const problem = checkName(meta.name);
    if (problem) errors.push(fieldErrors.invalid("metadata.name", meta.name, problem));
  }
  if (meta.generateName) {
    const problem = checkName(generateName(meta.generateName));
    if (problem) errors.push(fieldErrors.invalid("metadata.generateName", meta.generateName, problem));
  }
  if (type.namespaced) {
    if (!meta.namespace) errors.push(fieldErrors.required("metadata.namespace", ""));
  } else if (meta.namespace) {
    errors.push(fieldErrors.forbidden("metadata.namespace", "not allowed on this type"));
  }
  errors.push(...validateStringMap(meta.labels, "metadata.labels", true));
  errors.push(...validateStringMap(meta.annotations, "metadata.annotations", false));
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) errors.push(fieldErrors.invalid("metadata.finalizers", meta.finalizers, "must be a list of strings"));
    else {
      const seen = new Set<string>();
      meta.finalizers.forEach((f, i) => {
        if (typeof f !== "string") return errors.push(fieldErrors.invalid(`metadata.finalizers[${i}]`, f, "must be a string"));
        if (!STANDARD_FINALIZERS.has(f)) {
          const problem = checkQualifiedName(f);
          if (problem) errors.push(fieldErrors.invalid(`metadata.finalizers[${i}]`, f, problem));
        }
        if (seen.has(f)) errors.push(fieldErrors.duplicate(`metadata.finalizers[${i}]`, f));
        seen.add(f);
      });
      if (meta.finalizers.includes("orphan") && meta.finalizers.includes("foregroundDeletion")) {
        errors.push(fieldErrors.invalid("metadata.finalizers", meta.finalizers, "finalizer orphan and foregroundDeletion cannot be both set"));
      }
    }
  }
  if (meta.ownerReferences !== undefined) {
    if (!Array.isArray(meta.ownerReferences)) errors.push(fieldErrors.invalid("metadata.ownerReferences", meta.ownerReferences, "must be a list"));
    else {
      let controllers = 0;
      meta.ownerReferences.forEach((ref, i) => {
        const path = `metadata.ownerReferences[${i}]`;
        if (!isPlainObject(ref)) return errors.push(fieldErrors.invalid(path, ref, "must be an object"));
        for (const field of ["apiVersion", "kind", "name", "uid"] as const) {
          if (typeof ref[field] !== "string" || ref[field] === "") errors.push(fieldErrors.invalid(`${path}.${field}`, ref[field] ?? "", `${field} must not be empty`));
        }
        if (ref.controller === true) controllers++;
      });
      if (controllers > 1) errors.push(fieldErrors.invalid("metadata.ownerReferences", meta.ownerReferences, "Only one reference can have Controller set to true"));
    }
  }
  return errors;
}

/** What an update must keep (ValidateObjectMetaUpdate); system fields were copied over already. */
export function validateObjectMetaUpdate(next: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  if (next.name !== old.name) errors.push(fieldErrors.invalid("metadata.name", next.name ?? "", "field is immutable"));
  if ((next.namespace ?? "") !== (old.namespace ?? "")) errors.push(fieldErrors.invalid("metadata.namespace", next.namespace ?? "", "field is immutable"));
  if (next.uid !== old.uid) errors.push(fieldErrors.invalid("metadata.uid", next.uid ?? "", "field is immutable"));
  if (old.deletionTimestamp) {
    const added = (next.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f));
    if (added.length > 0) errors.push(fieldErrors.forbidden("metadata.finalizers", `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`));
  }
  return errors;
}

/** The server's part of a new object's metadata (BeforeCreate). */
export function prepareCreateMeta(object: KObject, type: ResourceType, now: number): void {
  const meta = object.metadata;
  if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
  meta.uid = randomUUID();
  meta.creationTimestamp = formatTime(now);
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.managedFields;
  if (type.generation) meta.generation = 1;
  else delete meta.generation;
  if (!type.namespaced) delete meta.namespace;
  dropEmptyMaps(meta);
}

/** Carries the system fields of `old` over to an update (BeforeUpdate) and bumps the generation. */
export function prepareUpdateMeta(object: KObject, old: KObject, type: ResourceType): void {
  const meta = object.metadata;
  const oldMeta = old.metadata;
  if (!meta.uid) meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (oldMeta.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
  else delete meta.deletionGracePeriodSeconds;
  delete meta.managedFields;
  if (meta.generateName === undefined && oldMeta.generateName !== undefined) meta.generateName = oldMeta.generateName;
  if (type.generation) {
    meta.generation = oldMeta.generation ?? 1;
    if (!deepEqual(specOf(object), specOf(old))) meta.generation += 1;
  } else delete meta.generation;
  dropEmptyMaps(meta);
}

/** Everything but metadata and status: what generation counts changes of. */
export function specOf(object: KObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = object;
  return rest;
}

function dropEmptyMaps(meta: ObjectMeta): void {
  for (const key of ["labels", "annotations"] as const) {
    const v = meta[key];
    if (isPlainObject(v) && Object.keys(v).length === 0) delete meta[key];
  }
  if (Array.isArray(meta.finalizers) && meta.finalizers.length === 0) delete meta.finalizers;
  if (Array.isArray(meta.ownerReferences) && meta.ownerReferences.length === 0) delete meta.ownerReferences;
}
