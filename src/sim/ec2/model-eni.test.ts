import { test } from "node:test";
import assert from "node:assert/strict";
import { expectEc2Error, makeWorld } from "./model.test-support.ts";
import { parseCidr4, parseIpv4, type Cidr4 } from "../ipv4.ts";

const inCidr = (cidr: string, address: string) => {
  const c = parseCidr4(cidr) as Cidr4;
  const a = parseIpv4(address) as number;
  return a >= c.network && a < c.network + c.size;
};

test("CreateNetworkInterface: defaults", () => {
  const { model, subnetId, vpcId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId });
  assert.match(eni.networkInterfaceId, /^eni-[0-9a-f]{17}$/);
  assert.match(eni.macAddress, /^02(:[0-9a-f]{2}){5}$/);
  assert.equal(eni.status, "available");
  assert.equal(eni.interfaceType, "interface");
  assert.equal(eni.sourceDestCheck, true);
  assert.equal(eni.description, "");
  assert.equal(eni.vpcId, vpcId);
  assert.equal(eni.availabilityZone, "us-east-1a");
  assert.equal(eni.privateIps.length, 1);
  assert.equal(eni.privateIps[0]?.primary, true);
  assert.ok(inCidr("10.0.1.0/24", eni.privateIps[0]?.address as string));
  const defaultSg = model.securityGroups().find((g) => g.vpcId === vpcId && g.groupName === "default");
  assert.deepEqual(eni.groupIds, [defaultSg?.groupId]);
  assert.equal(eni.attachment, undefined);
});

test("CreateNetworkInterface: explicit and counted addresses, prefixes, IPv6, tags", () => {
  const { model, subnetId, vpcId } = makeWorld();
  const sg = model.createSecurityGroup({ vpcId, groupName: "pods", description: "x" });
  const eni = model.createNetworkInterface({
    subnetId,
    description: "aws-K8S-i-1",
    groupIds: [sg.groupId],
    privateIpAddresses: [
      { address: "10.0.1.50", primary: false },
      { address: "10.0.1.40", primary: true },
    ],
    ipv6AddressCount: 2,
    interfaceType: "trunk",
    tagSpecifications: [{ resourceType: "network-interface", tags: [{ key: "cluster", value: "c1" }] }],
  });
  assert.deepEqual(eni.privateIps, [
    { address: "10.0.1.40", primary: true },
    { address: "10.0.1.50", primary: false },
  ]);
  assert.equal(eni.ipv6Addresses.length, 2);
  assert.equal(eni.interfaceType, "trunk");
  assert.deepEqual(eni.groupIds, [sg.groupId]);
  assert.deepEqual(eni.tags, [{ key: "cluster", value: "c1" }]);

  const explicitPrefix = model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.1.128/28"] });
  assert.deepEqual(explicitPrefix.ipv4Prefixes, ["10.0.1.128/28"]);
  const counted = model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.60", secondaryPrivateIpAddressCount: 4 });
  assert.equal(counted.privateIps[0]?.address, "10.0.1.60");
  assert.equal(counted.privateIps.length, 5);
  assert.equal(new Set(counted.privateIps.map((p) => p.address)).size, 5);

  const withPrefixes = model.createNetworkInterface({ subnetId, ipv4PrefixCount: 2, ipv6PrefixCount: 1 });
  assert.equal(withPrefixes.ipv4Prefixes.length, 2);
  for (const p of withPrefixes.ipv4Prefixes) assert.match(p, /^10\.0\.1\.\d+\/28$/);
  assert.equal(withPrefixes.ipv6Prefixes.length, 1);
  assert.match(withPrefixes.ipv6Prefixes[0] as string, /\/80$/);

  // 1 (instance) + 2 + 5 + 1 + 32 + 1 + 16 addresses used
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, 251 - 58);
});

