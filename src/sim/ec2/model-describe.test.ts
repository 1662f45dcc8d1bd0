import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNT, expectEc2Error, makeWorld } from "./model.test-support.ts";

test("describeNetworkInterfaces: every supported filter, wildcards, OR within and AND across", () => {
  const { model, clock, subnetId, subnetBId, instanceId, vpcId } = makeWorld();
  const primary = model.instance(instanceId)?.primaryNetworkInterfaceId as string;
  const sg = model.createSecurityGroup({ vpcId, groupName: "pods", description: "x" });
  const a = model.createNetworkInterface({
    subnetId,
    description: "aws-K8S-i-abc",
    groupIds: [sg.groupId],
    privateIpAddress: "10.0.1.77",
    tagSpecifications: [{ resourceType: "network-interface", tags: [{ key: "node.k8s.amazonaws.com/instance_id", value: instanceId }] }],
  });
  const b = model.createNetworkInterface({ subnetId: subnetBId, description: "aws-K8S-i-xyz", interfaceType: "efa" });
  const c = model.createNetworkInterface({ subnetId, description: "something else" });
  model.attachNetworkInterface({ networkInterfaceId: a.networkInterfaceId, instanceId, deviceIndex: 1 });
  clock.advance(1000);
  model.attachNetworkInterface({ networkInterfaceId: c.networkInterfaceId, instanceId, deviceIndex: 2 });

  const ids = (f: { name: string; values: string[] }[]) => model.describeNetworkInterfaces({ filters: f }).items.map((e) => e.networkInterfaceId);
  const A = a.networkInterfaceId;
  const B = b.networkInterfaceId;
  const C = c.networkInterfaceId;
  assert.deepEqual(ids([]), [primary, A, B, C]);
  assert.deepEqual(ids([{ name: "vpc-id", values: [vpcId] }]), [primary, A, B, C]);
  assert.deepEqual(ids([{ name: "subnet-id", values: [subnetBId] }]), [B]);
  assert.deepEqual(ids([{ name: "status", values: ["available"] }]), [B]);
  assert.deepEqual(ids([{ name: "status", values: ["in-use"] }]), [primary, A, C]);
  assert.deepEqual(ids([{ name: "availability-zone", values: ["us-east-1b"] }]), [B]);
  assert.deepEqual(ids([{ name: "description", values: ["aws-K8S-*"] }]), [A, B]);
  assert.deepEqual(ids([{ name: "description", values: ["aws-K8S-i-??c"] }]), [A]);
  assert.deepEqual(ids([{ name: "description", values: ["aws-K8S-*", "some*"] }]), [A, B, C]);
  assert.deepEqual(ids([{ name: "attachment.instance-id", values: [instanceId] }]), [primary, A, C]);
  assert.deepEqual(ids([{ name: "attachment.status", values: ["attaching"] }]), [C]);
  assert.deepEqual(ids([{ name: "attachment.status", values: ["attached"] }]), [primary, A]);
  assert.deepEqual(ids([{ name: "attachment.device-index", values: ["0"] }]), [primary]);
  assert.deepEqual(ids([{ name: "network-interface-id", values: [A, C] }]), [A, C]);
  assert.deepEqual(ids([{ name: "private-ip-address", values: ["10.0.1.77"] }]), [A]);
  assert.deepEqual(ids([{ name: "mac-address", values: [b.macAddress] }]), [B]);
  assert.deepEqual(ids([{ name: "interface-type", values: ["efa"] }]), [B]);
  assert.deepEqual(ids([{ name: "group-id", values: [sg.groupId] }]), [A]);
  assert.deepEqual(ids([{ name: "tag-key", values: ["node.k8s.amazonaws.com/instance_id"] }]), [A]);
  assert.deepEqual(ids([{ name: "tag:node.k8s.amazonaws.com/instance_id", values: [instanceId] }]), [A]);
  assert.deepEqual(ids([{ name: "owner-id", values: [ACCOUNT] }]).length, 4);
  assert.deepEqual(ids([{ name: "owner-id", values: ["999999999999"] }]), []);
  assert.deepEqual(ids([{ name: "description", values: ["aws-K8S-*"] }, { name: "status", values: ["in-use"] }]), [A]);
  expectEc2Error(() => ids([{ name: "attachment.foo", values: ["x"] }]), "InvalidParameterValue", /The filter 'attachment\.foo' is invalid/);
});

