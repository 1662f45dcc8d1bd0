// Label selectors: the string form of `?labelSelector=` (=, ==, !=, in, notin, exists, !exists,
// comma-separated and all required) and the structured form of LabelSelector objects
// (matchLabels, matchExpressions) that workloads carry. Both become one list of requirements.

import { badRequest } from "../status.ts";
import { isPlainObject } from "../objects.ts";
import { checkLabelKey, checkLabelValue } from "../validation/names.ts";

export type LabelOperator = "=" | "!=" | "in" | "notin" | "exists" | "!exists" | "gt" | "lt";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const set = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(set, r.key);
    const value = set[r.key];
    switch (r.operator) {
      case "=":
        return has && value === r.values[0];
      case "!=":
        return !has || value !== r.values[0];
      case "in":
        return has && r.values.includes(value!);
      case "notin":
        return !has || !r.values.includes(value!);
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "gt":
      case "lt": {
        const n = Number(value);
        if (!has || !/^-?\d+$/.test(value!)) return false;
        return r.operator === "gt" ? n > Number(r.values[0]) : n < Number(r.values[0]);
      }
    }
  });
}

function fail(text: string, why: string): never {
  throw badRequest(`unable to parse requirement: ${why}${text ? ` (in "${text}")` : ""}`);
}

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function checkKey(key: string, whole: string): string {
  const problem = checkLabelKey(key);
  if (problem) fail(whole, `key: Invalid value: ${JSON.stringify(key)}: ${problem}`);
  return key;
}

function checkValue(value: string, whole: string): string {
  const problem = checkLabelValue(value);
  if (problem) fail(whole, `values[0]: Invalid value: ${JSON.stringify(value)}: ${problem}`);
  return value;
}

/** Parses `?labelSelector=`; an empty string selects everything. Throws 400 on a bad selector. */
export function parseLabelSelector(text: string): LabelSelector {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const requirements: LabelRequirement[] = [];
  for (const rawTerm of splitTerms(trimmed)) {
    const term = rawTerm.trim();
    if (term === "") fail(text, "found '', expected: !, identifier, or 'end of string'");
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s!=(),]+)$/.exec(term))) {
      requirements.push({ key: checkKey(m[1]!, text), operator: "!exists", values: [] });
    } else if ((m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term))) {
      const values = m[3]!.split(",").map((v) => v.trim());
      if (m[3]!.trim() === "") fail(text, `for 'in', 'notin' operators, values set can't be empty`);
      requirements.push({ key: checkKey(m[1]!, text), operator: m[2] as "in" | "notin", values: values.map((v) => checkValue(v, text)) });
    } else if ((m = /^([^\s!=(),<>]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term))) {
      requirements.push({ key: checkKey(m[1]!, text), operator: m[2] === "!=" ? "!=" : "=", values: [checkValue(m[3]!, text)] });
    } else if ((m = /^([^\s!=(),<>]+)\s*(<|>)\s*(-?\d+)$/.exec(term))) {
      requirements.push({ key: checkKey(m[1]!, text), operator: m[2] === ">" ? "gt" : "lt", values: [m[3]!] });
    } else if ((m = /^([^\s!=(),<>]+)$/.exec(term))) {
      requirements.push({ key: checkKey(m[1]!, text), operator: "exists", values: [] });
    } else {
      fail(text, `could not parse ${JSON.stringify(term)}`);
    }
  }
  return requirements;
}

/** The string form, as `kubectl get -l` writes it. */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case "=":
        case "!=":
          return `${r.key}${r.operator}${r.values[0]}`;
        case "in":
        case "notin":
          return `${r.key} ${r.operator} (${r.values.join(",")})`;
        case "exists":
          return r.key;
        case "!exists":
          return `!${r.key}`;
        case "gt":
          return `${r.key}>${r.values[0]}`;
        case "lt":
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(",");
}

const EXPRESSION_OPERATORS: Record<string, LabelOperator> = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!exists" };

/**
 * A metav1.LabelSelector object as a selector. An empty object selects everything; a missing one
 * (null) selects nothing, which callers express by not calling this. Returns problems instead of
 * throwing, for validation to report with field paths.
 */
export function labelSelectorFromObject(value: unknown): { selector: LabelSelector; problems: string[] } {
  const problems: string[] = [];
  const selector: LabelRequirement[] = [];
  if (!isPlainObject(value)) return { selector, problems: ["must be an object"] };
  const matchLabels = value.matchLabels;
  if (isPlainObject(matchLabels)) {
    for (const [key, v] of Object.entries(matchLabels)) selector.push({ key, operator: "=", values: [String(v)] });
  }
  const expressions = value.matchExpressions;
  if (Array.isArray(expressions)) {
    expressions.forEach((e, i) => {
      const operator = isPlainObject(e) ? EXPRESSION_OPERATORS[String(e.operator)] : undefined;
      if (!isPlainObject(e) || typeof e.key !== "string" || !operator) {
        problems.push(`matchExpressions[${i}]: a key and an operator (In, NotIn, Exists, DoesNotExist) are required`);
        return;
      }
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      if ((operator === "in" || operator === "notin") && values.length === 0) problems.push(`matchExpressions[${i}].values: must be specified when \`operator\` is 'In' or 'NotIn'`);
      if ((operator === "exists" || operator === "!exists") && values.length > 0) problems.push(`matchExpressions[${i}].values: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
      selector.push({ key: e.key, operator, values });
    });
  }
  return { selector, problems };
}
