// One pod's worker, as the kubelet's pod workers are: every change to the pod, every container
// state change the runtime reports, every probe result and every back-off that ends asks for a
// sync, and syncs of one pod never overlap. A sync makes the node match the pod: the sandbox (CNI
// ADD through the runtime; FailedCreatePodSandBox and exponential back-off while it fails), the
// init containers one after another, the containers (restarted by the restart policy, with
// CrashLoopBackOff), the probes, and the status written back. A pod being deleted is stopped
// (containers with its grace period, then the sandbox: CNI DEL with the cached result) and then
// deleted for good with grace 0 and its uid as precondition.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KObject } from "../../kube/objects.ts";
import type { Runtime, ContainerStatus as RuntimeContainer } from "../runtime/runtime.ts";
import type { NodeApi } from "../api/node-api.ts";
import { isStatus } from "../api/node-api.ts";
import type { EventRecorder } from "../events.ts";
import { Backoff } from "../backoff.ts";
import { containerConfig, ContainerSpecError, podSpec, sandboxConfig, type ContainerSpec, type PodContext } from "./container-spec.ts";
import { emptyView, initialized, podPhase, podStatus, restarts, type PodView } from "./pod-status.ts";
import { ProbeWorker } from "./probes.ts";

export type PodRuntime = Pick<
  Runtime,
  "runPodSandbox" | "stopPodSandbox" | "removePodSandbox" | "listSandboxes" | "listContainers" | "pullImage" | "createContainer" | "startContainer" | "stopContainer" | "removeContainer" | "execSync"
>;

export interface WorkerContext {
  api: NodeApi;
  runtime: PodRuntime;
  events: EventRecorder;
  nodeName: string;
  nodeRoot: string;
  hostIP: string;
  apiServer: { url: string; host: string; port: number; caPem: string };
  /** Given to every container (see PodContext.nodeEnv). */
  nodeEnv?: Record<string, string>;
  log: (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void;
  /** Sandbox creation back-off (initial, max) and container restart back-off. */
  sandboxBackoff: Backoff;
  restartBackoff: Backoff;
}

const TOKEN_REFRESH_MS = 40 * 60_000;

export class PodWorker {
  readonly uid: string;
  #pod: KObject;
  /** The pod is gone from the API server (deleted for good): tear down, write nothing. */
  #removed = false;
  #done = false;
  readonly view: PodView = emptyView();
  readonly #ctx: WorkerContext;
  readonly #probes = new Map<string, ProbeWorker>();
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #lastStatus = "";
  #tokenAt = 0;
  readonly #onFinished: (uid: string) => void;

  constructor(pod: KObject, ctx: WorkerContext, onFinished: (uid: string) => void) {
    this.uid = pod.metadata.uid ?? "";
    this.#pod = pod;
    this.#ctx = ctx;
    this.#onFinished = onFinished;
  }

  get pod(): KObject {
    return this.#pod;
  }

  get finished(): boolean {
    return this.#done;
  }

