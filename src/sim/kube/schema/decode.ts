// Decoding an incoming object against its type's schema, as the API server's decoders do: fields
// the type does not have are dropped ("pruned") and reported (fieldValidation Ignore/Warn/Strict),
// nulls become absent, and for built-in kinds a value of the wrong JSON type fails the request the
// way Go's encoding/json does (400). Custom resources are only pruned here: their types are checked
// by structural validation afterwards (422), as for CRDs in Kubernetes.

import { isPlainObject } from "../objects.ts";
import { hasJsonType, resolve, type TypeSchema } from "./types.ts";

export interface DecodeResult {
  value: unknown;
  /** Paths of dropped fields, Kubernetes-style: `spec.containers[0].foo`. */
  unknownFields: string[];
  /** The first type mismatch (built-in kinds only), as encoding/json reports it. */
  typeError?: string;
}

export interface DecodeOptions {
  /** Check JSON types (built-in kinds); false only prunes (custom resources). */
  checkTypes: boolean;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  return typeof value;
}

function expectedName(schema: TypeSchema): string {
  if (schema.intOrString) return schema.format === "quantity" ? "resource.Quantity" : "intstr.IntOrString";
  switch (schema.type) {
    case "integer":
      return schema.format ?? "int64";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    case "array":
      return "[]" + (schema.items ? expectedName(resolve(schema.items)) : "interface {}");
    case "object":
      if (schema.additionalProperties) return "map[string]" + (typeof schema.additionalProperties === "object" ? expectedName(resolve(schema.additionalProperties)) : "interface {}");
      return schema.definition?.split(".").slice(-2).join(".") ?? "struct";
    case "string":
      return "string";
    default:
      return "interface {}";
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

class Decoder {
  readonly unknownFields: string[] = [];
  typeError: string | undefined;
  private readonly checkTypes: boolean;
  constructor(options: DecodeOptions) {
    this.checkTypes = options.checkTypes;
  }

  private mismatch(value: unknown, schema: TypeSchema, path: string): undefined {
    if (this.checkTypes && this.typeError === undefined) {
      this.typeError = `json: cannot unmarshal ${jsonType(value) === "null" ? "null" : jsonType(value)} into Go struct field ${path || "."} of type ${expectedName(schema)}`;
    }
    return undefined;
  }

  decode(value: unknown, raw: TypeSchema, path: string): unknown {
    const schema = resolve(raw);
    if (value === null) return schema.nullable ? null : undefined;
    if (schema.intOrString) {
      if (typeof value === "string" || (typeof value === "number" && (schema.format === "quantity" || Number.isInteger(value)))) return value;
      return this.checkTypes ? this.mismatch(value, schema, path) : value;
    }
    const isObject = schema.type === "object" || (schema.type === undefined && (schema.properties !== undefined || schema.additionalProperties !== undefined));
    if (schema.type === undefined && !isObject) return value; // any JSON value
    if (!this.checkTypes && !matchesType(value, schema, isObject)) return value; // structural validation reports it
    switch (schema.type) {
      case "string":
        if (typeof value !== "string") return this.mismatch(value, schema, path);
        if (schema.format === "byte" && this.checkTypes && !isBase64(value)) {
          this.typeError ??= `illegal base64 data at input byte ${firstBadBase64(value)}`;
        }
        return value;
      case "integer":
        return typeof value === "number" && Number.isInteger(value) ? value : this.mismatch(value, schema, path);
      case "number":
        return typeof value === "number" ? value : this.mismatch(value, schema, path);
      case "boolean":
        return typeof value === "boolean" ? value : this.mismatch(value, schema, path);
      case "array": {
        if (!Array.isArray(value)) return this.mismatch(value, schema, path);
        if (!schema.items) return value;
        const items = schema.items;
        const out: unknown[] = [];
        value.forEach((item, i) => {
          const decoded = this.decode(item, items, `${path}[${i}]`);
          if (decoded !== undefined) out.push(decoded);
        });
        return out;
      }
    }
    if (!isPlainObject(value)) return this.mismatch(value, schema, path);
    return this.decodeObject(value, schema, path);
  }

  private decodeObject(value: Record<string, unknown>, schema: TypeSchema, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const properties = schema.properties ?? {};
    for (const [key, child] of Object.entries(value)) {
      const property = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
      let decoded: unknown;
      if (property) decoded = this.decode(child, property, join(path, key));
      else if (schema.embeddedResource && (key === "apiVersion" || key === "kind" || key === "metadata")) decoded = child === null ? undefined : child;
      else if (typeof schema.additionalProperties === "object") decoded = this.decode(child, schema.additionalProperties, join(path, key));
      else if (schema.additionalProperties === true || schema.preserveUnknownFields) decoded = child;
      else {
        this.unknownFields.push(join(path, key));
        continue;
      }
      if (decoded !== undefined) out[key] = decoded;
    }
    return out;
  }
}

function matchesType(value: unknown, schema: TypeSchema, isObject: boolean): boolean {
  return hasJsonType(value, isObject ? "object" : schema.type);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

function firstBadBase64(text: string): number {
  for (let i = 0; i < text.length; i++) if (!/[A-Za-z0-9+/=]/.test(text[i]!)) return i;
  return Math.floor(text.length / 4) * 4;
}

export function decodeWithSchema(value: unknown, schema: TypeSchema, options: DecodeOptions): DecodeResult {
  const decoder = new Decoder(options);
  const decoded = decoder.decode(value, schema, "");
  return { value: decoded, unknownFields: decoder.unknownFields, ...(decoder.typeError ? { typeError: decoder.typeError } : {}) };
}
