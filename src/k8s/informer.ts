// An informer that outlives the API server: client-node's ListWatch (list, then watch from the list's
// resourceVersion, relist on 410 Gone) plus what it leaves to its user: after a failed list or watch it
// retries with backoff instead of stopping, and it keeps serving the last objects it saw meanwhile, so
// a node keeps its pool and keeps starting pods while the control plane is away. When the server comes
// back the watch resumes from the last resourceVersion, or the informer relists and reports what changed.

import { ListWatch, type KubernetesObject, type Watch } from "@kubernetes/client-node";

/** What an informer caches: objects with metadata (name, namespace, resourceVersion). */
export type Cached = { readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string } };
import type { KubeList } from "./resources.ts";
import { KubeApiError, toKubeApiError } from "./client.ts";

export type InformerLog = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export type ChangeType = "add" | "update" | "delete";

export interface InformerOptions<T> {
  /** For logs: "node ip-10-0-0-5", "pods on ip-10-0-0-5", "ENIConfigs". */
  readonly name: string;
  /** The watch's URL path (api-calls.ts callPath of the declared watch). */
  readonly path: string;
  readonly list: () => Promise<KubeList<T>>;
  readonly watch: Watch;
  readonly fieldSelector?: string;
  readonly log: InformerLog;
  /** Backoff after a failed list or watch: first delay, cap. Default 1 s doubling to 30 s. */
  readonly retryMs?: { readonly initial: number; readonly max: number };
}

export class Informer<T extends Cached> {
  readonly name: string;
  readonly #options: InformerOptions<T>;
  // ListWatch reads only metadata, which every T has.
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #listeners: ((type: ChangeType, obj: T) => void)[] = [];
  readonly #syncWaiters: (() => void)[] = [];
  #synced = false;
  #stopped = true;
  #failing: KubeApiError | undefined;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#options = options;
    const list = async (): Promise<KubeList<T>> => {
      const got = await options.list();
      this.#succeeded("listed");
      // ListWatch fills its cache when this returns: synced once that has happened.
      setImmediate(() => {
        if (this.#synced) return;
        this.#synced = true;
        for (const resolve of this.#syncWaiters.splice(0)) resolve();
      });
      return got;
    };
    // ListWatch only needs watch(); this one reports a watch that connected, which ends a failure.
    const watch = {
      watch: async (path: string, query: Record<string, string | number | boolean | undefined>, cb: (phase: string, obj: any, w?: any) => void, done: (err: unknown) => void) => {
        let failed = false;
        const controller = await options.watch.watch(path, query, cb, (err: unknown) => {
          if (err) failed = true;
          done(err);
        });
        if (!failed) this.#succeeded("watching");
        return controller;
      },
    } as unknown as Watch;
    this.#lw = new ListWatch<KubernetesObject>(options.path, watch, list as never, false, undefined, options.fieldSelector);
    for (const type of ["add", "update", "delete"] as const) this.#lw.on(type, (obj) => this.#emit(type, obj as T));
    this.#lw.on("error", (err: unknown) => this.#failed(err));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#lw.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#lw.stop();
  }

  /** True once the first list has succeeded; stays true through outages (the cache is kept). */
  get synced(): boolean {
    return this.#synced;
  }

  /** The error of the current outage, undefined while connected. */
  get failing(): KubeApiError | undefined {
    return this.#failing;
  }

  /** Resolves true once synced, false after timeoutMs. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.#syncWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  list(): readonly T[] {
    return this.#lw.list() as unknown as T[];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#lw.get(name, namespace) as T | undefined;
  }

  onChange(listener: (type: ChangeType, obj: T) => void): void {
    this.#listeners.push(listener);
  }

  #emit(type: ChangeType, obj: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(type, obj);
      } catch (err) {
        this.#options.log("error", `${this.name}: a change handler failed: ${(err as Error).message}`);
      }
    }
  }

  #succeeded(how: "listed" | "watching"): void {
    if (this.#failing === undefined) return;
    this.#options.log("info", `${this.name}: the API server answers again (${how}, after ${this.#failures} failed attempts)`, { objects: this.#lw.list().length });
    this.#failing = undefined;
    this.#failures = 0;
  }

  #failed(err: unknown): void {
    if (this.#stopped) return;
    const error = toKubeApiError(`list/watch ${this.name}`, err);
    const first = this.#failing === undefined;
    this.#failing = error;
    this.#failures++;
    const retry = this.#options.retryMs ?? { initial: 1_000, max: 30_000 };
    const delay = Math.min(retry.max, retry.initial * 2 ** Math.min(this.#failures - 1, 20));
    // One line per outage at warn (error for a refusal, which does not heal by itself), then quiet
    // retries: a node that loses the control plane for an hour must not write a line a second.
    const refused = error.status === 401 || error.status === 403;
    if (first) this.#options.log(refused ? "error" : "warn", `${this.name}: ${error.message} Serving the last ${this.#lw.list().length} objects seen; retrying.`, { retryInMs: delay });
    else this.#options.log("debug", `${this.name}: still failing (${this.#failures} attempts): ${error.message}`, { retryInMs: delay });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#stopped) void this.#lw.start();
    }, delay);
    this.#retryTimer.unref();
  }
}
