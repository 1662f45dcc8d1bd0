// ConfigMaps and Secrets: data keys as Kubernetes allows them, base64 Secret data, stringData
// folded into data on write, Secret types (service-account tokens need their account's name), and
// `immutable` objects whose data cannot change any more.

import { deepEqual, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { configMapSchema, secretSchema } from "../schema/core.ts";

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const MAX_TOTAL_BYTES = 1024 * 1024;
export const SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";
export const SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name";
export const SERVICE_ACCOUNT_UID_ANNOTATION = "kubernetes.io/service-account.uid";

function checkKeys(map: unknown, path: string, errors: FieldError[]): number {
  if (map === undefined) return 0;
  if (!isPlainObject(map)) {
    errors.push(fieldErrors.invalid(path, map, "must be a map"));
    return 0;
  }
  let size = 0;
  for (const [key, value] of Object.entries(map)) {
    if (!CONFIG_KEY.test(key) || key.length > 253) errors.push(fieldErrors.invalid(path, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    size += typeof value === "string" ? value.length : 0;
  }
  return size;
}

function immutabilityErrors(object: KObject, old: KObject, fields: string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (old.immutable === true) {
    if (object.immutable !== true) errors.push(fieldErrors.forbidden("immutable", "field is immutable when `immutable` is set"));
    for (const f of fields) if (!deepEqual(object[f], old[f])) errors.push(fieldErrors.forbidden(f, "field is immutable when `immutable` is set"));
  }
  return errors;
}

export const configmaps = defineType({
  group: "",
  version: "v1",
  resource: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
  schema: configMapSchema,
  shortNames: ["cm"],
  strategy: {
    validate(cm) {
      const errors: FieldError[] = [];
      const size = checkKeys(cm.data, "data", errors) + checkKeys(cm.binaryData, "binaryData", errors);
      if (isPlainObject(cm.data) && isPlainObject(cm.binaryData)) {
        for (const k of Object.keys(cm.binaryData)) if (k in cm.data) errors.push(fieldErrors.invalid("binaryData", k, "duplicate of key present in data"));
      }
      if (size > MAX_TOTAL_BYTES) errors.push(fieldErrors.tooLong("", MAX_TOTAL_BYTES));
      return errors;
    },
    validateUpdate: (cm, old) => immutabilityErrors(cm, old, ["data", "binaryData"]),
  },
});

export const secrets = defineType({
  group: "",
  version: "v1",
  resource: "secrets",
  kind: "Secret",
  namespaced: true,
  schema: secretSchema,
  selectableFields: ["type"],
  fieldSet: (s) => ({ type: String(s.type ?? "") }),
  strategy: {
    defaults(secret) {
      if (secret.type === undefined || secret.type === "") secret.type = "Opaque";
      // stringData is write-only: it becomes data (base64) and is never stored.
      if (isPlainObject(secret.stringData)) {
        const data: Record<string, unknown> = isPlainObject(secret.data) ? { ...secret.data } : {};
        for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
        secret.data = data;
      }
      delete secret.stringData;
    },
    validate(secret) {
      const errors: FieldError[] = [];
      const size = checkKeys(secret.data, "data", errors);
      if (size > MAX_TOTAL_BYTES * 1.34) errors.push(fieldErrors.tooLong("data", MAX_TOTAL_BYTES));
      if (secret.type === SERVICE_ACCOUNT_TOKEN_TYPE && !secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
        errors.push(fieldErrors.required(`metadata.annotations[${SERVICE_ACCOUNT_NAME_ANNOTATION}]`));
      }
      if (secret.type === "kubernetes.io/dockerconfigjson" && !(isPlainObject(secret.data) && ".dockerconfigjson" in secret.data)) {
        errors.push(fieldErrors.required("data[.dockerconfigjson]"));
      }
      return errors;
    },
    validateUpdate(secret, old) {
      const errors = immutabilityErrors(secret, old, ["data"]);
      if (secret.type !== old.type) errors.push(fieldErrors.invalid("type", secret.type, "field is immutable"));
      return errors;
    },
  },
});
