// JSON Patch (RFC 6902): add, remove, replace, move, copy and test on JSON Pointers (RFC 6901).
// Throws PatchError with evanphx/json-patch's wording, which the API server passes on (as 422).

import { deepClone, deepEqual, isPlainObject } from "../objects.ts";

export class PatchError extends Error {}

export const MAX_JSON_PATCH_OPERATIONS = 10_000;

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = Record<string, unknown> | unknown[];

/** The parent container of the pointer's target and the last token. */
function locate(doc: unknown, pointer: string): { parent: Container; key: string } {
  const parts = parsePointer(pointer);
  if (parts.length === 0) throw new PatchError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  let current: unknown = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(current)) {
      const index = arrayIndex(part, current.length, false, pointer);
      current = current[index];
    } else if (isPlainObject(current) && Object.prototype.hasOwnProperty.call(current, part)) {
      current = current[part];
    } else {
      throw new PatchError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
    }
  }
  if (!Array.isArray(current) && !isPlainObject(current)) throw new PatchError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return { parent: current, key: parts[parts.length - 1]! };
}

function arrayIndex(token: string, length: number, forInsert: boolean, pointer: string): number {
  if (forInsert && token === "-") return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`invalid array index ${JSON.stringify(token)} in ${JSON.stringify(pointer)}`);
  const index = Number(token);
  if (index > length || (!forInsert && index >= length)) throw new PatchError(`unable to access invalid index: ${index}: invalid index referenced`);
  return index;
}

function getValue(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(key, parent.length, false, pointer)];
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw new PatchError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return parent[key];
}

function addValue(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return value;
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, pointer), 0, value);
  else parent[key] = value;
  return doc;
}

function removeValue(doc: unknown, pointer: string, op: string): unknown {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(key, parent.length, false, pointer), 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) {
      throw new PatchError(op === "remove" ? `Unable to remove nonexistent key: ${key}: missing value` : `${op} operation does not apply: doc is missing key: ${pointer}: missing value`);
    }
    delete parent[key];
  }
  return doc;
}

/** Reads and checks the patch document; throws PatchError (a 400) when it is not a JSON Patch. */
export function parseJsonPatch(value: unknown): Operation[] {
  if (!Array.isArray(value)) throw new PatchError(`json: cannot unmarshal ${value === null ? "null" : typeof value === "object" ? "object" : typeof value} into Go value of type jsonpatch.Patch`);
  return value.map((raw, i) => {
    if (!isPlainObject(raw)) throw new PatchError(`operation ${i} is not an object`);
    if (typeof raw.op !== "string") throw new PatchError(`operation ${i}: missing op`);
    if (typeof raw.path !== "string") throw new PatchError(`operation ${i}: missing path`);
    if (!["add", "remove", "replace", "move", "copy", "test"].includes(raw.op)) throw new PatchError(`Unexpected kind: ${raw.op}`);
    if ((raw.op === "move" || raw.op === "copy") && typeof raw.from !== "string") throw new PatchError(`operation ${i}: missing from`);
    if ((raw.op === "add" || raw.op === "replace" || raw.op === "test") && !("value" in raw)) throw new PatchError(`operation ${i}: missing value`);
    return raw as unknown as Operation;
  });
}

export function applyJsonPatch(document: unknown, operations: Operation[]): unknown {
  let doc = deepClone(document);
  for (const op of operations) {
    switch (op.op) {
      case "add":
        try {
          doc = addValue(doc, op.path, deepClone(op.value));
        } catch (err) {
          throw new PatchError(`add operation does not apply: ${(err as Error).message}`);
        }
        break;
      case "remove":
        doc = removeValue(doc, op.path, "remove");
        break;
      case "replace": {
        getValue(doc, op.path); // must exist
        if (op.path === "") doc = deepClone(op.value);
        else {
          const { parent, key } = locate(doc, op.path);
          if (Array.isArray(parent)) parent[arrayIndex(key, parent.length, false, op.path)] = deepClone(op.value);
          else parent[key] = deepClone(op.value);
        }
        break;
      }
      case "move": {
        if (op.path.startsWith(op.from! + "/")) throw new PatchError(`Unable to move ${op.from} into its own child ${op.path}`);
        const value = getValue(doc, op.from!);
        doc = removeValue(doc, op.from!, "move");
        doc = addValue(doc, op.path, value);
        break;
      }
      case "copy":
        doc = addValue(doc, op.path, deepClone(getValue(doc, op.from!)));
        break;
      case "test": {
        let actual: unknown;
        try {
          actual = getValue(doc, op.path);
        } catch {
          actual = undefined;
        }
        if (!deepEqual(actual, op.value) && !(actual === undefined && op.value === null)) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
      }
    }
  }
  return doc;
}