test("describeNetworkInterfaces: ids, NotFound naming one id the agent's regex can extract", () => {
  const { model, subnetId } = makeWorld();
  const a = model.createNetworkInterface({ subnetId });
  assert.deepEqual(model.describeNetworkInterfaces({ ids: [a.networkInterfaceId] }).items.map((e) => e.networkInterfaceId), [a.networkInterfaceId]);
  const missing = "eni-0123456789abcdef0";
  const err = expectEc2Error(() => model.describeNetworkInterfaces({ ids: [a.networkInterfaceId, missing] }), "InvalidNetworkInterfaceID.NotFound");
  assert.equal(/'([a-zA-Z0-9-]+)'/.exec(err.message)?.[1], missing);
  expectEc2Error(() => model.describeNetworkInterfaces({ ids: ["eni-12345"] }), "InvalidNetworkInterfaceID.Malformed");
  expectEc2Error(() => model.describeNetworkInterfaces({ ids: [a.networkInterfaceId], maxResults: 5 }), "InvalidParameterCombination");
  expectEc2Error(() => model.describeNetworkInterfaces({ maxResults: 1001 }), "InvalidParameterValue");
});

test("describeNetworkInterfaces: paging across pages is stable even when ENIs come and go", () => {
  const { model, subnetId } = makeWorld();
  const created = Array.from({ length: 11 }, () => model.createNetworkInterface({ subnetId }).networkInterfaceId);
  const filters = [{ name: "subnet-id", values: [subnetId] }];
  const p1 = model.describeNetworkInterfaces({ filters, maxResults: 5 });
  assert.equal(p1.items.length, 5);
  assert.ok(p1.nextToken);
  // Between pages: delete one already returned and one not yet returned, create a new one.
  model.deleteNetworkInterface({ networkInterfaceId: created[1] as string });
  model.deleteNetworkInterface({ networkInterfaceId: created[6] as string });
  const late = model.createNetworkInterface({ subnetId }).networkInterfaceId;
  const p2 = model.describeNetworkInterfaces({ filters, maxResults: 5, nextToken: p1.nextToken as string });
  const p3 = model.describeNetworkInterfaces({ filters, maxResults: 5, nextToken: p2.nextToken as string });
  assert.equal(p3.nextToken, undefined);
  const seen = [...p1.items, ...p2.items, ...p3.items].map((e) => e.networkInterfaceId);
  const primary = model.networkInterfaces()[0]?.networkInterfaceId as string;
  assert.deepEqual(seen, [primary, ...created.filter((_, i) => i !== 6), late]);
  expectEc2Error(() => model.describeNetworkInterfaces({ maxResults: 5, nextToken: `${p1.nextToken}x` }), "InvalidParameterValue");
});

test("describeInstanceTypes: ids, unknown types, filters, paging bounds", () => {
  const { model } = makeWorld();
  const r = model.describeInstanceTypes({ ids: ["t3.micro", "m5.large"] });
  assert.deepEqual(r.items.map((t) => t.instanceType).sort(), ["m5.large", "t3.micro"]);
  assert.equal(r.items.find((t) => t.instanceType === "m5.large")?.ipv4PerEni, 10);
  expectEc2Error(() => model.describeInstanceTypes({ ids: ["m5.large", "x9.nope"] }), "InvalidInstanceType", /x9\.nope/);
  expectEc2Error(() => model.describeInstanceTypes({ maxResults: 101 }), "InvalidParameterValue");
  expectEc2Error(() => model.describeInstanceTypes({ maxResults: 4 }), "InvalidParameterValue");
  const page = model.describeInstanceTypes({ maxResults: 100 });
  assert.equal(page.items.length, 100);
  assert.ok(page.nextToken);
  const next = model.describeInstanceTypes({ maxResults: 100, nextToken: page.nextToken as string });
  assert.notEqual(next.items[0]?.instanceType, page.items[0]?.instanceType);
  const m5 = model.describeInstanceTypes({ filters: [{ name: "instance-type", values: ["m5.*large"] }], maxResults: 100 });
  assert.ok(m5.items.every((t) => /^m5\..*large$/.test(t.instanceType)));
  assert.ok(m5.items.some((t) => t.instanceType === "m5.2xlarge"));
  expectEc2Error(() => model.describeInstanceTypes({ filters: [{ name: "tag-key", values: ["x"] }] }), "InvalidParameterValue");
});

