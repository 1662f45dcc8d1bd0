// A CRD version's openAPIV3Schema (JSONSchemaProps) as the server's TypeSchema, so custom
// resources go through the same decoding (pruning of unknown fields), validation and OpenAPI
// publishing as built-in kinds. Also the structural-schema rules a CRD's schema must follow.

import { isPlainObject } from "../objects.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { objectMeta } from "../schema/meta.ts";
import { s, type TypeSchema } from "../schema/types.ts";

type Props = Record<string, unknown>;

const TYPES = ["object", "array", "string", "integer", "number", "boolean"];

export function typeSchemaOf(props: unknown): TypeSchema {
  if (!isPlainObject(props)) return s.any();
  const out: TypeSchema = {};
  if (typeof props.type === "string" && TYPES.includes(props.type)) out.type = props.type as TypeSchema["type"];
  for (const key of ["format", "description", "pattern"] as const) if (typeof props[key] === "string") out[key] = props[key] as string;
  for (const key of ["minimum", "maximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"] as const) {
    if (typeof props[key] === "number") out[key] = props[key] as number;
  }
  for (const key of ["exclusiveMinimum", "exclusiveMaximum", "uniqueItems", "nullable"] as const) if (props[key] === true) out[key] = true;
  if (Array.isArray(props.required)) out.required = props.required.map(String);
  if (Array.isArray(props.enum)) out.enum = props.enum;
  if (props.default !== undefined) out.default = props.default;
  if (props["x-kubernetes-int-or-string"] === true) out.intOrString = true;
  if (props["x-kubernetes-preserve-unknown-fields"] === true) out.preserveUnknownFields = true;
  if (props["x-kubernetes-embedded-resource"] === true) out.embeddedResource = true;
  if (typeof props["x-kubernetes-list-type"] === "string") out.listType = props["x-kubernetes-list-type"] as TypeSchema["listType"];
  if (Array.isArray(props["x-kubernetes-list-map-keys"])) out.listMapKeys = props["x-kubernetes-list-map-keys"].map(String);
  if (isPlainObject(props.properties)) out.properties = Object.fromEntries(Object.entries(props.properties).map(([k, v]) => [k, typeSchemaOf(v)]));
  if (props.additionalProperties === true) out.additionalProperties = true;
  else if (isPlainObject(props.additionalProperties)) out.additionalProperties = typeSchemaOf(props.additionalProperties);
  if (isPlainObject(props.items)) out.items = typeSchemaOf(props.items);
  return out;
}

/** The schema of a custom resource: apiVersion, kind and full ObjectMeta, then the CRD's schema. */
export function customResourceSchema(root: unknown, gvk: { group: string; version: string; kind: string }): TypeSchema {
  const schema = typeSchemaOf(root);
  const { metadata: _ignored, ...properties } = schema.properties ?? {};
  return {
    ...schema,
    type: "object",
    gvk: [gvk],
    properties: {
      apiVersion: s.string("APIVersion defines the versioned schema of this representation of an object."),
      kind: s.string("Kind is a string value representing the REST resource this object represents."),
      metadata: s.described(objectMeta, "Standard object's metadata."),
      ...properties,
    },
  };
}

/** The structural-schema rules (CRD v1): every node typed, arrays with items, no unsupported keywords. */
export function structuralProblems(props: unknown, path: string, root = true): FieldError[] {
  const errors: FieldError[] = [];
  if (!isPlainObject(props)) return [fieldErrors.required(path, "")];
  const p = props as Props;
  const typed = typeof p.type === "string" && p.type !== "";
  if (!typed && p["x-kubernetes-int-or-string"] !== true && p["x-kubernetes-preserve-unknown-fields"] !== true) {
    errors.push(fieldErrors.required(`${path}.type`, "must not be empty for specified object fields"));
  }
  if (typed && !TYPES.includes(String(p.type))) errors.push(fieldErrors.notSupported(`${path}.type`, p.type, TYPES));
  if (root && p.type !== undefined && p.type !== "object") errors.push(fieldErrors.invalid(`${path}.type`, p.type, "must be object at the root"));
  if (p.type === "array" && !isPlainObject(p.items)) errors.push(fieldErrors.required(`${path}.items`, "must be specified"));
  if (isPlainObject(p.properties) && p.additionalProperties !== undefined && p.additionalProperties !== false) {
    errors.push(fieldErrors.forbidden(`${path}.additionalProperties`, "additionalProperties and properties are mutual exclusive"));
  }
  for (const forbidden of ["$ref", "dependencies", "definitions", "id", "additionalItems", "patternProperties"]) {
    if (p[forbidden] !== undefined) errors.push(fieldErrors.forbidden(`${path}.${forbidden}`, `${forbidden} is not supported`));
  }
  if (isPlainObject(p.properties)) {
    for (const [key, child] of Object.entries(p.properties)) {
      if (root && key === "metadata" && isPlainObject(child)) {
        const allowed = new Set(["name", "generateName"]);
        if (isPlainObject(child.properties) && Object.keys(child.properties).some((k) => !allowed.has(k))) {
          errors.push(fieldErrors.forbidden(`${path}.properties[metadata]`, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
        }
        continue;
      }
      errors.push(...structuralProblems(child, `${path}.properties[${key}]`, false));
    }
  }
  if (isPlainObject(p.items)) errors.push(...structuralProblems(p.items, `${path}.items`, false));
  if (isPlainObject(p.additionalProperties)) errors.push(...structuralProblems(p.additionalProperties, `${path}.additionalProperties`, false));
  return errors;
}
