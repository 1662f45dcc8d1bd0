// vpc-cni-agent benchmark: its footprint (RSS, CPU) at idle and under pod churn, and its EC2
// efficiency: EC2 calls per 100 pod starts from vpcsim's call log, set against a model of the
// reference's pool algorithm (bench/reference-pool-model.ts) driven by the same workload in virtual
// time. Bounded: ~10 s idle + a 75 s churn window, 100 pod starts; one vpcsim run, torn down at the end.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { AgentProcess, enisOf } from "../test/agent-harness.ts";
import { SimRun } from "../test/harness.ts";
import type { CallRecord } from "../src/sim/ec2/call-log.ts";
import { simulateReferencePool, type PodEvent, type ReferenceModelResult } from "./reference-pool-model.ts";

/** How the agent is run: from its bundle (bin/vpc-cni-agent, as shipped) or from src/ (as before the bundle). */
export type AgentVariant = "bundle" | "source";
export const AGENT_VARIANTS: readonly AgentVariant[] = ["bundle", "source"];

export interface AgentBenchOptions {
  variant?: AgentVariant;
  /** Extra environment for the agent (flags being measured). */
  env?: Record<string, string>;
  idleSeconds?: number;
  waves?: number;
  podsPerWave?: number;
  waveIntervalMs?: number;
  podLifetimeMs?: number;
  windowMs?: number;
}

const INSTANCE = { type: "m5.xlarge", enis: 4, ipv4PerEni: 15, maxPods: 58 };
const COOLDOWN_S = 5; // IP_COOLDOWN_PERIOD for both sides, so released addresses come back within the window
const ADD_RETRY_MS = 2_000; // kubelet retrying a failed ADD (the reference fails ADDs on an empty pool)
const MUTATING = new Set(["AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "CreateNetworkInterface", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute", "DetachNetworkInterface", "DeleteNetworkInterface", "CreateTags"]);

