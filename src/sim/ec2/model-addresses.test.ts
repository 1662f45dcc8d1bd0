import { test } from "node:test";
import assert from "node:assert/strict";
import { expectEc2Error, makeWorld } from "./model.test-support.ts";
import { parseCidr4, parseIpv4, type Cidr4 } from "../ipv4.ts";

const inPrefix = (prefix: string, address: string) => {
  const c = parseCidr4(prefix) as Cidr4;
  const a = parseIpv4(address) as number;
  return a >= c.network && a < c.network + c.size;
};

/** A world with a second ENI attached at device 1 of the m5.large (limit: 10 addresses per ENI). */
function attachedWorld(seed = 1) {
  const world = makeWorld(seed);
  const eni = world.model.createNetworkInterface({ subnetId: world.subnetId });
  world.model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId: world.instanceId, deviceIndex: 1 });
  world.clock.advance(world.timings.attachMs);
  world.events.length = 0;
  return { ...world, eniId: eni.networkInterfaceId };
}

test("AssignPrivateIpAddresses by count: random free addresses, event, subnet accounting", () => {
  const { model, events, subnetId, eniId } = attachedWorld();
  const before = model.subnet(subnetId)?.availableIpAddressCount as number;
  const out = model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 3 });
  assert.equal(out.networkInterfaceId, eniId);
  assert.equal(out.assignedPrivateIpAddresses.length, 3);
  assert.deepEqual(out.assignedIpv4Prefixes, []);
  const eni = model.networkInterface(eniId);
  assert.equal(eni?.privateIps.length, 4);
  assert.deepEqual(eni?.privateIps.slice(1).map((p) => p.address), out.assignedPrivateIpAddresses);
  assert.ok(eni?.privateIps.slice(1).every((p) => !p.primary));
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, before - 3);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.kind, "eni-addresses-changed");
  if (events[0]?.kind === "eni-addresses-changed") assert.equal(events[0].eni.privateIps.length, 4);
});

test("auto-assigned addresses are not handed out in order", () => {
  const { model, eniId } = attachedWorld(5);
  const out = model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 8 });
  const octets = out.assignedPrivateIpAddresses.map((a) => Number(a.split(".")[3]));
  const sorted = [...octets].sort((a, b) => a - b);
  const consecutive = sorted.every((o, i) => i === 0 || o === (sorted[i - 1] as number) + 1);
  assert.ok(!consecutive, `addresses look sequential: ${octets.join(",")}`);
});

test("per-ENI limit: primary + secondaries + prefixes <= ipv4PerEni while attached", () => {
  const { model, subnetId, eniId } = attachedWorld();
  model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 9 }); // 10 = m5.large limit
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 }), "PrivateIpAddressLimitExceeded", /Number of private addresses will exceed limit/);
  const released = model.networkInterface(eniId)?.privateIps.slice(1, 3).map((p) => p.address) as string[];
  model.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: released });
  // Prefixes count against the same limit.
  const fresh = attachedWorld();
  fresh.model.assignPrivateIpAddresses({ networkInterfaceId: fresh.eniId, ipv4PrefixCount: 9 });
  expectEc2Error(() => fresh.model.assignPrivateIpAddresses({ networkInterfaceId: fresh.eniId, ipv4PrefixCount: 1 }), "PrivateIpAddressLimitExceeded");
  // An unattached ENI is not limited by any type until it is attached.
  const loose = model.createNetworkInterface({ subnetId });
  model.assignPrivateIpAddresses({ networkInterfaceId: loose.networkInterfaceId, secondaryPrivateIpAddressCount: 20 });
  assert.equal(model.networkInterface(loose.networkInterfaceId)?.privateIps.length, 21);
});

test("a primary ENI on a small type: t3.micro allows 2 addresses per ENI", () => {
  const { model, subnetId } = makeWorld();
  const inst = model.runInstance({ instanceType: "t3.micro", subnetId });
  const primary = inst.primaryNetworkInterfaceId;
  model.assignPrivateIpAddresses({ networkInterfaceId: primary, secondaryPrivateIpAddressCount: 1 });
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: primary, secondaryPrivateIpAddressCount: 1 }), "PrivateIpAddressLimitExceeded");
});

