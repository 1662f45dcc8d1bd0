// The DaemonSet controller (kube-controller-manager's): one pod per eligible node (nodeSelector,
// required node affinity, taints against the template's tolerations plus the ones the controller
// adds), each pinned to its node with node affinity on metadata.name (the scheduler binds it, as
// since Kubernetes 1.12), labelled controller-revision-hash and pod-template-generation; failed
// pods replaced; pods on nodes that no longer qualify, or surplus, deleted; RollingUpdate within
// maxUnavailable (OnDelete leaves old pods alone); status (desiredNumberScheduled,
// currentNumberScheduled, numberMisscheduled, numberReady, numberAvailable, numberUnavailable,
// updatedNumberScheduled, observedGeneration) as `kubectl rollout status ds/...` reads it; a
// ControllerRevision per template (controller-revisions.ts). Not done: maxSurge.

import { deepEqual, isPlainObject, type KObject } from "../../kube/objects.ts";
import type { KubeClient } from "../../kube/api/client.ts";
import { Informer } from "../../kube/api/informer.ts";
import { KubeError } from "../../kube/status.ts";
import { WorkQueue } from "../../kube/controllers/work-queue.ts";
import { controllerRef, isControlledBy, namespacedKey, numberAt, specOf, splitKey, statusOf } from "./owners.ts";
import { isPodActive, isPodAvailable, isPodReady, podPhase } from "./pod-state.ts";
import { ignoreGone, podFromTemplate } from "./replicaset-controller.ts";
import { computeHash } from "./template-hash.ts";
import { scaledValue } from "./rollout.ts";
import { pinnedToNode, podFitsNode, targetNode, withDaemonTolerations } from "./node-eligibility.ts";
import { CONTROLLER_REVISION_HASH, syncControllerRevisions } from "./controller-revisions.ts";

export { CONTROLLER_REVISION_HASH };

export const POD_TEMPLATE_GENERATION = "pod-template-generation";

type Obj = Record<string, unknown>;

export class DaemonSetController {
  private readonly client: KubeClient;
  private readonly informers: Informer[];
  readonly queue: WorkQueue;
  private readonly now: () => number;

  constructor(client: KubeClient, onError: (message: string) => void = () => {}, now: () => number = Date.now) {
    this.client = client;
    this.now = now;
    this.queue = new WorkQueue((key) => this.sync(key), (key, err) => onError(`daemonset ${key}: ${(err as Error).message}`));
    const enqueue = (ds: KObject) => this.queue.add(namespacedKey(ds));
    const everyDaemonSet = () => {
      for (const ds of this.informers[0]!.list()) enqueue(ds);
    };
    const byPod = (pod: KObject) => {
      const ref = controllerRef(pod);
      if (ref?.kind === "DaemonSet") this.queue.add(`${pod.metadata.namespace}/${ref.name}`);
    };
    this.informers = [
      new Informer(client, "apps/v1/daemonsets", {}, { add: enqueue, update: enqueue }),
      new Informer(client, "v1/nodes", {}, {
        add: everyDaemonSet,
        delete: everyDaemonSet,
        update: (node, old) => {
          // Heartbeats change only conditions' times: only labels, taints and readiness matter.
          const readiness = (n: KObject) => JSON.stringify((Array.isArray(statusOf(n).conditions) ? (statusOf(n).conditions as Obj[]) : []).map((c) => [c.type, c.status]));
          if (!deepEqual(node.metadata.labels, old.metadata.labels) || !deepEqual(specOf(node), specOf(old)) || readiness(node) !== readiness(old)) everyDaemonSet();
        },
      }),
      new Informer(client, "v1/pods", {}, { add: byPod, update: byPod, delete: byPod }),
    ];
  }

  async start(): Promise<void> {
    for (const i of this.informers) await i.start();
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    this.queue.stop();
  }

