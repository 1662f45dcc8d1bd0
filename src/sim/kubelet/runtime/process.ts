// Processes the runtime did not necessarily start itself (a restarted kubelet finds its containers
// running): known by PID plus start time, so a recycled PID is never mistaken for one of ours, and
// signalled by PID only.

import { readFileSync } from "node:fs";

/** The process's start time in clock ticks since boot (/proc/PID/stat field 22), if it exists. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined; // dead, not yet reaped
    return fields[19];
  } catch {
    return undefined;
  }
}

export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

export function identify(pid: number): ProcessIdentity | undefined {
  const t = startTime(pid);
  return t === undefined ? undefined : { pid, startTime: t };
}

export function isAlive(p: ProcessIdentity): boolean {
  return startTime(p.pid) === p.startTime;
}

/** Sends a signal to the process if it is still the one identified; false if it is gone. */
export function signal(p: ProcessIdentity, sig: NodeJS.Signals): boolean {
  if (!isAlive(p)) return false;
  try {
    process.kill(p.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** The children of a process (/proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
