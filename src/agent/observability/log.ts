// The agent's logs: one JSON object per line with the keys aws-node's zap logger writes (`level`, `ts` in
// ISO8601, `msg`), and `component` where zap has `caller` (a file:line means little in a bundle; the
// component that logged does). Writes are synchronous so the last lines before an exit or a crash are on
// disk, and nothing is lost to a buffer when the agent is killed.

import { pino, type DestinationStream } from "pino";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Log } from "../../log/log.ts";

export type LogLevelName = "debug" | "info" | "warn" | "error" | "fatal";

/** What the servers log through; pino loggers satisfy it, and tests can pass `silentLogger()`. */
export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Same shape as the config's LogDestination, plus a stream for tests and embedding. */
export type LogTarget =
  | { readonly kind: "stdout" }
  | { readonly kind: "stderr" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "stream"; readonly stream: { write(chunk: string): unknown } };

export interface AgentLogger {
  readonly root: Logger;
  /** A child logger whose lines carry `"component": name`. */
  component(name: string): Logger;
  /**
   * Fields every line carries from now on, children's included (the node's instance id, once IMDS has
   * answered: several agents' logs side by side, or one node's log shipped off it, still say whose).
   */
  bind(fields: Record<string, string>): void;
  /** Reopens a log file (after logrotate moved it); no-op for stdout/stderr/streams. */
  reopen(): void;
  /** Flushes and closes a log file; the logger must not be used afterwards. */
  close(): void;
}

const LEVELS: readonly LogLevelName[] = ["debug", "info", "warn", "error", "fatal"];

/** Reads AWS_VPC_K8S_CNI_LOGLEVEL's forms (DEBUG, Info, warn, ...); null if it is not a level. */
export function parseLogLevel(text: string): LogLevelName | null {
  const lower = text.trim().toLowerCase();
  // zap and aws-node docs also say "warning".
  const name = lower === "warning" ? "warn" : lower;
  return (LEVELS as readonly string[]).includes(name) ? (name as LogLevelName) : null;
}

export interface CreateLoggerOptions {
  /** Level name in any case (DEBUG, info, ...). */
  readonly level: string;
  readonly target: LogTarget;
}

export function createLogger(options: CreateLoggerOptions): AgentLogger {
  const level = parseLogLevel(options.level);
  if (level === null) throw new Error(`unknown log level ${JSON.stringify(options.level)}: use debug, info, warn, error or fatal`);
  const destination = openTarget(options.target);
  let bound: Record<string, string> = {};
  const logger = pino(
    {
      level,
      // A fresh object per line: pino merges the line's fields into what the mixin returns.
      mixin: () => ({ ...bound }),
      // No pid/hostname: zap's lines do not have them and the DaemonSet pod already says which node.
      base: undefined,
      messageKey: "msg",
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination.stream,
  );
  return {
    root: logger,
    component: (name) => logger.child({ component: name }),
    bind: (fields) => {
      bound = { ...bound, ...fields };
    },
    reopen: () => destination.reopen(),
    close: () => destination.close(),
  };
}

/** A logger that drops everything (tests, and callers that were given none). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** The same lines through the function shape the agent's core logs with (src/log). */
export function logFunction(logger: Logger): Log {
  return (level, msg, fields) => logger[level](fields ?? {}, msg);
}

interface OpenTarget {
  readonly stream: DestinationStream;
  reopen(): void;
  close(): void;
}

function openTarget(target: LogTarget): OpenTarget {
  switch (target.kind) {
    case "stream": {
      const stream: DestinationStream = { write: (chunk: string) => void target.stream.write(chunk) };
      return { stream, reopen: () => undefined, close: () => undefined };
    }
    case "stdout":
    case "stderr": {
      const sonic = pino.destination({ dest: target.kind === "stdout" ? 1 : 2, sync: true });
      return { stream: sonic, reopen: () => undefined, close: () => sonic.flushSync() };
    }
    case "file": {
      mkdirSync(dirname(target.path), { recursive: true, mode: 0o755 });
      const sonic = pino.destination({ dest: target.path, sync: true, append: true, mkdir: true });
      return {
        stream: sonic,
        reopen: () => sonic.reopen(),
        close: () => {
          sonic.flushSync();
          sonic.end();
        },
      };
    }
  }
}
