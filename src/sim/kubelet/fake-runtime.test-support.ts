// An in-memory container runtime for the kubelet's unit tests (the real one needs root and network
// namespaces; test/kubelet.test.ts runs it): sandboxes get addresses from 10.9.0.0/24 unless ADD is
// set to fail, containers run until a test ends them, and every call is counted.

import { randomBytes } from "node:crypto";
import type { NetworkStatus } from "./cni/pod-network.ts";
import { imageCatalogue, lookupImage, type PulledImage } from "./runtime/images.ts";
import { RuntimeError, type ContainerConfig, type ContainerStatus, type Sandbox, type SandboxConfig } from "./runtime/runtime.ts";
import type { KubeletRuntime } from "./kubelet.ts";

export class FakeRuntime implements KubeletRuntime {
  ready = false;
  /** When set, ADD fails with this message (as the plugin's error). */
  failAdd: string | undefined;
  readonly sandboxes = new Map<string, Sandbox>();
  readonly containers = new Map<string, ContainerStatus>();
  readonly calls = { add: 0, del: 0, gc: 0, stops: [] as Array<{ name: string; grace: number }> };
  #next = 2;

  async networkStatus(): Promise<NetworkStatus> {
    return this.ready ? { ready: true, reason: "", message: "" } : { ready: false, reason: "NetworkPluginNotReady", message: "Network plugin returns error: cni plugin not initialized" };
  }

  async gcNetworks(): Promise<void> {
    this.calls.gc++;
  }

  async runPodSandbox(config: SandboxConfig): Promise<Sandbox> {
    const id = randomBytes(32).toString("hex");
    if (!config.hostNetwork) {
      this.calls.add++;
      if (this.failAdd !== undefined) throw new RuntimeError("CreatePodSandboxError", `failed to setup network for sandbox "${id}": ${this.failAdd}`);
    }
    const sandbox: Sandbox = { id, config, netns: config.hostNetwork ? "" : `cni-${id.slice(0, 8)}`, state: "ready", createdAt: new Date().toISOString(), ips: config.hostNetwork ? [] : [`10.9.0.${this.#next++}`], teardowns: 0 };
    this.sandboxes.set(id, sandbox);
    return structuredClone(sandbox);
  }

  async stopPodSandbox(id: string): Promise<void> {
    const s = this.sandboxes.get(id);
    if (!s) return;
    for (const c of this.containers.values()) if (c.sandboxId === id && c.state === "running") await this.stopContainer(c.id, 0);
    if (!s.config.hostNetwork && s.state === "ready") this.calls.del++;
    s.state = "notready";
  }

  async removePodSandbox(id: string): Promise<void> {
    this.sandboxes.delete(id);
    for (const [cid, c] of this.containers) if (c.sandboxId === id) this.containers.delete(cid);
  }

  listSandboxes(): Sandbox[] {
    return [...this.sandboxes.values()].map((s) => structuredClone(s));
  }

  listContainers(): ContainerStatus[] {
    return [...this.containers.values()].map((c) => structuredClone(c));
  }

  pullImage(image: string): { image: PulledImage; ref: string } {
    let found: ReturnType<typeof lookupImage>;
    try {
      found = lookupImage(image, imageCatalogue());
    } catch (err) {
      throw new RuntimeError("ErrImagePull", `rpc error: code = NotFound desc = ${(err as Error).message}`);
    }
    return { image: { spec: found.spec, root: "/nonexistent", binDir: undefined, program: (p) => p }, ref: image };
  }

  createContainer(sandboxId: string, config: ContainerConfig): ContainerStatus {
    const c: ContainerStatus = { id: randomBytes(32).toString("hex"), sandboxId, config, state: "created", createdAt: new Date().toISOString() };
    this.containers.set(c.id, c);
    return structuredClone(c);
  }

  async startContainer(id: string): Promise<ContainerStatus> {
    const c = this.containers.get(id)!;
    c.state = "running";
    c.startedAt = new Date().toISOString();
    return structuredClone(c);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.state !== "running") return;
    this.calls.stops.push({ name: c.config.name, grace: timeoutSeconds });
    this.exit(id, 0);
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }

  async execSync(): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> {
    return { exitCode: 0, stdout: "", stderr: "", timedOut: false };
  }

  /** The container's process ends with this code. */
  exit(id: string, code: number): void {
    const c = this.containers.get(id)!;
    c.state = "exited";
    c.exitCode = code;
    c.finishedAt = new Date().toISOString();
    c.reason = code === 0 ? "Completed" : "Error";
  }

  /** The running containers of a pod (by its name). */
  running(pod: string): ContainerStatus[] {
    const ids = new Set([...this.sandboxes.values()].filter((s) => s.config.name === pod).map((s) => s.id));
    return [...this.containers.values()].filter((c) => ids.has(c.sandboxId) && c.state === "running");
  }
}
