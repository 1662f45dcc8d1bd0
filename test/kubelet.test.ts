// Kubernetes nodes on vpcsim end to end: `vpcsim up --kubelets` with two t3.nano nodes in two
// zones (max pods 4: 2 ENIs x 1 secondary address + 2), the real agent and plugin on each (as
// test/agent-harness.ts runs them, installing vpc-cni and its conflist into the node's dirs).
// Pods created through the API server are scheduled, get VPC addresses from the node's ENIs, become
// Ready, and reach each other across nodes and zones with their own addresses (agnhost's /dial);
// a pod whose CNI ADD fails (the agent stopped) is retried with FailedCreatePodSandBox and becomes
// Ready once the agent is back; deleting pods gives their addresses back; pods beyond max pods stay
// Pending with FailedScheduling.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { AgentProcess } from "./agent-harness.ts";
import { datapathUnavailable, runCommand, SimRun, waitFor } from "./harness.ts";
import { RestClient } from "../src/sim/kubelet/api/rest-client.ts";
import type { KObject } from "../src/sim/kube/objects.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "1", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };
const AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53";

interface NodeUnderTest {
  instance: string;
  node: string;
  netns: string;
  agent: AgentProcess;
}

function netexec(name: string, spec: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "netexec" } },
    spec: {
      containers: [{ name: "netexec", image: AGNHOST, args: ["netexec", "--http-port=8080"], ports: [{ containerPort: 8080, name: "http" }], readinessProbe: { httpGet: { port: "http", path: "/healthz" }, periodSeconds: 1 } }],
      terminationGracePeriodSeconds: 5,
      ...spec,
    },
  };
}

function pause(name: string): KObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { hostNetwork: true, containers: [{ name: "pause", image: AGNHOST, args: ["pause"] }], terminationGracePeriodSeconds: 1 } };
}

