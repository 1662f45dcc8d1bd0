import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNT, expectEc2Error, makeWorld } from "./model.test-support.ts";

test("runInstance: running at once, primary ENI attached at device 0, events in order", () => {
  const { model, events, subnetId, vpcId } = makeWorld();
  const inst = model.runInstance({ instanceType: "m5.xlarge", subnetId, associatePublicIp: true, iamRoleName: "node-role", tags: [{ key: "Name", value: "n1" }] });
  assert.match(inst.instanceId, /^i-[0-9a-f]{17}$/);
  assert.equal(inst.state, "running");
  assert.equal(inst.ownerId, ACCOUNT);
  assert.equal(inst.vpcId, vpcId);
  assert.equal(inst.subnetId, subnetId);
  assert.equal(inst.availabilityZone, "us-east-1a");
  assert.equal(inst.iamRoleName, "node-role");
  assert.match(inst.imageId, /^ami-[0-9a-f]{17}$/);
  assert.match(inst.publicIpAddress as string, /^198\.51\.100\.\d+$/);
  const eni = model.networkInterface(inst.primaryNetworkInterfaceId);
  assert.equal(eni?.status, "in-use");
  assert.equal(eni?.attachment?.status, "attached");
  assert.equal(eni?.attachment?.deviceIndex, 0);
  assert.equal(eni?.attachment?.deleteOnTermination, true);
  assert.equal(eni?.attachment?.instanceId, inst.instanceId);
  assert.equal(eni?.publicIp, inst.publicIpAddress);
  const defaultSg = model.securityGroups().find((g) => g.vpcId === vpcId && g.groupName === "default");
  assert.deepEqual(eni?.groupIds, [defaultSg?.groupId]);
  assert.deepEqual(events.map((e) => e.kind), ["instance-launched", "eni-attached"]);
  const launched = events[0];
  if (launched?.kind === "instance-launched") assert.equal(launched.instance.instanceId, inst.instanceId);
  const attached = events[1];
  if (attached?.kind === "eni-attached") {
    assert.equal(attached.deviceIndex, 0);
    assert.equal(attached.eni.attachment?.status, "attached");
  }
});

test("runInstance: public IPs are unique; errors from real causes", () => {
  const { model, subnetId, vpcId } = makeWorld();
  const ips = new Set<string>();
  for (let i = 0; i < 20; i++) ips.add(model.runInstance({ instanceType: "t3.micro", subnetId, associatePublicIp: true }).publicIpAddress as string);
  assert.equal(ips.size, 20);
  expectEc2Error(() => model.runInstance({ instanceType: "m5.huge", subnetId }), "InvalidParameterValue", /m5\.huge/);
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId: "subnet-0123456789abcdef0" }), "InvalidSubnetID.NotFound");
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId, privateIpAddress: "10.0.1.10" }), "InvalidIPAddress.InUse");
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId, groupIds: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound");
  const sg = model.createSecurityGroup({ vpcId, groupName: "nodes", description: "x" });
  const inst = model.runInstance({ instanceType: "m5.large", subnetId, groupIds: [sg.groupId] });
  assert.deepEqual(model.networkInterface(inst.primaryNetworkInterfaceId)?.groupIds, [sg.groupId]);
});

test("terminateInstance: DeleteOnTermination ENIs deleted, others detached; state kept; idempotent", () => {
  const { model, clock, events, subnetId, instanceId } = makeWorld();
  const primary = model.instance(instanceId)?.primaryNetworkInterfaceId as string;
  const keep = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 2 }).networkInterfaceId;
  const drop = model.createNetworkInterface({ subnetId }).networkInterfaceId;
  model.attachNetworkInterface({ networkInterfaceId: keep, instanceId, deviceIndex: 1 });
  const { attachmentId } = model.attachNetworkInterface({ networkInterfaceId: drop, instanceId, deviceIndex: 2 });
  clock.advance(1000);
  model.modifyNetworkInterfaceAttribute({ networkInterfaceId: drop, attachment: { attachmentId, deleteOnTermination: true } });
  const freeBefore = model.subnet(subnetId)?.availableIpAddressCount as number;
  events.length = 0;

  const terminated = model.terminateInstance(instanceId);
  assert.equal(terminated.state, "terminated");
  assert.equal(model.instance(instanceId)?.state, "terminated");
  assert.equal(model.networkInterface(primary), undefined);
  assert.equal(model.networkInterface(drop), undefined);
  const kept = model.networkInterface(keep);
  assert.equal(kept?.status, "available");
  assert.equal(kept?.attachment, undefined);
  assert.equal(kept?.privateIps.length, 3);
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, freeBefore + 2); // primary + drop freed
  const kinds = events.map((e) => e.kind);
  assert.equal(kinds.filter((k) => k === "eni-detached").length, 3);
  assert.equal(kinds.filter((k) => k === "eni-deleted").length, 2);
  assert.equal(kinds.at(-1), "instance-terminated");
  // Terminated instances still show up in DescribeInstances, as on EC2.
  assert.deepEqual(
    model.describeInstances({ filters: [{ name: "instance-state-name", values: ["terminated"] }] }).items.map((i) => i.instanceId),
    [instanceId],
  );
  events.length = 0;
  assert.equal(model.terminateInstance(instanceId).state, "terminated");
  assert.equal(events.length, 0);
  model.deleteNetworkInterface({ networkInterfaceId: keep });
  expectEc2Error(() => model.terminateInstance("i-0123456789abcdef0"), "InvalidInstanceID.NotFound");
});

