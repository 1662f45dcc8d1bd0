// The shape every Describe* action shares: paging parameters checked first, then the records named
// by id (all if none; unknown ids fail), then EC2's filters, then one page of copies.

import type { DescribeInput } from "./api.ts";
import type { Ec2Error, PageOf } from "./types.ts";
import { malformed } from "./errors.ts";
import { isWellFormedId, type IdPrefix } from "./ids.ts";
import { applyFilters, type FilterSpec } from "./filters.ts";
import { checkPageParameters, paginate, type PagingRules } from "./paging.ts";

/** Picks the records named by `ids` (all if none), checking paging parameters first. */
export function selectByIds<R extends { seq: number }>(
  input: DescribeInput,
  rules: PagingRules,
  kind: IdPrefix,
  map: Map<string, R>,
  missingError: (ids: string[]) => Ec2Error,
): R[] {
  const ids = input.ids ?? [];
  checkPageParameters(input, rules, ids.length > 0);
  if (ids.length === 0) return [...map.values()];
  for (const id of ids) if (!isWellFormedId(kind, id)) throw malformed(kind, id);
  const missing = ids.filter((id) => !map.has(id));
  if (missing.length > 0) throw missingError([...new Set(missing)]);
  const wanted = new Set(ids);
  return [...map.entries()].filter(([id]) => wanted.has(id)).map(([, record]) => record);
}

export function filterAndPage<R extends { seq: number }, T>(
  records: R[],
  itemOf: (record: R) => T,
  input: DescribeInput,
  spec: FilterSpec<T>,
  rules: PagingRules,
): PageOf<T> {
  const matching = new Set(applyFilters(records.map(itemOf), input.filters, spec));
  const kept = records.filter((r) => matching.has(itemOf(r)));
  const page = paginate(kept, (r) => r.seq, input, rules);
  return { items: page.items.map((r) => structuredClone(itemOf(r))), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}
