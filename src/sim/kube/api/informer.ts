// An informer for in-process controllers: list, then watch from the list's resourceVersion, keep
// a cache, and call add/update/delete handlers. A watch the server ends is resumed from the last
// resourceVersion seen; a 410 (history compacted) relists and reconciles the cache, as
// client-go's reflector does.

import type { KObject } from "../objects.ts";
import type { Status } from "../status.ts";
import type { KubeClient } from "./client.ts";
import type { WatchHandle } from "./watch.ts";

export interface InformerHandlers {
  add?(object: KObject): void;
  update?(object: KObject, old: KObject): void;
  delete?(object: KObject): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

export class Informer {
  private readonly client: KubeClient;
  private readonly resource: string;
  private readonly options: InformerOptions;
  private readonly handlers: InformerHandlers;
  private readonly cache = new Map<string, KObject>();
  private resourceVersion = "";
  private watch: WatchHandle | undefined;
  private running = false;
  private synced = false;

  constructor(client: KubeClient, resource: string, options: InformerOptions, handlers: InformerHandlers) {
    this.client = client;
    this.resource = resource;
    this.options = options;
    this.handlers = handlers;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Lists and starts watching; resolves once the cache holds the listed state. */
  async start(): Promise<void> {
    this.running = true;
    await this.relist();
    this.startWatch();
  }

  stop(): void {
    this.running = false;
    this.watch?.stop();
  }

  list(): KObject[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace = ""): KObject | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.resource, { ...this.options, resourceVersion: "" });
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      this.apply("MODIFIED", item);
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.handlers.delete?.(old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.synced = true;
  }

  private apply(type: string, object: KObject): void {
    const key = keyOf(object);
    const old = this.cache.get(key);
    if (type === "DELETED") {
      if (old) {
        this.cache.delete(key);
        this.handlers.delete?.(object);
      }
      return;
    }
    this.cache.set(key, object);
    if (!old) this.handlers.add?.(object);
    else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) this.handlers.update?.(object, old);
  }

  private startWatch(): void {
    if (!this.running) return;
    let expired = false;
    try {
      this.watch = this.client.watch(
        this.resource,
        { ...this.options, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
        {
          event: (type, object) => {
            if (type === "ERROR") {
              if ((object as Status).code === 410) expired = true;
              return;
            }
            this.resourceVersion = (object as KObject).metadata.resourceVersion ?? this.resourceVersion;
            if (type !== "BOOKMARK") this.apply(type, object as KObject);
          },
          done: () => {
            if (!this.running) return;
            if (!expired) return this.startWatch();
            this.relist().then(
              () => this.startWatch(),
              () => setTimeout(() => this.recover(), 1000).unref(),
            );
          },
        },
      );
    } catch {
      setTimeout(() => this.recover(), 1000).unref();
    }
  }

  private recover(): void {
    if (!this.running) return;
    this.relist().then(
      () => this.startWatch(),
      () => setTimeout(() => this.recover(), 1000).unref(),
    );
  }
}
