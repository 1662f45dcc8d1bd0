// A run's daemon from the host: starting it in the run's router namespace and waiting until it is
// ready, and tearing a run down (the daemon asked, then signalled; then whatever is left by prefix).

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { adminRequest } from "../admin-client.ts";
import { listRuns, livePid, resolveRunName, runPaths, NAMESPACE_PREFIX, type RunPaths } from "../run-dir.ts";
import { cleanupByPrefix, routerNetnsName } from "../fabric/fabric.ts";
import { stopKubeAccess } from "./kube-access.ts";
import { parse, RUN_OPTION, UsageError } from "./args.ts";

export async function startDaemon(paths: RunPaths, alongside: (daemonPid: number) => Promise<unknown>): Promise<void> {
  // The daemon runs inside the VPC-router namespace (so its EC2 and IMDS servers listen on the
  // fabric's service addresses) but in the machine's mount namespace (so the namespaces it creates
  // are visible to everyone): hence nsenter --net, not `ip netns exec`.
  const router = routerNetnsName(paths.prefix);
  await run("ip", ["netns", "add", router]);
  const log = openSync(paths.logFile, "a", 0o600);
  const daemon = spawn(
    "nsenter",
    [`--net=/run/netns/${router}`, "--", process.execPath, join(import.meta.dirname, "..", "daemon.ts"), "--run-dir", paths.dir],
    { detached: true, stdio: ["ignore", log, log] },
  );
  closeSync(log);
  daemon.unref();
  // nsenter execs the daemon: its PID is the daemon's. Its failure is the caller's to report.
  alongside(daemon.pid!).catch(() => {});
  const exited = new Promise<number | null>((resolve) => daemon.once("exit", (code) => resolve(code)));
  let done = false;
  exited.then(() => (done = true));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (done) throw new Error(`the vpcsim daemon exited during start-up:\n${tail(paths.logFile)}`);
    if (existsSync(paths.adminSocket)) {
      try {
        const ready = await adminRequest<{ ready: boolean; error?: string }>(paths.adminSocket, "GET", "/ready", undefined, 5000);
        if (ready.error) throw new Error(`the vpcsim daemon failed to start: ${ready.error}`);
        if (ready.ready) return;
      } catch (err) {
        if ((err as Error).message.startsWith("the vpcsim daemon failed")) throw err;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the vpcsim daemon did not become ready within 120 s:\n${tail(paths.logFile)}`);
}

export function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-15).join("\n");
  } catch {
    return "(no daemon log)";
  }
}

export async function down(args: string[]): Promise<number> {
  const { values } = parse(args, { ...RUN_OPTION, all: { type: "boolean", default: false } });
  if (values.all) {
    if (values.run) throw new UsageError("--all and --run exclude each other");
    for (const name of listRuns()) await teardownRun(runPaths(name));
    await cleanupByPrefix(NAMESPACE_PREFIX);
    console.log("every vpcsim run is down");
    return 0;
  }
  const paths = runPaths(resolveRunName(values.run));
  if (!existsSync(paths.dir) && livePid(paths) === undefined) {
    console.log(`no vpcsim run '${paths.name}' is up`);
    return 0;
  }
  await teardownRun(paths);
  console.log(`vpcsim run '${paths.name}' is down`);
  return 0;
}

/** Stops a run's daemon (which tears its fabric down), then removes whatever is still there. */
export async function teardownRun(paths: RunPaths): Promise<void> {
  // First the host's way in (its state file goes with the run directory).
  await stopKubeAccess(paths);
  const pid = livePid(paths);
  if (pid !== undefined) {
    try {
      await adminRequest(paths.adminSocket, "POST", "/shutdown", undefined, 60_000);
    } catch {
      // A daemon that cannot answer is stopped by signal below.
    }
    if (!(await waitForExit(pid, 30_000))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // it exited just now
      }
      await waitForExit(pid, 5_000);
    }
  }
  await cleanupByPrefix(paths.prefix);
  rmSync(paths.dir, { recursive: true, force: true });
}

export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr.trim()}`))));
  });
}
