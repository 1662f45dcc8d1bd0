// Running the kernel's own tools (ip, nft, sysctl, nsenter) from Node. Everything is spawned without
// a shell, so addresses and names never pass through shell parsing, and every failure carries the
// command line and the tool's stderr: a fabric error must say which rule or route the kernel refused.

import { spawn } from "node:child_process";

export interface RunOptions {
  /** Written to the child's stdin, which is then closed (ip -batch -, nft -f -). */
  input?: string;
  /** Kills the child (SIGKILL) if it runs longer; no tool used here should take more than a moment. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    command: readonly string[],
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    stdout: string,
    stderr: string,
    input: string | undefined,
  ) {
    const how = signal !== null ? `killed by ${signal}` : `exit ${exitCode}`;
    let message = `${command.join(" ")} failed (${how}): ${stderr.trim() || stdout.trim() || "no output"}`;
    // Batch tools report the failing line by number ("Command failed -:3", "/dev/stdin:3:1-5");
    // quote the line itself so the error is readable without the script.
    const line = input !== undefined ? failingLine(stderr, input) : undefined;
    if (line !== undefined) message += `\n  in: ${line}`;
    super(message);
    this.name = "CommandError";
    this.command = command;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

function failingLine(stderr: string, input: string): string | undefined {
  const match = /(?:Command failed -|\/dev\/stdin):(\d+)/.exec(stderr);
  if (match === null) return undefined;
  return input.split("\n")[Number(match[1]) - 1];
}

/** Runs `file args…`, resolves with its output on exit 0, rejects with a CommandError otherwise. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    // A tool that exits before reading all of stdin makes the write fail with EPIPE; its exit
    // status and stderr say more than the EPIPE does, so that error is left to the exit handler.
    child.stdin.on("error", () => {});
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    }
    child.on("error", (error) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(new Error(`${command.join(" ")}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(command, code, signal, stdout, stderr, options.input));
    });
    child.stdin.end(options.input ?? "");
  });
}

export function netnsPathOf(netns: string): string {
  return `/run/netns/${netns}`;
}

/** Creates a network namespace (fails if it exists). */
export async function addNetns(netns: string): Promise<void> {
  await run("ip", ["netns", "add", netns], { timeoutMs: 30_000 });
}

/**
 * Runs `ip -n NETNS -batch -` with one command per line; one process for any number of changes.
 * Most lines take their family from their addresses; `ipv6` is for the few that cannot (a flush).
 */
export async function ipBatch(netns: string, lines: readonly string[], options: { force?: boolean; ipv6?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  const args = ["-n", netns];
  if (options.ipv6 === true) args.push("-6");
  // -force runs every line even after one fails, so an idempotent batch applies all it can.
  if (options.force === true) args.push("-force");
  args.push("-batch", "-");
  await run("ip", args, { input: lines.join("\n") + "\n", timeoutMs: 30_000 });
}

/** Runs `COMMAND…` inside the network namespace NETNS (nsenter: no new mount namespace, unlike `ip netns exec`). */
export function runInNetns(netns: string, file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run("nsenter", [`--net=${netnsPathOf(netns)}`, file, ...args], options);
}

/** Applies an nft script as one kernel transaction: it takes effect entirely or not at all. */
export async function nftApply(netns: string, script: string): Promise<void> {
  if (script.trim() === "") return;
  await runInNetns(netns, "nft", ["-f", "-"], { input: script, timeoutMs: 30_000 });
}

/** An nftables table: its family ("ip", "ip6", "inet") and name. */
export interface NftTable {
  family: "ip" | "ip6" | "inet";
  name: string;
}

/** An `add element` / `delete element` statement for an nft script; empty when there is nothing to change. */
export function elementStatement(verb: "add" | "delete", table: NftTable, set: string, elements: readonly string[]): string {
  if (elements.length === 0) return "";
  return `${verb} element ${table.family} ${table.name} ${set} { ${elements.join(", ")} }\n`;
}

/** The packet counts of a table's named counters. */
export async function nftCounters(netns: string, table: NftTable): Promise<Map<string, number>> {
  const { stdout } = await runInNetns(netns, "nft", ["-j", "list", "counters", "table", table.family, table.name], { timeoutMs: 30_000 });
  const packets = new Map<string, number>();
  const parsed = JSON.parse(stdout) as { nftables?: Array<{ counter?: { name: string; packets: number } }> };
  for (const entry of parsed.nftables ?? []) {
    if (entry.counter !== undefined) packets.set(entry.counter.name, entry.counter.packets);
  }
  return packets;
}

export async function sysctlSet(netns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const args = ["-q", "-w", ...Object.entries(settings).map(([key, value]) => `${key}=${value}`)];
  await runInNetns(netns, "sysctl", args, { timeoutMs: 30_000 });
}

/**
 * Bounds how many tasks run at once. A released slot passes straight to the next waiter, so a task
 * that arrives in between cannot push the count over the bound.
 */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next();
      else active--;
    }
  };
}

/** Runs tasks with the same key one after another (in call order); different keys run freely. */
export class KeyedSerializer {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

/**
 * Group commit for one namespace's nftables: scripts submitted while a transaction is running are
 * merged into the next one, so 50 concurrent instance launches cost a handful of `nft` processes,
 * not 50. If a merged transaction fails, its scripts are retried one by one (each transaction is
 * atomic, so nothing of the failed one was applied) and only the culprit's caller sees the error.
 */
export class NftCommitter {
  readonly #netns: string;
  #pending: Array<{ script: string; resolve: () => void; reject: (error: unknown) => void }> = [];
  #running = false;

  constructor(netns: string) {
    this.#netns = netns;
  }

  apply(script: string): Promise<void> {
    if (script.trim() === "") return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ script, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await nftApply(this.#netns, batch.map((entry) => entry.script).join("\n"));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        for (const entry of batch) {
          try {
            await nftApply(this.#netns, entry.script);
            entry.resolve();
          } catch (single) {
            entry.reject(single);
          }
        }
      }
    }
    this.#running = false;
  }
}