/** Waves of pods: `podsPerWave` start together every `waveIntervalMs`, each living `podLifetimeMs`. */
export function churnWorkload(o: Required<Pick<AgentBenchOptions, "waves" | "podsPerWave" | "waveIntervalMs" | "podLifetimeMs">>): PodEvent[] {
  const events: PodEvent[] = [];
  for (let w = 0; w < o.waves; w++) {
    for (let i = 0; i < o.podsPerWave; i++) {
      const pod = `churn-${w}-${i}`;
      const at = w * o.waveIntervalMs;
      events.push({ at, pod, kind: "start" }, { at: at + o.podLifetimeMs, pod, kind: "stop" });
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

interface ProcSample {
  rssKiB: number;
  hwmKiB: number;
  cpuSeconds: number;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function sample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  // Fields after the command name (which may hold blanks): state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM"), cpuSeconds: ticks / CLK_TCK };
}

const mib = (kib: number) => Number((kib / 1024).toFixed(1));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function callsBy(run: SimRun, principal: string): Promise<CallRecord[]> {
  const r = await run.vpcsim(["calls", "--run", run.name, "--last", "1000000", "--json"]);
  if (r.code !== 0) throw new Error(`vpcsim calls: ${r.stderr}`);
  return (JSON.parse(r.stdout) as CallRecord[]).filter((c) => c.principal === principal);
}

export async function runAgentBench(opts: AgentBenchOptions = {}): Promise<{ result: Record<string, unknown>; table: string }> {
  const idleSeconds = opts.idleSeconds ?? 10;
  const shape = { waves: opts.waves ?? 5, podsPerWave: opts.podsPerWave ?? 20, waveIntervalMs: opts.waveIntervalMs ?? 6_000, podLifetimeMs: opts.podLifetimeMs ?? 10_000 };
  const windowMs = opts.windowMs ?? 75_000;
  const events = churnWorkload(shape);
  const podStarts = new Set(events.filter((e) => e.kind === "start").map((e) => e.pod)).size;

  const run = await SimRun.up(["--instance", `node=${INSTANCE.type},a`]);
  const variant = opts.variant ?? "bundle";
  const agent = new AgentProcess(run, "node", { IP_COOLDOWN_PERIOD: String(COOLDOWN_S), AWS_VPC_K8S_CNI_LOGLEVEL: "info", ...(variant === "source" ? { VPC_CNI_AGENT_FROM_SOURCE: "1" } : {}), ...opts.env });
  try {
    const startedAt = performance.now();
    await agent.start();
    await agent.settled(60_000);
    const startupSeconds = (performance.now() - startedAt) / 1000;
    const node = await run.instance("node");
    const pid = await agent.agentPid();
    const initialEnis = (await enisOf(run, "node")).sort((a, b) => (a.deviceIndex ?? 0) - (b.deviceIndex ?? 0)).map((e) => e.privateIps.length - 1);

    // Idle.
    const idle0 = sample(pid);
    await sleep(idleSeconds * 1000);
    const idle1 = sample(pid);

    // Churn: the workload in real time; a failed ADD is retried as kubelet would.
    const churnStart = Date.now();
    const churn0 = sample(pid);
    let peakRss = churn0.rssKiB;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, sample(pid).rssKiB);
      } catch {
        // the agent is gone; the result will say so
      }
    }, 1000);
    const started = new Map<string, Promise<void>>();
    const stopped = new Set<string>();
    const delays: number[] = [];
    let failedAdds = 0;
    let notStarted = 0;
    const failureReasons = new Map<string, number>();
    const startPod = async (pod: string) => {
      const first = Date.now();
      for (;;) {
        const r = await agent.allocate(pod);
        if (r.ok) {
          delays.push(Date.now() - first);
          return;
        }
        failedAdds++;
        const reason = r.error.message.replace(/\d+/g, "N");
        failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
        if (r.error.code !== "no-address") throw new Error(`ADD ${pod}: ${r.error.code}: ${r.error.message}`);
        if (stopped.has(pod) || Date.now() - churnStart > windowMs) {
          notStarted++;
          return;
        }
        await sleep(ADD_RETRY_MS);
      }
    };
    const done = events.map(
      (e) =>
        new Promise<void>((resolve, reject) => {
          setTimeout(() => {
            if (e.kind === "start") {
              const p = startPod(e.pod);
              started.set(e.pod, p);
              p.then(resolve, reject);
            } else {
              stopped.add(e.pod);
              void (started.get(e.pod) ?? Promise.resolve())
                .then(() => agent.release(e.pod))
                .then((r) => (r.ok ? resolve() : reject(new Error(`DEL ${e.pod}: ${r.error.message}`))), reject);
            }
          }, e.at);
        }),
    );
    await Promise.all(done);
    const left = churnStart + windowMs - Date.now();
    if (left > 0) await sleep(left);
    clearInterval(sampler);
    const churn1 = sample(pid);
    const windowEnd = churnStart + windowMs;

    const calls = (await callsBy(run, node.id)).filter((c) => c.time >= churnStart && c.time <= windowEnd);
    const ours: Record<string, number> = {};
    for (const c of calls) ours[c.action] = (ours[c.action] ?? 0) + 1;
    const oursTotal = calls.length;
    const oursMutating = calls.filter((c) => MUTATING.has(c.action)).length;
    const oursErrors = calls.filter((c) => c.outcome !== "ok").length;
    const finalEnis = (await enisOf(run, "node")).length;

    const ref: ReferenceModelResult = simulateReferencePool(
      {
        enis: INSTANCE.enis,
        ipv4PerEni: INSTANCE.ipv4PerEni,
        maxPods: INSTANCE.maxPods,
        warmEniTarget: 1,
        ipCooldownMs: COOLDOWN_S * 1000,
        addRetryMs: ADD_RETRY_MS,
        initialEnis,
        horizonMs: windowMs,
      },
      events,
    );

    const per100 = (n: number) => Number(((n * 100) / podStarts).toFixed(1));
    const sorted = [...delays].sort((a, b) => a - b);
    const p = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    const result = {
      benchmark: "agent",
      variant,
      instanceType: INSTANCE.type,
      startupSeconds: Number(startupSeconds.toFixed(2)),
      idle: { seconds: idleSeconds, rssMiB: mib(idle1.rssKiB), cpuSeconds: Number((idle1.cpuSeconds - idle0.cpuSeconds).toFixed(2)), cpuPercentOfCore: Number((((idle1.cpuSeconds - idle0.cpuSeconds) / idleSeconds) * 100).toFixed(2)) },
      churn: {
        podStarts,
        windowSeconds: windowMs / 1000,
        peakRssMiB: mib(peakRss),
        vmHwmMiB: mib(churn1.hwmKiB),
        cpuSeconds: Number((churn1.cpuSeconds - churn0.cpuSeconds).toFixed(2)),
        failedAdds,
        failedAddReasons: Object.fromEntries(failureReasons),
        podsNeverStarted: notStarted,
        startDelayMs: { p50: p(0.5), p95: p(0.95), max: sorted.at(-1) ?? 0 },
      },
      ec2CallsPer100PodStarts: {
        ours: per100(oursTotal),
        reference: per100(ref.totalCalls),
        ratio: ref.totalCalls === 0 ? null : Number((oursTotal / ref.totalCalls).toFixed(2)),
        oursMutating: per100(oursMutating),
        referenceMutating: per100(ref.mutatingCalls),
        oursByAction: ours,
        referenceByAction: ref.calls,
        oursErrors,
      },
      reference: { failedAdds: ref.failedAdds, podsNeverStarted: ref.podsNeverStarted, startDelayMs: ref.startDelayMs, enisCreated: ref.enisCreated, enisFreed: ref.enisFreed, finalEnis: ref.finalEnis },
      oursFinalEnis: finalEnis,
      workload: { ...shape, ipCooldownSeconds: COOLDOWN_S, addRetryMs: ADD_RETRY_MS, initialEnis },
    };
    if (process.env["AGENT_BENCH_LOG"]) writeFileSync(process.env["AGENT_BENCH_LOG"], agent.logs.join("\n") + "\n");
    return { result, table: formatTable(result, ref) };
  } finally {
    await agent.stop();
    agent.clean();
    await run.down();
  }
}

