// vpc-cni-agent recovering from what happens to a node: kill -9 in the middle of allocation churn and a
// restart on the same state directory; ENIs and addresses changed through EC2 behind the agent's back
// (also with IMDS lagging EC2, on the realistic profile); SIGTERM. Each case checks the agent against
// EC2's own view (vpcsim status) and against the checkpoint it leaves on disk.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { AGENT_STATE_ROOT, AgentProcess, enisOf } from "./agent-harness.ts";
import { datapathUnavailable, runCommand, SimRun, SdkShell, VPCSIM, waitFor } from "./harness.ts";
import { CheckpointFile } from "../src/agent/datastore/checkpoint.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "2", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };
const INSTANCE_TAG = "node.k8s.amazonaws.com/instance_id";
const MUTATIONS = new Set([
  "AssignPrivateIpAddresses",
  "UnassignPrivateIpAddresses",
  "CreateNetworkInterface",
  "AttachNetworkInterface",
  "DetachNetworkInterface",
  "DeleteNetworkInterface",
  "ModifyNetworkInterfaceAttribute",
  "CreateTags",
  "DeleteTags",
]);

// ------------------------------------------------------------------------------------------------
// Views of the node: EC2's (vpcsim status) and the agent's (introspection /v1/enis).

/** The pod CIDRs EC2 shows on the node's ENIs: every secondary address as /32 and every prefix, by ENI. */
async function ec2Cidrs(run: SimRun, node: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await enisOf(run, node)) {
    for (const ip of e.privateIps.slice(1)) out.set(`${ip}/32`, e.id);
    for (const p of e.ipv4Prefixes) out.set(p, e.id);
  }
  return out;
}

interface PoolState {
  /** cidr -> ENI id */
  cidrs: Map<string, string>;
  /** pod name -> the addresses it holds */
  holders: Map<string, string[]>;
  /** address -> pod name */
  byAddress: Map<string, string>;
  enis: Map<string, { deviceNumber: number; routeTableId: number; excluded: boolean }>;
}

async function poolState(agent: AgentProcess): Promise<PoolState> {
  const doc = await agent.introspect("/v1/enis");
  const state: PoolState = { cidrs: new Map(), holders: new Map(), byAddress: new Map(), enis: new Map() };
  for (const card of Object.values<any>(doc)) {
    for (const eni of Object.values<any>(card.ENIs)) {
      state.enis.set(eni.ID, { deviceNumber: eni.DeviceNumber, routeTableId: eni.RouteTableID, excluded: eni.IsExcludedForPodIPs });
      for (const [cidr, info] of Object.entries<any>(eni.AvailableIPv4Cidrs)) {
        state.cidrs.set(cidr, eni.ID);
        for (const a of Object.values<any>(info.IPAddresses)) {
          if (a.IPAMKey.networkName === "") continue;
          const pod = a.IPAMMetadata.k8sPodName ?? "?";
          assert.equal(state.byAddress.has(a.Address), false, `${a.Address} listed twice`);
          state.byAddress.set(a.Address, pod);
          state.holders.set(pod, [...(state.holders.get(pod) ?? []), a.Address]);
        }
      }
    }
  }
  return state;
}

function diff(a: Iterable<string>, b: Iterable<string>): { onlyA: string[]; onlyB: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return { onlyA: [...sa].filter((x) => !sb.has(x)).sort(), onlyB: [...sb].filter((x) => !sa.has(x)).sort() };
}

/** Waits (bounded) until the agent's pool holds exactly the CIDRs EC2 shows on the node; fails with the difference. */
async function assertPoolMatchesEc2(run: SimRun, node: string, agent: AgentProcess, timeoutMs = 20_000): Promise<PoolState> {
  let last = { onlyA: [] as string[], onlyB: [] as string[] };
  try {
    return await waitFor(async () => {
      const ec2 = await ec2Cidrs(run, node);
      const pool = await poolState(agent);
      last = diff(ec2.keys(), pool.cidrs.keys());
      return last.onlyA.length === 0 && last.onlyB.length === 0 ? pool : undefined;
    }, timeoutMs);
  } catch {
    assert.fail(`the pool and EC2 disagree: only in EC2 (leaked) ${JSON.stringify(last.onlyA)}, only in the pool ${JSON.stringify(last.onlyB)}`);
  }
}

