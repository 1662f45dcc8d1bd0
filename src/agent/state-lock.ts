// The agent's exclusive hold on its state directory (the checkpoint and the socket), taken before
// either is read or written: a second agent given the same directory refuses before touching anything.
//
// The lock is the kernel's flock(2) on `<dir>/vpc-cni-agent.lock`. Node.js has no flock, so the
// agent opens the file itself and has util-linux's `flock --nonblock <fd>` (the fd inherited as fd 3)
// lock it: an flock lock belongs to the open file description, not the process that asked, so once
// `flock` exits the lock is held through the agent's own descriptor. The kernel drops it when that
// descriptor closes, whichever way the agent ends (SIGKILL, OOM kill, crash): there is no stale lock to
// detect, no PID to trust (PIDs mean nothing across the PID namespaces of containers sharing a hostPath)
// and no race between two agents taking over a stale file. libuv opens files close-on-exec, so the
// programs the agent runs later (ip, iptables) never inherit it. The file holds the holder's PID, start
// time and instance id, only to name it in the refusal; the lock is the flock, never the contents.

import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "vpc-cni-agent.lock";

/** What a refused lock says about the agent holding it (as it wrote itself into the file). */
export interface LockHolder {
  pid?: number;
  startedAt?: string;
  instanceId?: string;
}

export class StateLockError extends Error {
  readonly directory: string;
  readonly holder: LockHolder | undefined;
  constructor(message: string, directory: string, holder?: LockHolder) {
    super(message);
    this.name = "StateLockError";
    this.directory = directory;
    this.holder = holder;
  }
}

export interface StateLock {
  readonly path: string;
  /** Records who holds it (the instance id is known only once IMDS answered). */
  describe(holder: LockHolder): void;
  /** Gives the lock up (the agent's exit does too). */
  release(): void;
}

export interface LockOptions {
  /** The flock(1) executable; util-linux's by default. */
  flockPath?: string;
}

/** Takes the directory's lock, or throws StateLockError naming the agent that holds it. */
export function lockStateDirectory(directory: string, options: LockOptions = {}): StateLock {
  mkdirSync(directory, { recursive: true, mode: 0o755 });
  const path = join(directory, LOCK_FILE);
  // "a" (O_APPEND|O_CREAT) neither truncates what the holder wrote nor fails if the file exists.
  const fd = openSync(path, "a+", 0o600);
  let held = false;
  try {
    const r = spawnSync(options.flockPath ?? "flock", ["--nonblock", "--conflict-exit-code", "75", "3"], {
      stdio: ["ignore", "ignore", "pipe", fd],
      encoding: "utf8",
    });
    if (r.error) {
      throw new StateLockError(`cannot lock the state directory ${directory}: running flock(1) failed (${r.error.message}); util-linux's flock is needed`, directory);
    }
    if (r.status === 75) {
      const holder = readHolder(path);
      throw new StateLockError(
        `the state directory ${directory} is in use by another vpc-cni-agent (${describeHolder(holder)}); ` +
          "nothing was read or written. Give each agent its own VPC_CNI_STATE_DIR, or stop the other one first",
        directory,
        holder,
      );
    }
    if (r.status !== 0) {
      throw new StateLockError(`cannot lock the state directory ${directory}: flock exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`, directory);
    }
    held = true;
  } finally {
    if (!held) closeSync(fd);
  }
  let open = true;
  const lock: StateLock = {
    path,
    describe: (holder) => {
      if (!open) return;
      ftruncateSync(fd, 0);
      const text = `${JSON.stringify(holder)}\n`;
      writeSync(fd, text);
    },
    release: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
  lock.describe({ pid: process.pid, startedAt: new Date().toISOString() });
  return lock;
}

/** Locks each distinct directory once (the checkpoint or the socket may be set outside the state directory). */
export function lockStateDirectories(directories: readonly string[], options: LockOptions = {}): StateLock[] {
  const locks: StateLock[] = [];
  try {
    for (const dir of [...new Set(directories)]) locks.push(lockStateDirectory(dir, options));
  } catch (err) {
    for (const l of locks) l.release();
    throw err;
  }
  return locks;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function describeHolder(h: LockHolder | undefined): string {
  if (!h || h.pid === undefined) return "holder unknown";
  const parts = [`pid ${h.pid}`];
  if (h.instanceId) parts.push(`instance ${h.instanceId}`);
  if (h.startedAt) parts.push(`started ${h.startedAt}`);
  return parts.join(", ");
}