test("CreateNetworkInterface: errors from their real causes", () => {
  const { model, subnetId, subnetBId } = makeWorld();
  const taken = model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.20" });
  expectEc2Error(() => model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.20" }), "InvalidIPAddress.InUse");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.2.20" }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.3" }), "InvalidParameterValue", /reserved/);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.255" }), "InvalidParameterValue", /reserved/);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1" }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 2, ipv4PrefixCount: 1 }), "InvalidParameterCombination");
  expectEc2Error(
    () => model.createNetworkInterface({ subnetId, privateIpAddresses: [{ address: "10.0.1.30", primary: true }, { address: "10.0.1.31", primary: false }], ipv4PrefixCount: 1 }),
    "InvalidParameterCombination",
  );
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4PrefixCount: 1, ipv4Prefixes: ["10.0.1.16/28"] }), "InvalidParameterCombination");
  expectEc2Error(
    () => model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 1, privateIpAddresses: [{ address: "10.0.1.30", primary: false }] }),
    "InvalidParameterCombination",
  );
  expectEc2Error(
    () => model.createNetworkInterface({ subnetId, ipv4PrefixCount: 1, privateIpAddresses: [{ address: "10.0.1.30", primary: true }] }),
    "InvalidParameterCombination",
  );
  // The primary alone with prefixes is fine when given as privateIpAddress.
  const withPrimary = model.createNetworkInterface({ subnetId, ipv4PrefixCount: 1, privateIpAddress: "10.0.1.30" });
  model.unassignPrivateIpAddresses({ networkInterfaceId: withPrimary.networkInterfaceId, ipv4Prefixes: withPrimary.ipv4Prefixes });
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv6AddressCount: 1, ipv6Addresses: ["2600::1"] }), "InvalidParameterCombination");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv6AddressCount: 1, ipv6PrefixCount: 1 }), "InvalidParameterCombination");
  expectEc2Error(
    () => model.createNetworkInterface({ subnetId, privateIpAddresses: [{ address: "10.0.1.30", primary: true }, { address: "10.0.1.31", primary: true }] }),
    "InvalidParameterValue",
  );
  expectEc2Error(() => model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 0 }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4PrefixCount: -1 }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv6AddressCount: 0 }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId: subnetBId, ipv6AddressCount: 1 }), "InvalidParameterValue", /IPv6/);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.1.24/28"] }), "InvalidParameterValue"); // not a CIDR (host bits)
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.1.0/28"] }), "InvalidParameterValue", /reserved/);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.1.16/28"], privateIpAddress: "10.0.1.20" }), "InvalidIPAddress.InUse");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.1.16/28"] }), "InvalidParameterValue", /in use/); // holds taken's address
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.2.16/28"] }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv4Prefixes: ["10.0.1.32/27"] }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, description: "x".repeat(256) }), "InvalidParameterValue");
  model.createNetworkInterface({ subnetId, description: "x".repeat(255) });
  expectEc2Error(() => model.createNetworkInterface({ subnetId, interfaceType: "branch" }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, tagSpecifications: [{ resourceType: "instance", tags: [] }] }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, tagSpecifications: [{ resourceType: "network-interface", tags: [{ key: "aws:x", value: "" }] }] }), "InvalidParameterValue");
  const many = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "v" }));
  expectEc2Error(() => model.createNetworkInterface({ subnetId, tagSpecifications: [{ resourceType: "network-interface", tags: many }] }), "TagLimitExceeded");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, groupIds: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound", /'sg-0123456789abcdef0'/);
  const otherVpc = model.createVpc({ cidrBlock: "10.50.0.0/16" });
  const foreignSg = model.securityGroups().find((g) => g.vpcId === otherVpc.vpcId)?.groupId as string;
  expectEc2Error(() => model.createNetworkInterface({ subnetId, groupIds: [foreignSg] }), "InvalidGroup.NotFound");
  expectEc2Error(() => model.createNetworkInterface({ subnetId: "subnet-0123456789abcdef0" }), "InvalidSubnetID.NotFound", /'subnet-0123456789abcdef0'/);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, groupIds: ["sg-zz"] }), "InvalidGroupId.Malformed");
  expectEc2Error(() => model.createNetworkInterface({ subnetId: "subnet-12" }), "InvalidSubnetID.Malformed");
  // Nothing above changed the subnet.
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, 251 - 4); // instance, taken, withPrimary, the long description
  assert.ok(taken);
});

