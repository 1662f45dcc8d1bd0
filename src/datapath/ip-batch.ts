// `ip -batch -`: many iproute2 changes for the price of one process. Each batch runs in one network
// namespace; the caller learns, line by line, which changes the kernel refused and why, so it can
// tolerate the expected refusals (a rule already there, a route already gone) and roll back exactly
// the lines that took effect.

import { DatapathCommandError, run, type RunOptions } from "./exec.ts";

/** How to reach `ip` in a namespace: `ip -n NAME`, `nsenter --net=PATH ip`, or plain `ip`. */
export interface IpRunner {
  file: string;
  /** Arguments before ip's own options (for nsenter: `--net=PATH`, `ip`). */
  args: readonly string[];
}

export interface BatchLineFailure {
  /** 1-based index into the lines given. */
  line: number;
  /** What ip printed for that line (e.g. "RTNETLINK answers: File exists"). */
  message: string;
}

export interface BatchOutcome {
  stdout: string;
  /** Lines the kernel refused. Without `force`, at most one: ip stops there. */
  failures: BatchLineFailure[];
  /** Lines that were executed (refused ones included); without `force`, those after a failure were not. */
  executed: number;
}

export interface BatchOptions extends RunOptions {
  /** `-force`: go on after a refused line (every line runs, each failure is reported). */
  force?: boolean;
  /** Global ip options such as `-j` or `-4`. */
  ipOptions?: readonly string[];
}

/** The command line a batch runs, for error messages. */
export function batchCommand(runner: IpRunner, options: BatchOptions = {}): string[] {
  return [runner.file, ...runner.args, ...(options.ipOptions ?? []), ...(options.force === true ? ["-force"] : []), "-batch", "-"];
}

/**
 * Runs the lines. Every line must come from validated values: a newline inside one would become a
 * second command, so they are refused here as a last guard. Refusals are reported, not thrown; a
 * failure that is not attributable to a line (ip or nsenter could not start, a parse error that makes
 * ip exit, a timeout) is thrown as the DatapathCommandError it is.
 */
export async function ipBatch(runner: IpRunner, lines: readonly string[], options: BatchOptions = {}): Promise<BatchOutcome> {
  for (const line of lines) {
    if (/[\n\r\0]/.test(line)) throw new Error(`ip batch line contains a line break: ${JSON.stringify(line)}`);
  }
  const command = batchCommand(runner, options);
  const [file, ...args] = command;
  const input = lines.length === 0 ? "" : lines.join("\n") + "\n";
  try {
    const { stdout } = await run(file ?? "ip", args, { ...options, input });
    return { stdout, failures: [], executed: lines.length };
  } catch (error) {
    if (!(error instanceof DatapathCommandError) || error.exitCode !== 1) throw error;
    const failures = parseBatchFailures(error.stderr);
    if (failures.length === 0) throw error;
    const last = failures[failures.length - 1]?.line ?? lines.length;
    return { stdout: error.stdout, failures, executed: options.force === true ? lines.length : last };
  }
}

/**
 * ip prints a failing line's own error, then `Command failed -:N`; what came since the previous
 * marker belongs to line N.
 */
export function parseBatchFailures(stderr: string): BatchLineFailure[] {
  const failures: BatchLineFailure[] = [];
  let pending: string[] = [];
  for (const text of stderr.split("\n")) {
    const marker = /^Command failed -:(\d+)$/.exec(text.trim());
    if (marker === null) {
      if (text.trim() !== "") pending.push(text.trim());
      continue;
    }
    failures.push({ line: Number(marker[1]), message: pending.join("; ") || "no message" });
    pending = [];
  }
  return failures;
}

/** A refused line turned into an error carrying the whole command, the line and ip's message. */
export function batchLineError(runner: IpRunner, lines: readonly string[], failure: BatchLineFailure, options: BatchOptions = {}): DatapathCommandError {
  const command = batchCommand(runner, options);
  return new DatapathCommandError(command, 1, null, "", `${failure.message} (line ${failure.line}: ${lines[failure.line - 1] ?? "?"})`);
}

/** Splits `ip -j -batch` output (one JSON array per command, one per line) into the parsed arrays. */
export function parseJsonBatch(stdout: string): Array<Array<Record<string, unknown>>> {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Array<Record<string, unknown>>);
}