test("createTags / deleteTags across resource kinds", () => {
  const { model, events, subnetId, instanceId, vpcId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId }).networkInterfaceId;
  const sg = model.createSecurityGroup({ vpcId, groupName: "pods", description: "x" }).groupId;
  model.createTags({ resourceIds: [eni, instanceId, subnetId, vpcId, sg], tags: [{ key: "k", value: "v1" }, { key: "z", value: "" }] });
  assert.deepEqual(model.networkInterface(eni)?.tags, [{ key: "k", value: "v1" }, { key: "z", value: "" }]);
  assert.deepEqual(model.instance(instanceId)?.tags, [{ key: "k", value: "v1" }, { key: "z", value: "" }]);
  assert.deepEqual(model.subnet(subnetId)?.tags.map((t) => t.key), ["k", "z"]);
  assert.deepEqual(model.vpc(vpcId)?.tags.map((t) => t.key), ["k", "z"]);
  assert.deepEqual(model.securityGroups().find((g) => g.groupId === sg)?.tags.map((t) => t.key), ["k", "z"]);
  assert.equal(events.at(-1)?.kind, "eni-changed");
  // Overwrite keeps position; a value-qualified delete only removes a match.
  model.createTags({ resourceIds: [eni], tags: [{ key: "k", value: "v2" }] });
  assert.deepEqual(model.networkInterface(eni)?.tags, [{ key: "k", value: "v2" }, { key: "z", value: "" }]);
  model.deleteTags({ resourceIds: [eni], tags: [{ key: "k", value: "v1" }] });
  assert.equal(model.networkInterface(eni)?.tags.length, 2);
  model.deleteTags({ resourceIds: [eni], tags: [{ key: "k", value: "v2" }] });
  assert.deepEqual(model.networkInterface(eni)?.tags, [{ key: "z", value: "" }]);
  model.deleteTags({ resourceIds: [eni, instanceId], tags: [{ key: "z" }] });
  assert.deepEqual(model.networkInterface(eni)?.tags, []);
  assert.deepEqual(model.instance(instanceId)?.tags, [{ key: "k", value: "v1" }]);

  expectEc2Error(() => model.createTags({ resourceIds: ["eni-0123456789abcdef0"], tags: [{ key: "a", value: "b" }] }), "InvalidNetworkInterfaceID.NotFound");
  expectEc2Error(() => model.createTags({ resourceIds: ["i-0123456789abcdef0"], tags: [{ key: "a", value: "b" }] }), "InvalidInstanceID.NotFound");
  expectEc2Error(() => model.createTags({ resourceIds: ["subnet-0123456789abcdef0"], tags: [{ key: "a", value: "b" }] }), "InvalidSubnetID.NotFound");
  expectEc2Error(() => model.createTags({ resourceIds: ["vpc-0123456789abcdef0"], tags: [{ key: "a", value: "b" }] }), "InvalidVpcID.NotFound");
  expectEc2Error(() => model.createTags({ resourceIds: ["sg-0123456789abcdef0"], tags: [{ key: "a", value: "b" }] }), "InvalidGroup.NotFound");
  expectEc2Error(() => model.deleteTags({ resourceIds: ["eni-0123456789abcdef0"], tags: [{ key: "a" }] }), "InvalidNetworkInterfaceID.NotFound");
  expectEc2Error(() => model.createTags({ resourceIds: [eni], tags: [{ key: "aws:cloudformation", value: "b" }] }), "InvalidParameterValue");
  expectEc2Error(() => model.createTags({ resourceIds: [eni], tags: [{ key: "", value: "b" }] }), "InvalidParameterValue");
  // 50 tags are fine, the 51st is not; a failing request changes no resource.
  const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "v" }));
  model.createTags({ resourceIds: [eni], tags: fifty });
  expectEc2Error(() => model.createTags({ resourceIds: [instanceId, eni], tags: [{ key: "extra", value: "v" }] }), "TagLimitExceeded");
  assert.deepEqual(model.instance(instanceId)?.tags, [{ key: "k", value: "v1" }]);
  model.createTags({ resourceIds: [eni], tags: [{ key: "k0", value: "overwrite is not a new tag" }] });
});