  /** Whether the pod counts against the node's max pods (admitted, not terminal). */
  get active(): boolean {
    if (this.view.rejected || this.#done) return false;
    const phase = (this.#pod.status as any)?.phase;
    return phase !== "Succeeded" && phase !== "Failed";
  }

  update(pod: KObject): void {
    this.#pod = pod;
    this.requestSync();
  }

  /** The pod was deleted from the API server (or is no longer bound here). */
  remove(): void {
    this.#removed = true;
    this.requestSync();
  }

  requestSync(delayMs = 0): void {
    if (this.#done) return;
    if (delayMs <= 0) {
      if (this.#running) {
        this.#again = true;
        return;
      }
      this.#running = this.#loop();
      return;
    }
    const at = Date.now() + delayMs;
    if (at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timerAt = Infinity;
      this.requestSync();
    }, delayMs);
  }

  /** Resolves when no sync is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stopProbes(): void {
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
    clearTimeout(this.#timer);
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        try {
          await this.#sync();
        } catch (err) {
          this.#ctx.log("error", "pod sync failed", { pod: this.#name, error: (err as Error).message });
          this.requestSync(2000);
        }
      } while (this.#again && !this.#done);
    } finally {
      this.#running = undefined;
    }
  }

  get #name(): string {
    return `${this.#pod.metadata.namespace}/${this.#pod.metadata.name}`;
  }

  get #podDir(): string {
    return join(this.#ctx.nodeRoot, "var/lib/kubelet/pods", this.uid);
  }

  #refresh(): void {
    const sandboxes = this.#ctx.runtime.listSandboxes().filter((s) => s.config.uid === this.uid);
    this.view.sandbox = sandboxes.filter((s) => s.state === "ready").pop();
    const containers = new Map<string, RuntimeContainer[]>();
    if (this.view.sandbox) {
      for (const c of this.#ctx.runtime.listContainers().filter((c) => c.sandboxId === this.view.sandbox!.id)) {
        const list = containers.get(c.config.name) ?? [];
        list.push(c);
        containers.set(c.config.name, list);
      }
      for (const list of containers.values()) list.sort((a, b) => a.config.attempt - b.config.attempt);
    }
    this.view.containers = containers;
  }

  async #sync(): Promise<void> {
    const pod = this.#pod;
    this.#refresh();
    if (this.#removed || pod.metadata.deletionTimestamp) return this.#terminate();
    if (this.view.rejected) return this.#writeStatus();
    const phase = (pod.status as any)?.phase;
    if (phase === "Succeeded" || phase === "Failed") {
      // Terminal: nothing runs again; the sandbox goes (its address back to the pool).
      await this.#killAll(0);
      return;
    }
    if (!(await this.#ensureSandbox())) return this.#writeStatus();
    this.view.startTime ??= new Date().toISOString();
    if (!podSpec(pod).hostNetwork) this.#ensureToken();
    const inits = (podSpec(pod).initContainers ?? []) as ContainerSpec[];
    let initDone = true;
    for (const spec of inits) {
      const c = this.#latest(spec.name);
      if (c?.state === "exited" && c.exitCode === 0) continue;
      initDone = false;
      if (c?.state === "running" || c?.state === "created") break;
      if (c?.state === "exited" && !restarts(pod, c)) break; // Never: the pod fails
      await this.#start(spec, c);
      break;
    }
    if (podSpec(pod).hostNetwork) this.#ensureToken();
    if (initDone && initialized(pod, this.view)) {
      for (const spec of (podSpec(pod).containers ?? []) as ContainerSpec[]) {
        const c = this.#latest(spec.name);
        if (!c) await this.#start(spec, undefined);
        else if (c.state === "exited" && restarts(pod, c)) await this.#start(spec, c);
        else if (c.state === "running") this.#ensureProbes(spec, c);
      }
    }
    this.#refresh();
    await this.#writeStatus();
    // A failed init container under restartPolicy Never fails the pod: its sandbox goes.
    if (podPhase(pod, this.view) !== "Running" && podPhase(pod, this.view) !== "Pending") this.requestSync(0);
  }

  #latest(name: string): RuntimeContainer | undefined {
    const list = this.view.containers.get(name);
    return list?.[list.length - 1];
  }

  /** A ready sandbox for the pod, made now if needed; false while it cannot be made. */
  async #ensureSandbox(): Promise<boolean> {
    if (this.view.sandbox) return true;
    const { runtime, sandboxBackoff, events } = this.#ctx;
    const key = `${this.uid}/sandbox`;
    const left = sandboxBackoff.remaining(key);
    if (left > 0) {
      this.requestSync(left);
      return false;
    }
    const all = runtime.listSandboxes().filter((s) => s.config.uid === this.uid);
    for (const old of all) {
      // A sandbox that is not ready (its ADD half done, or it died) is cleaned up, then replaced.
      await runtime.stopPodSandbox(old.id);
      await runtime.removePodSandbox(old.id);
    }
    if (all.length > 0 && this.view.containers.size === 0) await events.pod(this.#pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
    mkdirSync(this.#podDir, { recursive: true, mode: 0o750 });
    try {
      this.view.sandbox = await runtime.runPodSandbox(sandboxConfig(this.#pod, all.length));
      sandboxBackoff.reset(key);
      this.view.containers = new Map();
      for (const name of [...this.view.waiting.keys()]) if (this.view.waiting.get(name)?.reason === "ContainerCreating") this.view.waiting.delete(name);
      return true;
    } catch (err) {
      const delay = sandboxBackoff.failed(key);
      const message = `Failed to create pod sandbox: rpc error: code = Unknown desc = ${(err as Error).message}`;
      this.#ctx.log("error", "sandbox creation failed", { pod: this.#name, error: (err as Error).message, retryInMs: delay });
      await events.pod(this.#pod, "Warning", "FailedCreatePodSandBox", message);
      this.requestSync(delay);
      return false;
    }
  }

  #context(): PodContext {
    const ips = podSpec(this.#pod).hostNetwork ? [this.#ctx.hostIP] : (this.view.sandbox?.ips ?? []);
    const s = this.#ctx.apiServer;
    const automount = podSpec(this.#pod).automountServiceAccountToken !== false;
    return { nodeName: this.#ctx.nodeName, nodeRoot: this.#ctx.nodeRoot, podDir: this.#podDir, hostIP: this.#ctx.hostIP, podIPs: ips, apiHost: s.host, apiPort: s.port, ...(this.#ctx.nodeEnv ? { nodeEnv: this.#ctx.nodeEnv } : {}), ...(automount ? { kubeconfig: join(this.#podDir, "kubeconfig") } : {}) };
  }

  /** The pod's service-account token (bound to the pod), its CA and a kubeconfig, refreshed hourly. */
  #ensureToken(): void {
    const spec = podSpec(this.#pod);
    if (spec.automountServiceAccountToken === false || Date.now() - this.#tokenAt < TOKEN_REFRESH_MS) return;
    this.#tokenAt = Date.now();
    const meta = this.#pod.metadata;
    const account = spec.serviceAccountName ?? "default";
    const volume = ((spec.volumes ?? []) as any[]).find((v) => typeof v.name === "string" && v.name.startsWith("kube-api-access-"))?.name as string | undefined;
    void this.#ctx.api
      .createSubresource("v1/serviceaccounts", account, meta.namespace ?? "default", "token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: {},
        spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: meta.name ?? "", uid: this.uid } },
      } as KObject)
      .then((answer) => {
        const token = ((answer as any).status?.token ?? "") as string;
        const s = this.#ctx.apiServer;
        for (const dir of [join(this.#podDir, "serviceaccount"), ...(volume ? [join(this.#podDir, "volumes", volume)] : [])]) {
          mkdirSync(dir, { recursive: true, mode: 0o755 });
          writeFileSync(join(dir, "token"), token, { mode: 0o600 });
          writeFileSync(join(dir, "ca.crt"), s.caPem);
          writeFileSync(join(dir, "namespace"), meta.namespace ?? "default");
        }
        const ca = Buffer.from(s.caPem).toString("base64");
        writeFileSync(
          join(this.#podDir, "kubeconfig"),
          `apiVersion: v1\nkind: Config\nclusters:\n- name: cluster\n  cluster:\n    server: ${s.url}\n    certificate-authority-data: ${ca}\nusers:\n- name: ${account}\n  user:\n    token: ${token}\ncontexts:\n- name: default\n  context:\n    cluster: cluster\n    user: ${account}\n    namespace: ${meta.namespace}\ncurrent-context: default\n`,
          { mode: 0o600 },
        );
      })
      .catch((err: Error) => {
        this.#tokenAt = 0;
        this.#ctx.log("error", "service account token request failed", { pod: this.#name, error: err.message });
      });
  }

  /** Creates and starts the next attempt of a container (the first, or a restart after back-off). */
  async #start(spec: ContainerSpec, last: RuntimeContainer | undefined): Promise<void> {
    const { runtime, events, restartBackoff } = this.#ctx;
    const key = `${this.uid}/${spec.name}`;
    if (last?.state === "exited") {
      const left = restartBackoff.remaining(key);
      if (left > 0) {
        this.view.waiting.set(spec.name, { reason: "CrashLoopBackOff", message: `back-off ${Math.round(restartBackoff.delay(key) / 1000)}s restarting failed container=${spec.name} pod=${this.#pod.metadata.name}_${this.#pod.metadata.namespace}(${this.uid})` });
        this.requestSync(left);
        return;
      }
    }
    const attempt = last ? last.config.attempt + 1 : 0;
    let pulled: ReturnType<PodRuntime["pullImage"]>;
    try {
      pulled = runtime.pullImage(spec.image);
    } catch (err) {
      const delay = restartBackoff.failed(key);
      this.view.waiting.set(spec.name, { reason: delay > 10_000 ? "ImagePullBackOff" : "ErrImagePull", message: (err as Error).message });
      await events.pod(this.#pod, "Warning", "Failed", `Failed to pull image "${spec.image}": ${(err as Error).message}`, spec.name);
      this.requestSync(delay);
      return;
    }
    let status: RuntimeContainer;
    try {
      const config = containerConfig(this.#pod, spec, pulled.image, attempt, this.#context());
      for (const p of (podSpec(this.#pod).volumes ?? []) as any[]) {
        if (p.hostPath?.path && (p.hostPath.type === "DirectoryOrCreate" || p.hostPath.type === "Directory" || p.hostPath.type === undefined)) mkdirSync(join(this.#ctx.nodeRoot, p.hostPath.path), { recursive: true });
        if (p.hostPath?.path && p.hostPath.type === "FileOrCreate") {
          mkdirSync(join(this.#ctx.nodeRoot, p.hostPath.path, ".."), { recursive: true });
          writeFileSync(join(this.#ctx.nodeRoot, p.hostPath.path), "", { flag: "a" });
        }
        if (p.emptyDir) mkdirSync(join(this.#podDir, "volumes/kubernetes.io~empty-dir", p.name), { recursive: true });
      }
      await events.pod(this.#pod, "Normal", "Pulled", `Container image "${spec.image}" already present on machine`, spec.name);
      status = runtime.createContainer(this.view.sandbox!.id, config, pulled.image);
    } catch (err) {
      const delay = restartBackoff.failed(key);
      const reason = err instanceof ContainerSpecError ? "CreateContainerConfigError" : "CreateContainerError";
      this.view.waiting.set(spec.name, { reason, message: (err as Error).message });
      await events.pod(this.#pod, "Warning", "Failed", `Error: ${(err as Error).message}`, spec.name);
      this.requestSync(delay);
      return;
    }
    await events.pod(this.#pod, "Normal", "Created", `Created container: ${spec.name}`, spec.name);
    try {
      await runtime.startContainer(status.id);
      await events.pod(this.#pod, "Normal", "Started", `Started container ${spec.name}`, spec.name);
      this.view.waiting.delete(spec.name);
      // The next exit of this container waits (the first restart is immediate, later ones back off).
      if (last) restartBackoff.failed(key);
    } catch (err) {
      const delay = restartBackoff.failed(key);
      this.view.waiting.set(spec.name, { reason: "RunContainerError", message: (err as Error).message });
      await events.pod(this.#pod, "Warning", "Failed", `Error: ${(err as Error).message}`, spec.name);
      this.requestSync(delay);
    }
    this.#refresh();
  }

  #ensureProbes(spec: ContainerSpec, c: RuntimeContainer): void {
    for (const [kind, probe] of [["startup", spec.startupProbe], ["readiness", spec.readinessProbe]] as const) {
      const key = `${spec.name}/${kind}/${c.id}`;
      if (!probe || this.#probes.has(key)) continue;
      for (const [k, p] of this.#probes) {
        if (k.startsWith(`${spec.name}/${kind}/`)) {
          p.stop();
          this.#probes.delete(k);
        }
      }
      const results = kind === "startup" ? this.view.started : this.view.ready;
      results.set(spec.name, false);
      const target = {
        podIP: podSpec(this.#pod).hostNetwork ? this.#ctx.hostIP : (this.view.sandbox?.ips[0] ?? ""),
        container: spec,
        exec: async (argv: string[], timeoutMs: number) => (await this.#ctx.runtime.execSync(c.id, argv, timeoutMs)).exitCode,
      };
      const start = () =>
        new ProbeWorker(
          probe,
          target,
          (ok) => {
            results.set(spec.name, ok);
            this.requestSync();
          },
          (why) => void this.#ctx.events.pod(this.#pod, "Warning", "Unhealthy", `${kind === "startup" ? "Startup" : "Readiness"} probe failed: ${why}`, spec.name),
        );
      // Readiness waits for the startup probe, as the kubelet's prober does.
      if (kind === "readiness" && spec.startupProbe && this.view.started.get(spec.name) !== true) continue;
      this.#probes.set(key, start());
    }
  }

  async #writeStatus(): Promise<void> {
    if (this.#removed) return;
    const status = podStatus(this.#pod, this.view, this.#ctx.hostIP, new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    const text = JSON.stringify(status);
    if (text === this.#lastStatus) return;
    try {
      const updated = await this.#ctx.api.patch("v1/pods", this.#pod.metadata.name ?? "", this.#pod.metadata.namespace ?? "", { status }, "merge", { subresource: "status" });
      this.#lastStatus = text;
      if (updated.metadata?.uid === this.uid) this.#pod = { ...this.#pod, status: updated.status, metadata: { ...this.#pod.metadata, ...(updated.metadata.deletionTimestamp ? { deletionTimestamp: updated.metadata.deletionTimestamp } : {}) } };
    } catch (err) {
      if (isStatus(err, 404)) return this.remove();
      this.#ctx.log("error", "pod status update failed", { pod: this.#name, error: (err as Error).message });
      this.requestSync(1000);
    }
  }

  /** Stops every container (with the grace period) and the sandbox (CNI DEL), and forgets them. */
  async #killAll(graceSeconds: number): Promise<void> {
    this.stopProbes();
    const { runtime, events } = this.#ctx;
    const sandboxes = runtime.listSandboxes().filter((s) => s.config.uid === this.uid);
    const ids = new Set(sandboxes.map((s) => s.id));
    const running = runtime.listContainers().filter((c) => ids.has(c.sandboxId) && c.state === "running");
    await Promise.all(
      running.map(async (c) => {
        await events.pod(this.#pod, "Normal", "Killing", `Stopping container ${c.config.name}`, c.config.name);
        await runtime.stopContainer(c.id, graceSeconds);
      }),
    );
    this.#refresh();
    this.view.ready.clear();
    // The last status shows how the containers ended.
    if (this.view.sandbox && running.length > 0 && !this.#removed) await this.#writeStatus();
    for (const s of sandboxes) {
      await runtime.stopPodSandbox(s.id);
      await runtime.removePodSandbox(s.id);
    }
    this.view.sandbox = undefined;
  }

  async #terminate(): Promise<void> {
    const grace = this.#pod.metadata.deletionGracePeriodSeconds ?? podSpec(this.#pod).terminationGracePeriodSeconds ?? 30;
    try {
      await this.#killAll(this.#removed ? Math.min(grace, 2) : grace);
    } catch (err) {
      const delay = this.#ctx.sandboxBackoff.failed(`${this.uid}/kill`);
      this.#ctx.log("error", "pod teardown failed", { pod: this.#name, error: (err as Error).message, retryInMs: delay });
      await this.#ctx.events.pod(this.#pod, "Warning", "FailedKillPod", `error killing pod: ${(err as Error).message}`);
      this.requestSync(delay);
      return;
    }
    if (!this.#removed) {
      try {
        await this.#ctx.api.delete("v1/pods", this.#pod.metadata.name ?? "", this.#pod.metadata.namespace ?? "", { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      } catch (err) {
        if (!isStatus(err, 404) && !isStatus(err, 409)) {
          this.#ctx.log("error", "pod deletion failed", { pod: this.#name, error: (err as Error).message });
          this.requestSync(1000);
          return;
        }
      }
    }
    rmSync(this.#podDir, { recursive: true, force: true });
    this.#ctx.sandboxBackoff.resetPrefix(`${this.uid}/`);
    this.#ctx.restartBackoff.resetPrefix(`${this.uid}/`);
    this.#done = true;
    clearTimeout(this.#timer);
    this.#onFinished(this.uid);
  }
}
