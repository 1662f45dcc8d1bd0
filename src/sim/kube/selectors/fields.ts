// Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`): only =, == and !=,
// all terms required, `\,` `\=` `\\` escapes. Each kind supports a fixed set of fields (its
// "field label conversion"); anything else is a 400, as Kubernetes answers.

import { badRequest } from "../status.ts";

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** The fields of an object a selector may use, as strings (missing fields are ""). */
export type FieldSet = Record<string, string>;

function splitUnescaped(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === separator) {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out;
}

function unescape(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\") {
      const next = text[i + 1];
      if (next === "\\" || next === "," || next === "=") {
        out += next;
        i++;
        continue;
      }
      throw badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ""}`);
    }
    out += c;
  }
  return out;
}

/** Finds the operator outside escapes: `a!=b`, `a==b`, `a=b`. */
function splitTerm(term: string): FieldRequirement {
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "!" && term[i + 1] === "=") return { field: unescape(term.slice(0, i)), operator: "!=", value: unescape(term.slice(i + 2)) };
    if (c === "=") {
      const skip = term[i + 1] === "=" ? 2 : 1;
      return { field: unescape(term.slice(0, i)), operator: "=", value: unescape(term.slice(i + skip)) };
    }
  }
  throw badRequest(`invalid field selector: invalid selector: '${term}'; can't understand '${term}'`);
}

/** Parses the selector; `supported` lists the fields the resource allows. */
export function parseFieldSelector(text: string, supported: readonly string[]): FieldSelector {
  if (text.trim() === "") return [];
  const out: FieldRequirement[] = [];
  for (const rawTerm of splitUnescaped(text, ",")) {
    const term = rawTerm.trim();
    if (term === "") continue;
    const requirement = splitTerm(term);
    requirement.field = requirement.field.trim();
    if (!supported.includes(requirement.field)) throw badRequest(`field label not supported: ${requirement.field}`);
    out.push(requirement);
  }
  return out;
}

export function matchesFields(selector: FieldSelector, fields: FieldSet): boolean {
  return selector.every((r) => ((fields[r.field] ?? "") === r.value) === (r.operator === "="));
}

/** The single `field=value` the selector pins, if any (lets the server narrow a scan). */
export function exactValue(selector: FieldSelector, field: string): string | undefined {
  return selector.find((r) => r.field === field && r.operator === "=")?.value;
}
