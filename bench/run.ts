// vpcsim benchmarks (root; each bounded in time and count, each cleans up after itself):
//   ec2-throughput  EC2 calls/s the emulator serves with throttling off, driven by the unmodified SDK
//                   from inside an instance, set against the sustained rate EC2 grants one account
//                   for the same call mix (the emulator must never be what limits our benchmarks)
//   bring-up        time to bring up a VPC with 50 instances (namespaces, veths, routes) and take it down
//   agent           vpc-cni-agent's RSS and CPU at idle and under churn (100 pod starts and stops), and its
//                   EC2 calls per 100 pod starts against a model of the reference's pool (bench/agent.ts);
//                   run from its bundle and from src/, one after the other, footprints set side by side
//                   (--agent-variants bundle for the shipped one only)
//   cni             the plugin's ADD and DEL latency (p50, p99; sequential and 30 at once) and cold start
//                   against Debian's ptp + host-local on the same node, as ratios (bench/cni.ts)
// Usage: npm run bench [-- --only ec2-throughput|bring-up|agent|cni] [--seconds N] [--instances N]
//                      [--agent-variants bundle,source]
// Prints a table and one JSON line per benchmark.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AGENT_VARIANTS, runAgentBenches, type AgentVariant } from "./agent.ts";
import { runCniBench } from "./cni.ts";

const ROOT = join(import.meta.dirname, "..");
const VPCSIM = join(ROOT, "bin", "vpcsim");

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "16" },
    instances: { type: "string", default: "50" },
    "agent-variants": { type: "string", default: AGENT_VARIANTS.join(",") },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const instanceCount = Number(values.instances);
const agentVariants = values["agent-variants"].split(",").filter(Boolean) as AgentVariant[];
if (agentVariants.length === 0 || agentVariants.some((v) => !AGENT_VARIANTS.includes(v))) {
  console.error(`bench: --agent-variants is a list of ${AGENT_VARIANTS.join(", ")}`);
  process.exit(2);
}
if (!(seconds >= 1 && seconds <= 60) || !(concurrency >= 1 && concurrency <= 64) || !(instanceCount >= 1 && instanceCount <= 200)) {
  console.error("bench: --seconds 1..60, --concurrency 1..64, --instances 1..200");
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("bench: needs root (it brings up vpcsim runs)");
  process.exit(1);
}

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const runName = () => `b${randomBytes(3).toString("hex")}`;

// EC2's sustained per-account rate for this mix (field-facts §3.4 refill rates): per loop, one
// Assign + one Unassign (5/s each bucket) and two Describes (20/s). The loop is bounded by the
// mutating buckets: 5 loops/s => 20 calls/s.
const EC2_SUSTAINED_CALLS_PER_SECOND = 20;

async function ec2Throughput() {
  const name = runName();
  await must(VPCSIM, ["up", "--run", name, "--json", "--instance", "load=c5.18xlarge,a"]);
  try {
    const out = await must(VPCSIM, ["exec", "--run", name, "load", "--", process.execPath, join(ROOT, "bench/fixtures/ec2-load.ts"), String(seconds), String(concurrency)]);
    const r = JSON.parse(out.trim().split("\n").pop()!) as { calls: number; errors: number; callsPerSecond: number; p50ms: number; p99ms: number };
    return {
      benchmark: "ec2-throughput",
      concurrency,
      seconds,
      calls: r.calls,
      errors: r.errors,
      callsPerSecond: Math.round(r.callsPerSecond),
      p50ms: Number(r.p50ms.toFixed(2)),
      p99ms: Number(r.p99ms.toFixed(2)),
      ec2SustainedCallsPerSecond: EC2_SUSTAINED_CALLS_PER_SECOND,
      ratioToEc2: Number((r.callsPerSecond / EC2_SUSTAINED_CALLS_PER_SECOND).toFixed(1)),
    };
  } finally {
    await sh(VPCSIM, ["down", "--run", name]);
  }
}

async function bringUp() {
  const name = runName();
  const args = ["up", "--run", name, "--json", "--subnet", "a=us-east-1a,10.0.0.0/20", "--subnet", "b=us-east-1b,10.0.16.0/20"];
  for (let i = 0; i < instanceCount; i++) args.push("--instance", `n${i}=m5.large,${i % 2 === 0 ? "a" : "b"}${i % 10 === 0 ? ",public" : ""}`);
  const start = performance.now();
  try {
    await must(VPCSIM, args);
    const upSeconds = (performance.now() - start) / 1000;
    const downStart = performance.now();
    await must(VPCSIM, ["down", "--run", name]);
    const downSeconds = (performance.now() - downStart) / 1000;
    return { benchmark: "bring-up", instances: instanceCount, upSeconds: Number(upSeconds.toFixed(2)), perInstanceMs: Math.round((upSeconds * 1000) / instanceCount), downSeconds: Number(downSeconds.toFixed(2)) };
  } catch (err) {
    await sh(VPCSIM, ["down", "--run", name]);
    throw err;
  }
}

const results: Record<string, unknown>[] = [];
if (!values.only || values.only === "ec2-throughput") results.push(await ec2Throughput());
if (!values.only || values.only === "bring-up") results.push(await bringUp());
const tables = new Map<Record<string, unknown>, string>();
if (!values.only || values.only === "agent") {
  const { results: agentResults, table } = await runAgentBenches(agentVariants);
  tables.set(agentResults[0]!, table);
  results.push(...agentResults);
}
if (!values.only || values.only === "cni") {
  const { result, table } = await runCniBench();
  tables.set(result, table);
  results.push(result);
}
for (const r of results) {
  if (r.benchmark === "ec2-throughput") {
    console.log(`ec2-throughput: ${r.callsPerSecond} calls/s (${r.concurrency} callers, ${r.seconds}s, ${r.errors} errors), p50 ${r.p50ms} ms, p99 ${r.p99ms} ms; ` + `${r.ratioToEc2}x the sustained rate EC2 grants an account for this mix (${r.ec2SustainedCallsPerSecond}/s)`);
  } else if (r.benchmark === "agent" || r.benchmark === "agent-footprint" || r.benchmark === "cni") {
    if (tables.has(r)) console.log(tables.get(r));
  } else {
    console.log(`bring-up: ${r.instances} instances up in ${r.upSeconds} s (${r.perInstanceMs} ms each), down in ${r.downSeconds} s`);
  }
}
for (const r of results) console.log(JSON.stringify(r));
