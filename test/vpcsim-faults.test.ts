// Profiles and run-time faults, driven through the CLI and observed through the SDK inside an
// instance. Timing is never asserted; the state EC2 shows while an operation is in progress is.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { datapathUnavailable, SimRun, waitFor, type SdkShell } from "./harness.ts";

const skip = datapathUnavailable();

describe("vpcsim faults and profiles", { skip }, () => {
  let run: SimRun;
  let sdk: SdkShell;
  let node: Awaited<ReturnType<SimRun["instance"]>>;
  let subnetId: string;

  before(async () => {
    run = await SimRun.up(["--instance", "node=m5.xlarge,a"]);
    node = await run.instance("node");
    subnetId = (await run.status()).subnets.find((s) => s.name === "a")!.id;
    sdk = run.sdk("node");
  });
  after(async () => {
    await run?.down();
  });

  const faults = async (...args: string[]) => {
    const r = await run.vpcsim(["faults", "--run", run.name, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test("slow attaches: the attachment stays 'attaching' and the device absent until EC2 completes it", async () => {
    await faults("slow-attach", "--ms", "1500");
    try {
      const eni = (await sdk.ok("CreateNetworkInterface", { SubnetId: subnetId })).NetworkInterface;
      await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: node.id, DeviceIndex: 1 });
      const during = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] })).NetworkInterfaces[0];
      assert.equal(during.Attachment.Status, "attaching");
      assert.doesNotMatch(await run.ip(node.netns, ["-o", "link"]), new RegExp(eni.MacAddress));
      const imds = await sdk.imds("/latest/meta-data/network/interfaces/macs/");
      assert.doesNotMatch(imds.output, new RegExp(eni.MacAddress), "IMDS does not show it before it is attached");
      await waitFor(async () => {
        const n = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] })).NetworkInterfaces[0];
        return n.Attachment.Status === "attached" ? true : undefined;
      });
      await waitFor(async () => ((await run.ip(node.netns, ["-o", "link"])).includes(eni.MacAddress) ? true : undefined));
    } finally {
      await faults("clear");
    }
  });

  test("address exhaustion: a subnet with its free addresses hidden refuses, and recovers when lifted", async () => {
    const eni = node.enis[0]!.id;
    const out = JSON.parse(await faults("exhaust", "--subnet", "a"));
    assert.equal(out.available, 0);
    const refused = await sdk.call("AssignPrivateIpAddresses", { NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }, 1);
    assert.equal(refused.error?.name, "InsufficientFreeAddressesInSubnet");
    const subnet = (await sdk.ok("DescribeSubnets", { SubnetIds: [subnetId] })).Subnets[0];
    assert.equal(subnet.AvailableIpAddressCount, 0);
    await faults("clear");
    const ok = await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 });
    assert.equal(ok.AssignedPrivateIpAddresses.length, 1);
  });

  test("injected 5xx are retried by the SDK; a counted fault runs out", async () => {
    await faults("add", "--action", "DescribeVpcs", "--kind", "error", "--status", "503", "--count", "2");
    try {
      const once = await sdk.call("DescribeVpcs", {}, 1);
      assert.equal(once.error?.name, "Unavailable");
      assert.equal(once.error?.status, 503);
      const retried = await sdk.call("DescribeVpcs", {}, 3);
      assert.equal(retried.ok, true, JSON.stringify(retried.error));
      assert.equal(retried.output.$metadata.attempts, 2, "one more injected failure, then success");
      const calls = JSON.parse((await run.vpcsim(["calls", "--run", run.name, "--action", "DescribeVpcs", "--json"])).stdout);
      assert.deepEqual(calls.map((c: { outcome: string }) => c.outcome), ["Unavailable", "Unavailable", "ok"]);
    } finally {
      await faults("clear");
    }
  });

  test("injected throttling and a deny list, per action", async () => {
    await faults("add", "--action", "CreateTags", "--kind", "throttle", "--count", "1");
    const throttled = await sdk.call("CreateTags", { Resources: [node.enis[0]!.id], Tags: [{ Key: "a", Value: "b" }] }, 1);
    assert.equal(throttled.error?.name, "RequestLimitExceeded");
    await sdk.ok("CreateTags", { Resources: [node.enis[0]!.id], Tags: [{ Key: "a", Value: "b" }] });
    await faults("deny", "DeleteTags");
    const denied = await sdk.call("DeleteTags", { Resources: [node.enis[0]!.id], Tags: [{ Key: "a" }] }, 1);
    assert.equal(denied.error?.name, "UnauthorizedOperation");
    await faults("deny");
    await sdk.ok("DeleteTags", { Resources: [node.enis[0]!.id], Tags: [{ Key: "a" }] });
  });

  test("bad fault requests are refused and change nothing", async () => {
    const bad = await run.vpcsim(["faults", "--run", run.name, "add", "--kind", "explode"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--kind: one of throttle, error, timeout, latency/);
    const badProbability = await run.vpcsim(["faults", "--run", run.name, "add", "--kind", "error", "--probability", "2"]);
    assert.equal(badProbability.code, 2);
    const unknownSubnet = await run.vpcsim(["faults", "--run", run.name, "exhaust", "--subnet", "nope"]);
    assert.notEqual(unknownSubnet.code, 0);
    assert.match(unknownSubnet.stderr, /no subnet 'nope'/);
    assert.deepEqual(JSON.parse(await faults("list")), []);
  });
});

describe("vpcsim realistic profile", { skip }, () => {
  test("EC2 acts asynchronously: an attach is seen attaching before it is attached", async () => {
    const run = await SimRun.up(["--profile", "realistic", "--instance", "node=m5.large,a"]);
    try {
      const sdk = run.sdk("node");
      const node = await run.instance("node");
      const subnetId = (await run.status()).subnets.find((s) => s.name === "a")!.id;
      assert.equal((await run.status()).profile, "realistic");
      const eni = (await sdk.ok("CreateNetworkInterface", { SubnetId: subnetId })).NetworkInterface;
      await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: node.id, DeviceIndex: 1 });
      const during = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] })).NetworkInterfaces[0];
      assert.equal(during.Attachment.Status, "attaching");
      await waitFor(async () => ((await run.ip(node.netns, ["-o", "link"])).includes(eni.MacAddress) ? true : undefined), 30_000);
      const imdsMacs = await waitFor(async () => {
        const a = await sdk.imds("/latest/meta-data/network/interfaces/macs/");
        return a.ok && a.output.includes(eni.MacAddress) ? a.output : undefined;
      }, 30_000);
      assert.equal(imdsMacs.split("\n").length, 2);
    } finally {
      await run.down();
    }
  });
});
