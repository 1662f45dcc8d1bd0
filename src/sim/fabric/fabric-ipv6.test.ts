// The fabric's IPv6 in real network namespaces (root only): dual-stack instances booted as an AMI
// leaves them, the router's neighbour discovery for its link-local address, delivery of IPv6
// addresses and /80 prefixes by assignment, the source check for IPv6, the egress-only internet
// gateway and the IPv6 external host.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { run } from "./exec.ts";
import { subnetRouterMac } from "./addresses.ts";
import { EXTERNAL6_HOST_ADDRESS, EXTERNAL_HOST_ADDRESS, Fabric, cleanupByPrefix, subnetRouterLinkLocal } from "./fabric.ts";
import { httpGet, inNetns, missingPrerequisite, newPrefix, pings, startEchoIn, startTextServer, tcpRead } from "./fabric.test-support.ts";

const skip = missingPrerequisite();
if (skip !== undefined) console.log(`# skipping fabric IPv6 tests: ${skip}`);

const VPC6 = "2600:1f18:1:100::/56";
const SUBNET_A = "10.0.0.0/20";
const SUBNET_B = "10.0.16.0/20";
const A = { instanceId: "i-06aaaaaaaaaaaaaa1", eniId: "eni-06aaaaaaaaaaa0001", mac: "02:00:00:6a:00:01", primaryIp: "10.0.0.10", ipv6: "2600:1f18:1:100::a" };
const A1 = { eniId: "eni-06aaaaaaaaaaa0011", mac: "02:00:00:6a:00:11", primaryIp: "10.0.0.11", ipv6: "2600:1f18:1:100::a1" };
const B = { instanceId: "i-06bbbbbbbbbbbbbb1", eniId: "eni-06bbbbbbbbbbb0001", mac: "02:00:00:6b:00:01", primaryIp: "10.0.0.20", ipv6: "2600:1f18:1:100::b" };
const C = { instanceId: "i-06ccccccccccccccc", eniId: "eni-06ccccccccccc0001", mac: "02:00:00:6c:00:01", primaryIp: "10.0.16.30", ipv6: "2600:1f18:1:101::c" };
const D = { instanceId: "i-06dddddddddddddd1", eniId: "eni-06ddddddddddd0001", mac: "02:00:00:6d:00:01", primaryIp: "10.0.0.40" };
const PUBLIC_A = "198.51.100.11";

