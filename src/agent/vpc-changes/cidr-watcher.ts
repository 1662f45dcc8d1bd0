// The reference's 30 s VPC-CIDR watcher (updateCIDRsRulesOnChange): re-reads the VPC's IPv4 CIDRs from
// instance metadata and, when the set changed, rebuilds the SNAT and connmark rules for it and hands
// the new set to the plugin's next ADDs, without a restart. A CIDR associated with the VPC joins the
// exclusions from SNAT; one disassociated leaves them. On the scheduler it is given (virtual time in tests).

import type { Log } from "../../log/log.ts";
import type { Scheduler, Timer } from "../../time/scheduler.ts";

export const VPC_CIDR_WATCH_INTERVAL_MS = 30_000;

export interface CidrWatcherOptions {
  readonly scheduler: Scheduler;
  /** The VPC's IPv4 CIDRs as instance metadata shows them now (vpc-ipv4-cidr-blocks of the primary ENI). */
  readonly read: () => Promise<string[]>;
  /** The set the node's rules are built for. */
  readonly current: () => readonly string[];
  /** Rebuilds the rules for the new set and makes it current. */
  readonly apply: (cidrs: readonly string[]) => Promise<void>;
  readonly log: Log;
  readonly intervalMs?: number;
}

export interface CidrWatcher {
  /** One pass now: true when the set had changed and was applied. */
  check(): Promise<boolean>;
  stop(): void;
}

export function startCidrWatcher(o: CidrWatcherOptions): CidrWatcher {
  let running: Promise<boolean> | undefined;
  let stopped = false;
  const pass = async (): Promise<boolean> => {
    if (stopped) return false;
    let seen: string[];
    try {
      seen = await o.read();
    } catch (err) {
      o.log("warn", `VPC CIDR watcher: instance metadata did not answer (${(err as Error).message}); the rules stay as they are`);
      return false;
    }
    // An empty answer is metadata's hiccup, not a VPC without CIDRs (the primary CIDR cannot go).
    if (seen.length === 0 || sameSet(seen, o.current())) return false;
    const before = [...o.current()];
    await o.apply(seen);
    o.log("info", "VPC CIDRs changed: SNAT and connmark rules rebuilt", {
      added: seen.filter((c) => !before.includes(c)),
      removed: before.filter((c) => !seen.includes(c)),
      cidrs: seen,
    });
    return true;
  };
  const check = (): Promise<boolean> => {
    // One pass at a time: a slow rebuild must not pile up passes behind it.
    running ??= pass()
      .catch((err: Error) => {
        o.log("error", `VPC CIDR watcher: rebuilding the rules failed: ${err.message}`);
        return false;
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer: Timer = o.scheduler.every(o.intervalMs ?? VPC_CIDR_WATCH_INTERVAL_MS, () => void check(), { unref: true });
  return {
    check,
    stop() {
      stopped = true;
      o.scheduler.cancel(timer);
    },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
