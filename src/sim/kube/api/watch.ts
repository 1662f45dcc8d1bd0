// Watches with Kubernetes' semantics:
//   resourceVersion unset or "0"   synthetic ADDED events for the current state, then changes
//   N                              the changes after N, replayed from history; an ERROR event with a
//                                  410 Status (and the end of the watch) once N is compacted
//   sendInitialEvents=true         the current state, then a BOOKMARK annotated
//                                  k8s.io/initial-events-end, then changes (streaming lists)
//   allowWatchBookmarks=true       BOOKMARK events now and then and before a timeout ends the watch
//   timeoutSeconds                 the watch ends after it (else after the server's own timeout)
// An object that stops matching the selectors is reported DELETED; one that starts matching, ADDED.
// The consumer's sink may refuse an event (it cannot keep up): the watch then ends, and a client
// resumes from the last resourceVersion it saw, as with any dropped watch.

import type { KObject } from "../objects.ts";
import type { ResourceType } from "../registry/resource-type.ts";
import { apiVersionOf } from "../registry/resource-type.ts";
import type { Change, RevisionStore } from "../store/revision-store.ts";
import { expired, tooLargeResourceVersion, type Status } from "../status.ts";
import { validateListOptions, type WatchOptions } from "./options.ts";
import { parseResourceVersion } from "./list.ts";
import { makePredicate, namespacePrefix } from "./predicate.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  object: KObject | Status;
}

export interface WatchSink {
  /** Takes one event; false means the consumer cannot keep up and the watch must end. */
  send(event: WatchEvent): boolean;
  /** The server ended the watch (timeout, overflow, expiry); called once, never after stop(). */
  close(): void;
}

export interface WatchHandle {
  /** Ends the watch from the consumer's side (a dropped connection): no more calls to the sink. */
  stop(): void;
  readonly stopped: boolean;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
  /** The server-side timeout of a watch that asked for none (Kubernetes: 30 to 60 minutes). */
  defaultTimeoutMs: () => number;
}

export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

export function startWatch(
  store: RevisionStore,
  type: ResourceType,
  namespace: string,
  options: WatchOptions,
  toExternal: (stored: KObject) => KObject,
  sink: WatchSink,
  settings: WatchSettings,
): WatchHandle {
  validateListOptions(options, true);
  const predicate = makePredicate(type, namespace, options.labelSelector, options.fieldSelector);
  const rvText = options.resourceVersion ?? "";
  const current = store.revision;
  let initial: boolean;
  let start: number;
  if (options.sendInitialEvents === true) {
    initial = true;
    start = current;
    if (rvText !== "" && rvText !== "0" && parseResourceVersion(rvText) > current) throw tooLargeResourceVersion(parseResourceVersion(rvText), current);
  } else {
    const explicit = rvText !== "" && rvText !== "0";
    initial = !explicit && options.sendInitialEvents !== false;
    start = explicit ? parseResourceVersion(rvText) : current;
    if (start > current) throw tooLargeResourceVersion(start, current);
  }

  let stopped = false;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let unsubscribe: () => void = () => {};
  const handle: WatchHandle = {
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      clearTimeout(timeoutTimer);
      clearTimeout(bookmarkTimer);
    },
    get stopped() {
      return stopped;
    },
  };
  const end = () => {
    if (stopped) return;
    handle.stop();
    sink.close();
  };
  const send = (event: WatchEvent) => {
    if (stopped) return;
    if (!sink.send(event)) end();
  };
  const bookmark = (annotations?: Record<string, string>) => {
    send({ type: "BOOKMARK", object: { apiVersion: apiVersionOf(type), kind: type.kind, metadata: { resourceVersion: String(store.revision), ...(annotations ? { annotations } : {}) } } });
  };

  const relay = (change: Change) => {
    if (change.table !== type.table) return;
    const object = toExternal(change.object);
    const nowMatches = predicate.matches(object);
    if (change.type === "ADDED") {
      if (nowMatches) send({ type: "ADDED", object });
      return;
    }
    if (change.type === "DELETED") {
      if (nowMatches) send({ type: "DELETED", object });
      return;
    }
    const before = toExternal(change.previous!);
    const wasMatching = predicate.matches(before);
    if (nowMatches) send({ type: wasMatching ? "MODIFIED" : "ADDED", object });
    else if (wasMatching) send({ type: "DELETED", object: { ...before, metadata: { ...before.metadata, resourceVersion: String(change.revision) } } });
  };

  if (!initial && start < store.compactedRevision) {
    // The stream itself carries the 410, as Kubernetes sends it; the client relists.
    queueMicrotask(() => {
      send({ type: "ERROR", object: expired(`too old resource version: ${start} (${store.compactedRevision + 1})`).status });
      end();
    });
    return handle;
  }

  unsubscribe = store.subscribe(relay);
  if (initial) {
    for (const [, stored] of store.list(type.table, namespacePrefix(type, namespace))) {
      const object = toExternal(stored);
      if (predicate.matches(object)) send({ type: "ADDED", object });
    }
    if (options.sendInitialEvents === true) bookmark({ [INITIAL_EVENTS_END]: "true" });
  } else {
    for (const change of store.changesSince(type.table, start)) relay(change);
  }
  if (stopped) return handle;

  const timeoutMs = options.timeoutSeconds !== undefined && options.timeoutSeconds > 0 ? options.timeoutSeconds * 1000 : settings.defaultTimeoutMs();
  timeoutTimer = setTimeout(() => {
    if (options.allowWatchBookmarks) bookmark();
    end();
  }, timeoutMs);
  timeoutTimer.unref();
  if (options.allowWatchBookmarks) {
    const tick = () => {
      if (stopped) return;
      bookmark();
      bookmarkTimer = setTimeout(tick, settings.bookmarkIntervalMs);
      bookmarkTimer.unref();
    };
    bookmarkTimer = setTimeout(tick, settings.bookmarkIntervalMs);
    bookmarkTimer.unref();
  }
  return handle;
}
