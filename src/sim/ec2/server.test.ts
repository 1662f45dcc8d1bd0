// End to end: the real @aws-sdk/client-ec2, pointed at the wire layer on 127.0.0.1, in front of
// the real EC2 model (on a manual clock, so attach/detach complete when the test says).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import {
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeNetworkInterfaces,
  RunInstancesCommand,
  TerminateInstancesCommand,
  UnassignIpv6AddressesCommand,
  UnassignPrivateIpAddressesCommand,
} from "@aws-sdk/client-ec2";
import { CredentialStore } from "./credentials.ts";
import { Faults } from "./faults.ts";
import { listenEc2 } from "./server.ts";
import { signV4 } from "./sigv4.ts";
import { makeWorld } from "./model.test-support.ts";
import { Throttle } from "./throttle.ts";
import { raw, sdkError, start, stop, type Rig } from "./server.test-support.ts";

function code(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

describe("ENI lifecycle through the SDK", () => {
  let rig: Rig;
  before(async () => {
    rig = await start();
  });
  after(() => stop(rig));

  test("create, attach, modify, assign, unassign, describe, page, detach, delete", async () => {
    const { client, world } = rig;
    const created = await client.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: world.subnetId,
        Description: "pods & <friends>",
        SecondaryPrivateIpAddressCount: 2,
        TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "team", Value: "net" }, { Key: "empty", Value: "" }] }],
      }),
    );
    assert.match(created.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
    const eni = created.NetworkInterface;
    assert.ok(eni);
    const eniId = eni.NetworkInterfaceId ?? "";
    assert.match(eniId, /^eni-[0-9a-f]{17}$/);
    const truth = world.model.networkInterface(eniId);
    assert.ok(truth);
    assert.equal(eni.SubnetId, world.subnetId);
    assert.equal(eni.VpcId, world.vpcId);
    assert.equal(eni.Description, "pods & <friends>");
    assert.equal(eni.Status, "available");
    assert.equal(eni.InterfaceType, "interface");
    assert.equal(eni.SourceDestCheck, true);
    assert.equal(eni.RequesterManaged, false);
    assert.equal(eni.MacAddress, truth.macAddress);
    assert.equal(eni.OwnerId, truth.ownerId);
    assert.equal(eni.AvailabilityZone, "us-east-1a");
    assert.deepEqual(
      eni.TagSet?.map((t) => [t.Key, t.Value]).sort(),
      [
        ["empty", ""],
        ["team", "net"],
      ],
    );
    assert.equal(eni.PrivateIpAddresses?.length, 3);
    assert.deepEqual(
      eni.PrivateIpAddresses?.map((p) => [p.PrivateIpAddress, p.Primary]),
      truth.privateIps.map((p) => [p.address, p.primary]),
    );
    assert.equal(eni.PrivateIpAddress, truth.privateIps[0]?.address);
    assert.equal(eni.PrivateIpAddresses?.[0]?.PrivateDnsName, `ip-${truth.privateIps[0]?.address.replaceAll(".", "-")}.ec2.internal`);
    assert.equal(eni.Groups?.length, 1);
    assert.equal(eni.Groups?.[0]?.GroupId, truth.groupIds[0]);
    assert.equal(eni.Groups?.[0]?.GroupName, "default");
    assert.equal(eni.Attachment, undefined);

    const attached = await client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: world.instanceId, DeviceIndex: 1 }));
    assert.ok(attached.AttachmentId?.startsWith("eni-attach-"));
    assert.equal(attached.NetworkCardIndex, 0);
    world.clock.advance(world.timings.attachMs);

    await client.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attachment: { AttachmentId: attached.AttachmentId, DeleteOnTermination: true } }),
    );
    const one = await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    const a = one.NetworkInterfaces?.[0]?.Attachment;
    assert.equal(one.NetworkInterfaces?.[0]?.Status, "in-use");
    assert.equal(a?.Status, "attached");
    assert.equal(a?.InstanceId, world.instanceId);
    assert.equal(a?.DeviceIndex, 1);
    assert.equal(a?.DeleteOnTermination, true);
    assert.ok(a?.AttachTime instanceof Date && !Number.isNaN(a.AttachTime.getTime()));

    const assigned = await client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 2 }));
    assert.equal(assigned.NetworkInterfaceId, eniId);
    assert.equal(assigned.AssignedPrivateIpAddresses?.length, 2);
    const prefix = await client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 1 }));
    const p28 = prefix.AssignedIpv4Prefixes?.[0]?.Ipv4Prefix;
    assert.match(p28 ?? "", /^10\.0\.1\.\d+\/28$/);
    let now = world.model.networkInterface(eniId);
    assert.equal(now?.privateIps.length, 5);
    assert.deepEqual(now?.ipv4Prefixes, [p28]);

    const dropIp = assigned.AssignedPrivateIpAddresses?.[0]?.PrivateIpAddress as string;
    await client.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: [dropIp], Ipv4Prefixes: [p28 as string] }));
    now = world.model.networkInterface(eniId);
    assert.equal(now?.privateIps.some((p) => p.address === dropIp), false);
    assert.deepEqual(now?.ipv4Prefixes, []);

    const v6 = await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6AddressCount: 1 }));
    assert.equal(v6.AssignedIpv6Addresses?.length, 1);
    const v6addr = v6.AssignedIpv6Addresses?.[0] as string;
    const described6 = await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    assert.deepEqual(described6.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((x) => x.Ipv6Address), [v6addr]);
    const un6 = await client.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6Addresses: [v6addr] }));
    assert.deepEqual(un6.UnassignedIpv6Addresses, [v6addr]);
    assert.deepEqual(world.model.networkInterface(eniId)?.ipv6Addresses, []);

    // Filters
    const byTag = await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "tag:team", Values: ["net"] }] }));
    assert.deepEqual(byTag.NetworkInterfaces?.map((e) => e.NetworkInterfaceId), [eniId]);
    const byInstance = await client.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [world.instanceId] }, { Name: "status", Values: ["in-use"] }] }),
    );
    assert.equal(byInstance.NetworkInterfaces?.length, 2); // the primary ENI and ours

    // Paging with the SDK's paginator
    for (let i = 0; i < 7; i++) await client.send(new CreateNetworkInterfaceCommand({ SubnetId: world.subnetBId }));
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeNetworkInterfaces({ client, pageSize: 5 }, {})) {
      pages++;
      assert.ok((page.NetworkInterfaces?.length ?? 0) <= 5);
      for (const e of page.NetworkInterfaces ?? []) seen.push(e.NetworkInterfaceId as string);
    }
    assert.ok(pages >= 2, `expected several pages, got ${pages}`);
    assert.deepEqual(seen.sort(), world.model.networkInterfaces().map((e) => e.networkInterfaceId).sort());
    assert.equal(new Set(seen).size, seen.length);

    // Tags after the fact
    await client.send(new CreateTagsCommand({ Resources: [eniId], Tags: [{ Key: "k", Value: "v" }] }));
    assert.ok(world.model.networkInterface(eniId)?.tags.some((t) => t.key === "k" && t.value === "v"));

    // Detach, delete, and the NotFound that follows
    await client.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId }));
    world.clock.advance(world.timings.detachMs);
    assert.equal(world.model.networkInterface(eniId)?.status, "available");
    await client.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }));
    const gone = await sdkError(client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })));
    assert.equal(gone.name, "InvalidNetworkInterfaceID.NotFound");
    assert.equal(gone.Code, "InvalidNetworkInterfaceID.NotFound");
    assert.match(gone.message, new RegExp(eniId));
    assert.equal(gone.$metadata.httpStatusCode, 400);
    assert.match(gone.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);

    const log = rig.callLog.query({ action: "DeleteNetworkInterface" });
    assert.equal(log.length, 1);
    assert.equal(log[0]?.principal, world.instanceId);
    assert.equal(log[0]?.outcome, "ok");
    assert.equal(log[0]?.params["NetworkInterfaceId"], eniId);
    assert.equal(rig.callLog.query({ outcome: "InvalidNetworkInterfaceID.NotFound" }).length, 1);
  });

  test("model errors surface with EC2's code and status", async () => {
    const e = await sdkError(rig.client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: "eni-0123456789abcdef0", InstanceId: rig.world.instanceId, DeviceIndex: 1 })));
    assert.equal(e.name, "InvalidNetworkInterfaceID.NotFound");
    assert.equal(e.$metadata.httpStatusCode, 400);
    const missing = await sdkError(rig.client.send(new CreateNetworkInterfaceCommand({ SubnetId: undefined as unknown as string })));
    assert.equal(missing.name, "MissingParameter");
    assert.equal(missing.message, "The request must contain the parameter SubnetId");
  });

  test("instances, instance types, VPCs, subnets and security groups read back", async () => {
    const { client, world } = rig;
    const run = await client.send(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "t3.medium",
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: world.subnetBId, AssociatePublicIpAddress: true }],
        IamInstanceProfile: { Name: "node-role" },
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "n1" }] }],
      }),
    );
    const inst = run.Instances?.[0];
    const id = inst?.InstanceId as string;
    const truth = world.model.instance(id);
    assert.ok(truth);
    assert.equal(inst?.InstanceType, "t3.medium");
    assert.equal(inst?.SubnetId, world.subnetBId);
    assert.equal(inst?.Placement?.AvailabilityZone, "us-east-1b");
    assert.equal(inst?.PublicIpAddress, truth.publicIpAddress);
    assert.ok(truth.publicIpAddress);
    assert.equal(inst?.IamInstanceProfile?.Arn, `arn:aws:iam::${truth.ownerId}:instance-profile/node-role`);
    assert.deepEqual(inst?.Tags, [{ Key: "Name", Value: "n1" }]);
    assert.equal(inst?.LaunchTime?.getTime(), truth.launchTime.getTime());
    assert.equal(inst?.NetworkInterfaces?.[0]?.NetworkInterfaceId, truth.primaryNetworkInterfaceId);
    assert.equal(inst?.NetworkInterfaces?.[0]?.Attachment?.DeviceIndex, 0);

    const described = await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const d = described.Reservations?.[0]?.Instances?.[0];
    assert.equal(d?.State?.Name, truth.state);
    assert.equal(d?.State?.Code, { pending: 0, running: 16, "shutting-down": 32, terminated: 48 }[truth.state]);
    assert.equal(d?.PrivateIpAddress, world.model.networkInterface(truth.primaryNetworkInterfaceId)?.privateIps[0]?.address);

    const types = await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["m5.large"] }));
    const info = world.model.instanceTypeInfo("m5.large");
    const n = types.InstanceTypes?.[0]?.NetworkInfo;
    assert.equal(types.InstanceTypes?.[0]?.InstanceType, "m5.large");
    assert.equal(n?.MaximumNetworkInterfaces, info?.maxEnisAllCards);
    assert.equal(n?.Ipv4AddressesPerInterface, info?.ipv4PerEni);
    assert.equal(n?.Ipv6AddressesPerInterface, info?.ipv6PerEni);
    assert.equal(n?.Ipv6Supported, true);
    assert.equal(n?.EncryptionInTransitSupported, false);
    assert.equal(n?.DefaultNetworkCardIndex, 0);
    assert.equal(n?.NetworkCards?.[0]?.MaximumNetworkInterfaces, info?.maxEnis);
    assert.equal(types.InstanceTypes?.[0]?.Hypervisor, info?.hypervisor);

    const vpcs = await client.send(new DescribeVpcsCommand({ VpcIds: [world.vpcId] }));
    assert.equal(vpcs.Vpcs?.[0]?.CidrBlock, "10.0.0.0/16");
    assert.equal(vpcs.Vpcs?.[0]?.CidrBlockAssociationSet?.[0]?.CidrBlock, "10.0.0.0/16");
    assert.equal(vpcs.Vpcs?.[0]?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock, world.model.vpc(world.vpcId)?.ipv6CidrBlocks[0]);

    const subnets = await client.send(new DescribeSubnetsCommand({ SubnetIds: [world.subnetId] }));
    const s = subnets.Subnets?.[0];
    assert.equal(s?.CidrBlock, "10.0.1.0/24");
    assert.equal(s?.AvailableIpAddressCount, world.model.subnet(world.subnetId)?.availableIpAddressCount);
    assert.equal(s?.AvailabilityZoneId, world.model.subnet(world.subnetId)?.availabilityZoneId);
    assert.equal(s?.State, "available");
    assert.equal(s?.DefaultForAz, false);
    assert.equal(s?.MapPublicIpOnLaunch, false);
    assert.equal(s?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock, world.model.subnet(world.subnetId)?.ipv6CidrBlock);

    const groups = await client.send(new DescribeSecurityGroupsCommand({ GroupNames: ["default"] }));
    assert.equal(groups.SecurityGroups?.length, 1);
    assert.equal(groups.SecurityGroups?.[0]?.VpcId, world.vpcId);

    const term = await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.equal(term.TerminatingInstances?.[0]?.InstanceId, id);
    assert.equal(term.TerminatingInstances?.[0]?.PreviousState?.Name, truth.state === "terminated" ? "terminated" : d?.State?.Name);
    assert.equal(term.TerminatingInstances?.[0]?.CurrentState?.Name, world.model.instance(id)?.state ?? "terminated");

    const bad = await sdkError(client.send(new RunInstancesCommand({ MinCount: 2, MaxCount: 2, InstanceType: "m5.large", SubnetId: world.subnetId })));
    assert.equal(bad.name, "InvalidParameterValue");
  });
});

