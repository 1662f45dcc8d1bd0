// The API server's storage, shaped like etcd as Kubernetes uses it: one revision counter for the
// whole store, every write bumps it and stamps the object's metadata.resourceVersion, and a bounded
// history of changes lets watches resume from a revision and lists be served as of a past revision.
// Once a change has left the history window, the revisions before it are "compacted": asking for
// them is answered with 410 Gone by the callers, as etcd compaction makes the real API server do.
//
// Objects are kept deep-frozen; callers copy before changing. Everything is synchronous, so a write
// and the fan-out of its event happen in one step and no watcher can miss or reorder a change.

import { deepFreeze, type KObject } from "../objects.ts";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  revision: number;
  table: string;
  key: string;
  type: ChangeType;
  /** The object after the change (for DELETED: its last state, stamped with the deletion revision). */
  object: KObject;
  /** The object before the change (undefined for ADDED). */
  previous?: KObject;
  time: number;
}

export interface HistoryWindow {
  /** Most changes kept (all tables together). */
  maxChanges: number;
  /** Changes older than this are dropped at the next write. */
  maxAgeMs: number;
}

export const DEFAULT_HISTORY: HistoryWindow = { maxChanges: 20_000, maxAgeMs: 5 * 60_000 };

/** Why a write did not happen; the API layer turns these into Kubernetes Status errors. */
export class StoreConflict extends Error {
  readonly why: "exists" | "missing" | "stale";
  readonly current: KObject | undefined;
  constructor(why: "exists" | "missing" | "stale", current: KObject | undefined) {
    super(why);
    this.why = why;
    this.current = current;
  }
}

export class CompactedError extends Error {
  readonly requested: number;
  readonly compacted: number;
  constructor(requested: number, compacted: number) {
    super(`revision ${requested} is compacted (oldest available ${compacted})`);
    this.requested = requested;
    this.compacted = compacted;
  }
}

export type ChangeListener = (change: Change) => void;

export class RevisionStore {
  private current = 0;
  private compacted = 0;
  private readonly tables = new Map<string, Map<string, KObject>>();
  private history: Change[] = [];
  private historyStart = 0; // index of the oldest kept change in `history`
  private readonly listeners = new Set<ChangeListener>();
  private window: HistoryWindow;
  private readonly now: () => number;

  constructor(options: { history?: Partial<HistoryWindow>; now?: () => number } = {}) {
    this.window = { ...DEFAULT_HISTORY, ...options.history };
    this.now = options.now ?? Date.now;
  }

  /** The latest revision (the resourceVersion of a list served now). */
  get revision(): number {
    return this.current;
  }

  /** Changes up to and including this revision are gone: reads and watches need a later one. */
  get compactedRevision(): number {
    return this.compacted;
  }

  setHistoryWindow(window: Partial<HistoryWindow>): void {
    this.window = { ...this.window, ...window };
    this.prune();
  }

  get(table: string, key: string): KObject | undefined {
    return this.tables.get(table)?.get(key);
  }

  /** The table's objects (keys starting with `prefix`), in key order. */
  list(table: string, prefix = ""): [string, KObject][] {
    const rows = this.tables.get(table);
    if (!rows) return [];
    const out: [string, KObject][] = [];
    for (const entry of rows) if (entry[0].startsWith(prefix)) out.push(entry);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  count(table: string): number {
    return this.tables.get(table)?.size ?? 0;
  }

  /** The table as it was at `revision`, rebuilt by undoing later changes. */
  listAt(table: string, revision: number, prefix = ""): [string, KObject][] {
    if (revision >= this.current) return this.list(table, prefix);
    if (revision < this.compacted) throw new CompactedError(revision, this.compacted);
    const rows = new Map(this.tables.get(table) ?? []);
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const change = this.history[i]!;
      if (change.revision <= revision) break;
      if (change.table !== table) continue;
      if (change.type === "ADDED") rows.delete(change.key);
      else rows.set(change.key, change.previous!);
    }
    return [...rows].filter(([k]) => k.startsWith(prefix)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The table's changes after `revision`, oldest first. */
  changesSince(table: string, revision: number): Change[] {
    if (revision < this.compacted) throw new CompactedError(revision, this.compacted);
    const out: Change[] = [];
    // Binary search for the first change after `revision`; history is in revision order.
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.history.length; i++) {
      const change = this.history[i]!;
      if (change.table === table) out.push(change);
    }
    return out;
  }

  /** Subscribes to every change of every table; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  create(table: string, key: string, object: KObject): KObject {
    const rows = this.table(table);
    const existing = rows.get(key);
    if (existing) throw new StoreConflict("exists", existing);
    return this.commit(table, key, "ADDED", object, undefined);
  }

  /** Replaces the object; with `expectedRevision`, only if it is still at that revision. */
  update(table: string, key: string, object: KObject, expectedRevision?: number): KObject {
    const existing = this.tables.get(table)?.get(key);
    if (!existing) throw new StoreConflict("missing", undefined);
    if (expectedRevision !== undefined && Number(existing.metadata.resourceVersion) !== expectedRevision) throw new StoreConflict("stale", existing);
    return this.commit(table, key, "MODIFIED", object, existing);
  }

  delete(table: string, key: string, expectedRevision?: number): KObject {
    const existing = this.tables.get(table)?.get(key);
    if (!existing) throw new StoreConflict("missing", undefined);
    if (expectedRevision !== undefined && Number(existing.metadata.resourceVersion) !== expectedRevision) throw new StoreConflict("stale", existing);
    return this.commit(table, key, "DELETED", existing, existing);
  }

  private table(name: string): Map<string, KObject> {
    let rows = this.tables.get(name);
    if (!rows) {
      rows = new Map();
      this.tables.set(name, rows);
    }
    return rows;
  }

  private commit(table: string, key: string, type: ChangeType, object: KObject, previous: KObject | undefined): KObject {
    const revision = this.current + 1;
    const stored = deepFreeze({ ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } }) as KObject;
    const rows = this.table(table);
    if (type === "DELETED") rows.delete(key);
    else rows.set(key, stored);
    this.current = revision;
    const change: Change = { revision, table, key, type, object: stored, ...(previous ? { previous } : {}), time: this.now() };
    this.history.push(change);
    this.prune();
    for (const listener of [...this.listeners]) listener(change);
    return stored;
  }

  private prune(): void {
    const oldestAllowed = this.now() - this.window.maxAgeMs;
    while (this.historyStart < this.history.length) {
      const oldest = this.history[this.historyStart]!;
      const tooMany = this.history.length - this.historyStart > this.window.maxChanges;
      if (!tooMany && oldest.time >= oldestAllowed) break;
      this.compacted = oldest.revision;
      this.historyStart++;
    }
    // Drop the dead prefix now and then instead of shifting on every write.
    if (this.historyStart > 1024 && this.historyStart * 2 > this.history.length) {
      this.history = this.history.slice(this.historyStart);
      this.historyStart = 0;
    }
  }
}
