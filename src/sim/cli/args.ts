// What every vpcsim command shares: usage errors (exit code 2), strict option parsing, --run,
// finding a run that is up, and waiting for a child process whose fate is the command's.

import type { ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { livePid, resolveRunName, runPaths, type RunPaths } from "../run-dir.ts";

export class UsageError extends Error {}

export const RUN_OPTION = { run: { type: "string" } } as const;

export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireUp(explicitRun: string | undefined): RunPaths {
  const paths = runPaths(resolveRunName(explicitRun));
  if (livePid(paths) === undefined) {
    throw new Error(`no vpcsim run '${paths.name}' is up (start one with: vpcsim up${paths.name === "default" ? "" : ` --run ${paths.name}`})`);
  }
  return paths;
}

export const FORWARDED_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Passes signals on to the child and resolves with its exit code (128+N for a signal). */
export function childExit(child: ChildProcess): Promise<number> {
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 15) : 1)));
  });
}
