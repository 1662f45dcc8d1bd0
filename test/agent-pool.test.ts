// vpc-cni-agent on vpcsim nodes: the warm pool it builds at start-up for each target setting, the host
// networking it lays down, allocation past the node's capacity, shrinking after cooldown, and the EC2
// calls it makes to do so.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AgentProcess, callCounts, enisOf } from "./agent-harness.ts";
import { datapathUnavailable, runCommand, SimRun, ROOT, waitFor } from "./harness.ts";
import { join } from "node:path";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "2", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };

describe("vpc-cni-agent: start-up pool per target setting", { skip }, () => {
  let run: SimRun;
  const agents = new Map<string, AgentProcess>();
  // node name -> [instance type, environment, expected ENIs as "secondary addresses + prefixes" per ENI]
  const cases: Record<string, [string, Record<string, string>, number[]]> = {};
  // Every instance type of the issue under each target combination (reference §8's rules):
  // WARM_ENI_TARGET=1 keeps one ENI's worth free; WARM_IP_TARGET=2 + MINIMUM_IP_TARGET=5 gives 5 on
  // the primary ENI; prefix delegation with WARM_PREFIX_TARGET=1, or with WARM_IP_TARGET=1 +
  // MINIMUM_IP_TARGET=1, one /28.
  const combos: [string, Record<string, string>, (perEni: number) => number[]][] = [
    ["eni", {}, (n) => [n]],
    ["ip", { WARM_IP_TARGET: "2", MINIMUM_IP_TARGET: "5" }, () => [5]],
    ["pd", { ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "1" }, () => [1]],
    ["pdip", { ENABLE_PREFIX_DELEGATION: "true", WARM_IP_TARGET: "1", MINIMUM_IP_TARGET: "1" }, () => [1]],
  ];
  for (const [short, type, perEni] of [["m5l", "m5.large", 9], ["t3m", "t3.medium", 5], ["c5x", "c5.18xlarge", 49]] as const) {
    for (const [combo, env, expect] of combos) cases[`${short}-${combo}`] = [type, env, expect(perEni)];
  }
  cases["c5x-eni2"] = ["c5.18xlarge", { WARM_ENI_TARGET: "2" }, [49, 49]];

  before(async () => {
    const args = Object.entries(cases).flatMap(([name, [type]]) => ["--instance", `${name}=${type},a`]);
    run = await SimRun.up(["--subnet", "a=us-east-1a,10.0.0.0/18", ...args]);
    await Promise.all(Object.entries(cases).map(async ([name, [, env]]) => agents.set(name, await new AgentProcess(run, name, env).start())));
  });
  after(async () => {
    for (const a of agents.values()) {
      await a.stop();
      a.clean();
    }
    await run?.down();
  });

  for (const [name, [type, env, expected]] of Object.entries(cases)) {
    test(`${type} with ${JSON.stringify(env)}: ${expected.length} ENI(s) holding ${expected.join(" + ")}`, async () => {
      const agent = agents.get(name)!;
      await agent.settled();
      const enis = await enisOf(run, name);
      assert.deepEqual(
        enis.map((e) => e.privateIps.length - 1 + e.ipv4Prefixes.length),
        expected,
        `EC2 shows ${JSON.stringify(enis.map((e) => ({ ips: e.privateIps.length, prefixes: e.ipv4Prefixes })))}`,
      );
      // The agent's view is EC2's.
      const pool = await agent.introspect("/v1/pool");
      const perPrefix = env.ENABLE_PREFIX_DELEGATION ? 16 : 1;
      assert.equal(pool.stats.total, expected.reduce((a, b) => a + b, 0) * perPrefix);
      for (const e of enis) assert.equal(e.attachment === null || e.attachment === "attached", true);
    });
  }

  test("host networking as the reference lays it out", async () => {
    const node = await run.instance("m5l-eni");
    const rules = (await runCommand("ip", ["-n", node.netns, "rule"])).stdout;
    assert.match(rules, /^1024:\s+from all fwmark 0x80\/0x80 lookup main/m);
    const ipt = (await runCommand("ip", ["netns", "exec", node.netns, "iptables-save", "-t", "nat"])).stdout;
    assert.match(ipt, /-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0/);
    assert.match(ipt, /-A AWS-SNAT-CHAIN-0 -d 10\.0\.0\.0\/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN/);
    assert.match(ipt, new RegExp(`-j SNAT --to-source ${node.privateIp.replaceAll(".", "\\.")} --random-fully`));
    const c5 = await run.instance("c5x-eni2");
    const eth1 = c5.enis.find((e) => e.deviceIndex === 1)!;
    const table2 = (await runCommand("ip", ["-n", c5.netns, "route", "show", "table", "2"])).stdout;
    assert.match(table2, /^default via 10\.0\.0\.1 dev eth1/m);
    assert.match((await runCommand("ip", ["-n", c5.netns, "rule"])).stdout, new RegExp(`32765:\\s+from ${eth1.privateIps[0]!.replaceAll(".", "\\.")} lookup 2`));
    const link = (await runCommand("ip", ["-n", c5.netns, "-o", "link", "show", "eth1"])).stdout;
    assert.match(link, /state UP/);
    assert.match(link, /mtu 9001/);
  });

  test("every call the agents made was a success: no throttling, no error", async () => {
    const counts = await callCounts(run);
    for (const [action, c] of Object.entries(counts)) assert.deepEqual(c.errors, {}, `${action}: ${JSON.stringify(c.errors)}`);
  });
});

