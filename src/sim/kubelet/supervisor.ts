// The vpcsim daemon's side of the kubelets: one kubelet process per instance, started inside the
// instance's network namespace with a system:node:<name> credential the API server issued (its
// kubeconfig names https://192.0.2.20, as a real node's does), its PID and start time recorded in
// the run directory (kubelets.json), its output in the node's var/log/kubelet.log. `stop` ends one
// (SIGINT: the node shuts down, its containers killed), `stopAll` every one; a kubelet whose daemon
// dies shuts itself down.

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KubeApiServer } from "../kube/server.ts";
import { identify, isAlive, signal, delay, type ProcessIdentity } from "./runtime/process.ts";
import type { KubeletProcessConfig } from "./main.ts";

const MAIN = join(import.meta.dirname, "main.ts");
const NODE_CNI_BIN = "opt/cni/bin";

export interface KubeletNode {
  /** The instance's Name tag (its node root is nodes/<instanceName>). */
  instanceName: string;
  instanceId: string;
  netns: string;
  /** The node's name; default: the private DNS name (ip-10-0-0-12.ec2.internal), as on EKS. */
  nodeName: string;
  maxPods?: number;
  labels?: Record<string, string>;
  /** Given to every container (the node's AWS environment). */
  nodeEnv?: Record<string, string>;
}

interface Running {
  node: KubeletNode;
  process: ProcessIdentity;
  exited: Promise<void>;
  logFile: string;
  token: string;
}

export class KubeletSupervisor {
  readonly #runName: string;
  readonly #runDir: string;
  readonly #server: KubeApiServer;
  readonly #apiUrl: string;
  readonly #log: (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void;
  readonly #running = new Map<string, Running>();

  constructor(options: { runName: string; runDir: string; server: KubeApiServer; apiUrl: string; log: (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void }) {
    this.#runName = options.runName;
    this.#runDir = options.runDir;
    this.#server = options.server;
    this.#apiUrl = options.apiUrl;
    this.#log = options.log;
  }

  nodeRoot(instanceName: string): string {
    return join(this.#runDir, "nodes", instanceName);
  }

  /** Starts the node's kubelet (once); resolves when its process runs. */
  async start(node: KubeletNode): Promise<{ nodeName: string; pid: number; logFile: string }> {
    const already = this.#running.get(node.instanceId);
    if (already && isAlive(already.process)) return { nodeName: node.nodeName, pid: already.process.pid, logFile: already.logFile };
    const root = this.nodeRoot(node.instanceName);
    const kubeletDir = join(root, "var/lib/kubelet");
    mkdirSync(kubeletDir, { recursive: true, mode: 0o700 });
    mkdirSync(join(root, "var/log"), { recursive: true });
    const { token } = this.#server.nodeCredential(node.nodeName);
    const kubeconfig = join(kubeletDir, "kubeconfig");
    this.#server.writeKubeconfig(kubeconfig, this.#apiUrl, `system:node:${node.nodeName}`, token);
    const config: KubeletProcessConfig = {
      kubeconfig,
      nodeRoot: root,
      netnsPrefix: `vs-${this.#runName}-${node.instanceId}-`,
      cniBinDirs: [join(root, NODE_CNI_BIN), "/usr/lib/cni"],
      nodeName: node.nodeName,
      ...(node.maxPods !== undefined ? { maxPods: node.maxPods } : {}),
      ...(node.labels ? { labels: node.labels } : {}),
      ...(node.nodeEnv ? { nodeEnv: node.nodeEnv } : {}),
    };
    const configFile = join(kubeletDir, "config.json");
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    const logFile = join(root, "var/log/kubelet.log");
    const out = openSync(logFile, "a", 0o640);
    const child = spawn("nsenter", [`--net=/run/netns/${node.netns}`, "--", process.execPath, MAIN, "--config", configFile], { stdio: ["ignore", out, out], env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" } });
    closeSync(out);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => resolve(child.pid!));
    });
    const exited = new Promise<void>((resolve) => child.once("exit", (code, sig) => {
      if (this.#running.get(node.instanceId)?.process.pid === pid) {
        this.#log(code === 0 ? "info" : "error", "a kubelet exited", { node: node.nodeName, code, signal: sig, log: logFile });
      }
      resolve();
    }));
    const identity = identify(pid) ?? { pid, startTime: "" };
    this.#running.set(node.instanceId, { node, process: identity, exited, logFile, token });
    this.#record();
    this.#log("info", "kubelet started", { node: node.nodeName, instance: node.instanceId, pid });
    return { nodeName: node.nodeName, pid, logFile };
  }

  /** Shuts the node's kubelet down (its containers are killed); the node's token is revoked. */
  async stop(instanceId: string, options: { leavePods?: boolean } = {}): Promise<void> {
    const r = this.#running.get(instanceId);
    if (!r) return;
    signal(r.process, options.leavePods ? "SIGTERM" : "SIGINT");
    const timeout = delay(15_000).then(() => "timeout");
    if ((await Promise.race([r.exited.then(() => "exited"), timeout])) === "timeout") {
      signal(r.process, "SIGKILL");
      await r.exited;
    }
    this.#server.authenticator.revokeStaticToken(r.token);
    this.#running.delete(instanceId);
    this.#record();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id)));
  }

  /** The running kubelets (PIDs), for status and clean-up. */
  list(): Array<{ nodeName: string; instanceId: string; pid: number; logFile: string }> {
    return [...this.#running.values()].map((r) => ({ nodeName: r.node.nodeName, instanceId: r.node.instanceId, pid: r.process.pid, logFile: r.logFile }));
  }

  #record(): void {
    const entries = [...this.#running.values()].map((r) => ({ node: r.node.nodeName, instanceId: r.node.instanceId, pid: r.process.pid, startTime: r.process.startTime }));
    writeFileSync(join(this.#runDir, "kubelets.json"), JSON.stringify(entries, null, 2));
  }
}
