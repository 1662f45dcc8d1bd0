// A node's kubelet: registers the Node and keeps its status and Lease current, runs a worker per pod
// bound to the node (admitting each against the node's max pods, as the kubelet's admission does:
// beyond capacity a pod fails with OutOfpods), relists the runtime every second (the PLEG) so a
// container that exits is seen, and, once the first list of its pods is in, removes the sandboxes
// of pods it no longer has and asks the CNI plugins to GC. A restarted kubelet takes over the
// sandboxes and containers the runtime has (they were never stopped): nothing is set up twice.

import type { KObject } from "../kube/objects.ts";
import type { NodeApi } from "./api/node-api.ts";
import type { Runtime } from "./runtime/runtime.ts";
import type { NetworkStatus } from "./cni/pod-network.ts";
import { Backoff } from "./backoff.ts";
import { EventRecorder } from "./events.ts";
import { registerNode, renewLease, updateNodeStatus, type NodeSettings } from "./node/node-registration.ts";
import { PodSource } from "./pod/pod-source.ts";
import { PodWorker, type PodRuntime, type WorkerContext } from "./pod/pod-worker.ts";

export type KubeletRuntime = PodRuntime & Pick<Runtime, "networkStatus" | "gcNetworks">;

export interface KubeletOptions {
  api: NodeApi;
  runtime: KubeletRuntime;
  node: NodeSettings;
  nodeRoot: string;
  apiServer: WorkerContext["apiServer"];
  nodeEnv?: Record<string, string>;
  log: (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void;
  /** How often the runtime's network status is read (the node's Ready condition). */
  statusIntervalMs?: number;
  /** How often the node's status is written while nothing changes. */
  statusReportMs?: number;
  leaseRenewMs?: number;
  plegIntervalMs?: number;
  sandboxBackoff?: Backoff;
  restartBackoff?: Backoff;
}

export class Kubelet {
  readonly #o: KubeletOptions;
  readonly #workers = new Map<string, PodWorker>();
  readonly #ctx: WorkerContext;
  readonly #source: PodSource;
  readonly events: EventRecorder;
  readonly #timers: NodeJS.Timeout[] = [];
  #node: KObject | undefined;
  #network: NetworkStatus = { ready: false, reason: "NetworkPluginNotReady", message: "Network plugin returns error: cni plugin not initialized" };
  #lastReport = 0;
  #pleg = new Map<string, string>();
  #pending: KObject[] | undefined = [];
  #stopped = false;
  #registered: Promise<void> | undefined;