function addressOf(r: Awaited<ReturnType<AgentProcess["allocate"]>>): string {
  assert.equal(r.ok, true, r.ok ? "" : `allocate failed: ${r.error.code}: ${r.error.message}`);
  return r.ok ? r.reply.addresses[0]!.ipv4Addr : "";
}

function readCheckpoint(agent: AgentProcess): Map<string, string> {
  const data = new CheckpointFile(join(agent.dir, "ipam.json")).read();
  assert.ok(data, `no checkpoint in ${agent.dir}`);
  const out = new Map<string, string>();
  for (const e of data.allocations) {
    const pod = e.metadata.k8sPodName ?? "";
    assert.equal(out.has(pod), false, `${pod} twice in the checkpoint`);
    out.set(pod, e.ipv4 ?? "");
  }
  assert.equal(new Set(out.values()).size, out.size, `an address twice in the checkpoint: ${JSON.stringify([...out])}`);
  return out;
}

/** A small deterministic PRNG, so a failing churn can be replayed. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

async function callLog(run: SimRun): Promise<{ time: number; action: string; principal?: string; outcome: string }[]> {
  const r = await runCommand(VPCSIM, ["calls", "--run", run.name, "--json", "--last", "100000"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** Stops a test's agents, removes their state and takes the run down. */
async function tearDown(run: SimRun | undefined, agents: AgentProcess[]): Promise<void> {
  for (const a of agents) await a.stop();
  agents[0]?.clean();
  if (run) rmSync(join(AGENT_STATE_ROOT, run.name), { recursive: true, force: true });
  await run?.down();
}

async function hasLink(netns: string, name: string): Promise<boolean> {
  return (await runCommand("ip", ["-n", netns, "link", "show", name])).code === 0;
}

// ------------------------------------------------------------------------------------------------

