// vpc-cni-init: the aws-node DaemonSet's init container (aws-node's aws-vpc-cni-init), privileged so the
// agent's own container need not be. It installs the chained CNI plugins the conflist names (portmap;
// bandwidth and tuning with ENABLE_BANDWIDTH_PLUGIN and DISABLE_POD_V6)
// and loopback, which containerd's CRI runs for every pod's lo, into the node's CNI bin dir, then sets
// the node's sysctls the datapath needs (rp_filter=2 on the primary ENI, found by its MAC from instance
// metadata, and IPv4 forwarding). The vpc-cni plugin itself and the conflist are the agent's to
// install, once it serves: a node whose runtime sees the conflist can start pods.

import { Imds } from "../aws/imds.ts";
import { ensureNodeSysctls } from "../datapath/node-sysctls.ts";
import { findLinkByMac, type LinkWait } from "../datapath/ip.ts";
import { DEFAULT_LINK_WAIT } from "../datapath/node-network.ts";
import type { NetnsOption } from "../datapath/exec.ts";
import { installExecutable } from "./install-executables.ts";

/** loopback (containerd's lo), portmap, and what ENABLE_BANDWIDTH_PLUGIN and DISABLE_POD_V6 chain. */
export const CHAINED_PLUGINS = ["loopback", "portmap", "bandwidth", "tuning"] as const;
const DEFAULT_SOURCE_DIR = "/usr/lib/cni";
const DEFAULT_BIN_DIR = "/host/opt/cni/bin";

const USAGE = `vpc-cni-init: prepares a node for vpc-cni: installs the CNI plugins it chains (${CHAINED_PLUGINS.join(", ")}) into the
node's CNI bin dir, then sets rp_filter=2 on the primary ENI (found by its MAC from instance metadata)
and net.ipv4.ip_forward=1; with ENABLE_IPv6 also IPv6 on, and with ENABLE_IPv6 or ENABLE_V6_EGRESS
accept_ra=2 on the primary ENI and IPv6 forwarding.

Usage: vpc-cni-init [--help]

Environment:
  HOST_CNI_BIN_PATH           where to install the plugins [${DEFAULT_BIN_DIR}] (VPC_CNI_BIN_DIR wins if set)
  VPC_CNI_CHAINED_PLUGIN_DIR  where they are [${DEFAULT_SOURCE_DIR}] (Debian's containernetworking-plugins)
`;

export interface InitDeps {
  /** The primary ENI's MAC (instance metadata's mac). */
  readonly primaryMac: () => Promise<string>;
  /** Where the sysctls are set (tests: a namespace of their own); the process's own by default. */
  readonly target?: NetnsOption;
  readonly linkWait?: LinkWait;
}

const fromInstanceMetadata: InitDeps = { primaryMac: async () => (await new Imds().get("meta-data/mac")).trim() };

type Out = { write(s: string): unknown };

export async function runInit(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, out: Out, err: Out, deps: InitDeps = fromInstanceMetadata): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    out.write(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    err.write(`vpc-cni-init: takes no arguments, got: ${argv.join(" ")}\n\n${USAGE}`);
    return 2;
  }
  const pick = (...names: string[]) => names.map((n) => env[n]?.trim()).find((v) => v !== undefined && v !== "");
  const binDir = pick("VPC_CNI_BIN_DIR", "HOST_CNI_BIN_PATH") ?? DEFAULT_BIN_DIR;
  const sourceDir = pick("VPC_CNI_CHAINED_PLUGIN_DIR") ?? DEFAULT_SOURCE_DIR;
  for (const [name, value] of [["CNI bin dir", binDir], ["plugin source dir", sourceDir]]) {
    if (!value?.startsWith("/")) {
      err.write(`vpc-cni-init: the ${name} must be an absolute path, got ${value}\n`);
      return 1;
    }
  }
  const installed: string[] = [];
  for (const plugin of CHAINED_PLUGINS) {
    try {
      installed.push(installExecutable(`${sourceDir}/${plugin}`, binDir, plugin));
    } catch (e) {
      err.write(`vpc-cni-init: cannot install ${plugin}: ${(e as Error).message}${installed.length > 0 ? ` (installed: ${installed.join(", ")})` : ""}\n`);
      return 1;
    }
  }
  out.write(`vpc-cni-init: installed ${installed.join(", ")}\n`);

  let mac: string;
  try {
    mac = await deps.primaryMac();
  } catch (e) {
    err.write(`vpc-cni-init: cannot read the primary ENI's MAC from instance metadata: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const target = deps.target ?? {};
    const link = await findLinkByMac(target, mac, deps.linkWait ?? DEFAULT_LINK_WAIT);
    // aws-node's init reads these two with strconv.ParseBool.
    const on = (name: string) => ["1", "t", "T", "true", "TRUE", "True"].includes(env[name]?.trim() ?? "");
    const written = await ensureNodeSysctls(target, link.ifname, { ipv6: on("ENABLE_IPv6"), v6Egress: on("ENABLE_V6_EGRESS") });
    out.write(`vpc-cni-init: primary ENI ${link.ifname} (${mac}); ${written.length === 0 ? "sysctls already set" : `set ${written.join(", ")}`}\n`);
  } catch (e) {
    err.write(`vpc-cni-init: cannot set the node's sysctls: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exitCode = await runInit(process.argv.slice(2), process.env, process.stdout, process.stderr);