function formatTable(r: any, ref: ReferenceModelResult): string {
  const rows: [string, string, string][] = [
    ["", "vpc-cni-agent", "reference (aws-node)"],
    [`RSS idle (MiB, after ${r.idle.seconds} s)`, String(r.idle.rssMiB), "n/a (no binary here)"],
    [`CPU idle (% of a core over ${r.idle.seconds} s)`, String(r.idle.cpuPercentOfCore), "n/a"],
    [`RSS peak under churn (MiB)`, String(r.churn.peakRssMiB), "n/a"],
    [`CPU under churn (s in ${r.churn.windowSeconds} s)`, String(r.churn.cpuSeconds), "n/a"],
    [`EC2 calls per 100 pod starts`, String(r.ec2CallsPer100PodStarts.ours), `${r.ec2CallsPer100PodStarts.reference} (model)`],
    [`  of which mutating`, String(r.ec2CallsPer100PodStarts.oursMutating), `${r.ec2CallsPer100PodStarts.referenceMutating} (model)`],
    [`failed ADDs (retried after ${ADD_RETRY_MS / 1000} s)`, String(r.churn.failedAdds), String(ref.failedAdds)],
    [`pod start delay p50 / p95 / max (ms)`, `${r.churn.startDelayMs.p50} / ${r.churn.startDelayMs.p95} / ${r.churn.startDelayMs.max}`, `${ref.startDelayMs.p50} / ${ref.startDelayMs.p95} / ${ref.startDelayMs.max}`],
    [`ENIs at the end of the window`, String(r.oursFinalEnis), String(ref.finalEnis)],
  ];
  const actions = [...new Set([...Object.keys(r.ec2CallsPer100PodStarts.oursByAction), ...Object.keys(ref.calls)])].sort();
  for (const a of actions) rows.push([`  ${a}`, String(r.ec2CallsPer100PodStarts.oursByAction[a] ?? 0), String(ref.calls[a] ?? 0)]);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const head = `agent, ${r.variant === "bundle" ? "from its bundle" : "from src/"} (${r.instanceType}, ${r.churn.podStarts} pod starts in ${r.workload.waves} waves, ${r.churn.windowSeconds} s window; EC2 calls/100 starts ratio ours/reference = ${r.ec2CallsPer100PodStarts.ratio})`;
  return [head, ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`)].join("\n");
}

/** Runs the benchmark once per variant, one after the other on fresh runs, and sets their footprints side by side. */
export async function runAgentBenches(variants: readonly AgentVariant[] = AGENT_VARIANTS, opts: Omit<AgentBenchOptions, "variant"> = {}): Promise<{ results: Record<string, unknown>[]; table: string }> {
  const results: any[] = [];
  const tables: string[] = [];
  for (const variant of variants) {
    const { result, table } = await runAgentBench({ ...opts, variant });
    results.push(result);
    tables.push(table);
  }
  if (results.length < 2) return { results, table: tables.join("\n") };
  const [a, b] = results;
  const ratio = (x: number, y: number) => (y === 0 ? "n/a" : `${(x / y).toFixed(2)}x`);
  const rows: [string, number, number][] = [
    ["RSS idle (MiB)", a.idle.rssMiB, b.idle.rssMiB],
    ["RSS peak under churn (MiB)", a.churn.peakRssMiB, b.churn.peakRssMiB],
    ["CPU idle (% of a core)", a.idle.cpuPercentOfCore, b.idle.cpuPercentOfCore],
    [`CPU under churn (s in ${a.churn.windowSeconds} s)`, a.churn.cpuSeconds, b.churn.cpuSeconds],
    ["start-up to settled pool (s)", a.startupSeconds, b.startupSeconds],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const comparison = [`agent footprint, same run: ${a.variant} / ${b.variant} (goals: RSS idle <= 60 MiB, under churn <= 90 MiB, CPU idle < 0.5%)`, ...rows.map(([k, x, y]) => `  ${k.padEnd(w)}  ${String(x).padStart(7)}  ${String(y).padStart(7)}  ${ratio(x, y)}`)];
  const summary = { benchmark: "agent-footprint", variants: [a.variant, b.variant], rssIdleMiB: [a.idle.rssMiB, b.idle.rssMiB], rssChurnPeakMiB: [a.churn.peakRssMiB, b.churn.peakRssMiB], cpuIdlePercent: [a.idle.cpuPercentOfCore, b.idle.cpuPercentOfCore], churnCpuSeconds: [a.churn.cpuSeconds, b.churn.cpuSeconds] };
  return { results: [...results, summary], table: [...tables, comparison.join("\n")].join("\n\n") };
}