describe("vpc-cni-agent: capacity, release and shrink on m5.xlarge", { skip }, () => {
  let run: SimRun;
  let agent: AgentProcess;

  before(async () => {
    run = await SimRun.up(["--instance", "node=m5.xlarge,a"]);
    agent = await new AgentProcess(run, "node", FAST).start();
    await agent.settled();
  });
  after(async () => {
    await agent?.stop();
    agent?.clean();
    await run?.down();
  });

  test("56 pods fill 4 ENIs; the 57th gets a clear 'no address'; releasing all shrinks back to target", async () => {
    const pods = Array.from({ length: 56 }, (_, i) => `pod-${i}`);
    const results = await Promise.all(pods.map((p) => agent.allocate(p)));
    const failures = results.filter((r) => !r.ok);
    assert.deepEqual(failures, []);
    const addresses = results.map((r) => (r.ok ? r.reply.addresses[0]!.ipv4Addr : ""));
    assert.equal(new Set(addresses).size, 56, "no address given twice");
    const enis = await enisOf(run, "node");
    assert.equal(enis.length, 4);
    for (const e of enis) assert.equal(e.privateIps.length, 15, "every ENI full: 14 for pods + its primary");
    for (const r of results) {
      const a = r.ok ? r.reply.addresses[0]! : undefined;
      const eni = enis.find((e) => e.privateIps.includes(a!.ipv4Addr))!;
      assert.equal(a!.deviceNumber, eni.deviceIndex, "the device number given is the ENI's");
      assert.equal(a!.routeTableId, eni.deviceIndex === 0 ? 254 : eni.deviceIndex! + 1);
    }

    const refused = await agent.allocate("one-too-many");
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? "" : refused.error.code, "no-address");
    assert.match(refused.ok ? "" : refused.error.message, /no address/);

    // A retried ADD of a pod that has its address gets the same one.
    const again = await agent.allocate("pod-7");
    assert.equal(again.ok && again.reply.addresses[0]!.ipv4Addr, addresses[7]);

    for (const p of pods) assert.equal((await agent.release(p)).ok, true);
    const unknown = await agent.release("never-existed");
    assert.equal(unknown.ok && unknown.reply.addresses.length, 0, "DEL of an unknown pod succeeds with nothing");

    // After the cooldown the pool returns to WARM_ENI_TARGET=1: the primary ENI's 14 addresses.
    await waitFor(async () => {
      const e = await enisOf(run, "node");
      return e.length === 1 && e[0]!.privateIps.length === 15 ? true : undefined;
    }, 30_000);
    const pool = await agent.settled();
    assert.equal(pool.stats.total, 14);
    assert.equal((await run.status()).availableEnis.length, 0, "freed ENIs are deleted, not left available");

    const counts = await callCounts(run);
    const n = (a: string) => counts[a]?.total ?? 0;
    assert.equal(n("CreateNetworkInterface"), 3);
    assert.equal(n("AttachNetworkInterface"), 3);
    assert.equal(n("DetachNetworkInterface"), 3);
    assert.equal(n("DeleteNetworkInterface"), 3);
    assert.equal(n("UnassignPrivateIpAddresses"), 0, "whole ENIs go back, no address by address");
    assert.ok(n("AssignPrivateIpAddresses") <= 1, `only the primary ENI is filled by Assign: ${n("AssignPrivateIpAddresses")}`);
    for (const [action, c] of Object.entries(counts)) assert.deepEqual(c.errors, {}, action);
  });
});

describe("vpc-cni-agent: configuration", () => {
  test("every invalid variable is named in one message and nothing starts", async () => {
    const env = { ...process.env, WARM_IP_TARGET: "lots", AWS_VPC_ENI_MTU: "20000", AWS_VPC_K8S_CNI_EXTERNALSNAT: "maybe", ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "0" };
    const r = await runCommand(join(ROOT, "bin", "vpc-cni-agent"), [], { env });
    assert.equal(r.code, 1);
    for (const v of ["WARM_IP_TARGET=\"lots\"", "AWS_VPC_ENI_MTU=\"20000\"", "AWS_VPC_K8S_CNI_EXTERNALSNAT=\"maybe\""]) assert.ok(r.stderr.includes(v), `${v} in: ${r.stderr}`);
    assert.match(r.stderr, /nothing was started/);
  });

  test("usage errors and help", async () => {
    const bad = await runCommand(join(ROOT, "bin", "vpc-cni-agent"), ["frobnicate"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command 'frobnicate'/);
    const help = await runCommand(join(ROOT, "bin", "vpc-cni-agent"), ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /WARM_ENI_TARGET/);
    const pods = await runCommand(join(ROOT, "bin", "vpc-cni-agent"), ["max-pods", "--instance-type", "m5.xlarge"]);
    assert.equal(pods.stdout.trim(), "58");
  });
});
