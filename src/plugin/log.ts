// The plugin's log: JSON lines appended to a file (stdout belongs to the CNI protocol). Synchronous and
// best-effort: a log that cannot be written never fails a pod.

import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type PluginLog = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

const RANK = { debug: 0, info: 1, warn: 2, error: 3 } as const;

export function fileLog(path: string, minLevel: keyof typeof RANK, context: Record<string, unknown>): PluginLog {
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
