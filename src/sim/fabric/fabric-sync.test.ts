// FabricSync against the real EC2 model and a recording stand-in for the fabric: what the kernel
// is told must follow what EC2 did, whatever the attachment state.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Ec2Model } from "../ec2/model.ts";
import { loadInstanceTypes } from "../ec2/instance-types.ts";
import { ManualClock, seededRandom } from "../ec2/model.test-support.ts";
import type { WorldEvent } from "../ec2/types.ts";
import { FabricSync } from "../fabric-sync.ts";
import type { Fabric } from "./fabric.ts";

/** Records the fabric calls and keeps the state they would leave: public mappings and each ENI's addresses. */
class FakeFabric {
  readonly publicByPrivate = new Map<string, string>();
  readonly addresses = new Map<string, string[]>(); // eniId → private addresses routed to it
  readonly calls: string[] = [];
  async addInstance(r: { instanceId: string; primaryEni: { eniId: string; primaryIp: string } }) {
    this.calls.push(`addInstance ${r.instanceId}`);
    this.addresses.set(r.primaryEni.eniId, [r.primaryEni.primaryIp]);
  }
  async removeInstance(r: { instanceId: string }) {
    this.calls.push(`removeInstance ${r.instanceId}`);
  }
  async attachEni(r: { eniId: string; primaryIp: string }) {
    this.addresses.set(r.eniId, [r.primaryIp]);
  }
  async detachEni(r: { eniId: string }) {
    this.addresses.delete(r.eniId);
  }
  async setEniAddresses(r: { eniId: string; privateIps: readonly string[] }) {
    // As the real fabric: ENIs without a veth are ignored.
    if (this.addresses.has(r.eniId)) this.addresses.set(r.eniId, [...r.privateIps]);
  }
  async setSourceDestCheck() {}
  async addVpcCidr() {}
  async setPublicAddress(r: { privateIp: string; publicIp: string | undefined }) {
    if (r.publicIp === undefined) this.publicByPrivate.delete(r.privateIp);
    else this.publicByPrivate.set(r.privateIp, r.publicIp);
  }
}

function world(after?: (ms: number, run: () => void) => void) {
  const clock = new ManualClock();
  const listeners: ((e: WorldEvent) => void)[] = [];
  const timings = { attachMs: 0, detachMs: 0 };
  const model = new Ec2Model({
    clock,
    timings,
    instanceTypes: loadInstanceTypes(),
    accountId: "111122223333",
    region: "us-east-1",
    onEvent: (e) => listeners.forEach((l) => l(e)),
    random: seededRandom(3),
  });
  const fabric = new FakeFabric();
  const errors: string[] = [];
  const sync = new FabricSync({ api: model, fabric: fabric as unknown as Fabric, log: (level, message) => level === "error" && errors.push(message), ...(after ? { after } : {}) });
  listeners.push((e) => sync.onEvent(e));
  const vpc = model.createVpc({ cidrBlock: "10.0.0.0/16" });
  const subnet = model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.0.1.0/24", availabilityZone: "us-east-1a" });
  return { clock, timings, model, fabric, sync, errors, subnetId: subnet.subnetId };
}

test("terminating an instance removes its public address mapping at the internet gateway", async () => {
  const { model, fabric, sync, errors, subnetId } = world();
  const instance = model.runInstance({ instanceType: "m5.large", subnetId, associatePublicIp: true });
  await sync.settled();
  const privateIp = model.networkInterface(instance.primaryNetworkInterfaceId)!.privateIps[0]!.address;
  assert.equal(fabric.publicByPrivate.get(privateIp), instance.publicIpAddress);

  model.terminateInstance(instance.instanceId);
  await sync.settled();
  assert.deepEqual(errors, []);
  // Otherwise the private address, once EC2 hands it to someone else, would still be NATed to the
  // old public address (and reachable from outside through it).
  assert.equal(fabric.publicByPrivate.has(privateIp), false, "the mapping outlived the instance");
  assert.ok(fabric.calls.includes(`removeInstance ${instance.instanceId}`));
});

