// A cluster's nodes install the CNI plugins from dist/ (the agent copies dist/vpc-cni and
// dist/egress-cni into each node's CNI bin dir): build them first if this checkout has not.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..");
export const PLUGIN_EXECUTABLES = ["vpc-cni", "egress-cni"].map((n) => join(ROOT, "dist", n));

export async function ensurePluginBuilt(progress?: (line: string) => void): Promise<void> {
  if (PLUGIN_EXECUTABLES.every((p) => existsSync(p))) return;
  progress?.("building the CNI plugins (npm run build; once per checkout)...");
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts", "build-plugin.ts")], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (c: Buffer) => output.push(c));
    child.stderr.on("data", (c: Buffer) => output.push(c));
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) throw new Error(`building the CNI plugins failed (npm run build):\n${Buffer.concat(output).toString("utf8").trim().split("\n").slice(-15).join("\n")}`);
}
