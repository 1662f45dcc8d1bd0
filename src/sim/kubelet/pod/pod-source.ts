// The kubelet's view of the pods bound to its node: list with fieldSelector spec.nodeName=<node>,
// then watch from the list's resourceVersion (with bookmarks); a watch that ends is resumed from the
// last resourceVersion seen, a 410 or a failure relists (after a pause that grows to 10 s while the
// API server cannot be reached), and the relist's differences are reported as adds, updates and
// deletes, as client-go's reflector and the kubelet's config source do.

import type { KObject } from "../../kube/objects.ts";
import type { NodeApi, NodeApiWatch } from "../api/node-api.ts";

export interface PodSourceHandlers {
  /** A pod bound to the node, new or changed (also for every pod of a relist). */
  upsert(pod: KObject): void;
  /** A pod no longer exists (or no longer bound to the node). */
  removed(pod: KObject): void;
  /** The first list has been delivered. */
  synced?(): void;
  log(message: string): void;
}

export class PodSource {
  readonly #api: NodeApi;
  readonly #selector: string;
  readonly #handlers: PodSourceHandlers;
  readonly #known = new Map<string, KObject>();
  #rv = "";
  #watch: NodeApiWatch | undefined;
  #stopped = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #synced = false;

  constructor(api: NodeApi, node: string, handlers: PodSourceHandlers) {
    this.#api = api;
    this.#selector = `spec.nodeName=${node}`;
    this.#handlers = handlers;
  }

  start(): void {
    void this.#relist();
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
    clearTimeout(this.#timer);
  }

  pods(): KObject[] {
    return [...this.#known.values()];
  }

  async #relist(): Promise<void> {
    if (this.#stopped) return;
    try {
      const list = await this.#api.list("v1/pods", { fieldSelector: this.#selector });
      if (this.#stopped) return;
      this.#failures = 0;
      const seen = new Set<string>();
      for (const pod of list.items) {
        const uid = pod.metadata.uid ?? "";
        seen.add(uid);
        this.#known.set(uid, pod);
        this.#handlers.upsert(pod);
      }
      for (const [uid, pod] of [...this.#known]) {
        if (!seen.has(uid)) {
          this.#known.delete(uid);
          this.#handlers.removed(pod);
        }
      }
      this.#rv = list.metadata.resourceVersion;
      if (!this.#synced) {
        this.#synced = true;
        this.#handlers.synced?.();
      }
      this.#startWatch();
    } catch (err) {
      this.#retry(`listing pods failed: ${(err as Error).message}`, () => void this.#relist());
    }
  }

  #retry(why: string, again: () => void): void {
    if (this.#stopped) return;
    this.#failures++;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.#failures, 6));
    this.#handlers.log(`${why}; again in ${delay} ms`);
    this.#timer = setTimeout(again, delay);
  }

  #startWatch(): void {
    if (this.#stopped) return;
    let gone = false;
    this.#watch = this.#api.watch(
      "v1/pods",
      { fieldSelector: this.#selector, resourceVersion: this.#rv, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300) },
      {
        event: (type, object) => {
          if (type === "ERROR") {
            gone = (object as { code?: number }).code === 410;
            return;
          }
          const pod = object as KObject;
          if (pod.metadata?.resourceVersion) this.#rv = pod.metadata.resourceVersion;
          if (type === "BOOKMARK") return;
          const uid = pod.metadata.uid ?? "";
          if (type === "DELETED") {
            this.#known.delete(uid);
            this.#handlers.removed(pod);
          } else {
            this.#known.set(uid, pod);
            this.#handlers.upsert(pod);
          }
        },
        done: (error) => {
          if (this.#stopped) return;
          if (gone || error?.code === 410) return void this.#relist();
          if (error) return this.#retry(`watching pods failed: ${error.message}`, () => void this.#relist());
          this.#startWatch();
        },
      },
    );
  }
}
