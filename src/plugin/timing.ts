// Where a plugin call's milliseconds go, opt-in: with VPC_CNI_TIMING_FILE set, each call appends one
// JSON line to that file: Node.js's own start-up (process start to the plugin's first line), then
// each phase of the call (config parsed, agent round trip, wiring), and every command the datapath
// spawned with its duration. Unset (always, in production), nothing is measured or written: one
// environment lookup per call.

import { appendFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { runObserver } from "../datapath/exec.ts";

export interface Timing {
  /** Ends the phase begun at the previous mark (or at the plugin's first line), naming it. */
  mark(phase: string): void;
  /** Appends the call's line; `command` is CNI_COMMAND. */
  write(command: string): void;
}

const OFF: Timing = { mark: () => {}, write: () => {} };

/** Called at the plugin's first line, so the first phase starts there. */
export function startTiming(env: Readonly<Record<string, string | undefined>>): Timing {
  const file = env["VPC_CNI_TIMING_FILE"];
  if (!file) return OFF;
  const first = performance.now();
  const phases: { phase: string; ms: number }[] = [];
  const spawns: { command: string; ms: number }[] = [];
  runObserver.onRun = (command, ms) => spawns.push({ command: command.join(" "), ms: round(ms) });
  let last = first;
  return {
    mark(phase) {
      const now = performance.now();
      phases.push({ phase, ms: round(now - last) });
      last = now;
    },
    write(command) {
      const t = performance.nodeTiming;
      const line = {
        command,
        pid: process.pid,
        // performance.now() counts from the process's start: all of it before `first` is Node.js's.
        nodeStartMs: round(first),
        nodeBootstrapMs: round(t.bootstrapComplete),
        phases,
        spawns,
        totalMs: round(performance.now()),
      };
      try {
        appendFileSync(file, JSON.stringify(line) + "\n");
      } catch {
        // A measurement must never fail the call it measures.
      }
    },
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
