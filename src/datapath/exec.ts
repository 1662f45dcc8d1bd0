// Running iproute2 and iptables from Node. Commands are spawned with an argv, never through a shell,
// so an address or a name can never be parsed as shell syntax; every failure carries the command line
// and the tool's stderr, because "the kernel refused" is useless without knowing what was asked.

import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { validateNetnsName } from "./validate.ts";

export interface RunOptions {
  /** Written to the child's stdin, which is then closed (iptables-restore reads its script there). */
  input?: string;
  /** Kills the child (SIGKILL) past this; none of these tools should take more than a moment. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class DatapathCommandError extends Error {
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;

  constructor(command: readonly string[], exitCode: number | null, signal: string | null, stdout: string, stderr: string, input?: string) {
    const how = signal !== null ? `killed by ${signal}` : `exit ${exitCode}`;
    let message = `${command.join(" ")} failed (${how}): ${stderr.trim() || stdout.trim() || "no output"}`;
    // iptables-restore names the failing line by number only; quote it so the error stands alone.
    const lineNo = /line:? (\d+)/i.exec(stderr)?.[1];
    if (input !== undefined && lineNo !== undefined) {
      const line = input.split("\n")[Number(lineNo) - 1];
      if (line !== undefined) message += `\n  in: ${line}`;
    }
    super(message);
    this.name = "DatapathCommandError";
    this.command = command;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Where ip, nsenter, iptables, sysctl and nft live when PATH does not say: runtimes exec the plugin
 * with whatever PATH they have (podman's cleanup: a minimal one; others: /opt/cni/bin or none), and
 * the sbin directories are the first to be missing from it.
 */
const FALLBACK_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const resolved = new Map<string, string>();

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of a tool: the first executable of that name on PATH (absolute entries only),
 * else in the standard system directories. A name with a '/' is taken as given; a tool found nowhere
 * stays a bare name, so spawning it fails with ENOENT as before.
 */
export function resolveTool(name: string): string {
  if (name.includes("/")) return name;
  const cached = resolved.get(name);
  if (cached !== undefined) return cached;
  const dirs = [...(process.env["PATH"] ?? "").split(":").filter((dir) => isAbsolute(dir)), ...FALLBACK_DIRS];
  const found = dirs.map((dir) => join(dir, name)).find(isExecutableFile) ?? name;
  if (found !== name) resolved.set(name, found);
  return found;
}

/** Sees every command run() spawned and how long it took (the plugin's opt-in timing); unset, nothing is timed. */
export const runObserver: { onRun: ((command: readonly string[], ms: number) => void) | undefined } = { onRun: undefined };

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args];
  const started = runObserver.onRun === undefined ? 0 : performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(resolveTool(file), args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    // A tool that exits before reading stdin makes the write fail with EPIPE; its exit status and
    // stderr explain more, so that error is left to the close handler.
    child.stdin.on("error", () => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(" ")}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      runObserver.onRun?.(command, performance.now() - started);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new DatapathCommandError(command, code, signal, stdout, stderr, options.input));
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * Where commands run. Without a netns, in the process's own network namespace (the agent runs inside
 * its node's namespace); with one, in that named namespace (tests).
 */
export interface NetnsOption {
  netns?: string | undefined;
}

/** `ip [-n NETNS] args…` */
export function ip(target: NetnsOption, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const prefix = target.netns === undefined ? [] : ["-n", validateNetnsName(target.netns)];
  return run("ip", [...prefix, ...args], options);
}

/** `[ip netns exec NETNS] file args…`, for tools without a namespace option (iptables, sysctl, nft). */
export function inNetns(target: NetnsOption, file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (target.netns === undefined) return run(file, args, options);
  // `ip netns exec` looks the tool up on PATH itself: hand it the resolved path.
  return run("ip", ["netns", "exec", validateNetnsName(target.netns), resolveTool(file), ...args], options);
}

/** The error of a deletion whose object is already gone: success for an idempotent removal. */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof DatapathCommandError)) return false;
  return /No such process|No such file or directory|Cannot find device|does not exist|Cannot assign requested address/i.test(error.stderr);
}