describe("authentication", () => {
  let rig: Rig;
  before(async () => {
    rig = await start();
  });
  after(() => stop(rig));

  const call = (client: EC2Client) => client.send(new DescribeVpcsCommand({}));

  test("the admin's long-term key works", async () => {
    const admin = rig.credentials.issueLongTerm();
    assert.match(admin.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    const c = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: admin, maxAttempts: 1 });
    const out = await call(c);
    assert.equal(out.Vpcs?.length, 1);
    assert.equal(rig.callLog.query({ last: 1 })[0]?.principal, "admin");
    c.destroy();
  });

  test("temporary keys look like AWS's", () => {
    assert.match(rig.creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(rig.creds.secretAccessKey.length, 40);
  });

  test("unknown key → AuthFailure", async () => {
    const c = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: { accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: "x" }, maxAttempts: 1 });
    const e = await sdkError(call(c));
    assert.equal(e.name, "AuthFailure");
    assert.equal(e.message, "AWS was not able to validate the provided access credentials");
    assert.equal(e.$metadata.httpStatusCode, 401);
    c.destroy();
  });

  test("wrong secret → SignatureDoesNotMatch", async () => {
    const c = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: { ...rig.creds, secretAccessKey: "wrong" }, maxAttempts: 1 });
    const e = await sdkError(call(c));
    assert.equal(e.name, "SignatureDoesNotMatch");
    assert.equal(e.$metadata.httpStatusCode, 403);
    c.destroy();
  });

  test("wrong session token → AuthFailure; wrong region → SignatureDoesNotMatch", async () => {
    const c = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: { ...rig.creds, sessionToken: "nope" }, maxAttempts: 1 });
    assert.equal((await sdkError(call(c))).name, "AuthFailure");
    c.destroy();
    const w = new EC2Client({ endpoint: rig.endpoint.url, region: "eu-west-1", credentials: rig.creds, maxAttempts: 1 });
    assert.equal((await sdkError(call(w))).name, "SignatureDoesNotMatch");
    w.destroy();
  });

  test("expired credentials → RequestExpired", async () => {
    const short = rig.credentials.issue("i-short", -1);
    const c = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: { ...short, expiration: undefined }, maxAttempts: 1 });
    const e = await sdkError(call(c));
    assert.equal(e.name, "RequestExpired");
    assert.equal(e.$metadata.httpStatusCode, 400);
    c.destroy();
  });

  test("a tampered body fails the signature; a skewed date is RequestExpired", async () => {
    const body = "Action=DescribeVpcs&Version=2016-11-15";
    const u = new URL(rig.endpoint.url);
    const headers: Record<string, string> = { host: u.host, "content-type": "application/x-www-form-urlencoded" };
    const signed = { method: "POST", url: "/", headers: headers as Record<string, string | string[] | undefined>, body };
    signV4(signed, rig.creds, { region: "us-east-1" });
    const ok = await raw(rig.endpoint.url, { headers, body });
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.body, /<DescribeVpcsResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>/);
    const tampered = await raw(rig.endpoint.url, { headers, body: body + "&VpcId.1=vpc-x" });
    assert.equal(tampered.status, 403);
    assert.equal(code(tampered.body), "SignatureDoesNotMatch");
    const oldHeaders: Record<string, string> = { host: u.host };
    const old = { method: "POST", url: "/", headers: oldHeaders as Record<string, string | string[] | undefined>, body };
    signV4(old, rig.creds, { region: "us-east-1", now: Date.now() - 16 * 60_000 });
    const skewed = await raw(rig.endpoint.url, { headers: oldHeaders, body });
    assert.equal(code(skewed.body), "RequestExpired");
  });

  test("no Authorization → MissingAuthenticationToken", async () => {
    const r = await raw(rig.endpoint.url, { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "Action=DescribeVpcs&Version=2016-11-15" });
    assert.equal(code(r.body), "MissingAuthenticationToken");
    assert.match(r.body, /<RequestID>[0-9a-f-]{36}<\/RequestID>/);
    assert.equal(r.headers["x-amzn-requestid"], /<RequestID>([^<]*)</.exec(r.body)?.[1]);
  });

  test("deny list → UnauthorizedOperation, changeable at run time", async () => {
    rig.endpoint.handler.denyActions.add("DescribeVpcs");
    const e = await sdkError(call(rig.client));
    assert.equal(e.name, "UnauthorizedOperation");
    assert.equal(e.message, "You are not authorized to perform this operation.");
    assert.equal(e.$metadata.httpStatusCode, 403);
    rig.endpoint.handler.denyActions = new Set();
    assert.equal((await call(rig.client)).Vpcs?.length, 1);
  });
});

