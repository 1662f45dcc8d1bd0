// Runs vpc-cni-agent inside a vpcsim instance, as a DaemonSet pod would run on a node (host network,
// root), with its own state directory so several agents share this machine. The test talks to it the
// way the plugin and operators do: the RPC socket, and introspection on a unix socket.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { allocate, release, type AllocateParams } from "../src/ipam-rpc/client.ts";
import { podHostVethName } from "../src/datapath/veth-name.ts";
import { ROOT, runCommand, SimRun, VPCSIM, waitFor } from "./harness.ts";

export const AGENT_STATE_ROOT = "/run/vpc-cni-test";
/** What the agent's own process runs: its bundle (bin/vpc-cni-agent's default) or its source. */
const AGENT_PROGRAMS = /dist\/agent\/vpc-cni-agent\.mjs|src\/agent\/main\.ts/;

let bundle: Promise<void> | undefined;
/**
 * bin/vpc-cni-agent rebuilds a stale bundle before it starts the agent; this does it once per test
 * process, before any start-up timeout runs (a build takes seconds, tens of them on a loaded machine).
 */
function bundleReady(): Promise<void> {
  bundle ??= runCommand(join(ROOT, "bin", "vpc-cni-agent"), ["--version"], { timeoutMs: 300_000 }).then((r) => {
    if (r.code !== 0) throw new Error(`bin/vpc-cni-agent --version: ${r.stderr}`);
  });
  return bundle;
}

export class AgentProcess {
  readonly run: SimRun;
  readonly node: string;
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly logs: string[] = [];
  #child: ChildProcess | undefined;
  #exit: Promise<number | null> | undefined;

  constructor(run: SimRun, node: string, env: Record<string, string> = {}) {
    this.run = run;
    this.node = node;
    this.dir = join(AGENT_STATE_ROOT, run.name, node);
    this.env = env;
  }

  get socket(): string {
    return join(this.dir, "ipamd.sock");
  }

  /** Starts the agent and waits until it serves the plugin. */
  async start(): Promise<this> {
    await bundleReady();
    mkdirSync(this.dir, { recursive: true });
    const env = {
      ...process.env,
      VPC_CNI_STATE_DIR: this.dir,
      VPC_CNI_BIN_DIR: join(this.dir, "bin"),
      VPC_CNI_CONF_DIR: join(this.dir, "net.d"),
      INTROSPECTION_BIND_ADDRESS: `unix:${join(this.dir, "introspection.sock")}`,
      VPC_CNI_METRICS_BIND_ADDRESS: `unix:${join(this.dir, "metrics.sock")}`,
      AWS_VPC_K8S_CNI_LOG_FILE: "stdout",
      AWS_VPC_K8S_CNI_LOGLEVEL: "debug",
      DISABLE_LEAKED_ENI_CLEANUP: "true",
      ...this.env,
    };
    const child = spawn(VPCSIM, ["exec", "--run", this.run.name, this.node, "--", join(ROOT, "bin", "vpc-cni-agent")], { env, stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    let partial = "";
    const collect = (c: Buffer) => {
      partial += c.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      this.logs.push(...lines.filter(Boolean));
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    this.#exit = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    let exited = false;
    void this.#exit.then(() => (exited = true));
    await waitFor(async () => {
      if (exited) throw new Error(`the agent exited during start-up:\n${this.logs.slice(-20).join("\n")}`);
      return this.logs.some((l) => l.includes("serving the CNI plugin")) ? true : undefined;
    }, 60_000);
    return this;
  }

  /** The agent's own PID: the process in the node's namespace running the agent's main program. */
  async agentPid(): Promise<number> {
    const netns = (await this.run.instance(this.node)).netns;
    const pids = (await runCommand("ip", ["netns", "pids", netns])).stdout.split("\n").filter(Boolean).map(Number);
    const found = pids.find((pid) => {
      try {
        return AGENT_PROGRAMS.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      } catch {
        return false;
      }
    });
    if (found === undefined) throw new Error(`no agent process in ${netns}`);
    return found;
  }

  /** kill -9 of the agent itself (not of vpcsim exec), as a node crash or OOM kill would. */
  async crash(): Promise<void> {
    process.kill(await this.agentPid(), "SIGKILL");
    await this.#exit;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.#child || this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#child?.exitCode ?? null;
    this.#child.kill(signal);
    return this.#exit!;
  }

  clean(): void {
    rmSync(this.dir, { recursive: true, force: true });
    // The run's directory goes with its last node.
    try {
      rmdirSync(join(AGENT_STATE_ROOT, this.run.name));
    } catch {
      // other nodes of the run still have state
    }
  }

  allocate(pod: string, extra: Partial<AllocateParams> = {}) {
    return allocate({ socketPath: this.socket, clientVersion: "test" }, {
      podNamespace: "default",
      podName: pod,
      containerId: `c-${pod}`,
      ifName: "eth0",
      networkName: "aws-cni",
      netns: `/var/run/netns/${pod}`,
      ...extra,
    } as AllocateParams);
  }

  release(pod: string) {
    return release({ socketPath: this.socket, clientVersion: "test" }, {
      podNamespace: "default",
      podName: pod,
      containerId: `c-${pod}`,
      ifName: "eth0",
      networkName: "aws-cni",
      reason: "PodDeleted",
    } as never);
  }

  /** GET an introspection path (aws-node's /v1/enis, our /v1/pool ...). */
  introspect<T = any>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: join(this.dir, "introspection.sock"), path, timeout: 5000 }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(body) as T);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on("error", reject);
      req.end();
    });
  }

  /**
   * Waits until the pool's last plan says it is at target, was made from the pool as it is now (not one
   * from before the latest allocations, whose pass has not run yet), and nothing waits.
   */
  async settled(timeoutMs = 30_000): Promise<any> {
    return waitFor(async () => {
      const pool = await this.introspect("/v1/pool");
      const plan = pool.lastPlan;
      const current = plan?.stats && (["total", "assigned", "enis"] as const).every((k) => plan.stats[k] === pool.stats[k]);
      return typeof plan?.reason === "string" && plan.reason.startsWith("at target") && current && pool.stats.waiting === 0 ? pool : undefined;
    }, timeoutMs);
  }

  /** Creates the host veth the plugin would have made for a pod (checkpoint restore keeps its entry). */
  async addPodVeth(netns: string, pod: string): Promise<void> {
    const name = podHostVethName("eni", "default", pod);
    const r = await runCommand("ip", ["-n", netns, "link", "add", name, "type", "veth", "peer", "name", `p${name.slice(3, 14)}`]);
    if (r.code !== 0) throw new Error(`veth for ${pod}: ${r.stderr}`);
  }
}

/** EC2's view of an instance's ENIs, from vpcsim. */
export async function enisOf(run: SimRun, node: string) {
  return (await run.instance(node)).enis;
}

export async function callCounts(run: SimRun): Promise<Record<string, { total: number; ok: number; errors: Record<string, number> }>> {
  const r = await runCommand(VPCSIM, ["calls", "--run", run.name, "--counts", "--json"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
