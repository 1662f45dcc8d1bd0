// The Deployment controller (kube-controller-manager's): a ReplicaSet per pod template, named
// <deployment>-<pod-template-hash> with that hash in its labels, selector and template; the
// revision annotations kubectl reads; RollingUpdate (within maxSurge and maxUnavailable) and
// Recreate; scaling; paused rollouts; old ReplicaSets pruned beyond revisionHistoryLimit; status
// (replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas, conditions
// Available and Progressing, ProgressDeadlineExceeded past progressDeadlineSeconds without
// progress, observedGeneration) as `kubectl rollout status` reads it. Not done: proportional scaling of several old
// ReplicaSets during a rollout, adoption of orphaned ReplicaSets, rollback annotations.

import { deepEqual, formatTime, isPlainObject, type KObject } from "../../kube/objects.ts";
import type { KubeClient } from "../../kube/api/client.ts";
import { Informer } from "../../kube/api/informer.ts";
import { KubeError } from "../../kube/status.ts";
import { WorkQueue } from "../../kube/controllers/work-queue.ts";
import { controllerRef, isControlledBy, namespacedKey, numberAt, ownerReferenceTo, specOf, splitKey, statusOf } from "./owners.ts";
import { isPodActive } from "./pod-state.ts";
import { ignoreGone } from "./replicaset-controller.ts";
import { computeHash } from "./template-hash.ts";
import { newReplicaSetReplicas, rolloutLimits, scaleDownOld, type ReplicaSetView } from "./rollout.ts";

export const POD_TEMPLATE_HASH = "pod-template-hash";
export const REVISION = "deployment.kubernetes.io/revision";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";

type Obj = Record<string, unknown>;

function templateOf(o: KObject): Obj {
  const t = specOf(o).template;
  return isPlainObject(t) ? t : {};
}

