// Puts the plugin where the runtime finds it, as aws-node's entrypoint does: the executable into the
// CNI bin dir, then the conflist into the CNI conf dir, only once the agent serves (a node whose runtime
// sees the conflist is a node that can start pods). Both writes are atomic renames, so a runtime never
// execs half a binary or reads half a file, and pods already running keep their executable's inode.

import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { AgentConfig } from "./config.ts";

export const PLUGIN_TYPE = "vpc-cni";
/** The chained plugin that gives pods egress in the node's other family (reference §1.4). */
export const EGRESS_PLUGIN_TYPE = "egress-cni";
/** The executables the agent installs, as the runtime finds them by the conflist's "type". */
export const PLUGIN_EXECUTABLES = [PLUGIN_TYPE, EGRESS_PLUGIN_TYPE] as const;
/** egress-cni's address ranges and default routes (reference §1.3's placeholders). */
export const EGRESS_V4 = { subnet: "169.254.172.0/22", dst: "0.0.0.0/0" } as const;
export const EGRESS_V6 = { subnet: "fd00::ac:00/118", dst: "::/0" } as const;
export const CONFLIST_NAME = "10-aws.conflist";
export const NETWORK_NAME = "aws-cni";

/**
 * Where the built plugins are: $VPC_CNI_PLUGIN_SOURCE (the vpc-cni executable; egress-cni beside it),
 * else dist/ of this checkout (npm run build).
 */
export function pluginSource(env: Readonly<Record<string, string | undefined>>): string {
  return env.VPC_CNI_PLUGIN_SOURCE ?? resolve(import.meta.dirname, "../../dist/vpc-cni");
}

/** Installs vpc-cni from `source` and egress-cni from beside it; returns the installed paths. */
export function installPlugins(source: string, binDir: string): string[] {
  return PLUGIN_EXECUTABLES.map((name) => installPlugin(name === PLUGIN_TYPE ? source : join(dirname(source), name), binDir, name));
}

export function installPlugin(source: string, binDir: string, name: string = PLUGIN_TYPE): string {
  if (!existsSync(source)) throw new Error(`the plugin executable ${source} does not exist (build it with: npm run build)`);
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  const target = join(binDir, name);
  const staging = join(binDir, `.${name}.${process.pid}.tmp`);
  try {
    copyFileSync(source, staging);
    chmodSync(staging, 0o755);
    renameSync(staging, target);
  } finally {
    rmSync(staging, { force: true });
  }
  return target;
}

/** The node's addresses egress-cni SNATs to: its IPv4 (IPv6 nodes), its IPv6 if it has one (IPv4 nodes). */
export interface NodeAddresses {
  readonly ipv4: string;
  readonly ipv6?: string | undefined;
}

/**
 * The conflist, in aws-node's 10-aws.conflist's order: vpc-cni, egress-cni (enabled or passing its
 * prevResult through), portmap (hostPort), then bandwidth (ENABLE_BANDWIDTH_PLUGIN) and tuning
 * (DISABLE_POD_V6). `warn` hears that IPv6 egress is off for want of a node IPv6 address.
 */
export function conflist(config: AgentConfig, node: NodeAddresses, warn: (message: string) => void = () => {}): object {
  const destination = (d: AgentConfig["observability"]["pluginLogFile"]) => (d.kind === "file" ? d.path : d.kind);
  const chain = config.cniChain;
  const v6Node = config.ipFamily === "ipv6";
  let egressEnabled = v6Node ? chain.v4Egress : chain.v6Egress;
  const nodeIP = v6Node ? node.ipv4 : (node.ipv6 ?? "");
  if (!v6Node && egressEnabled && nodeIP === "") {
    warn("ENABLE_V6_EGRESS=true but the node has no IPv6 address in instance metadata: IPv6 egress for pods is disabled");
    egressEnabled = false;
  }
  const range = v6Node ? EGRESS_V4 : EGRESS_V6;
  const extras: object[] = [];
  if (chain.bandwidthPlugin) extras.push({ type: "bandwidth", capabilities: { bandwidth: true } });
  if (chain.disablePodV6) {
    extras.push({ type: "tuning", sysctl: { "net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1", "net.ipv6.conf.lo.disable_ipv6": "1" } });
  }
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
      {
        name: EGRESS_PLUGIN_TYPE,
        type: EGRESS_PLUGIN_TYPE,
        mtu: String(config.hostNetwork.podMtu),
        enabled: String(egressEnabled),
        randomizeSNAT: config.hostNetwork.randomizeSnat,
        nodeIP,
        ipam: { type: "host-local", ranges: [[{ subnet: range.subnet }]], routes: [{ dst: range.dst }], dataDir: chain.egressIpamDir },
        pluginLogFile: destination(chain.egressLogFile),
        pluginLogLevel: config.observability.pluginLogLevel,
      },
      { type: "portmap", capabilities: { portMappings: true }, snat: true },
      ...extras,
    ],
  };
}

export function writeConflist(config: AgentConfig, node: NodeAddresses, warn?: (message: string) => void): string {
  const dir = config.paths.cniConfDir;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, CONFLIST_NAME);
  const staging = join(dir, `.${CONFLIST_NAME}.${process.pid}.tmp`);
  writeFileSync(staging, JSON.stringify(conflist(config, node, warn), null, 2) + "\n", { mode: 0o644 });
  renameSync(staging, target);
  return target;
}