test("InsufficientFreeAddressesInSubnet and InsufficientCidrBlocks", () => {
  const { model, vpcId } = makeWorld();
  const small = model.createSubnet({ vpcId, cidrBlock: "10.0.3.0/28", availabilityZone: "us-east-1a" });
  model.createNetworkInterface({ subnetId: small.subnetId, secondaryPrivateIpAddressCount: 9 });
  expectEc2Error(() => model.createNetworkInterface({ subnetId: small.subnetId, secondaryPrivateIpAddressCount: 1 }), "InsufficientFreeAddressesInSubnet");
  model.createNetworkInterface({ subnetId: small.subnetId });
  expectEc2Error(() => model.createNetworkInterface({ subnetId: small.subnetId }), "InsufficientFreeAddressesInSubnet");

  // A /26 has two /28s that avoid the reserved addresses; a third cannot exist.
  const mid = model.createSubnet({ vpcId, cidrBlock: "10.0.4.0/26", availabilityZone: "us-east-1a" });
  const eni = model.createNetworkInterface({ subnetId: mid.subnetId, privateIpAddress: "10.0.4.4", ipv4PrefixCount: 2 });
  assert.deepEqual([...eni.ipv4Prefixes].sort(), ["10.0.4.16/28", "10.0.4.32/28"]);
  expectEc2Error(() => model.createNetworkInterface({ subnetId: mid.subnetId, ipv4PrefixCount: 1 }), "InsufficientCidrBlocks");
  // Fragmentation: plenty of addresses but no clean /28.
  const frag = model.createSubnet({ vpcId, cidrBlock: "10.0.5.0/26", availabilityZone: "us-east-1a" });
  model.createNetworkInterface({ subnetId: frag.subnetId, privateIpAddress: "10.0.5.20" });
  model.createNetworkInterface({ subnetId: frag.subnetId, privateIpAddress: "10.0.5.40" });
  assert.ok((model.subnet(frag.subnetId)?.availableIpAddressCount as number) >= 16);
  expectEc2Error(() => model.createNetworkInterface({ subnetId: frag.subnetId, ipv4PrefixCount: 1 }), "InsufficientCidrBlocks");
});

test("attach/detach state machine on the virtual clock, with events", () => {
  const { model, clock, events, subnetId, instanceId, timings } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 2 });
  const { attachmentId, networkCardIndex } = model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId, deviceIndex: 1 });
  assert.match(attachmentId, /^eni-attach-[0-9a-f]{17}$/);
  assert.equal(networkCardIndex, 0);
  let now = model.networkInterface(eni.networkInterfaceId);
  assert.equal(now?.status, "in-use");
  assert.equal(now?.attachment?.status, "attaching");
  assert.equal(now?.attachment?.instanceId, instanceId);
  assert.equal(now?.attachment?.deviceIndex, 1);
  assert.equal(now?.attachment?.deleteOnTermination, false);
  assert.equal(events.length, 0);
  // Detach is refused until the attachment is attached.
  expectEc2Error(() => model.detachNetworkInterface({ attachmentId }), "IncorrectState");

  clock.advance(timings.attachMs - 1);
  assert.equal(model.networkInterface(eni.networkInterfaceId)?.attachment?.status, "attaching");
  clock.advance(1);
  assert.equal(model.networkInterface(eni.networkInterfaceId)?.attachment?.status, "attached");
  assert.equal(events.length, 1);
  const attached = events[0];
  assert.equal(attached?.kind, "eni-attached");
  if (attached?.kind === "eni-attached") {
    assert.equal(attached.instanceId, instanceId);
    assert.equal(attached.deviceIndex, 1);
    assert.equal(attached.eni.networkInterfaceId, eni.networkInterfaceId);
    assert.equal(attached.eni.privateIps.length, 3);
  }

  expectEc2Error(() => model.deleteNetworkInterface({ networkInterfaceId: eni.networkInterfaceId }), "InvalidNetworkInterface.InUse");
  // Timings are read at each call: fault injection can slow detaches down.
  timings.detachMs = 5000;
  model.detachNetworkInterface({ attachmentId, force: true });
  now = model.networkInterface(eni.networkInterfaceId);
  assert.equal(now?.status, "detaching");
  assert.equal(now?.attachment?.status, "detaching");
  expectEc2Error(() => model.detachNetworkInterface({ attachmentId }), "IncorrectState");
  expectEc2Error(() => model.deleteNetworkInterface({ networkInterfaceId: eni.networkInterfaceId }), "InvalidNetworkInterface.InUse");
  clock.advance(4999);
  assert.equal(model.networkInterface(eni.networkInterfaceId)?.status, "detaching");
  clock.advance(1);
  now = model.networkInterface(eni.networkInterfaceId);
  assert.equal(now?.status, "available");
  assert.equal(now?.attachment, undefined);
  assert.equal(events.length, 2);
  assert.equal(events[1]?.kind, "eni-detached");
  if (events[1]?.kind === "eni-detached") {
    assert.equal(events[1].instanceId, instanceId);
    assert.equal(events[1].deviceIndex, 1);
    assert.equal(events[1].eni.status, "available");
  }
  expectEc2Error(() => model.detachNetworkInterface({ attachmentId }), "InvalidAttachmentID.NotFound", new RegExp(`'${attachmentId}'`));

  const addressesBefore = model.subnet(subnetId)?.availableIpAddressCount as number;
  model.deleteNetworkInterface({ networkInterfaceId: eni.networkInterfaceId });
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, addressesBefore + 3);
  assert.equal(events[2]?.kind, "eni-deleted");
  assert.equal(model.networkInterface(eni.networkInterfaceId), undefined);
  expectEc2Error(
    () => model.deleteNetworkInterface({ networkInterfaceId: eni.networkInterfaceId }),
    "InvalidNetworkInterfaceID.NotFound",
    new RegExp(`^The networkInterface ID '${eni.networkInterfaceId}' does not exist$`),
  );
});

