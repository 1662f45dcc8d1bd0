// The plugin main loop, as containernetworking's skel.PluginMainFuncs: read the environment and
// stdin, check them, call the handler for CNI_COMMAND, and print either the result (in the
// requested version) or the spec's error object. runPlugin is pure, for tests; pluginMain wires it
// to the process. Stdout carries exactly one JSON document or nothing: runtimes parse all of it.
//
// Order of checks (libcni's skel, with the first two swapped so a bad command fails before stdin is
// trusted): VERSION answers at once, whatever the environment (podman probes every plugin with dummy
// values on every command) -> environment (4) -> stdin size (5) -> JSON (6) -> cniVersion (1) ->
// config fields (7) -> command allowed in this version (1) -> CHECK has prevResult (7) ->
// CNI_ARGS (4) -> handler. Nothing reaches a handler unless every check passed.

import type { CniArgs, ParseArgsOptions } from "./args.ts";
import { parseCniArgs } from "./args.ts";
import type { NetConf } from "./config.ts";
import { parseNetConf } from "./config.ts";
import type { CniEnv, CniCommand, EnvSource } from "./env.ts";
import { parseEnv } from "./env.ts";
import { CniError, ErrorCode, toCniError } from "./errors.ts";
import type { Attachment } from "./gc.ts";
import { parseValidAttachments } from "./gc.ts";
import type { Result } from "./result.ts";
import { formatResult } from "./result.ts";
import { LATEST_VERSION, parseVersion, SUPPORTED_VERSIONS, versionAnswer, versionAtLeast } from "./version.ts";

export type PluginRequest = {
  command: CniCommand;
  env: CniEnv;
  config: NetConf;
  /** Parsed CNI_ARGS (empty for STATUS and GC, which carry no attachment). */
  args: CniArgs;
  /** The raw stdin, for plugins that delegate (SPEC §4: delegates get the same config). */
  stdin: string;
};

export type GcRequest = PluginRequest & { validAttachments: Attachment[] };

type Maybe<T> = T | Promise<T>;

export type PluginHandlers = {
  /** Returns the result; the skel prints it in the config's cniVersion. */
  add(req: PluginRequest): Maybe<Result>;
  del(req: PluginRequest): Maybe<void>;
  /** Absent: CHECK succeeds, as libcni's skel does for a nil Check func. */
  check?(req: PluginRequest): Maybe<void>;
  /** Throw pluginNotAvailable (50) or limitedConnectivity (51) when not ready. Absent: ready. */
  status?(req: PluginRequest): Maybe<void>;
  /** Absent: GC succeeds. */
  gc?(req: GcRequest): Maybe<void>;
};

export type PluginOptions = {
  /** Versions to accept and advertise; default SUPPORTED_VERSIONS. */
  supportedVersions?: readonly string[];
  /** Plugin-specific CNI_ARGS keys accepted besides the well-known ones. */
  argsKeys?: readonly string[];
  /** Stdin bigger than this is refused with code 5. Default 4 MiB. */
  maxStdinBytes?: number;
  /**
   * How long the runtime may keep stdin open (default 10 s): a stdin never closed gets code 5 then,
   * instead of an ADD that hangs until the runtime's own timeout kills the plugin. A whole JSON object
   * followed by a pause of STDIN_IDLE_MS is taken as the config without waiting for the close.
   */
  stdinTimeoutMs?: number;
};

export type RunInput = {
  env: EnvSource;
  stdin: string;
  handlers: PluginHandlers;
  options?: PluginOptions;
};

export type RunOutput = { stdout: string; exitCode: number };

export const DEFAULT_MAX_STDIN_BYTES = 4 * 1024 * 1024;
export const DEFAULT_STDIN_TIMEOUT_MS = 10_000;
/** The pause after a whole JSON object on a stdin left open before it is taken as the config. */
const STDIN_IDLE_MS = 200;

const NO_ARGS: CniArgs = { ignoreUnknown: false, all: {} };

/** The version to label an error with: the config's if it has a usable one, else our latest. */
function errorLabel(stdin: string, parsed: NetConf | undefined): string {
  if (parsed !== undefined) return parsed.cniVersion;
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown } | null)?.cniVersion;
    if (typeof v === "string" && parseVersion(v) !== null) return v;
  } catch {
    // Undecodable stdin: fall through to the default label.
  }
  return LATEST_VERSION;
}

function versionReply(stdin: string, supported: readonly string[]): RunOutput {
  let input: unknown;
  try {
    input = (JSON.parse(stdin) as { cniVersion?: unknown } | null)?.cniVersion;
  } catch {
    input = undefined; // VERSION must answer even with empty or junk stdin.
  }
  return { stdout: JSON.stringify(versionAnswer(input, supported)) + "\n", exitCode: 0 };
}

function requireVersionFor(command: CniCommand, version: string, min: string): void {
  if (!versionAtLeast(version, min)) {
    throw new CniError(ErrorCode.IncompatibleVersion, `config version does not allow ${command}`, `${command} needs CNI ${min} or later, config is ${version}`);
  }
}

