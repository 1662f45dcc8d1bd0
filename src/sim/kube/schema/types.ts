// The one description of a type's shape the server uses for everything shape-related: decoding
// (types, unknown fields and fieldValidation), strategic merge patch (list merge keys and
// strategies), CRD structural validation and the OpenAPI documents kubectl reads. It is OpenAPI's
// schema object with Kubernetes' extensions, plus lazy references so recursive types can be written.

export interface TypeSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  description?: string;
  properties?: Record<string, TypeSchema>;
  /** A map: every key allowed, values of this schema (true: anything). */
  additionalProperties?: TypeSchema | boolean;
  items?: TypeSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  /** x-kubernetes-int-or-string (IntOrString, and Quantity when format is "quantity"). */
  intOrString?: boolean;
  /** x-kubernetes-preserve-unknown-fields: fields not in `properties` are kept, not pruned. */
  preserveUnknownFields?: boolean;
  /** x-kubernetes-embedded-resource: apiVersion, kind and metadata are implied. */
  embeddedResource?: boolean;
  // Validation (CRD schemas; built-in kinds validate in code).
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  // Strategic merge patch and server-side apply metadata.
  patchStrategy?: string; // "merge", "replace", "retainKeys", "merge,retainKeys"
  patchMergeKey?: string;
  listType?: "atomic" | "set" | "map";
  listMapKeys?: string[];
  mapType?: "atomic" | "granular";
  /** The OpenAPI definition name of a named type (io.k8s.api.core.v1.Pod). */
  definition?: string;
  /** Top-level kinds: the group/version/kind they are (x-kubernetes-group-version-kind). */
  gvk?: { group: string; version: string; kind: string }[];
  /** A lazy reference to a named type, for recursive types; everything else is read from the target. */
  ref?: () => TypeSchema;
}

/** True when the JSON value is of the schema type (any value when there is none). */
export function hasJsonType(value: unknown, type: TypeSchema["type"]): boolean {
  switch (type) {
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

/** Follows lazy references. */
export function resolve(schema: TypeSchema): TypeSchema {
  let s = schema;
  for (let i = 0; s.ref && i < 16; i++) s = s.ref();
  return s;
}

// Builders for writing the built-in types compactly.
export const s = {
  string: (description?: string, extra: Partial<TypeSchema> = {}): TypeSchema => ({ type: "string", ...(description ? { description } : {}), ...extra }),
  enumOf: (values: string[], description?: string): TypeSchema => ({ type: "string", enum: values, ...(description ? { description } : {}) }),
  int32: (description?: string): TypeSchema => ({ type: "integer", format: "int32", ...(description ? { description } : {}) }),
  int64: (description?: string): TypeSchema => ({ type: "integer", format: "int64", ...(description ? { description } : {}) }),
  number: (description?: string): TypeSchema => ({ type: "number", format: "double", ...(description ? { description } : {}) }),
  bool: (description?: string): TypeSchema => ({ type: "boolean", ...(description ? { description } : {}) }),
  time: (description?: string): TypeSchema => ({ type: "string", format: "date-time", definition: "io.k8s.apimachinery.pkg.apis.meta.v1.Time", ...(description ? { description } : {}) }),
  microTime: (description?: string): TypeSchema => ({ type: "string", format: "date-time", definition: "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", ...(description ? { description } : {}) }),
  bytes: (description?: string): TypeSchema => ({ type: "string", format: "byte", ...(description ? { description } : {}) }),
  quantity: (description?: string): TypeSchema => ({ intOrString: true, format: "quantity", definition: "io.k8s.apimachinery.pkg.api.resource.Quantity", ...(description ? { description } : {}) }),
  intOrString: (description?: string): TypeSchema => ({ intOrString: true, format: "int-or-string", definition: "io.k8s.apimachinery.pkg.util.intstr.IntOrString", ...(description ? { description } : {}) }),
  /** Any JSON value, kept as it is (RawExtension, JSON). */
  any: (description?: string): TypeSchema => ({ preserveUnknownFields: true, ...(description ? { description } : {}) }),
  /** An object whose fields are kept as they come (rarely used sub-structures). */
  looseObject: (description?: string): TypeSchema => ({ type: "object", preserveUnknownFields: true, ...(description ? { description } : {}) }),
  map: (values: TypeSchema, description?: string): TypeSchema => ({ type: "object", additionalProperties: values, ...(description ? { description } : {}) }),
  stringMap: (description?: string): TypeSchema => ({ type: "object", additionalProperties: { type: "string" }, ...(description ? { description } : {}) }),
  array: (items: TypeSchema, description?: string, patch: Partial<TypeSchema> = {}): TypeSchema => ({ type: "array", items, ...(description ? { description } : {}), ...patch }),
  /** A list merged by key in strategic merge patch (containers by name, ...). */
  mergeList: (items: TypeSchema, key: string, description?: string, extra: Partial<TypeSchema> = {}): TypeSchema => ({
    type: "array",
    items,
    patchStrategy: "merge",
    patchMergeKey: key,
    listType: "map",
    listMapKeys: [key],
    ...(description ? { description } : {}),
    ...extra,
  }),
  /** A list of scalars merged as a set (finalizers). */
  setList: (items: TypeSchema, description?: string): TypeSchema => ({ type: "array", items, patchStrategy: "merge", listType: "set", ...(description ? { description } : {}) }),
  object: (definition: string | undefined, description: string, properties: Record<string, TypeSchema>, extra: Partial<TypeSchema> = {}): TypeSchema => ({
    type: "object",
    ...(definition ? { definition } : {}),
    description,
    properties,
    ...extra,
  }),
  ref: (target: () => TypeSchema, description?: string): TypeSchema => ({ ref: target, ...(description ? { description } : {}) }),
  /** The same type with a field-specific description. */
  described: (schema: TypeSchema, description: string): TypeSchema => ({ ...schema, description }),
};