test("terminating while an attach is in flight cancels its completion", () => {
  const { model, clock, events, subnetId, instanceId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId }).networkInterfaceId;
  model.attachNetworkInterface({ networkInterfaceId: eni, instanceId, deviceIndex: 1 });
  model.terminateInstance(instanceId);
  // Only the primary ENI (whose attach completed) is reported detached.
  const detached = events.filter((e) => e.kind === "eni-detached").map((e) => (e.kind === "eni-detached" ? e.eni.networkInterfaceId : ""));
  assert.deepEqual(detached, [model.instance(instanceId)?.primaryNetworkInterfaceId]);
  events.length = 0;
  clock.advance(10_000);
  assert.equal(events.length, 0);
  assert.equal(model.networkInterface(eni)?.status, "available");
  assert.equal(model.networkInterface(eni)?.attachment, undefined);
});

test("describeInstances: ids, filters, paging, errors", () => {
  const { model, subnetId, subnetBId, instanceId } = makeWorld();
  const b = model.runInstance({ instanceType: "c5.large", subnetId: subnetBId, tags: [{ key: "role", value: "worker" }] });
  const c = model.runInstance({ instanceType: "c5.large", subnetId, tags: [{ key: "role", value: "control" }] });
  const eni = model.createNetworkInterface({ subnetId });
  model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId: c.instanceId, deviceIndex: 1 });
  const ids = (f: { name: string; values: string[] }[]) => model.describeInstances({ filters: f }).items.map((i) => i.instanceId);
  assert.deepEqual(ids([]), [instanceId, b.instanceId, c.instanceId]);
  assert.deepEqual(ids([{ name: "instance-type", values: ["c5.*"] }]), [b.instanceId, c.instanceId]);
  assert.deepEqual(ids([{ name: "subnet-id", values: [subnetBId] }]), [b.instanceId]);
  assert.deepEqual(ids([{ name: "availability-zone", values: ["us-east-1a"] }]), [instanceId, c.instanceId]);
  assert.deepEqual(ids([{ name: "private-ip-address", values: ["10.0.1.10"] }]), [instanceId]);
  assert.deepEqual(ids([{ name: "network-interface.network-interface-id", values: [eni.networkInterfaceId] }]), [c.instanceId]);
  assert.deepEqual(ids([{ name: "tag:role", values: ["work*", "nothing"] }]), [b.instanceId]);
  assert.deepEqual(ids([{ name: "tag-key", values: ["role"] }, { name: "subnet-id", values: [subnetId] }]), [c.instanceId]);
  assert.deepEqual(ids([{ name: "instance-state-name", values: ["running"] }, { name: "vpc-id", values: ["vpc-none"] }]), []);
  assert.deepEqual(model.describeInstances({ ids: [c.instanceId, instanceId] }).items.map((i) => i.instanceId), [instanceId, c.instanceId]);
  expectEc2Error(() => model.describeInstances({ ids: ["i-0123456789abcdef0"] }), "InvalidInstanceID.NotFound", /^The instance ID 'i-0123456789abcdef0' does not exist$/);
  expectEc2Error(() => model.describeInstances({ ids: ["i-0123456789abcdef0", "i-0123456789abcdef1"] }), "InvalidInstanceID.NotFound", /do not exist/);
  expectEc2Error(() => model.describeInstances({ ids: ["i-1"] }), "InvalidInstanceID.Malformed");
  expectEc2Error(() => model.describeInstances({ ids: [instanceId], maxResults: 5 }), "InvalidParameterCombination");
  expectEc2Error(() => model.describeInstances({ maxResults: 4 }), "InvalidParameterValue");
  expectEc2Error(() => model.describeInstances({ filters: [{ name: "instance.state", values: ["x"] }] }), "InvalidParameterValue", /'instance\.state'/);
  for (let i = 0; i < 4; i++) model.runInstance({ instanceType: "t3.micro", subnetId });
  const first = model.describeInstances({ maxResults: 5 });
  assert.equal(first.items.length, 5);
  const second = model.describeInstances({ maxResults: 5, nextToken: first.nextToken as string });
  assert.equal(second.items.length, 2);
  assert.equal(second.nextToken, undefined);
  assert.equal(new Set([...first.items, ...second.items].map((i) => i.instanceId)).size, 7);
  expectEc2Error(() => model.describeInstances({ maxResults: 5, nextToken: "bogus" }), "InvalidParameterValue", /token/);
  // A DescribeNetworkInterfaces token is not a DescribeInstances token.
  for (let i = 0; i < 6; i++) model.createNetworkInterface({ subnetId });
  const eniToken = model.describeNetworkInterfaces({ maxResults: 5 }).nextToken as string;
  expectEc2Error(() => model.describeInstances({ maxResults: 5, nextToken: eniToken }), "InvalidParameterValue");
});
