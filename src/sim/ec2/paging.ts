// Describe* paging as EC2 does it: MaxResults within the action's bounds, an opaque NextToken,
// a stable order across pages. The token is a cursor on the creation sequence number of the last
// item returned (not an offset), so items created or deleted between pages neither repeat nor get
// skipped among those that remain.

import type { Page, PageOf } from "./types.ts";
import { invalidParameterCombination, invalidParameterValue } from "./errors.ts";

export interface PagingRules {
  action: string; // binds a token to its action: a token from another action is invalid
  min: number;
  max: number;
  /** Page size when MaxResults is absent; undefined = everything. */
  defaultPageSize?: number;
  /** EC2 refuses MaxResults together with explicit ids for some actions. */
  idsExcludeMaxResults?: { idsParameter: string };
}

interface Cursor {
  a: string;
  s: number;
}

export function encodeToken(action: string, lastSeq: number): string {
  const cursor: Cursor = { a: action, s: lastSeq };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeToken(action: string, token: string): number {
  const bad = invalidParameterValue(`The token '${token}' is invalid.`);
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  if (typeof cursor !== "object" || cursor === null) throw bad;
  const { a, s } = cursor as Partial<Cursor>;
  if (a !== action || typeof s !== "number" || !Number.isInteger(s) || s < 0) throw bad;
  // Reject tokens that decode but are not what we would have written (e.g. padded or re-encoded).
  if (encodeToken(a, s) !== token) throw bad;
  return s;
}

/** Validates paging parameters; call before the (possibly failing) id lookups, as EC2 does. */
export function checkPageParameters(page: Page, rules: PagingRules, idsGiven: boolean): void {
  const { maxResults } = page;
  if (maxResults === undefined) return;
  if (idsGiven && rules.idsExcludeMaxResults) {
    throw invalidParameterCombination(
      `The parameter ${rules.idsExcludeMaxResults.idsParameter} cannot be used with the parameter maxResults`,
    );
  }
  if (!Number.isInteger(maxResults) || maxResults < rules.min || maxResults > rules.max) {
    throw invalidParameterValue(
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between ${rules.min} and ${rules.max}.`,
    );
  }
}

/** Cuts one page out of `items`, which must be sorted by ascending `seqOf`. */
export function paginate<T>(items: readonly T[], seqOf: (item: T) => number, page: Page, rules: PagingRules): PageOf<T> {
  let start = 0;
  if (page.nextToken !== undefined && page.nextToken !== "") {
    const after = decodeToken(rules.action, page.nextToken);
    start = items.findIndex((item) => seqOf(item) > after);
    if (start < 0) start = items.length;
  }
  const size = page.maxResults ?? rules.defaultPageSize;
  if (size === undefined || start + size >= items.length) return { items: items.slice(start) };
  const slice = items.slice(start, start + size);
  const last = slice[slice.length - 1] as T;
  return { items: slice, nextToken: encodeToken(rules.action, seqOf(last)) };
}
