// Where a run keeps its files, and the per-run names of what it creates. Every namespace of run
// NAME starts with `vs-NAME-`, so `vpcsim down --all` can find what a crashed run left behind
// by the `vs-` prefix alone.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const NAMESPACE_PREFIX = "vs-";
const RUN_NAME = /^[a-z0-9]{1,12}$/;

export function runRoot(): string {
  return process.env.VPCSIM_RUN_ROOT ?? "/run/vpcsim";
}

export function checkRunName(name: string): string | undefined {
  return RUN_NAME.test(name) ? undefined : `run name '${name}' must be 1-12 lower-case letters or digits`;
}

export interface RunPaths {
  name: string;
  dir: string;
  prefix: string; // namespace prefix of the run
  adminSocket: string;
  ec2Socket: string;
  pidFile: string;
  logFile: string;
  topologyFile: string;
  settingsFile: string;
  credentialsFile: string;
  /** The Kubernetes API server's unix socket (HTTPS). */
  kubeSocket: string;
  /** The CA and serving keys of the run's Kubernetes API. */
  kubeDir: string;
  /** The admin kubeconfig (kubernetes-admin, system:masters) via the loopback forwarder. */
  kubeconfig: string;
  forwarderState: string;
  forwarderLog: string;
}

export function runPaths(name: string): RunPaths {
  const dir = join(runRoot(), name);
  return {
    name,
    dir,
    prefix: `${NAMESPACE_PREFIX}${name}-`,
    adminSocket: join(dir, "admin.sock"),
    ec2Socket: join(dir, "ec2.sock"),
    pidFile: join(dir, "daemon.pid"),
    logFile: join(dir, "daemon.log"),
    topologyFile: join(dir, "topology.json"),
    settingsFile: join(dir, "settings.json"),
    credentialsFile: join(dir, "credentials.json"),
    kubeSocket: join(dir, "kube.sock"),
    kubeDir: join(dir, "kube"),
    kubeconfig: join(dir, "kubeconfig"),
    forwarderState: join(dir, "kube-forwarder.json"),
    forwarderLog: join(dir, "kube-forwarder.log"),
  };
}

/** Names of the runs that have a directory (up, or crashed without cleaning up). */
export function listRuns(): string[] {
  if (!existsSync(runRoot())) return [];
  return readdirSync(runRoot()).filter((n) => RUN_NAME.test(n)).sort();
}

/** The daemon's PID if it is alive and really is our daemon (never trust a stale PID file). */
export function livePid(paths: RunPaths): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(paths.pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("daemon.ts") && cmdline.includes(paths.dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Which run a command means: --run NAME, then $VPCSIM_RUN, then the only run that is up. */
export function resolveRunName(explicit: string | undefined): string {
  const name = explicit ?? process.env.VPCSIM_RUN;
  if (name !== undefined) {
    const problem = checkRunName(name);
    if (problem) throw new Error(problem);
    return name;
  }
  const runs = listRuns();
  if (runs.length === 1) return runs[0]!;
  if (runs.length === 0) return "default";
  throw new Error(`several runs are up (${runs.join(", ")}): say which with --run NAME`);
}
