// Starting and stopping a run's loopback forwarder (forwarder.ts) from the CLI: it is started in the
// caller's (the host's) network namespace, detached, and found again by its state file, whose PID
// is trusted only if that process really is this run's forwarder.

import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ForwarderState } from "./forwarder.ts";

export interface ForwarderPaths {
  runDir: string;
  socket: string;
  state: string;
  log: string;
}

export function readForwarderState(paths: ForwarderPaths): ForwarderState | undefined {
  try {
    const state = JSON.parse(readFileSync(paths.state, "utf8")) as ForwarderState;
    return Number.isInteger(state.pid) && Number.isInteger(state.port) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The forwarder's PID if it is alive and is this run's forwarder. */
export function liveForwarderPid(paths: ForwarderPaths): number | undefined {
  const state = readForwarderState(paths);
  if (!state || state.pid <= 1) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, "utf8");
    return cmdline.includes("forwarder.ts") && cmdline.includes(paths.runDir) ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the forwarder and waits for its port. */
export async function startForwarder(paths: ForwarderPaths, daemonPid: number, timeoutMs = 15_000): Promise<ForwarderState> {
  rmSync(paths.state, { force: true });
  const log = openSync(paths.log, "a", 0o600);
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "forwarder.ts"), "--socket", paths.socket, "--state", paths.state, "--daemon-pid", String(daemonPid), "--run-dir", paths.runDir],
    { detached: true, stdio: ["ignore", log, log] },
  );
  closeSync(log);
  child.unref();
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = readForwarderState(paths);
    if (state) return state;
    if (exited !== undefined) throw new Error(`the Kubernetes API forwarder exited (${exited}) before listening; see ${paths.log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the Kubernetes API forwarder did not start within ${timeoutMs / 1000} s; see ${paths.log}`);
}

/** Stops the forwarder if it runs (by its PID, after checking it is ours); waits for it to end. */
export async function stopForwarder(paths: ForwarderPaths): Promise<void> {
  const pid = liveForwarderPid(paths);
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!running(pid)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

/** Alive and not a zombie (a child of the caller that has ended but is not reaped yet). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
