// Validation of a custom resource against its CRD's structural schema, with the messages
// Kubernetes' OpenAPI validator gives (types, required fields, enums, patterns, numeric and length
// bounds, item counts, list-type set/map uniqueness). CEL rules (x-kubernetes-validations) are not
// evaluated here.

import { deepEqual, isPlainObject } from "../objects.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { hasJsonType, resolve, type TypeSchema } from "../schema/types.ts";

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function validate(value: unknown, raw: TypeSchema, path: string, errors: FieldError[]): void {
  const schema = resolve(raw);
  if (value === null) {
    if (!schema.nullable) errors.push(fieldErrors.typeInvalid(path, "null", `${path} in body must be of type ${schema.type ?? "object"}: "null"`));
    return;
  }
  if (schema.intOrString) {
    if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value))) {
      errors.push(fieldErrors.typeInvalid(path, jsonType(value), `${path} in body must be of type integer or string: "${jsonType(value)}"`));
    }
    return;
  }
  if (schema.type && !hasJsonType(value, schema.type)) {
    errors.push(fieldErrors.typeInvalid(path, jsonType(value), `${path} in body must be of type ${schema.type}: "${jsonType(value)}"`));
    return;
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) {
    errors.push({ type: "FieldValueNotSupported", field: path, detail: `Unsupported value: ${show(value)}: supported values: ${schema.enum.map(show).join(", ")}` });
  }
  if (typeof value === "string") {
    if (schema.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(schema.pattern, "u");
      } catch {
        re = undefined;
      }
      if (re && !re.test(value)) errors.push(fieldErrors.invalid(path, value, `${path} in body should match '${schema.pattern}'`));
    }
    if (schema.minLength !== undefined && [...value].length < schema.minLength) errors.push(fieldErrors.invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) errors.push({ type: "FieldValueTooLong", field: path, detail: `Too long: may not be more than ${schema.maxLength} bytes` });
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      errors.push(fieldErrors.invalid(path, value, `${path} in body should be greater than ${schema.exclusiveMinimum ? "" : "or equal to "}${schema.minimum}`));
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      errors.push(fieldErrors.invalid(path, value, `${path} in body should be less than ${schema.exclusiveMaximum ? "" : "or equal to "}${schema.maximum}`));
    }
    if (schema.multipleOf !== undefined && schema.multipleOf > 0 && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9) {
      errors.push(fieldErrors.invalid(path, value, `${path} in body should be a multiple of ${schema.multipleOf}`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(fieldErrors.invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push({ type: "FieldValueTooMany", field: path, detail: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    if (schema.uniqueItems || schema.listType === "set") {
      value.forEach((item, i) => {
        if (value.findIndex((other) => deepEqual(other, item)) !== i) errors.push(fieldErrors.duplicate(`${path}[${i}]`, item));
      });
    }
    if (schema.listType === "map" && schema.listMapKeys) {
      const keys = schema.listMapKeys;
      value.forEach((item, i) => {
        if (!isPlainObject(item)) return;
        const id = keys.map((k) => item[k]);
        if (value.findIndex((other) => isPlainObject(other) && deepEqual(keys.map((k) => other[k]), id)) !== i) errors.push(fieldErrors.duplicate(`${path}[${i}]`, Object.fromEntries(keys.map((k) => [k, item[k]]))));
      });
    }
    if (schema.items) value.forEach((item, i) => validate(item, schema.items!, `${path}[${i}]`, errors));
  }
  if (isPlainObject(value)) {
    for (const req of schema.required ?? []) if (!(req in value) || value[req] === undefined) errors.push(fieldErrors.required(path ? `${path}.${req}` : req, ""));
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties) errors.push(fieldErrors.invalid(path, count, `${path} in body should have at least ${schema.minProperties} properties`));
    if (schema.maxProperties !== undefined && count > schema.maxProperties) errors.push({ type: "FieldValueTooMany", field: path, detail: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
    for (const [key, child] of Object.entries(value)) {
      if (path === "" && (key === "apiVersion" || key === "kind" || key === "metadata")) continue;
      const childSchema = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      if (childSchema) validate(child, childSchema, path ? `${path}.${key}` : key, errors);
    }
  }
}

/** Problems of a custom resource against its version's schema (after pruning). */
export function validateCustomResource(object: unknown, schema: TypeSchema): FieldError[] {
  const errors: FieldError[] = [];
  validate(object, schema, "", errors);
  return errors;
}

/** Fills in the schema's defaults where fields are absent (structural defaulting). */
export function applyDefaults(value: unknown, raw: TypeSchema): unknown {
  const schema = resolve(raw);
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const c = resolve(child);
      if (value[key] === undefined && c.default !== undefined) value[key] = structuredClone(c.default);
      if (value[key] !== undefined) applyDefaults(value[key], child);
    }
    if (typeof schema.additionalProperties === "object") for (const v of Object.values(value)) applyDefaults(v, schema.additionalProperties);
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) applyDefaults(item, schema.items);
  }
  return value;
}
