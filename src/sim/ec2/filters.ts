// EC2 Describe* filters. Each resource kind declares which filter names it knows and how to read
// the values a filter compares against; matching follows EC2: values of one filter are ORed,
// filters are ANDed, `*` matches any run of characters and `?` exactly one (a backslash escapes
// either), comparison is case-sensitive. An unknown filter name is an error, as on EC2.

import type { Filter, Tag } from "./types.ts";
import { invalidFilter } from "./errors.ts";

/** Reads the values a filter compares against from one item; several values = any may match. */
export type FieldReader<T> = (item: T) => readonly (string | undefined)[];

export interface FilterSpec<T> {
  fields: Record<string, FieldReader<T>>;
  /** Present for taggable resources: enables `tag-key`, `tag-value` and `tag:KEY`. */
  tags?: (item: T) => readonly Tag[];
}

/** Compiles an EC2 filter value with `*` / `?` wildcards into an anchored regular expression. */
export function wildcardToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i] as string);
    } else if (c === "*") {
      source += "[\\s\\S]*";
    } else if (c === "?") {
      source += "[\\s\\S]";
    } else {
      source += escapeRegExp(c);
    }
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Resolves a filter name to a reader, or throws EC2's "filter is invalid". */
function readerFor<T>(spec: FilterSpec<T>, name: string): FieldReader<T> {
  const field = spec.fields[name];
  if (field) return field;
  const tagsOf = spec.tags;
  if (tagsOf) {
    if (name === "tag-key") return (item) => tagsOf(item).map((t) => t.key);
    if (name === "tag-value") return (item) => tagsOf(item).map((t) => t.value);
    if (name.startsWith("tag:") && name.length > 4) {
      const key = name.slice(4);
      return (item) => tagsOf(item).filter((t) => t.key === key).map((t) => t.value);
    }
  }
  throw invalidFilter(name);
}

/** Keeps the items that match every filter. Validates all filter names first, even with no items. */
export function applyFilters<T>(items: readonly T[], filters: readonly Filter[] | undefined, spec: FilterSpec<T>): T[] {
  if (!filters || filters.length === 0) return [...items];
  const compiled = filters.map((f) => ({
    read: readerFor(spec, f.name),
    patterns: f.values.map(wildcardToRegExp),
  }));
  return items.filter((item) =>
    compiled.every(({ read, patterns }) => {
      const values = read(item).filter((v): v is string => v !== undefined);
      return patterns.some((p) => values.some((v) => p.test(v)));
    }),
  );
}

/** Helpers for field readers. */
export const one = (value: string | number | boolean | undefined): (string | undefined)[] => [
  value === undefined ? undefined : String(value),
];