describe("vpc-cni-agent: kill -9 during allocation churn, then restart", { skip }, () => {
  let run: SimRun;
  const agents: AgentProcess[] = [];

  before(async () => {
    run = await SimRun.up(["--instance", "churn=m5.large,a"]);
  });
  after(() => tearDown(run, agents));

  test("the same allocations after the restart, none given twice, none leaked, in-flight ones whole or absent", async (t) => {
    const first = await new AgentProcess(run, "churn", FAST).start();
    agents.push(first);
    await first.settled();
    const netns = (await run.instance("churn")).netns;

    type PodState =
      | { s: "none" }
      | { s: "allocated"; address: string }
      | { s: "released"; address: string }
      | { s: "in-flight-allocate" }
      | { s: "in-flight-release"; address: string };
    const pods = Array.from({ length: 40 }, (_, i) => `churn-${i}`);
    const state = new Map<string, PodState>(pods.map((p) => [p, { s: "none" }]));
    const busy = new Set<string>();
    const rand = prng(20240611);
    const MAX_HELD = 16;
    const MAX_OPS = 3000;
    const CRASH_AFTER = 150;
    let done = 0;
    let crashed = false;
    let dead = false; // an RPC found no agent: start nothing new
    let crash: Promise<void> | undefined;
    let noAddress = 0;
    const noAddressWhy = new Set<string>();

    const worker = async () => {
      while (!crashed && !dead && done < MAX_OPS) {
        const idle = pods.filter((p) => !busy.has(p));
        const pod = idle[rand(idle.length)]!;
        const st = state.get(pod)!;
        const held = [...state.values()].filter((x) => x.s === "allocated" || x.s === "in-flight-allocate").length;
        if (st.s !== "allocated" && held >= MAX_HELD) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        busy.add(pod);
        if (st.s === "allocated") {
          state.set(pod, { s: "in-flight-release", address: st.address });
          const r = await first.release(pod);
          if (r.ok) state.set(pod, { s: "released", address: st.address });
          else {
            dead = true;
            assert.ok(r.error.code === "unavailable" || r.error.code === "timeout", `release ${pod}: ${r.error.code} ${r.error.message}`);
          }
        } else {
          state.set(pod, { s: "in-flight-allocate" });
          const r = await first.allocate(pod);
          if (r.ok) state.set(pod, { s: "allocated", address: r.reply.addresses[0]!.ipv4Addr });
          else if (r.error.code === "no-address") {
            noAddress++;
            noAddressWhy.add(r.error.message.replace(/\d+/g, "N"));
            state.set(pod, st);
          } else {
            dead = true;
            assert.ok(r.error.code === "unavailable" || r.error.code === "timeout", `allocate ${pod}: ${r.error.code} ${r.error.message}`);
          }
        }
        busy.delete(pod);
        done++;
        // kill -9 while the workers keep calling: whatever is in flight then stays in flight.
        if (done === CRASH_AFTER) crash = first.crash().then(() => void (crashed = true));
        await new Promise((r) => setTimeout(r, rand(40)));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await crash;
    assert.ok(crashed, `the churn ended (${done} operations) before the kill`);

    const allocated = new Map<string, string>();
    const inFlightAllocate: string[] = [];
    const inFlightRelease = new Map<string, string>();
    const gone = new Set<string>();
    for (const [pod, st] of state) {
      if (st.s === "allocated") allocated.set(pod, st.address);
      else if (st.s === "in-flight-allocate") inFlightAllocate.push(pod);
      else if (st.s === "in-flight-release") inFlightRelease.set(pod, st.address);
      else gone.add(pod);
    }
    for (const why of noAddressWhy) t.diagnostic(`no address: ${why}`);
    t.diagnostic(`${done} operations, ${noAddress} 'no address'; at the kill: ${allocated.size} allocated, ${inFlightAllocate.length} allocations and ${inFlightRelease.size} releases in flight`);
    assert.ok(allocated.size >= 3, "the kill came with pods allocated");
    assert.equal(new Set(allocated.values()).size, allocated.size, "the RPC gave no address twice");

    // The checkpoint the killed agent left: every acknowledged allocation with its address, nothing released.
    const left = readCheckpoint(first);
    for (const [pod, address] of allocated) assert.equal(left.get(pod), address, `${pod} in the checkpoint left by kill -9`);
    for (const pod of gone) assert.equal(left.has(pod), false, `${pod} was released (or never allocated) but is in the checkpoint`);
    for (const [pod, address] of inFlightRelease) if (left.has(pod)) assert.equal(left.get(pod), address);

    // What the plugin would have left on the node: a veth for every pod that got its address, except one
    // pod that was deleted while no agent ran; the allocations in flight get a veth for every other one
    // (their plugin got as far as the veth, or not); releases in flight keep theirs (DEL removes it after).
    const [deleted, ...kept] = [...allocated.keys()];
    const withVeth = new Set([...kept, ...inFlightAllocate.filter((_, i) => i % 2 === 0), ...inFlightRelease.keys()]);
    for (const pod of withVeth) await first.addPodVeth(netns, pod);

    const second = await new AgentProcess(run, "churn", FAST).start();
    agents.push(second);
    await second.settled();
    const pool = await assertPoolMatchesEc2(run, "churn", second);

    for (const pod of kept) assert.deepEqual(pool.holders.get(pod), [allocated.get(pod)], `${pod} holds its address after the restart`);
    for (const [pod, addrs] of pool.holders) {
      assert.ok(withVeth.has(pod), `${pod} holds ${addrs} after the restart but has no veth`);
      assert.equal(addrs.length, 1, `${pod} holds ${addrs.length} addresses`);
    }
    for (const pod of inFlightAllocate) {
      const holds = pool.holders.get(pod);
      if (holds) assert.equal(holds[0], left.get(pod), `${pod} (in flight) holds what the checkpoint said`);
    }
    for (const [pod, address] of inFlightRelease) {
      const holds = pool.holders.get(pod);
      if (holds) assert.deepEqual(holds, [address], `${pod} (release in flight) holds its old address or none`);
    }
    // The pod deleted while the agent was down was pruned; its address is free, in the pool or given back.
    const deletedAddress = allocated.get(deleted!)!;
    assert.equal(pool.holders.has(deleted!), false, `${deleted} has no veth and must be pruned`);
    assert.equal(pool.byAddress.has(deletedAddress), false, `${deletedAddress} is free again`);
    assert.ok(
      second.logs.some((l) => l.includes("checkpoint restored") && l.includes(deletedAddress)),
      `the restore reports pruning ${deletedAddress}`,
    );

    // Retried ADDs get the same addresses; new pods get addresses no one holds; the pool still matches EC2.
    for (const pod of kept) assert.equal(addressOf(await second.allocate(pod)), allocated.get(pod), `a retried ADD of ${pod}`);
    const held = new Set(pool.byAddress.keys());
    for (let i = 0; i < 4; i++) {
      const a = addressOf(await second.allocate(`after-${i}`));
      assert.equal(held.has(a), false, `after-${i} got ${a}, which a restored pod holds`);
      held.add(a);
    }
    await second.settled();
    const final = await assertPoolMatchesEc2(run, "churn", second);
    assert.equal(final.byAddress.size, held.size);
    const stray = (await run.status()).availableEnis;
    if (stray.length > 0) t.diagnostic(`ENIs left available by the kill (leaked-ENI clean-up takes them): ${stray.map((e) => e.id).join(", ")}`);
  });
});

describe("vpc-cni-agent: EC2 changed behind the agent's back", { skip }, () => {
  let run: SimRun;
  let agent: AgentProcess;
  let sdk: SdkShell;

  before(async () => {
    run = await SimRun.up(["--instance", "rec=m5.large,a"]);
    agent = await new AgentProcess(run, "rec", FAST).start();
    await agent.settled();
    sdk = run.sdk("rec");
  });
  after(async () => {
    await agent?.stop();
    agent?.clean();
    if (run) rmSync(join(AGENT_STATE_ROOT, run.name), { recursive: true, force: true });
    await run?.down();
  });

  test("an ENI attached, addresses assigned and unassigned, an ENI detached and deleted: all reconciled", async () => {
    const node = await run.instance("rec");
    const primary = node.enis.find((e) => e.deviceIndex === 0)!;
    const described = await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [primary.id] });
    const groups = described.NetworkInterfaces[0].Groups.map((g: { GroupId: string }) => g.GroupId);

    // 1. An ENI created and attached outside the agent, tagged for this instance: adopted with its
    //    addresses and its host networking (route table device+1).
    const created = await sdk.ok("CreateNetworkInterface", {
      SubnetId: node.subnetId,
      Groups: groups,
      SecondaryPrivateIpAddressCount: 2,
      TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: INSTANCE_TAG, Value: node.id }] }],
    });
    const eni = created.NetworkInterface;
    const eniId: string = eni.NetworkInterfaceId;
    const initial: string[] = eni.PrivateIpAddresses.filter((p: any) => !p.Primary).map((p: any) => p.PrivateIpAddress);
    assert.equal(initial.length, 2);
    const attached = await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: eniId, InstanceId: node.id, DeviceIndex: 2 });
    await waitFor(async () => {
      const pool = await poolState(agent);
      return initial.every((ip) => pool.cidrs.get(`${ip}/32`) === eniId) ? true : undefined;
    }, 20_000);
    const adopted = (await poolState(agent)).enis.get(eniId)!;
    assert.deepEqual(adopted, { deviceNumber: 2, routeTableId: 3, excluded: false });
    const table3 = (await runCommand("ip", ["-n", node.netns, "route", "show", "table", "3"])).stdout;
    assert.match(table3, /^default via 10\.0\.0\.1 dev eth2/m, `table 3 of the adopted ENI: ${table3}`);
    assert.match((await runCommand("ip", ["-n", node.netns, "rule"])).stdout, new RegExp(`32765:\\s+from ${eni.PrivateIpAddress.replaceAll(".", "\\.")} lookup 3`));
    assert.ok(agent.logs.some((l) => l.includes(`ENI ${eniId} was attached outside the agent`)));

    // 2. Addresses assigned behind its back to one of its ENIs join the pool.
    const assigned = await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 2 });
    const extra: string[] = assigned.AssignedPrivateIpAddresses.map((a: any) => a.PrivateIpAddress);
    assert.equal(extra.length, 2);
    await waitFor(async () => {
      const pool = await poolState(agent);
      return extra.every((ip) => pool.cidrs.get(`${ip}/32`) === eniId) ? true : undefined;
    }, 20_000);
    await assertPoolMatchesEc2(run, "rec", agent);

    // 3. An address unassigned behind its back that no pod holds leaves the pool.
    const freeGone = initial[0]!;
    await sdk.ok("UnassignPrivateIpAddresses", { NetworkInterfaceId: eniId, PrivateIpAddresses: [freeGone] });
    await waitFor(async () => ((await poolState(agent)).cidrs.has(`${freeGone}/32`) ? undefined : true), 20_000);
    await assertPoolMatchesEc2(run, "rec", agent);

    // 4. An address a pod holds, unassigned behind its back: kept for the pod and reported, until its DEL.
    const podAddress = addressOf(await agent.allocate("held-1"));
    const holderEni = (await poolState(agent)).cidrs.get(`${podAddress}/32`)!;
    await sdk.ok("UnassignPrivateIpAddresses", { NetworkInterfaceId: holderEni, PrivateIpAddresses: [podAddress] });
    await waitFor(async () => (agent.logs.some((l) => l.includes(`${podAddress}/32 was unassigned from ${holderEni} outside the agent while a pod holds an address in it`)) ? true : undefined), 20_000);
    const during = await poolState(agent);
    assert.deepEqual(during.holders.get("held-1"), [podAddress], "the pod keeps its address");
    assert.equal(addressOf(await agent.allocate("held-1")), podAddress, "a retried ADD still gets it");
    // Other pods never get it.
    const others = await Promise.all([0, 1, 2].map((i) => agent.allocate(`other-${i}`)));
    for (const r of others) assert.notEqual(addressOf(r), podAddress);
    for (let i = 0; i < 3; i++) assert.equal((await agent.release(`other-${i}`)).ok, true);
    const rel = await agent.release("held-1");
    assert.equal(rel.ok && rel.reply.addresses[0]?.ipv4Addr, podAddress);
    await waitFor(async () => ((await poolState(agent)).cidrs.has(`${podAddress}/32`) ? undefined : true), 20_000);
    await assertPoolMatchesEc2(run, "rec", agent);

    // 5. The adopted ENI (no pods on it) detached and deleted behind the agent's back leaves the pool,
    //    and its host networking goes with it.
    assert.equal([...(await poolState(agent)).byAddress.keys()].length, 0, "no pod left");
    await sdk.ok("DetachNetworkInterface", { AttachmentId: attached.AttachmentId });
    await waitFor(async () => {
      const d = await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eniId] });
      return d.NetworkInterfaces[0].Status === "available" ? true : undefined;
    }, 20_000);
    await sdk.ok("DeleteNetworkInterface", { NetworkInterfaceId: eniId });
    await waitFor(async () => ((await poolState(agent)).enis.has(eniId) ? undefined : true), 20_000);
    await waitFor(async () => (agent.logs.some((l) => l.includes(`ENI ${eniId} is gone from this instance in EC2`)) ? true : undefined));
    assert.doesNotMatch((await runCommand("ip", ["-n", node.netns, "route", "show", "table", "3"])).stdout, /default/, "table 3 torn down");
    await agent.settled();
    await assertPoolMatchesEc2(run, "rec", agent);
  });
});

