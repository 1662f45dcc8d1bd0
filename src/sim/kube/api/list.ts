// Lists with Kubernetes' resourceVersion semantics and paging:
//   resourceVersion unset      the latest state (a consistent read)
//   "0"                        any state; served from the latest, and `limit` is ignored as the
//                              watch cache ignores it
//   N, NotOlderThan (default)  at least as new as N; N beyond the store's revision is a 504
//   N, Exact                   the state at N, rebuilt from history; 410 Gone once N is compacted
//   limit + continue           consistent pages: every page is served at the first page's revision;
//                              a token whose revision is compacted gets 410 with a fresh token
// The list's own resourceVersion is the revision it was served at.

import type { KObject } from "../objects.ts";
import type { ResourceType } from "../registry/resource-type.ts";
import { CompactedError, type RevisionStore } from "../store/revision-store.ts";
import { badRequest, expired, KubeError, tooLargeResourceVersion } from "../status.ts";
import { validateListOptions, type ListOptions } from "./options.ts";
import { makePredicate, namespacePrefix } from "./predicate.ts";

export interface ListResult {
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KObject[];
}

interface ContinueToken {
  v: "meta.k8s.io/v1";
  rv: number;
  start: string; // the key after which the next page starts
}

export function encodeContinue(rv: number, start: string): string {
  const token: ContinueToken = { v: "meta.k8s.io/v1", rv, start };
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as ContinueToken;
    if (token.v === "meta.k8s.io/v1" && Number.isInteger(token.rv) && token.rv > 0 && typeof token.start === "string") return token;
  } catch {
    // falls through to the error below
  }
  throw badRequest(`continue key is not valid: ${JSON.stringify(text)}`);
}

/** A resourceVersion parameter as a revision (Kubernetes answers 400 for anything but digits). */
export function parseResourceVersion(text: string, what = "resource version"): number {
  if (!/^\d+$/.test(text)) throw badRequest(`invalid ${what}: ${JSON.stringify(text)}`);
  return Number(text);
}

export function listObjects(store: RevisionStore, type: ResourceType, namespace: string, options: ListOptions, toExternal: (stored: KObject) => KObject): ListResult {
  validateListOptions(options, false);
  const predicate = makePredicate(type, namespace, options.labelSelector, options.fieldSelector);
  const prefix = namespacePrefix(type, namespace);
  let revision = store.revision;
  let start = "";
  let limit = options.limit && options.limit > 0 ? options.limit : undefined;
  let rows: [string, KObject][];

  if (options.continue) {
    const token = decodeContinue(options.continue);
    revision = token.rv;
    start = token.start;
    try {
      rows = store.listAt(type.table, revision, prefix);
    } catch (err) {
      if (!(err instanceof CompactedError)) throw err;
      const gone = expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
      );
      gone.status.metadata = { continue: encodeContinue(store.revision, start) };
      throw gone;
    }
  } else if (options.resourceVersion !== undefined && options.resourceVersion !== "") {
    const requested = parseResourceVersion(options.resourceVersion);
    if (requested === 0) {
      limit = undefined;
      rows = store.list(type.table, prefix);
    } else if (options.resourceVersionMatch === "Exact") {
      if (requested > store.revision) throw tooLargeResourceVersion(requested, store.revision);
      try {
        rows = store.listAt(type.table, requested, prefix);
      } catch (err) {
        if (err instanceof CompactedError) throw expired("The resourceVersion for the provided list is too old.");
        throw err;
      }
      revision = requested;
    } else {
      if (requested > store.revision) throw tooLargeResourceVersion(requested, store.revision);
      rows = store.list(type.table, prefix);
    }
  } else {
    rows = store.list(type.table, prefix);
  }

  const items: KObject[] = [];
  let nextStart: string | undefined;
  let remaining = 0;
  for (const [key, stored] of rows) {
    if (start && key <= start) continue;
    const object = toExternal(stored);
    if (!predicate.matches(object)) continue;
    if (limit !== undefined && items.length >= limit) {
      remaining++;
      continue;
    }
    items.push(object);
    nextStart = key;
  }
  const metadata: ListResult["metadata"] = { resourceVersion: String(revision) };
  if (remaining > 0 && nextStart !== undefined) {
    metadata.continue = encodeContinue(revision, nextStart);
    if (predicate.empty) metadata.remainingItemCount = remaining;
  }
  return { metadata, items };
}

export function isGone(err: unknown): boolean {
  return err instanceof KubeError && err.code === 410;
}
