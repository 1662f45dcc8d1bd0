// IMDS against the real EC2 model, read through the AWS SDK's own IMDS client on loopback.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MetadataService } from "@aws-sdk/ec2-metadata-service";
import { fromInstanceMetadata } from "@smithy/credential-provider-imds";
import { Ec2Model } from "../ec2/model.ts";
import { loadInstanceTypes } from "../ec2/instance-types.ts";
import { ManualClock, seededRandom } from "../ec2/model.test-support.ts";
import { ImdsView } from "./imds-view.ts";
import { createImdsHandler } from "./imds-server.ts";
import { lookupMetadata } from "./metadata-tree.ts";

describe("IMDS", () => {
  const clock = new ManualClock(Date.now());
  let lagMs = 0;
  const view = { current: undefined as ImdsView | undefined };
  const model = new Ec2Model({
    clock,
    timings: { attachMs: 0, detachMs: 0 },
    instanceTypes: loadInstanceTypes(),
    accountId: "111122223333",
    region: "us-west-2",
    onEvent: (e) => view.current?.onEvent(e),
    random: seededRandom(7),
  });
  view.current = new ImdsView({ api: model, account: { accountId: "111122223333", region: "us-west-2" }, clock, lagMs: () => lagMs });
  const vpc = model.createVpc({ cidrBlock: "10.1.0.0/16", cidrBlocks: ["10.1.0.0/16", "100.64.0.0/16"] });
  const subnet = model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.1.0.0/20", availabilityZone: "us-west-2b" });
  const instance = model.runInstance({ instanceType: "c5.xlarge", subnetId: subnet.subnetId, associatePublicIp: true, iamRoleName: "node-role" });
  const primaryEni = model.networkInterface(instance.primaryNetworkInterfaceId)!;
  let issued = 0;
  let v1Allowed = false;
  const handler = createImdsHandler({
    view: view.current,
    resolveInstance: (ip) => (ip === "127.0.0.1" ? instance.instanceId : undefined),
    credentialsFor: () => {
      issued++;
      return { accessKeyId: "ASIAEXAMPLEEXAMPLE01", secretAccessKey: "secret", sessionToken: "token", expiration: new Date(Date.now() + 3600_000) };
    },
    allowV1: () => v1Allowed,
  });
  let server: Server;
  let imds: MetadataService;
  let endpoint: string;

  before(async () => {
    server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    imds = new MetadataService({ endpoint, retries: 0 });
  });
  after(() => server.close());

  test("the instance's identity, placement and primary ENI", async () => {
    assert.equal(await imds.request("/latest/meta-data/instance-id", {}), instance.instanceId);
    assert.equal(await imds.request("/latest/meta-data/instance-type", {}), "c5.xlarge");
    assert.equal(await imds.request("/latest/meta-data/placement/availability-zone", {}), "us-west-2b");
    assert.equal(await imds.request("/latest/meta-data/local-ipv4", {}), primaryEni.privateIps[0]!.address);
    assert.equal(await imds.request("/latest/meta-data/public-ipv4", {}), instance.publicIpAddress);
    assert.equal(await imds.request("/latest/meta-data/mac", {}), primaryEni.macAddress);
    const eniPath = `/latest/meta-data/network/interfaces/macs/${primaryEni.macAddress}`;
    const fields = (await imds.request(`${eniPath}/`, {})).split("\n");
    for (const f of ["device-number", "interface-id", "local-ipv4s", "subnet-id", "subnet-ipv4-cidr-block", "vpc-id", "vpc-ipv4-cidr-blocks", "security-group-ids", "network-card"]) {
      assert.ok(fields.includes(f), `${f} is listed`);
    }
    assert.ok(!fields.includes("ipv4-prefix"), "no prefix category without prefixes");
    assert.equal(await imds.request(`${eniPath}/vpc-ipv4-cidr-blocks`, {}), "10.1.0.0/16\n100.64.0.0/16");
    assert.equal(await imds.request(`${eniPath}/subnet-id`, {}), subnet.subnetId);
    const doc = JSON.parse(await imds.request("/latest/dynamic/instance-identity/document", {}));
    assert.equal(doc.region, "us-west-2");
    assert.equal(doc.accountId, "111122223333");
    await assert.rejects(imds.request(`${eniPath}/ipv4-prefix`, {}), /404/);
  });

  test("changes made through EC2 appear after the lag, in order", async () => {
    lagMs = 1500;
    const eni = model.createNetworkInterface({ subnetId: subnet.subnetId, secondaryPrivateIpAddressCount: 2 });
    model.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId: instance.instanceId, deviceIndex: 1 });
    clock.advance(0); // the attachment completes (attachMs 0); IMDS has not caught up yet
    const macs = () => imds.request("/latest/meta-data/network/interfaces/macs/", {});
    assert.equal(await macs(), `${primaryEni.macAddress}/`);
    clock.advance(1499);
    assert.equal(await macs(), `${primaryEni.macAddress}/`);
    clock.advance(1);
    assert.deepEqual((await macs()).split("\n").sort(), [`${primaryEni.macAddress}/`, `${eni.macAddress}/`].sort());
    const eniPath = `/latest/meta-data/network/interfaces/macs/${eni.macAddress}`;
    assert.equal(await imds.request(`${eniPath}/device-number`, {}), "1");
    const ips = (await imds.request(`${eniPath}/local-ipv4s`, {})).split("\n");
    assert.equal(ips[0], eni.privateIps[0]!.address, "the primary address first");
    assert.equal(ips.length, 3);

    model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, ipv4PrefixCount: 1 });
    clock.advance(1500);
    assert.match(await imds.request(`${eniPath}/ipv4-prefix`, {}), /^10\.1\.\d+\.\d+\/28$/);
    lagMs = 0;
  });

  test("a VPC CIDR associated or disassociated shows in every ENI's vpc-ipv4-cidr-blocks after the lag", async () => {
    lagMs = 1000;
    const path = `/latest/meta-data/network/interfaces/macs/${primaryEni.macAddress}/vpc-ipv4-cidr-blocks`;
    const added = model.associateVpcCidrBlock({ vpcId: vpc.vpcId, cidrBlock: "100.65.0.0/16" }).cidrBlockAssociation!;
    clock.advance(0);
    assert.equal(await imds.request(path, {}), "10.1.0.0/16\n100.64.0.0/16", "not before the lag");
    clock.advance(1000);
    assert.equal(await imds.request(path, {}), "10.1.0.0/16\n100.64.0.0/16\n100.65.0.0/16");
    model.disassociateVpcCidrBlock({ associationId: added.associationId });
    clock.advance(1000);
    assert.equal(await imds.request(path, {}), "10.1.0.0/16\n100.64.0.0/16");
    lagMs = 0;
  });

  test("role credentials in the shape the SDK's credential provider reads", async () => {
    const provider = fromInstanceMetadata({ maxRetries: 0, timeout: 2000 });
    // The provider talks to the real IMDS address; point it at ours through its documented variable.
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = endpoint;
    try {
      const creds = await provider();
      assert.equal(creds.accessKeyId, "ASIAEXAMPLEEXAMPLE01");
      assert.equal(creds.sessionToken, "token");
      assert.ok(creds.expiration && creds.expiration.getTime() > Date.now());
      assert.ok(issued > 0);
    } finally {
      delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
    }
    assert.equal(await imds.request("/latest/meta-data/iam/security-credentials/", {}), "node-role");
    await assert.rejects(imds.request("/latest/meta-data/iam/security-credentials/other-role", {}), /404/);
  });

  test("IMDSv1 is refused unless allowed; unknown callers are refused", async () => {
    const v1 = new MetadataService({ endpoint, disableFetchToken: true, retries: 0 });
    await assert.rejects(v1.request("/latest/meta-data/instance-id", {}), /401/);
    v1Allowed = true;
    assert.equal(await v1.request("/latest/meta-data/instance-id", {}), instance.instanceId);
    v1Allowed = false;

    const stranger = createServer(createImdsHandler({ view: view.current!, resolveInstance: () => undefined, credentialsFor: () => assert.fail("no credentials for strangers") }));
    await new Promise<void>((r) => stranger.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (stranger.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" } });
      assert.equal(res.status, 403);
    } finally {
      stranger.close();
    }
  });

  test("a terminated instance has no metadata", async () => {
    const other = model.runInstance({ instanceType: "t3.medium", subnetId: subnet.subnetId });
    assert.ok(view.current!.tree(other.instanceId));
    model.terminateInstance(other.instanceId);
    clock.advance(10);
    assert.equal(view.current!.tree(other.instanceId), undefined);
  });
});

