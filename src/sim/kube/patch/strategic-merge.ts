// Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), driven by the type's schema:
// lists whose field has patchStrategy "merge" merge element by element (by patchMergeKey for lists
// of objects: containers by name, ports by containerPort, conditions by type, ...; as a set for
// lists of scalars such as finalizers); other lists replace; null deletes. The directives:
//   {"$patch": "replace"|"delete"|"merge"}      on an object or a merge-list element
//   "$retainKeys": [...]                         keep only these keys (retainKeys strategy)
//   "$deleteFromPrimitiveList/<field>": [...]    remove values from a list of scalars
//   "$setElementOrder/<field>": [...]            the order of a merged list
// Fields without a schema (or with preserved unknown fields) merge as in JSON merge patch.

import { deepClone, deepEqual, isPlainObject } from "../objects.ts";
import { resolve, type TypeSchema } from "../schema/types.ts";
import { PatchError } from "./json-patch.ts";

const PATCH = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER = "$setElementOrder/";

function fieldSchema(schema: TypeSchema | undefined, key: string): TypeSchema | undefined {
  if (!schema) return undefined;
  const s = resolve(schema);
  const p = s.properties?.[key];
  if (p) return p;
  if (typeof s.additionalProperties === "object") return s.additionalProperties;
  return undefined;
}

function strategyOf(schema: TypeSchema | undefined): { merge: boolean; retainKeys: boolean; key?: string } {
  if (!schema) return { merge: false, retainKeys: false };
  const parts = (schema.patchStrategy ?? resolve(schema).patchStrategy ?? "").split(",");
  const key = schema.patchMergeKey ?? resolve(schema).patchMergeKey;
  return { merge: parts.includes("merge"), retainKeys: parts.includes("retainKeys"), ...(key ? { key } : {}) };
}

export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: TypeSchema | undefined): unknown {
  if (!isPlainObject(patch)) throw new PatchError("strategic merge patch must be a JSON object");
  return mergeMap(isPlainObject(original) ? original : {}, patch, schema);
}

function mergeMap(original: Record<string, unknown>, patch: Record<string, unknown>, schema: TypeSchema | undefined): Record<string, unknown> {
  const directive = patch[PATCH];
  if (directive !== undefined) {
    if (directive === "replace") {
      const { [PATCH]: _d, ...rest } = patch;
      return stripDirectives(rest);
    }
    if (directive === "delete") return {};
    if (directive !== "merge") throw new PatchError(`Unknown patch type: ${JSON.stringify(directive)}`);
  }
  const out: Record<string, unknown> = { ...original };
  const resolved = schema ? resolve(schema) : undefined;
  let retain: unknown[] | undefined;
  const orders: Record<string, unknown[]> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === PATCH) continue;
    if (key === RETAIN_KEYS) {
      if (!Array.isArray(value)) throw new PatchError(`invalid patch: ${RETAIN_KEYS} must be a list`);
      retain = value;
      continue;
    }
    if (key.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE.length);
      if (!Array.isArray(value)) throw new PatchError(`invalid patch: ${key} must be a list`);
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((v) => !value.some((d) => deepEqual(d, v)));
      continue;
    }
    if (key.startsWith(SET_ELEMENT_ORDER)) {
      if (!Array.isArray(value)) throw new PatchError(`invalid patch: ${key} must be a list`);
      orders[key.slice(SET_ELEMENT_ORDER.length)] = value;
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const child = fieldSchema(resolved, key);
    out[key] = mergeValue(out[key], value, child);
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = out[field];
    if (Array.isArray(list)) out[field] = applyOrder(list, order, strategyOf(fieldSchema(resolved, field)).key);
  }
  if (retain !== undefined) {
    for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  }
  return out;
}

function mergeValue(original: unknown, patch: unknown, schema: TypeSchema | undefined): unknown {
  if (Array.isArray(patch)) {
    const strategy = strategyOf(schema);
    if (!strategy.merge || !Array.isArray(original)) return stripDirectivesFromList(patch, schema);
    const itemSchema = schema ? resolve(schema).items : undefined;
    if (strategy.key) return mergeKeyedList(original, patch, strategy.key, itemSchema);
    return mergePrimitiveList(original, patch);
  }
  if (isPlainObject(patch)) {
    const resolved = schema ? resolve(schema) : undefined;
    if (resolved && resolved.type !== "object" && resolved.properties === undefined && resolved.additionalProperties === undefined && !resolved.preserveUnknownFields) {
      return stripDirectives(patch);
    }
    if (!isPlainObject(original)) return mergeMap({}, patch, schema);
    return mergeMap(original, patch, schema);
  }
  return deepClone(patch);
}

function mergePrimitiveList(original: unknown[], patch: unknown[]): unknown[] {
  const out = [...original];
  for (const item of patch) if (!out.some((v) => deepEqual(v, item))) out.push(deepClone(item));
  return out;
}

function mergeKeyedList(original: unknown[], patch: unknown[], key: string, itemSchema: TypeSchema | undefined): unknown[] {
  if (patch.some((item) => isPlainObject(item) && item[PATCH] === "replace")) {
    return patch.filter((item) => !(isPlainObject(item) && item[PATCH] === "replace")).map((item) => (isPlainObject(item) ? stripDirectives(item) : item));
  }
  const out = [...original];
  for (const item of patch) {
    if (!isPlainObject(item)) {
      // A scalar in a keyed list cannot be matched: keep it as JSON merge would.
      out.push(deepClone(item));
      continue;
    }
    if (!(key in item)) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const index = out.findIndex((o) => isPlainObject(o) && deepEqual(o[key], item[key]));
    if (item[PATCH] === "delete") {
      if (index !== -1) out.splice(index, 1);
      continue;
    }
    if (index === -1) out.push(mergeMap({}, item, itemSchema));
    else out[index] = mergeMap(out[index] as Record<string, unknown>, item, itemSchema);
  }
  return out;
}

/** Orders a merged list: elements named by the order first, in that order; the rest keep their place after. */
function applyOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const identity = (item: unknown) => (key && isPlainObject(item) ? item[key] : item);
  const ordered: unknown[] = [];
  const used = new Set<number>();
  for (const wanted of order) {
    const want = key && isPlainObject(wanted) ? wanted[key] : wanted;
    const index = list.findIndex((item, i) => !used.has(i) && deepEqual(identity(item), want));
    if (index !== -1) {
      used.add(index);
      ordered.push(list[index]);
    }
  }
  return [...ordered, ...list.filter((_, i) => !used.has(i))];
}

function stripDirectives(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === PATCH || k === RETAIN_KEYS || k.startsWith(DELETE_FROM_PRIMITIVE) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (v === null) continue;
    out[k] = isPlainObject(v) ? stripDirectives(v) : Array.isArray(v) ? v.map((x) => (isPlainObject(x) ? stripDirectives(x) : x)) : v;
  }
  return out;
}

function stripDirectivesFromList(list: unknown[], schema: TypeSchema | undefined): unknown[] {
  const itemSchema = schema ? resolve(schema).items : undefined;
  return list
    .filter((item) => !(isPlainObject(item) && (item[PATCH] === "delete" || item[PATCH] === "replace")))
    .map((item) => (isPlainObject(item) ? mergeMap({}, item, itemSchema) : deepClone(item)));
}
