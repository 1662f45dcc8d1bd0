// IMDS's IPv6 paths against the real EC2 model, read through the AWS SDK's own IMDS client on
// loopback: what the reference agent reads in IPv6 mode, and the same lag behind EC2 as IPv4.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MetadataService } from "@aws-sdk/ec2-metadata-service";
import { Ec2Model } from "../ec2/model.ts";
import { loadInstanceTypes } from "../ec2/instance-types.ts";
import { ManualClock, seededRandom, subnet64 } from "../ec2/model.test-support.ts";
import { ImdsView } from "./imds-view.ts";
import { createImdsHandler } from "./imds-server.ts";

describe("IMDS IPv6 paths", () => {
  const clock = new ManualClock(Date.now());
  let lagMs = 0;
  const views: ImdsView[] = [];
  const model = new Ec2Model({
    clock,
    timings: { attachMs: 0, detachMs: 0, cidrAssociationMs: 500 },
    instanceTypes: loadInstanceTypes(),
    accountId: "111122223333",
    region: "us-east-1",
    onEvent: (e) => views.forEach((v) => v.onEvent(e)),
    random: seededRandom(21),
  });
  const view = new ImdsView({ api: model, account: { accountId: "111122223333", region: "us-east-1" }, clock, lagMs: () => lagMs });
  views.push(view);
  const dual = model.createVpc({ cidrBlock: "10.30.0.0/16", ipv6: true });
  const vpc6 = dual.ipv6CidrBlocks[0]!;
  const subnet6 = subnet64(vpc6, 0);
  const subnet = model.createSubnet({ vpcId: dual.vpcId, cidrBlock: "10.30.0.0/20", availabilityZone: "us-east-1a", ipv6CidrBlock: subnet6 });
  const node = model.runInstance({ instanceType: "m5.large", subnetId: subnet.subnetId, ipv6AddressCount: 1 });
  const eni = model.networkInterface(node.primaryNetworkInterfaceId)!;
  const v4vpc = model.createVpc({ cidrBlock: "10.31.0.0/16" });
  const v4subnet = model.createSubnet({ vpcId: v4vpc.vpcId, cidrBlock: "10.31.0.0/20", availabilityZone: "us-east-1a" });
  const v4node = model.runInstance({ instanceType: "m5.large", subnetId: v4subnet.subnetId });
  const v4eni = model.networkInterface(v4node.primaryNetworkInterfaceId)!;

  const byAddress = new Map([
    ["127.0.0.1", node.instanceId],
    ["127.0.0.2", v4node.instanceId],
  ]);
  const handler = createImdsHandler({
    view,
    resolveInstance: (ip) => byAddress.get(ip),
    credentialsFor: () => ({ accessKeyId: "ASIAEXAMPLEEXAMPLE01", secretAccessKey: "s", sessionToken: "t", expiration: new Date(Date.now() + 3600_000) }),
  });
  let server: Server;
  let imds: MetadataService;
  /** The other instance: the same server, reached from another loopback source address. */
  let v4imds: (path: string) => Promise<string>;

  before(async () => {
    server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    imds = new MetadataService({ endpoint: `http://127.0.0.1:${port}`, retries: 0 });
    v4imds = async (path) => {
      const token = await fetchFrom(port, "PUT", "/latest/api/token", { "x-aws-ec2-metadata-token-ttl-seconds": "60" });
      return fetchFrom(port, "GET", path, { "x-aws-ec2-metadata-token": token });
    };
  });
  after(() => server.close());

  const get = (path: string) => imds.request(path, {});
  const macPath = (mac: string) => `/latest/meta-data/network/interfaces/macs/${mac}`;

  test("a dual-stack node: ipv6, and its ENI's ipv6s, subnet-ipv6-cidr-blocks and vpc-ipv6-cidr-blocks", async () => {
    assert.equal(await get("/latest/meta-data/ipv6"), eni.ipv6Addresses[0]);
    const fields = (await get(`${macPath(eni.macAddress)}/`)).split("\n");
    for (const f of ["ipv6s", "subnet-ipv6-cidr-blocks", "vpc-ipv6-cidr-blocks"]) assert.ok(fields.includes(f), `${f} is listed`);
    assert.ok(!fields.includes("ipv6-prefix"), "no prefix category without prefixes");
    assert.equal(await get(`${macPath(eni.macAddress)}/ipv6s`), eni.ipv6Addresses[0]);
    assert.equal(await get(`${macPath(eni.macAddress)}/subnet-ipv6-cidr-blocks`), subnet6);
    assert.equal(await get(`${macPath(eni.macAddress)}/vpc-ipv6-cidr-blocks`), vpc6);
    await assert.rejects(get(`${macPath(eni.macAddress)}/ipv6-prefix`), /404/);
  });

  test("an IPv4-only node: every IPv6 path is 404, as the reference agent expects", async () => {
    for (const path of ["/latest/meta-data/ipv6", ...["ipv6s", "ipv6-prefix", "subnet-ipv6-cidr-blocks", "vpc-ipv6-cidr-blocks"].map((f) => `${macPath(v4eni.macAddress)}/${f}`)]) {
      await assert.rejects(v4imds(path), /404/, path);
    }
    assert.equal(await v4imds("/latest/meta-data/instance-id"), v4node.instanceId);
  });

  test("IPv6 addresses and /80 prefixes appear after IMDS's lag, as IPv4 ones do", async () => {
    lagMs = 1000;
    const assigned = model.assignIpv6Addresses({ networkInterfaceId: eni.networkInterfaceId, ipv6PrefixCount: 1 });
    clock.advance(999);
    await assert.rejects(get(`${macPath(eni.macAddress)}/ipv6-prefix`), /404/, "not yet");
    clock.advance(1);
    assert.equal(await get(`${macPath(eni.macAddress)}/ipv6-prefix`), assigned.assignedIpv6Prefixes[0]);
    const more = model.assignIpv6Addresses({ networkInterfaceId: eni.networkInterfaceId, ipv6AddressCount: 1 });
    clock.advance(1000);
    assert.deepEqual((await get(`${macPath(eni.macAddress)}/ipv6s`)).split("\n"), [eni.ipv6Addresses[0], ...more.assignedIpv6Addresses]);
    assert.equal(await get("/latest/meta-data/ipv6"), eni.ipv6Addresses[0], "the node's address stays its first");
    model.unassignIpv6Addresses({ networkInterfaceId: eni.networkInterfaceId, ipv6Prefixes: assigned.assignedIpv6Prefixes });
    clock.advance(1000);
    await assert.rejects(get(`${macPath(eni.macAddress)}/ipv6-prefix`), /404/, "gone again");
    lagMs = 0;
  });

  test("a VPC's and a subnet's new IPv6 blocks show once associated, after the lag", async () => {
    lagMs = 1000;
    const block = model.associateVpcCidrBlock({ vpcId: v4vpc.vpcId, amazonProvidedIpv6CidrBlock: true }).ipv6CidrBlockAssociation!;
    clock.advance(500 + 999); // associated at 500; IMDS shows it 1000 later
    await assert.rejects(v4imds(`${macPath(v4eni.macAddress)}/vpc-ipv6-cidr-blocks`), /404/, "not yet");
    clock.advance(1);
    assert.equal(await v4imds(`${macPath(v4eni.macAddress)}/vpc-ipv6-cidr-blocks`), block.ipv6CidrBlock);
    model.associateSubnetCidrBlock({ subnetId: v4subnet.subnetId, ipv6CidrBlock: subnet64(block.ipv6CidrBlock, 4) });
    clock.advance(1500);
    assert.equal(await v4imds(`${macPath(v4eni.macAddress)}/subnet-ipv6-cidr-blocks`), subnet64(block.ipv6CidrBlock, 4));
    await assert.rejects(v4imds("/latest/meta-data/ipv6"), /404/, "a block is not an address");
    lagMs = 0;
  });
});

/** One IMDS request from 127.0.0.2 (the second instance), answering the body or throwing "404". */
function fetchFrom(port: number, method: string, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, localAddress: "127.0.0.2" }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end();
  });
}
