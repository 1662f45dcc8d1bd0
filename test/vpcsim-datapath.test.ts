// vpcsim's kernel datapath: the VPC router delivers only what EC2 assigned, enforces the
// source/destination check, and the internet gateway maps public addresses 1:1.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { datapathUnavailable, runCommand, SimRun, waitFor, type SdkShell } from "./harness.ts";

const skip = datapathUnavailable();

describe("vpcsim datapath", { skip }, () => {
  let run: SimRun;
  let sdk: SdkShell;
  type Node = Awaited<ReturnType<SimRun["instance"]>>;
  let a: Node, b: Node, c: Node;

  before(async () => {
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20",
      "--subnet", "b=us-east-1b,10.0.16.0/20",
      "--instance", "node-a=m5.large,a,public",
      "--instance", "node-b=m5.large,a",
      "--instance", "node-c=m5.large,b",
    ]);
    [a, b, c] = await Promise.all(["node-a", "node-b", "node-c"].map((n) => run.instance(n))) as [Node, Node, Node];
    sdk = run.sdk("node-a");
  });
  after(async () => {
    await run?.down();
  });

  const ping = async (from: Node, to: string, source?: string) =>
    (await runCommand("ip", ["netns", "exec", from.netns, "ping", "-c", "1", "-W", "1", ...(source ? ["-I", source] : []), to])).code === 0;
  /** The fabric follows EC2 asynchronously (milliseconds later): poll, bounded, for the expected answer. */
  const eventually = (expected: boolean, probe: () => Promise<boolean>) =>
    waitFor(async () => ((await probe()) === expected ? true : undefined)).then(() => expected, () => !expected);
  const nsRun = (node: Node, args: string[]) => runCommand("ip", ["netns", "exec", node.netns, ...args]);

  test("instances boot as an EC2 AMI leaves them", async () => {
    const addr = await run.ip(a.netns, ["-o", "-4", "addr", "show", "dev", "eth0"]);
    assert.match(addr, new RegExp(`inet ${a.privateIp.replaceAll(".", "\\.")}/20 `));
    const routes = await run.ip(a.netns, ["route", "show"]);
    assert.match(routes, /^default via 10\.0\.0\.1 dev eth0/m);
    assert.match(routes, /^169\.254\.169\.254 dev eth0/m);
    const link = await run.ip(a.netns, ["-o", "link", "show", "dev", "eth0"]);
    assert.ok(link.includes(a.enis[0]!.mac), "eth0 has the primary ENI's MAC");
    assert.match(link, /mtu 9001/);
  });

  test("primary addresses reach each other, in one subnet and across zones", async () => {
    assert.equal(await ping(a, b.privateIp), true, "a -> b, same subnet");
    assert.equal(await ping(a, c.privateIp), true, "a -> c, other zone");
    assert.equal(await ping(c, b.privateIp), true, "c -> b");
    // TCP too: the echo of a small server on b answers a's connection.
    const server = await import("node:child_process").then(({ spawn }) =>
      spawn("ip", ["netns", "exec", b.netns, process.execPath, "-e", "require('net').createServer(s=>{s.end(s.remoteAddress)}).listen(9000,'0.0.0.0',()=>console.log('up'))"], { stdio: ["ignore", "pipe", "inherit"] }),
    );
    try {
      await new Promise((r) => server.stdout!.once("data", r));
      const client = await nsRun(a, [process.execPath, "-e", `const s=require('net').connect(9000,'${b.privateIp}');let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d))`]);
      assert.equal(client.stdout.trim(), a.privateIp, "b sees a's own address: no NAT inside the VPC");
    } finally {
      server.kill();
    }
  });

  test("an address on a secondary ENI is reachable only while EC2 has it assigned", async () => {
    const subnetId = (await run.status()).subnets.find((s) => s.name === "a")!.id;
    const eni = (await sdk.ok("CreateNetworkInterface", { SubnetId: subnetId, SecondaryPrivateIpAddressCount: 1 })).NetworkInterface;
    await sdk.ok("AttachNetworkInterface", { NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.id, DeviceIndex: 1 });
    const secondary = eni.PrivateIpAddresses.find((p: { Primary: boolean }) => !p.Primary).PrivateIpAddress as string;
    await waitFor(async () => ((await run.ip(a.netns, ["-o", "link"])).includes(eni.MacAddress) ? true : undefined));

    // Configure it inside A as node software would: eth0's reverse-path filter loose (the reference
    // agent's setting), eth1 up, the address, replies leave by eth1.
    await runCommand("ip", ["netns", "exec", a.netns, "sysctl", "-qw", "net.ipv4.conf.eth0.rp_filter=2"]);
    await run.ip(a.netns, ["link", "set", "eth1", "up"]);
    await run.ip(a.netns, ["addr", "add", `${secondary}/32`, "dev", "eth1"]);
    await run.ip(a.netns, ["route", "add", "10.0.0.1", "dev", "eth1", "table", "101"]);
    await run.ip(a.netns, ["route", "add", "default", "via", "10.0.0.1", "dev", "eth1", "table", "101"]);
    await run.ip(a.netns, ["rule", "add", "from", secondary, "table", "101", "pref", "32765"]);

    assert.equal(await eventually(true, () => ping(b, secondary)), true, "assigned: reachable from b");
    assert.equal(await ping(c, secondary), true, "assigned: reachable from another zone");
    await sdk.ok("UnassignPrivateIpAddresses", { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: [secondary] });
    assert.equal(await eventually(false, () => ping(b, secondary)), false, "unassigned in EC2: the VPC no longer delivers it");
    await sdk.ok("AssignPrivateIpAddresses", { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: [secondary] });
    assert.equal(await eventually(true, () => ping(b, secondary)), true, "assigned again: reachable again");

    // Source/destination check: A sends to B out of eth1 with eth0's address as source.
    await run.ip(a.netns, ["rule", "add", "from", a.privateIp, "to", b.privateIp, "table", "101", "pref", "100"]);
    try {
      const spoofed = await runCommand("ip", ["netns", "exec", a.netns, "ip", "route", "get", b.privateIp, "from", a.privateIp]);
      assert.match(spoofed.stdout, /dev eth1/, "the test's packets really leave by eth1");
      assert.equal(await ping(a, b.privateIp, a.privateIp), false, "a packet from eth1 with eth0's address is dropped");
      await sdk.ok("ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: { Value: false } });
      assert.equal(await eventually(true, () => ping(a, b.privateIp, a.privateIp)), true, "passes with SourceDestCheck=false");
      await sdk.ok("ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: { Value: true } });
      assert.equal(await eventually(false, () => ping(a, b.privateIp, a.privateIp)), false, "dropped again once the check is back on");
    } finally {
      await run.ip(a.netns, ["rule", "del", "pref", "100"]);
    }
  });

  test("the external host sees an instance's public address, and nothing from private ones", async () => {
    const fetchEcho = (node: Node) =>
      nsRun(node, [process.execPath, "-e", "fetch('http://203.0.113.10/',{signal:AbortSignal.timeout(2000)}).then(r=>r.text()).then(t=>console.log(t.trim()),e=>{console.log('FAILED '+e.name);process.exit(3)})"]);
    const fromA = await fetchEcho(a);
    assert.equal(fromA.code, 0, fromA.stdout + fromA.stderr);
    assert.equal(fromA.stdout.trim(), a.publicIp, "the echo saw the 1:1 public address");
    const fromB = await fetchEcho(b);
    assert.equal(fromB.code, 3, `a private source gets nothing back: ${fromB.stdout}`);
    assert.equal(await ping(b, "203.0.113.10"), false);
    assert.equal(await ping(a, "203.0.113.10"), true);
  });
});