/** One plugin invocation, without touching the process. Never throws. */
export async function runPlugin(input: RunInput): Promise<RunOutput> {
  const { env, stdin, handlers } = input;
  const options = input.options ?? {};
  const supported = options.supportedVersions ?? SUPPORTED_VERSIONS;
  if (env["CNI_COMMAND"] === "VERSION") return versionReply(stdin, supported);

  let config: NetConf | undefined;
  try {
    const cniEnv = parseEnv(env);
    const max = options.maxStdinBytes ?? DEFAULT_MAX_STDIN_BYTES;
    if (Buffer.byteLength(stdin, "utf8") > max) throw new CniError(ErrorCode.IoFailure, `network config on stdin exceeds ${max} bytes`);
    config = parseNetConf(stdin, { supportedVersions: supported });
    const command = cniEnv.command;
    if (command === "CHECK") requireVersionFor(command, config.cniVersion, "0.4.0");
    if (command === "STATUS" || command === "GC") requireVersionFor(command, config.cniVersion, "1.1.0");
    if (command === "CHECK" && config.prevResult === undefined) {
      throw new CniError(ErrorCode.InvalidNetworkConfig, "required prevResult missing", "the runtime must pass the ADD result as prevResult on CHECK");
    }
    const attachmentCommand = command === "ADD" || command === "DEL" || command === "CHECK";
    const argsOptions: ParseArgsOptions = options.argsKeys !== undefined ? { extraKeys: options.argsKeys } : {};
    const args = attachmentCommand ? parseCniArgs(cniEnv.args, argsOptions) : NO_ARGS;
    const req: PluginRequest = { command, env: cniEnv, config, args, stdin };

    switch (command) {
      case "ADD": {
        const result = await handlers.add(req);
        if (result === undefined || result === null || typeof result !== "object") {
          throw new CniError(ErrorCode.Internal, "plugin returned no result for ADD");
        }
        return { stdout: JSON.stringify(formatResult(result, config.cniVersion, supported)) + "\n", exitCode: 0 };
      }
      case "DEL":
        await handlers.del(req);
        break;
      case "CHECK":
        await handlers.check?.(req);
        break;
      case "STATUS":
        await handlers.status?.(req);
        break;
      case "GC": {
        const validAttachments = parseValidAttachments(config.raw);
        await handlers.gc?.({ ...req, validAttachments });
        break;
      }
      case "VERSION":
        return versionReply(stdin, supported); // unreachable: answered above
    }
    return { stdout: "", exitCode: 0 };
  } catch (err) {
    const e = toCniError(err);
    return { stdout: JSON.stringify(e.toObject(errorLabel(stdin, config))) + "\n", exitCode: 1 };
  }
}

/**
 * Reads stdin up to `max` bytes. VERSION needs no input, so it reads only what a runtime pipes in
 * (never a terminal) and gives up after a moment rather than hang on a stdin nobody closes. The other
 * commands need it whole: a stdin left open is answered with code 5 after `timeoutMs`, unless what
 * came is already a whole JSON object and nothing more follows for a moment.
 */
function readStdin(max: number, optional: boolean, timeoutMs: number): Promise<string> {
  const stdin = process.stdin;
  if (optional && stdin.isTTY) return Promise.resolve("");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err?: CniError): void => {
      if (timer !== undefined) clearTimeout(timer);
      if (idle !== undefined) clearTimeout(idle);
      stdin.removeAllListeners("data").removeAllListeners("end").removeAllListeners("error");
      stdin.pause();
      // An open pipe would keep the process alive; it is ours to let go of once read.
      if (err !== undefined || !stdin.readableEnded) stdin.destroy();
      if (err !== undefined) reject(err);
      else resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const wholeObject = (): boolean => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        return typeof v === "object" && v !== null && !Array.isArray(v);
      } catch {
        return false;
      }
    };
    if (optional) timer = setTimeout(() => finish(), 1000);
    else {
      timer = setTimeout(() => {
        if (wholeObject()) return finish();
        finish(new CniError(ErrorCode.IoFailure, `stdin was not closed within ${timeoutMs} ms (${size} bytes read, not a whole network config)`));
      }, timeoutMs);
    }
    stdin.on("data", (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      // Stop at max+1 so runPlugin sees an oversize stdin and answers code 5.
      if (size > max) return finish();
      if (!optional) {
        if (idle !== undefined) clearTimeout(idle);
        idle = setTimeout(() => {
          if (wholeObject()) finish();
        }, STDIN_IDLE_MS);
      }
    });
    stdin.on("end", () => finish());
    stdin.on("error", (e: Error) => finish(new CniError(ErrorCode.IoFailure, `error reading from stdin: ${e.message}`)));
  });
}

/**
 * The process entry point: runs one invocation and exits with its code. While handlers run, anything
 * written to stdout (a stray console.log) is diverted to stderr so it cannot corrupt the JSON the
 * runtime parses.
 */
export async function pluginMain(handlers: PluginHandlers, options: PluginOptions = {}): Promise<void> {
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  let answered = false;
  const emit = (out: RunOutput): void => {
    if (answered) return;
    answered = true;
    if (out.stdout === "") process.exit(out.exitCode);
    realWrite(out.stdout, () => process.exit(out.exitCode));
  };
  // A failure outside the handler's promise (a stray timer, an unawaited rejection) still gets an error object.
  const crash = (err: unknown): void => {
    const e = toCniError(err);
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    emit({ stdout: JSON.stringify(e.toObject(LATEST_VERSION)) + "\n", exitCode: 1 });
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);

  const max = options.maxStdinBytes ?? DEFAULT_MAX_STDIN_BYTES;
  let stdin: string;
  try {
    stdin = await readStdin(max, process.env["CNI_COMMAND"] === "VERSION", options.stdinTimeoutMs ?? DEFAULT_STDIN_TIMEOUT_MS);
  } catch (err) {
    emit({ stdout: JSON.stringify(toCniError(err).toObject(LATEST_VERSION)) + "\n", exitCode: 1 });
    return;
  }
  emit(await runPlugin({ env: process.env, stdin, handlers, options }));
}
