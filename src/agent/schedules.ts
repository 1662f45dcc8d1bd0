// What the agent does on a clock once it serves, besides the pool's own passes and the reconciler (the
// node agent runs those): the pool gauges every 5 s, and the leaked-ENI clean-up on the reference's
// schedule. Both on the scheduler they are given, so both run on virtual time in tests.

import { randomInt } from "node:crypto";
import type { AgentConfig } from "./config.ts";
import type { Datastore } from "./datastore/datastore.ts";
import type { NodeAgent } from "./node-agent.ts";
import type { Log } from "../log/log.ts";
import type { AgentMetrics } from "./observability/metrics.ts";
import { cleanUpLeakedEnis } from "../aws/eni-api.ts";
import type { Ec2 } from "../aws/ec2-client.ts";
import type { Scheduler, Timer } from "../time/scheduler.ts";

const POOL_STATS_INTERVAL_MS = 5_000;
const LEAKED_ENI_INTERVAL_MS = 3600_000;
const LEAKED_ENI_JITTER_MS = 300_000;

export interface Schedules {
  /** SIGTERM: nothing scheduled starts any more (no new EC2 mutation). */
  stop(): void;
}

export function startSchedules(o: {
  config: AgentConfig;
  datastore: Datastore;
  agent: NodeAgent;
  metrics: AgentMetrics;
  ec2: Ec2;
  vpcId: string;
  scheduler: Scheduler;
  log: Log;
}): Schedules {
  const { config, datastore, agent, metrics, ec2, scheduler, log } = o;
  const statsTimer = scheduler.every(POOL_STATS_INTERVAL_MS, () => publishPoolStats(metrics, datastore, agent, config.pool.maxEni), { unref: true });
  const leakedEniCleanup = config.eni.disableLeakedEniCleanup
    ? undefined
    : scheduleLeakedEniCleanup({ scheduler, log, cleanUp: () => cleanUpLeakedEnis(ec2, { vpcId: o.vpcId, clusterName: config.eni.clusterName || undefined }) });
  return {
    stop() {
      scheduler.cancel(statsTimer);
      leakedEniCleanup?.stop();
    },
  };
}

/** The pool gauges; awscni_eni_max and awscni_ip_max count MAX_ENI and leave out the unmanaged ENIs. */
export function publishPoolStats(metrics: AgentMetrics, datastore: Datastore, agent: NodeAgent, maxEni: number | null): void {
  const snap = datastore.snapshot();
  const limits = agent.poolLimits();
  // As the reference: min(MAX_ENI, the type's limit) minus the ENIs the agent does not manage.
  const usableEnis = Math.min(maxEni ?? limits.enis, limits.enis) - limits.unmanagedEnis;
  const perCidr: Record<string, number> = {};
  const perEni: Record<string, number> = {};
  for (const e of snap.enis) {
    perEni[e.id] = e.assigned;
    for (const c of e.cidrs) perCidr[c.cidr] = c.assigned;
  }
  metrics.poolStats({
    enis: snap.enis.length,
    maxEnis: usableEnis,
    maxIps: (limits.ipv4PerEni - 1) * (snap.prefixDelegation ? 16 : 1) * usableEnis,
    totalIps: snap.stats.totalIPs,
    assignedIps: snap.stats.assignedIPs,
    prefixes: snap.stats.totalPrefixes,
    cooldownIps: snap.stats.cooldownIPs,
    waitingAllocations: agent.pool.waiting,
    assignedPerCidr: perCidr,
    assignedPerEni: perEni,
  });
}

/**
 * The reference's schedule: a first run after a random 0-300 s, then hourly plus the same jitter, so
 * nodes do not scan together. Runs never overlap (the next is armed when one ends); stop() (SIGTERM)
 * lets none start any more.
 */
export function scheduleLeakedEniCleanup(o: {
  scheduler: Scheduler;
  cleanUp: () => Promise<{ deleted?: readonly unknown[] } | unknown>;
  log: Log;
  /** The jitter: a whole number of ms in [0, max). */
  jitter?: (maxMs: number) => number;
}): Schedules {
  const { scheduler, log } = o;
  const jitter = o.jitter ?? randomInt;
  let stopped = false;
  let timer: Timer | undefined;
  const arm = (ms: number) => {
    if (!stopped) timer = scheduler.after(ms, () => void run(), { unref: true });
  };
  const run = async () => {
    if (stopped) return;
    try {
      const result = (await o.cleanUp()) as { deleted?: readonly unknown[] } | undefined;
      if (result?.deleted && result.deleted.length > 0) log("info", `leaked-ENI clean-up deleted ${result.deleted.length} ENIs`);
    } catch (err) {
      log("warn", `leaked-ENI clean-up failed: ${(err as Error).message}`);
    }
    arm(LEAKED_ENI_INTERVAL_MS + jitter(LEAKED_ENI_JITTER_MS));
  };
  arm(jitter(LEAKED_ENI_JITTER_MS));
  return {
    stop() {
      stopped = true;
      scheduler.cancel(timer);
    },
  };
}