test("IMDS keeps following EC2 when changes come closer together than the lag", () => {
  const clock = new ManualClock(Date.now());
  const views: ImdsView[] = [];
  const model = new Ec2Model({
    clock,
    timings: { attachMs: 0, detachMs: 0 },
    instanceTypes: loadInstanceTypes(),
    accountId: "111122223333",
    region: "us-west-2",
    onEvent: (e) => views.forEach((v) => v.onEvent(e)),
    random: seededRandom(11),
  });
  const view = new ImdsView({ api: model, account: { accountId: "111122223333", region: "us-west-2" }, clock, lagMs: () => 1000 });
  views.push(view);
  const vpc = model.createVpc({ cidrBlock: "10.2.0.0/16" });
  const subnet = model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.2.0.0/20", availabilityZone: "us-west-2a" });
  const instance = model.runInstance({ instanceType: "m5.large", subnetId: subnet.subnetId });
  const eni = model.networkInterface(instance.primaryNetworkInterfaceId)!;
  const ips = () => {
    const node = lookupMetadata(view.tree(instance.instanceId)!, `meta-data/network/interfaces/macs/${eni.macAddress}/local-ipv4s`);
    return typeof node === "string" ? node.split("\n").length : 0;
  };
  assert.equal(ips(), 1);
  // An agent assigning an address every 500 ms: each change must show up 1 s after it was made,
  // not be cancelled by the next one.
  for (let i = 1; i <= 6; i++) {
    model.assignPrivateIpAddresses({ networkInterfaceId: eni.networkInterfaceId, secondaryPrivateIpAddressCount: 1 });
    clock.advance(500);
  }
  assert.equal(ips(), 1 + 5, "IMDS shows EC2 as it was one lag ago");
  clock.advance(500);
  assert.equal(ips(), 1 + 6);
});

test("metadata paths are the tree's own entries, not object internals", () => {
  const tree = { "meta-data": { "instance-id": "i-0123" } };
  assert.equal(lookupMetadata(tree, "meta-data/constructor"), undefined);
  assert.equal(lookupMetadata(tree, "constructor/name"), undefined);
  assert.equal(lookupMetadata(tree, "meta-data/__proto__"), undefined);
  assert.equal(lookupMetadata(tree, "meta-data/instance-id"), "i-0123");
});