  constructor(options: KubeletOptions) {
    this.#o = options;
    this.events = new EventRecorder(options.api, options.node.name, (m) => options.log("error", m));
    this.#ctx = {
      api: options.api,
      runtime: options.runtime,
      events: this.events,
      nodeName: options.node.name,
      nodeRoot: options.nodeRoot,
      hostIP: options.node.identity.privateIp,
      apiServer: options.apiServer,
      ...(options.nodeEnv ? { nodeEnv: options.nodeEnv } : {}),
      log: options.log,
      sandboxBackoff: options.sandboxBackoff ?? new Backoff(1000, 30_000),
      restartBackoff: options.restartBackoff ?? new Backoff(10_000, 300_000),
    };
    this.#source = new PodSource(options.api, options.node.name, {
      upsert: (pod) => this.#upsert(pod),
      removed: (pod) => this.#workers.get(pod.metadata.uid ?? "")?.remove(),
      synced: () => void this.#synced(),
      log: (m) => options.log("error", m),
    });
  }

  get nodeName(): string {
    return this.#o.node.name;
  }

  get node(): KObject | undefined {
    return this.#node;
  }

  worker(uid: string): PodWorker | undefined {
    return this.#workers.get(uid);
  }

  /** Registers the node (retrying until the API server takes it) and starts everything. */
  start(): Promise<void> {
    this.#registered ??= this.#register();
    return this.#registered;
  }

  async #register(): Promise<void> {
    const { api, node, log } = this.#o;
    this.#network = await this.#o.runtime.networkStatus();
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        this.#node = await registerNode(api, node, this.#network);
        this.#lastReport = Date.now();
        log("info", "registered the node", { node: node.name, ready: this.#network.ready });
        break;
      } catch (err) {
        const delay = Math.min(7000, 200 * 2 ** attempt);
        log("error", "unable to register the node with the API server", { node: node.name, error: (err as Error).message, retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.#stopped) return;
    this.#every(this.#o.statusIntervalMs ?? 2000, () => this.#nodeStatus());
    this.#every(this.#o.leaseRenewMs ?? 10_000, () => this.#lease());
    void this.#lease();
    this.#source.start();
    this.#every(this.#o.plegIntervalMs ?? 1000, () => this.#relistRuntime());
  }

  #every(ms: number, task: () => Promise<void> | void): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.#stopped) return;
      busy = true;
      void Promise.resolve()
        .then(task)
        .catch((err: Error) => this.#o.log("error", "kubelet loop failed", { error: err.message }))
        .finally(() => (busy = false));
    }, ms);
    this.#timers.push(timer);
  }

  async #nodeStatus(): Promise<void> {
    const network = await this.#o.runtime.networkStatus();
    const changed = network.ready !== this.#network.ready || network.message !== this.#network.message;
    if (!changed && Date.now() - this.#lastReport < (this.#o.statusReportMs ?? 60_000)) return;
    this.#node = await updateNodeStatus(this.#o.api, this.#o.node, network, this.#node?.status);
    // Taken as the node's network status only once the API server has it: a report that failed (a
    // reset connection) is a change still to report at the next tick, not one to wait a minute for.
    this.#network = network;
    this.#lastReport = Date.now();
    if (changed) {
      this.#o.log("info", network.ready ? "the node is ready" : "the node is not ready", { message: network.message });
      if (network.ready) {
        await this.events.record({ kind: "Node", name: this.nodeName, namespace: "", uid: this.nodeName }, "Normal", "NodeReady", `Node ${this.nodeName} status is now: NodeReady`);
        // Pods waiting for the network are tried again now.
        for (const w of this.#workers.values()) {
          this.#ctx.sandboxBackoff.reset(`${w.uid}/sandbox`);
          w.requestSync();
        }
      }
    }
  }

  async #lease(): Promise<void> {
    if (!this.#node) return;
    await renewLease(this.#o.api, this.nodeName, this.#node.metadata.uid ?? "");
  }

  #upsert(pod: KObject): void {
    const uid = pod.metadata.uid ?? "";
    const existing = this.#workers.get(uid);
    if (existing) return existing.update(pod);
    if (this.#pending) {
      this.#pending = [...this.#pending.filter((p) => p.metadata.uid !== uid), pod];
      return;
    }
    this.#admit(pod);
  }

  /** A worker for a pod new to this kubelet, admitted against max pods. */
  #admit(pod: KObject): void {
    const uid = pod.metadata.uid ?? "";
    const worker = new PodWorker(pod, this.#ctx, (done) => {
      if (this.#workers.get(done) === worker) this.#workers.delete(done);
    });
    const phase = (pod.status as any)?.phase;
    const terminal = phase === "Succeeded" || phase === "Failed";
    const capacity = this.#o.node.capacity.pods;
    const used = [...this.#workers.values()].filter((w) => w.active).length;
    this.#workers.set(uid, worker);
    if (!terminal && !pod.metadata.deletionTimestamp && used >= capacity) {
      const message = `Node didn't have enough resource: pods, requested: 1, used: ${used}, capacity: ${capacity}`;
      worker.view.rejected = { reason: "OutOfpods", message: `Pod was rejected: ${message}` };
      void this.events.pod(pod, "Warning", "OutOfpods", message);
    }
    worker.requestSync();
  }

  async #synced(): Promise<void> {
    // As HandlePodAdditions: pods in creation order, so pods that ran before a restart keep their place.
    const pods = (this.#pending ?? []).sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
    this.#pending = undefined;
    for (const pod of pods) this.#admit(pod);
    await this.#gc();
  }

  /** Sandboxes of pods this kubelet no longer has go (CNI DEL), then the plugins' own GC. */
  async #gc(): Promise<void> {
    const { runtime, log } = this.#o;
    for (const s of runtime.listSandboxes()) {
      if (this.#workers.has(s.config.uid)) continue;
      log("info", "removing the sandbox of a pod the node no longer has", { sandbox: s.id, pod: `${s.config.namespace}/${s.config.name}` });
      try {
        await runtime.stopPodSandbox(s.id);
        await runtime.removePodSandbox(s.id);
      } catch (err) {
        log("error", "sandbox GC failed", { sandbox: s.id, error: (err as Error).message });
      }
    }
    if (this.#network.ready) await runtime.gcNetworks().catch((err: Error) => log("error", "CNI GC failed", { error: err.message }));
  }

  /** The PLEG: a pod whose sandbox or containers changed state is synced. */
  #relistRuntime(): void {
    const { runtime } = this.#o;
    const prints = new Map<string, string>();
    const sandboxOf = new Map<string, string>();
    for (const s of runtime.listSandboxes()) {
      sandboxOf.set(s.id, s.config.uid);
      prints.set(s.config.uid, `${prints.get(s.config.uid) ?? ""}${s.id}:${s.state};`);
    }
    for (const c of runtime.listContainers()) {
      const uid = sandboxOf.get(c.sandboxId);
      if (uid !== undefined) prints.set(uid, `${prints.get(uid) ?? ""}${c.id}:${c.state};`);
    }
    for (const [uid, worker] of this.#workers) {
      const print = prints.get(uid) ?? "";
      if (this.#pleg.get(uid) !== print) worker.requestSync();
      this.#pleg.set(uid, print);
    }
    for (const uid of [...this.#pleg.keys()]) if (!this.#workers.has(uid)) this.#pleg.delete(uid);
  }

  /** Stops the kubelet; its pods keep running (a restarted kubelet takes them over). */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#source.stop();
    for (const w of this.#workers.values()) w.stopProbes();
  }

  /** The node shuts down: every container is killed, then the kubelet stops. */
  async shutdown(): Promise<void> {
    this.stop();
    const { runtime } = this.#o;
    await Promise.all(runtime.listContainers().filter((c) => c.state === "running").map((c) => runtime.stopContainer(c.id, 0)));
  }

  /** Waits until no pod worker is syncing (tests). */
  async idle(): Promise<void> {
    for (const w of [...this.#workers.values()]) await w.idle();
  }
}
