// The vpc-cni plugin on vpcsim nodes with the agent running: pods get VPC addresses and reach each
// other across zones with no NAT, from primary and secondary ENIs; SNAT only toward the outside;
// 30 parallel ADDs and DELs leave nothing behind; DEL, CHECK, STATUS and GC as the spec wants; bad
// input changes nothing.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AgentProcess } from "./agent-harness.ts";
import { deleteNetns, Node } from "./pod-harness.ts";
import { datapathUnavailable, runCommand, SimRun } from "./harness.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "1", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };

describe("vpc-cni plugin: pods across two zones", { skip }, () => {
  let run: SimRun;
  let agentA: AgentProcess, agentB: AgentProcess, agentC: AgentProcess;
  let a: Node, b: Node, c: Node;

  before(async () => {
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20",
      "--subnet", "b=us-east-1b,10.0.16.0/20",
      "--instance", "node-a=t3.medium,a,public",
      "--instance", "node-b=t3.medium,b",
      "--instance", "node-c=m5.xlarge,a",
    ]);
    const agents = await Promise.all(["node-a", "node-b", "node-c"].map((n) => new AgentProcess(run, n, FAST).start()));
    [agentA, agentB, agentC] = agents as [AgentProcess, AgentProcess, AgentProcess];
    [a, b, c] = (await Promise.all(agents.map((ag) => Node.of(ag)))) as [Node, Node, Node];
    await Promise.all(agents.map((ag) => ag.settled()));
  });
  after(async () => {
    for (const ag of [agentA, agentB, agentC]) {
      await ag?.stop();
      ag?.clean();
    }
    await run?.down();
  });

  test("pods on primary and secondary ENIs reach pods in the other zone with their own addresses", async () => {
    // t3.medium: 5 addresses per ENI, so the 6th pod on node-a lands on a secondary ENI.
    const podsA: { ns: string; address: string; containerId: string; result: any }[] = [];
    for (let i = 0; i < 6; i++) {
      const ns = await a.newPodNetns();
      podsA.push({ ns, ...(await a.addPod(`pa-${i}`, ns)) });
    }
    const nsB = await b.newPodNetns();
    const podB = await b.addPod("pb-0", nsB);
    const nodeA = await run.instance("node-a");
    const onPrimary = podsA.find((p) => nodeA.enis[0]!.privateIps.includes(p.address))!;
    const onSecondary = podsA.find((p) => nodeA.enis.some((e) => e.deviceIndex! > 0 && e.privateIps.includes(p.address)))!;
    assert.ok(onPrimary, "a pod on the primary ENI");
    assert.ok(onSecondary, "a pod on a secondary ENI");
    // The result names the device the address came from (the reference's dummy interface).
    const dummy = onSecondary.result.interfaces.at(-1);
    assert.match(dummy.name, /^dummy[0-9a-f]{11}$/);
    assert.notEqual(dummy.sandbox, "0");

    for (const p of [onPrimary, onSecondary]) {
      assert.equal((await a.inPod(p.ns, ["ping", "-c1", "-W2", podB.address])).code, 0, `${p.address} -> ${podB.address}`);
      assert.equal((await b.inPod(nsB, ["ping", "-c1", "-W2", p.address])).code, 0, `${podB.address} -> ${p.address}`);
    }
    // TCP, and the receiver sees the sender's pod address: no NAT inside the VPC.
    const server = (await import("node:child_process")).spawn("ip", ["netns", "exec", nsB, process.execPath, "-e", "require('net').createServer(s=>s.end(s.remoteAddress)).listen(7070,'0.0.0.0',()=>console.log('up'))"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise((r) => server.stdout!.once("data", r));
      for (const p of [onPrimary, onSecondary]) {
        const seen = await a.inPod(p.ns, [process.execPath, "-e", `const s=require('net').connect(7070,'${podB.address}');let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d))`]);
        assert.equal(seen.stdout.trim(), p.address);
      }
    } finally {
      server.kill();
    }

    // Toward the outside, traffic is SNATed to the node's primary address (then 1:1 by the gateway).
    const echo = await a.inPod(onSecondary.ns, [process.execPath, "-e", "fetch('http://203.0.113.10/',{signal:AbortSignal.timeout(3000)}).then(r=>r.text()).then(t=>console.log(t.trim()),e=>{console.log('FAILED',e.name);process.exit(3)})"]);
    assert.equal(echo.stdout.trim(), nodeA.publicIp, "the external host sees the node's public address");

    for (const [i, p] of podsA.entries()) assert.equal((await a.delPod(`pa-${i}`, p.ns, p.containerId, p.result)).code, 0);
    assert.equal((await b.delPod("pb-0", nsB, podB.containerId, podB.result)).code, 0);
    for (const p of podsA) await deleteNetns(p.ns);
    await deleteNetns(nsB);
  });

  test("30 ADDs in parallel, then 30 DELs: all succeed, no address twice, nothing left behind", async () => {
    const before = await c.hostState();
    const assignedBefore = (await agentC.introspect("/v1/pool")).stats.assigned;
    const namespaces = await Promise.all(Array.from({ length: 30 }, () => c.newPodNetns()));
    const args = (i: number) => `K8S_POD_NAMESPACE=default;K8S_POD_NAME=par-${i}`;
    const adds = await Promise.all(namespaces.map((ns, i) => c.cni({ command: "ADD", containerId: `par${i}`, netns: ns, args: args(i) })));
    for (const r of adds) assert.equal(r.code, 0, r.stdout + r.stderr);
    const addresses = adds.map((r) => r.json.ips[0].address as string);
    assert.equal(new Set(addresses).size, 30, "no address twice");
    const dels = await Promise.all(namespaces.map((ns, i) => c.cni({ command: "DEL", containerId: `par${i}`, netns: ns, args: args(i), prevResult: adds[i]!.json })));
    for (const d of dels) assert.equal(d.code, 0, d.stdout);
    await Promise.all(namespaces.map(deleteNetns));
    const afterState = await c.hostState();
    assert.deepEqual(afterState.links, before.links, "no pod veth left");
    assert.deepEqual(afterState.rules, before.rules, "no 512/1536 rule left");
    assert.deepEqual(afterState.routes, before.routes, "no route to a pod left");
    assert.equal((await agentC.introspect("/v1/pool")).stats.assigned, assignedBefore, "every address back with the agent");
  });

  test("a full node answers ADD with 'try again later' and changes nothing", async () => {
    // t3.medium: 3 ENIs x 5 addresses = 15 pods.
    const namespaces = await Promise.all(Array.from({ length: 16 }, () => a.newPodNetns()));
    const pods = [];
    for (const [i, ns] of namespaces.slice(0, 15).entries()) pods.push(await a.addPod(`full-${i}`, ns));
    const before = await a.hostState();
    const refused = await a.cni({ command: "ADD", containerId: "one-too-many", netns: namespaces[15]!, args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=full-15" });
    assert.equal(refused.code, 1);
    assert.equal(refused.json.code, 11, refused.stdout);
    assert.match(refused.json.msg, /no address/);
    assert.deepEqual(await a.hostState(), before);
    for (const [i, p] of pods.entries()) assert.equal((await a.delPod(`full-${i}`, namespaces[i]!, p.containerId, p.result)).code, 0);
    await Promise.all(namespaces.map(deleteNetns));
  });

  test("DEL is idempotent: twice, without netns, without prevResult, and with the agent down", async () => {
    const ns = await a.newPodNetns();
    const pod = await a.addPod("deltest", ns);
    const before = (await agentA.introspect("/v1/pool")).stats.assigned;
    assert.equal((await a.delPod("deltest", ns, pod.containerId, pod.result)).code, 0);
    assert.equal((await agentA.introspect("/v1/pool")).stats.assigned, before - 1);
    assert.equal((await a.delPod("deltest", ns, pod.containerId, pod.result)).code, 0, "second DEL");
    assert.equal((await a.delPod("deltest", "", pod.containerId)).code, 0, "DEL with empty CNI_NETNS and no prevResult");

    // The agent is down: DEL still succeeds and unwires the pod from prevResult.
    const pod2 = await a.addPod("deltest2", ns);
    await agentA.stop();
    const d = await a.delPod("deltest2", ns, pod2.containerId, pod2.result);
    assert.equal(d.code, 0, d.stdout);
    const rules = (await runCommand("ip", ["-n", a.netns, "rule"])).stdout;
    assert.ok(!rules.includes(`to ${pod2.address} lookup main`), "the 512 rule is gone");
    // STATUS says the plugin cannot serve while the agent is down.
    const status = await a.cni({ command: "STATUS", containerId: "", netns: "", stdin: JSON.stringify({ ...a.conflist.plugins[0], cniVersion: "1.1.0", name: "aws-cni" }) });
    assert.equal(status.code, 1);
    assert.equal(status.json.code, 50);
    agentA = await new AgentProcess(run, "node-a", FAST).start();
    const statusUp = await a.cni({ command: "STATUS", containerId: "", netns: "", stdin: JSON.stringify({ ...a.conflist.plugins[0], cniVersion: "1.1.0", name: "aws-cni" }) });
    assert.equal(statusUp.code, 0, statusUp.stdout);
    await deleteNetns(ns);
  });

  test("CHECK passes on a wired pod and names what drifted", async () => {
    const ns = await a.newPodNetns();
    const pod = await a.addPod("checked", ns);
    const ok = await a.cni({ command: "CHECK", containerId: pod.containerId, netns: ns, args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=checked", prevResult: pod.result });
    assert.equal(ok.code, 0, ok.stdout);
    await runCommand("ip", ["-n", a.netns, "rule", "del", "to", pod.address, "lookup", "main", "priority", "512"]);
    const drift = await a.cni({ command: "CHECK", containerId: pod.containerId, netns: ns, args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=checked", prevResult: pod.result });
    assert.notEqual(drift.code, 0);
    assert.match(drift.json.msg, /to-rule/);
    assert.equal((await a.delPod("checked", ns, pod.containerId, pod.result)).code, 0);
    await deleteNetns(ns);
  });

  test("GC releases every allocation the runtime no longer lists", async () => {
    const namespaces = await Promise.all([0, 1, 2].map(() => a.newPodNetns()));
    const pods = [];
    for (const [i, ns] of namespaces.entries()) pods.push(await a.addPod(`gc-${i}`, ns));
    const assigned = (await agentA.introspect("/v1/pool")).stats.assigned;
    const gc = await a.cni({
      command: "GC",
      containerId: "",
      netns: "",
      stdin: JSON.stringify({ ...a.conflist.plugins[0], cniVersion: "1.1.0", name: "aws-cni", "cni.dev/valid-attachments": [{ containerID: pods[0]!.containerId, ifname: "eth0" }] }),
    });
    assert.equal(gc.code, 0, gc.stdout);
    assert.equal((await agentA.introspect("/v1/pool")).stats.assigned, assigned - 2);
    const rules = (await runCommand("ip", ["-n", a.netns, "rule"])).stdout;
    assert.ok(rules.includes(`to ${pods[0]!.address} lookup main`), "the valid pod keeps its rule");
    assert.ok(!rules.includes(`to ${pods[1]!.address} lookup main`), "a collected pod's rule is gone");
    assert.equal((await a.delPod("gc-0", namespaces[0]!, pods[0]!.containerId, pods[0]!.result)).code, 0);
    await Promise.all(namespaces.map(deleteNetns));
  });

  test("bad input gets a spec error object, a non-zero exit, and changes nothing", async () => {
    const ns = await a.newPodNetns();
    const before = await a.hostState();
    const assigned = (await agentA.introspect("/v1/pool")).stats.assigned;
    const cases: [string, Parameters<Node["cni"]>[0], number][] = [
      ["malformed stdin", { command: "ADD", containerId: "bad1", netns: ns, stdin: "{not json" }, 6],
      ["truncated stdin", { command: "ADD", containerId: "bad2", netns: ns, stdin: '{"cniVersion":"1.0.0","name":"aws-cni","type":"vpc' }, 6],
      ["missing CNI_CONTAINERID", { command: "ADD", containerId: "bad3", netns: ns, env: { CNI_CONTAINERID: undefined } }, 4],
      ["unknown command", { command: "ADD", containerId: "bad4", netns: ns, env: { CNI_COMMAND: "FROB" } }, 4],
      ["unsupported version", { command: "ADD", containerId: "bad5", netns: ns, stdin: JSON.stringify({ cniVersion: "9.9.9", name: "aws-cni", type: "vpc-cni" }) }, 1],
      ["wrong types", { command: "ADD", containerId: "bad6", netns: ns, stdin: JSON.stringify({ cniVersion: "1.0.0", name: 5, type: "vpc-cni" }) }, 7],
      ["a netns that does not exist", { command: "ADD", containerId: "bad7", netns: "/var/run/netns/vs-nope-does-not-exist" }, 4],
    ];
    for (const [what, call, code] of cases) {
      const r = await a.cni({ args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=bad", ...call });
      assert.notEqual(r.code, 0, what);
      assert.equal(r.json?.code, code, `${what}: ${r.stdout}`);
      assert.equal(typeof r.json?.msg, "string", what);
      assert.ok(r.json?.cniVersion, what);
    }
    // (A namespace deleted by an earlier test may still be taking its veth down: nothing may be added.)
    const afterState = await a.hostState();
    assert.deepEqual(afterState.links.filter((l) => !before.links.includes(l)), [], "no link added");
    assert.deepEqual(afterState.rules, before.rules);
    assert.deepEqual(afterState.routes, before.routes);
    assert.equal((await agentA.introspect("/v1/pool")).stats.assigned, assigned);
    // VERSION with podman's dummy environment.
    const v = await a.cni({ command: "VERSION", containerId: "", netns: "dummy", ifName: "dummy", env: { CNI_PATH: "dummy" }, stdin: '{"cniVersion":"1.0.0"}' });
    assert.equal(v.code, 0);
    assert.ok(v.json.supportedVersions.includes("1.1.0"));
    await deleteNetns(ns);
  });
});
