// The fabric in real network namespaces (root only): delivery by assignment, the source check,
// the internet gateway's 1:1 NAT, and that nothing survives destroy() or cleanupByPrefix().

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { run } from "./exec.ts";
import { listNetnsWithPrefix, pidsInNetns } from "./cleanup.ts";
import { EXTERNAL_HOST_ADDRESS, Fabric, cleanupByPrefix } from "./fabric.ts";
import { httpGet, inNetns, isAlive, missingPrerequisite, newPrefix, pings, rootLinks, startEchoIn, tcpRead } from "./fabric.test-support.ts";

const skip = missingPrerequisite();
if (skip !== undefined) console.log(`# skipping fabric tests: ${skip}`);

const SUBNET_A = "10.0.0.0/20";
const SUBNET_B = "10.0.16.0/20";
const A = { instanceId: "i-0aaaaaaaaaaaaaaa1", eniId: "eni-0aaaaaaaaaaaa0001", mac: "02:00:00:0a:00:01", primaryIp: "10.0.0.10" };
const A1 = { eniId: "eni-0aaaaaaaaaaaa0011", mac: "02:00:00:0a:00:11", primaryIp: "10.0.0.11", secondary: "10.0.0.12" };
const B = { instanceId: "i-0bbbbbbbbbbbbbbb1", eniId: "eni-0bbbbbbbbbbbb0001", mac: "02:00:00:0b:00:01", primaryIp: "10.0.0.20" };
const C = { instanceId: "i-0ccccccccccccccc1", eniId: "eni-0cccccccccccc0001", mac: "02:00:00:0c:00:01", primaryIp: "10.0.16.30" };
const PUBLIC_A = "198.51.100.10";