test("AttachNetworkInterface: errors from their real causes", () => {
  const { model, clock, subnetId, subnetBId, instanceId } = makeWorld();
  const primaryEni = model.instance(instanceId)?.primaryNetworkInterfaceId as string;
  const eni = () => model.createNetworkInterface({ subnetId }).networkInterfaceId;

  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: "eni-0123456789abcdef0", instanceId, deviceIndex: 1 }), "InvalidNetworkInterfaceID.NotFound", /'eni-0123456789abcdef0'/);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: "eni-bad", instanceId, deviceIndex: 1 }), "InvalidNetworkInterfaceID.Malformed");
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: "i-0123456789abcdef0", deviceIndex: 1 }), "InvalidInstanceID.NotFound", /'i-0123456789abcdef0'/);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: "i-x", deviceIndex: 1 }), "InvalidInstanceID.Malformed");
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: primaryEni, instanceId, deviceIndex: 1 }), "InvalidNetworkInterface.InUse", /Interface: \[eni-/);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 0 }), "InvalidParameterValue", /device index/);
  const otherZone = model.createNetworkInterface({ subnetId: subnetBId }).networkInterfaceId;
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: otherZone, instanceId, deviceIndex: 1 }), "InvalidParameterCombination", /availability zone/);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 1, networkCardIndex: 1 }), "InvalidParameterValue", /networkCardIndex/);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: -1 }), "InvalidParameterValue");

  // m5.large: 3 ENIs; an attaching one already counts.
  model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 1 });
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 1 }), "InvalidParameterValue"); // index taken while attaching
  model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 2 });
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 3 }), "AttachmentLimitExceeded", /m5\.large/);
  clock.advance(10_000);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId, deviceIndex: 3 }), "AttachmentLimitExceeded");

  // More addresses than the type allows (m5.large: 10 per ENI) → refused on attach.
  const other = model.runInstance({ instanceType: "m5.large", subnetId });
  const big = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 10 });
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: big.networkInterfaceId, instanceId: other.instanceId, deviceIndex: 1 }), "PrivateIpAddressLimitExceeded");
  const fits = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 9 });
  model.attachNetworkInterface({ networkInterfaceId: fits.networkInterfaceId, instanceId: other.instanceId, deviceIndex: 1 });
  const bigV6 = model.createNetworkInterface({ subnetId, ipv6AddressCount: 11 });
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: bigV6.networkInterfaceId, instanceId: other.instanceId, deviceIndex: 2 }), "InvalidParameterValue", /IPv6/);

  model.terminateInstance(other.instanceId);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: other.instanceId, deviceIndex: 1 }), "IncorrectInstanceState");
});

test("multiple network cards: index bounded by the type, device index unique per card", () => {
  const { model, clock, subnetId } = makeWorld();
  const inst = model.runInstance({ instanceType: "c6in.32xlarge", subnetId }); // 2 cards, 8 ENIs per card
  const eni = () => model.createNetworkInterface({ subnetId }).networkInterfaceId;
  const r = model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: inst.instanceId, deviceIndex: 0, networkCardIndex: 1 });
  assert.equal(r.networkCardIndex, 1);
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: inst.instanceId, deviceIndex: 0, networkCardIndex: 1 }), "InvalidParameterValue");
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: inst.instanceId, deviceIndex: 1, networkCardIndex: 2 }), "InvalidParameterValue");
  for (let d = 1; d < 8; d++) model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: inst.instanceId, deviceIndex: d });
  expectEc2Error(() => model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: inst.instanceId, deviceIndex: 8 }), "AttachmentLimitExceeded");
  model.attachNetworkInterface({ networkInterfaceId: eni(), instanceId: inst.instanceId, deviceIndex: 1, networkCardIndex: 1 });
  clock.advance(1000);
  const attached = model.networkInterfaces().filter((e) => e.attachment?.instanceId === inst.instanceId);
  assert.equal(attached.length, 10);
  assert.ok(attached.every((e) => e.attachment?.status === "attached"));
});

