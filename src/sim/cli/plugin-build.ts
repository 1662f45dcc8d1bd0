// A cluster's nodes run this checkout's build: the agent copies dist/vpc-cni and dist/egress-cni
// into each node's CNI bin dir, and aws-node's container runs bin/vpc-cni-agent, which runs the
// bundle in dist/agent. Build what is missing once, before the nodes start (bin/vpc-cni-agent
// still rebuilds a stale bundle itself).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..");
export const PLUGIN_EXECUTABLES = ["vpc-cni", "egress-cni"].map((n) => join(ROOT, "dist", n));
export const AGENT_BUNDLE = join(ROOT, "dist", "agent", "vpc-cni-agent.mjs");

function build(script: string): Promise<{ code: number | null; output: string }> {
  const output: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts", script)], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (c: Buffer) => output.push(c));
    child.stderr.on("data", (c: Buffer) => output.push(c));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output: Buffer.concat(output).toString("utf8") }));
  });
}

export async function ensurePluginBuilt(progress?: (line: string) => void): Promise<void> {
  const steps = [
    ...(PLUGIN_EXECUTABLES.every((p) => existsSync(p)) ? [] : [{ script: "build-plugin.ts", what: "the CNI plugins" }]),
    ...(existsSync(AGENT_BUNDLE) ? [] : [{ script: "build-agent.ts", what: "the agent's bundle" }]),
  ];
  for (const step of steps) {
    progress?.(`building ${step.what} (npm run build; once per checkout)...`);
    const { code, output } = await build(step.script);
    if (code !== 0) throw new Error(`building ${step.what} failed (npm run build):\n${output.trim().split("\n").slice(-15).join("\n")}`);
  }
}