describe("throttling and faults", () => {
  test("a burst drains a small bucket; the SDK's retries ride it out", async () => {
    // 3 tokens, 20/s refill: a burst of 6 exceeds the bucket; SDK backoff (~100ms+) lets it refill.
    const throttle = new Throttle({ overrides: { "non-mutating": { capacity: 3, refillPerSecond: 20 } } });
    const rig = await start({ throttle }, 5);
    try {
      const strict = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: rig.creds, maxAttempts: 1 });
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => strict.send(new DescribeVpcsCommand({}))));
      const failed = results.filter((r) => r.status === "rejected");
      assert.ok(failed.length >= 2, `expected throttled calls, got ${failed.length}`);
      const first = (failed[0] as PromiseRejectedResult).reason as { name: string; message: string; $metadata: { httpStatusCode: number } };
      assert.equal(first.name, "RequestLimitExceeded");
      assert.equal(first.message, "Request limit exceeded.");
      assert.equal(first.$metadata.httpStatusCode, 503);
      strict.destroy();

      throttle.reset();
      const retried = await Promise.all(Array.from({ length: 6 }, () => rig.client.send(new DescribeVpcsCommand({}))));
      assert.equal(retried.length, 6);
      assert.ok(retried.some((r) => (r.$metadata.attempts ?? 1) > 1), "some calls must have needed a retry");
      assert.ok((rig.callLog.counts({ action: "DescribeVpcs" })["DescribeVpcs"]?.errors["RequestLimitExceeded"] ?? 0) >= 3);
    } finally {
      await stop(rig);
    }
  });

  test("unfiltered DescribeNetworkInterfaces draws from the smaller bucket", () => {
    const t = new Throttle({ scale: 0.1 });
    assert.equal(t.take("DescribeNetworkInterfaces", false), "unfiltered");
    assert.equal(t.take("DescribeNetworkInterfaces", true), "non-mutating");
    for (let i = 0; i < 4; i++) t.take("DescribeInstances", false);
    assert.throws(() => t.take("DescribeSecurityGroups", false), { code: "RequestLimitExceeded", status: 503 });
    assert.equal(t.take("DescribeSecurityGroups", true), "non-mutating");
  });

  test("5xx faults are retried by the SDK; a timeout drops the connection", async () => {
    const faults = new Faults();
    const rig = await start({ faults }, 3);
    try {
      faults.add({ action: "DescribeSubnets", kind: "error", count: 1 });
      faults.add({ action: "DescribeSubnets", kind: "error", code: "Unavailable", count: 1 });
      const out = await rig.client.send(new DescribeSubnetsCommand({}));
      assert.equal(out.$metadata.attempts, 3);
      assert.equal(out.Subnets?.length, 2);
      assert.deepEqual(
        rig.callLog.query({ action: "DescribeSubnets" }).map((r) => [r.outcome, r.status]),
        [
          ["InternalError", 500],
          ["Unavailable", 503],
          ["ok", 200],
        ],
      );
      assert.equal(faults.list().length, 0);

      faults.add({ action: "*", kind: "error", code: "Unavailable" });
      const strict = new EC2Client({ endpoint: rig.endpoint.url, region: "us-east-1", credentials: rig.creds, maxAttempts: 1 });
      const e = await sdkError(strict.send(new DescribeVpcsCommand({})));
      assert.equal(e.name, "Unavailable");
      assert.equal(e.$metadata.httpStatusCode, 503);
      assert.equal(faults.clear(), 1);

      faults.add({ action: "DescribeVpcs", kind: "timeout", ms: 50, count: 1 });
      const t0 = Date.now();
      const dropped = await sdkError(strict.send(new DescribeVpcsCommand({})));
      assert.ok(Date.now() - t0 >= 45);
      assert.match(`${dropped.name} ${dropped.message} ${(dropped as { code?: string }).code}`, /ECONNRESET|socket hang up/);
      assert.equal(rig.callLog.query({ action: "DescribeVpcs", last: 1 })[0]?.outcome, "Timeout");

      faults.add({ action: "DescribeVpcs", kind: "latency", ms: 80, count: 1 });
      const t1 = Date.now();
      await strict.send(new DescribeVpcsCommand({}));
      assert.ok(Date.now() - t1 >= 75);
      strict.destroy();
    } finally {
      await stop(rig);
    }
  });
});

