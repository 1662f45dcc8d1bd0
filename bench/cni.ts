// CNI plugin benchmark: ADD and DEL latency of vpc-cni against Debian's ptp + host-local, in the same
// run, on the same vpcsim node (m5.xlarge), into the same pod namespaces:
//   - vpc-cni: the agent running with a warm pool (every address of the node attached, so no ADD waits
//     on EC2), the plugin the agent installed, its conflist entry, its plugin log at the default level;
//   - ptp + host-local: a conflist with ptp (no ipMasq: vpc-cni's SNAT is node-level, not per pod)
//     and host-local IPAM on a private range, its state in the run's directory.
// Both are exec'd exactly as a runtime does (bench/fixtures/cni-driver.ts, inside the node's
// namespace): sequential (N pods, ADD each, then DEL each) and C at once (R rounds), each exec timed
// from spawn to exit; plus the cold start (VERSION exec time). Bounded (< 2 min); the vpcsim run, the
// pod namespaces and every state file are removed at the end.

import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { AgentProcess } from "../test/agent-harness.ts";
import { SimRun, runCommand, waitFor } from "../test/harness.ts";
import { deleteNetns, DEBIAN_CNI_DIR, Node } from "../test/pod-harness.ts";
import type { ConfList } from "../src/cni/index.ts";

export interface CniBenchOptions {
  sequential?: number;
  concurrent?: number;
  rounds?: number;
  versionExecs?: number;
}

const INSTANCE = { type: "m5.xlarge", secondaryAddresses: 4 * 14 };
const PTP_RANGE = "192.168.128.0/24";

interface PhaseResult {
  add: number[];
  del: number[];
  addWallMs: number;
  delWallMs: number;
  errors: string[];
}

interface Percentiles {
  p50: number;
  p99: number;
}

/** Nearest-rank percentile. */
function pct(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const round1 = (n: number) => Number(n.toFixed(1));
const percentiles = (s: number[]): Percentiles => ({ p50: round1(pct(s, 0.5)), p99: round1(pct(s, 0.99)) });
const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : null);

/** The runtime side, in the node's namespace: one process for the whole benchmark. */
class Driver {
  readonly #child: ReturnType<typeof spawn>;
  readonly #waiting = new Map<number, (answer: any) => void>();
  #next = 1;
  #stderr = "";