describe("vpc-cni-agent: IMDS lagging EC2 (realistic profile)", { skip }, () => {
  let run: SimRun;
  const agents: AgentProcess[] = [];
  let sdk: SdkShell;

  before(async () => {
    run = await SimRun.up(["--profile", "realistic", "--instance", "lag=m5.large,a"]);
    agents.push(await new AgentProcess(run, "lag", FAST).start());
    await agents[0]!.settled(60_000);
    sdk = run.sdk("lag");
  });
  after(() => tearDown(run, agents));

  test("changes behind its back, growth and a restart: never an address EC2 lacks, never one dropped that exists", async (t) => {
    let agent = agents[0]!;
    const node = await run.instance("lag");
    const unassignedByTest = new Set<string>();

    // A sampler runs throughout: the pool never holds a CIDR EC2 has not had, and a CIDR once in the pool
    // never leaves it while EC2 keeps it on the node (the only releases here are the test's). Each phase
    // below ends only once the sampler has compared pool and EC2 in it, however slow the machine.
    const violations: string[] = [];
    const everInPool = new Set<string>();
    let sampling = true;
    let samples = 0;
    const sampledPhases: string[] = [];
    const phaseSampled = async (phase: string) => {
      const before = samples;
      await waitFor(async () => (samples > before ? true : undefined), 60_000);
      sampledPhases.push(phase);
    };
    const sampler = (async () => {
      while (sampling) {
        const before = await ec2Cidrs(run, "lag");
        let pool: PoolState;
        try {
          // Between the kill and the end of the restart's initialisation the pool is not the agent's word.
          const current = agents.at(-1)!;
          if ((await current.introspect("/v1/health")).status !== "serving") throw new Error("not serving");
          pool = await poolState(current);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const afterwards = await ec2Cidrs(run, "lag");
        samples++;
        for (const c of pool.cidrs.keys()) {
          everInPool.add(c);
          if (!before.has(c) && !afterwards.has(c) && !unassignedByTest.has(c)) violations.push(`pool holds ${c}, which EC2 does not have`);
        }
        for (const c of everInPool) {
          if (!pool.cidrs.has(c) && before.has(c) && afterwards.has(c)) violations.push(`pool dropped ${c}, which EC2 has on ${before.get(c)}`);
        }
      }
    })();

    try {
      const primary = node.enis.find((e) => e.deviceIndex === 0)!;
      const described = await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [primary.id] });
      const groups = described.NetworkInterfaces[0].Groups.map((g: { GroupId: string }) => g.GroupId);

      // An ENI attached behind its back (attach takes seconds; IMDS trails), addresses added to it while
      // IMDS still lags.
      const created = await sdk.ok("CreateNetworkInterface", {
        SubnetId: node.subnetId,
        Groups: groups,
        SecondaryPrivateIpAddressCount: 3,
        TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: INSTANCE_TAG, Value: node.id }] }],
      });
      const eniId: string = created.NetworkInterface.NetworkInterfaceId;
      await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: eniId, InstanceId: node.id, DeviceIndex: 2 });
      const extra = await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 2 });
      assert.equal(extra.AssignedPrivateIpAddresses.length, 2);
      await waitFor(async () => {
        const ec2 = await ec2Cidrs(run, "lag");
        const pool = await poolState(agent);
        const onEni = [...ec2].filter(([, id]) => id === eniId).map(([c]) => c);
        return onEni.length === 5 && onEni.every((c) => pool.cidrs.get(c) === eniId) ? true : undefined;
      }, 60_000);
      const table3 = (await runCommand("ip", ["-n", node.netns, "route", "show", "table", "3"])).stdout;
      assert.match(table3, /^default via 10\.0\.0\.1 dev eth2/m);
      await phaseSampled("an ENI attached behind its back");

      // Growth by the agent itself while IMDS lags: 20 pods on 3 ENIs; every address handed out is one EC2 has.
      const given = new Map<string, string>();
      const checkGiven = async (pod: string, r: Awaited<ReturnType<AgentProcess["allocate"]>>) => {
        const a = addressOf(r);
        const ec2 = await ec2Cidrs(run, "lag");
        assert.ok(ec2.has(`${a}/32`), `${pod} got ${a}, which EC2 does not have on the node`);
        given.set(pod, a);
      };
      const firstWave = Array.from({ length: 14 }, (_, i) => `lag-${i}`);
      await Promise.all(firstWave.map(async (p) => checkGiven(p, await agent.allocate(p))));
      // The pool grows (an ENI created, attached after seconds); the next wave lands partly on it.
      for (const pod of given.keys()) await agent.addPodVeth(node.netns, pod);
      const pid = await agent.agentPid();
      await phaseSampled("growth while IMDS lags");
      // The first wave left the pool short: the agent creates an ENI (attached after seconds). As soon as it
      // serves, pods are put on it, one at a time, until one lands there.
      const grown = await waitFor(async () => {
        const p = await poolState(agent);
        return [...p.enis.keys()].find((id) => id !== eniId && id !== node.enis[0]!.id);
      }, 60_000);
      for (let i = 14; i < 27; i++) {
        const p = `lag-${i}`;
        const a = addressOf(await agent.allocate(p));
        await agent.addPodVeth(node.netns, p);
        given.set(p, a);
        if ((await poolState(agent)).cidrs.get(`${a}/32`) === grown) break;
      }
      // kill -9 right away, while IMDS may not show the newest ENI yet, and restart at once.
      process.kill(pid, "SIGKILL");
      await agent.stop();
      const ec2Now = await ec2Cidrs(run, "lag");
      for (const [pod, a] of given) assert.ok(ec2Now.has(`${a}/32`), `${pod} got ${a}, which EC2 does not have on the node`);
      assert.equal(new Set(given.values()).size, given.size, "no address given twice");
      agent = await new AgentProcess(run, "lag", FAST).start();
      agents.push(agent);
      const fromEc2 = agent.logs.filter((l) => l.includes("not yet in instance metadata"));
      t.diagnostic(`${given.size} pods, the last on ${grown}; ${fromEc2.length > 0 ? `IMDS lagged at the restart: ${fromEc2.join(" ")}` : "IMDS had caught up at the restart"}`);
      const restored = await poolState(agent);
      for (const [pod, a] of given) assert.deepEqual(restored.holders.get(pod), [a], `${pod} keeps ${a} across the restart`);
      for (let i = 0; i < 3; i++) {
        const a = addressOf(await agent.allocate(`post-${i}`));
        assert.equal(restored.byAddress.has(a), false, `post-${i} got ${a}, which a restored pod holds`);
      }
      await phaseSampled("after the kill -9 and restart");

      // An address (free) unassigned behind the agent's back leaves the pool once EC2 confirms.
      const pool = await poolState(agent);
      const [free, freeEni] = [...pool.cidrs].find(([c]) => !pool.byAddress.has(c.replace("/32", ""))) ?? [];
      assert.ok(free && freeEni, "a free address is left");
      {
        unassignedByTest.add(free);
        await sdk.ok("UnassignPrivateIpAddresses", { NetworkInterfaceId: freeEni, PrivateIpAddresses: [free.replace("/32", "")] });
        await waitFor(async () => ((await poolState(agent)).cidrs.has(free) ? undefined : true), 30_000);
      }
      // The node is at its ENI limit, short of WARM_ENI_TARGET for good, so no "at target": the pool and
      // EC2 agreeing is the end state.
      await phaseSampled("an address unassigned behind its back");
      await assertPoolMatchesEc2(run, "lag", agent, 60_000);
    } finally {
      sampling = false;
      await sampler;
    }
    t.diagnostic(`${samples} samples of pool and EC2`);
    assert.deepEqual(sampledPhases, ["an ENI attached behind its back", "growth while IMDS lags", "after the kill -9 and restart", "an address unassigned behind its back"]);
    assert.deepEqual(violations, []);
  });
});