test("an address unassigned from a detaching ENI stops being delivered before the detach completes", async () => {
  const { clock, timings, model, fabric, sync, subnetId } = world();
  const instance = model.runInstance({ instanceType: "m5.large", subnetId });
  const eni = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 2 });
  const { attachmentId } = model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId: instance.instanceId, deviceIndex: 1 });
  clock.advance(0);
  await sync.settled();
  assert.equal(fabric.addresses.get(eni.networkInterfaceId)?.length, 3);

  timings.detachMs = 3000;
  model.detachNetworkInterface({ attachmentId });
  const gone = eni.privateIps[1]!.address;
  model.unassignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, privateIpAddresses: [gone] });
  await sync.settled();
  assert.ok(!fabric.addresses.get(eni.networkInterfaceId)!.includes(gone), "still routed to the ENI while it detaches");
  clock.advance(3000);
  await sync.settled();
  assert.equal(fabric.addresses.has(eni.networkInterfaceId), false);
});

test("a failed fabric update is retried with backoff from EC2's state then, not left until the ENI's next change", async () => {
  const retries: { ms: number; run: () => void }[] = [];
  const { clock, model, fabric, sync, errors, subnetId } = world((ms, run) => retries.push({ ms, run }));
  const instance = model.runInstance({ instanceType: "m5.large", subnetId });
  const eni = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 1 });
  model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId: instance.instanceId, deviceIndex: 1 });
  clock.advance(0);
  await sync.settled();

  // The kernel refuses the next two address updates (a busy netlink socket, say).
  let refusals = 2;
  const setEniAddresses = fabric.setEniAddresses.bind(fabric);
  fabric.setEniAddresses = async (r) => {
    if (refusals-- > 0) throw new Error("RTNETLINK answers: Device or resource busy");
    return setEniAddresses(r);
  };
  const [added] = model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, secondaryPrivateIpAddressCount: 1 }).assignedPrivateIpAddresses;
  await sync.settled();
  assert.ok(!fabric.addresses.get(eni.networkInterfaceId)!.includes(added!));
  assert.equal(retries.length, 1, "a retry is armed");
  assert.equal(retries[0]!.ms, 100);

  retries.shift()!.run();
  await sync.settled();
  assert.equal(retries.length, 1, "failed again: armed once more, later");
  assert.equal(retries[0]!.ms, 200);
  retries.shift()!.run();
  await sync.settled();
  assert.ok(fabric.addresses.get(eni.networkInterfaceId)!.includes(added!), "delivered without any further change to the ENI");
  assert.equal(retries.length, 0);
  assert.equal(errors.length, 2);
  assert.match(errors[0]!, /eni-addresses-changed: RTNETLINK answers: Device or resource busy \(retry 1 in 100 ms\)/);
});

test("a retry whose reason is gone is dropped (the ENI detached meanwhile)", async () => {
  const retries: (() => void)[] = [];
  const { clock, model, fabric, sync, subnetId } = world((_ms, run) => retries.push(run));
  const instance = model.runInstance({ instanceType: "m5.large", subnetId });
  const eni = model.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: 1 });
  const attachEni = fabric.attachEni.bind(fabric);
  let fail = true;
  fabric.attachEni = async (r) => {
    if (fail) throw new Error("veth not up yet");
    return attachEni(r);
  };
  const { attachmentId } = model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId: instance.instanceId, deviceIndex: 1 });
  clock.advance(0);
  await sync.settled();
  assert.equal(retries.length, 1);
  fail = false;
  model.detachNetworkInterface({ attachmentId });
  clock.advance(0);
  await sync.settled();
  retries.shift()!();
  await sync.settled();
  assert.equal(fabric.addresses.has(eni.networkInterfaceId), false, "not plugged back in after its detach");
});
