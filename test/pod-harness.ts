// Pods for end-to-end tests: a network namespace per pod (named with the run's prefix, so `vpcsim down`
// clears it), and the CNI plugin chain executed as a runtime executes it: the installed executable,
// inside the node's namespace, with the CNI environment and the conflist entry on stdin.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { execConfig, parseConfList, type ConfList } from "../src/cni/index.ts";
import type { AgentProcess } from "./agent-harness.ts";
import { runCommand, type CommandResult } from "./harness.ts";

export const DEBIAN_CNI_DIR = "/usr/lib/cni";

export interface CniCall {
  command: "ADD" | "DEL" | "CHECK" | "STATUS" | "GC" | "VERSION";
  containerId: string;
  netns: string;
  ifName?: string;
  args?: string;
  prevResult?: unknown;
  runtimeConfig?: Record<string, unknown>;
  /** Extra top-level config keys (e.g. cni.dev/valid-attachments). */
  extra?: Record<string, unknown>;
  /** Overrides of the environment (tests of bad input). */
  env?: Record<string, string | undefined>;
  /** Raw stdin instead of the conflist entry. */
  stdin?: string;
}

export interface CniOutcome extends CommandResult {
  json: any;
}

export class Node {
  readonly agent: AgentProcess;
  readonly netns: string;
  readonly conflist: ConfList;

  private constructor(agent: AgentProcess, netns: string, conflist: ConfList) {
    this.agent = agent;
    this.netns = netns;
    this.conflist = conflist;
  }

  static async of(agent: AgentProcess): Promise<Node> {
    const netns = (await agent.run.instance(agent.node)).netns;
    const conflist = parseConfList(readFileSync(join(agent.dir, "net.d", "10-aws.conflist"), "utf8"));
    return new Node(agent, netns, conflist);
  }

  get binDir(): string {
    return join(this.agent.dir, "bin");
  }

  /** A new pod network namespace; `vpcsim down` removes it with the run if a test does not. */
  async newPodNetns(): Promise<string> {
    const name = `vs-${this.agent.run.name}-pod-${randomBytes(4).toString("hex")}`;
    const r = await runCommand("ip", ["netns", "add", name]);
    if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
    await runCommand("ip", ["-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  /** Runs one plugin of the conflist (index 0 is vpc-cni) the way libcni does. */
  async cni(call: CniCall, pluginIndex = 0, list: ConfList = this.conflist): Promise<CniOutcome> {
    const plugin = list.plugins[pluginIndex]!;
    const type = String(plugin["type"]);
    // Ours from the agent's bin dir (vpc-cni, egress-cni), the rest from Debian's.
    const dir = type === "vpc-cni" || type === "egress-cni" ? this.binDir : DEBIAN_CNI_DIR;
    const config = { ...execConfig(list, pluginIndex, { ...(call.runtimeConfig ? { capabilityArgs: call.runtimeConfig } : {}), ...(call.prevResult ? { prevResult: call.prevResult as Record<string, unknown> } : {}) }), ...(call.extra ?? {}) };
    const env: Record<string, string> = {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: call.command,
      CNI_CONTAINERID: call.containerId,
      CNI_NETNS: call.netns === "" ? "" : call.netns.startsWith("/") ? call.netns : `/var/run/netns/${call.netns}`,
      CNI_IFNAME: call.ifName ?? "eth0",
      CNI_ARGS: call.args ?? "",
      CNI_PATH: `${this.binDir}:${DEBIAN_CNI_DIR}`,
    };
    for (const [k, v] of Object.entries(call.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const r = await runCommand("ip", ["netns", "exec", this.netns, "env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), join(dir, type)], {
      input: call.stdin ?? JSON.stringify(config),
    });
    let json: unknown;
    try {
      json = r.stdout.trim() === "" ? undefined : JSON.parse(r.stdout);
    } catch {
      json = { unparsable: r.stdout };
    }
    return { ...r, json };
  }

  /** ADD for a Kubernetes-style pod; returns the result. Throws when the plugin fails. */
  async addPod(pod: string, netns: string): Promise<{ result: any; address: string; containerId: string }> {
    const containerId = `c${randomBytes(8).toString("hex")}`;
    const out = await this.cni({ command: "ADD", containerId, netns, args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${containerId}` });
    if (out.code !== 0 || out.json?.ips === undefined) throw new Error(`ADD ${pod} failed (${out.code}): ${out.stdout} ${out.stderr}`);
    return { result: out.json, address: String(out.json.ips[0].address).replace(/\/(32|128)$/, ""), containerId };
  }

  async delPod(pod: string, netns: string, containerId: string, prevResult?: unknown): Promise<CniOutcome> {
    return this.cni({ command: "DEL", containerId, netns, args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${containerId}`, ...(prevResult ? { prevResult } : {}) });
  }

  /** Runs a command inside a pod's namespace. */
  inPod(netns: string, args: string[], input?: string): Promise<CommandResult> {
    return runCommand("ip", ["netns", "exec", netns, ...args], input === undefined ? {} : { input });
  }

  /**
   * The node's host state that pods change: pod veths, routes and the 512/1536 rules (ENI links and
   * their rules come and go with the warm pool and are left out).
   */
  async hostState(): Promise<{ links: string[]; routes: string[]; rules: string[] }> {
    const links = (await runCommand("ip", ["-n", this.netns, "-o", "link", "show"])).stdout
      .split("\n")
      .map((l) => l.split(":")[1]?.trim().split("@")[0] ?? "")
      .filter((l) => l !== "" && l !== "lo" && !/^eth\d+$/.test(l))
      .sort();
    const routes = (await runCommand("ip", ["-n", this.netns, "route", "show", "table", "main"])).stdout
      .split("\n")
      .filter((l) => /scope link/.test(l) && !/dev eth\d+/.test(l))
      .sort();
    const rules = (await runCommand("ip", ["-n", this.netns, "rule"])).stdout
      .split("\n")
      .filter((l) => /^(512|1536):/.test(l))
      .sort();
    return { links, routes, rules };
  }
}

export async function deleteNetns(name: string): Promise<void> {
  await runCommand("ip", ["netns", "del", name]);
}