describe("vpc-cni-agent: SIGTERM", { skip }, () => {
  let run: SimRun;
  const agents: AgentProcess[] = [];

  before(async () => {
    run = await SimRun.up(["--instance", "term=m5.large,a"]);
  });
  after(() => tearDown(run, agents));

  test("no EC2 mutation after SIGTERM, the checkpoint keeps the allocations, a restart adopts them", async () => {
    // WARM_IP_TARGET so that released addresses are given back after their cooldown: work SIGTERM must stop.
    const env = { ...FAST, WARM_IP_TARGET: "2", MINIMUM_IP_TARGET: "3" };
    const first = await new AgentProcess(run, "term", env).start();
    agents.push(first);
    await first.settled();
    const node = await run.instance("term");
    const pods = Array.from({ length: 12 }, (_, i) => `term-${i}`);
    const addresses = new Map<string, string>();
    for (const r of await Promise.all(pods.map(async (p) => [p, await first.allocate(p)] as const))) addresses.set(r[0], addressOf(r[1]));
    await first.settled();
    const gone = pods.slice(0, 8);
    const stay = pods.slice(8);
    for (const p of gone) assert.equal((await first.release(p)).ok, true);
    const ec2Before = await ec2Cidrs(run, "term");
    const mine = (e: { principal?: string; action: string }) => e.principal === node.id && MUTATIONS.has(e.action);
    const mutationsBefore = (await callLog(run)).filter(mine).length;

    const sentAt = Date.now();
    assert.equal(await first.stop(), 0, "a clean exit on SIGTERM");
    assert.ok(first.logs.some((l) => l.includes("received SIGTERM")));
    // Well past the cooldown (2 s) and shrink interval (1 s), when a running agent would have given the 8
    // released addresses back.
    await new Promise((r) => setTimeout(r, 4000));
    const after = (await callLog(run)).filter(mine);
    assert.equal(after.length, mutationsBefore, `EC2 mutations after SIGTERM: ${JSON.stringify(after.filter((e) => e.time >= sentAt))}`);
    assert.deepEqual([...(await ec2Cidrs(run, "term")).keys()].sort(), [...ec2Before.keys()].sort(), "EC2 unchanged");

    const left = readCheckpoint(first);
    assert.deepEqual(new Map([...left].sort()), new Map(stay.map((p) => [p, addresses.get(p)!] as [string, string]).sort()));

    for (const p of stay) await first.addPodVeth(node.netns, p);
    const second = await new AgentProcess(run, "term", env).start();
    agents.push(second);
    const pool = await poolState(second);
    for (const p of stay) assert.deepEqual(pool.holders.get(p), [addresses.get(p)], `${p} adopted`);
    assert.equal(pool.holders.size, stay.length);
    // The restarted agent does what the stopped one did not: give back what the targets do not need.
    await waitFor(async () => ((await callLog(run)).filter(mine).length > mutationsBefore ? true : undefined), 20_000);
    await second.settled();
    const final = await assertPoolMatchesEc2(run, "term", second);
    for (const p of stay) assert.deepEqual(final.holders.get(p), [addresses.get(p)]);
  });
});
