// An IPv6 cluster on vpcsim (`vpcsim up --ipv6`): two dual-stack nodes in two zones running the real
// agent with ENABLE_IPv6, pods wired by the plugin chain as a runtime calls it (vpc-cni, then
// egress-cni with vpc-cni's result). Pods get addresses from their node's /80, reach each other over
// IPv6 with their own addresses (no NAT), reach the IPv6 external host untranslated and the IPv4-only
// external host through egress-cni as the node's IPv4 address; DEL leaves no route, rule, veth, SNAT
// chain or egress address behind; 50 pods make no EC2 call; bad IPv6 configurations start nothing.
// And the other way round: an IPv4 node with ENABLE_V6_EGRESS gives its pods IPv6 egress.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { AGENT_STATE_ROOT, AgentProcess, callCounts } from "./agent-harness.ts";
import { deleteNetns, Node } from "./pod-harness.ts";
import { datapathUnavailable, ROOT, runCommand, SimRun } from "./harness.ts";
import { parseCidr, parseIp, cidrContains } from "../src/net/ip.ts";

const skip = datapathUnavailable();
const EXTERNAL4 = "203.0.113.10";
const EXTERNAL6 = "2001:db8:ffff::10";
const V6 = { ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" };

interface Pod {
  name: string;
  ns: string;
  address: string;
  containerId: string;
  result: any;
}

describe("IPv6 cluster: agent, vpc-cni and egress-cni on dual-stack nodes in two zones", { skip }, () => {
  let run: SimRun;
  let agentA: AgentProcess, agentB: AgentProcess;
  let agentC: AgentProcess | undefined;
  let a: Node, b: Node;
  const servers: ChildProcess[] = [];
  const egressDir = (node: string) => join(AGENT_STATE_ROOT, "egress", node);

  before(async () => {
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20,ipv6",
      "--subnet", "b=us-east-1b,10.0.16.0/20,ipv6",
      "--subnet", "c=us-east-1a,10.0.32.0/20",
      "--instance", "node-a=m5.large,a,public",
      "--instance", "node-b=m5.large,b,public",
      "--instance", "node-x=m4.large,a",
      "--instance", "node-c=m5.large,a,public",
      "--instance", "node-4=m5.large,c",
    ]);
    const start = (node: string) => new AgentProcess(run, node, { ...V6, VPC_CNI_EGRESS_IPAM_DIR: join(egressDir(node), run.name) }).start();
    [agentA, agentB] = await Promise.all([start("node-a"), start("node-b")]);
    [a, b] = await Promise.all([Node.of(agentA), Node.of(agentB)]);
  });
  after(async () => {
    for (const s of servers) s.kill();
    for (const ag of [agentA, agentB, agentC]) {
      await ag?.stop();
      ag?.clean();
    }
    await run?.down();
  });

  /** ADD down the chain as libcni does: vpc-cni, then egress-cni with vpc-cni's result. */
  async function addPod(node: Node, name: string): Promise<Pod> {
    const ns = await node.newPodNetns();
    const added = await node.addPod(name, ns);
    const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${added.containerId}`;
    const egress = await node.cni({ command: "ADD", containerId: added.containerId, netns: ns, args, prevResult: added.result }, 1);
    assert.equal(egress.code, 0, egress.stdout + egress.stderr);
    assert.deepEqual(egress.json, added.result, "egress-cni passes vpc-cni's result on unchanged");
    return { name, ns, ...added };
  }

  /** DEL back up the chain, with the cached result. */
  async function delPod(node: Node, pod: Pod): Promise<void> {
    const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`;
    const egress = await node.cni({ command: "DEL", containerId: pod.containerId, netns: pod.ns, args, prevResult: pod.result }, 1);
    assert.equal(egress.code, 0, egress.stdout + egress.stderr);
    assert.equal((await node.delPod(pod.name, pod.ns, pod.containerId, pod.result)).code, 0);
    await deleteNetns(pod.ns);
  }

  const tcpRead = async (ns: string, host: string, port: number) => {
    const client = `const s=require('net').connect({host:${JSON.stringify(host)},port:${port}});let d='';s.setTimeout(3000,()=>process.exit(3));s.on('data',x=>d+=x);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(4)})`;
    const r = await runCommand("ip", ["netns", "exec", ns, process.execPath, "-e", client]);
    return r.code === 0 ? r.stdout.trim() : `failed: ${r.stdout.trim()}`;
  };

  /** The node's state pods change: pod and egress veths, host routes (both families), rules 512/1536, egress SNAT chains. */
  async function podState(node: Node) {
    const ipn = async (args: string[]) => (await runCommand("ip", ["-n", node.netns, ...args])).stdout.split("\n").filter(Boolean);
    const links = (await ipn(["-o", "link", "show"])).map((l) => l.split(":")[1]?.trim().split("@")[0] ?? "").filter((l) => /^(eni|egv4|egv6)/.test(l)).sort();
    const routes6 = (await ipn(["-6", "route", "show", "table", "main"])).filter((l) => /dev (eni|egv4|egv6)/.test(l) && !l.startsWith("fe80::/64")).sort();
    const routes4 = (await ipn(["-4", "route", "show", "table", "main"])).filter((l) => /dev (eni|egv4|egv6)/.test(l)).sort();
    const rules = [...(await ipn(["-6", "rule"])), ...(await ipn(["-4", "rule"]))].filter((l) => /^(512|1536):/.test(l)).sort();
    const saved = async (tool: string) => (await runCommand("ip", ["netns", "exec", node.netns, tool, "-t", "nat"])).stdout.split("\n");
    const nat = [...(await saved("iptables-save")), ...(await saved("ip6tables-save"))].filter((l) => /CNI-E[46]-/.test(l)).sort();
    return { links, routes6, routes4, rules, nat };
  }

  test("each node has one /80 on its primary ENI, set up with the reference's sysctls, rules and guard; no warm pool, no other ENI", async () => {
    for (const [agent, name] of [[agentA, "node-a"], [agentB, "node-b"]] as const) {
      const node = await run.instance(name);
      assert.equal(node.enis.length, 1, "no further ENI");
      assert.equal(node.enis[0]!.ipv6Prefixes.length, 1, "exactly one /80");
      assert.match(node.enis[0]!.ipv6Prefixes[0]!, /\/80$/);
      const sysctl = async (key: string) => (await run.exec(name, ["sysctl", "-n", key])).stdout.trim();
      assert.equal(await sysctl("net.ipv6.conf.all.disable_ipv6"), "0");
      assert.equal(await sysctl("net.ipv6.conf.all.forwarding"), "1");
      assert.equal(await sysctl("net.ipv6.conf.eth0.accept_ra"), "2");
      assert.match((await run.exec(name, ["ip", "-6", "rule"])).stdout, /1024:\s+from all fwmark 0x80\/0x80 lookup main/);
      const filter = (await run.exec(name, ["iptables-save", "-t", "filter"])).stdout;
      assert.match(filter, /-A FORWARD -d 169\.254\.172\.0\/22 -m conntrack --ctstate NEW -m comment --comment "Block Node Local Pod access via IPv4" -j REJECT/);
      assert.doesNotMatch((await run.exec(name, ["iptables-save", "-t", "nat"])).stdout, /AWS-SNAT-CHAIN/, "no IPv4 SNAT of pods' own traffic");
      const conflist = agent === agentA ? a.conflist : b.conflist;
      assert.deepEqual(conflist.plugins.map((p) => p["type"]), ["vpc-cni", "egress-cni", "portmap"]);
      assert.equal(conflist.plugins[1]!["nodeIP"], node.privateIp);
      assert.equal(conflist.plugins[1]!["enabled"], "true");
    }
  });

  test("pods get addresses from their node's /80 and reach each other across zones over IPv6 with their own addresses", async () => {
    const podA = await addPod(a, "pa");
    const podB = await addPod(b, "pb");
    for (const [pod, name] of [[podA, "node-a"], [podB, "node-b"]] as const) {
      const prefix = parseCidr((await run.instance(name)).enis[0]!.ipv6Prefixes[0]!)!;
      assert.ok(cidrContains(prefix, parseIp(pod.address)!), `${pod.address} in ${prefix.text}`);
      assert.match(pod.result.ips[0].address, /\/128$/);
    }
    assert.equal((await a.inPod(podA.ns, ["ping", "-6", "-c1", "-W2", podB.address])).code, 0);
    assert.equal((await b.inPod(podB.ns, ["ping", "-6", "-c1", "-W2", podA.address])).code, 0);
    const server = spawn("ip", ["netns", "exec", podB.ns, process.execPath, "-e", "require('net').createServer(s=>s.end(s.remoteAddress)).listen(7070,'::',()=>console.log('up'))"], { stdio: ["ignore", "pipe", "inherit"] });
    servers.push(server);
    await new Promise((r) => server.stdout!.once("data", r));
    assert.equal(await tcpRead(podA.ns, podB.address, 7070), podA.address, "the receiver sees the sender's pod address: no NAT");
    assert.equal(await tcpRead(podA.ns, EXTERNAL6, 7), podA.address, "IPv6 out through the egress-only gateway, untranslated");
    server.kill();
    await delPod(a, podA);
    await delPod(b, podB);
  });

  test("IPv4 through egress-cni: the IPv4-only external host sees the node's address; DEL leaves nothing", async () => {
    const before = await podState(a);
    const pod = await addPod(a, "pe");
    const nodeA = await run.instance("node-a");
    const v4 = (await a.inPod(pod.ns, ["ip", "-4", "-o", "addr", "show", "dev", "v4if0"])).stdout;
    const egressIp = /inet (169\.254\.17[2-5]\.\d+)\/22/.exec(v4)?.[1];
    assert.ok(egressIp, v4);
    assert.equal(await tcpRead(pod.ns, EXTERNAL4, 7), nodeA.publicIp, "the external host sees the node's public address (1:1 of its private one)");
    const conntrack = (await runCommand("ip", ["netns", "exec", a.netns, "conntrack", "-L", "-p", "tcp", "-s", egressIp, "-d", EXTERNAL4])).stdout;
    assert.match(conntrack, new RegExp(`src=${EXTERNAL4.replace(/\./g, "\\.")} dst=${nodeA.privateIp.replace(/\./g, "\\.")} `), "SNATed to the node's IPv4 address");
    assert.ok(existsSync(join(egressDir("node-a"), run.name, "aws-cni", egressIp)), "host-local's reservation file");
    assert.notDeepEqual(await podState(a), before);
    // CHECK down the chain, with the result.
    const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pe`;
    for (const index of [0, 1]) {
      const checked = await a.cni({ command: "CHECK", containerId: pod.containerId, netns: pod.ns, args, prevResult: pod.result }, index);
      assert.equal(checked.code, 0, checked.stdout);
    }
    await delPod(a, pod);
    assert.deepEqual(await podState(a), before, "no veth, route, rule or SNAT chain left");
    assert.deepEqual(readdirSync(join(egressDir("node-a"), run.name, "aws-cni")).filter((f) => f.startsWith("169.")), [], "the egress address is released");
    assert.ok(!(await runCommand("ip", ["netns", "list"])).stdout.includes(pod.ns), "no pod namespace left");
  });

  test("GC down the chain releases what the runtime no longer lists: the agent's address and egress-cni's address, chain and veth", async () => {
    const before = await podState(a);
    const keep = await addPod(a, "gk");
    const lost = await addPod(a, "gl");
    const gc = (index: number) =>
      a.cni({ command: "GC", containerId: "", netns: "", stdin: JSON.stringify({ ...a.conflist.plugins[index], cniVersion: "1.1.0", name: "aws-cni", "cni.dev/valid-attachments": [{ containerID: keep.containerId, ifname: "eth0" }] }) }, index);
    for (const index of [1, 0]) {
      const out = await gc(index);
      assert.equal(out.code, 0, out.stdout + out.stderr);
    }
    const reserved = readdirSync(join(egressDir("node-a"), run.name, "aws-cni")).filter((f) => f.startsWith("169."));
    assert.equal(reserved.length, 1, "only the listed pod keeps its egress address");
    const state = await podState(a);
    assert.equal(state.nat.filter((l) => l.startsWith(":CNI-E4-")).length, 1, "only its SNAT chain");
    assert.equal(state.links.filter((l) => l.startsWith("egv4")).length, 1, "only its egress veth");
    assert.ok(!state.rules.some((r) => r.includes(lost.address)), "the collected pod's rule is gone");
    await delPod(a, keep);
    await delPod(a, lost); // DEL after GC: nothing left to do, still success
    assert.deepEqual(await podState(a), before);
  });

  test("50 pods make no EC2 call; all distinct, all released; the checkpoint holds their IPv6 addresses", async () => {
    const calls = async () => Object.values(await callCounts(run)).reduce((n, c) => n + c.total, 0);
    const before = await podState(b);
    const callsBefore = await calls();
    const pods: Pod[] = [];
    for (let batch = 0; batch < 5; batch++) pods.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => addPod(b, `m-${batch * 10 + i}`)))));
    assert.equal(new Set(pods.map((p) => p.address)).size, 50);
    const checkpoint = JSON.parse((await import("node:fs")).readFileSync(join(agentB.dir, "ipam.json"), "utf8"));
    assert.equal(checkpoint.allocations.length, 50);
    // Introspection as aws-node's: the /80 under IPv6Cidrs, with the pods; and `status` lists them.
    const enis = await agentB.introspect("/v1/enis");
    const primary = Object.values<any>(enis["0"].ENIs)[0];
    const prefix = (await run.instance("node-b")).enis[0]!.ipv6Prefixes[0]!;
    assert.deepEqual(Object.keys(primary.IPv6Cidrs), [prefix]);
    assert.deepEqual(primary.AvailableIPv4Cidrs, {});
    // An address an earlier test's pod gave back is listed too while it cools down (no networkName).
    assert.equal(Object.values<any>(primary.IPv6Cidrs[prefix].IPAddresses).filter((e) => e.IPAMKey.networkName !== "").length, 50);
    const status = await runCommand(join(ROOT, "bin", "vpc-cni-agent"), ["status"], { env: { ...process.env, INTROSPECTION_BIND_ADDRESS: `unix:${join(agentB.dir, "introspection.sock")}` } });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /pool: 281474976710656 addresses, 50 assigned/);
    assert.equal(status.stdout.split("\n").filter((l) => l.startsWith("default/m-")).length, 50);
    assert.ok(checkpoint.allocations.every((e: any) => typeof e.ipv6 === "string" && e.ipv4 === undefined));
    for (let batch = 0; batch < 5; batch++) await Promise.all(pods.slice(batch * 10, batch * 10 + 10).map((p) => delPod(b, p)));
    assert.equal(await calls(), callsBefore, "no EC2 call for 50 pods");
    assert.deepEqual(await podState(b), before);
  });

  test("a restarted agent keeps its /80 (no second one) and takes its pods back", async () => {
    const pod = await addPod(a, "pr");
    const prefix = (await run.instance("node-a")).enis[0]!.ipv6Prefixes;
    await agentA.stop();
    agentA.logs.length = 0;
    await agentA.start();
    assert.deepEqual((await run.instance("node-a")).enis[0]!.ipv6Prefixes, prefix);
    assert.ok(agentA.logs.some((l) => l.includes("checkpoint restored")), agentA.logs.join("\n"));
    const again = await a.cni({ command: "ADD", containerId: pod.containerId, netns: pod.ns, args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pr` });
    assert.equal(again.json?.ips?.[0]?.address, pod.result.ips[0].address, "the same address for the same attachment");
    await delPod(a, pod);
  });

  test("bad IPv6 configurations are refused with the reference's reasons and start nothing", async () => {
    const refused = async (node: string, env: Record<string, string>) => {
      const agent = new AgentProcess(run, node, env);
      await assert.rejects(agent.start(), /exited during start-up/);
      const text = agent.logs.join("\n");
      const bin = join(agent.dir, "bin");
      assert.ok(!existsSync(join(agent.dir, "net.d", "10-aws.conflist")), "no conflist");
      assert.ok(!existsSync(bin) || readdirSync(bin).length === 0, "no plugin installed");
      agent.clean();
      return text;
    };
    const callsBefore = await callCounts(run);
    assert.match(await refused("node-x", { ENABLE_IPv4: "false", ENABLE_IPv6: "true" }), /nothing was started: .*\n\s+ENABLE_PREFIX_DELEGATION=unset \(with ENABLE_IPv6="true"\): allowed: true when ENABLE_IPv6 is true: IPv6 pods get addresses from \/80 prefixes/);
    assert.match(await refused("node-x", { ...V6, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" }), /AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="true" \(with ENABLE_IPv6="true"\): allowed: false when ENABLE_IPv6 is true: custom networking is IPv4 only/);
    assert.match(await refused("node-x", { ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" }), /ENABLE_IPv6="true" \(with ENABLE_IPv4="true"\): allowed: false while ENABLE_IPv4 is true: dual-stack pods are not supported/);
    const nitro = await refused("node-x", V6);
    assert.match(nitro, /ENABLE_IPv6=true on m4\.large, which is neither Nitro nor bare metal: IPv6 pods need prefix delegation/);
    const callsAfter = await callCounts(run);
    assert.equal(callsAfter["AssignIpv6Addresses"]?.ok ?? 0, callsBefore["AssignIpv6Addresses"]?.ok ?? 0, "no prefix given");
    const v4only = await refused("node-4", V6);
    assert.match(v4only, /ENABLE_IPv6=true but EC2 gives the primary ENI eni-[0-9a-f]+ no \/80 prefix \(IPv6 pods need a dual-stack subnet/);
    assert.doesNotMatch((await run.exec("node-4", ["ip", "-6", "rule"])).stdout, /1024:/, "an IPv4-only node's host is left alone");
    assert.doesNotMatch((await run.exec("node-4", ["iptables-save", "-t", "filter"])).stdout, /Block Node Local Pod access/);
    const x = await run.instance("node-x");
    assert.deepEqual(x.enis[0]!.ipv6Prefixes, []);
    assert.doesNotMatch((await run.exec("node-x", ["ip", "-6", "rule"])).stdout, /1024:/, "no host networking set up");
  });

  test("an IPv4 node with ENABLE_V6_EGRESS: its IPv4 pods reach the IPv6 external host as the node's IPv6 address through egress-cni", async () => {
    agentC = await new AgentProcess(run, "node-c", { ENABLE_V6_EGRESS: "true", VPC_CNI_EGRESS_IPAM_DIR: join(egressDir("node-c"), run.name) }).start();
    const c = await Node.of(agentC);
    const nodeC = await run.instance("node-c");
    assert.equal(c.conflist.plugins[1]!["enabled"], "true");
    assert.equal(c.conflist.plugins[1]!["nodeIP"], nodeC.ipv6);
    assert.match((await run.exec("node-c", ["ip6tables-save", "-t", "filter"])).stdout, /-A FORWARD -d fd00::ac:0\/118 -m conntrack --ctstate NEW -m comment --comment "Block Node Local Pod access via IPv6" -j REJECT/);
    const before = await podState(c);
    const pod = await addPod(c, "pv");
    assert.match(pod.result.ips[0].address, /^10\.0\.\d+\.\d+\/32$/, "an IPv4 pod");
    assert.match((await c.inPod(pod.ns, ["ip", "-6", "-o", "addr", "show", "dev", "v6if0", "scope", "global"])).stdout, /inet6 fd00::ac:[0-9a-f]+\/118/);
    assert.equal(await tcpRead(pod.ns, EXTERNAL6, 7), nodeC.ipv6, "IPv6 out as the node's address");
    assert.equal(await tcpRead(pod.ns, EXTERNAL4, 7), nodeC.publicIp, "IPv4 as before (the node's SNAT, then 1:1)");
    await delPod(c, pod);
    assert.deepEqual(await podState(c), before);
    assert.equal((await runCommand("ip", ["netns", "exec", c.netns, "ip6tables-save", "-t", "nat"])).stdout.includes("CNI-E6-"), false, "no IPv6 SNAT chain left");
  });
});
