// The namespace controller (kube-controller-manager's): when a namespace is deleted it deletes
// everything in it, waits until all of it is gone (pods included, which their kubelets finish),
// then removes the `kubernetes` finalizer through the finalize subresource, and the namespace goes.

import { isPlainObject } from "../objects.ts";
import type { KubeClient } from "../api/client.ts";
import { Informer } from "../api/informer.ts";
import { resourceKey } from "../registry/resource-type.ts";
import { KubeError } from "../status.ts";
import { NAMESPACE_FINALIZER } from "../kinds/namespaces.ts";
import { WorkQueue } from "./work-queue.ts";

export class NamespaceController {
  private readonly client: KubeClient;
  private readonly informer: Informer;
  readonly queue: WorkQueue;

  constructor(client: KubeClient, onError: (message: string) => void = () => {}) {
    this.client = client;
    this.queue = new WorkQueue((name) => this.sync(name), (name, err) => onError(`namespace ${name}: ${(err as Error).message}`));
    const enqueue = (ns: { metadata: { name?: string; deletionTimestamp?: string } }) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
    };
    this.informer = new Informer(client, "v1/namespaces", {}, { add: enqueue, update: enqueue });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): void {
    this.informer.stop();
    this.queue.stop();
  }

  /** One pass over a terminating namespace; true once it is finalized (or gone). */
  private async sync(name: string): Promise<boolean> {
    const ns = await this.client.find("v1/namespaces", name);
    if (!ns || !ns.metadata.deletionTimestamp) return true;
    let remaining = 0;
    const tables = new Set<string>();
    for (const type of this.client.api.registry.all()) {
      if (!type.namespaced || type.virtualCreate || !type.verbs.includes("list") || !type.verbs.includes("delete") || tables.has(type.table)) continue;
      tables.add(type.table);
      const key = resourceKey(type);
      const items = (await this.client.list(key, { namespace: name })).items;
      remaining += items.length;
      for (const item of items) {
        if (item.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(key, item.metadata.name!, name, { propagationPolicy: "Background" });
        } catch (err) {
          if (!(err instanceof KubeError && (err.code === 404 || err.code === 409))) throw err;
        }
      }
    }
    if (remaining > 0) return false;
    const spec = isPlainObject(ns.spec) ? ns.spec : {};
    const finalizers = Array.isArray(spec.finalizers) ? (spec.finalizers as string[]) : [];
    if (!finalizers.includes(NAMESPACE_FINALIZER)) return true;
    const type = this.client.type("v1/namespaces");
    await this.client.api.update({ user: this.client.user, warnings: [] }, type, "", name, { ...ns, spec: { ...spec, finalizers: finalizers.filter((f) => f !== NAMESPACE_FINALIZER) } }, "finalize");
    return true;
  }
}
