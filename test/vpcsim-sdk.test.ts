// vpcsim driven the way the agent will drive it: the unmodified AWS SDK v3 inside an instance,
// credentials from IMDS, the EC2 endpoint inside the fabric.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { datapathUnavailable, ROOT, runCommand, SimRun, VPCSIM, waitFor, type SdkShell } from "./harness.ts";

const skip = datapathUnavailable();

describe("vpcsim through the AWS SDK, from inside an instance", { skip }, () => {
  let run: SimRun;
  let sdk: SdkShell;
  let nodeA: Awaited<ReturnType<SimRun["instance"]>>;

  before(async () => {
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20",
      "--subnet", "b=us-east-1b,10.0.16.0/20",
      "--subnet", "tiny=us-east-1a,10.0.32.0/28",
      "--instance", "node-a=m5.large,a,public",
      "--instance", "node-b=m5.large,b",
    ]);
    nodeA = await run.instance("node-a");
    sdk = run.sdk("node-a");
  });
  after(async () => {
    await run?.down();
  });

  const subnetId = async (name: string) => (await run.status()).subnets.find((s) => s.name === name)!.id;

  test("the default credential chain gets the instance role's credentials from IMDS", async () => {
    const creds = await sdk.credentials();
    assert.equal(creds.ok, true, JSON.stringify(creds.error));
    assert.match(creds.output.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(creds.output.hasToken, true);
    // And the EC2 endpoint accepts them.
    const out = await sdk.ok("DescribeInstances", { InstanceIds: [nodeA.id] });
    assert.equal(out.Reservations[0].Instances[0].InstanceId, nodeA.id);
    assert.equal(out.Reservations[0].Instances[0].PrivateIpAddress, nodeA.privateIp);
  });

  test("exec drops the caller's AWS identity but passes other AWS_* configuration", async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: "AKIAHOSTKEY", AWS_PROFILE: "host", AWS_VPC_K8S_CNI_EXTERNALSNAT: "true" };
    const r = await runCommand(VPCSIM, ["exec", "--run", run.name, "node-a", "--", "env"], { env });
    assert.equal(r.code, 0, r.stderr);
    const vars = new Map(r.stdout.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    assert.equal(vars.get("AWS_ACCESS_KEY_ID"), undefined);
    assert.equal(vars.get("AWS_PROFILE"), undefined);
    assert.equal(vars.get("AWS_VPC_K8S_CNI_EXTERNALSNAT"), "true");
    assert.equal(vars.get("AWS_ENDPOINT_URL_EC2"), "http://192.0.2.10");
    assert.equal(vars.get("AWS_REGION"), "us-east-1");
  });

  test("IMDS through the SDK's client shows the instance and its primary ENI", async () => {
    const get = async (path: string) => {
      const a = await sdk.imds(path);
      assert.equal(a.ok, true, `${path}: ${JSON.stringify(a.error)}`);
      return a.output as string;
    };
    assert.equal(await get("/latest/meta-data/instance-id"), nodeA.id);
    assert.equal(await get("/latest/meta-data/instance-type"), "m5.large");
    assert.equal(await get("/latest/meta-data/local-ipv4"), nodeA.privateIp);
    assert.equal(await get("/latest/meta-data/placement/availability-zone"), "us-east-1a");
    const mac = await get("/latest/meta-data/mac");
    assert.equal(mac, nodeA.enis[0]!.mac);
    assert.equal(await get("/latest/meta-data/network/interfaces/macs/"), `${mac}/`);
    const eni = `/latest/meta-data/network/interfaces/macs/${mac}`;
    assert.equal(await get(`${eni}/interface-id`), nodeA.enis[0]!.id);
    assert.equal(await get(`${eni}/device-number`), "0");
    assert.equal((await get(`${eni}/local-ipv4s`)).split("\n")[0], nodeA.privateIp);
    assert.equal(await get(`${eni}/subnet-ipv4-cidr-block`), "10.0.0.0/20");
    assert.equal(await get(`${eni}/vpc-ipv4-cidr-blocks`), "10.0.0.0/16");
    assert.match(await get(`${eni}/security-group-ids`), /^sg-[0-9a-f]{17}$/);
    const doc = JSON.parse(await get("/latest/dynamic/instance-identity/document"));
    assert.equal(doc.instanceId, nodeA.id);
    assert.equal(doc.region, "us-east-1");
    assert.equal(doc.privateIp, nodeA.privateIp);
    assert.equal(await get("/latest/meta-data/public-ipv4"), nodeA.publicIp);
  });

  test("IMDSv2 token rules", async () => {
    const r = await run.exec("node-a", [process.execPath, join(ROOT, "test/fixtures/imds-probe.ts")]);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.equal(p.getWithoutToken, 401);
    assert.equal(p.putWithoutTtl, 400);
    assert.equal(p.putTtlZero, 400);
    assert.equal(p.putTtlTooLong, 400);
    assert.equal(p.putForwarded, 403);
    assert.equal(p.getToken, 405);
    assert.equal(p.putGood, 200);
    assert.deepEqual(p.getWithToken, { status: 200, body: nodeA.id });
    assert.equal(p.getWithBogusToken, 401);
    assert.equal(p.getMissingPath, 404);
    assert.equal(p.expiredToken, 401);
  });

  test("the whole ENI lifecycle, seen in EC2, IMDS and the instance's kernel", async () => {
    const subnet = await subnetId("a");
    const created = await sdk.ok("CreateNetworkInterface", {
      SubnetId: subnet,
      Description: `aws-K8S-${nodeA.id}`,
      SecondaryPrivateIpAddressCount: 2,
      TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "node.k8s.amazonaws.com/instance_id", Value: nodeA.id }] }],
    });
    const eni = created.NetworkInterface;
    assert.match(eni.NetworkInterfaceId, /^eni-[0-9a-f]{17}$/);
    assert.equal(eni.Status, "available");
    assert.equal(eni.PrivateIpAddresses.length, 3);
    assert.equal(eni.PrivateIpAddresses.filter((p: { Primary: boolean }) => p.Primary).length, 1);
    assert.deepEqual(eni.TagSet, [{ Key: "node.k8s.amazonaws.com/instance_id", Value: nodeA.id }]);

    const attached = await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: nodeA.id, DeviceIndex: 1 });
    assert.match(attached.AttachmentId, /^eni-attach-[0-9a-f]{17}$/);
    await sdk.ok("ModifyNetworkInterfaceAttribute", {
      NetworkInterfaceId: eni.NetworkInterfaceId,
      Attachment: { AttachmentId: attached.AttachmentId, DeleteOnTermination: true },
    });
    const described = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] })).NetworkInterfaces[0];
    assert.equal(described.Status, "in-use");
    assert.equal(described.Attachment.DeviceIndex, 1);
    assert.equal(described.Attachment.DeleteOnTermination, true);
    assert.equal(described.Attachment.InstanceId, nodeA.id);

    // Hot-plugged into the instance as eth1 with the ENI's MAC, left down.
    const link = await waitFor(async () => {
      const out = await run.ip(nodeA.netns, ["-o", "link", "show", "eth1"]).catch(() => "");
      return out.includes(eni.MacAddress) ? out : undefined;
    });
    assert.match(link, /state DOWN/);

    // Secondary addresses and a prefix; IMDS shows them.
    const assigned = await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 3 });
    assert.equal(assigned.AssignedPrivateIpAddresses.length, 3);
    const prefixed = await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: eni.NetworkInterfaceId, Ipv4PrefixCount: 1 });
    const prefix = prefixed.AssignedIpv4Prefixes[0].Ipv4Prefix as string;
    assert.match(prefix, /\/28$/);
    const macPath = `/latest/meta-data/network/interfaces/macs/${eni.MacAddress}`;
    const ips = (await sdk.imds(`${macPath}/local-ipv4s`)).output.split("\n");
    assert.equal(ips.length, 6);
    assert.equal(ips[0], eni.PrivateIpAddress, "IMDS lists the primary first");
    assert.equal((await sdk.imds(`${macPath}/ipv4-prefix`)).output, prefix);
    assert.equal((await sdk.imds(`${macPath}/device-number`)).output, "1");

    const unassign = assigned.AssignedPrivateIpAddresses.map((a: { PrivateIpAddress: string }) => a.PrivateIpAddress);
    await sdk.ok("UnassignPrivateIpAddresses", { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: unassign });
    await sdk.ok("UnassignPrivateIpAddresses", { NetworkInterfaceId: eni.NetworkInterfaceId, Ipv4Prefixes: [prefix] });
    const after = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] })).NetworkInterfaces[0];
    assert.equal(after.PrivateIpAddresses.length, 3);
    assert.equal(after.Ipv4Prefixes?.length ?? 0, 0);

    // The filters the reference agent uses.
    const byTag = await sdk.ok("DescribeNetworkInterfaces", {
      Filters: [
        { Name: "tag-key", Values: ["node.k8s.amazonaws.com/instance_id"] },
        { Name: "attachment.instance-id", Values: [nodeA.id] },
        { Name: "description", Values: ["aws-K8S-*"] },
        { Name: "status", Values: ["in-use"] },
      ],
    });
    assert.deepEqual(byTag.NetworkInterfaces.map((n: { NetworkInterfaceId: string }) => n.NetworkInterfaceId), [eni.NetworkInterfaceId]);

    await sdk.ok("DetachNetworkInterface", { AttachmentId: attached.AttachmentId });
    await waitFor(async () => ((await run.ip(nodeA.netns, ["-o", "link", "show"])).includes(eni.MacAddress) ? undefined : true));
    await waitFor(async () => {
      const n = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] })).NetworkInterfaces[0];
      return n.Status === "available" ? true : undefined;
    });
    await sdk.ok("DeleteNetworkInterface", { NetworkInterfaceId: eni.NetworkInterfaceId });
    const gone = await sdk.call("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni.NetworkInterfaceId] });
    assert.equal(gone.ok, false);
    assert.equal(gone.error!.name, "InvalidNetworkInterfaceID.NotFound");
    assert.match(gone.error!.message, new RegExp(`'${eni.NetworkInterfaceId}'`));
  });

  test("paging through DescribeNetworkInterfaces with the SDK's paginator", async () => {
    const subnet = await subnetId("b");
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await sdk.ok("CreateNetworkInterface", { SubnetId: subnet, Description: "paging", TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "batch", Value: "paging" }] }] });
      ids.push(c.NetworkInterface.NetworkInterfaceId);
    }
    const pages = await sdk.paginate("DescribeNetworkInterfaces", { Filters: [{ Name: "tag:batch", Values: ["paging"] }], MaxResults: 5 });
    assert.equal(pages.ok, true, JSON.stringify(pages.error));
    assert.deepEqual(pages.output.map((p: { NetworkInterfaces: unknown[] }) => p.NetworkInterfaces.length), [5, 5, 2]);
    const seen = pages.output.flatMap((p: { NetworkInterfaces: { NetworkInterfaceId: string }[] }) => p.NetworkInterfaces.map((n) => n.NetworkInterfaceId));
    assert.deepEqual([...seen].sort(), [...ids].sort());
    for (const id of ids) await sdk.ok("DeleteNetworkInterface", { NetworkInterfaceId: id });
  });

  test("EC2's error codes, each from its real cause", async () => {
    const subnetA = await subnetId("a");
    const tiny = await subnetId("tiny");
    const expectError = async (action: string, input: Record<string, unknown>, code: string) => {
      const a = await sdk.call(action, input, 1);
      assert.equal(a.ok, false, `${action} should fail with ${code}`);
      assert.equal(a.error!.name, code, `${action}: ${a.error!.message}`);
      assert.ok(a.error!.requestId, "EC2's RequestID reaches the SDK");
      return a.error!;
    };
    await expectError("DescribeNetworkInterfaces", { NetworkInterfaceIds: ["eni-0123456789abcdef0"] }, "InvalidNetworkInterfaceID.NotFound");
    await expectError("DescribeInstances", { InstanceIds: ["i-0123456789abcdef0"] }, "InvalidInstanceID.NotFound");
    await expectError("CreateNetworkInterface", { SubnetId: "subnet-0123456789abcdef0" }, "InvalidSubnetID.NotFound");
    await expectError("CreateNetworkInterface", { SubnetId: subnetA, SecondaryPrivateIpAddressCount: -1 }, "InvalidParameterValue");
    await expectError("DescribeNetworkInterfaces", { NetworkInterfaceIds: [nodeA.enis[0]!.id], MaxResults: 5 }, "InvalidParameterCombination");
    await expectError("AssignPrivateIpAddresses", { NetworkInterfaceId: nodeA.enis[0]!.id }, "MissingParameter");

    // An ENI attaches only in its instance's availability zone.
    const other = (await sdk.ok("CreateNetworkInterface", { SubnetId: await subnetId("b") })).NetworkInterface.NetworkInterfaceId;
    await expectError("AttachNetworkInterface", { NetworkInterfaceId: other, InstanceId: nodeA.id, DeviceIndex: 1 }, "InvalidParameterCombination");

    // m5.large: 3 ENIs, 10 addresses each (primary included).
    const extra: string[] = [];
    for (const device of [1, 2]) {
      const c = await sdk.ok("CreateNetworkInterface", { SubnetId: subnetA });
      extra.push(c.NetworkInterface.NetworkInterfaceId);
      await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: c.NetworkInterface.NetworkInterfaceId, InstanceId: nodeA.id, DeviceIndex: device });
    }
    const fourth = (await sdk.ok("CreateNetworkInterface", { SubnetId: subnetA })).NetworkInterface.NetworkInterfaceId;
    await expectError("AttachNetworkInterface", { NetworkInterfaceId: fourth, InstanceId: nodeA.id, DeviceIndex: 3 }, "AttachmentLimitExceeded");
    await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: extra[0], SecondaryPrivateIpAddressCount: 9 });
    await expectError("AssignPrivateIpAddresses", { NetworkInterfaceId: extra[0], SecondaryPrivateIpAddressCount: 1 }, "PrivateIpAddressLimitExceeded");

    // The /28 subnet has 11 usable addresses, and its only /28 holds the reserved ones.
    await expectError("CreateNetworkInterface", { SubnetId: tiny, Ipv4PrefixCount: 1 }, "InsufficientCidrBlocks");
    const tinyEni = (await sdk.ok("CreateNetworkInterface", { SubnetId: tiny, SecondaryPrivateIpAddressCount: 9 })).NetworkInterface.NetworkInterfaceId;
    await sdk.ok("CreateNetworkInterface", { SubnetId: tiny }).then((c) => extra.push(c.NetworkInterface.NetworkInterfaceId));
    await expectError("AssignPrivateIpAddresses", { NetworkInterfaceId: tinyEni, SecondaryPrivateIpAddressCount: 1 }, "InsufficientFreeAddressesInSubnet");
    const subnets = await sdk.ok("DescribeSubnets", { SubnetIds: [tiny] });
    assert.equal(subnets.Subnets[0].AvailableIpAddressCount, 0);

    // A deny list names the action: UnauthorizedOperation.
    const denied = await run.vpcsim(["faults", "--run", run.name, "deny", "CreateTags"]);
    assert.equal(denied.code, 0, denied.stderr);
    const e = await expectError("CreateTags", { Resources: [fourth], Tags: [{ Key: "k", Value: "v" }] }, "UnauthorizedOperation");
    assert.equal(e.status, 403);
    await run.vpcsim(["faults", "--run", run.name, "clear"]);
    await sdk.ok("CreateTags", { Resources: [fourth], Tags: [{ Key: "k", Value: "v" }] });

    for (const id of extra.slice(0, 2)) {
      const n = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [id] })).NetworkInterfaces[0];
      await sdk.ok("DetachNetworkInterface", { AttachmentId: n.Attachment.AttachmentId });
    }
  });

  test("a throttled burst gets RequestLimitExceeded, and the SDK's retries then succeed", async () => {
    const on = await run.vpcsim(["faults", "--run", run.name, "throttling", "on", "--scale", "0.1"]);
    assert.equal(on.code, 0, on.stderr);
    try {
      const burst = await Promise.all(Array.from({ length: 40 }, () => sdk.call("DescribeSubnets", {}, 1)));
      const throttled = burst.filter((a) => !a.ok);
      assert.ok(throttled.length > 0, "a burst past the bucket is throttled");
      for (const t of throttled) {
        assert.equal(t.error!.name, "RequestLimitExceeded");
        assert.equal(t.error!.status, 503);
      }
      // With its standard retry strategy (backoff between attempts), the SDK gets through.
      const retried = await Promise.all(Array.from({ length: 5 }, () => sdk.call("DescribeSubnets", {}, 10)));
      for (const a of retried) assert.equal(a.ok, true, JSON.stringify(a.error));
      const counts = JSON.parse((await run.vpcsim(["calls", "--run", run.name, "--counts", "--json", "--action", "DescribeSubnets"])).stdout);
      assert.ok(counts.DescribeSubnets.errors.RequestLimitExceeded >= throttled.length);
    } finally {
      await run.vpcsim(["faults", "--run", run.name, "clear"]);
    }
  });
});
