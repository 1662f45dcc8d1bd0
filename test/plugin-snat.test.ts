// SNAT on vpcsim nodes with the agent and the plugin (issue 4): pod traffic to the external host
// (203.0.113.10, whose echo server answers with the source it saw) leaves as the node's primary
// address, from pods on the primary and on secondary ENIs; traffic to VPC CIDRs keeps the pod's
// address; AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS and AWS_VPC_K8S_CNI_EXTERNALSNAT=true leave it
// untranslated, so the internet gateway (which maps only public addresses) drops it and counts it.
//
// What a packet left as is read three ways: what the echo server answers, the reply tuple of the
// connection in the node's conntrack table (a SNATed connection expects its replies at the node's
// primary address, an untranslated one at the pod's), and vpcsim's drop counters (the gateway's
// unmapped_outbound, the router's source check).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { AGENT_STATE_ROOT, AgentProcess } from "./agent-harness.ts";
import { deleteNetns, Node } from "./pod-harness.ts";
import { datapathUnavailable, runCommand, SimRun } from "./harness.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "1", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };
const EXTERNAL = "203.0.113.10";
const EXTERNAL_CIDR = "203.0.113.0/24";
const VPC_CIDR = "10.0.0.0/16";

interface Pod {
  name: string;
  ns: string;
  address: string;
  containerId: string;
  result: any;
  deviceNumber: number;
}

/**
 * An HTTP GET of the echo server from inside a namespace: what it answered, or why it failed (3 s;
 * it exits at once, since an aborted connect would keep node alive for undici's connect timeout).
 */
async function fetchExternal(ns: string): Promise<{ ok: boolean; text: string }> {
  const script = `fetch('http://${EXTERNAL}/',{signal:AbortSignal.timeout(3000)}).then(r=>r.text()).then(t=>console.log('OK '+t.trim()),e=>console.log('FAILED '+e.name)).finally(()=>process.exit(0))`;
  const r = await runCommand("ip", ["netns", "exec", ns, process.execPath, "-e", script], { timeoutMs: 15_000 });
  const line = r.stdout.trim();
  if (line.startsWith("OK ")) return { ok: true, text: line.slice(3) };
  return { ok: false, text: line || r.stderr.trim() };
}

