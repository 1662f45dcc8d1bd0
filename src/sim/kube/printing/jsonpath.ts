// The simple JSONPath of CRD printer columns and selectable fields: `.spec.replicas`,
// `.status.conditions[?(@.type=="Ready")].status`, `.items[0].name`, `.spec.ports[*].port`,
// `.metadata.labels.app\.kubernetes\.io/name` (escaped dots). Returns every value found.

import { isPlainObject } from "../objects.ts";

type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; value: unknown } };

function splitFields(text: string): string[] {
  const out: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && text[i + 1] === ".") {
      current += ".";
      i++;
    } else if (c === ".") {
      if (current) out.push(current);
      current = "";
    } else current += c;
  }
  if (current) out.push(current);
  return out;
}

/** Parses a path; undefined when it is not a simple JSONPath. */
export function parseJsonPath(path: string): Step[] | undefined {
  let text = path.trim();
  if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1);
  if (!text.startsWith(".")) return undefined;
  const steps: Step[] = [];
  let rest = text;
  while (rest.length > 0) {
    const bracket = rest.indexOf("[");
    const head = bracket === -1 ? rest : rest.slice(0, bracket);
    for (const f of splitFields(head)) steps.push({ field: f });
    if (bracket === -1) break;
    const close = rest.indexOf("]", bracket);
    if (close === -1) return undefined;
    const inner = rest.slice(bracket + 1, close).trim();
    rest = rest.slice(close + 1);
    if (inner === "*") steps.push({ all: true });
    else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
    else {
      const m = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*==\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?)|(true|false))\)$/.exec(inner);
      if (!m) return undefined;
      const value = m[2] ?? m[3] ?? (m[4] !== undefined ? Number(m[4]) : m[5] === "true");
      steps.push({ filter: { path: m[1]!.slice(1).split("."), value } });
    }
  }
  return steps;
}

export function evaluateJsonPath(object: unknown, path: string): unknown[] {
  const steps = parseJsonPath(path);
  if (!steps) return [];
  let current: unknown[] = [object];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if ("field" in step) {
        if (isPlainObject(value) && value[step.field] !== undefined) next.push(value[step.field]);
      } else if ("index" in step) {
        if (Array.isArray(value)) {
          const item = value[step.index < 0 ? value.length + step.index : step.index];
          if (item !== undefined) next.push(item);
        }
      } else if ("all" in step) {
        if (Array.isArray(value)) next.push(...value);
        else if (isPlainObject(value)) next.push(...Object.values(value));
      } else if (Array.isArray(value)) {
        for (const item of value) {
          let v: unknown = item;
          for (const p of step.filter.path) v = isPlainObject(v) ? v[p] : undefined;
          if (v === step.filter.value) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
