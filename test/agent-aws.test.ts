// The agent's AWS layer (src/aws) against vpcsim: a fixture (test/fixtures/aws-layer.ts) runs inside
// an instance and drives the layer through the unmodified SDK; we assert on what it reports and on
// vpcsim's own view (status and the EC2 call log).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { datapathUnavailable, ROOT, SimRun } from "./harness.ts";

const skip = datapathUnavailable();
if (skip) console.log(`# agent-aws: skipped: ${skip}`);

interface FixtureEvent {
  api: string;
  fn: string;
  ok: boolean;
  errorCode?: string;
  attempt: number;
  budgetWaitMs: number;
}

describe("agent AWS layer against vpcsim", { skip }, () => {
  let run: SimRun;
  let node: Awaited<ReturnType<SimRun["instance"]>>;

  before(async () => {
    run = await SimRun.up(["--subnet", "a=us-east-1a,10.0.0.0/20", "--instance", "node=m5.xlarge,a"]);
    node = await run.instance("node");
  });
  after(async () => {
    await run?.down();
  });

  /** Runs a scenario of the fixture inside the instance; returns its result and the EC2 calls it observed. */
  const fixture = async (scenario: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ result: any; events: FixtureEvent[] }> => {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const r = await run.exec("node", ["env", ...envArgs, process.execPath, join(ROOT, "test/fixtures/aws-layer.ts"), scenario, ...args]);
    let doc: { ok: boolean; result?: unknown; error?: { message: string; stack?: string }; events: FixtureEvent[] };
    try {
      doc = JSON.parse(r.stdout);
    } catch {
      throw new Error(`fixture ${scenario} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    assert.ok(doc.ok, `fixture ${scenario} failed: ${doc.error?.stack ?? doc.error?.message}\n${r.stderr}`);
    return { result: doc.result, events: doc.events };
  };

  const vpcsim = async (...args: string[]) => {
    const r = await run.vpcsim([args[0]!, "--run", run.name, ...args.slice(1)]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  const callLog = async (action?: string): Promise<{ action: string; outcome: string; params: Record<string, string> }[]> =>
    JSON.parse(await vpcsim("calls", ...(action ? ["--action", action] : []), "--last", "100000", "--json"));

  test("node metadata from IMDS matches vpcsim's view of the instance", async () => {
    const { result } = await fixture("identity");
    const status = await run.status();
    const subnet = status.subnets.find((s) => s.name === "a")!;
    assert.deepEqual(
      { ...result.identity },
      {
        instanceId: node.id,
        instanceType: "m5.xlarge",
        availabilityZone: "us-east-1a",
        region: status.region,
        primaryMac: node.enis[0]!.mac,
        primaryIp: node.privateIp,
        primaryEniId: node.enis[0]!.id,
        subnetId: subnet.id,
        vpcId: status.vpcs[0]!.id,
        accountId: status.accountId,
      },
    );
    assert.equal(result.region, status.region);
    assert.equal(result.enis.length, 1);
    const eni = result.enis[0];
    assert.equal(eni.eniId, node.enis[0]!.id);
    assert.equal(eni.deviceNumber, 0);
    assert.equal(eni.primary, true);
    assert.equal(eni.subnetCidr, subnet.cidr);
    assert.deepEqual(eni.ipv4s, node.enis[0]!.privateIps);
    assert.deepEqual(eni.ipv4Prefixes, []);
    assert.deepEqual(eni.vpcIpv4Cidrs, status.vpcs[0]!.cidrs);
    assert.equal(eni.securityGroupIds.length, 1);
  });

  let allocated: string;
  test("create + attach + DeleteOnTermination, then IMDS shows the ENI with its addresses", async () => {
    const { result, events } = await fixture("alloc");
    const { alloc, seen, described } = result;
    allocated = alloc.eni.eniId;
    assert.equal(alloc.deviceIndex, 1);
    assert.equal(alloc.eni.description, `aws-K8S-${node.id}`);
    assert.equal(alloc.eni.tags["node.k8s.amazonaws.com/instance_id"], node.id);
    assert.match(alloc.eni.tags["node.k8s.amazonaws.com/createdAt"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(alloc.eni.tags["cluster.k8s.amazonaws.com/name"], "c1");
    assert.equal(alloc.eni.tags["eks:eni:owner"], "amazon-vpc-cni");
    assert.equal(alloc.eni.tags["team"], "net");
    assert.equal(seen.eniId, allocated);
    assert.equal(seen.deviceNumber, 1);
    assert.equal(seen.ipv4s.length, 3, "primary + 2 secondaries");
    // The dead id was dropped from the describe and reported.
    assert.deepEqual(described.missing, ["eni-0000000000000dead"]);
    const mine = described.enis.find((e: { eniId: string }) => e.eniId === allocated);
    assert.equal(mine.attachment.deleteOnTermination, true);
    assert.deepEqual(
      events.map((e) => e.api),
      ["CreateNetworkInterface", "DescribeInstances", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute", "DescribeNetworkInterfaces", "DescribeNetworkInterfaces"],
    );
    const create = (await callLog("CreateNetworkInterface")).at(-1)!;
    assert.equal(create.params["SecondaryPrivateIpAddressCount"], "2");
    assert.equal(create.params["Description"], `aws-K8S-${node.id}`);
    const modify = (await callLog("ModifyNetworkInterfaceAttribute")).at(-1)!;
    assert.equal(modify.params["Attachment.DeleteOnTermination"], "true");
    const status = await run.instance("node");
    const inVpcsim = status.enis.find((e) => e.id === allocated)!;
    assert.equal(inVpcsim.deviceIndex, 1);
    assert.equal(inVpcsim.attachment, "attached");
    assert.deepEqual(inVpcsim.privateIps, seen.ipv4s);
  });

  test("assign and unassign secondary addresses and prefixes", async () => {
    const { result, events } = await fixture("addresses", [allocated]);
    assert.equal(result.ips.length, 3);
    assert.equal(result.prefixes.length, 2);
    for (const ip of result.ips) assert.ok(result.seen.ipv4s.includes(ip), `IMDS shows ${ip}`);
    assert.deepEqual(result.seen.ipv4Prefixes.slice().sort(), result.prefixes.slice().sort());
    assert.ok(!result.after.privateIps.includes(result.ips[0]) && !result.after.privateIps.includes(result.ips[1]));
    assert.ok(result.after.privateIps.includes(result.ips[2]));
    assert.deepEqual(result.after.ipv4Prefixes, [result.prefixes[1]]);
    assert.deepEqual(result.none, { ips: [], prefixes: [] }, "a count below 1 makes no call");
    assert.equal(events.filter((e) => e.api === "AssignPrivateIpAddresses").length, 2);
    const eni = (await run.instance("node")).enis.find((e) => e.id === allocated)!;
    assert.deepEqual(eni.ipv4Prefixes, [result.prefixes[1]]);
    assert.equal(eni.privateIps.length, 3 + 1);
    const assigns = await callLog("AssignPrivateIpAddresses");
    assert.deepEqual(
      assigns.slice(-2).map((c) => [c.params["SecondaryPrivateIpAddressCount"], c.params["Ipv4PrefixCount"]]),
      [
        ["3", undefined],
        [undefined, "2"],
      ],
    );
  });

  test("the lowest free device index is reused after a detach", async () => {
    const { result } = await fixture("device-index");
    assert.deepEqual([result.a, result.b, result.c], [2, 3, 2]);
    assert.equal(result.freed, "freed");
    const devices = (await run.instance("node")).enis.map((e) => e.deviceIndex);
    assert.deepEqual(devices, [0, 1, 2, 3]);
  });

  test("free ENI end to end: detached, deleted, gone from EC2; an unknown ENI counts as gone", async () => {
    const before = (await run.instance("node")).enis.filter((e) => e.deviceIndex !== 0).map((e) => e.id);
    assert.equal(before.length, 3);
    const { result, events } = await fixture("free", before);
    assert.deepEqual(result.results, ["freed", "freed", "freed", "gone", "gone"]);
    assert.deepEqual(result.after, [null, null, null]);
    const status = await run.status();
    assert.deepEqual(status.instances[0]!.enis.map((e) => e.id), [node.enis[0]!.id]);
    assert.deepEqual(status.availableEnis, [], "nothing left behind as available");
    const apis = events.map((e) => e.api);
    assert.equal(apis.filter((a) => a === "DetachNetworkInterface").length, 3);
    assert.equal(apis.filter((a) => a === "DeleteNetworkInterface").length, 3 + 1);
  });

  test("leaked ENIs: the reference's filters, the 5-minute grace via createdAt, the cluster tag", async () => {
    const { result } = await fixture("leaked");
    const { ids, scan } = result;
    assert.deepEqual(scan.leaked, [ids.aged], "only the old one of this cluster, with our description");
    assert.deepEqual(scan.young, [ids.young]);
    assert.deepEqual(scan.taggedNow.slice().sort(), [ids.untagged, ids.garbled].sort(), "no or unparsable createdAt: tagged now, skipped");
    assert.match(result.untaggedCreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(result.noCluster.leaked.slice().sort(), [ids.aged, ids.otherCluster].sort(), "without CLUSTER_NAME every cluster's");
    assert.deepEqual(result.cleaned, { deleted: [ids.aged], failed: [] });
    const describe = (await callLog("DescribeNetworkInterfaces")).filter((c) => c.params["Filter.1.Name"] !== undefined);
    const withCluster = describe.find((c) => c.params["Filter.4.Name"] !== undefined)!;
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => [withCluster.params[`Filter.${n}.Name`], withCluster.params[`Filter.${n}.Value.1`]]),
      [
        ["tag-key", "node.k8s.amazonaws.com/instance_id"],
        ["status", "available"],
        ["vpc-id", (await run.status()).vpcs[0]!.id],
        ["tag:cluster.k8s.amazonaws.com/name", "c1"],
      ],
    );
    assert.equal(withCluster.params["MaxResults"], "1000");
    assert.deepEqual((await run.status()).availableEnis, [], "the fixture removed what it made");
  });

  test("the budget turns a burst into paced calls: EC2 throttles none of them, while the same burst unpaced is throttled", async () => {
    // vpcsim's buckets at 10% of EC2's; the agent's budget at 8% of EC2's, i.e. within them.
    await vpcsim("faults", "throttling", "on", "--scale", "0.1");
    try {
      const throttledBefore = (await callLog()).filter((c) => c.outcome === "RequestLimitExceeded").length;
      const { result, events } = await fixture("burst", ["14"], { BUDGET_FRACTION: "0.08" });
      assert.deepEqual(result.budgetedFailures, []);
      const burst = events.filter((e) => e.fn === "burst");
      assert.equal(burst.length, 14, "one request per call: nothing was throttled and retried");
      assert.ok(burst.every((e) => e.ok));
      assert.ok(result.budgetWaits >= 5, `calls beyond the 8-token burst waited for tokens (${result.budgetWaits})`);
      assert.ok(result.budgetedMs >= 3000, `paced over ${result.budgetedMs} ms`);
      assert.ok(result.unbudgetedThrottled > 0, "the contrast burst without a budget was throttled");
      const throttled = (await callLog()).filter((c) => c.outcome === "RequestLimitExceeded").length - throttledBefore;
      assert.equal(throttled, result.unbudgetedThrottled, "every RequestLimitExceeded in vpcsim's log belongs to the unbudgeted burst");
    } finally {
      await vpcsim("faults", "throttling", "off");
      await vpcsim("faults", "clear");
    }
  });

  test("injected RequestLimitExceeded: the call succeeds after backoff", async () => {
    await vpcsim("faults", "add", "--action", "AssignPrivateIpAddresses", "--kind", "throttle", "--count", "3");
    try {
      const { result, events } = await fixture("throttle-retry");
      assert.equal(result.ips.length, 1);
      const assigns = events.filter((e) => e.api === "AssignPrivateIpAddresses");
      assert.deepEqual(
        assigns.map((e) => [e.attempt, e.errorCode ?? "ok"]),
        [
          [1, "RequestLimitExceeded"],
          [2, "RequestLimitExceeded"],
          [3, "RequestLimitExceeded"],
          [4, "ok"],
        ],
      );
      const log = (await callLog("AssignPrivateIpAddresses")).slice(-4).map((c) => c.outcome);
      assert.deepEqual(log, ["RequestLimitExceeded", "RequestLimitExceeded", "RequestLimitExceeded", "ok"]);
    } finally {
      await vpcsim("faults", "clear");
    }
  });

  test("an insufficient-address error pauses growth", async () => {
    await vpcsim("faults", "exhaust", "--subnet", "a");
    try {
      const { result, events } = await fixture("exhaust");
      assert.equal(result.code, "InsufficientFreeAddressesInSubnet");
      assert.equal(result.reason, "InsufficientFreeAddressesInSubnet");
      assert.ok(result.pausedUntil >= result.now + 119_000 && result.pausedUntil <= result.now + 120_000, `paused until ${result.pausedUntil - result.now} ms from now`);
      assert.equal(events.length, 1, "not retried");
    } finally {
      await vpcsim("faults", "clear");
    }
    const status = await run.status();
    assert.deepEqual(status.instances[0]!.enis.map((e) => e.privateIps.length), [1], "no address left behind");
  });
});