const ready = (p: KObject) => ((p.status as any)?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/** The pod the agent says holds the address ("" when it is free). */
async function holder(agent: AgentProcess, address: string): Promise<string> {
  const enis = await agent.introspect("/v1/enis");
  for (const eni of Object.values<any>(enis["0"]?.ENIs ?? {})) {
    for (const cidr of Object.values<any>(eni.AvailableIPv4Cidrs ?? {})) {
      const entry = cidr.IPAddresses?.[address];
      if (entry) return entry.IPAMKey?.networkName ? (entry.IPAMMetadata?.k8sPodName ?? "?") : "";
    }
  }
  return "";
}

describe("kubelets, scheduler, agent and plugin on vpcsim", { skip }, () => {
  let run: SimRun;
  let api: RestClient;
  const nodes: NodeUnderTest[] = [];

  const get = (name: string) => api.get("v1/pods", name, "default");
  const waitReady = (name: string, ms = 60_000) => waitFor(async () => {
    const p = await get(name);
    return ready(p) ? p : undefined;
  }, ms);
  const events = async (name: string, reason: string) => (await api.list("v1/events", { namespace: "default" })).items.filter((e) => (e.involvedObject as any)?.name === name && e.reason === reason);
  const gone = (name: string) => waitFor(async () => ((await api.list("v1/pods", { namespace: "default", fieldSelector: `metadata.name=${name}` })).items.length === 0 ? true : undefined), 30_000);

  before(async () => {
    run = await SimRun.up(["--kubelets", "--subnet", "a=us-east-1a,10.0.0.0/20", "--subnet", "b=us-east-1b,10.0.16.0/20", "--instance", "node-a=t3.nano,a", "--instance", "node-b=t3.nano,b"]);
    api = RestClient.fromKubeconfig(join("/run/vpcsim", run.name, "kubeconfig"));
    for (const instance of ["node-a", "node-b"]) {
      const status = await run.instance(instance);
      const root = join("/run/vpcsim", run.name, "nodes", instance);
      const agent = new AgentProcess(run, instance, { ...FAST, VPC_CNI_BIN_DIR: join(root, "opt/cni/bin"), VPC_CNI_CONF_DIR: join(root, "etc/cni/net.d") });
      nodes.push({ instance, node: `ip-${status.privateIp.replaceAll(".", "-")}.ec2.internal`, netns: status.netns, agent });
    }
    // Registered before the agent runs: NotReady with the kubelet's words for a missing CNI config.
    const first = await waitFor(() => api.get("v1/nodes", nodes[0]!.node).catch(() => undefined), 20_000);
    const condition = (first.status as any).conditions.find((c: any) => c.type === "Ready");
    assert.equal(condition.status, "False");
    assert.match(condition.message, /container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized/);
    assert.equal((first.status as any).capacity.pods, "4");
    assert.equal((first.metadata.labels as any)["topology.kubernetes.io/zone"], "us-east-1a");
    assert.match(String((first.spec as any).providerID), /^aws:\/\/\/us-east-1a\/i-[0-9a-f]+$/);
    await Promise.all(nodes.map((n) => n.agent.start()));
    for (const n of nodes) await waitFor(async () => (((await api.get("v1/nodes", n.node)).status as any).conditions.some((c: any) => c.type === "Ready" && c.status === "True") ? true : undefined), 30_000);
  });

  after(async () => {
    for (const n of nodes) {
      await n.agent.stop();
      n.agent.clean();
    }
    api?.close();
    await run?.down();
  });

  test("pods get VPC addresses, become Ready, reach each other across zones with their own addresses", async () => {
    await api.create(netexec("web-1"));
    await api.create(netexec("web-2"));
    const [p1, p2] = [await waitReady("web-1"), await waitReady("web-2")];
    const nodeOf = (p: KObject) => nodes.find((n) => n.node === (p.spec as any).nodeName)!;
    assert.notEqual(nodeOf(p1).instance, nodeOf(p2).instance, "the scheduler spreads them over the two nodes");
    for (const p of [p1, p2]) {
      const ip = (p.status as any).podIP as string;
      const instance = await run.instance(nodeOf(p).instance);
      assert.ok(instance.enis.some((e) => e.privateIps.includes(ip) && e.privateIps[0] !== ip), `${ip} is a secondary address of ${instance.name}'s ENIs`);
      assert.equal(await holder(nodeOf(p).agent, ip), p.metadata.name, "the agent knows the pod by its K8S_POD_NAME");
      assert.equal((p.status as any).hostIP, instance.privateIp);
      assert.equal((p.status as any).phase, "Running");
    }
    const [ip1, ip2] = [(p1.status as any).podIP, (p2.status as any).podIP];
    const dial = await waitFor(async () => {
      const r = await runCommand("ip", ["netns", "exec", nodeOf(p1).netns, "curl", "-s", "--max-time", "10", `http://${ip1}:8080/dial?request=clientip&host=${ip2}&port=8080&tries=2`]);
      if (r.code !== 0) return undefined;
      const answer = JSON.parse(r.stdout);
      return answer.responses?.length === 2 ? answer : undefined;
    }, 30_000);
    for (const seen of dial.responses) assert.equal(seen.split(":")[0], ip1, "web-2 saw web-1's own address (no NAT)");
  });

  test("a pod whose CNI ADD fails is retried with FailedCreatePodSandBox and becomes Ready once the agent is back; deleting it frees its address", async () => {
    const b = nodes[1]!;
    await b.agent.stop();
    await api.create(netexec("retry", { nodeName: b.node }));
    const failed = await waitFor(async () => {
      const list = await events("retry", "FailedCreatePodSandBox");
      return list.length > 0 ? list[0] : undefined;
    }, 30_000);
    assert.equal(failed.type, "Warning");
    assert.match(String(failed.message), /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": /);
    const pending = await get("retry");
    assert.equal((pending.status as any).phase, "Pending");
    assert.equal((pending.status as any).containerStatuses[0].state.waiting.reason, "ContainerCreating");
    await b.agent.start();
    const p = await waitReady("retry");
    const ip = (p.status as any).podIP as string;
    assert.equal(await holder(b.agent, ip), "retry");
    await api.delete("v1/pods", "retry", "default");
    await gone("retry");
    assert.equal(await holder(b.agent, ip), "", "the agent has the address back");
  });

  test("pods beyond the nodes' max pods stay Pending with FailedScheduling", async () => {
    // Each node runs one netexec pod; three host-network pods each fill them to 4.
    for (let i = 0; i < 6; i++) await api.create(pause(`fill-${i}`));
    for (let i = 0; i < 6; i++) await waitReady(`fill-${i}`);
    await api.create(pause("extra"));
    const event = await waitFor(async () => (await events("extra", "FailedScheduling"))[0], 20_000);
    assert.equal(event.message, "0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.");
    const extra = await get("extra");
    assert.equal((extra.spec as any).nodeName, undefined);
    assert.equal((extra.status as any).phase, "Pending");
    assert.equal((extra.status as any).conditions.find((c: any) => c.type === "PodScheduled").reason, "Unschedulable");
    // A freed slot takes it.
    await api.delete("v1/pods", "fill-0", "default");
    await waitReady("extra");
    for (const name of ["extra", ...[1, 2, 3, 4, 5].map((i) => `fill-${i}`), "web-1", "web-2"]) await api.delete("v1/pods", name, "default");
    await waitFor(async () => ((await api.list("v1/pods", { namespace: "default" })).items.length === 0 ? true : undefined), 30_000);
  });
});
