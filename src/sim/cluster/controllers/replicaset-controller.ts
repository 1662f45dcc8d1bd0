// The ReplicaSet controller (kube-controller-manager's): keeps spec.replicas active pods made from
// the template, each with the ReplicaSet as its controller owner; adopts matching orphans; deletes
// surplus pods in the order kubectl users expect (unscheduled, pending, not ready, newest first);
// and reports status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
// observedGeneration). Pods are read from the API on each pass rather than from a cache, so a pass
// never acts on a view older than its own last writes (the real controller's "expectations").

import { deepEqual, isPlainObject, type KObject } from "../../kube/objects.ts";
import type { KubeClient } from "../../kube/api/client.ts";
import { Informer } from "../../kube/api/informer.ts";
import { KubeError } from "../../kube/status.ts";
import { WorkQueue } from "../../kube/controllers/work-queue.ts";
import { controllerRef, isControlledBy, namespacedKey, numberAt, ownerReferenceTo, selects, specOf, splitKey, statusOf } from "./owners.ts";
import { availableAt, deletionOrder, isPodActive, isPodAvailable, isPodReady } from "./pod-state.ts";

/** Most pods created or deleted in one pass (the real controller's burstReplicas). */
export const BURST_REPLICAS = 500;

export function ignoreGone(err: unknown): void {
  if (err instanceof KubeError && (err.code === 404 || err.code === 409)) return;
  throw err;
}

/** A pod for the template, owned by `owner` (the ReplicaSet or DaemonSet). */
export function podFromTemplate(owner: KObject, template: Record<string, unknown>, extraLabels: Record<string, string> = {}): KObject {
  const meta: Record<string, unknown> = isPlainObject(template.metadata) ? structuredClone(template.metadata) : {};
  delete meta.name;
  delete meta.namespace;
  const spec = isPlainObject(template.spec) ? structuredClone(template.spec) : {};
  const labels = { ...(isPlainObject(meta.labels) ? (meta.labels as Record<string, string>) : {}), ...extraLabels };
  const prefix = owner.metadata.name!.length > 57 ? owner.metadata.name!.slice(0, 57) : owner.metadata.name!;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...meta,
      generateName: `${prefix}-`,
      namespace: owner.metadata.namespace,
      labels,
      ownerReferences: [ownerReferenceTo(owner)],
    },
    spec,
  } as KObject;
}

export class ReplicaSetController {
  private readonly client: KubeClient;
  private readonly informers: Informer[];
  readonly queue: WorkQueue;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(client: KubeClient, onError: (message: string) => void = () => {}, now: () => number = Date.now) {
    this.client = client;
    this.now = now;
    this.queue = new WorkQueue((key) => this.sync(key), (key, err) => onError(`replicaset ${key}: ${(err as Error).message}`));
    const enqueue = (rs: KObject) => this.queue.add(namespacedKey(rs));
    const byPod = (pod: KObject) => {
      const ref = controllerRef(pod);
      if (ref?.kind === "ReplicaSet") this.queue.add(`${pod.metadata.namespace}/${ref.name}`);
      else if (!ref) for (const rs of this.informers[0]!.list()) if (rs.metadata.namespace === pod.metadata.namespace && selects(rs, pod)) enqueue(rs);
    };
    this.informers = [
      new Informer(client, "apps/v1/replicasets", {}, { add: enqueue, update: enqueue }),
      new Informer(client, "v1/pods", {}, { add: byPod, update: byPod, delete: byPod }),
    ];
  }

  async start(): Promise<void> {
    for (const i of this.informers) await i.start();
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    this.queue.stop();
    for (const t of this.timers) clearTimeout(t);
  }

  private async sync(key: string): Promise<boolean> {
    const { namespace, name } = splitKey(key);
    const rs = await this.client.find("apps/v1/replicasets", name, namespace);
    if (!rs) return true;
    const pods = await this.claimPods(rs);
    const active = pods.filter(isPodActive);
    if (rs.metadata.deletionTimestamp === undefined) await this.manageReplicas(rs, active);
    return this.updateStatus(rs, namespace, name);
  }

