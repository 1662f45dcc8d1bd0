// The options of API calls (meta.k8s.io ListOptions, CreateOptions, DeleteOptions, ...) and their
// reading from a request's query string. The in-process API takes the same shapes directly.

import { badRequest, fieldErrors, invalid, type FieldError } from "../status.ts";
import { isPlainObject } from "../objects.ts";
import type { UserInfo } from "../auth/user.ts";
import type { FieldValidation } from "../request-context.ts";


export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
  limit?: number;
  continue?: string;
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  orphanDependents?: boolean;
  preconditions?: Preconditions;
  dryRun?: string[];
}

function optionsInvalid(errors: FieldError[]): never {
  throw invalid("meta.k8s.io", "ListOptions", "", errors);
}

function parseBool(text: string | null, name: string): boolean | undefined {
  if (text === null) return undefined;
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0" || text === "") return false;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(text)}`);
}

function parseInteger(text: string | null, name: string): number | undefined {
  if (text === null || text === "") return undefined;
  if (!/^-?\d+$/.test(text)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(text)}: must be an integer`);
  return Number(text);
}

export function watchOptionsFromQuery(q: URLSearchParams): WatchOptions {
  const match = q.get("resourceVersionMatch");
  if (match !== null && match !== "" && match !== "Exact" && match !== "NotOlderThan") {
    optionsInvalid([fieldErrors.notSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan"])]);
  }
  const options: WatchOptions = {};
  const copy = (name: "labelSelector" | "fieldSelector" | "resourceVersion" | "continue") => {
    const v = q.get(name);
    if (v !== null) options[name] = v;
  };
  copy("labelSelector");
  copy("fieldSelector");
  copy("resourceVersion");
  copy("continue");
  if (match) options.resourceVersionMatch = match as "Exact" | "NotOlderThan";
  const limit = parseInteger(q.get("limit"), "limit");
  if (limit !== undefined) options.limit = limit;
  const bookmarks = parseBool(q.get("allowWatchBookmarks"), "allowWatchBookmarks");
  if (bookmarks !== undefined) options.allowWatchBookmarks = bookmarks;
  const initial = parseBool(q.get("sendInitialEvents"), "sendInitialEvents");
  if (initial !== undefined) options.sendInitialEvents = initial;
  const timeout = parseInteger(q.get("timeoutSeconds"), "timeoutSeconds");
  if (timeout !== undefined) options.timeoutSeconds = timeout;
  return options;
}

export function isWatchRequest(q: URLSearchParams): boolean {
  return parseBool(q.get("watch"), "watch") === true;
}

/** Checks the combinations Kubernetes' ListOptions validation refuses. */
export function validateListOptions(options: WatchOptions, isWatch: boolean): void {
  const errors: FieldError[] = [];
  if (options.resourceVersionMatch) {
    // A streaming list (watch + sendInitialEvents) may leave resourceVersion unset: a consistent read.
    const streaming = isWatch && options.sendInitialEvents !== undefined;
    if (!options.resourceVersion && !streaming) errors.push(fieldErrors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    if (options.continue) errors.push(fieldErrors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
    if (options.resourceVersionMatch === "Exact" && options.resourceVersion === "0") {
      errors.push(fieldErrors.forbidden("resourceVersionMatch", `resourceVersionMatch "exact" is forbidden for resourceVersion "0"`));
    }
  }
  if (isWatch) {
    if (options.sendInitialEvents !== undefined) {
      if (options.resourceVersionMatch !== "NotOlderThan") {
        errors.push(fieldErrors.forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
      }
      if (!options.allowWatchBookmarks) errors.push(fieldErrors.forbidden("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true"));
    } else if (options.resourceVersionMatch) {
      errors.push(fieldErrors.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
    }
  } else if (options.sendInitialEvents !== undefined) {
    errors.push(fieldErrors.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  }
  if (options.limit !== undefined && options.limit < 0) errors.push(fieldErrors.invalid("limit", options.limit, "must be greater than or equal to 0"));
  if (options.continue && options.resourceVersion && options.resourceVersion !== "0") {
    throw badRequest("specifying resource version is not allowed when using continue");
  }
  if (errors.length > 0) optionsInvalid(errors);
}

export function dryRunFromQuery(q: URLSearchParams): boolean {
  const values = q.getAll("dryRun");
  for (const v of values) if (v !== "All") throw badRequest(`Invalid dry run value: ${JSON.stringify(v)}; supported values are: "All"`);
  return values.length > 0;
}

export function fieldValidationFromQuery(q: URLSearchParams): FieldValidation | undefined {
  const v = q.get("fieldValidation");
  if (v === null || v === "") return undefined;
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(v)}`);
}

/** DeleteOptions from the body (if any) and the query (query wins for what it sets, as in Kubernetes). */
export function deleteOptionsFrom(body: unknown, q: URLSearchParams): DeleteOptions {
  const options: DeleteOptions = {};
  if (body !== undefined && body !== null) {
    if (!isPlainObject(body)) throw badRequest("DeleteOptions must be an object");
    if (body.kind !== undefined && body.kind !== "DeleteOptions") throw badRequest(`expected a DeleteOptions body, got kind ${JSON.stringify(body.kind)}`);
    if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
      if (!Number.isInteger(body.gracePeriodSeconds)) throw badRequest("gracePeriodSeconds must be an integer");
      options.gracePeriodSeconds = body.gracePeriodSeconds as number;
    }
    if (body.propagationPolicy !== undefined && body.propagationPolicy !== null) options.propagationPolicy = body.propagationPolicy as DeleteOptions["propagationPolicy"];
    if (typeof body.orphanDependents === "boolean") options.orphanDependents = body.orphanDependents;
    if (isPlainObject(body.preconditions)) {
      const p = body.preconditions;
      options.preconditions = { ...(typeof p.uid === "string" ? { uid: p.uid } : {}), ...(typeof p.resourceVersion === "string" ? { resourceVersion: p.resourceVersion } : {}) };
    }
    if (Array.isArray(body.dryRun)) options.dryRun = body.dryRun.map(String);
  }
  const grace = parseInteger(q.get("gracePeriodSeconds"), "gracePeriodSeconds");
  if (grace !== undefined) options.gracePeriodSeconds = grace;
  const policy = q.get("propagationPolicy");
  if (policy) options.propagationPolicy = policy as DeleteOptions["propagationPolicy"];
  const orphan = parseBool(q.get("orphanDependents"), "orphanDependents");
  if (orphan !== undefined) options.orphanDependents = orphan;
  if (q.getAll("dryRun").length > 0) options.dryRun = q.getAll("dryRun");
  const errors: FieldError[] = [];
  if (options.propagationPolicy !== undefined && !["Orphan", "Background", "Foreground"].includes(options.propagationPolicy)) {
    errors.push(fieldErrors.notSupported("propagationPolicy", options.propagationPolicy, ["Foreground", "Background", "Orphan", "nil"]));
  }
  if (options.propagationPolicy !== undefined && options.orphanDependents !== undefined) {
    errors.push(fieldErrors.invalid("propagationPolicy", options.propagationPolicy, "orphanDependents and deletionPropagation cannot be both set"));
  }
  if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) options.gracePeriodSeconds = 1; // Kubernetes treats negative as 1
  for (const d of options.dryRun ?? []) if (d !== "All") errors.push(fieldErrors.notSupported("dryRun", d, ["All"]));
  if (errors.length > 0) throw invalid("meta.k8s.io", "DeleteOptions", "", errors);
  return options;
}