  private async sync(key: string): Promise<boolean> {
    const { namespace, name } = splitKey(key);
    const ds = await this.client.find("apps/v1/daemonsets", name, namespace);
    if (!ds || ds.metadata.deletionTimestamp !== undefined) return true;
    const template = isPlainObject(specOf(ds).template) ? (specOf(ds).template as Obj) : {};
    const templateSpec = withDaemonTolerations(isPlainObject(template.spec) ? (template.spec as Obj) : {});
    const hash = computeHash(template);
    const generation = String(ds.metadata.generation ?? 1);
    const nodes = (await this.client.list("v1/nodes")).items;
    const pods = (await this.client.list("v1/pods", { namespace })).items.filter((p) => isControlledBy(p, ds));
    await syncControllerRevisions(this.client, ds, hash, new Set(pods.map((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? "")));
    const byNode = new Map<string, KObject[]>();
    for (const pod of pods) {
      const node = targetNode(pod) ?? "";
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const toCreate: string[] = [];
    const toDelete: KObject[] = [];
    const eligible = new Set<string>();
    for (const node of nodes) {
      const nodeName = node.metadata.name!;
      const onNode = byNode.get(nodeName) ?? [];
      byNode.delete(nodeName);
      if (!podFitsNode(templateSpec, node) || node.metadata.deletionTimestamp !== undefined) {
        toDelete.push(...onNode.filter((p) => p.metadata.deletionTimestamp === undefined));
        continue;
      }
      eligible.add(nodeName);
      const failed = onNode.filter((p) => podPhase(p) === "Failed" && p.metadata.deletionTimestamp === undefined);
      toDelete.push(...failed);
      const active = onNode.filter(isPodActive).sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
      const terminating = onNode.some((p) => p.metadata.deletionTimestamp !== undefined);
      if (active.length === 0 && !terminating) toCreate.push(nodeName);
      toDelete.push(...active.slice(1));
    }
    // Pods for nodes that are gone.
    for (const rest of byNode.values()) toDelete.push(...rest.filter((p) => p.metadata.deletionTimestamp === undefined));
    toDelete.push(...this.rollingUpdateVictims(ds, pods, eligible, hash, toDelete));

    for (const nodeName of toCreate) {
      const pod = podFromTemplate(ds, { ...template, spec: pinnedToNode(templateSpec, nodeName) }, { [CONTROLLER_REVISION_HASH]: hash, [POD_TEMPLATE_GENERATION]: generation });
      await this.client.create(pod);
    }
    for (const pod of new Set(toDelete)) {
      await this.client.delete("v1/pods", pod.metadata.name!, namespace, { preconditions: { uid: pod.metadata.uid! } }).catch(ignoreGone);
    }
    return this.updateStatus(namespace, name, hash);
  }

  /** Old-revision pods to replace in this pass: unavailable ones first, then within maxUnavailable. */
  private rollingUpdateVictims(ds: KObject, pods: KObject[], eligible: Set<string>, hash: string, already: KObject[]): KObject[] {
    const strategy = isPlainObject(specOf(ds).updateStrategy) ? (specOf(ds).updateStrategy as Obj) : {};
    if (strategy.type === "OnDelete") return [];
    const ru = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    const maxUnavailable = Math.max(1, scaledValue(ru.maxUnavailable ?? 1, eligible.size, true));
    const minReadySeconds = numberAt(specOf(ds), "minReadySeconds");
    const now = this.now();
    const skip = new Set(already);
    const live = pods.filter((p) => isPodActive(p) && !skip.has(p) && eligible.has(targetNode(p) ?? ""));
    const old = live.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] !== hash);
    if (old.length === 0) return [];
    const availableNodes = new Set(live.filter((p) => isPodAvailable(p, minReadySeconds, now)).map((p) => targetNode(p)));
    let unavailable = [...eligible].filter((n) => !availableNodes.has(n)).length;
    const victims: KObject[] = [];
    for (const pod of old) {
      if (!isPodAvailable(pod, minReadySeconds, now)) victims.push(pod);
    }
    for (const pod of old) {
      if (unavailable >= maxUnavailable) break;
      if (isPodAvailable(pod, minReadySeconds, now)) {
        victims.push(pod);
        unavailable++;
      }
    }
    return victims;
  }

  private async updateStatus(namespace: string, name: string, hash: string): Promise<boolean> {
    const ds = await this.client.find("apps/v1/daemonsets", name, namespace);
    if (!ds) return true;
    const template = isPlainObject(specOf(ds).template) ? (specOf(ds).template as Obj) : {};
    const templateSpec = withDaemonTolerations(isPlainObject(template.spec) ? (template.spec as Obj) : {});
    const nodes = (await this.client.list("v1/nodes")).items;
    const pods = (await this.client.list("v1/pods", { namespace })).items.filter((p) => isControlledBy(p, ds) && isPodActive(p));
    const minReadySeconds = numberAt(specOf(ds), "minReadySeconds");
    const now = this.now();
    let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    for (const node of nodes) {
      const onNode = pods.filter((p) => targetNode(p) === node.metadata.name);
      const shouldRun = podFitsNode(templateSpec, node) && node.metadata.deletionTimestamp === undefined;
      if (!shouldRun) {
        if (onNode.length > 0) misscheduled++;
        continue;
      }
      desired++;
      if (onNode.length === 0) continue;
      current++;
      if (onNode.some(isPodReady)) ready++;
      if (onNode.some((p) => isPodAvailable(p, minReadySeconds, now))) available++;
      if (onNode.some((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash)) updated++;
    }
    const status: Obj = {
      ...statusOf(ds),
      currentNumberScheduled: current,
      desiredNumberScheduled: desired,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: desired - available,
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata.generation ?? 0,
    };
    if (available === 0) delete status.numberAvailable; // omitempty, as the API returns it
    if (desired - available === 0) delete status.numberUnavailable;
    if (deepEqual(status, ds.status)) return true;
    try {
      await this.client.updateStatus({ ...ds, status });
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === 409) return false;
      ignoreGone(err);
      return true;
    }
  }
}