test("DetachNetworkInterface: device index 0, unknown and malformed attachments", () => {
  const { model, instanceId } = makeWorld();
  const primary = model.networkInterface(model.instance(instanceId)?.primaryNetworkInterfaceId as string);
  expectEc2Error(() => model.detachNetworkInterface({ attachmentId: primary?.attachment?.attachmentId as string }), "OperationNotPermitted");
  expectEc2Error(() => model.detachNetworkInterface({ attachmentId: "eni-attach-0123456789abcdef0" }), "InvalidAttachmentID.NotFound");
  expectEc2Error(() => model.detachNetworkInterface({ attachmentId: "eni-attach-zz" }), "InvalidAttachmentID.Malformed");
});

test("ModifyNetworkInterfaceAttribute: one attribute per call, each with its rules and an event", () => {
  const { model, clock, events, subnetId, instanceId, vpcId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId });
  const id = eni.networkInterfaceId;
  expectEc2Error(() => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id }), "MissingParameter");
  expectEc2Error(() => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, sourceDestCheck: false, description: "x" }), "InvalidParameterCombination");

  model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, sourceDestCheck: false });
  assert.equal(model.networkInterface(id)?.sourceDestCheck, false);
  assert.equal(events.at(-1)?.kind, "eni-changed");
  if (events.at(-1)?.kind === "eni-changed") assert.equal((events.at(-1) as { eni: { sourceDestCheck: boolean } }).eni.sourceDestCheck, false);

  const sg = model.createSecurityGroup({ vpcId, groupName: "pods", description: "x" });
  model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, groupIds: [sg.groupId] });
  assert.deepEqual(model.networkInterface(id)?.groupIds, [sg.groupId]);
  expectEc2Error(() => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, groupIds: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound");
  assert.deepEqual(model.networkInterface(id)?.groupIds, [sg.groupId]);

  model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, description: "aws-K8S-i-x" });
  assert.equal(model.networkInterface(id)?.description, "aws-K8S-i-x");
  expectEc2Error(() => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, description: "d".repeat(256) }), "InvalidParameterValue");

  // DeleteOnTermination needs the ENI's current attachment.
  expectEc2Error(
    () => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, attachment: { attachmentId: "eni-attach-0123456789abcdef0", deleteOnTermination: true } }),
    "InvalidAttachmentID.NotFound",
  );
  expectEc2Error(
    () => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, attachment: { attachmentId: "attach-1", deleteOnTermination: true } }),
    "InvalidAttachmentID.Malformed",
  );
  const { attachmentId } = model.attachNetworkInterface({ networkInterfaceId: id, instanceId, deviceIndex: 1 });
  clock.advance(1000);
  const other = model.createNetworkInterface({ subnetId });
  expectEc2Error(
    () => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: other.networkInterfaceId, attachment: { attachmentId, deleteOnTermination: true } }),
    "InvalidAttachmentID.NotFound",
  );
  model.modifyNetworkInterfaceAttribute({ networkInterfaceId: id, attachment: { attachmentId, deleteOnTermination: true } });
  assert.equal(model.networkInterface(id)?.attachment?.deleteOnTermination, true);
  expectEc2Error(() => model.modifyNetworkInterfaceAttribute({ networkInterfaceId: "eni-0123456789abcdef0", sourceDestCheck: true }), "InvalidNetworkInterfaceID.NotFound");
});

test("returned ENIs and event payloads are copies", () => {
  const { model, events, subnetId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId });
  eni.privateIps.push({ address: "10.0.1.99", primary: false });
  eni.tags.push({ key: "a", value: "b" });
  const stored = model.networkInterface(eni.networkInterfaceId);
  assert.equal(stored?.privateIps.length, 1);
  assert.equal(stored?.tags.length, 0);
  model.modifyNetworkInterfaceAttribute({ networkInterfaceId: eni.networkInterfaceId, description: "x" });
  const e = events.at(-1);
  if (e?.kind === "eni-changed") e.eni.description = "mutated";
  assert.equal(model.networkInterface(eni.networkInterfaceId)?.description, "x");
  const listed = model.describeNetworkInterfaces({ ids: [eni.networkInterfaceId] }).items[0];
  if (listed) listed.groupIds.length = 0;
  assert.equal(model.networkInterface(eni.networkInterfaceId)?.groupIds.length, 1);
});