function withoutHash(template: Obj): Obj {
  const t = structuredClone(template);
  if (isPlainObject(t.metadata) && isPlainObject(t.metadata.labels)) {
    delete (t.metadata.labels as Obj)[POD_TEMPLATE_HASH];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return t;
}

function revisionOf(rs: KObject): number {
  const r = Number(rs.metadata.annotations?.[REVISION] ?? 0);
  return Number.isFinite(r) ? r : 0;
}

function view(rs: KObject): ReplicaSetView {
  return { replicas: numberAt(specOf(rs), "replicas"), available: numberAt(statusOf(rs), "availableReplicas") };
}

function byAge(a: KObject, b: KObject): number {
  return (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export class DeploymentController {
  private readonly client: KubeClient;
  private readonly informers: Informer[];
  readonly queue: WorkQueue;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(client: KubeClient, onError: (message: string) => void = () => {}, now: () => number = Date.now) {
    this.client = client;
    this.now = now;
    this.queue = new WorkQueue((key) => this.sync(key), (key, err) => onError(`deployment ${key}: ${(err as Error).message}`));
    const enqueue = (d: KObject) => this.queue.add(namespacedKey(d));
    const byReplicaSet = (rs: KObject) => {
      const ref = controllerRef(rs);
      if (ref?.kind === "Deployment") this.queue.add(`${rs.metadata.namespace}/${ref.name}`);
    };
    const byPod = (pod: KObject) => {
      // Recreate waits for the old pods to be gone: their deletions move it on.
      const ref = controllerRef(pod);
      if (ref?.kind !== "ReplicaSet") return;
      const rs = this.informers[1]!.get(ref.name, pod.metadata.namespace);
      if (rs) byReplicaSet(rs);
    };
    this.informers = [
      new Informer(client, "apps/v1/deployments", {}, { add: enqueue, update: enqueue }),
      new Informer(client, "apps/v1/replicasets", {}, { add: byReplicaSet, update: byReplicaSet, delete: byReplicaSet }),
      new Informer(client, "v1/pods", {}, { delete: byPod }),
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
    const d = await this.client.find("apps/v1/deployments", name, namespace);
    if (!d || d.metadata.deletionTimestamp !== undefined) return true;
    const owned = (await this.client.list("apps/v1/replicasets", { namespace })).items.filter((rs) => isControlledBy(rs, d) && rs.metadata.deletionTimestamp === undefined);
    const template = templateOf(d);
    let newRs = owned.find((rs) => deepEqual(withoutHash(templateOf(rs)), withoutHash(template)));
    const old = owned.filter((rs) => rs !== newRs).sort(byAge);
    const replicas = numberAt(specOf(d), "replicas", 1);
    const strategy = isPlainObject(specOf(d).strategy) ? (specOf(d).strategy as Obj) : {};
    const recreate = strategy.type === "Recreate";
    const limits = rolloutLimits(strategy, replicas);
    const paused = specOf(d).paused === true;
    let created = false;

    if (!paused) {
      const maxRevision = Math.max(0, ...old.map(revisionOf));
      if (!newRs) {
        const views = old.map(view);
        const initial = recreate ? 0 : newReplicaSetReplicas(replicas, limits, { replicas: 0, available: 0 }, views);
        const made = await this.createReplicaSet(d, template, initial, maxRevision + 1, recreate ? replicas : replicas + limits.maxSurge);
        if (!made) return false;
        newRs = made;
        created = true;
      } else if (revisionOf(newRs) <= maxRevision) {
        newRs = await this.patchReplicaSet(newRs, { metadata: { annotations: { [REVISION]: String(maxRevision + 1) } } });
      }
      if (recreate) await this.recreate(d, newRs, old, replicas);
      else await this.rollingUpdate(newRs, old, replicas, limits);
      await this.cleanup(d, old);
      const revision = newRs.metadata.annotations?.[REVISION];
      if (revision && d.metadata.annotations?.[REVISION] !== revision) {
        await this.client.patch("apps/v1/deployments", name, namespace, { metadata: { annotations: { [REVISION]: revision } } }, "merge").catch(ignoreGone);
      }
    }
    return this.updateStatus(namespace, name, created);
  }

  private async createReplicaSet(d: KObject, template: Obj, replicas: number, revision: number, maxReplicas: number): Promise<KObject | undefined> {
    const status = statusOf(d);
    const collisionCount = numberAt(status, "collisionCount");
    const hash = computeHash(template, collisionCount);
    const rsTemplate = structuredClone(template);
    const meta = isPlainObject(rsTemplate.metadata) ? rsTemplate.metadata : {};
    meta.labels = { ...(isPlainObject(meta.labels) ? meta.labels : {}), [POD_TEMPLATE_HASH]: hash };
    rsTemplate.metadata = meta;
    const selector = structuredClone(isPlainObject(specOf(d).selector) ? (specOf(d).selector as Obj) : {});
    selector.matchLabels = { ...(isPlainObject(selector.matchLabels) ? selector.matchLabels : {}), [POD_TEMPLATE_HASH]: hash };
    const spec = specOf(d);
    const rs: KObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: meta.labels as Record<string, string>,
        annotations: { [REVISION]: String(revision), [DESIRED_REPLICAS]: String(numberAt(spec, "replicas", 1)), [MAX_REPLICAS]: String(maxReplicas) },
        ownerReferences: [ownerReferenceTo(d)],
      },
      spec: { replicas, ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}), selector, template: rsTemplate },
    };
    try {
      return await this.client.create(rs);
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 409)) throw err;
      const existing = await this.client.find("apps/v1/replicasets", rs.metadata.name!, d.metadata.namespace);
      if (existing && isControlledBy(existing, d) && deepEqual(withoutHash(templateOf(existing)), withoutHash(template))) return existing;
      // A hash collision with someone else's ReplicaSet: count it, and the next pass hashes differently.
      await this.client.updateStatus({ ...d, status: { ...status, collisionCount: collisionCount + 1 } }).catch(ignoreGone);
      return undefined;
    }
  }

  private async patchReplicaSet(rs: KObject, patch: Obj): Promise<KObject> {
    return this.client.patch("apps/v1/replicasets", rs.metadata.name!, rs.metadata.namespace!, patch, "merge");
  }

  private async scale(rs: KObject, replicas: number, desired: number): Promise<KObject> {
    if (numberAt(specOf(rs), "replicas") === replicas && rs.metadata.annotations?.[DESIRED_REPLICAS] === String(desired)) return rs;
    return this.patchReplicaSet(rs, { metadata: { annotations: { [DESIRED_REPLICAS]: String(desired) } }, spec: { replicas } });
  }

  private async rollingUpdate(newRs: KObject, old: KObject[], replicas: number, limits: { maxSurge: number; maxUnavailable: number }): Promise<void> {
    const oldViews = old.map(view);
    if (oldViews.every((v) => v.replicas === 0)) {
      // Not rolling: a plain scale of the one active ReplicaSet.
      await this.scale(newRs, replicas, replicas);
      return;
    }
    const target = newReplicaSetReplicas(replicas, limits, view(newRs), [view(newRs), ...oldViews]);
    const scaledNew = await this.scale(newRs, target, replicas);
    const next = scaleDownOld(replicas, limits, view(scaledNew), oldViews);
    for (const [i, rs] of old.entries()) if (next[i] !== oldViews[i]!.replicas) await this.scale(rs, next[i]!, replicas);
  }

  private async recreate(d: KObject, newRs: KObject, old: KObject[], replicas: number): Promise<void> {
    for (const rs of old) if (numberAt(specOf(rs), "replicas") > 0) await this.scale(rs, 0, replicas);
    const oldUids = new Set(old.map((rs) => rs.metadata.uid));
    const pods = (await this.client.list("v1/pods", { namespace: d.metadata.namespace })).items;
    const oldPodsLeft = pods.some((p) => oldUids.has(controllerRef(p)?.uid) && (isPodActive(p) || p.metadata.deletionTimestamp !== undefined));
    if (!oldPodsLeft) await this.scale(newRs, replicas, replicas);
  }

  private async cleanup(d: KObject, old: KObject[]): Promise<void> {
    const limit = numberAt(specOf(d), "revisionHistoryLimit", 10);
    const idle = old.filter((rs) => numberAt(specOf(rs), "replicas") === 0 && numberAt(statusOf(rs), "replicas") === 0);
    const surplus = idle.length - limit;
    for (const rs of idle.slice(0, Math.max(0, surplus))) {
      await this.client.delete("apps/v1/replicasets", rs.metadata.name!, rs.metadata.namespace!, { propagationPolicy: "Background", preconditions: { uid: rs.metadata.uid! } }).catch(ignoreGone);
    }
  }

  private requeueAt(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.queue.add(key);
    }, Math.max(0, ms) + 50);
    t.unref();
    this.timers.add(t);
  }

  private async updateStatus(namespace: string, name: string, created: boolean): Promise<boolean> {
    const d = await this.client.find("apps/v1/deployments", name, namespace);
    if (!d) return true;
    const owned = (await this.client.list("apps/v1/replicasets", { namespace })).items.filter((rs) => isControlledBy(rs, d));
    const template = withoutHash(templateOf(d));
    const newRs = owned.find((rs) => deepEqual(withoutHash(templateOf(rs)), template));
    const sum = (field: string) => owned.reduce((n, rs) => n + numberAt(statusOf(rs), field), 0);
    const replicas = numberAt(specOf(d), "replicas", 1);
    const limits = rolloutLimits(specOf(d).strategy, replicas);
    const status: Obj = {
      observedGeneration: d.metadata.generation ?? 0,
      replicas: sum("replicas"),
      updatedReplicas: newRs ? numberAt(statusOf(newRs), "replicas") : 0,
      readyReplicas: sum("readyReplicas"),
      availableReplicas: sum("availableReplicas"),
      unavailableReplicas: Math.max(0, replicas - sum("availableReplicas")),
    };
    const previous = statusOf(d);
    if (previous.collisionCount !== undefined) status.collisionCount = previous.collisionCount;
    const complete = status.updatedReplicas === replicas && status.replicas === replicas && status.availableReplicas === replicas;
    const availableOk = (status.availableReplicas as number) >= replicas - limits.maxUnavailable;
    const rsName = newRs?.metadata.name ?? "";
    const oldConditions = Array.isArray(previous.conditions) ? (previous.conditions as Condition[]) : [];
    const nowMs = this.now();
    const now = formatTime(nowMs);
    const progressed = created || ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas"].some((k) => status[k] !== previous[k]);
    const before = (type: string) => oldConditions.find((o) => o.type === type);
    const progressing = ((): Condition => {
      if (specOf(d).paused === true) return { type: "Progressing", status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused" };
      if (complete) return { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "${rsName}" has successfully progressed.` };
      if (created) return { type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: `Created new replica set "${rsName}"` };
      const last = before("Progressing");
      if (!progressed && last && last.status === "True" && last.reason !== "NewReplicaSetAvailable") {
        // No progress since lastUpdateTime: past progressDeadlineSeconds the rollout has failed (kubectl rollout status says so).
        const deadline = numberAt(specOf(d), "progressDeadlineSeconds", 600);
        const since = Date.parse(last.lastUpdateTime ?? "");
        if (Number.isFinite(since) && since + deadline * 1000 <= nowMs) return { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: `ReplicaSet "${rsName}" has timed out progressing.` };
        if (Number.isFinite(since)) this.requeueAt(`${namespace}/${name}`, since + deadline * 1000 - nowMs);
        return last;
      }
      if (!progressed && last?.reason === "ProgressDeadlineExceeded") return last;
      return { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${rsName}" is progressing.` };
    })();
    const conditions: Condition[] = [
      availableOk
        ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }
        : { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." },
      progressing,
    ];
    status.conditions = conditions.map((c) => {
      const was = before(c.type);
      const same = was && was.status === c.status && was.reason === c.reason && was.message === c.message;
      // Progress moves the Progressing condition's lastUpdateTime even when its words stay.
      const updated = same && !(c.type === "Progressing" && progressed && c.reason === "ReplicaSetUpdated");
      return {
        ...c,
        lastUpdateTime: updated ? was.lastUpdateTime : now,
        lastTransitionTime: was && was.status === c.status ? was.lastTransitionTime : now,
      };
    });
    if (deepEqual(status, previous)) return true;
    try {
      await this.client.updateStatus({ ...d, status });
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === 409) return false;
      ignoreGone(err);
      return true;
    }
  }
}