describe("fabric IPv6 in network namespaces", { skip }, () => {
  const prefix = newPrefix();
  let fabric: Fabric;
  let a: string, b: string, c: string, d: string, ext6: string;
  const strays: number[] = [];
  /** What A's and B's primary ENIs hold besides their boot addresses, as setEniAddresses is told. */
  const assign = (eni: { eniId: string; primaryIp: string; ipv6: string }, extra: { ipv6Addresses?: string[]; ipv6Prefixes?: string[] } = {}) =>
    fabric.setEniAddresses({
      eniId: eni.eniId,
      privateIps: [eni.primaryIp],
      ipv4Prefixes: [],
      ipv6Addresses: [eni.ipv6, ...(extra.ipv6Addresses ?? [])],
      ipv6Prefixes: extra.ipv6Prefixes ?? [],
    });

  before(async () => {
    fabric = await Fabric.create({ prefix, vpcCidrs: ["10.0.0.0/16", VPC6] });
    const primary = (x: typeof A | typeof C, subnetCidr: string) => ({
      instanceId: x.instanceId,
      primaryEni: { eniId: x.eniId, mac: x.mac, primaryIp: x.primaryIp, subnetCidr, ipv6Addresses: [x.ipv6] },
    });
    await Promise.all([
      fabric.addInstance(primary(A, SUBNET_A)),
      fabric.addInstance(primary(B, SUBNET_A)),
      fabric.addInstance(primary(C, SUBNET_B)),
      fabric.addInstance({ instanceId: D.instanceId, primaryEni: { ...D, subnetCidr: SUBNET_A } }),
    ]);
    // The fabric follows EC2 with setEniAddresses after a launch, as FabricSync does.
    await Promise.all([assign(A), assign(B), assign(C)]);
    [a, b, c, d] = [A, B, C, D].map((x) => fabric.netnsPath(x.instanceId)) as [string, string, string, string];
    ext6 = `/run/netns/${fabric.external6Netns}`;
  });

  after(async () => {
    for (const pid of strays) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone with its namespace
      }
    }
    await fabric?.destroy();
    await cleanupByPrefix(prefix);
  });

  test("a dual-stack instance boots as an AMI leaves it: a /128 on eth0, the default route via the router's link-local", async () => {
    const { stdout: addresses } = await inNetns(a, ["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]);
    assert.match(addresses, new RegExp(`inet6 ${A.ipv6}/128 `));
    const { stdout: routes } = await inNetns(a, ["ip", "-6", "route", "show"]);
    assert.match(routes, new RegExp(`^default via ${subnetRouterLinkLocal(SUBNET_A)} dev eth0`, "m"));
    assert.doesNotMatch(routes, /^2600:1f18:1:100::\/64/m, "no on-link /64: every packet goes to the router");
    assert.notEqual(subnetRouterLinkLocal(SUBNET_A), subnetRouterLinkLocal(SUBNET_B), "one router address per subnet");

    const { stdout: v6 } = await inNetns(d, ["ip", "-6", "-o", "addr", "show", "scope", "global"]);
    assert.equal(v6.trim(), "", "an IPv4-only instance has no global IPv6 address");
    const { stdout: v6routes } = await inNetns(d, ["ip", "-6", "route", "show", "default"]);
    assert.equal(v6routes.trim(), "", "and no IPv6 default route");
  });

  test("IPv6 addresses reach each other across subnets; the router answers neighbour discovery for its link-local", async () => {
    assert.ok(await pings(a, B.ipv6), "A → B, same subnet");
    assert.ok(await pings(a, C.ipv6), "A → C, other subnet");
    assert.ok(await pings(c, B.ipv6), "C → B");
    assert.ok(await pings(a, `${subnetRouterLinkLocal(SUBNET_A)}%eth0`), "the router's link-local answers");
    const { stdout: neighbours } = await inNetns(a, ["ip", "-6", "neigh", "show", "dev", "eth0"]);
    assert.match(neighbours, new RegExp(`^${subnetRouterLinkLocal(SUBNET_A)} lladdr ${subnetRouterMac(SUBNET_A)} router`, "m"));
    assert.equal(await pings(a, "2600:1f18:1:100::99", { timeout: "0.3" }), false, "an unassigned VPC address is not delivered");
    await assert.rejects(pings(d, B.ipv6, { timeout: "0.3" }), /Network is unreachable/, "an IPv4-only instance has no way there");
    strays.push(await startEchoIn(b, "::"));
    assert.equal(await tcpRead(a, B.ipv6, 7), A.ipv6, "TCP A → B: B sees A's own address");
    assert.equal(await tcpRead(c, B.ipv6, 7), C.ipv6, "TCP C → B");
  });

  test("an IPv6 address and a /80 prefix are delivered only to the ENI EC2 assigned them to", async () => {
    const address = "2600:1f18:1:100::5:1";
    const prefix80 = "2600:1f18:1:100:aaaa::/80";
    const inPrefix = "2600:1f18:1:100:aaaa::7";
    // Both instances configure both addresses, as a node might: only EC2's assignment decides.
    for (const [netns, name] of [[a, "A"], [b, "B"]] as const) {
      await inNetns(netns, ["ip", "-6", "addr", "add", `${address}/128`, "dev", "lo"]);
      await inNetns(netns, ["ip", "-6", "addr", "add", `${inPrefix}/128`, "dev", "lo"]);
      strays.push(await startTextServer(netns, address, 9, name));
      strays.push(await startTextServer(netns, inPrefix, 9, name));
    }
    assert.equal(await tcpRead(c, address, 9, 400), undefined, "not assigned: not delivered");
    await assign(A, { ipv6Addresses: [address] });
    assert.equal(await tcpRead(c, address, 9), "A", "assigned to A's ENI: A answers");
    await assign(A);
    await assign(B, { ipv6Addresses: [address] });
    assert.equal(await tcpRead(c, address, 9), "B", "moved to B's ENI: B answers");
    await assign(B);
    assert.equal(await tcpRead(c, address, 9, 400), undefined, "unassigned again");

    assert.equal(await tcpRead(c, inPrefix, 9, 400), undefined, "no prefix yet");
    await assign(A, { ipv6Prefixes: [prefix80] });
    assert.equal(await tcpRead(c, inPrefix, 9), "A", "every address of a /80 goes to the ENI holding it");
    await assign(A);
    await assign(B, { ipv6Prefixes: [prefix80] });
    assert.equal(await tcpRead(c, inPrefix, 9), "B");
    await assign(B);
    assert.equal(await tcpRead(c, inPrefix, 9, 400), undefined, "released");
  });

  test("the source check drops IPv6 an ENI sends from an address it does not own, unless it is off", async () => {
    await fabric.attachEni({ instanceId: A.instanceId, deviceIndex: 1, ...A1, subnetCidr: SUBNET_A, ipv6Addresses: [A1.ipv6] });
    const router = subnetRouterLinkLocal(SUBNET_A);
    // Node software's part: eth1 up with its address; replies from it leave by eth1; and a rule
    // that sends eth0's address out of eth1 (the spoof).
    await run("ip", ["-n", fabric.netnsName(A.instanceId), "-6", "-batch", "-"], {
      input: [
        "link set eth1 up",
        `addr add ${A1.ipv6}/128 dev eth1 nodad`,
        `route add default via ${router} dev eth1 table 101`,
        `rule add from ${A1.ipv6} lookup 101 priority 100`,
        `route add ${B.ipv6}/128 via ${router} dev eth1 table 102`,
        `rule add from ${A.ipv6} to ${B.ipv6} lookup 102 priority 90`,
      ].join("\n"),
    });
    assert.ok(await pings(a, B.ipv6, { source: A1.ipv6 }), "the ENI's own address passes");
    const before = (await fabric.counters()).spoofedSources;
    assert.equal(await pings(a, B.ipv6, { source: A.ipv6, timeout: "0.3" }), false, "eth0's address sent from eth1 is dropped");
    assert.ok((await fabric.counters()).spoofedSources > before, "and counted");
    await fabric.setSourceDestCheck({ eniId: A1.eniId, enabled: false });
    assert.ok(await pings(a, B.ipv6, { source: A.ipv6 }), "passes with the check off");
    await fabric.setSourceDestCheck({ eniId: A1.eniId, enabled: true });
    assert.equal(await pings(a, B.ipv6, { source: A.ipv6, timeout: "0.3" }), false, "dropped again with the check on");
    await run("ip", ["-n", fabric.netnsName(A.instanceId), "-6", "rule", "del", "priority", "90"]);
    await fabric.detachEni({ eniId: A1.eniId });
  });

  test("the egress-only gateway lets the VPC out and replies back in, and drops connections from outside", async () => {
    assert.equal(await tcpRead(a, EXTERNAL6_HOST_ADDRESS, 7), A.ipv6, "the IPv6 external host sees the instance's own address: no NAT");
    assert.equal(await httpGet(a, `http://[${EXTERNAL6_HOST_ADDRESS}]/`), A.ipv6, "over HTTP too");
    assert.equal(await tcpRead(c, EXTERNAL6_HOST_ADDRESS, 7), C.ipv6, "no public IPv4 address needed");
    assert.ok(await pings(a, EXTERNAL6_HOST_ADDRESS), "ping out and its reply back");

    strays.push(await startEchoIn(a, "::"));
    const before = (await fabric.counters()).unsolicitedInbound;
    assert.equal(await tcpRead(ext6, A.ipv6, 7, 400), undefined, "a connection started outside is dropped");
    assert.equal(await pings(ext6, A.ipv6, { timeout: "0.3" }), false, "so is a ping from outside");
    assert.ok((await fabric.counters()).unsolicitedInbound > before, "and counted");
  });

  test("a dual-stack node reaches both external hosts: IPv4 through the 1:1 NAT, IPv6 through the egress-only gateway", async () => {
    await fabric.setPublicAddress({ privateIp: A.primaryIp, publicIp: PUBLIC_A });
    assert.equal(await tcpRead(a, EXTERNAL_HOST_ADDRESS, 7), PUBLIC_A);
    assert.equal(await tcpRead(a, EXTERNAL6_HOST_ADDRESS, 7), A.ipv6);
    await fabric.setPublicAddress({ privateIp: A.primaryIp, publicIp: undefined });
  });
});
