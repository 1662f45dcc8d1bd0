// Removing a run's namespaces and the processes living in them. A process belongs to a run if its
// network namespace is one of the run's namespaces: that is found from /proc/PID/ns/net, so it
// covers processes started by anyone (the echo server, vpcsim's daemon, agents started with
// `vpcsim exec`), including ones whose starter crashed before recording them, and a recycled PID
// can never be mistaken for ours. Processes are signalled by PID only, never looked up by name.

import { readdir, stat } from "node:fs/promises";
import { ipBatch, netnsPathOf, createLimiter, CommandError, run } from "./exec.ts";

const NETNS_DIR = "/run/netns";

/** Names in /run/netns starting with `prefix`. */
export async function listNetnsWithPrefix(prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(NETNS_DIR);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names.filter((name) => name.startsWith(prefix)).sort();
}

/** The namespace's identity (device and inode of nsfs), or undefined if it is gone. */
async function netnsIdentity(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

/** PIDs of processes whose network namespace is one of `netnsNames`, never including this process. */
export async function pidsInNetns(netnsNames: readonly string[]): Promise<number[]> {
  const wanted = new Set<string>();
  for (const name of netnsNames) {
    const identity = await netnsIdentity(netnsPathOf(name));
    if (identity !== undefined) wanted.add(identity);
  }
  if (wanted.size === 0) return [];
  const pids: number[] = [];
  const entries = await readdir("/proc");
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^[0-9]+$/.test(entry)) return;
      const pid = Number(entry);
      // The caller may itself live in one of these namespaces (a daemon running in the router
      // namespace that tears its run down); it must survive to finish the job.
      if (pid === process.pid) return;
      const identity = await netnsIdentity(`/proc/${entry}/ns/net`);
      if (identity !== undefined && wanted.has(identity)) pids.push(pid);
    }),
  );
  return pids.sort((a, b) => a - b);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * SIGTERM, then SIGKILL for whatever is still alive after `graceMs`. Resolves once all are gone:
 * a namespace is only really freed (and its veths with it) when its last process has exited.
 */
export async function terminatePids(pids: readonly number[], graceMs = 1000): Promise<void> {
  const signal = (pid: number, name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  // There is no way to wait on a process that is not our child; poll its existence briefly.
  let remaining = pids.filter(isAlive);
  const deadline = Date.now() + graceMs;
  while (remaining.length > 0 && Date.now() < deadline) {
    await delay(10);
    remaining = remaining.filter(isAlive);
  }
  for (const pid of remaining) signal(pid, "SIGKILL");
  const killDeadline = Date.now() + 2000;
  while (remaining.length > 0 && Date.now() < killDeadline) {
    await delay(10);
    remaining = remaining.filter(isAlive);
  }
}

/** Deletes namespaces by name (the ones already gone are skipped). */
export async function deleteNetns(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const limit = createLimiter(8);
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        try {
          await run("ip", ["netns", "del", name], { timeoutMs: 30_000 });
        } catch (error) {
          if (error instanceof CommandError && /No such file or directory/.test(error.stderr)) return;
          throw error;
        }
      }),
    ),
  );
}

/**
 * Removes every namespace whose name starts with `prefix` and stops every process inside one.
 * `vpcsim down --all` calls it with "vs-"; a test calls it with its own prefix. Safe to repeat.
 */
export async function cleanupByPrefix(prefix: string): Promise<{ netns: string[]; pids: number[] }> {
  // A short or odd prefix could match namespaces that are not vpcsim's ("" matches everything).
  if (!/^[a-z][a-z0-9]*-[a-z0-9-]*$/.test(prefix) || prefix.length < 3) {
    throw new Error(`refusing to clean up by prefix ${JSON.stringify(prefix)}: expected something like "vs-" or "vs-ab12-"`);
  }
  const names = await listNetnsWithPrefix(prefix);
  const pids = await pidsInNetns(names);
  await terminatePids(pids);
  await deleteNetns(names);
  return { netns: names, pids };
}

/** Deletes links in `netns` by name, ignoring ones already gone. */
export async function deleteLinks(netns: string, links: readonly string[]): Promise<void> {
  if (links.length === 0) return;
  try {
    await ipBatch(netns, links.map((link) => `link del dev ${link}`), { force: true });
  } catch (error) {
    // With -force every line ran; only "already gone" failures are acceptable.
    if (error instanceof CommandError) {
      const real = error.stderr
        .split("\n")
        .filter((line) => line.trim() !== "" && !/Cannot find device|Command failed|does not exist/.test(line));
      if (real.length === 0) return;
    }
    throw error;
  }
}