test("AssignPrivateIpAddresses: parameter combinations and counts", () => {
  const { model, eniId } = attachedWorld();
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1, ipv4PrefixCount: 1 }), "InvalidParameterCombination");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.77"], ipv4Prefixes: ["10.0.1.160/28"] }), "InvalidParameterCombination");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1, privateIpAddresses: ["10.0.1.77"] }), "InvalidParameterCombination");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 1, ipv4Prefixes: ["10.0.1.160/28"] }), "InvalidParameterCombination");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 0 }), "InvalidParameterValue");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 0 }), "InvalidParameterValue");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId }), "MissingParameter");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: "eni-0123456789abcdef0", secondaryPrivateIpAddressCount: 1 }), "InvalidNetworkInterfaceID.NotFound", /'eni-0123456789abcdef0'/);
  assert.equal(model.networkInterface(eniId)?.privateIps.length, 1);
});

test("AssignPrivateIpAddresses: explicit addresses and reassignment", () => {
  const { model, events, subnetId, eniId } = attachedWorld();
  const other = model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.30" });
  model.assignPrivateIpAddresses({ networkInterfaceId: other.networkInterfaceId, privateIpAddresses: ["10.0.1.31", "10.0.1.32"] });
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.31"] }), "InvalidParameterValue", /10\.0\.1\.31/);
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.2.31"] }), "InvalidParameterValue");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.2"] }), "InvalidParameterValue", /reserved/);
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.30"], allowReassignment: true }), "InvalidParameterValue", /primary/);
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.33", "10.0.1.33"] }), "InvalidParameterValue");

  events.length = 0;
  const out = model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.31", "10.0.1.34"], allowReassignment: true });
  assert.deepEqual(out.assignedPrivateIpAddresses, ["10.0.1.31", "10.0.1.34"]);
  assert.deepEqual(model.networkInterface(other.networkInterfaceId)?.privateIps.map((p) => p.address), ["10.0.1.30", "10.0.1.32"]);
  assert.ok(model.networkInterface(eniId)?.privateIps.some((p) => p.address === "10.0.1.31"));
  // Both ENIs changed: the loser first, so followers drop the address before it reappears.
  assert.deepEqual(events.map((e) => e.kind), ["eni-addresses-changed", "eni-addresses-changed"]);
  const [first, second] = events;
  if (first?.kind === "eni-addresses-changed" && second?.kind === "eni-addresses-changed") {
    assert.equal(first.eni.networkInterfaceId, other.networkInterfaceId);
    assert.equal(second.eni.networkInterfaceId, eniId);
  }
  // Moving does not change the subnet's free count beyond the one new address.
  const after = model.subnet(subnetId)?.availableIpAddressCount as number;
  model.assignPrivateIpAddresses({ networkInterfaceId: other.networkInterfaceId, privateIpAddresses: ["10.0.1.31"], allowReassignment: true });
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, after);
});

test("prefixes: aligned /28s inside the subnet, never over secondaries, reserved or other prefixes", () => {
  for (let seed = 1; seed <= 10; seed++) {
    const { model, vpcId } = makeWorld(seed);
    const subnet = model.createSubnet({ vpcId, cidrBlock: "10.0.8.0/24", availabilityZone: "us-east-1a" });
    const holder = model.createNetworkInterface({ subnetId: subnet.subnetId });
    model.assignPrivateIpAddresses({ networkInterfaceId: holder.networkInterfaceId, secondaryPrivateIpAddressCount: 30 });
    const singles = model.networkInterfaces().filter((e) => e.subnetId === subnet.subnetId).flatMap((e) => e.privateIps.map((p) => p.address));
    const taker = model.createNetworkInterface({ subnetId: subnet.subnetId });
    const prefixes: string[] = [];
    for (;;) {
      try {
        prefixes.push(...model.assignPrivateIpAddresses({ networkInterfaceId: taker.networkInterfaceId, ipv4PrefixCount: 1 }).assignedIpv4Prefixes);
      } catch (e) {
        assert.equal((e as { code: string }).code, "InsufficientCidrBlocks");
        break;
      }
    }
    const all = [...singles, ...model.networkInterface(taker.networkInterfaceId)!.privateIps.map((p) => p.address)];
    for (const prefix of prefixes) {
      assert.match(prefix, /^10\.0\.8\.\d+\/28$/);
      assert.ok(parseCidr4(prefix), `${prefix} aligned`);
      assert.ok(prefix !== "10.0.8.0/28" && prefix !== "10.0.8.240/28", "no reserved block");
      for (const a of all) assert.ok(!inPrefix(prefix, a), `seed ${seed}: ${a} inside ${prefix}`);
    }
    assert.equal(new Set(prefixes).size, prefixes.length);
    // New addresses never land in a prefix either.
    const more = model.assignPrivateIpAddresses({ networkInterfaceId: holder.networkInterfaceId, secondaryPrivateIpAddressCount: 5 });
    for (const a of more.assignedPrivateIpAddresses) for (const p of prefixes) assert.ok(!inPrefix(p, a));
  }
});

