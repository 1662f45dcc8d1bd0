// Executing one CNI plugin as libcni's invoke package does: found by type in the plugin dirs (the
// first regular file), run with the runtime's environment plus the CNI_* variables, the config on
// stdin; stdout is the result or the plugin's error object. Error texts are libcni's, so the events
// a pod gets read as on a real node.

import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";

export interface PluginArgs {
  command: "ADD" | "DEL" | "CHECK" | "STATUS" | "GC" | "VERSION";
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, in the order they are to be joined. */
  args: ReadonlyArray<readonly [string, string]>;
  path: readonly string[];
}

/** A plugin's error object (types.Error), or libcni's words when the plugin gave none. */
export class PluginError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string;

  constructor(code: number, msg: string, details = "") {
    super(details === "" ? msg : `${msg}; ${details}`);
    this.name = "PluginError";
    this.code = code;
    this.msg = msg;
    this.details = details;
  }
}

/** invoke.FindInPath: the first dir holding a regular file named after the plugin type. */
export function findInPath(type: string, dirs: readonly string[]): string {
  if (type === "") throw new Error("no plugin name provided");
  if (type.includes("/") || type.includes("\\")) throw new Error(`invalid plugin name: ${type}`);
  if (dirs.length === 0) throw new Error(`no paths provided`);
  for (const dir of dirs) {
    const candidate = join(dir, type);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this dir
    }
  }
  // Go prints a []string as [a b c].
  throw new Error(`failed to find plugin "${type}" in path [${dirs.join(" ")}]`);
}

/** Args.AsEnv: the runtime's own environment, then the CNI variables (which win). */
export function pluginEnv(base: Readonly<Record<string, string>>, a: PluginArgs): Record<string, string> {
  return {
    ...base,
    CNI_COMMAND: a.command,
    CNI_CONTAINERID: a.containerId,
    CNI_NETNS: a.netns,
    CNI_ARGS: a.args.map(([k, v]) => `${k}=${v}`).join(";"),
    CNI_IFNAME: a.ifName,
    CNI_PATH: a.path.join(":"),
  };
}

export interface ExecOutcome {
  stdout: string;
  stderr: string;
}

export interface PluginExecutor {
  /** Runs the plugin; resolves with its stdout on exit 0, rejects with a PluginError otherwise. */
  exec(pluginPath: string, stdin: string, env: Record<string, string>, timeoutMs: number): Promise<ExecOutcome>;
}

/** RawExec: a child process per call; stderr is kept for the runtime's log. */
export const rawExec: PluginExecutor = {
  exec(pluginPath, stdin, env, timeoutMs) {
    return new Promise((resolve, reject) => {
      const child = spawn(pluginPath, [], { env, stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.stdin.on("error", () => {});
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(new PluginError(0, `netplugin failed with no error message: ${e.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString();
        const stderr = Buffer.concat(err).toString();
        if (timedOut) return reject(new PluginError(0, "netplugin failed with no error message: context deadline exceeded"));
        if (code === 0) return resolve({ stdout, stderr });
        const status = signal !== null ? `signal: ${signalName(signal)}` : `exit status ${code}`;
        reject(pluginErr(status, stdout, stderr));
      });
      child.stdin.end(stdin);
    });
  },
};

function signalName(signal: NodeJS.Signals): string {
  return signal === "SIGKILL" ? "killed" : signal === "SIGTERM" ? "terminated" : signal.toLowerCase().replace(/^sig/, "");
}

/** RawExec.pluginErr: the error object a failed plugin printed, or a description of its failure. */
export function pluginErr(status: string, stdout: string, stderr: string): PluginError {
  if (stdout.length === 0) {
    if (stderr.length === 0) return new PluginError(0, `netplugin failed with no error message: ${status}`);
    return new PluginError(0, `netplugin failed: ${JSON.stringify(stderr)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (e) {
    return new PluginError(0, `netplugin failed but error parsing its diagnostic message ${JSON.stringify(stdout)}: ${(e as Error).message}`);
  }
  const o = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  return new PluginError(typeof o["code"] === "number" ? o["code"] : 0, typeof o["msg"] === "string" ? o["msg"] : "", typeof o["details"] === "string" ? o["details"] : "");
}
