// The plugin's log: JSON lines appended to a file (stdout belongs to the CNI protocol). Synchronous and
// best-effort: a log that cannot be written never fails a pod.

import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Log, LogLevel } from "../log/log.ts";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export function fileLog(path: string, minLevel: LogLevel, context: Record<string, unknown>): Log {
  if (path === "stdout") return () => undefined; // stdout is the protocol's: never log there
  let ready = false;
  return (level, msg, fields = {}) => {
    if (RANK[level] < RANK[minLevel]) return;
    const line = JSON.stringify({ level, ts: new Date().toISOString(), component: "plugin", ...context, ...fields, msg }) + "\n";
    try {
      if (path === "stderr") {
        process.stderr.write(line);
        return;
      }
      if (!ready) {
        mkdirSync(dirname(path), { recursive: true });
        ready = true;
      }
      appendFileSync(path, line);
    } catch {
      // Logging must never fail a pod.
    }
  };
}