test("an auto-picked primary never lands in an explicit prefix of the same request", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const { model, vpcId } = makeWorld(seed);
    const subnet = model.createSubnet({ vpcId, cidrBlock: "10.0.8.0/26", availabilityZone: "us-east-1a" });
    const eni = model.createNetworkInterface({ subnetId: subnet.subnetId, ipv4Prefixes: ["10.0.8.16/28"] });
    assert.ok(!inPrefix("10.0.8.16/28", eni.privateIps[0]?.address as string), `seed ${seed}`);
  }
});

test("explicit prefixes: validation and assignment", () => {
  const { model, eniId, subnetId } = attachedWorld();
  const holder = model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.70" });
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.64/28"] }), "InvalidParameterValue", /in use/);
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.72/29"] }), "InvalidParameterValue");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.240/28"] }), "InvalidParameterValue", /reserved/);
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.9.1.16/28"] }), "InvalidParameterValue");
  const out = model.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.160/28"] });
  assert.deepEqual(out.assignedIpv4Prefixes, ["10.0.1.160/28"]);
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: holder.networkInterfaceId, ipv4Prefixes: ["10.0.1.160/28"] }), "InvalidParameterValue");
  // Individual addresses cannot be taken out of an assigned prefix.
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: holder.networkInterfaceId, privateIpAddresses: ["10.0.1.165"] }), "InvalidParameterValue");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: holder.networkInterfaceId, privateIpAddresses: ["10.0.1.165"], allowReassignment: true }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, privateIpAddress: "10.0.1.165" }), "InvalidIPAddress.InUse");
  const before = model.subnet(subnetId)?.availableIpAddressCount as number;
  model.unassignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.160/28"] });
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, before + 16);
  assert.deepEqual(model.networkInterface(eniId)?.ipv4Prefixes, []);
});

test("InsufficientFreeAddressesInSubnet / InsufficientCidrBlocks on assign, including the reservation", () => {
  const { model, subnetBId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId: subnetBId });
  model.setSubnetReservation(subnetBId, 245); // 250 free - 245 = 5 visible
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, secondaryPrivateIpAddressCount: 6 }), "InsufficientFreeAddressesInSubnet");
  expectEc2Error(() => model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, ipv4PrefixCount: 1 }), "InsufficientCidrBlocks");
  model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, secondaryPrivateIpAddressCount: 5 });
  assert.equal(model.subnet(subnetBId)?.availableIpAddressCount, 0);
  model.setSubnetReservation(subnetBId, 0);
  model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, ipv4PrefixCount: 1 });
});

test("UnassignPrivateIpAddresses: only this ENI's secondaries; the primary stays", () => {
  const { model, events, eniId } = attachedWorld();
  const out = model.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 2 });
  const primary = model.networkInterface(eniId)?.privateIps[0]?.address as string;
  expectEc2Error(() => model.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: [primary] }), "InvalidParameterValue", /primary/);
  expectEc2Error(() => model.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.10"] }), "InvalidParameterValue"); // the instance's
  expectEc2Error(() => model.unassignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.16/28"] }), "InvalidParameterValue");
  expectEc2Error(() => model.unassignPrivateIpAddresses({ networkInterfaceId: eniId }), "MissingParameter");
  events.length = 0;
  model.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: [out.assignedPrivateIpAddresses[0] as string] });
  assert.deepEqual(model.networkInterface(eniId)?.privateIps.map((p) => p.address), [primary, out.assignedPrivateIpAddresses[1]]);
  assert.equal(events[0]?.kind, "eni-addresses-changed");
  // The freed address can be taken again explicitly.
  model.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: [out.assignedPrivateIpAddresses[0] as string] });
});