describe("fabric in network namespaces", { skip }, () => {
  const prefix = newPrefix();
  let fabric: Fabric;
  let linksBefore: string[];
  let strayEcho: number | undefined;
  let a: string, b: string, c: string;

  before(async () => {
    linksBefore = await rootLinks();
    // A secondary CIDR in 100.64.0.0/10, as EKS custom networking uses: must not collide with the fabric's own links.
    fabric = await Fabric.create({ prefix, vpcCidrs: ["10.0.0.0/16", "100.64.0.0/16"] });
    await fabric.addSubnet({ cidr: SUBNET_A });
    await fabric.addSubnet({ cidr: SUBNET_B });
    await Promise.all([
      fabric.addInstance({ instanceId: A.instanceId, primaryEni: { ...A, subnetCidr: SUBNET_A } }),
      fabric.addInstance({ instanceId: B.instanceId, primaryEni: { ...B, subnetCidr: SUBNET_A } }),
      fabric.addInstance({ instanceId: C.instanceId, primaryEni: { ...C, subnetCidr: SUBNET_B } }),
    ]);
    [a, b, c] = [fabric.netnsPath(A.instanceId), fabric.netnsPath(B.instanceId), fabric.netnsPath(C.instanceId)];
  });

  after(async () => {
    await fabric?.destroy();
    await cleanupByPrefix(prefix);
  });

  test("an instance boots as an AMI leaves it", async () => {
    const { stdout: links } = await inNetns(a, ["ip", "-o", "link", "show"]);
    assert.match(links, /eth0@\S+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 .*link\/ether 02:00:00:0a:00:01/);
    assert.equal(links.trim().split("\n").length, 2, "lo and eth0 only");
    const { stdout: routes } = await inNetns(a, ["ip", "route", "show"]);
    assert.match(routes, /^default via 10\.0\.0\.1 dev eth0/m);
    assert.match(routes, /^169\.254\.169\.254 dev eth0/m);
    // Adding it again is a no-op, not an error.
    await fabric.addInstance({ instanceId: A.instanceId, primaryEni: { ...A, subnetCidr: SUBNET_A } });
  });

  test("primary addresses reach each other, across subnets too, and the router's services answer", async () => {
    assert.ok(await pings(a, B.primaryIp), "A → B, same subnet");
    assert.ok(await pings(a, C.primaryIp), "A → C, other subnet");
    assert.ok(await pings(c, B.primaryIp), "C → B");
    assert.ok(await pings(b, "192.0.2.10"), "EC2 endpoint address");
    assert.ok(await pings(b, "169.254.169.254"), "IMDS address");
    assert.equal(await pings(a, "10.0.0.99", { timeout: "0.3" }), false, "an unassigned VPC address is not delivered");
    strayEcho = await startEchoIn(b);
    assert.equal(await tcpRead(a, B.primaryIp, 7), A.primaryIp, "TCP A → B, B sees A's own address");
    assert.equal(await tcpRead(c, B.primaryIp, 7), C.primaryIp, "TCP C → B");
  });

  test("an address on a secondary ENI is delivered only while EC2 assigns it", async () => {
    await fabric.attachEni({ instanceId: A.instanceId, deviceIndex: 1, ...A1, subnetCidr: SUBNET_A });
    const { stdout: link } = await inNetns(a, ["ip", "-o", "link", "show", "eth1"]);
    assert.match(link, /eth1@\S+: <BROADCAST,MULTICAST> mtu 9001 .*state DOWN .*link\/ether 02:00:00:0a:00:11/, "hot-plugged, down");
    // What node software does with a new ENI: bring it up, add the address, route its replies out of it.
    await run("ip", ["-n", fabric.netnsName(A.instanceId), "-batch", "-"], {
      input: [
        "link set eth1 up",
        `addr add ${A1.secondary}/20 dev eth1`,
        `rule add from ${A1.secondary} lookup 101 priority 100`,
        "route add 10.0.0.0/20 dev eth1 table 101",
        "route add default via 10.0.0.1 dev eth1 table 101",
      ].join("\n"),
    });
    await inNetns(a, ["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.eth1.rp_filter=0"]);

    assert.equal(await pings(b, A1.secondary, { timeout: "0.3" }), false, "not yet assigned");
    await fabric.setEniAddresses({ eniId: A1.eniId, privateIps: [A1.primaryIp, A1.secondary], ipv4Prefixes: [] });
    assert.ok(await pings(b, A1.secondary), "assigned: B reaches it");
    assert.ok(await pings(c, A1.secondary), "assigned: C, in another subnet, reaches it");
    await fabric.setEniAddresses({ eniId: A1.eniId, privateIps: [A1.primaryIp], ipv4Prefixes: [] });
    assert.equal(await pings(b, A1.secondary, { timeout: "0.3" }), false, "unassigned again");
    // A prefix delivers every address in it.
    await fabric.setEniAddresses({ eniId: A1.eniId, privateIps: [A1.primaryIp], ipv4Prefixes: ["10.0.0.0/28"] });
    assert.ok(await pings(b, A1.secondary), "delivered through a /28 prefix");
    await fabric.setEniAddresses({ eniId: A1.eniId, privateIps: [A1.primaryIp, A1.secondary], ipv4Prefixes: [] });
    assert.ok(await pings(b, A1.secondary), "delivered as an address again");
  });

  test("the source check drops what an ENI sends from an address it does not own, unless it is off", async () => {
    // Send from eth1 with eth0's address as the source.
    await run("ip", ["-n", fabric.netnsName(A.instanceId), "-batch", "-"], {
      input: [`route add ${B.primaryIp}/32 dev eth1 table 102`, `rule add from ${A.primaryIp} to ${B.primaryIp} lookup 102 priority 90`].join("\n"),
    });
    const before = (await fabric.counters()).spoofedSources;
    assert.equal(await pings(a, B.primaryIp, { source: A.primaryIp, timeout: "0.3" }), false, "spoofed source dropped");
    assert.ok((await fabric.counters()).spoofedSources > before, "and counted");
    await fabric.setSourceDestCheck({ eniId: A1.eniId, enabled: false });
    assert.ok(await pings(a, B.primaryIp, { source: A.primaryIp }), "passes with the check off");
    await fabric.setSourceDestCheck({ eniId: A1.eniId, enabled: true });
    assert.equal(await pings(a, B.primaryIp, { source: A.primaryIp, timeout: "0.3" }), false, "dropped again with the check on");
    await run("ip", ["-n", fabric.netnsName(A.instanceId), "rule", "del", "priority", "90"]);
    // The ENI's own addresses still pass.
    assert.ok(await pings(a, B.primaryIp, { source: A1.secondary }));
  });

  test("the internet gateway maps public addresses 1:1 and drops traffic from private ones", async () => {
    await fabric.setPublicAddress({ privateIp: A.primaryIp, publicIp: PUBLIC_A });
    assert.equal(await tcpRead(a, EXTERNAL_HOST_ADDRESS, 7), PUBLIC_A, "the internet sees the public address");
    assert.equal(await httpGet(a, `http://${EXTERNAL_HOST_ADDRESS}/`), PUBLIC_A, "over HTTP too");
    const ext = `/run/netns/${fabric.externalNetns}`;
    assert.ok(await pings(ext, PUBLIC_A), "inbound to the public address reaches the instance");
    const before = await fabric.counters();
    assert.equal(await tcpRead(c, EXTERNAL_HOST_ADDRESS, 7, 400), undefined, "nothing arrives from an instance without a public address");
    assert.equal(await pings(ext, A.primaryIp, { timeout: "0.3" }), false, "private addresses are not reachable from outside");
    const afterCounters = await fabric.counters();
    assert.ok(afterCounters.unmappedOutbound > before.unmappedOutbound, "outbound drop counted");
    assert.ok(afterCounters.unmappedInbound > before.unmappedInbound, "inbound drop counted");
    // Hairpin: C has no public address, so it cannot reach A's either; B with one can.
    await fabric.setPublicAddress({ privateIp: B.primaryIp, publicIp: "198.51.100.20" });
    assert.equal(await tcpRead(a, "198.51.100.20", 7), PUBLIC_A, "public to public hairpins through the gateway");
    await fabric.setPublicAddress({ privateIp: A.primaryIp, publicIp: undefined });
    assert.equal(await tcpRead(a, EXTERNAL_HOST_ADDRESS, 7, 400), undefined, "unmapped again");
  });

  test("a VPC CIDR disassociated is no longer blackholed in the router nor routed back by the gateway; adding it again restores both", async () => {
    const blackholes = async () => (await run("ip", ["-n", fabric.routerNetns, "route", "show", "type", "blackhole"])).stdout;
    const igwRoutes = async () => (await run("ip", ["-n", fabric.igwNetns, "route", "show"])).stdout;
    await fabric.addVpcCidr("100.65.0.0/16");
    assert.match(await blackholes(), /^blackhole 100\.65\.0\.0\/16/m);
    assert.match(await igwRoutes(), /^100\.65\.0\.0\/16 via/m);
    await fabric.removeVpcCidr("100.65.0.0/16");
    await fabric.removeVpcCidr("100.65.0.0/16"); // idempotent
    assert.doesNotMatch(await blackholes(), /100\.65\.0\.0/);
    assert.doesNotMatch(await igwRoutes(), /100\.65\.0\.0/);
    assert.ok(!fabric.vpcCidrs.includes("100.65.0.0/16"));
    assert.match(await blackholes(), /^blackhole 100\.64\.0\.0\/16/m, "the other secondary block stays");
  });

  test("detach and remove clean up after themselves and are idempotent", async () => {
    const link = (await run("ip", ["-n", fabric.routerNetns, "-o", "link", "show"])).stdout;
    assert.match(link, /vaaaaaaaaaa0011/);
    await fabric.detachEni({ eniId: A1.eniId });
    await fabric.detachEni({ eniId: A1.eniId });
    assert.doesNotMatch((await run("ip", ["-n", fabric.routerNetns, "-o", "link", "show"])).stdout, /vaaaaaaaaaa0011/);
    assert.doesNotMatch((await inNetns(a, ["ip", "-o", "link", "show"])).stdout, /eth1/);
    // Calls for an ENI that is gone are tolerated.
    await fabric.setEniAddresses({ eniId: A1.eniId, privateIps: [A1.secondary], ipv4Prefixes: [] });
    await fabric.setSourceDestCheck({ eniId: A1.eniId, enabled: false });

    await fabric.removeInstance({ instanceId: C.instanceId });
    await fabric.removeInstance({ instanceId: C.instanceId });
    assert.ok(!(await listNetnsWithPrefix(prefix)).includes(fabric.netnsName(C.instanceId)));
    const routes = (await run("ip", ["-n", fabric.routerNetns, "route", "show"])).stdout;
    assert.doesNotMatch(routes, /10\.0\.16\.30/, "its routes went with it");
  });

  test("calls for an ENI whose instance namespace vanished are tolerated", async () => {
    const D = { instanceId: "i-0ddddddddddddddd1", eniId: "eni-0dddddddddddd0001", mac: "02:00:00:0d:00:01", primaryIp: "10.0.0.40" };
    const D1 = { eniId: "eni-0dddddddddddd0011", mac: "02:00:00:0d:00:11", primaryIp: "10.0.0.41" };
    await fabric.addInstance({ instanceId: D.instanceId, primaryEni: { ...D, subnetCidr: SUBNET_A } });
    await fabric.attachEni({ instanceId: D.instanceId, deviceIndex: 1, ...D1, subnetCidr: SUBNET_A });
    await run("ip", ["netns", "del", fabric.netnsName(D.instanceId)]);
    // The kernel frees a namespace (and its veths with it) asynchronously.
    for (let i = 0; i < 200; i++) {
      const { stdout } = await run("ip", ["-n", fabric.routerNetns, "-o", "link", "show"]);
      if (!stdout.includes("vdddddddddd0011")) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await fabric.setEniAddresses({ eniId: D1.eniId, privateIps: [D1.primaryIp, "10.0.0.42"], ipv4Prefixes: [] });
    await fabric.setSourceDestCheck({ eniId: D1.eniId, enabled: false });
    await fabric.detachEni({ eniId: D1.eniId });
    await fabric.removeInstance({ instanceId: D.instanceId });
    assert.ok(!fabric.instanceIds.includes(D.instanceId));
    assert.doesNotMatch((await run("ip", ["-n", fabric.routerNetns, "route", "show"])).stdout, /10\.0\.0\.4[012]/);
  });

  test("destroy leaves nothing behind", async () => {
    const namespaces = await listNetnsWithPrefix(prefix);
    assert.ok(namespaces.length >= 4);
    const pids = await pidsInNetns(namespaces);
    assert.ok(strayEcho !== undefined && pids.includes(strayEcho), "a process someone started in an instance is found");
    assert.ok(pids.length >= 2, "the echo servers");
    await fabric.destroy();
    await fabric.destroy();
    assert.deepEqual(await listNetnsWithPrefix(prefix), []);
    for (const pid of pids) assert.ok(!isAlive(pid), `process ${pid} is gone`);
    assert.deepEqual(await rootLinks(), linksBefore, "the root namespace's links are untouched");
    await assert.rejects(fabric.addInstance({ instanceId: "i-0ddd", primaryEni: { ...C, subnetCidr: SUBNET_B } }), /destroyed/);
  });
});

describe("cleanupByPrefix", { skip }, () => {
  const prefix = newPrefix();
  after(() => cleanupByPrefix(prefix));

  test("removes a run that was never destroyed, and refuses dangerous prefixes", async () => {
    const fabric = await Fabric.create({ prefix, vpcCidrs: ["10.1.0.0/16"] });
    await fabric.addInstance({
      instanceId: "i-0eeeeeeeeeeeeeee1",
      primaryEni: { eniId: "eni-0eeeeeeeeeeee0001", mac: "02:00:00:0e:00:01", primaryIp: "10.1.0.10", subnetCidr: "10.1.0.0/24" },
    });
    const pids = await pidsInNetns(await listNetnsWithPrefix(prefix));
    assert.equal(pids.length, 2, "the echo servers of the two external hosts");
    const removed = await cleanupByPrefix(prefix);
    assert.equal(removed.netns.length, 5, "router, gateway, two external hosts, the instance");
    assert.deepEqual(await listNetnsWithPrefix(prefix), []);
    assert.ok(!isAlive(pids[0]!));
    await fabric.destroy();
    await assert.rejects(cleanupByPrefix(""), /refusing/);
    await assert.rejects(cleanupByPrefix("v"), /refusing/);
  });

  test("a second run with the same prefix is refused while the first is up", async () => {
    const fabric = await Fabric.create({ prefix, vpcCidrs: ["10.1.0.0/16"], echoServer: false });
    await assert.rejects(Fabric.create({ prefix, vpcCidrs: ["10.1.0.0/16"], echoServer: false }), /exist already/);
    await fabric.destroy();
  });
});