  /** The pods this ReplicaSet controls, after adopting matching orphans and releasing pods it no longer selects. */
  private async claimPods(rs: KObject): Promise<KObject[]> {
    const namespace = rs.metadata.namespace!;
    const all = (await this.client.list("v1/pods", { namespace })).items;
    const owned: KObject[] = [];
    for (const pod of all) {
      const ref = controllerRef(pod);
      if (ref && ref.uid !== rs.metadata.uid) continue;
      const matches = selects(rs, pod);
      if (ref) {
        if (matches) owned.push(pod);
        else if (rs.metadata.deletionTimestamp === undefined) {
          const refs = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid);
          await this.client.patch("v1/pods", pod.metadata.name!, namespace, { metadata: { ownerReferences: refs.length > 0 ? refs : null, uid: pod.metadata.uid } }, "merge").catch(ignoreGone);
        }
        continue;
      }
      if (!matches || pod.metadata.deletionTimestamp !== undefined || rs.metadata.deletionTimestamp !== undefined) continue;
      try {
        const adopted = await this.client.patch("v1/pods", pod.metadata.name!, namespace, { metadata: { ownerReferences: [...(pod.metadata.ownerReferences ?? []), ownerReferenceTo(rs)], uid: pod.metadata.uid } }, "merge");
        owned.push(adopted);
      } catch (err) {
        ignoreGone(err);
      }
    }
    return owned;
  }

  private async manageReplicas(rs: KObject, active: KObject[]): Promise<void> {
    const wanted = numberAt(specOf(rs), "replicas", 1);
    const diff = wanted - active.length;
    if (diff > 0) {
      const template = isPlainObject(specOf(rs).template) ? (specOf(rs).template as Record<string, unknown>) : {};
      // Slow start, as the real controller: batches of 1, 2, 4, ... stop at the first failure.
      let remaining = Math.min(diff, BURST_REPLICAS);
      for (let batch = 1; remaining > 0; batch *= 2) {
        const size = Math.min(batch, remaining);
        const results = await Promise.allSettled(Array.from({ length: size }, () => this.client.create(podFromTemplate(rs, template))));
        const failed = results.find((r) => r.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
        remaining -= size;
      }
    } else if (diff < 0) {
      const victims = [...active].sort(deletionOrder).slice(0, Math.min(-diff, BURST_REPLICAS));
      await Promise.all(victims.map((p) => this.client.delete("v1/pods", p.metadata.name!, p.metadata.namespace!, { preconditions: { uid: p.metadata.uid! } }).catch(ignoreGone)));
    }
  }

  private async updateStatus(rs: KObject, namespace: string, name: string): Promise<boolean> {
    // Counted again after this pass's writes.
    const pods = (await this.client.list("v1/pods", { namespace })).items.filter((p) => isControlledBy(p, rs) && isPodActive(p));
    const minReadySeconds = numberAt(specOf(rs), "minReadySeconds");
    const now = this.now();
    const templateLabels = (() => {
      const t = specOf(rs).template;
      return isPlainObject(t) && isPlainObject(t.metadata) && isPlainObject(t.metadata.labels) ? (t.metadata.labels as Record<string, string>) : {};
    })();
    const fullyLabeled = pods.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length;
    const status: Record<string, unknown> = {
      ...statusOf(rs),
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: pods.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      observedGeneration: rs.metadata.generation ?? 0,
    };
    for (const p of pods) {
      const at = availableAt(p, minReadySeconds);
      if (at !== undefined && at > now) this.requeueAt(`${namespace}/${name}`, at - now);
    }
    if (!deepEqual(status, rs.status)) {
      try {
        await this.client.updateStatus({ ...rs, status });
      } catch (err) {
        if (err instanceof KubeError && err.code === 409) return false;
        ignoreGone(err);
      }
    }
    const wanted = numberAt(specOf(rs), "replicas", 1);
    // Not done while the pods seen do not match spec (a create raced with a deletion).
    return rs.metadata.deletionTimestamp !== undefined || pods.length === wanted;
  }

  private requeueAt(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.queue.add(key);
    }, ms + 10);
    t.unref();
    this.timers.add(t);
  }
}