test("IPv6: assign/unassign addresses and /80 prefixes, limits, subnet without IPv6", () => {
  const { model, subnetId, subnetBId, eniId } = attachedWorld();
  const cidr6 = model.subnet(subnetId)?.ipv6CidrBlock as string;
  const net = cidr6.slice(0, -"::/64".length);
  const out = model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6AddressCount: 2 });
  assert.equal(out.assignedIpv6Addresses.length, 2);
  for (const a of out.assignedIpv6Addresses) assert.ok(a.startsWith(`${net}:`), a);
  const p = model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6PrefixCount: 1 });
  assert.match(p.assignedIpv6Prefixes[0] as string, /\/80$/);
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6AddressCount: 1, ipv6PrefixCount: 1 }), "InvalidParameterCombination");
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6AddressCount: 1, ipv6Addresses: ["2600::1"] }), "InvalidParameterCombination");
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6AddressCount: 0 }), "InvalidParameterValue");
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId }), "MissingParameter");
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6Addresses: ["2001:db8::10"] }), "InvalidParameterValue");
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6Addresses: [out.assignedIpv6Addresses[0] as string] }), "InvalidParameterValue");
  // 3 used of m5.large's 10; 7 more fit, 8 do not.
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6AddressCount: 8 }), "InvalidParameterValue", /IPv6/);
  model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6AddressCount: 7 });
  model.unassignIpv6Addresses({ networkInterfaceId: eniId, ipv6Addresses: [out.assignedIpv6Addresses[0] as string], ipv6Prefixes: p.assignedIpv6Prefixes });
  const eni = model.networkInterface(eniId);
  assert.equal(eni?.ipv6Addresses.length, 8);
  assert.deepEqual(eni?.ipv6Prefixes, []);
  expectEc2Error(() => model.unassignIpv6Addresses({ networkInterfaceId: eniId, ipv6Addresses: [out.assignedIpv6Addresses[0] as string] }), "InvalidParameterValue");
  expectEc2Error(() => model.unassignIpv6Addresses({ networkInterfaceId: eniId }), "MissingParameter");
  // The freed address can be requested explicitly, in any spelling.
  const freed = out.assignedIpv6Addresses[0] as string;
  const expanded = freed.toUpperCase();
  assert.deepEqual(model.assignIpv6Addresses({ networkInterfaceId: eniId, ipv6Addresses: [expanded] }).assignedIpv6Addresses, [freed]);
  const v4only = model.createNetworkInterface({ subnetId: subnetBId });
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: v4only.networkInterfaceId, ipv6AddressCount: 1 }), "InvalidParameterValue", /IPv6/);
});

test("IPv6 explicit prefixes and addresses do not overlap", () => {
  const { model, subnetId } = makeWorld();
  const cidr6 = model.subnet(subnetId)?.ipv6CidrBlock as string; // "x:y:z:w::/64"
  const net = cidr6.slice(0, -"::/64".length);
  const a = model.createNetworkInterface({ subnetId, ipv6Addresses: [`${net}:5::10`] });
  const b = model.createNetworkInterface({ subnetId });
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: b.networkInterfaceId, ipv6Prefixes: [`${net}:5::/80`] }), "InvalidParameterValue");
  model.assignIpv6Addresses({ networkInterfaceId: b.networkInterfaceId, ipv6Prefixes: [`${net}:6::/80`] });
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: a.networkInterfaceId, ipv6Addresses: [`${net}:6::99`] }), "InvalidParameterValue");
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv6Addresses: [`${net}:5::10`] }), "InvalidIPAddress.InUse");
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: a.networkInterfaceId, ipv6Prefixes: [`${net}:7:1::/80`] }), "InvalidParameterValue");
});