  constructor(nodeNetns: string) {
    this.#child = spawn("ip", ["netns", "exec", nodeNetns, process.execPath, join(import.meta.dirname, "fixtures", "cni-driver.ts")], { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stderr!.on("data", (c: Buffer) => (this.#stderr += c));
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      const answer = JSON.parse(line) as { id: number };
      this.#waiting.get(answer.id)?.(answer);
      this.#waiting.delete(answer.id);
    });
    this.#child.on("exit", () => {
      for (const [, resolve] of this.#waiting) resolve({ error: `the driver exited: ${this.#stderr}` });
      this.#waiting.clear();
    });
  }

  async request<T>(body: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    const answer = await new Promise<any>((resolve) => {
      const timer = setTimeout(() => resolve({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
      this.#waiting.set(id, (a) => (clearTimeout(timer), resolve(a)));
      this.#child.stdin!.write(JSON.stringify({ id, ...body }) + "\n");
    });
    if (answer.error) throw new Error(`cni driver: ${answer.error}`);
    return answer as T;
  }

  close(): void {
    this.#child.stdin!.end();
    // A driver stuck in an exec must not outlive the benchmark.
    setTimeout(() => this.#child.kill("SIGKILL"), 5_000).unref();
  }
}

export async function runCniBench(opts: CniBenchOptions = {}): Promise<{ result: Record<string, unknown>; table: string }> {
  const sequential = opts.sequential ?? 50;
  const concurrent = opts.concurrent ?? 30;
  const rounds = opts.rounds ?? 3;
  const versionExecs = opts.versionExecs ?? 20;
  const podCount = Math.max(sequential, concurrent);
  if (podCount > INSTANCE.secondaryAddresses) throw new Error(`at most ${INSTANCE.secondaryAddresses} pods at once on an ${INSTANCE.type}`);

  const run = await SimRun.up(["--instance", `node=${INSTANCE.type},a`]);
  // Every address of the node warm (MINIMUM_IP_TARGET = the node's capacity), released addresses
  // usable again after 1 s: no ADD of the benchmark waits for EC2.
  const env: Record<string, string> = { MINIMUM_IP_TARGET: String(INSTANCE.secondaryAddresses), IP_COOLDOWN_PERIOD: "1", AWS_VPC_K8S_CNI_LOGLEVEL: "info" };
  const agent = new AgentProcess(run, "node", env);
  env["VPC_CNI_LOG_DIR"] = join(agent.dir, "log");
  const namespaces: string[] = [];
  let driver: Driver | undefined;
  try {
    await agent.start();
    await agent.settled(60_000);
    const node = await Node.of(agent);
    const linksBefore = (await node.hostState()).links;
    for (let i = 0; i < podCount; i++) namespaces.push(await node.newPodNetns());
    const paths = namespaces.map((n) => `/var/run/netns/${n}`);

    const vpc = { bin: join(node.binDir, "vpc-cni"), cniPath: `${node.binDir}:${DEBIAN_CNI_DIR}`, conflist: node.conflist };
    const ptpDataDir = join(agent.dir, "host-local");
    mkdirSync(ptpDataDir, { recursive: true });
    const ptpConflist: ConfList = {
      cniVersion: node.conflist.cniVersion,
      name: "bench-ptp",
      plugins: [{ type: "ptp", ipMasq: false, mtu: 9001, ipam: { type: "host-local", ranges: [[{ subnet: PTP_RANGE }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: ptpDataDir } }],
    } as unknown as ConfList;
    const ptp = { bin: join(DEBIAN_CNI_DIR, "ptp"), cniPath: DEBIAN_CNI_DIR, conflist: ptpConflist };

    driver = new Driver(node.netns);
    const d = driver;
    // Cold start: VERSION, the plugin's start-up and nothing else (first exec and p50).
    const vpcVersion = (await d.request<{ ms: number[] }>({ op: "version", bin: vpc.bin, count: versionExecs })).ms;
    const ptpVersion = (await d.request<{ ms: number[] }>({ op: "version", bin: ptp.bin, count: versionExecs })).ms;

    // Between phases: every address back in the agent's pool and out of cooldown.
    const poolReady = () =>
      waitFor(async () => {
        const pool = await agent.introspect("/v1/pool");
        return pool.stats.assigned === 0 && pool.stats.available >= podCount ? true : undefined;
      }, 20_000);
    const phase = async (plugin: typeof vpc, netns: string[], isConcurrent: boolean, tag: string) => {
      if (plugin === vpc) await poolReady();
      const r = await d.request<PhaseResult>({ op: "phase", plugin, netns, concurrent: isConcurrent, tag }, 90_000);
      if (r.errors.length > 0) throw new Error(`${tag}: ${r.errors.length} failed execs, first: ${r.errors[0]}`);
      return r;
    };
    const seq = { vpc: await phase(vpc, paths.slice(0, sequential), false, "vpc-seq"), ptp: await phase(ptp, paths.slice(0, sequential), false, "ptp-seq") };
    const par = { vpc: [] as PhaseResult[], ptp: [] as PhaseResult[] };
    for (let r = 0; r < rounds; r++) {
      par.vpc.push(await phase(vpc, paths.slice(0, concurrent), true, `vpc-par${r}`));
      par.ptp.push(await phase(ptp, paths.slice(0, concurrent), true, `ptp-par${r}`));
    }

    const linksAfter = (await node.hostState()).links;
    const leftBehind = linksAfter.filter((l) => !linksBefore.includes(l));
    const assignedAfter = (await agent.introspect("/v1/pool")).stats.assigned as number;
    const hostLocalLeft = (await runCommand("find", [ptpDataDir, "-type", "f", "-name", "192.*"])).stdout.split("\n").filter(Boolean).length;

    const side = (v: number[], s: PhaseResult, p: PhaseResult[]) => ({
      versionFirstMs: round1(v[0]!),
      versionP50Ms: round1(pct(v, 0.5)),
      sequential: { add: percentiles(s.add), del: percentiles(s.del) },
      concurrent: {
        add: percentiles(p.flatMap((x) => x.add)),
        del: percentiles(p.flatMap((x) => x.del)),
        addWallMs: round1(pct(p.map((x) => x.addWallMs), 0.5)),
        delWallMs: round1(pct(p.map((x) => x.delWallMs), 0.5)),
      },
    });
    const ours = side(vpcVersion, seq.vpc, par.vpc);
    const theirs = side(ptpVersion, seq.ptp, par.ptp);
    const ratios = {
      versionP50: ratio(ours.versionP50Ms, theirs.versionP50Ms),
      sequentialAddP50: ratio(ours.sequential.add.p50, theirs.sequential.add.p50),
      sequentialAddP99: ratio(ours.sequential.add.p99, theirs.sequential.add.p99),
      sequentialDelP50: ratio(ours.sequential.del.p50, theirs.sequential.del.p50),
      sequentialDelP99: ratio(ours.sequential.del.p99, theirs.sequential.del.p99),
      concurrentAddP50: ratio(ours.concurrent.add.p50, theirs.concurrent.add.p50),
      concurrentAddP99: ratio(ours.concurrent.add.p99, theirs.concurrent.add.p99),
      concurrentDelP50: ratio(ours.concurrent.del.p50, theirs.concurrent.del.p50),
      concurrentDelP99: ratio(ours.concurrent.del.p99, theirs.concurrent.del.p99),
      concurrentAddWall: ratio(ours.concurrent.addWallMs, theirs.concurrent.addWallMs),
      concurrentDelWall: ratio(ours.concurrent.delWallMs, theirs.concurrent.delWallMs),
    };
    const result = {
      benchmark: "cni",
      instanceType: INSTANCE.type,
      sequential,
      concurrent,
      rounds,
      versionExecs,
      vpcCni: ours,
      ptpHostLocal: theirs,
      ratios,
      leftBehind: { links: leftBehind, agentAssigned: assignedAfter, hostLocalAllocations: hostLocalLeft },
    };
    return { result, table: formatTable(result) };
  } finally {
    driver?.close();
    for (const n of namespaces) await deleteNetns(n);
    await agent.stop();
    agent.clean();
    rmSync(dirname(agent.dir), { recursive: true, force: true });
    await run.down();
  }
}

function formatTable(r: any): string {
  const o = r.vpcCni;
  const t = r.ptpHostLocal;
  const q = r.ratios;
  const ms = (n: number) => n.toFixed(1);
  const x = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(2)}x`);
  const rows: [string, string, string, string][] = [
    ["", "vpc-cni", "ptp+host-local", "ratio"],
    [`cold start: VERSION exec p50 (ms, ${r.versionExecs} execs)`, ms(o.versionP50Ms), ms(t.versionP50Ms), x(q.versionP50)],
    [`  first VERSION exec (ms)`, ms(o.versionFirstMs), ms(t.versionFirstMs), x(ratio(o.versionFirstMs, t.versionFirstMs))],
    [`ADD sequential p50 (ms, ${r.sequential} pods)`, ms(o.sequential.add.p50), ms(t.sequential.add.p50), x(q.sequentialAddP50)],
    [`ADD sequential p99 (ms)`, ms(o.sequential.add.p99), ms(t.sequential.add.p99), x(q.sequentialAddP99)],
    [`DEL sequential p50 (ms)`, ms(o.sequential.del.p50), ms(t.sequential.del.p50), x(q.sequentialDelP50)],
    [`DEL sequential p99 (ms)`, ms(o.sequential.del.p99), ms(t.sequential.del.p99), x(q.sequentialDelP99)],
    [`ADD ${r.concurrent} at once p50 (ms, ${r.rounds} rounds)`, ms(o.concurrent.add.p50), ms(t.concurrent.add.p50), x(q.concurrentAddP50)],
    [`ADD ${r.concurrent} at once p99 (ms)`, ms(o.concurrent.add.p99), ms(t.concurrent.add.p99), x(q.concurrentAddP99)],
    [`DEL ${r.concurrent} at once p50 (ms)`, ms(o.concurrent.del.p50), ms(t.concurrent.del.p50), x(q.concurrentDelP50)],
    [`DEL ${r.concurrent} at once p99 (ms)`, ms(o.concurrent.del.p99), ms(t.concurrent.del.p99), x(q.concurrentDelP99)],
    [`  ${r.concurrent} ADDs, wall (ms, median round)`, ms(o.concurrent.addWallMs), ms(t.concurrent.addWallMs), x(q.concurrentAddWall)],
    [`  ${r.concurrent} DELs, wall (ms, median round)`, ms(o.concurrent.delWallMs), ms(t.concurrent.delWallMs), x(q.concurrentDelWall)],
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const left = r.leftBehind;
  const clean = left.links.length === 0 && left.agentAssigned === 0 && left.hostLocalAllocations === 0;
  const head = `cni (${r.instanceType} vpcsim node, agent with a warm pool; each exec timed spawn to exit, as a runtime runs it; ratio = vpc-cni / ptp)`;
  const tail = clean ? "  left behind: nothing (links, agent allocations, host-local allocations)" : `  LEFT BEHIND: ${JSON.stringify(left)}`;
  return [head, ...rows.map(([a, b, c, d]) => `  ${a.padEnd(w[0]!)}  ${b.padStart(w[1]!)}  ${c.padStart(w[2]!)}  ${d.padStart(w[3]!)}`), tail].join("\n");
}