describe("malformed requests", () => {
  let rig: Rig;
  before(async () => {
    rig = await start({ maxBodyBytes: 4096 });
  });
  after(() => stop(rig));

  test("unknown action → InvalidAction; no action → MissingAction; bad version → NoSuchVersion", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const unknown = await raw(rig.endpoint.url, { headers: form, body: "Action=LaunchRockets&Version=2016-11-15" });
    assert.equal(unknown.status, 400);
    assert.equal(code(unknown.body), "InvalidAction");
    assert.equal(code((await raw(rig.endpoint.url, { headers: form, body: "Version=2016-11-15" })).body), "MissingAction");
    assert.equal(code((await raw(rig.endpoint.url, { headers: form, body: "Action=DescribeVpcs&Version=2010-01-01" })).body), "NoSuchVersion");
    assert.equal(code((await raw(rig.endpoint.url, { headers: form, body: "Action=DescribeVpcs" })).body), "MissingParameter");
    const get = await raw(`${rig.endpoint.url}/?Action=Nope&Version=2016-11-15`, { method: "GET" });
    assert.equal(code(get.body), "InvalidAction");
  });

  test("garbage bodies get clean EC2 errors", async () => {
    const junk = Buffer.from([0xff, 0xfe, 0x00, 0x25, 0x26, 0x3d, 0x3d, 0x26, 0x25, 0x7a, 0x7a]);
    const r = await raw(rig.endpoint.url, { headers: { "content-type": "application/octet-stream" }, body: junk });
    assert.equal(r.status, 400);
    assert.equal(code(r.body), "MissingAction");
    assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>/);
  });

  test("an oversized body → 413 RequestEntityTooLarge, declared or streamed", async () => {
    const big = "Action=DescribeVpcs&Version=2016-11-15&x=" + "a".repeat(10_000);
    const declared = await raw(rig.endpoint.url, { headers: { "content-type": "application/x-www-form-urlencoded" }, body: big });
    assert.equal(declared.status, 413);
    assert.equal(code(declared.body), "RequestEntityTooLarge");
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(rig.endpoint.url, { method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on("error", reject);
      req.write("a".repeat(3000));
      req.write("a".repeat(3000));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.equal(code(streamed.body), "RequestEntityTooLarge");
  });

  test("a truncated body drops the connection and the server lives on", async () => {
    const u = new URL(rig.endpoint.url);
    await new Promise<void>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.end("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=Descr");
      });
      s.on("close", () => resolve());
      s.on("error", () => resolve());
      s.resume();
    });
    const after = await rig.client.send(new DescribeVpcsCommand({}));
    assert.equal(after.Vpcs?.length, 1);
  });

  test("bad parameter types → InvalidParameterValue; DryRun → DryRunOperation", async () => {
    const u = new URL(rig.endpoint.url);
    const send = async (body: string) => {
      const headers: Record<string, string> = { host: u.host, "content-type": "application/x-www-form-urlencoded" };
      signV4({ method: "POST", url: "/", headers: headers as Record<string, string | string[] | undefined>, body }, rig.creds, { region: "us-east-1" });
      return raw(rig.endpoint.url, { headers, body });
    };
    const v = "Action=AttachNetworkInterface&Version=2016-11-15&NetworkInterfaceId=eni-1&InstanceId=i-1";
    assert.equal(code((await send(v + "&DeviceIndex=one")).body), "InvalidParameterValue");
    assert.equal(code((await send(v)).body), "MissingParameter");
    assert.equal(code((await send("Action=DetachNetworkInterface&Version=2016-11-15&AttachmentId=a&Force=maybe")).body), "InvalidParameterValue");
    assert.equal(code((await send("Action=DescribeVpcs&Version=2016-11-15&VpcId.x=vpc-1")).body), "InvalidParameterValue");
    const dry = await send("Action=DescribeVpcs&Version=2016-11-15&DryRun=true");
    assert.equal(dry.status, 412);
    assert.equal(code(dry.body), "DryRunOperation");
  });
});

test("listens on a unix socket too, replacing a stale socket file", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "vpcsim-ec2-"));
  const path = join(dir, "ec2.sock");
  const world = makeWorld();
  const opts = { api: world.model, credentials: new CredentialStore() };
  const first = await listenEc2({ path }, opts);
  first.server.close(); // leaves the socket file behind? (node unlinks it; a crash would not)
  const ep = await listenEc2({ path }, opts);
  try {
    assert.equal(ep.url, path);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: path, method: "POST", path: "/" }, (r) => {
        let body = "";
        r.on("data", (c: Buffer) => (body += c.toString()));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end("Action=DescribeVpcs&Version=2016-11-15");
    });
    assert.equal(res.status, 403);
    assert.equal(code(res.body), "MissingAuthenticationToken");
  } finally {
    await ep.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
