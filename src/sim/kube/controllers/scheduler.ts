// vpcsim's scheduler (one per cluster, in the daemon, as kube-scheduler with its default profile
// reduced to what vpc-cni's cluster needs): pods without a node whose schedulerName is
// default-scheduler are bound through pods/binding to a node that passes the filters of
// scheduler-predicates.ts, the least loaded by pod count (spreading), higher priority and then older
// pods first. A pod no node can take gets PodScheduled=False (Unschedulable) and a FailedScheduling
// event, and is tried again when nodes or pods change. Bound pods are counted at once ("assumed"),
// before the informer sees the binding.

import type { KObject } from "../objects.ts";
import type { KubeClient } from "../api/client.ts";
import { Informer } from "../api/informer.ts";
import { KubeError } from "../status.ts";
import { allocatablePods, failedSchedulingMessage, unfit } from "./scheduler-predicates.ts";

export const DEFAULT_SCHEDULER = "default-scheduler";

function key(pod: KObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

function spec(o: KObject): any {
  return (o.spec ?? {}) as any;
}

function terminal(pod: KObject): boolean {
  const phase = (pod.status as any)?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

export class Scheduler {
  readonly #client: KubeClient;
  readonly #log: (message: string) => void;
  readonly #pods: Informer;
  readonly #nodes: Informer;
  /** Pods bound by this scheduler that the informer has not yet seen bound: pod key -> node. */
  readonly #assumed = new Map<string, { node: string; uid: string }>();
  /** The last FailedScheduling message per pod uid (repeats are not recorded again). */
  readonly #unschedulable = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(client: KubeClient, log: (message: string) => void = () => {}) {
    this.#client = client;
    this.#log = log;
    const changed = () => this.#schedulePass();
    this.#pods = new Informer(client, "v1/pods", {}, { add: changed, update: changed, delete: changed });
    this.#nodes = new Informer(client, "v1/nodes", {}, { add: changed, update: changed, delete: changed });
  }

  async start(): Promise<void> {
    await Promise.all([this.#nodes.start(), this.#pods.start()]);
    this.#schedulePass();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#pods.stop();
    this.#nodes.stop();
  }

  /** Resolves once no pass is pending or running (tests). */
  async settled(): Promise<void> {
    for (;;) {
      if (this.#timer !== undefined) await new Promise((r) => setTimeout(r, 10));
      else if (this.#running) await this.#running;
      else return;
    }
  }

  #schedulePass(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running) {
        this.#again = true;
        return;
      }
      this.#running = this.#loop();
    }, 10);
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#pass().catch((err: Error) => this.#log(`scheduling pass failed: ${err.stack ?? err.message}`));
      } while (this.#again && !this.#stopped);
    } finally {
      this.#running = undefined;
    }
  }

  async #pass(): Promise<void> {
    const pods = this.#pods.list();
    const nodes = this.#nodes.list().sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
    const counts = new Map<string, number>(nodes.map((n) => [n.metadata.name ?? "", 0]));
    for (const pod of pods) {
      const bound = spec(pod).nodeName as string | undefined;
      const assumed = this.#assumed.get(key(pod));
      if (assumed && (bound || assumed.uid !== pod.metadata.uid)) this.#assumed.delete(key(pod));
      const node = bound || this.#assumed.get(key(pod))?.node;
      if (node && !terminal(pod)) counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    for (const k of [...this.#assumed.keys()]) if (!pods.some((p) => key(p) === k)) this.#assumed.delete(k);
    const liveUids = new Set(pods.map((p) => p.metadata.uid));
    for (const uid of [...this.#unschedulable.keys()]) if (!liveUids.has(uid)) this.#unschedulable.delete(uid);
    const pending = pods
      .filter((p) => !spec(p).nodeName && !this.#assumed.has(key(p)) && !p.metadata.deletionTimestamp && !terminal(p) && (spec(p).schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER)
      .sort((a, b) => (spec(b).priority ?? 0) - (spec(a).priority ?? 0) || (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || key(a).localeCompare(key(b)));
    for (const pod of pending) {
      if (this.#stopped) return;
      const reasons: string[] = [];
      let best: { node: string; load: number; count: number } | undefined;
      for (const node of nodes) {
        const name = node.metadata.name ?? "";
        const count = counts.get(name) ?? 0;
        const why = unfit(pod, node, count);
        if (why) {
          reasons.push(why);
          continue;
        }
        const load = count / Math.max(1, allocatablePods(node));
        if (!best || load < best.load || (load === best.load && count < best.count)) best = { node: name, load, count };
      }
      if (!best) {
        await this.#markUnschedulable(pod, failedSchedulingMessage(reasons, nodes.length));
        continue;
      }
      try {
        await this.#client.bind(pod.metadata.namespace ?? "default", pod.metadata.name ?? "", best.node);
      } catch (err) {
        if (err instanceof KubeError && (err.code === 404 || err.code === 409)) continue; // deleted, or bound by someone else
        this.#log(`binding ${key(pod)} to ${best.node} failed: ${(err as Error).message}`);
        continue;
      }
      this.#assumed.set(key(pod), { node: best.node, uid: pod.metadata.uid ?? "" });
      this.#unschedulable.delete(pod.metadata.uid ?? "");
      counts.set(best.node, (counts.get(best.node) ?? 0) + 1);
      await this.#event(pod, "Normal", "Scheduled", `Successfully assigned ${key(pod)} to ${best.node}`);
    }
  }

  async #markUnschedulable(pod: KObject, message: string): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    if (this.#unschedulable.get(uid) === message) return;
    this.#unschedulable.set(uid, message);
    await this.#event(pod, "Warning", "FailedScheduling", message);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    try {
      await this.#client.patch(
        "v1/pods",
        pod.metadata.name ?? "",
        pod.metadata.namespace ?? "default",
        { status: { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastProbeTime: null, lastTransitionTime: now }] } },
        "strategic",
        { subresource: "status" },
      );
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 404)) this.#log(`marking ${key(pod)} unschedulable failed: ${(err as Error).message}`);
    }
  }

  async #event(pod: KObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    try {
      await this.#client.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { generateName: `${pod.metadata.name}.`, namespace: pod.metadata.namespace ?? "default" },
        involvedObject: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        reason,
        message,
        type,
        source: { component: DEFAULT_SCHEDULER },
        reportingComponent: DEFAULT_SCHEDULER,
        reportingInstance: `${DEFAULT_SCHEDULER}-vpcsim`,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err) {
      this.#log(`event ${reason} for ${key(pod)} not recorded: ${(err as Error).message}`);
    }
  }
}