async function natTable(node: Node): Promise<string> {
  const r = await runCommand("ip", ["netns", "exec", node.netns, "iptables-save", "-t", "nat"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

const chainRules = (saved: string, chain: string) => saved.split("\n").filter((l) => l.startsWith(`-A ${chain} `));

/**
 * Where the node's conntrack expects the replies of the pod's connections to the external host: the
 * reply tuple's destination, i.e. the source the packets left with.
 */
async function replyDestinations(node: Node, podAddress: string): Promise<string[]> {
  const r = await runCommand("ip", ["netns", "exec", node.netns, "conntrack", "-L", "-p", "tcp", "-s", podAddress, "-d", EXTERNAL]);
  const found: string[] = [];
  for (const line of r.stdout.split("\n")) {
    // original: src=POD dst=EXT sport= dport=80 [UNREPLIED] reply: src=EXT dst=X ...
    const dsts = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1]!);
    if (dsts.length >= 2) found.push(dsts[1]!);
  }
  return [...new Set(found)];
}

/** vpcsim's drop counters, read from its router and internet-gateway namespaces. */
async function dropCounters(run: SimRun): Promise<{ unmappedOutbound: number; spoofedSources: number }> {
  const read = async (netns: string, family: "ip" | "inet", table: string) => {
    const r = await runCommand("ip", ["netns", "exec", netns, "nft", "-j", "list", "counters", "table", family, table]);
    assert.equal(r.code, 0, r.stderr);
    const packets = new Map<string, number>();
    for (const entry of (JSON.parse(r.stdout) as { nftables?: { counter?: { name: string; packets: number } }[] }).nftables ?? []) {
      if (entry.counter) packets.set(entry.counter.name, entry.counter.packets);
    }
    return packets;
  };
  // The source check's table is inet (it checks IPv4 and IPv6 sources); the 1:1 NAT's is IPv4 only.
  const [igw, router] = await Promise.all([read(`vs-${run.name}-igw`, "ip", "vpcsim_igw"), read(`vs-${run.name}-router`, "inet", "vpcsim")]);
  return { unmappedOutbound: igw.get("unmapped_outbound") ?? 0, spoofedSources: router.get("spoofed_sources") ?? 0 };
}

describe("vpc-cni plugin: SNAT toward the outside only", { skip }, () => {
  let run: SimRun;
  const agents: AgentProcess[] = [];
  let snat: Node, exclude: Node, external: Node;
  const pods = new Map<Node, Pod[]>();

  /** ADDs pods on a node until it has one on the primary ENI and one on a secondary ENI. */
  async function primaryAndSecondary(node: Node, prefix: string): Promise<{ primary: Pod; secondary: Pod }> {
    const list = pods.get(node) ?? [];
    pods.set(node, list);
    for (let i = 0; i < 16; i++) {
      const primary = list.find((p) => p.deviceNumber === 0);
      const secondary = list.find((p) => p.deviceNumber > 0);
      if (primary && secondary) {
        // EC2 agrees on where each address is.
        const enis = (await run.instance(node.agent.node)).enis;
        assert.ok(enis.find((e) => e.deviceIndex === 0)!.privateIps.includes(primary.address), `${primary.address} is on the primary ENI`);
        assert.ok(enis.find((e) => e.deviceIndex === secondary.deviceNumber)!.privateIps.includes(secondary.address), `${secondary.address} is on eth${secondary.deviceNumber}`);
        return { primary, secondary };
      }
      const ns = await node.newPodNetns();
      const name = `${prefix}-${list.length}`;
      const added = await node.addPod(name, ns);
      list.push({ name, ns, ...added, deviceNumber: Number(added.result.interfaces.at(-1).sandbox) });
    }
    throw new Error(`no pod on both the primary and a secondary ENI on ${node.agent.node}`);
  }

  before(async () => {
    // t3.medium: 5 secondary addresses per ENI, so a few pods reach a secondary ENI. All public, so
    // a failed fetch from a pod can only be the missing SNAT (the node itself reaches the host).
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20",
      "--subnet", "b=us-east-1b,10.0.16.0/20",
      "--instance", "node-snat=t3.medium,a,public",
      "--instance", "node-excl=t3.medium,b,public",
      "--instance", "node-ext=t3.medium,a,public",
    ]);
    const started = await Promise.all([
      new AgentProcess(run, "node-snat", FAST).start(),
      new AgentProcess(run, "node-excl", { ...FAST, AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: EXTERNAL_CIDR }).start(),
      new AgentProcess(run, "node-ext", { ...FAST, AWS_VPC_K8S_CNI_EXTERNALSNAT: "true" }).start(),
    ]);
    agents.push(...started);
    [snat, exclude, external] = (await Promise.all(started.map((ag) => Node.of(ag)))) as [Node, Node, Node];
    await Promise.all(started.map((ag) => ag.settled()));
  });

  after(async () => {
    try {
      for (const [node, list] of pods) {
        for (const p of list) await node.delPod(p.name, p.ns, p.containerId, p.result).catch(() => undefined);
        for (const p of list) await deleteNetns(p.ns);
      }
    } finally {
      for (const ag of agents) {
        await ag.stop();
        ag.clean();
      }
      await run?.down();
      if (run) rmSync(join(AGENT_STATE_ROOT, run.name), { recursive: true, force: true });
    }
  });

  test("the node's SNAT chain returns for the VPC CIDR and SNATs the rest to the primary address", async () => {
    const node = await run.instance("node-snat");
    const nat = await natTable(snat);
    assert.deepEqual(chainRules(nat, "POSTROUTING").filter((l) => l.includes("AWS-SNAT-CHAIN-0")), ['-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0']);
    const chain = chainRules(nat, "AWS-SNAT-CHAIN-0");
    assert.equal(chain[0], `-A AWS-SNAT-CHAIN-0 -d ${VPC_CIDR} -m comment --comment "AWS SNAT CHAIN" -j RETURN`, nat);
    assert.match(chain.at(-1)!, new RegExp(`-j SNAT --to-source ${node.privateIp.replaceAll(".", "\\.")}( |$)`), nat);
    assert.ok(!chain.some((l) => l.includes(EXTERNAL_CIDR)), "no exclusion configured on this node");
  });

  test("pods on the primary and on a secondary ENI reach the external host as the node's public address", async () => {
    const node = await run.instance("node-snat");
    assert.ok(node.publicIp, "node-snat has a public address");
    const { primary, secondary } = await primaryAndSecondary(snat, "snat");
    const drops = await dropCounters(run);
    for (const p of [primary, secondary]) {
      const got = await fetchExternal(p.ns);
      assert.deepEqual(got, { ok: true, text: node.publicIp }, `${p.address} (eth${p.deviceNumber}) seen as the node's public address`);
      assert.deepEqual(await replyDestinations(snat, p.address), [node.privateIp], `${p.address}: translated to the node's primary address`);
    }
    const afterDrops = await dropCounters(run);
    assert.equal(afterDrops.unmappedOutbound, drops.unmappedOutbound, "nothing dropped at the gateway");
    assert.equal(afterDrops.spoofedSources, drops.spoofedSources, "nothing dropped by the source check");
  });

  test("traffic to VPC CIDRs is not SNATed: a pod-to-pod TCP echo sees the pod's address", async () => {
    const { primary, secondary } = await primaryAndSecondary(snat, "snat");
    // The receiver: a pod on the node in the other zone.
    const ns = await exclude.newPodNetns();
    const added = await exclude.addPod("echo-rx", ns);
    const receiver = { name: "echo-rx", ns, ...added, deviceNumber: Number(added.result.interfaces.at(-1).sandbox) };
    if (!pods.has(exclude)) pods.set(exclude, []);
    pods.get(exclude)!.push(receiver);
    const server = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", "require('net').createServer(s=>s.end(s.remoteAddress)).listen(7070,'0.0.0.0',()=>console.log('up'))"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the pod's echo server did not start")), 10_000);
        server.stdout!.once("data", () => (clearTimeout(timer), resolve()));
      });
      for (const p of [primary, secondary]) {
        const seen = await snat.inPod(p.ns, [process.execPath, "-e", `const s=require('net').connect(7070,'${receiver.address}');s.setTimeout(3000,()=>{console.log('TIMEOUT');s.destroy()});let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d));s.on('error',e=>console.log('ERROR '+e.code))`]);
        assert.equal(seen.stdout.trim(), p.address, `${p.address} (eth${p.deviceNumber}) -> ${receiver.address}`);
      }
    } finally {
      server.kill();
    }
  });

  test("AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: a RETURN for the CIDR, and pod traffic to it leaves untranslated", async () => {
    const node = await run.instance("node-excl");
    const nat = await natTable(exclude);
    const chain = chainRules(nat, "AWS-SNAT-CHAIN-0");
    const excl = chain.indexOf(`-A AWS-SNAT-CHAIN-0 -d ${EXTERNAL_CIDR} -m comment --comment "AWS SNAT CHAIN EXCLUSION" -j RETURN`);
    const snatRule = chain.findIndex((l) => l.includes("-j SNAT"));
    assert.ok(excl >= 0, `the exclusion RETURN is in the SNAT chain:\n${nat}`);
    assert.ok(snatRule > excl, "and comes before the SNAT rule");
    assert.ok(chainRules(nat, "AWS-CONNMARK-CHAIN-0").some((l) => l.startsWith(`-A AWS-CONNMARK-CHAIN-0 -d ${EXTERNAL_CIDR} `) && l.endsWith("-j RETURN")), "connections to it are not marked for the main ENI");

    // The node itself reaches the host: only the pods' traffic lacks the translation.
    assert.deepEqual(await fetchExternal(exclude.netns), { ok: true, text: node.publicIp });
    const { primary, secondary } = await primaryAndSecondary(exclude, "excl");
    for (const p of [primary, secondary]) {
      const drops = await dropCounters(run);
      const got = await fetchExternal(p.ns);
      assert.equal(got.ok, false, `${p.address} (eth${p.deviceNumber}) must not reach the host untranslated: ${got.text}`);
      assert.deepEqual(await replyDestinations(exclude, p.address), [p.address], `${p.address} left with its own source`);
      const afterDrops = await dropCounters(run);
      assert.ok(afterDrops.unmappedOutbound > drops.unmappedOutbound, `${p.address}: the gateway dropped the unmapped source`);
      // Through its own ENI (a secondary ENI's address leaving eth0 would fail the source check).
      assert.equal(afterDrops.spoofedSources, drops.spoofedSources, `${p.address}: left through the ENI that owns it`);
    }
  });

  test("AWS_VPC_K8S_CNI_EXTERNALSNAT=true: no SNAT rule on the node, pod traffic leaves untranslated", async () => {
    const node = await run.instance("node-ext");
    const nat = await natTable(external);
    assert.ok(!nat.includes("-j SNAT"), `no SNAT rule:\n${nat}`);
    assert.deepEqual(chainRules(nat, "AWS-SNAT-CHAIN-0"), [], "the SNAT chain is empty");
    assert.ok(!chainRules(nat, "POSTROUTING").some((l) => l.includes("AWS-SNAT-CHAIN")), "POSTROUTING does not jump to it");

    assert.deepEqual(await fetchExternal(external.netns), { ok: true, text: node.publicIp }, "the node itself reaches the host");
    const { primary, secondary } = await primaryAndSecondary(external, "ext");
    for (const p of [primary, secondary]) {
      const drops = await dropCounters(run);
      const got = await fetchExternal(p.ns);
      assert.equal(got.ok, false, `${p.address} (eth${p.deviceNumber}) must not reach the host untranslated: ${got.text}`);
      assert.deepEqual(await replyDestinations(external, p.address), [p.address], `${p.address} left with its own source`);
      const afterDrops = await dropCounters(run);
      assert.ok(afterDrops.unmappedOutbound > drops.unmappedOutbound, `${p.address}: the gateway dropped the unmapped source`);
      assert.equal(afterDrops.spoofedSources, drops.spoofedSources, `${p.address}: left through the ENI that owns it`);
    }
  });
});
