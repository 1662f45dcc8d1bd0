// A dual-stack vpcsim run driven as the agent's IPv6 mode will drive it: the unmodified AWS SDK
// inside an instance for the IPv6 EC2 calls, the SDK's IMDS client for the IPv6 paths, and the
// kernel datapath: an /80 delivered to the node holding it, the source check, the egress-only
// gateway and both external hosts.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { datapathUnavailable, runCommand, SimRun, waitFor, type SdkShell } from "./harness.ts";
import { cidr6ContainsAddress, formatCidr6, formatIpv6, parseCidr6, parseIpv6, subnetOf6, type Cidr6 } from "../src/sim/ipv6.ts";

const skip = datapathUnavailable();

const EXTERNAL6 = "2001:db8:ffff::10";
const EXTERNAL4 = "203.0.113.10";

/** The `index`th /64 of a /56. */
const sixtyFour = (vpc56: string, index: number) => formatCidr6(subnetOf6(parseCidr6(vpc56) as Cidr6, 64, index));
const inCidr6 = (cidr: string, address: string) => cidr6ContainsAddress(parseCidr6(cidr) as Cidr6, parseIpv6(address) as bigint);

describe("vpcsim dual stack", { skip }, () => {
  let run: SimRun;
  let sdk: SdkShell;
  type Node = Awaited<ReturnType<SimRun["instance"]>>;
  let a: Node, b: Node, c: Node;
  const servers: ChildProcess[] = [];

  before(async () => {
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20,ipv6",
      "--subnet", "b=us-east-1b,10.0.16.0/20,ipv6",
      "--subnet", "c=us-east-1a,10.0.32.0/20",
      "--instance", "node-a=m5.large,a,public",
      "--instance", "node-b=m5.large,b",
      "--instance", "node-c=m5.large,c",
    ]);
    [a, b, c] = (await Promise.all(["node-a", "node-b", "node-c"].map((n) => run.instance(n)))) as [Node, Node, Node];
    sdk = run.sdk("node-a");
  });
  after(async () => {
    for (const server of servers) server.kill();
    await run?.down();
  });

  const nsRun = (node: Node | string, args: string[]) => runCommand("ip", ["netns", "exec", typeof node === "string" ? node : node.netns, ...args]);
  /** What a TCP server at host:port writes, read from inside a namespace; undefined if nothing arrives. */
  const tcpRead = async (from: Node | string, host: string, port: number) => {
    const client = `const s=require('net').connect({host:${JSON.stringify(host)},port:${port}});let d='';s.setTimeout(1500,()=>process.exit(3));s.on('data',x=>d+=x);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',()=>process.exit(4))`;
    const r = await nsRun(from, [process.execPath, "-e", client]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  };
  /** A server inside a node answering `text` (or, without text, the peer's address) on host:port. */
  const serve = async (node: Node, host: string, port: number, text?: string) => {
    const answer = text === undefined ? "s.remoteAddress" : JSON.stringify(text);
    const server = spawn("ip", ["netns", "exec", node.netns, process.execPath, "-e", `require('net').createServer(s=>{s.on('error',()=>{});s.end(${answer})}).listen(${port},${JSON.stringify(host)},()=>console.log('up'))`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    servers.push(server);
    await new Promise((resolve) => server.stdout!.once("data", resolve));
  };
  const ping = async (from: Node | string, to: string, source?: string) =>
    (await nsRun(from, ["ping", "-n", "-c", "1", "-W", "1", ...(source ? ["-I", source] : []), to])).code === 0;

  test("the VPC and its dual-stack subnets through the SDK: an associated /56, a /64 per subnet in its order", async () => {
    const status = await run.status();
    const vpc = (await sdk.ok("DescribeVpcs", {})).Vpcs[0];
    const block = vpc.Ipv6CidrBlockAssociationSet[0];
    assert.match(block.Ipv6CidrBlock, /^2600:1f18:[0-9a-f:]+\/56$/);
    assert.equal(block.Ipv6CidrBlockState.State, "associated");
    assert.deepEqual(status.vpcs[0]!.ipv6Cidrs, [block.Ipv6CidrBlock]);
    const subnets = (await sdk.ok("DescribeSubnets", {})).Subnets as { SubnetId: string; Ipv6CidrBlockAssociationSet: { Ipv6CidrBlock: string }[] }[];
    const sixOf = (name: string) => subnets.find((s) => s.SubnetId === status.subnets.find((x) => x.name === name)!.id)!.Ipv6CidrBlockAssociationSet.map((x) => x.Ipv6CidrBlock);
    assert.deepEqual(sixOf("a"), [sixtyFour(block.Ipv6CidrBlock, 0)], "subnet a, first in the topology: the /56's first /64");
    assert.deepEqual(sixOf("b"), [sixtyFour(block.Ipv6CidrBlock, 1)]);
    assert.deepEqual(sixOf("c"), [], "subnet c stays IPv4-only");
  });

  test("dual-stack nodes boot with their IPv6 address on eth0; IMDS serves the IPv6 paths; an IPv4-only node has none", async () => {
    assert.ok(a.ipv6 && b.ipv6, "status shows each dual-stack node's IPv6 address");
    assert.equal(c.ipv6, null);
    const addr = await run.ip(a.netns, ["-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]);
    assert.match(addr, new RegExp(`inet6 ${a.ipv6}/128 `));
    assert.match(await run.ip(a.netns, ["-6", "route", "show", "default"]), /^default via fe80::[0-9a-f:]+ dev eth0/);

    const get = (shell: SdkShell, path: string) => shell.imds(path);
    assert.equal((await get(sdk, "/latest/meta-data/ipv6")).output, a.ipv6);
    const mac = `/latest/meta-data/network/interfaces/macs/${a.enis[0]!.mac}`;
    assert.equal((await get(sdk, `${mac}/ipv6s`)).output, a.ipv6);
    const status = await run.status();
    assert.equal((await get(sdk, `${mac}/subnet-ipv6-cidr-blocks`)).output, status.subnets.find((s) => s.name === "a")!.ipv6Cidr);
    assert.equal((await get(sdk, `${mac}/vpc-ipv6-cidr-blocks`)).output, status.vpcs[0]!.ipv6Cidrs[0]);
    const onC = run.sdk("node-c");
    assert.equal((await get(onC, "/latest/meta-data/ipv6")).ok, false, "404 on an IPv4-only node");
  });

  test("Ipv6PrefixCount=1 on the primary ENI (the reference's IPv6 mode): the /80 reaches that node only, IMDS shows it, unassigning stops it", async () => {
    const eniId = a.enis[0]!.id;
    const assigned = await sdk.ok("AssignIpv6Addresses", { NetworkInterfaceId: eniId, Ipv6PrefixCount: 1 });
    const prefix = assigned.AssignedIpv6Prefixes[0] as string;
    assert.match(prefix, /\/80$/);
    const mac = `/latest/meta-data/network/interfaces/macs/${a.enis[0]!.mac}`;
    const shown = await waitFor(async () => {
      const answer = await sdk.imds(`${mac}/ipv6-prefix`);
      return answer.ok ? (answer.output as string) : undefined;
    });
    assert.equal(shown, prefix);
    const described = (await sdk.ok("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eniId] })).NetworkInterfaces[0];
    assert.deepEqual(described.Ipv6Prefixes, [{ Ipv6Prefix: prefix }]);

    // A pod-like address of the /80 on node-a, and the same address on node-c: only EC2 decides
    // where node-b's connection goes.
    const pod = formatIpv6((parseCidr6(prefix) as Cidr6).network + 7n);
    for (const [node, name] of [[a, "node-a"], [c, "node-c"]] as const) {
      await run.ip(node.netns, ["-6", "addr", "add", `${pod}/128`, "dev", "lo"]);
      await serve(node, pod, 9100, name);
    }
    assert.equal(await waitFor(async () => (await tcpRead(b, pod, 9100)) ?? undefined), "node-a", "delivered to the node holding the /80, not to the other one configuring it");
    await sdk.ok("UnassignIpv6Addresses", { NetworkInterfaceId: eniId, Ipv6Prefixes: [prefix] });
    await waitFor(async () => ((await tcpRead(b, pod, 9100)) === undefined ? true : undefined));
  });

  test("a spoofed IPv6 source is dropped; the node's own address passes", async () => {
    const spoofed = a.ipv6!.replace(/:[0-9a-f]+$/, ":5151");
    await run.ip(a.netns, ["-6", "addr", "add", `${spoofed}/128`, "dev", "lo"]);
    assert.equal(await ping(a, b.ipv6!), true);
    assert.equal(await ping(a, b.ipv6!, spoofed), false);
  });

  test("a dual-stack node reaches both external hosts; the egress-only gateway keeps the outside from starting connections", async () => {
    assert.equal(await tcpRead(a, EXTERNAL4, 7), a.publicIp, "IPv4 through the 1:1 NAT");
    assert.equal(await tcpRead(a, EXTERNAL6, 7), a.ipv6, "IPv6 through the egress-only gateway, untranslated");
    assert.equal(await tcpRead(b, EXTERNAL6, 7), b.ipv6, "no public IPv4 address needed for IPv6");
    assert.equal(await tcpRead(b, EXTERNAL4, 7), undefined, "but IPv4 without one goes nowhere");
    assert.equal(await tcpRead(c, EXTERNAL6, 7), undefined, "an IPv4-only node has no IPv6 way out");

    await serve(a, "::", 9200);
    assert.equal(await tcpRead(b, a.ipv6!, 9200), b.ipv6, "inside the VPC, b reaches a's server");
    assert.equal(await tcpRead(`vs-${run.name}-ext6`, a.ipv6!, 9200), undefined, "from outside: dropped");
  });

  test("an IPv4-only subnet made dual-stack through the SDK; vpcsim launch then boots dual-stack nodes there", async () => {
    const status = await run.status();
    const subnetC = status.subnets.find((s) => s.name === "c")!;
    const vpc6 = status.vpcs[0]!.ipv6Cidrs[0]!;
    const six = sixtyFour(vpc6, 7);
    const asked = await sdk.ok("AssociateSubnetCidrBlock", { SubnetId: subnetC.id, Ipv6CidrBlock: six });
    assert.equal(asked.Ipv6CidrBlockAssociation.Ipv6CidrBlock, six);
    await waitFor(async () => ((await run.status()).subnets.find((s) => s.name === "c")!.ipv6Cidr === six ? true : undefined));
    const launched = await run.vpcsim(["launch", "--run", run.name, "node-d", "--type", "t3.medium", "--subnet", "c"]);
    assert.equal(launched.code, 0, launched.stderr);
    const d = await run.instance("node-d");
    assert.ok(d.ipv6 && inCidr6(six, d.ipv6), `${d.ipv6} is in ${six}`);
    assert.equal(launched.stdout.trim().split(" ").pop(), d.ipv6, "launch prints the new node's IPv6 address");
    assert.equal(await tcpRead(d, EXTERNAL6, 7), d.ipv6);
    assert.equal(await ping(d, a.ipv6!), true, "and reaches the other subnets' nodes");
  });
});
