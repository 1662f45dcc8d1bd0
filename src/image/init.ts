// vpc-cni-init: the aws-node DaemonSet's init container (aws-node's aws-vpc-cni-init). Installs the
// chained CNI plugins the conflist names (portmap) and loopback, which containerd's CRI runs for
// every pod's lo, into the node's CNI bin dir. The vpc-cni plugin itself and the conflist are the
// agent's to install, once it serves: a node whose runtime sees the conflist can start pods.

import { installExecutable } from "./install-executables.ts";

export const CHAINED_PLUGINS = ["loopback", "portmap"] as const;
const DEFAULT_SOURCE_DIR = "/usr/lib/cni";
const DEFAULT_BIN_DIR = "/host/opt/cni/bin";

const USAGE = `vpc-cni-init: installs the CNI plugins vpc-cni chains (${CHAINED_PLUGINS.join(", ")}) into the node's CNI bin dir.

Usage: vpc-cni-init [--help]

Environment:
  HOST_CNI_BIN_PATH           where to install them [${DEFAULT_BIN_DIR}] (VPC_CNI_BIN_DIR wins if set)
  VPC_CNI_CHAINED_PLUGIN_DIR  where they are [${DEFAULT_SOURCE_DIR}] (Debian's containernetworking-plugins)
`;

export function runInit(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, out: { write(s: string): unknown }, err: { write(s: string): unknown }): number {
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
  return 0;
}

if (import.meta.main) process.exitCode = runInit(process.argv.slice(2), process.env, process.stdout, process.stderr);
