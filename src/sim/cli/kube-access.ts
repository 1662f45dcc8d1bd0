// The CLI's side of a run's Kubernetes API: the host's access (the loopback forwarder and the
// admin kubeconfig written with its port), and running kubectl with that kubeconfig.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { adminRequest } from "../admin-client.ts";
import type { RunPaths } from "../run-dir.ts";
import { startForwarder, stopForwarder, type ForwarderPaths } from "../kube/forwarder-control.ts";

function forwarderPaths(paths: RunPaths): ForwarderPaths {
  return { runDir: paths.dir, socket: paths.kubeSocket, state: paths.forwarderState, log: paths.forwarderLog };
}

/** Starts the loopback forwarder for the run whose daemon has this PID; resolves with its port. */
export async function startKubeForwarder(paths: RunPaths, daemonPid: number): Promise<number> {
  return (await startForwarder(forwarderPaths(paths), daemonPid)).port;
}

/** Has the (ready) daemon write the admin kubeconfig for the forwarder's port. */
export async function writeAdminKubeconfig(paths: RunPaths, port: number): Promise<void> {
  await adminRequest(paths.adminSocket, "POST", "/kube/kubeconfig", { server: `https://127.0.0.1:${port}` });
}

export function stopKubeAccess(paths: RunPaths): Promise<void> {
  return stopForwarder(forwarderPaths(paths));
}

export function kubeconfigPath(paths: RunPaths): string {
  if (!existsSync(paths.kubeconfig)) throw new Error(`run '${paths.name}' has no kubeconfig (${paths.kubeconfig}); bring it up again with vpcsim up`);
  return paths.kubeconfig;
}

/** `--run NAME` (or `--run=NAME`) only when it comes first; the rest are kubectl's arguments. */
export function leadingRun(args: string[]): { run: string | undefined; rest: string[] } {
  let run: string | undefined;
  let rest = args;
  if (rest[0] === "--run" && rest.length > 1) {
    run = rest[1];
    rest = rest.slice(2);
  } else if (rest[0]?.startsWith("--run=")) {
    run = rest[0].slice("--run=".length);
    rest = rest.slice(1);
  }
  if (rest[0] === "--") rest = rest.slice(1);
  return { run, rest };
}

/** $VPCSIM_KUBECTL, else kubectl on PATH, else the Debian kubectl scripts/setup unpacks into .tools/. */
export function findKubectl(): string {
  if (process.env.VPCSIM_KUBECTL) return process.env.VPCSIM_KUBECTL;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "kubectl"))) return join(dir, "kubectl");
  }
  const bundled = join(import.meta.dirname, "..", "..", "..", ".tools", "kubernetes-client", "usr", "bin", "kubectl");
  if (existsSync(bundled)) return bundled;
  throw new Error("no kubectl found: set VPCSIM_KUBECTL, put kubectl on PATH, or run scripts/setup (it unpacks Debian's kubectl into .tools/)");
}

export function runKubectl(paths: RunPaths, args: string[]): ChildProcess {
  return spawn(findKubectl(), args, { stdio: "inherit", env: { ...process.env, KUBECONFIG: kubeconfigPath(paths) } });
}
