// Puts the plugin where the runtime finds it, as aws-node's entrypoint does: the executable into the
// CNI bin dir, then the conflist into the CNI conf dir, only once the agent serves (a node whose runtime
// sees the conflist is a node that can start pods). Both writes are atomic renames, so a runtime never
// execs half a binary or reads half a file, and pods already running keep their executable's inode.

import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AgentConfig } from "./config.ts";

export const PLUGIN_TYPE = "vpc-cni";
export const CONFLIST_NAME = "10-aws.conflist";
export const NETWORK_NAME = "aws-cni";

/** Where the built plugin is: $VPC_CNI_PLUGIN_SOURCE, else dist/vpc-cni of this checkout (npm run build). */
export function pluginSource(env: Readonly<Record<string, string | undefined>>): string {
  return env.VPC_CNI_PLUGIN_SOURCE ?? resolve(import.meta.dirname, "../../dist/vpc-cni");
}

export function installPlugin(source: string, binDir: string): string {
  if (!existsSync(source)) throw new Error(`the plugin executable ${source} does not exist (build it with: npm run build)`);
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  const target = join(binDir, PLUGIN_TYPE);
  const staging = join(binDir, `.${PLUGIN_TYPE}.${process.pid}.tmp`);
  try {
    copyFileSync(source, staging);
    chmodSync(staging, 0o755);
    renameSync(staging, target);
  } finally {
    rmSync(staging, { force: true });
  }
  return target;
}

/** The conflist: vpc-cni, then portmap (hostPort), as aws-node's 10-aws.conflist. */
export function conflist(config: AgentConfig): object {
  const destination = (d: AgentConfig["observability"]["pluginLogFile"]) => (d.kind === "file" ? d.path : d.kind);
  return {
    cniVersion: "1.0.0",
    name: NETWORK_NAME,
    plugins: [
      {
        name: NETWORK_NAME,
        type: PLUGIN_TYPE,
        vethPrefix: config.hostNetwork.vethPrefix,
        mtu: String(config.hostNetwork.podMtu),
        podSGEnforcingMode: config.eni.podSecurityGroupEnforcingMode,
        pluginLogFile: destination(config.observability.pluginLogFile),
        pluginLogLevel: config.observability.pluginLogLevel,
        // Ours: where the agent listens (several agents share a machine under vpcsim).
        agentSocket: config.paths.socketPath,
        capabilities: { "io.kubernetes.cri.pod-annotations": true },
      },
      { type: "portmap", capabilities: { portMappings: true }, snat: true },
    ],
  };
}

export function writeConflist(config: AgentConfig): string {
  const dir = config.paths.cniConfDir;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, CONFLIST_NAME);
  const staging = join(dir, `.${CONFLIST_NAME}.${process.pid}.tmp`);
  writeFileSync(staging, JSON.stringify(conflist(config), null, 2) + "\n", { mode: 0o644 });
  renameSync(staging, target);
  return target;
}
